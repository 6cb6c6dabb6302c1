package token

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/client"
)

// Signing algorithms. The key decides which one signs: EdDSA for Ed25519
// keys, ES256 for P-256 keys.
const (
	EdDSA = client.EdDSA // Ed25519 (RFC 8037); the default
	ES256 = client.ES256 // ECDSA on P-256 with SHA-256 (RFC 7518 §3.4)
)

// Defaults of Config.
const (
	DefaultAccessTTL   = 15 * time.Minute
	DefaultRotateEvery = 720 * time.Hour
)

// Sealer encrypts private keys at rest under the master secret (implemented
// by package masterkey). Open must fail unless sealed came from Seal with
// the same additionalData.
type Sealer interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// Config configures a Keyring.
type Config struct {
	// Issuer is the "iss" of every token: Gatehouse's public URL. Required.
	Issuer string
	// Audience is the "aud" of every token. Default: []string{Issuer}.
	Audience []string
	// AccessTTL is how long a token is valid. Default: 15 minutes.
	AccessTTL time.Duration
	// Algorithm is the algorithm of keys created from now on: EdDSA or
	// ES256. Existing keys keep theirs; rotate to switch at once. Default:
	// EdDSA.
	Algorithm string
	// RotateEvery is the age at which Reload replaces the active key.
	// Default (zero): 720 hours. Negative: never; rotate by hand.
	RotateEvery time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives key creation and rotation events. Default: discard.
	Logger *slog.Logger
}

// KeyInfo describes a published signing key, for listing.
type KeyInfo struct {
	ID           string
	Algorithm    string
	CreatedAt    time.Time
	RetiredAt    time.Time // zero for the active key
	PublishUntil time.Time // zero for the active key
	Active       bool      // the key that signs new tokens
}

// Keyring signs and verifies access tokens with the signing keys of a
// store. It is safe for concurrent use.
type Keyring struct {
	store  auth.SigningKeyStore
	sealer Sealer
	cfg    Config
	log    *slog.Logger

	mu    sync.Mutex // serialises store writes and state rebuilds
	state atomic.Pointer[state]

	unknownKey unknownKeyReload // paces reloads for unknown key IDs (unknownkey.go)
}

// state is an immutable snapshot of the keys, swapped as a whole.
type state struct {
	active   *activeKey
	stored   []*auth.SigningKey // as last read from the store, newest first
	infos    []KeyInfo
	jwks     []byte
	verifier *client.Verifier
	// expires is the earliest time a published retired key stops being
	// published (zero if none): the snapshot must be rebuilt then, even
	// without a Reload, so the key stops verifying on time.
	expires time.Time
}

// NewKeyring returns a Keyring over store, whose private keys sealer opens.
// It loads the keys, creating the first one when the store has no active
// key, and rotates when the active key is older than cfg.RotateEvery.
func NewKeyring(ctx context.Context, store auth.SigningKeyStore, sealer Sealer, cfg Config) (*Keyring, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("token: Config.Issuer is required")
	}
	if len(cfg.Audience) == 0 {
		cfg.Audience = []string{cfg.Issuer}
	}
	cfg.Audience = slices.Clone(cfg.Audience)
	switch {
	case cfg.AccessTTL == 0:
		cfg.AccessTTL = DefaultAccessTTL
	case cfg.AccessTTL < 0:
		return nil, fmt.Errorf("token: Config.AccessTTL %v is negative", cfg.AccessTTL)
	}
	switch cfg.Algorithm {
	case "":
		cfg.Algorithm = EdDSA
	case EdDSA, ES256:
	default:
		return nil, fmt.Errorf("token: Config.Algorithm %q: want %s or %s", cfg.Algorithm, EdDSA, ES256)
	}
	if cfg.RotateEvery == 0 {
		cfg.RotateEvery = DefaultRotateEvery
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if store == nil || sealer == nil {
		return nil, errors.New("token: NewKeyring needs a store and a sealer")
	}
	k := &Keyring{store: store, sealer: sealer, cfg: cfg, log: cfg.Logger}
	if err := k.Reload(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// grace is how long a retired key stays published: the longest a token it
// signed may still be accepted.
func (k *Keyring) grace() time.Duration { return k.cfg.AccessTTL + client.MaxLeeway }

// Reload re-reads the store, which other nodes may have changed. It creates
// a key when there is no active one, rotates when the active key is older
// than Config.RotateEvery, and retires unretired keys older than the active
// one (left by concurrent rotations).
func (k *Keyring) Reload(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.cfg.Now()
	keys, err := k.converge(ctx, now)
	if err != nil {
		return err
	}
	active := newestUnretired(keys)
	rotate := active != nil && k.cfg.RotateEvery > 0 && now.Sub(active.CreatedAt) >= k.cfg.RotateEvery
	if active == nil || rotate {
		if rotate {
			k.log.InfoContext(ctx, "token: rotating signing key by age", "kid", active.ID, "created_at", active.CreatedAt)
		}
		if err := k.createKey(ctx, now, keys); err != nil {
			return err
		}
		if keys, err = k.converge(ctx, now); err != nil {
			return err
		}
	}
	return k.install(keys, now)
}

// Rotate makes a new active key and retires the previous ones, which stay
// published until every token they signed has expired.
func (k *Keyring) Rotate(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.cfg.Now()
	keys, err := k.find(ctx, now)
	if err != nil {
		return err
	}
	if err := k.createKey(ctx, now, keys); err != nil {
		return err
	}
	keys, err = k.converge(ctx, now)
	if err != nil {
		return err
	}
	return k.install(keys, now)
}

// converge reads the store and retires every unretired key but the newest,
// so that nodes agree on one active key. It returns the keys as stored
// afterwards. It never retires a key newer than the one it elects, so a
// concurrent rotation on another node wins rather than being undone.
func (k *Keyring) converge(ctx context.Context, now time.Time) ([]*auth.SigningKey, error) {
	keys, err := k.find(ctx, now)
	if err != nil {
		return nil, err
	}
	active := newestUnretired(keys)
	changed := false
	for _, sk := range keys {
		if sk == active || !sk.RetiredAt.IsZero() {
			continue
		}
		err := k.store.RetireSigningKey(ctx, sk.ID, now, now.Add(k.grace()))
		if err != nil && !auth.IsNotFound(err) {
			return nil, fmt.Errorf("token: retire signing key %s: %w", sk.ID, err)
		}
		k.log.InfoContext(ctx, "token: retired signing key", "kid", sk.ID, "publish_until", now.Add(k.grace()))
		changed = true
	}
	if changed {
		return k.find(ctx, now)
	}
	return keys, nil
}

func (k *Keyring) find(ctx context.Context, now time.Time) ([]*auth.SigningKey, error) {
	keys, err := k.store.FindSigningKeys(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("token: load signing keys: %w", err)
	}
	return keys, nil
}

// newestUnretired returns the active key: the unretired key created last,
// ties broken by the greater ID, as the store orders them.
func newestUnretired(keys []*auth.SigningKey) *auth.SigningKey {
	var best *auth.SigningKey
	for _, sk := range keys {
		if !sk.RetiredAt.IsZero() {
			continue
		}
		if best == nil || sk.CreatedAt.After(best.CreatedAt) ||
			sk.CreatedAt.Equal(best.CreatedAt) && sk.ID > best.ID {
			best = sk
		}
	}
	return best
}

// install builds a snapshot from keys and makes it current. The caller
// holds k.mu.
func (k *Keyring) install(keys []*auth.SigningKey, now time.Time) error {
	st, err := k.build(keys, now, k.state.Load())
	if err != nil {
		return err
	}
	k.state.Store(st)
	return nil
}

// build makes a snapshot of the keys published at now. It unseals the
// active key unless prev already holds it.
func (k *Keyring) build(keys []*auth.SigningKey, now time.Time, prev *state) (*state, error) {
	activeRec := newestUnretired(keys)
	if activeRec == nil {
		return nil, errors.New("token: no active signing key")
	}
	var active *activeKey
	if prev != nil && prev.active.id == activeRec.ID {
		active = prev.active
	} else {
		var err error
		if active, err = k.unseal(activeRec); err != nil {
			return nil, err
		}
	}

	st := &state{active: active, stored: keys}
	var jwks [][]byte
	for _, sk := range sortedNewestFirst(keys) {
		retired := !sk.RetiredAt.IsZero()
		if retired && !now.Before(sk.PublishUntil) {
			continue // no longer published: its tokens have all expired
		}
		if !retired && sk.ID != activeRec.ID {
			continue // a loser of a concurrent rotation, not yet retired
		}
		jwk, err := publicJWK(sk)
		if err != nil {
			if sk.ID == activeRec.ID {
				return nil, err
			}
			k.log.Error("token: skipping unreadable signing key", "kid", sk.ID, "err", err)
			continue
		}
		jwks = append(jwks, jwk)
		st.infos = append(st.infos, KeyInfo{
			ID: sk.ID, Algorithm: sk.Algorithm, CreatedAt: sk.CreatedAt,
			RetiredAt: sk.RetiredAt, PublishUntil: sk.PublishUntil, Active: sk.ID == activeRec.ID,
		})
		if retired && (st.expires.IsZero() || sk.PublishUntil.Before(st.expires)) {
			st.expires = sk.PublishUntil
		}
	}
	st.jwks = append(append([]byte(`{"keys":[`), bytes.Join(jwks, []byte(","))...), "]}"...)

	// Verify through exactly what backends see: the published JWKS, parsed
	// by the client package.
	set, err := client.ParseJWKS(st.jwks)
	if err != nil {
		return nil, fmt.Errorf("token: published JWKS: %w", err)
	}
	if set.Len() != len(jwks) {
		return nil, fmt.Errorf("token: published JWKS has %d usable keys, want %d", set.Len(), len(jwks))
	}
	st.verifier = client.NewVerifier(set, k.cfg.Issuer, k.cfg.Audience, client.WithClock(k.cfg.Now))
	return st, nil
}

func sortedNewestFirst(keys []*auth.SigningKey) []*auth.SigningKey {
	s := slices.Clone(keys)
	slices.SortStableFunc(s, func(a, b *auth.SigningKey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	return s
}

// current returns the snapshot, rebuilt first when a retired key's
// publication has ended since it was made.
func (k *Keyring) current() *state {
	st := k.state.Load()
	if st.expires.IsZero() || k.cfg.Now().Before(st.expires) {
		return st
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	st = k.state.Load()
	now := k.cfg.Now()
	if st.expires.IsZero() || now.Before(st.expires) {
		return st
	}
	next, err := k.build(st.stored, now, st)
	if err != nil {
		// Cannot happen with keys that built before; keep serving.
		k.log.Error("token: rebuilding the key set", "err", err)
		return st
	}
	k.state.Store(next)
	return next
}

// Issue signs an access token carrying c's subject, session, roles,
// username, email and permissions. It sets the issuer, audience, issue and
// not-before times (now, in whole seconds), expiry (now plus AccessTTL) and
// a random token ID, replacing whatever c held, and returns the token with
// its expiry. c.Subject and c.SessionID are required.
func (k *Keyring) Issue(c client.Claims) (raw string, exp time.Time, err error) {
	if c.Subject == "" || c.SessionID == "" {
		return "", time.Time{}, errors.New("token: Issue needs a subject and a session ID")
	}
	st := k.current()
	now := k.cfg.Now().UTC().Truncate(time.Second)
	c.Issuer = k.cfg.Issuer
	c.Audience = slices.Clone(k.cfg.Audience)
	c.IssuedAt = now
	c.NotBefore = now
	c.ExpiresAt = now.Add(k.cfg.AccessTTL)
	c.ID = randomID()
	payload, err := c.MarshalJSON()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token: encode claims: %w", err)
	}
	raw, err = st.active.sign(payload)
	if err != nil {
		return "", time.Time{}, err
	}
	return raw, c.ExpiresAt, nil
}

// Verify verifies an access token this Gatehouse issued, with the keys it
// publishes, exactly as client.Verifier does for backends. A token naming a
// key this keyring does not hold (one another node has just created) makes
// it re-read the store first, at most once per UnknownKeyReloadEvery.
func (k *Keyring) Verify(raw string) (*client.Claims, error) {
	c, err := k.current().verifier.Verify(raw)
	if errors.Is(err, client.ErrUnknownKey) {
		k.reloadForUnknownKey()
		return k.current().verifier.Verify(raw)
	}
	return c, err
}

// JWKS returns the JSON Web Key Set (RFC 7517 §5) to serve at
// /.well-known/jwks.json: the public half of the active key and of every
// retired key still published, each with "kid", "kty", "crv", "x" (and "y"),
// "alg" and "use":"sig", and never a private member. The slice is shared:
// do not modify it.
func (k *Keyring) JWKS() []byte { return k.current().jwks }

// Keys lists the published keys, the active one first.
func (k *Keyring) Keys() []KeyInfo { return slices.Clone(k.current().infos) }

// randomID returns 128 random bits, base64url-encoded: 22 URL-safe
// characters, derived from nothing.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
