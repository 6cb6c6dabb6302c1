package auth

import (
	"context"
	"time"
)

// Identity is an account at an outside identity provider (Google, GitHub, an
// OpenID Connect provider) that signs in to a Gatehouse user.
//
// An identity is keyed by (Provider, Issuer, Subject) and never by its email
// address: an address is a mutable, provider-asserted attribute that another
// person can set on their own provider account ("nOAuth"), while the subject
// is the provider's stable identifier for one person (OpenID Connect Core
// 1.0 §5.7).
type Identity struct {
	// ID is Gatehouse's random identifier for the link, used in URLs.
	ID string `json:"id"`
	// UserID is the user the identity signs in.
	UserID string `json:"-"`
	// Provider is the name of the provider in Gatehouse's configuration,
	// e.g. "google". Renaming a provider in the configuration detaches the
	// identities recorded under the old name.
	Provider string `json:"provider"`
	// Issuer is the provider's issuer identifier: the "iss" of its ID tokens
	// for OpenID Connect, or a fixed URL for plain OAuth providers.
	Issuer string `json:"-"`
	// Subject is the provider's identifier for the person ("sub", or
	// GitHub's numeric user ID), unique within the issuer and never reused.
	Subject string `json:"-"`
	// Email and EmailVerified are what the provider said at the latest sign-in.
	// They are for display and for deciding whether the identity may be
	// trusted with the account's address; they never select an account.
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	// CreatedAt is when the identity was linked; LastLoginAt when it last
	// signed in.
	CreatedAt   time.Time `json:"created_at"`
	LastLoginAt time.Time `json:"last_login_at"`
}

// Limits on the parts of an identity's key, in bytes. OpenID Connect caps a
// subject at 255 ASCII characters (Core 1.0 §2).
const (
	IdentityProviderMaxLen = 64
	IdentityIssuerMaxLen   = 512
	IdentitySubjectMaxLen  = 255
)

// ValidateIdentityKey returns a readable problem with an identity's
// (provider, issuer, subject), or "" when the three are usable as a key.
func ValidateIdentityKey(provider, issuer, subject string) string {
	switch {
	case provider == "" || issuer == "" || subject == "":
		return "The sign-in provider did not identify the account."
	case len(provider) > IdentityProviderMaxLen, len(issuer) > IdentityIssuerMaxLen, len(subject) > IdentitySubjectMaxLen:
		return "The sign-in provider's account identifier is too long."
	}
	return ""
}

// IdentityStore keeps the outside identities linked to users.
//
// Lookups of a missing record return ENotFound; any other error is a system
// failure.
type IdentityStore interface {
	// CreateIdentity links an identity to i.UserID, filling in ID (when
	// empty), CreatedAt (when zero) and LastLoginAt (when zero: CreatedAt).
	// An identity whose (Provider, Issuer, Subject) is linked already, to
	// this user or another, is refused with EConflict; a key that fails
	// ValidateIdentityKey with EValidation.
	CreateIdentity(ctx context.Context, i *Identity) error
	// FindIdentity finds the identity with this exact key. The match is
	// byte for byte: subjects are case-sensitive.
	FindIdentity(ctx context.Context, provider, issuer, subject string) (*Identity, error)
	// FindUserIdentities returns the user's identities, oldest first; none
	// is an empty slice.
	FindUserIdentities(ctx context.Context, userID string) ([]*Identity, error)
	// DeleteIdentity unlinks one of the user's identities. Another user's
	// identity is ENotFound, as a missing one is.
	DeleteIdentity(ctx context.Context, userID, id string) error
	// TouchIdentity records a sign-in with the identity and what the
	// provider said about the email address then. It never moves
	// LastLoginAt backwards; a touch older than the latest one changes
	// nothing. A missing identity is ENotFound.
	TouchIdentity(ctx context.Context, id, email string, emailVerified bool, at time.Time) error
}
