package oauthlogin

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Store is what Decide reads: identities and users. auth.Store implements it.
type Store interface {
	FindIdentity(ctx context.Context, provider, issuer, subject string) (*auth.Identity, error)
	FindUserByID(ctx context.Context, id string) (*auth.User, error)
	FindUserByLogin(ctx context.Context, login string) (*auth.User, error)
}

// Outcome is what a sign-in through a provider leads to.
type Outcome string

// Outcomes of Decide; see the package documentation for when each applies.
const (
	// SignIn: the identity is linked to Decision.User. Check that the user
	// is active, ask for a second factor if they have one, record the
	// sign-in with TouchIdentity, and start a session.
	SignIn Outcome = "sign_in"
	// SignUp: make Decision.NewUser (no password; give it the default
	// roles, as the account service does), then link Decision.Identity to
	// it. If the username was taken in the meantime (EConflict), call
	// Decide again for another.
	SignUp Outcome = "sign_up"
	// Link: link Decision.Identity (its UserID set) to Decision.User and
	// sign in as for SignIn. Tell the user by email that a provider was
	// linked (OA-10).
	Link Outcome = "link"
	// SignInToLink: an account has the address but may not be merged into
	// without proof. Create nothing; ask the user to sign in to that
	// account the way they can (or reset its password), then link the
	// provider from the account page.
	SignInToLink Outcome = "sign_in_to_link"
)

// Decision is what Decide decided.
type Decision struct {
	// Outcome says what to do; the other fields are its operands.
	Outcome Outcome
	// User is the existing account: for SignIn, Link and SignInToLink. For
	// SignInToLink, do not show who it is: only the provider's word about an
	// address connects the person to it.
	User *auth.User
	// Identity is the stored identity for SignIn; for SignUp and Link, the
	// identity to create (UserID empty for SignUp until the account exists).
	// For SignInToLink it is what would be linked, for display only.
	Identity *auth.Identity
	// NewUser is the account to create for SignUp: a unique username (as of
	// the decision), the provider's address, and EmailVerified only if the
	// provider said so. Not stored yet.
	NewUser *auth.User
}

// Decide works out what a sign-in through a provider leads to: signing in an
// existing user, making an account, linking to an existing account, or
// asking the user to sign in first. It only reads the store.
//
// The identity is looked up by (provider, issuer, subject) alone: another
// outside account that shows the same address never reaches the user (OA-06).
// An existing account with the address is linked to without asking only when
// cfg.TrustEmail is set, the provider says the address is verified, and the
// account's own address is verified; otherwise the user must prove they own
// the account first (OA-07, OA-08).
//
// An account made here from an unverified provider address has
// EmailVerified false, like one registered with a password. When that
// mailbox is later proved (a verification link, a password reset), the
// caller should drop the identities on the account whose EmailVerified is
// false, or ask the user about them: they were linked on the provider's
// word alone.
func Decide(ctx context.Context, s Store, c *Claims, cfg ProviderConfig) (*Decision, error) {
	if c == nil || c.Provider != cfg.Name {
		return nil, auth.Internal(fmt.Errorf("oauthlogin: Decide: claims are not from provider %q", cfg.Name))
	}
	if problem := auth.ValidateIdentityKey(c.Provider, c.Issuer, c.Subject); problem != "" {
		return nil, auth.Errorf(auth.EInvalidRequest, "%s", problem)
	}
	ident, err := s.FindIdentity(ctx, c.Provider, c.Issuer, c.Subject)
	switch {
	case err == nil:
		u, err := s.FindUserByID(ctx, ident.UserID)
		if err != nil {
			return nil, err
		}
		return &Decision{Outcome: SignIn, User: u, Identity: ident}, nil
	case !auth.IsNotFound(err):
		return nil, err
	}

	email := auth.NormalizeEmail(c.Email)
	if email == "" || auth.ValidateEmail(email) != "" {
		return nil, &auth.Error{Code: auth.EValidation, Err: ErrNoEmail,
			Message: fmt.Sprintf("Your %s account did not share an email address, which a Gatehouse account needs. Allow access to your address, or sign up with a password.", cfg.DisplayName),
			Fields:  map[string]string{"email": "No email address was shared."}}
	}
	ident = c.Identity("")
	ident.Email = email
	u, err := s.FindUserByLogin(ctx, email)
	switch {
	case err == nil && u.Email == email:
		if cfg.TrustEmail && c.EmailVerified && u.EmailVerified {
			ident.UserID = u.ID
			return &Decision{Outcome: Link, User: u, Identity: ident}, nil
		}
		return &Decision{Outcome: SignInToLink, User: u, Identity: ident}, nil
	case err == nil:
		// FindUserByLogin matched something other than the address; treat
		// it as no account with the address (not reachable with an '@').
	case !auth.IsNotFound(err):
		return nil, err
	}

	username, err := uniqueUsername(ctx, s, c, email)
	if err != nil {
		return nil, err
	}
	return &Decision{
		Outcome:  SignUp,
		Identity: ident,
		NewUser:  &auth.User{Username: username, Email: email, EmailVerified: c.EmailVerified, Active: true},
	}, nil
}

// usernameBase turns a suggestion into a valid username, or "" when too
// little of it is usable: ASCII letters, digits and '_' are kept, '.' and
// '-' too between them, and runs of anything else become one '-'.
func usernameBase(s string) string {
	var b strings.Builder
	var last byte
	for _, r := range s {
		c := byte('-')
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' {
			c = byte(r)
		}
		if (c == '.' || c == '-') && (b.Len() == 0 || last == '.' || last == '-') {
			continue
		}
		b.WriteByte(c)
		last = c
	}
	out := b.String()
	// Leave room for a numeric suffix.
	if len(out) > auth.UsernameMaxLen-5 {
		out = out[:auth.UsernameMaxLen-5]
	}
	out = strings.TrimRight(out, ".-")
	if len(out) < auth.UsernameMinLen {
		return ""
	}
	return out
}

// uniqueUsername picks a free username from the provider's suggestion, the
// address's local part or the name, adding a number when it is taken. The
// store's unique index has the last word: a concurrent sign-up can take the
// name between this check and the insert.
func uniqueUsername(ctx context.Context, s Store, c *Claims, email string) (string, error) {
	local, _, _ := strings.Cut(email, "@")
	base := ""
	for _, suggestion := range []string{c.Username, local, c.Name} {
		if base = usernameBase(suggestion); base != "" {
			break
		}
	}
	if base == "" {
		base = "user"
	}
	candidates := []string{base}
	for i := 2; i <= 9; i++ {
		candidates = append(candidates, fmt.Sprintf("%s%d", base, i))
	}
	for i := 0; i < 5; i++ {
		n, _ := rand.Int(rand.Reader, big.NewInt(90000))
		candidates = append(candidates, fmt.Sprintf("%s%d", base, 10000+n.Int64()))
	}
	for _, name := range candidates {
		if auth.ValidateUsername(name) != "" {
			continue
		}
		_, err := s.FindUserByLogin(ctx, name)
		if auth.IsNotFound(err) {
			return name, nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", auth.Errorf(auth.EConflict, "Could not find a free username. Please sign up with a password instead.")
}
