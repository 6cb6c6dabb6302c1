package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/gatehouse-dev/gatehouse/accounts"
)

const importAbout = `Creates and updates users from FILE: CSV with a header row, or JSON lines
(one object per line), with the fields

  username        required; 3 to 32 letters, digits, _ . -
  email           required; accounts are matched by it, so importing the same
                  file twice changes nothing
  password_hash   Werkzeug pbkdf2 or scrypt, bcrypt or argon2id; empty for an
                  account without a password
  roles           separated by , ; or spaces (a list in JSON); default: the
                  configured default roles
  email_verified  true/false, 1/0, yes/no
  created_at      RFC 3339, "2006-01-02 15:04:05[.ffffff]" (UTC) or Unix seconds

Every row is checked first, and nothing is written while any row is bad
(each is reported with its line) unless --skip-invalid is given. Users sign
in with their old passwords; each hash becomes argon2id at the first sign-in.
See docs/guides/migrate-from-flask.md.`

// userImportFlags makes 'gatehouse users import'.
func userImportFlags(fs *flag.FlagSet) action {
	format := fs.String("format", "", "csv or jsonl (default: guessed from the first character)")
	dryRun := fs.Bool("dry-run", false, "check every row and report what would change, without writing")
	skipInvalid := fs.Bool("skip-invalid", false, "import the valid rows even when some are invalid")
	batch := fs.Int("batch", 5000, "`N` rows looked up and written per transaction")
	return func(ctx context.Context, args []string, e *env) error {
		flags, pos := interleave(fs, args)
		g, err := openForCLI(append(flags, "--"), fs, e)
		if err != nil {
			return err
		}
		defer g.Close()
		if len(pos) != 1 {
			return &usageError{"users import needs one FILE"}
		}
		path := pos[0]
		if *format != "" && *format != accounts.FormatCSV && *format != accounts.FormatJSONLines {
			return &usageError{fmt.Sprintf("--format must be %s or %s", accounts.FormatCSV, accounts.FormatJSONLines)}
		}
		bar := newProgress(e.stderr)

		// Pass 1: check every row, and what it would do, without writing.
		check, err := importPass(ctx, g.Accounts(), path, *format, accounts.ImportOptions{DryRun: true, BatchSize: *batch}, bar, "Checking", 0)
		if err != nil {
			return err
		}
		reportProblems(e, check)
		if *dryRun {
			fmt.Fprintf(e.stdout, "Dry run of %s: %s rows; %s would be created, %s updated, %s unchanged; %s invalid. Nothing was written.\n",
				path, count(check.Rows), count(check.Created), count(check.Updated), count(check.Unchanged), count(check.Invalid))
			if check.Invalid > 0 {
				return fmt.Errorf("%s invalid rows", count(check.Invalid))
			}
			return nil
		}
		if check.Invalid > 0 && !*skipInvalid {
			return fmt.Errorf("%s of %s rows are invalid, so nothing was imported; fix them, or pass --skip-invalid to import the others",
				count(check.Invalid), count(check.Rows))
		}

		// Pass 2: write.
		rep, err := importPass(ctx, g.Accounts(), path, *format, accounts.ImportOptions{BatchSize: *batch}, bar, "Importing", check.Rows)
		if err != nil {
			return err
		}
		if rep.Invalid > check.Invalid {
			reportProblems(e, rep) // rows that became invalid since the check, such as a username taken meanwhile
		}
		rate := float64(rep.Rows) / max(rep.Duration.Seconds(), 1e-9)
		fmt.Fprintf(e.stdout, "Imported %s in %s (%s rows/s): %s rows; %s created, %s updated, %s unchanged, %s skipped as invalid.\n",
			path, rep.Duration.Round(100*time.Millisecond), count(int(rate)), count(rep.Rows),
			count(rep.Created), count(rep.Updated), count(rep.Unchanged), count(rep.Invalid))
		fmt.Fprintf(e.stdout, "Password hashes: %s. Each becomes argon2id at the user's first sign-in.\n", hashSummary(rep.Hashes))
		return nil
	}
}

// importPass runs one pass over the file.
func importPass(ctx context.Context, svc *accounts.Service, path, format string, opts accounts.ImportOptions,
	bar *progress, label string, totalRows int) (*accounts.ImportReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(0)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	cr := &countingReader{r: f}
	r, err := accounts.NewImportReader(cr, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	bar.start(label)
	opts.Progress = func(rows int) {
		switch {
		case totalRows > 0:
			bar.update(float64(rows)/float64(totalRows), rows)
		case size > 0:
			bar.update(float64(cr.n.Load())/float64(size), rows)
		}
	}
	rep, err := svc.Import(ctx, r, opts)
	bar.done(rep)
	if err != nil {
		return rep, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}

const maxShownProblems = 50

func reportProblems(e *env, rep *accounts.ImportReport) {
	for i, p := range rep.Problems {
		if i == maxShownProblems {
			break
		}
		fmt.Fprintln(e.stderr, p.String())
	}
	if rep.Invalid > min(len(rep.Problems), maxShownProblems) {
		fmt.Fprintf(e.stderr, "… and %s more invalid rows\n", count(rep.Invalid-min(len(rep.Problems), maxShownProblems)))
	}
}

func hashSummary(h map[string]int) string {
	if len(h) == 0 {
		return "none"
	}
	kinds := make([]string, 0, len(h))
	for k := range h {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		return h[kinds[i]] > h[kinds[j]] || h[kinds[i]] == h[kinds[j]] && kinds[i] < kinds[j]
	})
	var parts []string
	for _, k := range kinds {
		name := k
		if k == "none" {
			name = "no password"
		}
		parts = append(parts, count(h[k])+" "+name)
	}
	return strings.Join(parts, ", ")
}

// count writes n with thousands separators: 1,000,000.
func count(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress draws a progress bar on a terminal, and nothing elsewhere (a log
// file or a pipe gets only the summary).
type progress struct {
	w     io.Writer
	on    bool
	label string
	began time.Time
	last  time.Time
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) start(label string) {
	p.label, p.began, p.last = label, time.Now(), time.Time{}
}

func (p *progress) update(frac float64, rows int) {
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.draw(min(max(frac, 0), 1), rows)
}

func (p *progress) draw(frac float64, rows int) {
	const width = 30
	full := int(frac * width)
	bar := strings.Repeat("=", full)
	if full < width {
		bar += ">" + strings.Repeat(" ", width-full-1)
	}
	rate := float64(rows) / max(time.Since(p.began).Seconds(), 1e-9)
	fmt.Fprintf(p.w, "\r%-9s [%s] %3.0f%%  %s rows  %s rows/s ", p.label, bar, frac*100, count(rows), count(int(rate)))
}

func (p *progress) done(rep *accounts.ImportReport) {
	if !p.on {
		return
	}
	if rep != nil {
		p.draw(1, rep.Rows)
	}
	fmt.Fprintln(p.w)
}
