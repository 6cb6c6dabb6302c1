package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/store"
)

func enqueue(t *testing.T, s auth.OutboxStore, to string, at time.Time) *auth.OutboxMail {
	t.Helper()
	m := &auth.OutboxMail{To: to, Subject: "Subject for " + to, Text: "text", HTML: "<p>html</p>", Kind: "test", CreatedAt: at}
	if err := s.EnqueueMail(ctx, m); err != nil {
		t.Fatalf("EnqueueMail(%q) = %v", to, err)
	}
	return m
}

func claimedIDs(ms []*auth.OutboxMail) []int64 {
	ids := []int64{}
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func testOutboxSend(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	a := enqueue(t, s, "a@example.com", t0)
	b := enqueue(t, s, "b@example.com", t0.Add(time.Second))
	if a.ID == 0 || b.ID <= a.ID {
		t.Fatalf("IDs = %d, %d; want increasing non-zero IDs", a.ID, b.ID)
	}
	if !b.NextAttemptAt.Equal(b.CreatedAt) {
		t.Errorf("NextAttemptAt = %v, want CreatedAt %v", b.NextAttemptAt, b.CreatedAt)
	}
	wantCode(t, "EnqueueMail(no recipient)", s.EnqueueMail(ctx, &auth.OutboxMail{Subject: "x"}), auth.EValidation)

	if n, err := s.CountPendingMails(ctx); err != nil || n != 2 {
		t.Errorf("CountPendingMails() = %d, %v; want 2", n, err)
	}
	// Only a is due at t0.
	got, err := s.ClaimMails(ctx, t0, time.Minute, 10)
	if err != nil {
		t.Fatalf("ClaimMails() = %v", err)
	}
	want := []*auth.OutboxMail{{ID: a.ID, To: a.To, Subject: a.Subject, Text: a.Text, HTML: a.HTML, Kind: a.Kind,
		CreatedAt: t0.Truncate(time.Microsecond), NextAttemptAt: t0.Add(time.Minute).Truncate(time.Microsecond), Attempts: 1}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ClaimMails(t0) mismatch (-want +got):\n%s", d)
	}
	sent := t0.Add(2 * time.Second)
	if err := s.MarkMailSent(ctx, a.ID, sent); err != nil {
		t.Fatalf("MarkMailSent() = %v", err)
	}
	wantCode(t, "MarkMailSent(missing)", s.MarkMailSent(ctx, 999999, sent), auth.ENotFound)
	wantCode(t, "MarkMailFailed(sent)", s.MarkMailFailed(ctx, a.ID, "late", sent, false), auth.ENotFound)

	// Long after, only b is left to claim: a sent mail is never claimed again.
	got, err = s.ClaimMails(ctx, t0.Add(time.Hour), time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != b.ID {
		t.Fatalf("ClaimMails(later) = %v, %v; want only b (%d)", claimedIDs(got), err, b.ID)
	}
	if n, _ := s.CountPendingMails(ctx); n != 1 {
		t.Errorf("CountPendingMails() = %d, want 1", n)
	}

	all, err := s.FindMails(ctx, 0)
	if err != nil || len(all) != 2 {
		t.Fatalf("FindMails() = %d mails, %v; want 2", len(all), err)
	}
	if all[0].ID != b.ID || all[1].ID != a.ID {
		t.Errorf("FindMails() order = %v, want newest first [%d %d]", claimedIDs(all), b.ID, a.ID)
	}
	if all[1].SentAt == nil || !all[1].SentAt.Equal(sent.Truncate(time.Microsecond)) || all[1].LastError != "" {
		t.Errorf("sent mail = SentAt %v, LastError %q; want %v and no error", all[1].SentAt, all[1].LastError, sent)
	}
	if one, _ := s.FindMails(ctx, 1); len(one) != 1 || one[0].ID != b.ID {
		t.Errorf("FindMails(1) = %v, want [%d]", claimedIDs(one), b.ID)
	}
}

func testOutboxLease(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := enqueue(t, s, "lease@example.com", t0)
	for _, tc := range []struct {
		name string
		at   time.Duration // after t0
		want []int64
	}{
		{"due", 0, []int64{m.ID}},
		{"leased", 30 * time.Second, []int64{}},
		{"lease ends", time.Minute - time.Microsecond, []int64{}},
		{"lease over", time.Minute, []int64{m.ID}},
		{"leased again", time.Minute + time.Second, []int64{}},
	} {
		got, err := s.ClaimMails(ctx, t0.Add(tc.at), time.Minute, 10)
		if err != nil {
			t.Fatalf("%s: ClaimMails() = %v", tc.name, err)
		}
		if d := cmp.Diff(tc.want, claimedIDs(got)); d != "" {
			t.Errorf("%s: ClaimMails(t0+%v) mismatch (-want +got):\n%s", tc.name, tc.at, d)
		}
	}
	all, _ := s.FindMails(ctx, 10)
	if all[0].Attempts != 2 {
		t.Errorf("Attempts after two claims = %d, want 2", all[0].Attempts)
	}
	// A limit takes the oldest due first.
	for i := range 3 {
		enqueue(t, s, fmt.Sprintf("limit%d@example.com", i), t0.Add(time.Duration(i)*time.Second))
	}
	got, err := s.ClaimMails(ctx, t0.Add(time.Hour), time.Minute, 2)
	if err != nil || len(got) != 2 || got[0].To != "limit0@example.com" || got[1].To != "limit1@example.com" {
		t.Errorf("ClaimMails(limit 2) = %v, %v; want limit0 and limit1", got, err)
	}
	if got, _ := s.ClaimMails(ctx, t0.Add(time.Hour), time.Minute, 0); len(got) != 0 {
		t.Errorf("ClaimMails(limit 0) = %v, want none", claimedIDs(got))
	}
}

func testOutboxBackoff(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := enqueue(t, s, "backoff@example.com", t0)
	if _, err := s.ClaimMails(ctx, t0, time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	next := t0.Add(5 * time.Minute)
	if err := s.MarkMailFailed(ctx, m.ID, "451 try again later", next, false); err != nil {
		t.Fatalf("MarkMailFailed() = %v", err)
	}
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{t0.Add(2 * time.Minute), 0}, // the lease is over, the back-off is not
		{next.Add(-time.Microsecond), 0},
		{next, 1},
	} {
		got, err := s.ClaimMails(ctx, tc.at, time.Minute, 10)
		if err != nil || len(got) != tc.want {
			t.Errorf("ClaimMails(%v) = %d mails, %v; want %d", tc.at, len(got), err, tc.want)
		}
		if len(got) == 1 && (got[0].LastError != "451 try again later" || got[0].Attempts != 2) {
			t.Errorf("claimed after failure: LastError %q, Attempts %d; want the error and 2", got[0].LastError, got[0].Attempts)
		}
	}
	// A long error is cut, even in the middle of a character, and still stored.
	long := strings.Repeat("x", 999) + "é" + strings.Repeat("y", 5000)
	if err := s.MarkMailFailed(ctx, m.ID, long, next, false); err != nil {
		t.Errorf("MarkMailFailed(long error) = %v", err)
	}

	// Given up: never claimed again, not pending, and removed by retention.
	gaveUp := t0.Add(24 * time.Hour)
	if err := s.MarkMailFailed(ctx, m.ID, "550 no such user", gaveUp, true); err != nil {
		t.Fatalf("MarkMailFailed(give up) = %v", err)
	}
	if got, _ := s.ClaimMails(ctx, t0.Add(48*time.Hour), time.Minute, 10); len(got) != 0 {
		t.Errorf("ClaimMails() after giving up = %v, want none", claimedIDs(got))
	}
	if n, _ := s.CountPendingMails(ctx); n != 0 {
		t.Errorf("CountPendingMails() after giving up = %d, want 0", n)
	}
	all, _ := s.FindMails(ctx, 10)
	if all[0].GaveUpAt == nil || !all[0].GaveUpAt.Equal(gaveUp) || all[0].SentAt != nil {
		t.Errorf("given-up mail: GaveUpAt %v, SentAt %v; want %v and nil", all[0].GaveUpAt, all[0].SentAt, gaveUp)
	}
	wantCode(t, "MarkMailFailed(missing)", s.MarkMailFailed(ctx, 999999, "x", next, false), auth.ENotFound)
}

func testOutboxRetention(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old := enqueue(t, s, "old@example.com", t0)
	recent := enqueue(t, s, "recent@example.com", t0)
	abandoned := enqueue(t, s, "abandoned@example.com", t0)
	pending := enqueue(t, s, "pending@example.com", t0)
	if err := s.MarkMailSent(ctx, old.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkMailSent(ctx, recent.ID, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkMailFailed(ctx, abandoned.ID, "gone", t0.Add(time.Hour), true); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteSentMailsBefore(ctx, t0.Add(2*time.Hour))
	if err != nil || n != 2 {
		t.Errorf("DeleteSentMailsBefore() = %d, %v; want 2", n, err)
	}
	all, _ := s.FindMails(ctx, 10)
	if d := cmp.Diff([]int64{pending.ID, recent.ID}, claimedIDs(all)); d != "" {
		t.Errorf("mails after retention mismatch (-want +got):\n%s", d)
	}
}

func testOutboxClaimRace(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const mails = 40
	for i := range mails {
		enqueue(t, s, fmt.Sprintf("race%d@example.com", i), t0)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimMails(ctx, t0, time.Minute, 3)
				if err != nil {
					t.Errorf("ClaimMails() = %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != mails {
		t.Errorf("5 concurrent claimers took %d distinct mails, want %d", len(seen), mails)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("mail %d claimed %d times, want once", id, n)
		}
	}
}

func testOutboxInTx(t *testing.T, s store.Store) {
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx auth.Store) error {
		if err := tx.EnqueueMail(ctx, &auth.OutboxMail{To: "tx@example.com", Subject: "s", Text: "t"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx() = %v, want the function's error", err)
	}
	if n, _ := s.CountPendingMails(ctx); n != 0 {
		t.Errorf("pending mails after rollback = %d, want 0", n)
	}
	err = s.InTx(ctx, func(tx auth.Store) error {
		return tx.EnqueueMail(ctx, &auth.OutboxMail{To: "tx@example.com", Subject: "s", Text: "t"})
	})
	if err != nil {
		t.Fatalf("InTx(commit) = %v", err)
	}
	if n, _ := s.CountPendingMails(ctx); n != 1 {
		t.Errorf("pending mails after commit = %d, want 1", n)
	}
}
