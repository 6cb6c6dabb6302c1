package totp

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

var ctx = context.Background()

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	svc   *Service
	store store.Store
	clock *clock
	alice *auth.User
}

func newFixture(t *testing.T, open func(testing.TB) store.Store) *fixture {
	t.Helper()
	s := open(t)
	key, err := masterkey.New("0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)}
	svc, err := New(Config{Store: s, Sealer: key, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	alice := &auth.User{Username: "alice", Email: "alice@example.com", Active: true}
	if err := s.CreateUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, store: s, clock: c, alice: alice}
}

// enable turns TOTP on for alice and returns the secret and recovery codes.
func (f *fixture) enable(t *testing.T) (string, []string) {
	t.Helper()
	e, err := f.svc.BeginEnrollment(ctx, f.alice)
	if err != nil {
		t.Fatalf("BeginEnrollment() = %v", err)
	}
	codes, err := f.svc.ConfirmEnrollment(ctx, f.alice, codeAt(t, e.Secret, f.clock.Now()))
	if err != nil {
		t.Fatalf("ConfirmEnrollment() = %v", err)
	}
	return e.Secret, codes
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if want == nil && got != nil || want != nil && !errors.Is(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func forEachBackend(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, newFixture(t, b.Open)) })
	}
}

func TestEnrollment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		if on, err := f.svc.Enabled(ctx, f.alice.ID); on || err != nil {
			t.Errorf("Enabled() before enrolment = %v, %v; want false", on, err)
		}
		_, err := f.svc.ConfirmEnrollment(ctx, f.alice, "123456")
		wantErr(t, "ConfirmEnrollment(nothing started)", err, ErrNoEnrollment)

		first, err := f.svc.BeginEnrollment(ctx, f.alice)
		if err != nil {
			t.Fatalf("BeginEnrollment() = %v", err)
		}
		e, err := f.svc.BeginEnrollment(ctx, f.alice) // starting again replaces the first
		if err != nil {
			t.Fatalf("BeginEnrollment(again) = %v", err)
		}
		if e.Secret == first.Secret || e.URI == "" || e.QRCode == "" {
			t.Fatalf("second enrolment = %+v; want a new secret, a URI and a QR code", e)
		}
		if on, _ := f.svc.Enabled(ctx, f.alice.ID); on {
			t.Error("Enabled() before confirmation = true, want false")
		}
		now := f.clock.Now()
		_, err = f.svc.ConfirmEnrollment(ctx, f.alice, codeAt(t, first.Secret, now))
		wantErr(t, "ConfirmEnrollment(code of the replaced secret)", err, ErrEnrollmentCode)
		if got := auth.ErrorCode(err); got != auth.EValidation {
			t.Errorf("ConfirmEnrollment(wrong code) code = %q, want %q", got, auth.EValidation)
		}
		codes, err := f.svc.ConfirmEnrollment(ctx, f.alice, codeAt(t, e.Secret, now))
		if err != nil {
			t.Fatalf("ConfirmEnrollment() = %v", err)
		}
		if len(codes) != auth.RecoveryCodeCount {
			t.Errorf("ConfirmEnrollment() gave %d recovery codes, want %d", len(codes), auth.RecoveryCodeCount)
		}
		if on, err := f.svc.Enabled(ctx, f.alice.ID); !on || err != nil {
			t.Errorf("Enabled() after confirmation = %v, %v; want true", on, err)
		}
		if n, _ := f.svc.RecoveryCodesLeft(ctx, f.alice.ID); n != auth.RecoveryCodeCount {
			t.Errorf("RecoveryCodesLeft() = %d, want %d", n, auth.RecoveryCodeCount)
		}
		// The code that confirmed does not also sign in.
		wantErr(t, "Verify(the confirming code)", f.svc.Verify(ctx, f.alice.ID, codeAt(t, e.Secret, now)), ErrWrongCode)

		_, err = f.svc.BeginEnrollment(ctx, f.alice)
		wantErr(t, "BeginEnrollment(while on)", err, ErrAlreadyEnabled)
		_, err = f.svc.ConfirmEnrollment(ctx, f.alice, codeAt(t, e.Secret, now))
		wantErr(t, "ConfirmEnrollment(while on)", err, ErrAlreadyEnabled)
	})
}

func TestEnrollmentExpires(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		e, err := f.svc.BeginEnrollment(ctx, f.alice)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(16 * time.Minute)
		_, err = f.svc.ConfirmEnrollment(ctx, f.alice, codeAt(t, e.Secret, f.clock.Now()))
		wantErr(t, "ConfirmEnrollment(after 16 minutes)", err, ErrNoEnrollment)
	})
}

func TestVerifyAcceptsEachCodeOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		secret, _ := f.enable(t)
		t0 := f.clock.Now()
		steps := []struct {
			name    string
			advance time.Duration
			codeAt  time.Duration // relative to t0
			want    error
		}{
			{"next step's code, early", 0, 30 * time.Second, nil},
			{"the same code again", 0, 30 * time.Second, ErrWrongCode},
			{"the same code, later in its window", 40 * time.Second, 30 * time.Second, ErrWrongCode},
			{"an earlier step's code", 0, 0, ErrWrongCode},
			{"the current step's code", 30 * time.Second, 70 * time.Second, nil},
			{"two steps ahead", 0, 130 * time.Second, ErrWrongCode},
			{"a wrong code", 0, 0, ErrWrongCode},
		}
		for _, st := range steps {
			f.clock.Add(st.advance)
			code := codeAt(t, secret, t0.Add(st.codeAt))
			if st.name == "a wrong code" {
				code = "000000"
				if code == codeAt(t, secret, f.clock.Now()) {
					code = "000001"
				}
			}
			wantErr(t, "Verify("+st.name+")", f.svc.Verify(ctx, f.alice.ID, code), st.want)
		}
	})
}

func TestVerifyConcurrentSameCode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		secret, _ := f.enable(t)
		f.clock.Add(30 * time.Second)
		code := codeAt(t, secret, f.clock.Now())
		var wins, wrong atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch err := f.svc.Verify(ctx, f.alice.ID, code); {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, ErrWrongCode):
					wrong.Add(1)
				default:
					t.Errorf("Verify() = %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || wrong.Load() != 9 {
			t.Errorf("10 concurrent Verify(same code): %d accepted, %d refused; want 1 and 9", wins.Load(), wrong.Load())
		}
	})
}

func TestRecoveryCodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		_, codes := f.enable(t)
		tests := []struct {
			name string
			code string
			want error
		}{
			{"a recovery code", codes[0], nil},
			{"the same code again", codes[0], ErrWrongCode},
			{"another, typed loosely", " " + upper(codes[1]) + " ", nil},
			{"a made-up code", "aaaa-bbbb-cccc", ErrWrongCode},
			{"too short", "aaaa-bbbb", ErrWrongCode},
			{"empty", "", ErrWrongCode},
		}
		for _, tc := range tests {
			wantErr(t, "Verify("+tc.name+")", f.svc.Verify(ctx, f.alice.ID, tc.code), tc.want)
		}
		if n, _ := f.svc.RecoveryCodesLeft(ctx, f.alice.ID); n != 8 {
			t.Errorf("RecoveryCodesLeft() = %d, want 8", n)
		}
		// New codes replace the rest.
		fresh, err := f.svc.RegenerateRecoveryCodes(ctx, f.alice.ID, codes[2])
		if err != nil {
			t.Fatalf("RegenerateRecoveryCodes() = %v", err)
		}
		wantErr(t, "Verify(an old, unused code)", f.svc.Verify(ctx, f.alice.ID, codes[3]), ErrWrongCode)
		wantErr(t, "Verify(a new code)", f.svc.Verify(ctx, f.alice.ID, fresh[0]), nil)
		_, err = f.svc.RegenerateRecoveryCodes(ctx, f.alice.ID, "")
		wantErr(t, "RegenerateRecoveryCodes(no code)", err, ErrWrongCode)
	})
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestDisableNeedsACode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f *fixture) {
		wantErr(t, "Disable(TOTP off)", f.svc.Disable(ctx, f.alice.ID, "123456"), ErrNotEnabled)
		secret, codes := f.enable(t)
		for _, code := range []string{"", "000000x", "aaaa-bbbb-cccc"} {
			wantErr(t, "Disable("+code+")", f.svc.Disable(ctx, f.alice.ID, code), ErrWrongCode)
		}
		if on, _ := f.svc.Enabled(ctx, f.alice.ID); !on {
			t.Fatal("a refused Disable turned TOTP off")
		}
		f.clock.Add(30 * time.Second)
		if err := f.svc.Disable(ctx, f.alice.ID, codeAt(t, secret, f.clock.Now())); err != nil {
			t.Fatalf("Disable(current code) = %v", err)
		}
		if on, _ := f.svc.Enabled(ctx, f.alice.ID); on {
			t.Error("Enabled() after Disable = true")
		}
		if n, _ := f.svc.RecoveryCodesLeft(ctx, f.alice.ID); n != 0 {
			t.Errorf("RecoveryCodesLeft() after Disable = %d, want 0", n)
		}
		wantErr(t, "Verify(after Disable)", f.svc.Verify(ctx, f.alice.ID, codes[0]), ErrNotEnabled)

		// A recovery code works for turning it off too.
		_, codes = f.enable(t)
		if err := f.svc.Disable(ctx, f.alice.ID, codes[4]); err != nil {
			t.Errorf("Disable(recovery code) = %v", err)
		}
	})
}

// A sealed secret is bound to its user: copied to another user's row, it
// does not open, and the code check fails closed.
func TestSealedSecretBoundToUser(t *testing.T) {
	f := newFixture(t, storetest.Backends[0].Open)
	secret, _ := f.enable(t)
	mallory := &auth.User{Username: "mallory", Email: "mallory@example.com", Active: true}
	if err := f.store.CreateUser(ctx, mallory); err != nil {
		t.Fatal(err)
	}
	sec, err := f.store.FindTOTP(ctx, f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.SaveTOTP(ctx, &auth.TOTPSecret{UserID: mallory.ID, Sealed: sec.Sealed}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.ConfirmTOTP(ctx, mallory.ID, 0, nil, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(30 * time.Second)
	err = f.svc.Verify(ctx, mallory.ID, codeAt(t, secret, f.clock.Now()))
	if got := auth.ErrorCode(err); got != auth.EInternal {
		t.Errorf("Verify(secret copied from another user) = %v; want an internal error", err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	key, _ := masterkey.New("0123456789abcdef0123456789abcdef")
	s := storetest.OpenSQLite(t)
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"complete", Config{Store: s, Sealer: key}, true},
		{"no store", Config{Sealer: key}, false},
		{"no sealer", Config{Store: s}, false},
	}
	for _, tc := range tests {
		if _, err := New(tc.cfg); (err == nil) != tc.ok {
			t.Errorf("New(%s) error = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
