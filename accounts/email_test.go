package accounts_test

import (
	"context"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

const publicURL = "https://auth.example.com"

// sessionEnder records RevokeUser calls and ends the sessions in the store.
type sessionEnder struct {
	st auth.SessionStore
	mu sync.Mutex
	by []string
}

func (r *sessionEnder) RevokeUser(ctx context.Context, userID, except, reason string) ([]string, error) {
	r.mu.Lock()
	r.by = append(r.by, userID+": "+reason)
	r.mu.Unlock()
	return r.st.RevokeUserSessions(ctx, userID, except, time.Now().Add(time.Hour))
}

// mailService is a Service with mail on, over a store whose outbox the test
// reads.
type mailService struct {
	*accounts.Service
	st  auth.Store
	clk *clock
	rev *sessionEnder
}

func newMailService(t *testing.T, st auth.Store, tweak func(*accounts.EmailConfig)) *mailService {
	t.Helper()
	clk := newClock()
	outbox, err := mail.NewOutbox(mail.OutboxConfig{PublicURL: publicURL, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	email := accounts.EmailConfig{Outbox: outbox, Login: true}
	if tweak != nil {
		tweak(&email)
	}
	rev := &sessionEnder{st: st}
	svc, err := accounts.New(accounts.Config{Store: st, Hasher: fastHasher(t), Now: clk.Now, Sessions: rev,
		Logger: slog.New(slog.DiscardHandler), Email: email})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return &mailService{Service: svc, st: st, clk: clk, rev: rev}
}

func forEachMailBackend(t *testing.T, tweak func(*accounts.EmailConfig), fn func(t *testing.T, s *mailService)) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, newMailService(t, b.Open(t), tweak)) })
	}
}

// outbox returns the mails to addr in the outbox, oldest first, after the
// queued requests are done.
func (s *mailService) outbox(t *testing.T, addr string) []*auth.OutboxMail {
	t.Helper()
	s.Flush()
	all, err := s.st.FindMails(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []*auth.OutboxMail
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].To == addr {
			out = append(out, all[i])
		}
	}
	return out
}

var secretIn = regexp.MustCompile(`/(gh[a-z]+_[A-Za-z0-9_-]{43})`)

// secret returns the link secret of the latest mail of kind to addr.
func (s *mailService) secret(t *testing.T, addr, kind string) string {
	t.Helper()
	ms := s.outbox(t, addr)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Kind == kind {
			m := secretIn.FindStringSubmatch(ms[i].Text)
			if m == nil {
				t.Fatalf("no link secret in the %s mail:\n%s", kind, ms[i].Text)
			}
			return m[1]
		}
	}
	t.Fatalf("no %s mail to %s", kind, addr)
	return ""
}

func (s *mailService) register(t *testing.T, name string) *auth.User {
	t.Helper()
	u, err := s.Register(context.Background(), accounts.Registration{Username: name, Email: name + "@example.com", Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var ip = netip.MustParseAddr("192.0.2.1")

// blockingStore holds every FindUserByLogin until release is closed, to
// show when the lookup happens.
type blockingStore struct {
	auth.Store
	release chan struct{}
	entered chan string
}

func (b *blockingStore) FindUserByLogin(ctx context.Context, login string) (*auth.User, error) {
	b.entered <- login
	<-b.release
	return b.Store.FindUserByLogin(ctx, login)
}

// The answer to a reset request never waits for the account lookup: it is
// the same work, and the same time, for every address (RS-01).
func TestResetAnswersBeforeLookup(t *testing.T) {
	st := storetest.OpenSQLite(t)
	blocking := &blockingStore{Store: st, release: make(chan struct{}), entered: make(chan string, 10)}
	s := newMailService(t, blocking, nil)
	for _, addr := range []string{"alice@example.com", "nobody@example.com"} {
		done := make(chan error, 1)
		go func() { done <- s.RequestPasswordReset(context.Background(), addr, ip) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("RequestPasswordReset(%s) = %v", addr, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("RequestPasswordReset(%s) waited for the account lookup", addr)
		}
	}
	if got := <-blocking.entered; got != "alice@example.com" && got != "nobody@example.com" {
		t.Errorf("looked up %q", got)
	}
	close(blocking.release)
	s.Flush()
}

// Reset links expire, die when a newer one is sent, and die when the
// password changes; a refused password does not spend one.
func TestResetLinkLifetime(t *testing.T) {
	forEachMailBackend(t, nil, func(t *testing.T, s *mailService) {
		ctx := context.Background()
		u := s.register(t, "alice")
		if err := s.RequestPasswordReset(ctx, "alice@example.com", ip); err != nil {
			t.Fatal(err)
		}
		first := s.secret(t, u.Email, mail.KindPasswordReset)
		s.RequestPasswordReset(ctx, "ALICE@example.com", ip)
		second := s.secret(t, u.Email, mail.KindPasswordReset)
		if first == second {
			t.Fatal("two requests gave the same link")
		}
		if _, err := s.ResetPassword(ctx, first, "a new passphrase for alice"); code(err) != auth.EInvalidToken {
			t.Errorf("the older link = %v, want invalid_token", err)
		}
		if _, err := s.ResetPassword(ctx, second, "alice"); code(err) != auth.EValidation {
			t.Errorf("a refused password = %v, want validation_failed", err)
		}
		s.clk.Add(59 * time.Minute)
		if _, err := s.CheckResetLink(ctx, second); err != nil {
			t.Errorf("the link after 59 minutes = %v, want it still good", err)
		}
		s.clk.Add(2 * time.Minute)
		if _, err := s.ResetPassword(ctx, second, "a new passphrase for alice"); code(err) != auth.EInvalidToken {
			t.Errorf("the link after 61 minutes = %v, want invalid_token", err)
		}

		s.RequestPasswordReset(ctx, "alice@example.com", ip)
		third := s.secret(t, u.Email, mail.KindPasswordReset)
		if err := s.ChangePassword(ctx, u.ID, "correct horse battery staple", "changed while a link was out"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ResetPassword(ctx, third, "a new passphrase for alice"); code(err) != auth.EInvalidToken {
			t.Errorf("a link from before a password change = %v, want invalid_token", err)
		}
		ms := s.outbox(t, u.Email)
		if last := ms[len(ms)-1]; last.Kind != mail.KindPasswordChanged || !strings.Contains(last.Text, publicURL+"/reset-password") {
			t.Errorf("after the change the last mail is %s, want the password_changed notice with a reset link", last.Kind)
		}
	})
}

// A completed reset ends every session of the user.
func TestResetEndsSessions(t *testing.T) {
	s := newMailService(t, storetest.OpenSQLite(t), nil)
	ctx := context.Background()
	u := s.register(t, "alice")
	s.st.CreateSession(ctx, &auth.Session{ID: auth.NewID(), TokenHash: []byte("h1"), UserID: u.ID, CreatedAt: time.Now(), LastSeenAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	s.RequestPasswordReset(ctx, "alice@example.com", ip)
	if _, err := s.ResetPassword(ctx, s.secret(t, u.Email, mail.KindPasswordReset), "a new passphrase for alice"); err != nil {
		t.Fatal(err)
	}
	if sessions, _ := s.st.FindUserSessions(ctx, u.ID); len(sessions) != 0 || len(s.rev.by) != 1 {
		t.Errorf("after the reset: %d sessions, revocations %v; want none left", len(sessions), s.rev.by)
	}
}

// Disabled accounts get no reset mail, and their links stop working.
func TestResetDisabledAccount(t *testing.T) {
	s := newMailService(t, storetest.OpenSQLite(t), nil)
	ctx := context.Background()
	u := s.register(t, "alice")
	s.RequestPasswordReset(ctx, "alice@example.com", ip)
	link := s.secret(t, u.Email, mail.KindPasswordReset)
	no := false
	s.st.UpdateUser(ctx, u.ID, auth.UserUpdate{Active: &no})
	if _, err := s.ResetPassword(ctx, link, "a new passphrase for alice"); code(err) != auth.EInvalidToken {
		t.Errorf("a link of a disabled account = %v, want invalid_token", err)
	}
	before := len(s.outbox(t, u.Email))
	s.RequestPasswordReset(ctx, "alice@example.com", ip)
	if after := len(s.outbox(t, u.Email)); after != before {
		t.Errorf("a disabled account got a reset mail")
	}
}

// The sign-in link and code expire after LoginTTL.
func TestEmailLoginExpiry(t *testing.T) {
	forEachMailBackend(t, nil, func(t *testing.T, s *mailService) {
		ctx := context.Background()
		u := s.register(t, "alice")
		s.RequestEmailLogin(ctx, u.Email, ip)
		link := s.secret(t, u.Email, mail.KindEmailLogin)
		ms := s.outbox(t, u.Email)
		code6 := regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`).FindStringSubmatch(ms[len(ms)-1].Text)[1]
		s.clk.Add(15*time.Minute + time.Second)
		if _, err := s.EmailLoginWithLink(ctx, link); code(err) != auth.EInvalidToken {
			t.Errorf("the link after 15 minutes = %v, want invalid_token", err)
		}
		if _, err := s.EmailLoginWithCode(ctx, u.Email, code6); code(err) != auth.EInvalidToken {
			t.Errorf("the code after 15 minutes = %v, want invalid_token", err)
		}
	})
}

// Sign-in by email can be off; then every entry point is not_found.
func TestEmailLoginOff(t *testing.T) {
	s := newMailService(t, storetest.OpenSQLite(t), func(c *accounts.EmailConfig) { c.Login = false })
	ctx := context.Background()
	if err := s.RequestEmailLogin(ctx, "a@example.com", ip); code(err) != auth.ENotFound {
		t.Errorf("RequestEmailLogin = %v, want not_found", err)
	}
	if _, err := s.EmailLoginWithCode(ctx, "a@example.com", "123456"); code(err) != auth.ENotFound {
		t.Errorf("EmailLoginWithCode = %v, want not_found", err)
	}
}

// Close finishes the queued requests: their mails are in the outbox.
func TestCloseFinishesQueuedRequests(t *testing.T) {
	s := newMailService(t, storetest.OpenSQLite(t), nil)
	u := s.register(t, "alice")
	for range 20 {
		s.RequestPasswordReset(context.Background(), "alice@example.com", ip)
	}
	s.Close()
	n := 0
	for _, m := range s.outbox(t, u.Email) {
		if m.Kind == mail.KindPasswordReset {
			n++
		}
	}
	if n != 20 {
		t.Errorf("%d reset mails after Close, want 20", n)
	}
	if err := s.RequestPasswordReset(context.Background(), "alice@example.com", ip); err != nil {
		t.Errorf("a request after Close = %v, want nil (dropped, same answer)", err)
	}
}

// Required verification without a way to send the link is a configuration
// mistake.
func TestRequiredVerificationNeedsMail(t *testing.T) {
	_, err := accounts.New(accounts.Config{Store: storetest.OpenSQLite(t), Hasher: fastHasher(t),
		Email: accounts.EmailConfig{Verification: accounts.VerifyRequired}})
	if err == nil {
		t.Error("New(required verification, no outbox) = nil, want an error")
	}
}
