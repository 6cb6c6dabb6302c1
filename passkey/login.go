package passkey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// BeginLogin starts a sign-in and returns the options for
// navigator.credentials.get() (a PublicKeyCredentialRequestOptionsJSON,
// L3 §5.1.9, with base64url byte strings) and the ceremony ID to pass to
// FinishLogin.
//
// With a nil user it begins a discoverable login: the options name no
// credentials, and the authenticator offers the user their passkeys for
// this site, in a dialog or, with mediation "conditional" on the page, in the
// browser's autofill. With a user (username-first) the options list the
// user's passkeys, and FinishLogin accepts only those; a user without
// passkeys is ErrNoPasskeys. A username-first ceremony tells whoever asks
// which credentials an account has (L3 §14.6.3), so the login page should
// prefer the discoverable flow.
func (rp *RelyingParty) BeginLogin(ctx context.Context, u *auth.User, passkeys []*auth.Passkey) (json.RawMessage, string, error) {
	var (
		assertion *protocol.CredentialAssertion
		session   *webauthn.SessionData
		err       error
		c         = &ceremony{Kind: kindLogin}
	)
	if u == nil {
		assertion, session, err = rp.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(rp.uv))
	} else {
		handle, herr := rp.cfg.Store.UserHandle(ctx, u.ID, false)
		if auth.IsNotFound(herr) {
			return nil, "", ErrNoPasskeys
		}
		if herr != nil {
			return nil, "", fmt.Errorf("passkey: user handle: %w", herr)
		}
		wu := newUser(handle, u, passkeys)
		if len(wu.creds) == 0 {
			return nil, "", ErrNoPasskeys
		}
		c.UserID = u.ID
		assertion, session, err = rp.wa.BeginLogin(wu, webauthn.WithUserVerification(rp.uv))
	}
	if err != nil {
		return nil, "", fmt.Errorf("passkey: begin login: %w", err)
	}
	options, err := json.Marshal(assertion.Response)
	if err != nil {
		return nil, "", fmt.Errorf("passkey: encode options: %w", err)
	}
	c.Session = *session
	id, err := rp.start(ctx, c)
	if err != nil {
		return nil, "", err
	}
	return options, id, nil
}

// Lookup finds the user a WebAuthn user handle belongs to, and that user's
// passkeys. A handle that belongs to nobody is an error with code
// auth.ENotFound; any other error is a system failure.
type Lookup func(handle []byte) (*auth.User, []*auth.Passkey, error)

// LookupStore is what StoreLookup reads; auth.Store satisfies it.
type LookupStore interface {
	FindUserByHandle(ctx context.Context, handle []byte) (string, error)
	FindUserByID(ctx context.Context, id string) (*auth.User, error)
	FindPasskeysByUser(ctx context.Context, userID string) ([]*auth.Passkey, error)
}

// StoreLookup returns the Lookup that reads users and passkeys from s.
func StoreLookup(ctx context.Context, s LookupStore) Lookup {
	return func(handle []byte) (*auth.User, []*auth.Passkey, error) {
		id, err := s.FindUserByHandle(ctx, handle)
		if err != nil {
			return nil, nil, err
		}
		u, err := s.FindUserByID(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		passkeys, err := s.FindPasskeysByUser(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		return u, passkeys, nil
	}
}

// FinishLogin checks the browser's answer to BeginLogin's options (the
// PublicKeyCredential's JSON, as its toJSON() gives it) and returns the user
// who signed in and the passkey they used, with its counter, backup state
// and last use updated in the store. The ceremony is spent whatever the
// outcome. lookup reads the user and passkeys of a user handle: the
// ceremony's user's for a username-first login, the answer's for a
// discoverable one.
//
// It returns ErrCeremony when ceremonyID is not a login in progress,
// ErrVerification when the answer fails a check of L3 §7.2, ErrNotAllowed
// when the credential is not the user's, and ErrPossibleClone (with
// ErrVerification) when the signature counter did not advance; see the
// package documentation. It does not check that the user may sign in
// (auth.User.Active): that is the caller's to do.
func (rp *RelyingParty) FinishLogin(ctx context.Context, ceremonyID string, body []byte, lookup Lookup) (*auth.User, *auth.Passkey, error) {
	if len(body) > MaxBodySize {
		return nil, nil, fmt.Errorf("%w: answer of %d bytes is over the %d-byte limit", ErrVerification, len(body), MaxBodySize)
	}
	c, err := rp.take(ctx, ceremonyID, kindLogin)
	if err != nil {
		return nil, nil, err
	}
	var parsed *protocol.ParsedCredentialAssertionData
	if err := guard(func() error {
		var err error
		if parsed, err = protocol.ParseCredentialRequestResponseBytes(body); err != nil {
			return refuse(ErrVerification, err)
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}

	// L3 §7.2: identify the user, and check that the credential is theirs.
	usernameFirst := c.UserID != ""
	handle := parsed.Response.UserHandle
	if usernameFirst {
		if len(handle) > 0 && !bytes.Equal(handle, c.Session.UserID) {
			return nil, nil, fmt.Errorf("%w: the user handle is not the user's the login was begun for", ErrNotAllowed)
		}
		handle = c.Session.UserID
	} else if len(handle) == 0 {
		return nil, nil, fmt.Errorf("%w: a discoverable login answered without a user handle", ErrVerification)
	}
	u, passkeys, err := lookup(handle)
	switch {
	case auth.IsNotFound(err):
		return nil, nil, fmt.Errorf("%w: no user has this user handle", ErrNotAllowed)
	case err != nil:
		return nil, nil, fmt.Errorf("passkey: look up user: %w", err)
	case u == nil:
		return nil, nil, fmt.Errorf("%w: no user has this user handle", ErrNotAllowed)
	case usernameFirst && u.ID != c.UserID:
		return nil, nil, fmt.Errorf("%w: the user handle now names another user", ErrNotAllowed)
	}
	var pk *auth.Passkey
	for _, p := range passkeys {
		if p.UserID == u.ID && bytes.Equal(p.CredentialID, parsed.RawID) {
			pk = p
			break
		}
	}
	if pk == nil {
		return nil, nil, fmt.Errorf("%w: the credential is not the user's", ErrNotAllowed)
	}

	// go-webauthn checks the rest of L3 §7.2: the allowed credentials, the
	// client data (type, challenge, origin, crossOrigin, topOrigin), the
	// authenticator data (RP ID hash, UP, UV when required, BE unchanged,
	// not BS without BE) and the signature.
	wu := newUser(handle, u, passkeys)
	err = guard(func() error {
		var err error
		if usernameFirst {
			_, err = rp.wa.ValidateLogin(wu, c.Session, parsed)
		} else {
			_, _, err = rp.wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return wu, nil }, c.Session, parsed)
		}
		var unknown *protocol.ErrorUnknownCredential
		switch {
		case errors.As(err, &unknown):
			return refuse(ErrNotAllowed, err)
		case err != nil:
			return refuse(ErrVerification, err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}

	// Checked again here, so that Gatehouse's policy does not rest on one
	// library version's choices.
	ad := parsed.Response.AuthenticatorData
	switch {
	case !ad.Flags.HasUserPresent():
		return nil, nil, fmt.Errorf("%w: user presence flag not set", ErrVerification)
	case rp.uv == protocol.VerificationRequired && !ad.Flags.HasUserVerified():
		return nil, nil, fmt.Errorf("%w: user verification required but flag not set", ErrVerification)
	case ad.Flags.HasBackupState() && !ad.Flags.HasBackupEligible():
		// L3 §6.1.3: BS without BE is a malfunctioning authenticator.
		return nil, nil, fmt.Errorf("%w: backup state set on a credential that is not backup eligible", ErrVerification)
	case ad.Flags.HasBackupEligible() != pk.BackupEligible:
		// L3 §6.1.3: BE is fixed when the credential is made.
		return nil, nil, fmt.Errorf("%w: backup eligibility changed since registration", ErrVerification)
	}

	now := rp.cfg.Now()
	// L3 §7.2 step 22; the policy is in the package documentation. Only an
	// assertion whose signature verified gets here, so only the key's holder
	// (or its clone) can mark the passkey.
	if pk.CloneWarning || signCountRegressed(pk.SignCount, ad.Counter) {
		if err := rp.cfg.Store.UpdatePasskeyUse(ctx, pk.ID, pk.SignCount, pk.BackupState, true, now); err != nil {
			return nil, nil, fmt.Errorf("passkey: record clone warning: %w", err)
		}
		return nil, nil, fmt.Errorf("%w: %w: counter %d after %d (passkey %s)", ErrVerification, ErrPossibleClone, ad.Counter, pk.SignCount, pk.ID)
	}
	if err := rp.cfg.Store.UpdatePasskeyUse(ctx, pk.ID, ad.Counter, ad.Flags.HasBackupState(), false, now); err != nil {
		return nil, nil, fmt.Errorf("passkey: record use: %w", err)
	}
	used := *pk
	used.SignCount = ad.Counter
	used.BackupState = ad.Flags.HasBackupState()
	used.LastUsedAt = &now
	return u, &used, nil
}

// signCountRegressed reports whether an assertion's counter fails to move
// past the stored one while either is non-zero (L3 §7.2 step 22). Two zeros
// are an authenticator that does not count, as synced passkeys do not.
func signCountRegressed(stored, got uint32) bool {
	return (stored != 0 || got != 0) && got <= stored
}
