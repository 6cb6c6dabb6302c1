package passkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// BeginRegistration starts adding a passkey to user's account, and returns
// the options for navigator.credentials.create() (a
// PublicKeyCredentialCreationOptionsJSON, L3 §5.1.8, with base64url byte
// strings) and the ceremony ID to pass to FinishRegistration.
//
// The options ask for a discoverable credential (a passkey, usable without a
// username), verified as Config.UserVerification says, and exclude the
// user's existing passkeys so that an authenticator is not registered twice.
// Their user.id is the user's WebAuthn user handle, made on first use: 64
// random bytes with nothing about the user in them (L3 §14.6.1). The caller
// must already have authenticated user.
func (rp *RelyingParty) BeginRegistration(ctx context.Context, u *auth.User, existing []*auth.Passkey) (json.RawMessage, string, error) {
	if u == nil || u.ID == "" {
		return nil, "", errors.New("passkey: BeginRegistration needs a user")
	}
	handle, err := rp.cfg.Store.UserHandle(ctx, u.ID, true)
	if err != nil {
		return nil, "", fmt.Errorf("passkey: user handle: %w", err)
	}
	wu := newUser(handle, u, existing)
	exclude := make([]protocol.CredentialDescriptor, len(wu.creds))
	for i, c := range wu.creds {
		exclude[i] = c.Descriptor()
	}
	creation, session, err := rp.wa.BeginRegistration(wu,
		webauthn.WithExclusions(exclude),
		// The Level 3 recommended set (EdDSA, ES256, RS256) covers the
		// authenticators in use; fewer algorithms, less code on the path.
		webauthn.WithCredentialParameters(webauthn.CredentialParametersRecommendedL3()),
	)
	if err != nil {
		return nil, "", fmt.Errorf("passkey: begin registration: %w", err)
	}
	options, err := json.Marshal(creation.Response)
	if err != nil {
		return nil, "", fmt.Errorf("passkey: encode options: %w", err)
	}
	id, err := rp.start(ctx, &ceremony{Kind: kindRegister, UserID: u.ID, Session: *session})
	if err != nil {
		return nil, "", err
	}
	return options, id, nil
}

// FinishRegistration checks the browser's answer to BeginRegistration's
// options (the PublicKeyCredential's JSON, as its toJSON() gives it) and
// stores the new passkey, named DefaultName, for user. The ceremony is spent
// whatever the outcome.
//
// It returns ErrCeremony when ceremonyID is not a registration in progress
// for user, ErrVerification when the answer fails a check of L3 §7.1, and
// ErrNotAllowed when the credential is registered already, to this user or
// another.
func (rp *RelyingParty) FinishRegistration(ctx context.Context, u *auth.User, ceremonyID string, body []byte) (*auth.Passkey, error) {
	if len(body) > MaxBodySize {
		return nil, fmt.Errorf("%w: answer of %d bytes is over the %d-byte limit", ErrVerification, len(body), MaxBodySize)
	}
	c, err := rp.take(ctx, ceremonyID, kindRegister)
	if err != nil {
		return nil, err
	}
	if u == nil || u.ID != c.UserID {
		return nil, fmt.Errorf("%w: the registration was begun for another user", ErrCeremony)
	}
	pk, err := rp.verifyCreation(ctx, c, u, body)
	if err != nil {
		return nil, err
	}
	if err := rp.cfg.Store.CreatePasskey(ctx, pk); err != nil {
		if auth.IsConflict(err) {
			// %v, not %w: the store's EConflict must not decide the response.
			return nil, fmt.Errorf("%w: the credential is registered already: %v", ErrNotAllowed, err)
		}
		return nil, fmt.Errorf("passkey: store passkey: %w", err)
	}
	return pk, nil
}

// verifyCreation checks the browser's answer to the creation options of
// ceremony c, begun for u, and returns the passkey it registers, not yet
// stored.
func (rp *RelyingParty) verifyCreation(ctx context.Context, c *ceremony, u *auth.User, body []byte) (*auth.Passkey, error) {
	var (
		parsed *protocol.ParsedCredentialCreationData
		cred   *webauthn.Credential
		alg    int64
	)
	err := guard(func() error {
		var err error
		if parsed, err = protocol.ParseCredentialCreationResponseBytes(body); err != nil {
			return refuse(ErrVerification, err)
		}
		// The user's handle comes from the ceremony, not from the store, so
		// the answer is checked against exactly what the options said.
		if cred, err = rp.wa.CreateCredential(newUser(c.Session.UserID, u, nil), c.Session, parsed); err != nil {
			return refuse(ErrVerification, err)
		}
		var key webauthncose.PublicKeyData
		if err := webauthncbor.Unmarshal(cred.PublicKey, &key); err != nil {
			return refuse(ErrVerification, err)
		}
		alg = key.Algorithm
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Checked again here, so that Gatehouse's policy does not rest on one
	// library version's choices.
	flags := parsed.Response.AttestationObject.AuthData.Flags
	switch {
	case !flags.HasUserPresent():
		return nil, fmt.Errorf("%w: user presence flag not set", ErrVerification)
	case rp.uv == protocol.VerificationRequired && !flags.HasUserVerified():
		return nil, fmt.Errorf("%w: user verification required but flag not set", ErrVerification)
	case flags.HasBackupState() && !flags.HasBackupEligible():
		// L3 §7.1: BS without BE is a malfunctioning authenticator.
		return nil, fmt.Errorf("%w: backup state set on a credential that is not backup eligible", ErrVerification)
	}
	if n := len(cred.ID); n == 0 || n > 1023 {
		return nil, fmt.Errorf("%w: credential ID of %d bytes", ErrVerification, n)
	}
	// L3 §7.1: a credential ID registered already, to anyone, is
	// refused. The unique index in the store settles a race between two
	// registrations of one credential.
	if _, err := rp.cfg.Store.FindPasskeyByCredentialID(ctx, cred.ID); err == nil {
		return nil, fmt.Errorf("%w: the credential is registered already", ErrNotAllowed)
	} else if !auth.IsNotFound(err) {
		return nil, fmt.Errorf("passkey: find credential: %w", err)
	}

	pk := &auth.Passkey{
		UserID:            u.ID,
		CredentialID:      cred.ID,
		PublicKey:         cred.PublicKey,
		Algorithm:         int(alg),
		SignCount:         cred.Authenticator.SignCount,
		AAGUID:            cred.Authenticator.AAGUID,
		Transports:        cleanTransports(cred.Transport),
		BackupEligible:    flags.HasBackupEligible(),
		BackupState:       flags.HasBackupState(),
		UserVerified:      flags.HasUserVerified(),
		AttestationFormat: cred.AttestationFormat,
		Name:              DefaultName,
		CreatedAt:         rp.cfg.Now(),
	}
	return pk, nil
}
