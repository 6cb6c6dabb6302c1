package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

const auditAbout = `Prints the latest events of the audit log, oldest first: sign-ins and their
failures, sign-outs, password, role and account changes, API keys. Each line
has the time (UTC), the event, who acted, whose account it concerns, the
client's IP address and the details. With --follow it then prints new events
as they happen, checking every second, until interrupted (Ctrl+C).`

// auditPoll is how often tail --follow looks for new events.
const auditPoll = time.Second

// auditSlack is how far back each poll of tail --follow looks behind the
// newest event it has printed, so that an event another node committed a
// little out of order is still printed (once: printed IDs are remembered for
// this long).
const auditSlack = 10 * time.Second

// auditTailFlags makes 'gatehouse audit tail'.
func auditTailFlags(fs *flag.FlagSet) action {
	follow := fs.Bool("follow", false, "keep printing new events until interrupted")
	user := fs.String("user", "", "only events by or about this user (an ID, a username or an email)")
	typ := fs.String("type", "", "only events of this type, such as login.failed")
	n := fs.Int("n", 20, "print the latest `N` events first (1 to 1000)")
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	return func(ctx context.Context, args []string, e *env) error {
		g, err := openForCLI(args, fs, e)
		if err != nil {
			return err
		}
		defer g.Close()
		if *n < 1 || *n > 1000 {
			return &usageError{"-n must be between 1 and 1000"}
		}
		st := g.Store()
		f := auth.EventFilter{Type: *typ}
		if *user != "" {
			if f.UserID, err = auditUserID(ctx, st, *user); err != nil {
				return err
			}
		}

		p := &eventPrinter{w: e.stdout, json: *asJSON, st: st, names: map[string]string{}, color: newPainter(e.stdout, e.lookupEnv)}
		latest, err := latestEvents(ctx, st, f, *n)
		if err != nil {
			return cliError(err)
		}
		if err := p.print(ctx, latest); err != nil {
			return err
		}
		if !*follow {
			return nil
		}

		// Follow: every poll reads what is newer than the newest event printed
		// (less the slack) and prints what it has not printed yet.
		seen := map[int64]time.Time{}
		var newest time.Time
		for _, ev := range latest {
			seen[ev.ID] = ev.CreatedAt
			newest = maxTime(newest, ev.CreatedAt)
		}
		if newest.IsZero() {
			newest = time.Now()
		}
		tick := time.NewTicker(auditPoll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			since := newest.Add(-auditSlack)
			evs, err := eventsSince(ctx, st, f, since)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				return cliError(err)
			}
			var fresh []*auth.Event
			for _, ev := range evs {
				if _, ok := seen[ev.ID]; !ok {
					fresh = append(fresh, ev)
					seen[ev.ID] = ev.CreatedAt
					newest = maxTime(newest, ev.CreatedAt)
				}
			}
			if err := p.print(ctx, fresh); err != nil {
				return err
			}
			for id, at := range seen {
				if at.Before(since.Add(-auditSlack)) {
					delete(seen, id)
				}
			}
		}
	}
}

// latestEvents returns the latest n events that match f, oldest first.
func latestEvents(ctx context.Context, st auth.AuditStore, f auth.EventFilter, n int) ([]*auth.Event, error) {
	var out []*auth.Event
	for len(out) < n {
		f.Offset, f.Limit = len(out), min(500, n-len(out))
		page, _, err := st.FindEvents(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < f.Limit {
			break
		}
	}
	slices.Reverse(out)
	return out, nil
}

// eventsSince returns every event that matches f created at or after since,
// oldest first.
func eventsSince(ctx context.Context, st auth.AuditStore, f auth.EventFilter, since time.Time) ([]*auth.Event, error) {
	f.Since = since
	var out []*auth.Event
	for {
		f.Offset, f.Limit = len(out), 500
		page, _, err := st.FindEvents(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < f.Limit {
			break
		}
	}
	slices.Reverse(out)
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// auditUserID finds the user whose events to show by ID, username or email.
// An ID that no account has any more is taken as it is: the account is gone,
// but its events stay in the log.
func auditUserID(ctx context.Context, st auth.UserStore, ref string) (string, error) {
	u, err := st.FindUserByID(ctx, ref)
	if auth.IsNotFound(err) {
		u, err = st.FindUserByLogin(ctx, ref)
	}
	switch {
	case err == nil:
		return u.ID, nil
	case auth.IsNotFound(err) && looksLikeID(ref):
		return ref, nil
	case auth.IsNotFound(err):
		return "", fmt.Errorf("no user %q", ref)
	}
	return "", err
}

// looksLikeID reports whether s has the shape of a Gatehouse ID: 26
// characters of lowercase base32.
func looksLikeID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// eventPrinter writes events as aligned lines, or as JSON lines.
type eventPrinter struct {
	w       io.Writer
	json    bool
	st      auth.UserStore
	names   map[string]string // user ID → username, "" for an account that is gone
	color   painter
	started bool
	width   int // of the event column, once the header is printed
}

// auditEventTypes are the event types Gatehouse records (package auth). The
// event column is as wide as the longest of them, so that the columns line up
// whatever events a batch holds, and do not move under --follow when a long
// one comes in. TestAuditEventTypesComplete keeps the list in step with auth.
var auditEventTypes = []string{
	auth.EventUserRegistered, auth.EventLoginSucceeded, auth.EventLoginFailed, auth.EventLogout,
	auth.EventSessionRevoked, auth.EventPasswordChanged, auth.EventPasswordUpgraded,
	auth.EventRefreshTokenReused, auth.EventAdminCreatedBySetup, auth.EventAccessDenied,
	auth.EventRoleChanged, auth.EventAccountDisabled, auth.EventAccountEnabled,
	auth.EventAccountDeleted, auth.EventEmailVerified, auth.EventSessionsRevoked,
	auth.EventAPIKeyCreated, auth.EventAPIKeyRevoked, auth.EventRoleCreated, auth.EventRoleDeleted,
	auth.EventPasswordResetRequested, auth.EventPasswordReset, auth.EventVerificationSent,
	auth.EventEmailChangeRequested, auth.EventEmailChanged, auth.EventEmailLoginRequested,
	auth.EventEmailCodeFailed, auth.EventUsersImported, auth.EventIdentityLinked,
	auth.EventIdentityUnlinked, auth.EventTOTPEnabled, auth.EventTOTPDisabled, auth.EventTOTPReset,
	auth.EventRecoveryCodesRenewed, auth.EventMFARequired, auth.EventMFAVerified, auth.EventMFAFailed,
	auth.EventReauthenticated, auth.EventPasskeyRegistered, auth.EventPasskeyRenamed,
	auth.EventPasskeyRemoved, auth.EventPasskeyCloneWarning,
}

// auditLine lays out a line's columns; a longer value pushes the rest along
// rather than being cut. The event's column is padded by the printer, to
// eventWidth, so that its colour does not count towards the width.
const auditLine = "%-20s  %s  %-16s  %-16s  %-15s  %s"

// eventWidth is the width of the event column for a batch: the longest known
// event type, or the longest type in the batch when that is longer (a type
// this binary does not know yet, recorded by a newer server).
func eventWidth(events []*auth.Event) int {
	w := 0
	for _, t := range auditEventTypes {
		w = max(w, len(t))
	}
	for _, ev := range events {
		w = max(w, len(ev.Type))
	}
	return w
}

func (p *eventPrinter) print(ctx context.Context, events []*auth.Event) error {
	if p.json {
		enc := json.NewEncoder(p.w)
		for _, ev := range events {
			if err := enc.Encode(ev); err != nil {
				return err
			}
		}
		return nil
	}
	// Under --follow an unknown, longer type widens the column from its line
	// on; the header is not printed again.
	p.width = max(p.width, eventWidth(events))
	if !p.started {
		p.started = true
		fmt.Fprintln(p.w, p.color.paint(bold, fmt.Sprintf(auditLine, "TIME", p.color.pad("", "EVENT", p.width), "ACTOR", "TARGET", "IP", "DETAILS")))
	}
	for _, ev := range events {
		actor, err := p.name(ctx, ev.ActorID)
		if err != nil {
			return err
		}
		target, err := p.name(ctx, ev.TargetID)
		if err != nil {
			return err
		}
		ip := ev.IP
		if ip == "" {
			ip = "-"
		}
		event := p.color.pad(eventStyle(ev.Type), ev.Type, p.width)
		line := fmt.Sprintf(auditLine, ev.CreatedAt.UTC().Format(time.RFC3339), event, actor, target, ip, details(ev.Data))
		if _, err := fmt.Fprintln(p.w, strings.TrimRight(line, " ")); err != nil {
			return err
		}
	}
	return nil
}

// name is a user's username, or their ID once the account is gone, or "-"
// for nobody (such as the command line, or a sign-in for no account).
func (p *eventPrinter) name(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "-", nil
	}
	n, ok := p.names[id]
	if !ok {
		u, err := p.st.FindUserByID(ctx, id)
		switch {
		case auth.IsNotFound(err):
		case err != nil:
			return "", err
		default:
			n = u.Username
		}
		p.names[id] = n
	}
	if n == "" {
		return id, nil
	}
	return n, nil
}

// details writes an event's data as key=value pairs, sorted by key, with
// values quoted where they hold spaces or quotes.
func details(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := data[k]
		if v == "" || strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}
