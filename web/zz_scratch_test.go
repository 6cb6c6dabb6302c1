package web

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-dev/gatehouse/store/sqlite"
	"github.com/gatehouse-dev/gatehouse/internal/sqlstore"
	"github.com/gatehouse-dev/gatehouse/store/postgres"
)

func BenchmarkZZScratch(b *testing.B) {
	ctx := context.Background()
	var w *sql.DB
	var numbered bool
	if os.Getenv("SCRATCH_PG") != "" {
		db, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:5432/test?search_path=gh_scratch")
		if err != nil { b.Fatal(err) }
		w = db.Writer()
		var n int
		if err := w.QueryRow(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='gh_scratch' AND table_name='users'`).Scan(&n); err != nil { b.Fatal(err) }
		if n == 0 {
			if _, err := db.Migrate(ctx); err != nil { b.Fatal(err) }
			seedPostgres(b, w, 1_000_000)
		}
		numbered = true
	} else {
		path := "/tmp/ghscratch/sqlite.db"
		_, statErr := os.Stat(path)
		db, err := sqlite.Open(ctx, path)
		if err != nil { b.Fatal(err) }
		if _, err := db.Migrate(ctx); err != nil { b.Fatal(err) }
		w = db.Writer()
		if statErr != nil {
			seed(b, w, 1_000_000, 0)
		}
	}
	for _, stmt := range strings.Split(os.Getenv("SCRATCH_SQL"), ";;") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" { continue }
		if numbered { stmt = sqlstore.Rebind(stmt) }
		if strings.HasPrefix(stmt, "!") {
			if _, err := w.Exec(stmt[1:]); err != nil { fmt.Println("ERR", err) }
			continue
		}
		var args []any
		if i := strings.Index(stmt, " -- args:"); i >= 0 {
			for _, a := range strings.Split(stmt[i+9:], ",") { args = append(args, strings.TrimSpace(a)) }
			stmt = stmt[:i]
		}
		explain := "EXPLAIN QUERY PLAN "
		if numbered { explain = "EXPLAIN ANALYZE " }
		rows, err := w.Query(explain+stmt, args...)
		if err != nil { fmt.Println("ERR", err); continue }
		cols, _ := rows.Columns()
		fmt.Println("==", stmt, args)
		for rows.Next() {
			vals := make([]any, len(cols)); ptrs := make([]any, len(cols))
			for i := range vals { ptrs[i] = &vals[i] }
			rows.Scan(ptrs...)
			fmt.Println("  ", vals[len(vals)-1])
		}
		rows.Close()
		start := time.Now()
		n := 0
		for i := 0; i < 3; i++ {
			rows, err := w.Query(stmt, args...)
			if err != nil { fmt.Println("ERR", err); break }
			n = 0
			for rows.Next() { n++ }
			rows.Close()
		}
		fmt.Printf("   -> %d rows, %.2f ms\n", n, float64(time.Since(start).Microseconds())/3000)
	}
}
