package guides

// command is a shell command of the README or a guide, and the key by which
// the flows (flows_test.go, build tag integration) run it. The text is the
// command as the document has it, continuation lines joined by one space;
// TestGuideCommandsAreExercised keeps this list and the documents in step.
type command struct {
	key  string
	text string
	// ci marks a command that .ci/run runs itself, on a line of its own,
	// rather than a flow.
	ci bool
}

// commands is every shell command of the documents. A command that appears
// in several documents (go install ./cmd/gatehouse) is listed once.
var commands = []command{
	// README.md
	{key: "readme-serve", text: `go run ./cmd/gatehouse serve`},
	{key: "make-test", text: `make test`, ci: true},
	{key: "readme-create-admin", text: `echo 'a long passphrase' | go run ./cmd/gatehouse user create --username alice --email alice@example.com --role admin --password-stdin --verified`},
	{key: "readme-user-list", text: `go run ./cmd/gatehouse user list`},

	// docs/guides/embed-in-go.md (and the README)
	{key: "notes", text: `go run ./examples/notes`},
	{key: "install", text: `go install ./cmd/gatehouse`},
	{key: "notes-create-admin", text: `echo 'correct horse battery staple' | gatehouse user create --database-url sqlite://./notes.db --username alice --email alice@example.com --role admin --password-stdin --verified`},

	// docs/guides/login-server.md
	{key: "fresh-data-dir", text: `export GATEHOUSE_DATA_DIR=$(mktemp -d)`},
	{key: "fresh-database", text: `export GATEHOUSE_DATABASE_URL=sqlite://$GATEHOUSE_DATA_DIR/gatehouse.db`},
	{key: "migrate", text: `gatehouse migrate`},
	{key: "create-admin", text: `echo 'correct horse battery staple' | gatehouse user create --username alice --email alice@example.com --role admin --password-stdin --verified`},
	{key: "serve", text: `gatehouse serve`},
	{key: "gh", text: `GH=http://localhost:8080`},
	{key: "ls-admin-token", text: `ADMIN_TOKEN=$(curl -s -X POST "$GH/api/auth/login" -H 'Content-Type: application/json' -d '{"login": "alice", "password": "correct horse battery staple"}' | jq -er .access_token)`},
	{key: "ls-api-key", text: `API_KEY=$(curl -s -X POST "$GH/api/admin/api-keys" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -d '{"name": "reports backend", "scopes": ["introspect", "revocations"]}' | jq -er .key)`},
	{key: "ls-echo-key", text: `echo "$API_KEY"`},
	{key: "ls-backend", text: `GATEHOUSE_API_KEY=$API_KEY go run ./examples/api-backend --issuer http://localhost:8080 --listen 127.0.0.1:8090`},
	{key: "ls-register", text: `curl -s -X POST "$GH/api/auth/register" -H 'Content-Type: application/json' -d '{"username": "bob", "email": "bob@example.com", "password": "another long passphrase"}'`},
	{key: "ls-token", text: `TOKEN=$(curl -s -X POST "$GH/api/auth/login" -H 'Content-Type: application/json' -d '{"login": "bob", "password": "another long passphrase"}' | jq -er .access_token)`},
	{key: "ls-hello", text: `curl -s http://127.0.0.1:8090/api/hello -H "Authorization: Bearer $TOKEN"`},
	{key: "ls-reports", text: `curl -s http://127.0.0.1:8090/api/reports -H "Authorization: Bearer $TOKEN"`},
	{key: "ls-introspect", text: `curl -s -X POST "$GH/api/introspect" -H "Authorization: Bearer $API_KEY" -d "token=$TOKEN"`},
	{key: "ls-logout", text: `curl -s -X POST "$GH/api/auth/logout" -H "Authorization: Bearer $TOKEN"`},

	// docs/guides/token-api.md
	{key: "ta-serve", text: `GATEHOUSE_ALLOWED_ORIGINS=http://localhost:8070 GATEHOUSE_PASSKEY_ORIGINS=http://localhost:8080,http://localhost:8070 gatehouse serve`},
	{key: "ta-register", text: `curl -s -X POST "$GH/api/auth/register" -H 'Content-Type: application/json' -d '{"username": "carol", "email": "carol@example.com", "password": "correct horse battery staple"}'`},
	{key: "ta-login", text: `PAIR=$(curl -s -X POST "$GH/api/auth/login" -H 'Content-Type: application/json' -d '{"login": "carol", "password": "correct horse battery staple"}')`},
	{key: "ta-access", text: `ACCESS=$(echo "$PAIR" | jq -er .access_token)`},
	{key: "ta-refresh-var", text: `REFRESH=$(echo "$PAIR" | jq -er .refresh_token)`},
	{key: "ta-me", text: `curl -s "$GH/api/me" -H "Authorization: Bearer $ACCESS"`},
	{key: "ta-old-refresh", text: `OLD_REFRESH=$REFRESH`},
	{key: "ta-refresh", text: `PAIR=$(curl -s -X POST "$GH/api/auth/refresh" -H 'Content-Type: application/json' -d "{\"refresh_token\": \"$REFRESH\"}")`},
	{key: "ta-reuse", text: `curl -s -X POST "$GH/api/auth/refresh" -H 'Content-Type: application/json' -d "{\"refresh_token\": \"$OLD_REFRESH\"}"`},
	{key: "ta-logout", text: `curl -s -o /dev/null -w '%{http_code}\n' -X POST "$GH/api/auth/logout" -H "Authorization: Bearer $ACCESS"`},
	{key: "ta-backend", text: `go run ./examples/api-backend --issuer http://localhost:8080`},
	{key: "ta-spa", text: `go run ./examples/spa --gatehouse http://localhost:8080 --backend http://127.0.0.1:8090`},

	// docs/guides/production.md
	{key: "prod-install", text: `GOBIN=/usr/local/bin go install ./cmd/gatehouse`},
	{key: "prod-etc", text: `install -d -m 700 /etc/gatehouse`},
	{key: "prod-secret", text: `echo "GATEHOUSE_SECRET_KEY=$(openssl rand -base64 48 | tr -d '\n')" >> /etc/gatehouse/env`},
	{key: "prod-chmod", text: `chmod 600 /etc/gatehouse/env`},
	{key: "prod-load-env", text: `set -a; . /etc/gatehouse/env; set +a`},
	{key: "prod-migrate", text: `gatehouse migrate --config /etc/gatehouse/gatehouse.yaml`},
	{key: "prod-readyz", text: `curl -fsS https://auth.example.com/readyz`},
	{key: "prod-keys-list", text: `gatehouse keys list --config /etc/gatehouse/gatehouse.yaml`},
	{key: "prod-keys-rotate", text: `gatehouse keys rotate --config /etc/gatehouse/gatehouse.yaml`},
	{key: "prod-backup-name", text: `BACKUP=/var/backups/gatehouse/gatehouse-$(date +%F).dump`},
	{key: "prod-pg-dump", text: `pg_dump --format=custom --file="$BACKUP" "$GATEHOUSE_DATABASE_URL"`},
	{key: "prod-sqlite-backup", text: `sqlite3 /var/lib/gatehouse/gatehouse.db ".backup '/var/backups/gatehouse/gatehouse.db'"`},
	{key: "prod-pg-restore", text: `pg_restore --clean --if-exists --no-owner --dbname="$GATEHOUSE_DATABASE_URL" "$BACKUP"`},
	{key: "prod-version", text: `gatehouse version`},

	// docs/guides/migrate-from-flask.md
	{key: "flask-role", text: `curl -X POST https://auth.example.com/api/admin/roles -H "Authorization: Bearer $GATEHOUSE_ADMIN_KEY" -H 'Content-Type: application/json' -d '{"name": "billing", "description": "Can see invoices"}'`},
	{key: "flask-dry-run", text: `gatehouse users import users.jsonl --dry-run`},
	{key: "flask-import", text: `gatehouse users import users.jsonl`},
	{key: "flask-login", text: `curl -s -X POST https://auth.example.com/api/auth/login -H 'Content-Type: application/json' -d '{"login": "ada@example.com", "password": "correct horse battery staple"}' | jq -e .user.roles`},
	{key: "flask-sqlite-ids", text: `sqlite3 -csv gatehouse.db "SELECT id, email FROM users" > gatehouse-ids.csv`},
	{key: "flask-psql-ids", text: `psql "$GATEHOUSE_DATABASE_URL" -c "\copy (SELECT id, email FROM users) TO 'gatehouse-ids.csv' CSV"`},
}
