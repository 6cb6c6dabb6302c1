package auth

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Passkey is a WebAuthn credential that a user registered to sign in with: a
// public key whose private half stays in the user's authenticator (a phone, a
// laptop, a password manager or a security key).
//
// Only the fields a user needs to recognise and manage a passkey are shown in
// the API (see MarshalJSON); the rest is for verifying assertions.
type Passkey struct {
	// ID is Gatehouse's own random identifier, used in URLs. It is not the
	// credential ID, which the authenticator chose.
	ID     string
	UserID string
	// CredentialID is the authenticator's identifier for the credential, at
	// most 1023 bytes (WebAuthn L3 §7.1). It is unique across users.
	CredentialID []byte
	// PublicKey is the credential public key, COSE-encoded (RFC 9052 §7).
	PublicKey []byte
	// Algorithm is the COSE algorithm of PublicKey, e.g. -7 for ES256.
	Algorithm int
	// SignCount is the highest signature counter seen; 0 for authenticators
	// that do not count, as synced passkeys do not.
	SignCount uint32
	// AAGUID identifies the authenticator model, when it says (16 bytes; all
	// zero or empty when it does not).
	AAGUID []byte
	// Transports are the authenticator's hints to the browser on how to reach
	// it ("internal", "hybrid", "usb", "nfc", "ble", "smart-card").
	Transports []string
	// BackupEligible (BE) says whether the credential may be synced to other
	// devices. It is fixed when the passkey is registered and never changes.
	BackupEligible bool
	// BackupState (BS) says whether the credential is currently synced. It may
	// change from one sign-in to the next.
	BackupState bool
	// UserVerified says whether the authenticator verified the user (PIN,
	// biometric) when the passkey was registered.
	UserVerified bool
	// AttestationFormat is the attestation statement format of the
	// registration, e.g. "none" or "packed".
	AttestationFormat string
	// Name is the user's label for the passkey.
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	// CloneWarning is set when an assertion's signature counter did not move
	// forward, a sign that the credential's private key may exist twice
	// (WebAuthn L3 §6.1.1, §7.2 step 22). Once set, it stays set.
	CloneWarning bool
}

// Synced reports whether the passkey is currently backed up to, and so
// usable from, more than one device.
func (p *Passkey) Synced() bool { return p.BackupState }

// DeviceBound reports whether the passkey can never leave the authenticator
// it was made on.
func (p *Passkey) DeviceBound() bool { return !p.BackupEligible }

// passkeyJSON is the {passkey} object of the HTTP API. It leaves out the key
// material and the authenticator details, which the user has no use for.
type passkeyJSON struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	Synced      bool       `json:"synced"`
	DeviceBound bool       `json:"device_bound"`
	Transports  []string   `json:"transports"`
}

// MarshalJSON encodes the passkey as the API shows it: id, name, created_at,
// last_used_at, synced, device_bound and transports.
func (p Passkey) MarshalJSON() ([]byte, error) {
	transports := p.Transports
	if transports == nil {
		transports = []string{}
	}
	return json.Marshal(passkeyJSON{
		ID:          p.ID,
		Name:        p.Name,
		CreatedAt:   p.CreatedAt,
		LastUsedAt:  p.LastUsedAt,
		Synced:      p.Synced(),
		DeviceBound: p.DeviceBound(),
		Transports:  transports,
	})
}

// PasskeyNameMaxLen is the longest passkey name, in characters.
const PasskeyNameMaxLen = 64

// ValidatePasskeyName returns a readable problem with a passkey name, or ""
// when it is valid: 1–64 characters of valid UTF-8 with no control
// characters, not only spaces.
func ValidatePasskeyName(name string) string {
	if strings.TrimSpace(name) == "" {
		return "Passkey name is required."
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > PasskeyNameMaxLen {
		return "Passkey names have at most 64 characters."
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "Passkey names cannot contain control characters."
		}
	}
	return ""
}

// UserHandleLen is the length of a WebAuthn user handle: 64 random bytes, the
// most WebAuthn allows (L3 §5.4.3), with no personal data in it.
const UserHandleLen = 64

// PasskeyStore keeps passkeys and the WebAuthn user handle of each user.
//
// Lookups of a missing record return ENotFound; any other error is a system
// failure.
type PasskeyStore interface {
	// CreatePasskey inserts p, filling in ID (when empty) and CreatedAt (when
	// zero). A credential ID that is already registered, to this user or any
	// other, is refused with EConflict; an invalid name with EValidation.
	CreatePasskey(ctx context.Context, p *Passkey) error
	// FindPasskeysByUser returns the user's passkeys, oldest first; none is
	// an empty slice.
	FindPasskeysByUser(ctx context.Context, userID string) ([]*Passkey, error)
	// FindPasskeyByCredentialID finds a passkey by the authenticator's
	// credential ID.
	FindPasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)
	// UpdatePasskeyUse records a sign-in attempt with the passkey. It never
	// moves SignCount or LastUsedAt backwards, and never clears CloneWarning:
	// a cloneWarning of false leaves the flag as it is.
	UpdatePasskeyUse(ctx context.Context, id string, signCount uint32, backupState, cloneWarning bool, usedAt time.Time) error
	// RenamePasskey renames one of the user's passkeys. Another user's
	// passkey is ENotFound, as a missing one is; an invalid name EValidation.
	RenamePasskey(ctx context.Context, userID, id, name string) error
	// DeletePasskey removes one of the user's passkeys. Another user's
	// passkey is ENotFound, as a missing one is.
	DeletePasskey(ctx context.Context, userID, id string) error
	// UserHandle returns the user's WebAuthn user handle (UserHandleLen
	// random bytes). When the user has none yet, create makes one; without
	// create that is ENotFound. A missing user is ENotFound. Concurrent calls
	// for one user all return the same handle.
	UserHandle(ctx context.Context, userID string, create bool) ([]byte, error)
	// CreateUserHandle gives a user who has no handle yet the handle a
	// passkey sign-up chose before the account existed (the authenticator
	// stored it as the credential's user.id, so it cannot be made anew). A
	// handle that is not UserHandleLen bytes is EValidation; a user who has
	// a handle already, or a handle another user has, EConflict; a missing
	// user ENotFound.
	CreateUserHandle(ctx context.Context, userID string, handle []byte) error
	// FindUserByHandle returns the ID of the user a handle belongs to.
	FindUserByHandle(ctx context.Context, handle []byte) (userID string, err error)
}
