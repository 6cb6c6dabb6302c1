# Gatehouse developer tasks. `make test` is what the README and CI run.
SHELL := /bin/bash
GO ?= go
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: test test-all race bench lint e2e build integration bench-http guides

## test: the unit and store tests (PostgreSQL/Redis runs skip unless their URLs are set)
test:
	$(GO) test ./...

## test-all: the same with the PostgreSQL and Redis runs switched on
test-all:
	GATEHOUSE_TEST_POSTGRES_URL=$(PG_URL) GATEHOUSE_TEST_REDIS_URL=$(REDIS_URL) $(GO) test ./...

## race: the packages with concurrency, under the race detector
race:
	GATEHOUSE_TEST_POSTGRES_URL=$(PG_URL) GATEHOUSE_TEST_REDIS_URL=$(REDIS_URL) $(GO) test -race ./store/... ./internal/... ./accounts/... ./session/... ./audit/... ./masterkey/... ./web/... ./client/... ./cmd/... ./ratelimit/... ./hashpool/... ./mail/... ./passkey/... ./token/...

## bench: every benchmark, each printing its ratio against a reference measured in the same run
bench:
	set -o pipefail; $(GO) test -run '^$$' -bench . ./... | grep -E '^(ratio|rows/s|ok|FAIL|goos|cpu|pkg)'

## lint: vet and formatting
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## e2e: the browser suite in headless Chromium (apt-get install -y chromium)
e2e:
	$(GO) test -tags e2e -count=1 ./e2e/...

## integration: several gatehouse processes sharing PostgreSQL and Redis, and outages of both
## (needs PostgreSQL at PG_URL and redis-server on the PATH; starts its own Redis)
integration:
	GATEHOUSE_TEST_POSTGRES_URL=$(PG_URL) $(GO) test -tags integration -count=1 -timeout 10m ./integration/...

## guides: run every shell command of the README and docs/guides against real processes on
## loopback (needs PostgreSQL at PG_URL, Redis at REDIS_URL, curl, jq, sqlite3, openssl and the
## PostgreSQL client tools)
guides:
	GATEHOUSE_TEST_POSTGRES_URL=$(PG_URL) GATEHOUSE_TEST_REDIS_URL=$(REDIS_URL) $(GO) test -tags integration -count=1 -timeout 5m ./guides/...

## bench-http: the HTTP load benchmark on loopback (SQLite, then PostgreSQL + Redis); writes docs/bench-http.svg
bench-http:
	GATEHOUSE_TEST_POSTGRES_URL=$(PG_URL) GATEHOUSE_TEST_REDIS_URL=$(REDIS_URL) $(GO) run ./internal/benchhttp -svg docs/bench-http.svg

## build: the gatehouse binary in ./bin
build:
	$(GO) build -o bin/gatehouse ./cmd/gatehouse
