package oauthlogin

import (
	"errors"
	"testing"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/oidctest"
	"github.com/gatehouse-dev/gatehouse/store"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// apply does what the web layer does with a decision, so that the next
// sign-in sees its effect.
func apply(t *testing.T, s store.Store, c *Claims, d *Decision) *auth.User {
	t.Helper()
	switch d.Outcome {
	case SignUp:
		if err := s.CreateUser(ctx, d.NewUser); err != nil {
			t.Fatalf("CreateUser(%+v) = %v", d.NewUser, err)
		}
		d.Identity.UserID = d.NewUser.ID
		if err := s.CreateIdentity(ctx, d.Identity); err != nil {
			t.Fatalf("CreateIdentity() = %v", err)
		}
		return d.NewUser
	case Link:
		if err := s.CreateIdentity(ctx, d.Identity); err != nil {
			t.Fatalf("CreateIdentity() = %v", err)
		}
	case SignIn:
		if err := s.TouchIdentity(ctx, d.Identity.ID, c.Email, c.EmailVerified, d.Identity.LastLoginAt.Add(1)); err != nil {
			t.Fatalf("TouchIdentity() = %v", err)
		}
	}
	return d.User
}

func TestDecide(t *testing.T) {
	type account struct {
		username, email string
		verified        bool
		// identity links the account to this subject at the provider.
		identity string
	}
	tests := []struct {
		name       string
		accounts   []account
		user       oidctest.User
		trustEmail bool
		want       Outcome
		wantUser   string // the existing account decided on, or the new username
		verified   bool   // for SignUp: the new account's EmailVerified
	}{
		{name: "new user signs up",
			user: oidctest.User{Subject: "1", Email: "alice@example.com", EmailVerified: true, PreferredUsername: "alice"},
			want: SignUp, wantUser: "alice", verified: true},
		{name: "new user with an unverified address signs up unverified",
			user: oidctest.User{Subject: "1", Email: "alice@example.com", EmailVerified: false, PreferredUsername: "alice"},
			want: SignUp, wantUser: "alice", verified: false},
		{name: "taken username gets a number",
			accounts: []account{{username: "alice", email: "someone@example.com", verified: true}},
			user:     oidctest.User{Subject: "1", Email: "alice@example.com", EmailVerified: true, PreferredUsername: "Alice"},
			want:     SignUp, wantUser: "Alice2", verified: true},
		{name: "username from the address when the suggestion is unusable",
			user: oidctest.User{Subject: "1", Email: "j.doe@example.com", EmailVerified: true, PreferredUsername: "李"},
			want: SignUp, wantUser: "j.doe", verified: true},
		{name: "returning user signs in",
			accounts: []account{{username: "alice", email: "alice@example.com", verified: true, identity: "1"}},
			user:     oidctest.User{Subject: "1", Email: "new-address@example.com", EmailVerified: true},
			want:     SignIn, wantUser: "alice"},
		{name: "email collision asks to sign in and link",
			accounts: []account{{username: "alice", email: "alice@example.com", verified: true}},
			user:     oidctest.User{Subject: "1", Email: "Alice@example.com", EmailVerified: true},
			want:     SignInToLink, wantUser: "alice"},
		{name: "TrustEmail links a verified address to a verified account",
			accounts:   []account{{username: "alice", email: "alice@example.com", verified: true}},
			user:       oidctest.User{Subject: "1", Email: "alice@example.com", EmailVerified: true},
			trustEmail: true, want: Link, wantUser: "alice"},
		{name: "TrustEmail never links an unverified provider address (OA-08)",
			accounts:   []account{{username: "alice", email: "alice@example.com", verified: true}},
			user:       oidctest.User{Subject: "1", Email: "alice@example.com", EmailVerified: false},
			trustEmail: true, want: SignInToLink, wantUser: "alice"},
		{name: "TrustEmail never merges into an unverified, maybe pre-registered account (OA-07)",
			accounts:   []account{{username: "squatter", email: "victim@example.com", verified: false}},
			user:       oidctest.User{Subject: "1", Email: "victim@example.com", EmailVerified: true},
			trustEmail: true, want: SignInToLink, wantUser: "squatter"},
		{name: "another subject with the same address does not reach the account (OA-06)",
			accounts:   []account{{username: "alice", email: "alice@example.com", verified: true, identity: "1"}},
			user:       oidctest.User{Subject: "2", Email: "alice@example.com", EmailVerified: false},
			trustEmail: true, want: SignInToLink, wantUser: "alice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := storetest.OpenSQLite(t)
			idp, pc := oidcProvider(t, "corp", oidctest.Options{})
			pc.TrustEmail = tc.trustEmail
			for _, a := range tc.accounts {
				u := &auth.User{Username: a.username, Email: a.email, EmailVerified: a.verified, Active: true, PasswordHash: "$argon2id$x"}
				if err := s.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				if a.identity != "" {
					if err := s.CreateIdentity(ctx, &auth.Identity{UserID: u.ID, Provider: "corp", Issuer: idp.Issuer, Subject: a.identity, Email: a.email}); err != nil {
						t.Fatal(err)
					}
				}
			}
			idp.SetUser(tc.user)
			e := newEnv(t, pc)
			c, err := e.signIn(t, "corp")
			if err != nil {
				t.Fatalf("Finish() = %v", err)
			}
			cfg, _ := e.login.ProviderConfig("corp")
			d, err := Decide(ctx, s, c, cfg)
			if err != nil {
				t.Fatalf("Decide() = %v", err)
			}
			if d.Outcome != tc.want {
				t.Fatalf("Decide() outcome = %s, want %s", d.Outcome, tc.want)
			}
			if d.Identity == nil || d.Identity.Subject != tc.user.Subject || d.Identity.Issuer != idp.Issuer || d.Identity.Provider != "corp" {
				t.Errorf("Decide() identity = %+v, want subject %q at %s", d.Identity, tc.user.Subject, idp.Issuer)
			}
			switch d.Outcome {
			case SignUp:
				if d.User != nil || d.NewUser == nil || d.NewUser.Username != tc.wantUser || d.NewUser.Email != c.Email ||
					d.NewUser.EmailVerified != tc.verified || d.NewUser.PasswordHash != "" {
					t.Errorf("Decide() = %+v, new user %+v; want new user %q, %s, verified %v, no password",
						d, d.NewUser, tc.wantUser, c.Email, tc.verified)
				}
			default:
				if d.NewUser != nil || d.User == nil || d.User.Username != tc.wantUser {
					t.Errorf("Decide() user = %+v, want the existing %q", d.User, tc.wantUser)
				}
			}
			if d.Outcome == Link && d.Identity.UserID != d.User.ID {
				t.Errorf("Link identity user = %q, want %q", d.Identity.UserID, d.User.ID)
			}

			// Whatever was decided and done, the same person signing in
			// again is signed in (or asked again, when nothing was linked).
			u := apply(t, s, c, d)
			c2, err := e.signIn(t, "corp")
			if err != nil {
				t.Fatal(err)
			}
			d2, err := Decide(ctx, s, c2, cfg)
			if err != nil {
				t.Fatal(err)
			}
			switch d.Outcome {
			case SignInToLink:
				if d2.Outcome != SignInToLink {
					t.Errorf("second Decide() = %s, want %s (nothing was linked)", d2.Outcome, SignInToLink)
				}
			default:
				if d2.Outcome != SignIn || d2.User.ID != u.ID {
					t.Errorf("second Decide() = %s as %+v, want %s as %s", d2.Outcome, d2.User, SignIn, u.ID)
				}
			}
		})
	}
}

func TestDecideNeedsAnEmail(t *testing.T) {
	s := storetest.OpenSQLite(t)
	cfg := ProviderConfig{Name: "gh", DisplayName: "GitHub"}
	_, err := Decide(ctx, s, &Claims{Provider: "gh", Issuer: "https://github.com", Subject: "1"}, cfg)
	if !errors.Is(err, ErrNoEmail) || auth.ErrorCode(err) != auth.EValidation {
		t.Errorf("Decide(no email) = %v, want %v with code %s", err, ErrNoEmail, auth.EValidation)
	}
	_, err = Decide(ctx, s, &Claims{Provider: "other", Issuer: "https://github.com", Subject: "1", Email: "a@example.com"}, cfg)
	if auth.ErrorCode(err) != auth.EInternal {
		t.Errorf("Decide(claims of another provider) = %v, want an internal error", err)
	}
}

func TestUsernameBase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"Alice Liddell", "Alice-Liddell"},
		{"j.doe", "j.doe"},
		{"..a..b..", "a.b"},
		{"José Núñez", "Jos-N-ez"},
		{"李", ""},
		{"ab", ""},
		{"a b", "a-b"},
		{"user@example.com", "user-example.com"},
		{"averyveryveryverylongusernamethatgoesonandon", "averyveryveryverylonguserna"},
		{"--x--", ""},
	}
	for _, tc := range tests {
		if got := usernameBase(tc.in); got != tc.want {
			t.Errorf("usernameBase(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := usernameBase(tc.in); got != "" && auth.ValidateUsername(got) != "" {
			t.Errorf("usernameBase(%q) = %q, which is not a valid username", tc.in, got)
		}
	}
}
