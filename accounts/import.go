package accounts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/password"
)

// ImportRecord is one user of an import file, as read: nothing is checked
// until Import sees it.
type ImportRecord struct {
	Line          int // where the record starts in the file, from 1
	Username      string
	Email         string
	PasswordHash  string // a hash package password can verify, or "" for no password
	Roles         []string
	EmailVerified bool
	CreatedAt     time.Time // zero for "now"

	format string // of PasswordHash, once checked
}

// ImportProblem is a row that cannot be imported, and why.
type ImportProblem struct {
	Line    int
	Field   string // the column at fault, or "" for the whole row
	Message string
}

func (p ImportProblem) String() string {
	if p.Field == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Field, p.Message)
}

// Import file formats.
const (
	FormatCSV       = "csv"   // a header row naming the columns, then one user per row
	FormatJSONLines = "jsonl" // one JSON object per line
)

// importColumns are the fields of a record, as CSV headers and JSON keys.
var importColumns = []string{"username", "email", "password_hash", "roles", "email_verified", "created_at"}

// ImportReader reads the users of an import file: CSV with a header row, or
// JSON lines, with the fields username, email, password_hash, roles,
// email_verified and created_at (only username and email are required).
// Roles are separated by commas, semicolons or spaces in CSV, and a list or
// such a string in JSON; email_verified is true/false, 1/0, yes/no or t/f;
// created_at is RFC 3339, "2006-01-02 15:04:05[.ffffff]" (UTC, as
// SQLAlchemy writes it), a date, or Unix seconds.
type ImportReader struct {
	format string
	csv    *csv.Reader
	cols   map[string]int // CSV column of each field
	lines  *bufio.Reader
	line   int // JSON lines: lines read
}

// NewImportReader starts reading r in format (FormatCSV or FormatJSONLines;
// "" guesses from the first character: "{" is JSON lines).
func NewImportReader(r io.Reader, format string) (*ImportReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if format == "" {
		format = FormatCSV
		if b, err := br.Peek(1); err == nil && b[0] == '{' {
			format = FormatJSONLines
		}
	}
	ir := &ImportReader{format: format}
	switch format {
	case FormatJSONLines:
		ir.lines = br
	case FormatCSV:
		ir.csv = csv.NewReader(br)
		ir.csv.FieldsPerRecord = -1 // checked per row, to report it with the line
		ir.csv.ReuseRecord = true
		header, err := ir.csv.Read()
		if err == io.EOF {
			return nil, errors.New("the file is empty: it needs a header row (username,email,password_hash,…)")
		}
		if err != nil {
			return nil, fmt.Errorf("header row: %w", err)
		}
		ir.cols = map[string]int{}
		for i, h := range header {
			h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
			if !slices.Contains(importColumns, h) {
				return nil, fmt.Errorf("header row: unknown column %q (known: %s)", h, strings.Join(importColumns, ", "))
			}
			if _, dup := ir.cols[h]; dup {
				return nil, fmt.Errorf("header row: column %q appears twice", h)
			}
			ir.cols[h] = i
		}
		for _, need := range []string{"username", "email"} {
			if _, ok := ir.cols[need]; !ok {
				return nil, fmt.Errorf("header row: the column %q is missing", need)
			}
		}
	default:
		return nil, fmt.Errorf("unknown format %q (use %s or %s)", format, FormatCSV, FormatJSONLines)
	}
	return ir, nil
}

// Format returns the format being read.
func (r *ImportReader) Format() string { return r.format }

// Next returns the next record, or io.EOF at the end. A row that cannot be
// read returns a nil record and an *ImportProblem error; reading can go on.
func (r *ImportReader) Next() (*ImportRecord, error) {
	if r.csv != nil {
		return r.nextCSV()
	}
	return r.nextJSON()
}

func (e *ImportProblem) Error() string { return e.String() }

func (r *ImportReader) nextCSV() (*ImportRecord, error) {
	row, err := r.csv.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &ImportProblem{Line: pe.StartLine, Message: "not valid CSV: " + pe.Err.Error()}
		}
		return nil, err
	}
	line, _ := r.csv.FieldPos(0)
	if len(row) != len(r.cols) {
		return nil, &ImportProblem{Line: line, Message: fmt.Sprintf("has %d fields, the header %d", len(row), len(r.cols))}
	}
	get := func(col string) string {
		if i, ok := r.cols[col]; ok {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	rec := &ImportRecord{Line: line, Username: get("username"), Email: get("email"), PasswordHash: get("password_hash"),
		Roles: splitRoleList(get("roles"))}
	if p := rec.parseVerified(get("email_verified")); p != nil {
		return nil, p
	}
	if p := rec.parseCreated(get("created_at")); p != nil {
		return nil, p
	}
	return rec, nil
}

func (r *ImportReader) nextJSON() (*ImportRecord, error) {
	for {
		raw, err := r.lines.ReadBytes('\n')
		if len(raw) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		r.line++
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, &ImportProblem{Line: r.line, Message: "not a JSON object"}
		}
		rec := &ImportRecord{Line: r.line}
		for key, v := range obj {
			if !slices.Contains(importColumns, key) {
				return nil, &ImportProblem{Line: r.line, Field: key, Message: "unknown field"}
			}
			if string(v) == "null" {
				continue
			}
			var s string
			var problem string
			switch key {
			case "roles":
				var list []string
				if json.Unmarshal(v, &list) == nil {
					rec.Roles = list
				} else if json.Unmarshal(v, &s) == nil {
					rec.Roles = splitRoleList(s)
				} else {
					problem = "must be a list of role names or a string"
				}
			case "email_verified":
				var b bool
				if json.Unmarshal(v, &b) == nil {
					rec.EmailVerified = b
				} else if json.Unmarshal(v, &s) == nil {
					if p := rec.parseVerified(s); p != nil {
						return nil, p
					}
				} else if p := rec.parseVerified(string(v)); p != nil {
					return nil, p
				}
			case "created_at":
				if json.Unmarshal(v, &s) != nil {
					s = string(v) // a number: Unix seconds
				}
				if p := rec.parseCreated(s); p != nil {
					return nil, p
				}
			default:
				if json.Unmarshal(v, &s) != nil {
					problem = "must be a string"
				}
				switch key {
				case "username":
					rec.Username = strings.TrimSpace(s)
				case "email":
					rec.Email = strings.TrimSpace(s)
				case "password_hash":
					rec.PasswordHash = strings.TrimSpace(s)
				}
			}
			if problem != "" {
				return nil, &ImportProblem{Line: r.line, Field: key, Message: problem}
			}
		}
		return rec, nil
	}
}

func splitRoleList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' || r == ' ' || r == '\t' })
}

func (rec *ImportRecord) parseVerified(s string) *ImportProblem {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "f", "no", "n":
		rec.EmailVerified = false
	case "1", "true", "t", "yes", "y":
		rec.EmailVerified = true
	default:
		return &ImportProblem{Line: rec.Line, Field: "email_verified", Message: fmt.Sprintf("%q is not true or false", s)}
	}
	return nil
}

var importTimeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999", "2006-01-02"}

func (rec *ImportRecord) parseCreated(s string) *ImportProblem {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && n > 0 && n < 1e11 {
		sec := int64(n)
		rec.CreatedAt = time.Unix(sec, int64((n-float64(sec))*1e9)).UTC()
		return nil
	}
	for _, layout := range importTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			rec.CreatedAt = t.UTC()
			return nil
		}
	}
	return &ImportProblem{Line: rec.Line, Field: "created_at", Message: fmt.Sprintf("%q is not a time (use RFC 3339, e.g. 2021-03-04T05:06:07Z)", s)}
}

// ImportOptions configures Import.
type ImportOptions struct {
	// DryRun checks every row and works out what would change, and writes
	// nothing.
	DryRun bool
	// BatchSize is how many rows are looked up and written together, in one
	// transaction. Default 5000.
	BatchSize int
	// MaxProblems caps the problems kept in the report (all are counted).
	// Default 1000.
	MaxProblems int
	// Progress, when set, is called after each batch with the number of rows
	// read so far, bad ones included.
	Progress func(rows int)
}

// ImportReport says what an import did (or, for a dry run, would do).
type ImportReport struct {
	Rows      int // records read, bad ones included
	Created   int
	Updated   int // existing accounts (matched by email) brought in line with the file
	Unchanged int // existing accounts that already matched
	Invalid   int // rows refused; see Problems
	// Problems lists the refused rows, in file order, up to MaxProblems.
	Problems []ImportProblem
	// Hashes counts the password hashes by format ("pbkdf2", "bcrypt",
	// "argon2id", "scrypt", and "none" for accounts without a password).
	Hashes   map[string]int
	Duration time.Duration
}

// Import creates and updates users from an import file, a batch at a time.
// It is idempotent: users are matched by email address, so running the same
// file again changes nothing. An existing account gets the username, roles
// and email_verified of its row (its creation time stays), and its password
// hash unless the stored one is argon2id: that is a password set, or a legacy
// hash upgraded at sign-in, in Gatehouse since, and newer than the file.
//
// Every row is checked: the username and address must be valid (the same
// rules as registration), the password hash one that package password can
// verify (Werkzeug pbkdf2 and scrypt, bcrypt, argon2id) or empty, the roles
// must exist, and no address or username may appear twice in the file or
// belong to another account. Bad rows are skipped and reported with their
// line; the rest are imported. Run with DryRun first to see every problem
// before anything is written (the gatehouse command does).
//
// Imported users keep their hashes: they sign in with their old passwords,
// and each hash is replaced by an argon2id one at the first sign-in (see
// Authenticate). No mail is sent and only one audit event is recorded.
func (s *Service) Import(ctx context.Context, r *ImportReader, opts ImportOptions) (*ImportReport, error) {
	start := time.Now()
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 1000
	}
	roles, err := s.cfg.Store.FindRoles(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, r := range roles {
		known[r.Name] = true
	}
	im := &importer{s: s, opts: opts, known: known, rep: &ImportReport{Hashes: map[string]int{}},
		emails: map[string]int{}, names: map[string]int{}}
	var batch []*ImportRecord
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		im.rep.Rows++
		var p *ImportProblem
		if errors.As(err, &p) {
			im.problem(*p)
			continue
		}
		if err != nil {
			return im.rep, fmt.Errorf("read: %w", err)
		}
		if p := im.check(rec); p != nil {
			im.problem(*p)
			continue
		}
		batch = append(batch, rec)
		if len(batch) >= opts.BatchSize {
			if err := im.flush(ctx, batch); err != nil {
				return im.rep, err
			}
			batch = batch[:0]
		}
	}
	if err := im.flush(ctx, batch); err != nil {
		return im.rep, err
	}
	im.rep.Duration = time.Since(start)
	if !opts.DryRun {
		s.cfg.Audit.Record(ctx, auth.EventUsersImported, "", "", map[string]string{
			"rows": strconv.Itoa(im.rep.Rows), "created": strconv.Itoa(im.rep.Created),
			"updated": strconv.Itoa(im.rep.Updated), "invalid": strconv.Itoa(im.rep.Invalid)})
	}
	return im.rep, nil
}

type importer struct {
	s      *Service
	opts   ImportOptions
	known  map[string]bool // existing roles
	rep    *ImportReport
	emails map[string]int // address → line, across the file
	names  map[string]int // lowercase username → line
}

func (im *importer) problem(p ImportProblem) {
	im.rep.Invalid++
	if len(im.rep.Problems) < im.opts.MaxProblems {
		im.rep.Problems = append(im.rep.Problems, p)
	}
}

// check validates one record on its own and against the rest of the file,
// and normalises it.
func (im *importer) check(rec *ImportRecord) *ImportProblem {
	bad := func(field, msg string) *ImportProblem {
		return &ImportProblem{Line: rec.Line, Field: field, Message: msg}
	}
	if msg := auth.ValidateUsername(rec.Username); msg != "" {
		return bad("username", msg)
	}
	rec.Email = auth.NormalizeEmail(rec.Email)
	if msg := auth.ValidateEmail(rec.Email); msg != "" {
		return bad("email", msg)
	}
	format := "none"
	if rec.PasswordHash != "" {
		f, err := password.Identify(rec.PasswordHash)
		if err != nil {
			msg := "is not a hash Gatehouse can verify (Werkzeug pbkdf2 or scrypt, bcrypt, argon2id)"
			if errors.Is(err, password.ErrMalformed) {
				msg = "looks like a supported hash but is malformed or asks for too much work"
			}
			return bad("password_hash", msg)
		}
		format = f
	}
	if len(rec.Roles) == 0 {
		rec.Roles = im.s.cfg.DefaultRoles
	}
	for _, role := range rec.Roles {
		if !im.known[role] {
			return bad("roles", fmt.Sprintf("there is no role %q (create it first: gatehouse has %s)", role, knownList(im.known)))
		}
	}
	rec.Roles = sortedUnique(rec.Roles)
	if prev, dup := im.emails[rec.Email]; dup {
		return bad("email", fmt.Sprintf("%s is also on line %d", rec.Email, prev))
	}
	key := strings.ToLower(rec.Username)
	if prev, dup := im.names[key]; dup {
		return bad("username", fmt.Sprintf("%s is also on line %d", rec.Username, prev))
	}
	im.emails[rec.Email] = rec.Line
	im.names[key] = rec.Line
	rec.format = format
	return nil
}

func knownList(known map[string]bool) string {
	var names []string
	for n := range known {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func sortedUnique(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}

// change is what importing one record does.
type change struct {
	rec    *ImportRecord
	create *auth.User
	id     string          // the account to update
	upd    auth.UserUpdate // for id
	roles  []string        // new roles for id, or nil
}

// flush looks a batch up and writes it, in one transaction. A conflict with a
// user made meanwhile (PostgreSQL, where transactions overlap) retries the
// batch with fresh lookups.
func (im *importer) flush(ctx context.Context, batch []*ImportRecord) error {
	if len(batch) == 0 {
		return nil
	}
	defer func() {
		if im.opts.Progress != nil {
			im.opts.Progress(im.rep.Rows)
		}
	}()
	var (
		changes  []change
		problems []ImportProblem
		accepted []*ImportRecord
		same     int
	)
	plan := func(st auth.Store) error {
		changes, problems, accepted, same = nil, nil, nil, 0
		emails := make([]string, len(batch))
		names := make([]string, len(batch))
		for i, rec := range batch {
			emails[i], names[i] = rec.Email, rec.Username
		}
		byEmail, err := st.FindUsersByEmail(ctx, emails)
		if err != nil {
			return err
		}
		byName, err := st.FindUsersByUsername(ctx, names)
		if err != nil {
			return err
		}
		for _, rec := range batch {
			c, p := im.plan(rec, byEmail[rec.Email], byName[strings.ToLower(rec.Username)])
			switch {
			case p != nil:
				problems = append(problems, *p)
				continue
			case c == nil:
				same++
			default:
				changes = append(changes, *c)
			}
			accepted = append(accepted, rec)
		}
		return nil
	}
	tally := func() {
		for _, p := range problems {
			im.problem(p)
		}
		im.rep.Unchanged += same
		for _, rec := range accepted {
			im.rep.Hashes[rec.format]++
		}
		for _, c := range changes {
			if c.create != nil {
				im.rep.Created++
			} else {
				im.rep.Updated++
			}
		}
	}
	if im.opts.DryRun {
		if err := plan(im.s.cfg.Store); err != nil {
			return err
		}
		tally()
		return nil
	}
	var err error
	for try := 0; try < 3; try++ {
		err = im.s.cfg.Store.InTx(ctx, func(tx auth.Store) error {
			if err := plan(tx); err != nil {
				return err
			}
			var creates []*auth.User
			for _, c := range changes {
				if c.create != nil {
					creates = append(creates, c.create)
				}
			}
			if err := tx.CreateUsers(ctx, creates); err != nil {
				return err
			}
			for _, c := range changes {
				if c.create != nil {
					continue
				}
				if _, err := tx.UpdateUser(ctx, c.id, c.upd); err != nil {
					return err
				}
				if c.roles != nil {
					if err := tx.SetUserRoles(ctx, c.id, c.roles); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if !auth.IsConflict(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("import lines %d to %d: %w", batch[0].Line, batch[len(batch)-1].Line, err)
	}
	tally()
	return nil
}

// plan decides what to do with one record, given the account that has its
// address and the account that has its username (either may be nil): a new
// user, an update, nothing (nil, nil), or a problem.
func (im *importer) plan(rec *ImportRecord, byEmail, byName *auth.User) (*change, *ImportProblem) {
	if byName != nil && (byEmail == nil || byName.ID != byEmail.ID) {
		return nil, &ImportProblem{Line: rec.Line, Field: "username",
			Message: fmt.Sprintf("%s is the username of another account (%s)", rec.Username, byName.Email)}
	}
	if byEmail == nil {
		u := &auth.User{Username: rec.Username, Email: rec.Email, EmailVerified: rec.EmailVerified,
			PasswordHash: rec.PasswordHash, Active: true, Roles: rec.Roles, CreatedAt: rec.CreatedAt}
		if u.CreatedAt.IsZero() {
			u.CreatedAt = im.s.cfg.Now()
		}
		return &change{rec: rec, create: u}, nil
	}
	c := &change{rec: rec, id: byEmail.ID}
	changed := false
	if rec.Username != byEmail.Username {
		c.upd.Username, changed = &rec.Username, true
	}
	if rec.EmailVerified != byEmail.EmailVerified {
		c.upd.EmailVerified, changed = &rec.EmailVerified, true
	}
	if rec.PasswordHash != byEmail.PasswordHash && !strings.HasPrefix(byEmail.PasswordHash, "$argon2id$") {
		c.upd.PasswordHash, changed = &rec.PasswordHash, true
	}
	if !slices.Equal(rec.Roles, sortedUnique(byEmail.Roles)) {
		c.roles, changed = rec.Roles, true
	}
	if !changed {
		return nil, nil
	}
	return c, nil
}
