package passkey

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// Errors that Finish… and Begin… return for a refused ceremony. Each wraps
// go-webauthn's detail, which is for the log only; match them with errors.Is.
var (
	// ErrCeremony: the ceremony ID is unknown, expired or already used, or
	// belongs to another kind of ceremony or another user.
	ErrCeremony = errors.New("passkey: unknown, expired or used ceremony")
	// ErrVerification: the browser's answer is malformed or fails a check.
	ErrVerification = errors.New("passkey: verification failed")
	// ErrNotAllowed: the credential does not belong to the user, or, at
	// registration, is registered already.
	ErrNotAllowed = errors.New("passkey: credential not allowed for this user")
	// ErrPossibleClone: the signature counter did not move forward, now or
	// before (see the package documentation). It comes wrapped together with
	// ErrVerification.
	ErrPossibleClone = errors.New("passkey: signature counter did not advance; the passkey may be cloned")
	// ErrNoPasskeys: BeginLogin was asked for a username-first login of a
	// user who has no passkeys.
	ErrNoPasskeys = errors.New("passkey: the user has no passkeys")
)

// MaxBodySize is the largest browser answer Finish… reads: 64 KiB, the API's
// body limit. Real answers are a few kilobytes.
const MaxBodySize = 64 << 10

// MaxTimeout is the longest a ceremony may last.
const MaxTimeout = 5 * time.Minute

// DefaultName is the name a new passkey gets until its user renames it.
const DefaultName = "Passkey"

// Store is what the relying party keeps: user handles and passkeys. It is a
// subset of auth.PasskeyStore, so auth.Store satisfies it.
type Store interface {
	UserHandle(ctx context.Context, userID string, create bool) ([]byte, error)
	FindPasskeyByCredentialID(ctx context.Context, credentialID []byte) (*auth.Passkey, error)
	CreatePasskey(ctx context.Context, p *auth.Passkey) error
	UpdatePasskeyUse(ctx context.Context, id string, signCount uint32, backupState, cloneWarning bool, usedAt time.Time) error
}

// Config configures a RelyingParty. The caller derives RPID and Origins from
// Gatehouse's public URL.
type Config struct {
	// RPID is the relying party ID: the public URL's host name, e.g.
	// "auth.example.com" (no scheme, no port). Passkeys are bound to it, so
	// changing it orphans every passkey. Required.
	RPID string
	// RPName is the name authenticators may show. Default: "Gatehouse".
	RPName string
	// Origins are the exact origins ceremonies may run on, e.g.
	// "https://auth.example.com" or "http://localhost:8080"; each host must
	// be RPID or a subdomain of it, and only localhost may use http.
	// Required.
	Origins []string
	// UserVerification is "required" (the default: the passkey is the only
	// factor, so the authenticator must verify the user with a PIN or
	// biometric), "preferred" or "discouraged".
	UserVerification string
	// Attestation is the attestation conveyance preference. Only "none", the
	// default, is supported: Gatehouse does not verify attestation chains.
	Attestation string
	// Timeout is how long a ceremony may take from Begin to Finish. Default
	// and maximum: 5m.
	Timeout time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Store keeps user handles and passkeys. Required.
	Store Store
	// Challenges keeps ceremonies between Begin and Finish. Default: a
	// MemoryChallengeStore, good for one Gatehouse node.
	Challenges ChallengeStore
}

// RelyingParty runs registration and sign-in ceremonies. It is safe for
// concurrent use.
type RelyingParty struct {
	cfg Config
	uv  protocol.UserVerificationRequirement
	wa  *webauthn.WebAuthn
}

// New validates cfg, fills in its defaults and returns a RelyingParty.
func New(cfg Config) (*RelyingParty, error) {
	if cfg.Store == nil {
		return nil, errors.New("passkey: Store is required")
	}
	if err := validRPID(cfg.RPID); err != nil {
		return nil, err
	}
	if len(cfg.Origins) == 0 {
		return nil, errors.New("passkey: Origins is required")
	}
	origins := make([]string, len(cfg.Origins))
	for i, o := range cfg.Origins {
		norm, err := validOrigin(o, cfg.RPID)
		if err != nil {
			return nil, err
		}
		origins[i] = norm
	}
	cfg.Origins = origins
	if cfg.RPName == "" {
		cfg.RPName = "Gatehouse"
	}
	var uv protocol.UserVerificationRequirement
	switch cfg.UserVerification {
	case "", "required":
		cfg.UserVerification, uv = "required", protocol.VerificationRequired
	case "preferred":
		uv = protocol.VerificationPreferred
	case "discouraged":
		uv = protocol.VerificationDiscouraged
	default:
		return nil, fmt.Errorf("passkey: UserVerification %q is not required, preferred or discouraged", cfg.UserVerification)
	}
	switch cfg.Attestation {
	case "", "none":
		cfg.Attestation = "none"
	default:
		return nil, fmt.Errorf("passkey: Attestation %q is not supported; Gatehouse only asks for none", cfg.Attestation)
	}
	switch {
	case cfg.Timeout == 0:
		cfg.Timeout = MaxTimeout
	case cfg.Timeout < 0 || cfg.Timeout > MaxTimeout:
		return nil, fmt.Errorf("passkey: Timeout %v is not between 0 and %v", cfg.Timeout, MaxTimeout)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Challenges == nil {
		cfg.Challenges = NewMemoryChallengeStore(cfg.Now)
	}
	// Expiry is checked here against cfg.Now rather than by go-webauthn
	// against the wall clock (Enforce: false), so that there is one clock.
	timeout := webauthn.TimeoutConfig{Timeout: cfg.Timeout, TimeoutUVD: cfg.Timeout}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: cfg.RPName,
		RPOrigins:     cfg.Origins,
		// No RPTopOrigins and no cross-origin use: Gatehouse's pages refuse
		// to be framed, so a ceremony run from an iframe is not ours.
		RPAllowCrossOrigin:    false,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: protocol.ResidentKeyRequired(),
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			UserVerification:   uv,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &RelyingParty{cfg: cfg, uv: uv, wa: wa}, nil
}

func validRPID(rpID string) error {
	if rpID == "" {
		return errors.New("passkey: RPID is required")
	}
	if rpID != strings.ToLower(rpID) || strings.ContainsAny(rpID, ":/ ") || net.ParseIP(rpID) != nil {
		return fmt.Errorf("passkey: RPID %q must be a lowercase host name, without scheme or port", rpID)
	}
	if err := protocol.ValidateRPID(rpID); err != nil {
		return fmt.Errorf("passkey: RPID %q: %w", rpID, err)
	}
	return nil
}

// validOrigin checks that origin is scheme://host[:port] on RPID and returns
// it without a trailing slash.
func validOrigin(origin, rpID string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("passkey: origin %q is not scheme://host[:port]", origin)
	}
	host := u.Hostname()
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return "", fmt.Errorf("passkey: origin %q is not on RPID %q", origin, rpID)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && (host == "localhost" || strings.HasSuffix(host, ".localhost")):
		// Browsers treat localhost as a secure context (WebAuthn L3 §5.1.3).
	default:
		return "", fmt.Errorf("passkey: origin %q must use https (http only on localhost)", origin)
	}
	return u.Scheme + "://" + u.Host, nil
}

// UserVerificationRequired reports whether the relying party requires the
// authenticator to verify the user.
func (rp *RelyingParty) UserVerificationRequired() bool {
	return rp.uv == protocol.VerificationRequired
}

// user is an auth.User as go-webauthn sees it.
type user struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
}

// WebAuthnID returns the user handle.
func (u *user) WebAuthnID() []byte { return u.handle }

// WebAuthnName returns the username, which authenticators show in their
// account pickers.
func (u *user) WebAuthnName() string { return u.name }

// WebAuthnDisplayName returns the username too: Gatehouse keeps no display
// name.
func (u *user) WebAuthnDisplayName() string { return u.name }

// WebAuthnCredentials returns the user's passkeys.
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func newUser(handle []byte, u *auth.User, passkeys []*auth.Passkey) *user {
	name := u.Username
	if name == "" {
		name = u.Email
	}
	wu := &user{handle: handle, name: name}
	for _, p := range passkeys {
		if p.UserID == u.ID {
			wu.creds = append(wu.creds, credential(p))
		}
	}
	return wu
}

// credential turns a stored passkey into go-webauthn's credential record.
func credential(p *auth.Passkey) webauthn.Credential {
	transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:                p.CredentialID,
		PublicKey:         p.PublicKey,
		AttestationFormat: p.AttestationFormat,
		Transport:         transports,
		Flags: webauthn.CredentialFlags{
			UserPresent:    true,
			UserVerified:   p.UserVerified,
			BackupEligible: p.BackupEligible,
			BackupState:    p.BackupState,
		},
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount, CloneWarning: p.CloneWarning},
	}
}

// transportName is what a transport hint looks like ("usb", "smart-card");
// anything else from the browser is dropped rather than stored.
var transportName = regexp.MustCompile(`^[a-z][a-z-]{0,31}$`)

func cleanTransports(in []protocol.AuthenticatorTransport) []string {
	out := []string{}
	for _, t := range in {
		s := string(t)
		if len(out) < 8 && transportName.MatchString(s) && !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// refuse wraps a refusal's cause under kind, keeping go-webauthn's
// developer detail for the log.
func refuse(kind error, cause error) error {
	var pe *protocol.Error
	if errors.As(cause, &pe) && pe.DevInfo != "" {
		return fmt.Errorf("%w: %w (%s)", kind, cause, pe.DevInfo)
	}
	return fmt.Errorf("%w: %w", kind, cause)
}

// guard runs fn, turning a panic into ErrVerification. Parsing and checking
// a browser's answer runs third-party decoders on untrusted bytes; a bug in
// one must cost the request, not the process or a 500. The fuzz tests look
// for such panics, so that this never has to catch one.
func guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: panic while checking the response: %v", ErrVerification, r)
		}
	}()
	return fn()
}
