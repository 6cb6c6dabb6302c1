package accounts_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/password"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// importSample is a user of the generated file whose hash is real, of its own
// password, so that the benchmark can sign in as it afterwards.
type importSample struct {
	line     int
	username string
	password string
	hash     string
}

// writeImportFile writes n users as CSV, the way a Flask-Login app's export
// looks: Werkzeug 3's default hash (pbkdf2:sha256:600000). Computing 600,000
// PBKDF2 rounds per row would take days, so every row shares one real hash,
// except the samples, which have real hashes of passwords of their own.
func writeImportFile(tb testing.TB, path string, n int) []importSample {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	shared := werkzeugHash(tb, "a password everybody shares", "sharedsaltsalt00", 600000)
	samples := map[int]*importSample{}
	for _, i := range []int{0, n / 3, n / 2, 2 * n / 3, n - 1} {
		pw := fmt.Sprintf("sample password %d of the import", i)
		samples[i] = &importSample{line: i + 2, username: fmt.Sprintf("user%07d", i), password: pw,
			hash: werkzeugHash(tb, pw, fmt.Sprintf("salt%012d", i), 600000)}
	}
	fmt.Fprintln(w, "username,email,password_hash,roles,email_verified,created_at")
	created := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		h := shared
		if s, ok := samples[i]; ok {
			h = s.hash
		}
		roles := "user"
		if i%1000 == 0 {
			roles = "user;editor"
		}
		fmt.Fprintf(w, "user%07d,user%07d@example.com,%s,%s,%t,%s\n", i, i, h, roles, i%3 != 0,
			created.Add(time.Duration(i)*time.Minute).Format("2006-01-02 15:04:05"))
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	var out []importSample
	for _, s := range samples {
		out = append(out, *s)
	}
	return out
}

// BenchmarkImport imports 1,000,000 generated users (10,000 with
// GATEHOUSE_BENCH_SMALL=1, or GATEHOUSE_BENCH_ROWS) into a fresh SQLite and, when
// GATEHOUSE_TEST_POSTGRES_URL is set, PostgreSQL database, and reports rows
// per second. Afterwards a sample of the users signs in with their old
// passwords, and each hash is upgraded to argon2id. Run it once per store:
//
//	go test ./accounts -run '^$' -bench Import -benchtime 1x
func BenchmarkImport(b *testing.B) {
	n := 1_000_000
	if os.Getenv("GATEHOUSE_BENCH_SMALL") != "" {
		n = 10_000
	}
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_ROWS")); err == nil && v >= 10 {
		n = v
	}
	path := filepath.Join(b.TempDir(), "users.csv")
	samples := writeImportFile(b, path, n)
	for _, backend := range storetest.Backends {
		b.Run(backend.Name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				st := backend.Open(b)
				hasher, err := password.New(password.Params{Memory: 1024, Iterations: 1})
				if err != nil {
					b.Fatal(err)
				}
				svc, err := accounts.New(accounts.Config{Store: st, Hasher: hasher, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					b.Fatal(err)
				}
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				r, err := accounts.NewImportReader(f, accounts.FormatCSV)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				b.StartTimer()
				start := time.Now()
				rep, err := svc.Import(ctx, r, accounts.ImportOptions{BatchSize: benchBatch()})
				elapsed := time.Since(start)
				b.StopTimer()
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				if rep.Created != n || rep.Invalid != 0 {
					b.Fatalf("import: %d created, %d invalid, want %d and 0; %v", rep.Created, rep.Invalid, n, rep.Problems)
				}
				rate := float64(n) / elapsed.Seconds()
				b.ReportMetric(rate, "rows/s")
				fmt.Printf("rows/s import into %s: %d users in %s, %.0f rows/s\n", backend.Name, n, elapsed.Round(time.Millisecond), rate)

				for _, s := range samples {
					u, err := svc.Authenticate(ctx, s.username, s.password)
					if err != nil {
						b.Fatalf("sign-in as imported %s (line %d) = %v", s.username, s.line, err)
					}
					if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
						b.Errorf("%s's hash after sign-in is %.20s…, want argon2id", s.username, u.PasswordHash)
					}
					if _, err := svc.Authenticate(ctx, s.username, s.password); err != nil {
						b.Errorf("second sign-in as %s, with the upgraded hash = %v", s.username, err)
					}
				}
				if _, err := svc.Authenticate(ctx, samples[0].username, "a password everybody shares"); err == nil {
					b.Error("a sample user signed in with the shared password")
				}
			}
		})
	}
}

// benchBatch is GATEHOUSE_BENCH_BATCH, or 0 for Import's default.
func benchBatch() int {
	n, _ := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_BATCH"))
	return n
}
