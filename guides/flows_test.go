//go:build integration

package guides

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	readmeFile     = "README.md"
	tokenAPIFile   = "docs/guides/token-api.md"
	productionFile = "docs/guides/production.md"
	flaskFile      = "docs/guides/migrate-from-flask.md"
)

var userID = regexp.MustCompile(`^[0-9A-Za-z]{20,40}\n$`)

// gatehouseEnv is the environment of a gatehouse serve in dir on addr.
func gatehouseEnv(dir, addr string) map[string]string {
	return map[string]string{
		"GATEHOUSE_LISTEN":     addr,
		"GATEHOUSE_PUBLIC_URL": "http://" + addr,
		"GATEHOUSE_LOG_FORMAT": "json",
	}
}

// signIn signs in through the JSON API and returns the access token.
func signIn(t *testing.T, base, login, password string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"login": login, "password": password})
	status, _, body := do(t, browser(), http.MethodPost, base+"/api/auth/login", strings.NewReader(string(b)), "Content-Type", "application/json")
	if status != http.StatusOK {
		t.Fatalf("sign-in of %s at %s = %d %s, want 200", login, base, status, body)
	}
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(body), &pair)
	return pair.AccessToken
}

// The README: the run command in the repository as it stands, then the
// first admin made from the command line.
func TestGuideREADME(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := freeAddr(t)
	env := gatehouseEnv(dir, addr)
	env["GATEHOUSE_DATABASE_URL"] = "sqlite://" + filepath.Join(dir, "gatehouse.db")
	env["GATEHOUSE_DATA_DIR"] = dir
	sh := newShell(t, dir, env)
	srv := sh.start(root, "readme-serve")
	base := "http://" + addr
	waitHTTP(t, srv, base+"/healthz")
	if status, _, body := do(t, browser(), http.MethodGet, base+"/login", nil); status != http.StatusOK || !strings.Contains(body, "password") {
		t.Fatalf("GET /login = %d, want 200 with a sign-in form", status)
	}
	waitOutput(t, srv, "No admin account exists yet")
	if id := sh.runIn(root, "readme-create-admin"); !userID.MatchString(id) {
		t.Fatalf("user create printed %q, want a user ID and a newline", id)
	}
	must(t, "user list", sh.runIn(root, "readme-user-list"), "alice", "admin")
	signIn(t, base, "alice", "a long passphrase")
	if _, err := os.Stat(filepath.Join(dir, "gatehouse.key")); err != nil {
		t.Errorf("the master secret was not generated into the data directory: %v", err)
	}
}

// Guide 1: the notes example, its first admin from the command line, and
// signing in over HTTP.
func TestGuideEmbed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	// go run ./examples/notes is the notes binary TestMain built.
	sh := newShell(t, dir, nil, "go run ./examples/notes", "notes")
	app := sh.start(dir, "notes", "-listen", addr, "-public-url", base)
	waitHTTP(t, app, base+"/auth/healthz")
	waitOutput(t, app, "Create the first admin account")
	if id := sh.run("notes-create-admin"); !userID.MatchString(id) {
		t.Fatalf("user create printed %q, want a user ID and a newline", id)
	}

	c := browser()
	if status, loc, _ := do(t, c, http.MethodGet, base+"/dashboard", nil); status != http.StatusSeeOther || !strings.HasPrefix(loc, base+"/auth/login?return_to=") {
		t.Fatalf("GET /dashboard signed out = %d to %q, want 303 to /auth/login?return_to=…", status, loc)
	}
	if status, _, _ := do(t, c, http.MethodGet, base+"/dashboard", nil, "Accept", "application/json"); status != http.StatusUnauthorized {
		t.Fatalf("GET /dashboard signed out, asking for JSON = %d, want 401", status)
	}
	status, loc, _ := postForm(t, c, base+"/auth/login", url.Values{"login": {"alice"}, "password": {"correct horse battery staple"}, "return_to": {"/dashboard"}})
	if status != http.StatusSeeOther || loc != "/dashboard" {
		t.Fatalf("POST /auth/login = %d to %q, want 303 to /dashboard", status, loc)
	}
	if status, _, body := do(t, c, http.MethodGet, base+"/dashboard", nil); status != http.StatusOK || !strings.Contains(body, "alice") {
		t.Fatalf("GET /dashboard signed in = %d, want 200 naming alice", status)
	}
	if status, _, _ := do(t, c, http.MethodGet, base+"/admin", nil); status != http.StatusOK {
		t.Fatalf("GET /admin as an admin = %d, want 200", status)
	}
}

// Guide 2: Gatehouse, an API key, examples/api-backend verifying tokens with
// the client package, introspection, and a logout reaching both.
func TestGuideLoginServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr, backendAddr := freeAddr(t), freeAddr(t)
	base, backend := "http://"+addr, "http://"+backendAddr
	env := gatehouseEnv(dir, addr)
	env["TMPDIR"] = dir // where mktemp -d makes the guide's fresh data directory
	sh := newShell(t, dir, env,
		"http://localhost:8080", base, "127.0.0.1:8090", backendAddr)
	freshData(t, sh, dir)
	must(t, "migrate", sh.run("migrate"), "schema version")
	if id := sh.run("create-admin"); !userID.MatchString(id) {
		t.Fatalf("user create printed %q, want a user ID and a newline", id)
	}
	srv := sh.start(dir, "serve")
	waitHTTP(t, srv, base+"/healthz")
	sh.run("gh")
	sh.run("ls-admin-token")
	sh.run("ls-api-key")
	if key := sh.run("ls-echo-key"); !strings.HasPrefix(key, "gh_") {
		t.Fatalf("echo \"$API_KEY\" printed %q, want a gh_ key", key)
	}
	be := sh.start(root, "ls-backend")
	waitHTTP(t, be, backend+"/api/hello")

	must(t, "register", sh.run("ls-register"), `"username":"bob"`)
	sh.run("ls-token")
	must(t, "hello", sh.run("ls-hello"), `"hello":"bob"`)
	must(t, "reports", sh.run("ls-reports"), `"forbidden"`)
	must(t, "introspect", sh.run("ls-introspect"), `"active":true`, `"username":"bob"`)
	sh.run("ls-logout")
	if out := sh.run("ls-introspect"); strings.TrimSpace(out) != `{"active":false}` {
		t.Fatalf("introspection after logout = %s, want {\"active\":false}", out)
	}
	token := sh.get("TOKEN")
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _, _ := do(t, browser(), http.MethodGet, backend+"/api/hello", nil, "Authorization", "Bearer "+token)
		if status == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backend still answers %d to a logged-out token after 30s; the revocation feed did not reach it", status)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Guide 3: the token API with curl (sign-in, refresh rotation, reuse,
// logout), the environment variables for a browser app's origin, and the
// SPA example's run commands.
func TestGuideTokenAPI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr, backendAddr, spaAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	base := "http://" + addr
	// The public URL is on localhost, as the guide's is: passkey origins
	// (GATEHOUSE_PASSKEY_ORIGINS) need a host name, not an IP address.
	_, port, _ := net.SplitHostPort(addr)
	public := "http://localhost:" + port
	env := gatehouseEnv(dir, addr)
	env["GATEHOUSE_PUBLIC_URL"] = public
	env["TMPDIR"] = dir // where mktemp -d makes the guide's fresh data directory
	sh := newShell(t, dir, env, "http://localhost:8080", public)
	freshData(t, sh, dir)
	srv := sh.start(dir, "ta-serve")
	waitHTTP(t, srv, base+"/healthz")

	sh.run("gh")
	must(t, "register", sh.run("ta-register"), `"username":"carol"`)
	sh.run("ta-login")
	sh.run("ta-access")
	sh.run("ta-refresh-var")
	must(t, "me", sh.run("ta-me"), `"username":"carol"`)
	sh.run("ta-old-refresh")
	sh.run("ta-refresh")
	sh.run("ta-access")
	sh.run("ta-refresh-var")
	if old, cur := sh.get("OLD_REFRESH"), sh.get("REFRESH"); !strings.HasPrefix(cur, "ghr_") || cur == old {
		t.Fatalf("refresh gave %q after %q, want a new ghr_ token", cur, old)
	}
	must(t, "reuse", sh.run("ta-reuse"), `"token_reused"`)
	// The node may answer from its session cache for up to 500 ms
	// (docs/scaling.md): the reuse ends the session in the database.
	time.Sleep(600 * time.Millisecond)
	if out := sh.run("ta-me"); strings.Contains(out, "carol") || !strings.Contains(out, `"error"`) {
		t.Fatalf("the new access token still works after reuse ended the session: %s", out)
	}
	sh.run("ta-login")
	sh.run("ta-access")
	if out := sh.run("ta-logout"); strings.TrimSpace(out) != "204" {
		t.Fatalf("logout printed %q, want 204", out)
	}
	if out := sh.run("ta-me"); strings.Contains(out, "carol") || !strings.Contains(out, `"error"`) {
		t.Fatalf("the access token still works after logout: %s", out)
	}

	// The allowed origin of the guide's environment passes the CORS preflight.
	origin := "http://localhost:8070"
	req, _ := http.NewRequest(http.MethodOptions, base+"/api/auth/login", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := browser().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("preflight from %s: Access-Control-Allow-Origin = %q, want %q", origin, got, origin)
	}

	// The example: the backend and the app start and serve.
	be := sh.start(root, "ta-backend", "--listen", backendAddr)
	waitHTTP(t, be, "http://"+backendAddr+"/api/hello")
	spa := newShell(t, dir, nil, "http://localhost:8080", public, "http://127.0.0.1:8090", "http://"+backendAddr).
		start(root, "ta-spa", "--listen", spaAddr)
	waitHTTP(t, spa, "http://"+spaAddr+"/")
	if status, _, _ := do(t, browser(), http.MethodGet, "http://"+spaAddr+"/", nil); status != http.StatusOK {
		t.Errorf("GET / of the SPA example = %d, want 200", status)
	}
}

// freshData runs a guide's two exports that put Gatehouse's data in a new
// temporary directory, and checks that they did: the directory is new, under
// dir (the shell's TMPDIR), and the database is in it.
func freshData(t *testing.T, sh *shell, dir string) {
	t.Helper()
	sh.run("fresh-data-dir")
	sh.run("fresh-database")
	data := sh.get("GATEHOUSE_DATA_DIR")
	if !strings.HasPrefix(data, dir+string(os.PathSeparator)) {
		t.Fatalf("GATEHOUSE_DATA_DIR = %q, want a new directory under %s", data, dir)
	}
	if entries, err := os.ReadDir(data); err != nil || len(entries) != 0 {
		t.Fatalf("GATEHOUSE_DATA_DIR %s: %v, %d entries, want a new empty directory", data, err, len(entries))
	}
	if db := sh.get("GATEHOUSE_DATABASE_URL"); db != "sqlite://"+filepath.Join(data, "gatehouse.db") {
		t.Fatalf("GATEHOUSE_DATABASE_URL = %q, want the database in %s", db, data)
	}
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		for _, f := range []string{"gatehouse.db", "gatehouse.key"} {
			if _, err := os.Stat(filepath.Join(data, f)); err != nil {
				t.Errorf("the guide's fresh data directory has no %s: %v", f, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "gatehouse.db")); err == nil {
			t.Errorf("Gatehouse wrote gatehouse.db in the working directory, not in GATEHOUSE_DATA_DIR")
		}
	})
}

// Guide 4: a production-shaped deployment on a PostgreSQL database of its
// own and Redis: the configuration file of the guide, the secret, migrate,
// two nodes, key rotation seen by both, a backup, a restore, and the SQLite
// backup.
func TestGuideProduction(t *testing.T) {
	t.Parallel()
	pgURL, redisURL := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL"), os.Getenv("GATEHOUSE_TEST_REDIS_URL")
	if pgURL == "" || redisURL == "" {
		t.Skip("skipping: set GATEHOUSE_TEST_POSTGRES_URL and GATEHOUSE_TEST_REDIS_URL (make guides does)")
	}
	for _, tool := range []string{"psql", "pg_dump", "pg_restore", "sqlite3", "openssl", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (apt-get install -y postgresql-client sqlite3 openssl curl)", tool)
		}
	}
	dbURL := newDatabase(t, pgURL)
	dir := t.TempDir()
	etc, lib, backups, bin := filepath.Join(dir, "etc"), filepath.Join(dir, "lib"), filepath.Join(dir, "backups"), filepath.Join(dir, "bin")
	for _, d := range []string{lib, backups, bin} {
		os.MkdirAll(d, 0o755)
	}
	addr1, addr2 := freeAddr(t), freeAddr(t)
	public := "http://" + addr1 // the load balancer's address, as the nodes know it
	repl := []string{"/etc/gatehouse", etc, "/var/lib/gatehouse", lib, "/var/backups/gatehouse", backups,
		"/usr/local/bin", bin, "https://auth.example.com", public}
	sh := newShell(t, dir, map[string]string{"GATEHOUSE_PUBLIC_URL": public,
		"GATEHOUSE_LOG_FORMAT": "json"}, repl...)
	sh.env = append(sh.env, "PATH="+bin+string(os.PathListSeparator)+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))

	sh.runIn(root, "prod-install")
	if _, err := os.Stat(filepath.Join(bin, "gatehouse")); err != nil {
		t.Fatalf("GOBIN=… go install did not install gatehouse: %v", err)
	}
	sh.run("prod-etc")
	// What the reader writes into the environment file by hand.
	yaml := strings.NewReplacer(repl...).Replace(block(t, productionFile, "yaml", "trusted_proxies"))
	if err := os.WriteFile(filepath.Join(etc, "gatehouse.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "env"), []byte("GATEHOUSE_DATABASE_URL="+dbURL+"\nGATEHOUSE_REDIS_URL="+redisURL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sh.run("prod-secret")
	sh.run("prod-chmod")
	if fi, err := os.Stat(filepath.Join(etc, "env")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("env file: %v, mode %v, want 0600", err, fi.Mode())
	}
	sh.run("prod-load-env")
	if key := sh.get("GATEHOUSE_SECRET_KEY"); len(key) < 32 {
		t.Fatalf("GATEHOUSE_SECRET_KEY has %d characters, want at least 32", len(key))
	}
	must(t, "migrate", sh.run("prod-migrate"), "schema version")

	cfg := filepath.Join(etc, "gatehouse.yaml")
	node := func(addr string) *proc {
		p := sh.startCmd(dir, "GATEHOUSE_LISTEN="+addr+" gatehouse serve --config "+cfg)
		waitHTTP(t, p, "http://"+addr+"/healthz")
		return p
	}
	n1, n2 := node(addr1), node(addr2)
	must(t, "readyz", sh.run("prod-readyz"), `"status":"ok"`, `"redis":"ok"`)

	const pw = "correct horse battery staple"
	sh.sh("echo '" + pw + "' | gatehouse user create --config " + cfg + " --username dora --email dora@example.com --password-stdin")
	me := func(addr, token string) int {
		status, _, _ := do(t, browser(), http.MethodGet, "http://"+addr+"/api/me", nil, "Authorization", "Bearer "+token)
		return status
	}
	if s := me(addr2, signIn(t, "http://"+addr1, "dora", pw)); s != http.StatusOK {
		t.Fatalf("a token from node 1 at node 2 = %d, want 200", s)
	}
	before := sh.run("prod-keys-list")
	must(t, "keys list", before, "active")
	must(t, "keys rotate", sh.run("prod-keys-rotate"), "New active signing key")
	after := sh.run("prod-keys-list")
	must(t, "keys list after rotation", after, "retired, published until")
	if s := me(addr1, signIn(t, "http://"+addr2, "dora", pw)); s != http.StatusOK {
		t.Fatalf("a token signed with the new key at the other node = %d, want 200", s)
	}

	// Backup, a change after it, restore: the change is gone, dora remains.
	sh.run("prod-backup-name")
	sh.run("prod-pg-dump")
	if fi, err := os.Stat(sh.get("BACKUP")); err != nil || fi.Size() == 0 {
		t.Fatalf("pg_dump wrote no backup: %v", err)
	}
	sh.sh("echo '" + pw + "' | gatehouse user create --config " + cfg + " --username erin --email erin@example.com --password-stdin")
	n1.stop()
	n2.stop()
	sh.run("prod-pg-restore")
	n1 = node(addr1)
	signIn(t, "http://"+addr1, "dora", pw)
	b, _ := json.Marshal(map[string]string{"login": "erin", "password": pw})
	if status, _, _ := do(t, browser(), http.MethodPost, "http://"+addr1+"/api/auth/login", strings.NewReader(string(b)), "Content-Type", "application/json"); status != http.StatusUnauthorized {
		t.Fatalf("erin, made after the backup, signs in after the restore: %d, want 401", status)
	}

	// Upgrading: the version, and migrate on an up-to-date schema.
	must(t, "version", sh.run("prod-version"), "gatehouse ")
	must(t, "migrate again", sh.run("prod-migrate"), "up to date")

	// The Flask guide's PostgreSQL export of IDs.
	sh.run("flask-psql-ids")
	ids, _ := os.ReadFile(filepath.Join(dir, "gatehouse-ids.csv"))
	must(t, "gatehouse-ids.csv", string(ids), "dora@example.com")

	// A single node on SQLite: its online backup opens and holds the schema.
	sh.sh("GATEHOUSE_DATABASE_URL=sqlite://" + filepath.Join(lib, "gatehouse.db") + " gatehouse migrate")
	sh.run("prod-sqlite-backup")
	out, err := exec.Command("sqlite3", filepath.Join(backups, "gatehouse.db"), "SELECT count(*) > 0 FROM schema_migrations").Output()
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("the SQLite backup holds no schema: %v %q", err, out)
	}
}

// newDatabase creates a PostgreSQL database of the test's own next to the
// one base names, and drops it when the test ends.
func newDatabase(t *testing.T, base string) string {
	t.Helper()
	name := "gatehouse_guides_" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "_")
	if out, err := exec.Command("psql", base, "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE "+name).CombinedOutput(); err != nil {
		t.Fatalf("create database: %v: %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("psql", base, "-qc", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)").Run()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Guide 5: a role, a Flask-style export with a Werkzeug hash imported (dry
// run first), the user signing in with the old password, the hash upgraded,
// and the IDs exported.
func TestGuideFlask(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"sqlite3", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed", tool)
		}
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	sh := newShell(t, dir, gatehouseEnv(dir, addr), "https://auth.example.com", base)
	srv := sh.start(dir, "serve")
	waitHTTP(t, srv, base+"/healthz")

	// An admin and an API key with the admin scope, made as the reader
	// would on the admin pages.
	sh.run("create-admin")
	token := signIn(t, base, "alice", "correct horse battery staple")
	status, _, body := do(t, browser(), http.MethodPost, base+"/api/admin/api-keys",
		strings.NewReader(`{"name": "import", "scopes": ["admin"]}`), "Content-Type", "application/json", "Authorization", "Bearer "+token)
	if status != http.StatusCreated {
		t.Fatalf("create API key = %d %s", status, body)
	}
	var key struct{ Key string }
	json.Unmarshal([]byte(body), &key)
	sh.set("GATEHOUSE_ADMIN_KEY", key.Key)

	must(t, "create role", sh.run("flask-role"), `"billing"`)
	if err := os.WriteFile(filepath.Join(dir, "users.jsonl"), []byte(block(t, flaskFile, "json", "password_hash")), 0o600); err != nil {
		t.Fatal(err)
	}
	must(t, "dry run", sh.run("flask-dry-run"), "2 would be created", "0 invalid", "Nothing was written")
	must(t, "import", sh.run("flask-import"), "2 created")
	must(t, "sign-in", sh.run("flask-login"), `"billing"`)
	out, err := exec.Command("sqlite3", filepath.Join(dir, "gatehouse.db"), "SELECT password_hash FROM users WHERE email = 'ada@example.com'").Output()
	if err != nil || !strings.HasPrefix(string(out), "$argon2id$") {
		t.Fatalf("ada's hash after her first sign-in: %v %q, want argon2id", err, out)
	}
	sh.run("flask-sqlite-ids")
	ids, _ := os.ReadFile(filepath.Join(dir, "gatehouse-ids.csv"))
	must(t, "gatehouse-ids.csv", string(ids), "ada@example.com", "grace@example.com")
}
