//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

const password = "correct horse battery staple"

// account registers username on n and returns nothing; it fails the test
// unless the answer is 201.
func register(t *testing.T, n *node, username string) {
	t.Helper()
	r := newClient().postJSON(t, n.URL+"/api/auth/register",
		map[string]string{"username": username, "email": username + "@example.com", "password": password})
	if r.status != http.StatusCreated {
		t.Fatalf("POST %s/api/auth/register = %d %s, want 201", n.name, r.status, r.body)
	}
}

// tokens signs in through the API on n and returns the token pair.
func tokens(t *testing.T, c *client, n *node, login, pw string) (access, refresh string) {
	t.Helper()
	r := c.postJSON(t, n.URL+"/api/auth/login", map[string]string{"login": login, "password": pw})
	if r.status != http.StatusOK {
		t.Fatalf("POST %s/api/auth/login = %d %s, want 200", n.name, r.status, r.body)
	}
	m := r.json(t)
	access, _ = m["access_token"].(string)
	refresh, _ = m["refresh_token"].(string)
	if access == "" || refresh == "" {
		t.Fatalf("POST %s/api/auth/login: %v: %s", n.name, errNoToken, r.body)
	}
	return access, refresh
}

// browserSignIn signs c in on the hosted page of n and returns the session
// cookie's value.
func browserSignIn(t *testing.T, c *client, n *node, login string) string {
	t.Helper()
	r := c.postForm(t, n.URL+"/login", url.Values{"login": {login}, "password": {password}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST %s/login = %d, want 303", n.name, r.status)
	}
	s := c.cookie(n.URL, "gatehouse_session")
	if s == "" {
		t.Fatalf("POST %s/login set no session cookie", n.name)
	}
	return s
}

// me asks n for /api/me with a bearer token or a session cookie, through a
// client without a cookie jar, and returns the status.
func me(t *testing.T, n *node, bearer, cookie string) int {
	t.Helper()
	var h []string
	if bearer != "" {
		h = append(h, "Authorization", "Bearer "+bearer)
	}
	if cookie != "" {
		h = append(h, "Cookie", "gatehouse_session="+cookie)
	}
	return newClient().do(t, http.MethodGet, n.URL+"/api/me", nil, h...).status
}

// twoNodes starts two nodes sharing a new PostgreSQL schema and redisURL,
// behind one public URL (as behind a load balancer).
func twoNodes(t *testing.T, databaseURL, redisURL string, extra map[string]string) (*node, *node) {
	t.Helper()
	env := map[string]string{
		"GATEHOUSE_DATABASE_URL": databaseURL,
		"GATEHOUSE_REDIS_URL":    redisURL,
		// One public URL for both, as behind a load balancer: it is the
		// issuer of the tokens, and the cookies' site.
		"GATEHOUSE_PUBLIC_URL": fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
	}
	for k, v := range extra {
		env[k] = v
	}
	return startNode(t, "A", env), startNode(t, "B", env)
}

// TestTwoNodesBehaveAsOne: register and sign in on A, refresh on B, sign
// out on B: A refuses the session cookie and the access token within a
// second; and the sign-in limit counts attempts made on either node.
func TestTwoNodesBehaveAsOne(t *testing.T) {
	pg := storetest.PostgresURL(t)
	rd := startRedis(t)
	a, b := twoNodes(t, pg, rd.URL(), nil)

	register(t, a, "alice")
	browser := newClient()
	cookie := browserSignIn(t, browser, a, "alice")
	api := newClient()
	_, refresh := tokens(t, api, a, "alice", password)

	r := api.postJSON(t, b.URL+"/api/auth/refresh", map[string]string{"refresh_token": refresh})
	if r.status != http.StatusOK {
		t.Fatalf("POST B/api/auth/refresh = %d %s, want 200", r.status, r.body)
	}
	access, _ := r.json(t)["access_token"].(string)

	// Both credentials work on A (and A now holds them in its cache).
	for range 3 {
		if got := me(t, a, access, ""); got != http.StatusOK {
			t.Fatalf("GET A/api/me with B's access token = %d, want 200", got)
		}
		if got := me(t, a, "", cookie); got != http.StatusOK {
			t.Fatalf("GET A/api/me with the session cookie = %d, want 200", got)
		}
	}

	// Sign out on B: the token's session, then the browser's.
	if r := newClient().do(t, http.MethodPost, b.URL+"/api/auth/logout", nil, "Authorization", "Bearer "+access); r.status != http.StatusNoContent {
		t.Fatalf("POST B/api/auth/logout (bearer) = %d %s, want 204", r.status, r.body)
	}
	if r := newClient().do(t, http.MethodPost, b.URL+"/api/auth/logout", nil, "Cookie", "gatehouse_session="+cookie); r.status != http.StatusNoContent {
		t.Fatalf("POST B/api/auth/logout (cookie) = %d %s, want 204", r.status, r.body)
	}
	took := eventually(t, time.Second, "A refuses what B signed out", func() string {
		if got := me(t, a, access, ""); got != http.StatusUnauthorized {
			return fmt.Sprintf("GET A/api/me with the access token = %d, want 401", got)
		}
		if got := me(t, a, "", cookie); got != http.StatusUnauthorized {
			return fmt.Sprintf("GET A/api/me with the session cookie = %d, want 401", got)
		}
		return ""
	})
	t.Logf("A refused both %v after B's sign-out", took.Round(time.Millisecond))

	// Failed sign-ins count against one limit, whichever node they reach:
	// ten per account identifier, then 429 even for the right password.
	register(t, a, "bob")
	fresh := newClient()
	for i := range 10 {
		n := []*node{a, b}[i%2]
		r := fresh.postJSON(t, n.URL+"/api/auth/login", map[string]string{"login": "bob", "password": "wrong password " + strconv.Itoa(i)})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d on %s = %d %s, want 401", i+1, n.name, r.status, r.body)
		}
	}
	for _, n := range []*node{a, b} {
		r := fresh.postJSON(t, n.URL+"/api/auth/login", map[string]string{"login": "bob", "password": password})
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Errorf("right password on %s after 10 failures across both nodes = %d (Retry-After %q), want 429 with Retry-After",
				n.name, r.status, r.header.Get("Retry-After"))
		}
	}
}

// TestRedisOutage stops Redis under two running nodes: /readyz reports it,
// requests that need a rate-limit check are refused with 503 rather than let
// through, a session signed out meanwhile is refused on the other node at
// once (its cache no longer trusted), sessions keep working from the
// database, and everything resumes when Redis is back.
func TestRedisOutage(t *testing.T) {
	pg := storetest.PostgresURL(t)
	rd := startRedis(t)
	a, b := twoNodes(t, pg, rd.URL(), nil)
	register(t, a, "carol")
	api := newClient()
	doomed, _ := tokens(t, api, a, "carol", password)
	kept, _ := tokens(t, api, a, "carol", password)
	for range 3 { // warm A's cache
		if got := me(t, a, doomed, ""); got != http.StatusOK {
			t.Fatalf("GET A/api/me = %d, want 200", got)
		}
	}

	rd.stop()
	// A node notices at once that Redis closed its connections (within
	// busValidFor, 600ms, when Redis goes silent instead); from then on it
	// no longer trusts its cache. The cache still holds the token's session
	// here: it was read a moment ago.
	time.Sleep(100 * time.Millisecond)

	// Signing out needs only the database; A must not take the token from
	// its cache, since it cannot hear B's word while Redis is down.
	if r := newClient().do(t, http.MethodPost, b.URL+"/api/auth/logout", nil, "Authorization", "Bearer "+doomed); r.status != http.StatusNoContent {
		t.Fatalf("POST B/api/auth/logout during the outage = %d %s, want 204", r.status, r.body)
	}
	for i := range 20 {
		if got := me(t, a, doomed, ""); got == http.StatusOK {
			t.Fatalf("GET A/api/me with a token signed out on B during the outage = 200 (try %d), want it refused", i+1)
		}
	}
	eventually(t, 5*time.Second, "A's /readyz reports Redis down", func() string {
		r := newClient().do(t, http.MethodGet, a.URL+"/readyz", nil)
		checks, _ := r.json(t)["checks"].(map[string]any)
		if r.status != http.StatusServiceUnavailable || checks["redis"] != "unavailable" || checks["database"] != "ok" {
			return fmt.Sprintf("GET /readyz = %d %s", r.status, r.body)
		}
		return ""
	})
	if got := me(t, a, kept, ""); got != http.StatusOK {
		t.Errorf("GET A/api/me with a live token during the outage = %d, want 200 (sessions live in the database)", got)
	}
	// A sign-in needs the rate limits: refused, not let through unchecked.
	r := newClient().postJSON(t, a.URL+"/api/auth/login", map[string]string{"login": "carol", "password": password})
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("POST /api/auth/login during the outage = %d (Retry-After %q), want 503 with Retry-After", r.status, r.header.Get("Retry-After"))
	}

	rd.start()
	eventually(t, 15*time.Second, "A recovers without a restart", func() string {
		if r := newClient().do(t, http.MethodGet, a.URL+"/readyz", nil); r.status != http.StatusOK {
			return fmt.Sprintf("GET /readyz = %d %s", r.status, r.body)
		}
		r := newClient().postJSON(t, a.URL+"/api/auth/login", map[string]string{"login": "carol", "password": password})
		if r.status != http.StatusOK {
			return fmt.Sprintf("POST /api/auth/login = %d %s", r.status, r.body)
		}
		return ""
	})
	if got := me(t, a, doomed, ""); got != http.StatusUnauthorized {
		t.Errorf("GET A/api/me with the signed-out token after the outage = %d, want 401", got)
	}
	if got := me(t, b, kept, ""); got != http.StatusOK {
		t.Errorf("GET B/api/me with the live token after the outage = %d, want 200", got)
	}
}

// TestPostgresOutage cuts the connection to PostgreSQL under a running node:
// /readyz reports it, a revoked token is not accepted while it is down, and
// the node recovers without a restart, with everything it acknowledged
// before still in place.
func TestPostgresOutage(t *testing.T) {
	pg := storetest.PostgresURL(t)
	rd := startRedis(t)
	px := startProxy(t, postgresHost(t, pg))
	n := startNode(t, "A", map[string]string{"GATEHOUSE_DATABASE_URL": viaProxy(t, pg, px.addr), "GATEHOUSE_REDIS_URL": rd.URL()})
	register(t, n, "dave")
	api := newClient()
	revoked, _ := tokens(t, api, n, "dave", password)
	live, _ := tokens(t, api, n, "dave", password)
	if got := me(t, n, revoked, ""); got != http.StatusOK {
		t.Fatalf("GET /api/me = %d, want 200", got)
	}
	if r := newClient().do(t, http.MethodPost, n.URL+"/api/auth/logout", nil, "Authorization", "Bearer "+revoked); r.status != http.StatusNoContent {
		t.Fatalf("POST /api/auth/logout = %d %s, want 204", r.status, r.body)
	}

	px.cut()
	eventually(t, 10*time.Second, "/readyz reports the database down", func() string {
		r := newClient().do(t, http.MethodGet, n.URL+"/readyz", nil)
		checks, _ := r.json(t)["checks"].(map[string]any)
		if r.status != http.StatusServiceUnavailable || checks["database"] != "unavailable" {
			return fmt.Sprintf("GET /readyz = %d %s", r.status, r.body)
		}
		return ""
	})
	for i := range 10 {
		if got := me(t, n, revoked, ""); got == http.StatusOK {
			t.Fatalf("GET /api/me with a revoked token while PostgreSQL is down = 200 (try %d), want it refused", i+1)
		}
	}

	px.restore()
	eventually(t, 20*time.Second, "the node recovers without a restart", func() string {
		if r := newClient().do(t, http.MethodGet, n.URL+"/readyz", nil); r.status != http.StatusOK {
			return fmt.Sprintf("GET /readyz = %d %s", r.status, r.body)
		}
		if got := me(t, n, live, ""); got != http.StatusOK {
			return fmt.Sprintf("GET /api/me with the live token = %d", got)
		}
		return ""
	})
	if got := me(t, n, revoked, ""); got != http.StatusUnauthorized {
		t.Errorf("GET /api/me with the revoked token after the outage = %d, want 401", got)
	}
	tokens(t, newClient(), n, "dave", password) // the account made before the outage is there
}

// TestSignInLimits runs the sign-in limits on a node behind a trusted proxy
// (loopback), so that X-Forwarded-For names the client: the per-account
// limit from many addresses, with Retry-After and even the right password
// refused, while the owner's device that signed in before still gets in;
// and the per-address limit across many account names.
func TestSignInLimits(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(cfgFile, []byte("http:\n  trusted_proxies: [127.0.0.1]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "A", map[string]string{
		"GATEHOUSE_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db"),
		"CONFIG":                 cfgFile,
	})
	register(t, n, "erin")
	owner := newClient()
	browserSignIn(t, owner, n, "erin") // this browser now holds a device cookie for erin
	if owner.cookie(n.URL, "gatehouse_device") == "" {
		t.Fatal("a successful sign-in set no gatehouse_device cookie")
	}

	// Ten wrong passwords for erin, each from another address and a fresh
	// client: then even the right password is refused, from anywhere new.
	for i := range 10 {
		r := newClient().postForm(t, n.URL+"/login", url.Values{"login": {"erin"}, "password": {"guess" + strconv.Itoa(i)}},
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		if r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d = %d, want 401", i+1, r.status)
		}
	}
	r := newClient().postForm(t, n.URL+"/login", url.Values{"login": {"erin"}, "password": {password}}, "X-Forwarded-For", "198.51.100.99")
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("right password from a new address after 10 failures = %d, want 429", r.status)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want a positive number of seconds", r.header.Get("Retry-After"))
	}
	// The owner's browser signed in before: it keeps its own allowance.
	r = owner.postForm(t, n.URL+"/login", url.Values{"login": {"erin"}, "password": {password}}, "X-Forwarded-For", "203.0.113.7")
	if r.status != http.StatusSeeOther {
		t.Errorf("the owner's device during the attack = %d, want 303 (signed in)", r.status)
	}

	// Fifty failures from one address over many names, then 429 for any
	// name from that address, while another address is unaffected.
	for i := range 50 {
		r := newClient().postJSON(t, n.URL+"/api/auth/login", map[string]string{"login": "nobody" + strconv.Itoa(i), "password": "x"},
			"X-Forwarded-For", "192.0.2.50")
		if r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d from one address = %d, want 401", i+1, r.status)
		}
	}
	r = newClient().postJSON(t, n.URL+"/api/auth/login", map[string]string{"login": "someone-else", "password": "x"}, "X-Forwarded-For", "192.0.2.50")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("51st failure from one address = %d (Retry-After %q), want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	r = newClient().postJSON(t, n.URL+"/api/auth/login", map[string]string{"login": "someone-else", "password": "x"}, "X-Forwarded-For", "192.0.2.51")
	if r.status != http.StatusUnauthorized {
		t.Errorf("a failure from another address = %d, want 401", r.status)
	}
}
