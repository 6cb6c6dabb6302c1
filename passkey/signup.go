package passkey

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// signUpAccount is what a sign-up ceremony keeps of the account it will
// create.
type signUpAccount struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

// BeginSignUp starts creating an account that signs in with a passkey and
// has no password, and returns the options for
// navigator.credentials.create() and the ceremony ID to pass to
// FinishSignUp.
//
// Nothing is stored but the ceremony: the account's ID and its WebAuthn user
// handle (64 random bytes, L3 §14.6.1) are chosen here and kept in the
// ceremony until FinishSignUp, so that a sign-up the user abandons leaves no
// account behind. The caller checks username and email first (valid, not
// taken); the options name the account by its username, or its email
// without one.
func (rp *RelyingParty) BeginSignUp(ctx context.Context, username, email string) (json.RawMessage, string, error) {
	if username == "" && email == "" {
		return nil, "", errors.New("passkey: BeginSignUp needs a username or an email")
	}
	handle := make([]byte, auth.UserHandleLen)
	rand.Read(handle) // never fails (crypto/rand: "Read ... never returns an error")
	acct := &signUpAccount{ID: auth.NewID(), Username: username, Email: email}
	wu := newUser(handle, &auth.User{ID: acct.ID, Username: username, Email: email}, nil)
	creation, session, err := rp.wa.BeginRegistration(wu,
		webauthn.WithCredentialParameters(webauthn.CredentialParametersRecommendedL3()))
	if err != nil {
		return nil, "", fmt.Errorf("passkey: begin sign-up: %w", err)
	}
	options, err := json.Marshal(creation.Response)
	if err != nil {
		return nil, "", fmt.Errorf("passkey: encode options: %w", err)
	}
	id, err := rp.start(ctx, &ceremony{Kind: kindSignUp, UserID: acct.ID, Account: acct, Session: *session})
	if err != nil {
		return nil, "", err
	}
	return options, id, nil
}

// CreateAccount stores what a passkey sign-up makes: the user u (ID,
// Username and Email filled in), its user handle and its first passkey,
// all together or none of them (in one transaction), and returns the user as
// stored. Its errors are returned by FinishSignUp unchanged.
type CreateAccount func(u *auth.User, handle []byte, pk *auth.Passkey) (*auth.User, error)

// FinishSignUp checks the browser's answer to BeginSignUp's options as
// FinishRegistration does (L3 §7.1), then has create store the account, its
// user handle and its passkey (named DefaultName), and returns the account
// and the passkey. The ceremony is spent whatever the outcome.
//
// It returns ErrCeremony when ceremonyID is not a sign-up in progress (a
// registration or login ceremony cannot finish a sign-up, nor the reverse),
// ErrVerification when the answer fails a check, ErrNotAllowed when the
// credential is registered already, and create's error when it fails.
func (rp *RelyingParty) FinishSignUp(ctx context.Context, ceremonyID string, body []byte, create CreateAccount) (*auth.User, *auth.Passkey, error) {
	if len(body) > MaxBodySize {
		return nil, nil, fmt.Errorf("%w: answer of %d bytes is over the %d-byte limit", ErrVerification, len(body), MaxBodySize)
	}
	c, err := rp.take(ctx, ceremonyID, kindSignUp)
	if err != nil {
		return nil, nil, err
	}
	if c.Account == nil || c.Account.ID == "" || c.Account.ID != c.UserID {
		return nil, nil, fmt.Errorf("passkey: sign-up ceremony without its account")
	}
	u := &auth.User{ID: c.Account.ID, Username: c.Account.Username, Email: c.Account.Email}
	pk, err := rp.verifyCreation(ctx, c, u, body)
	if err != nil {
		return nil, nil, err
	}
	stored, err := create(u, c.Session.UserID, pk)
	if err != nil {
		return nil, nil, err
	}
	return stored, pk, nil
}
