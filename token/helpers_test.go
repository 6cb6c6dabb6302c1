package token_test

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/token"
)

// memStore is an in-memory auth.SigningKeyStore that behaves like the SQL
// one: microsecond times, newest first, first retirement kept.
type memStore struct {
	mu   sync.Mutex
	keys map[string]*auth.SigningKey
	// failFind, when set, makes FindSigningKeys fail.
	failFind error
}

func newMemStore() *memStore { return &memStore{keys: map[string]*auth.SigningKey{}} }

func (s *memStore) CreateSigningKey(_ context.Context, k *auth.SigningKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.keys[k.ID]; dup {
		return auth.Errorf(auth.EConflict, "Signing key exists.")
	}
	c := *k
	c.CreatedAt = c.CreatedAt.Truncate(time.Microsecond)
	c.Sealed, c.PublicJWK = slices.Clone(k.Sealed), slices.Clone(k.PublicJWK)
	s.keys[k.ID] = &c
	return nil
}

func (s *memStore) FindSigningKeys(_ context.Context, now time.Time) ([]*auth.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failFind != nil {
		return nil, s.failFind
	}
	var out []*auth.SigningKey
	for _, k := range s.keys {
		if k.RetiredAt.IsZero() || k.PublishUntil.After(now) {
			c := *k
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *auth.SigningKey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		if a.ID > b.ID {
			return -1
		}
		return 1
	})
	return out, nil
}

func (s *memStore) RetireSigningKey(_ context.Context, id string, retiredAt, publishUntil time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok {
		return auth.Errorf(auth.ENotFound, "Signing key not found.")
	}
	if k.RetiredAt.IsZero() {
		k.RetiredAt, k.PublishUntil = retiredAt.Truncate(time.Microsecond), publishUntil.Truncate(time.Microsecond)
	}
	return nil
}

func (s *memStore) get(id string) *auth.SigningKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *s.keys[id]
	return &c
}

func (s *memStore) unretired() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, k := range s.keys {
		if k.RetiredAt.IsZero() {
			ids = append(ids, id)
		}
	}
	return ids
}

// gcmSealer seals with AES-256-GCM, like the master key does.
type gcmSealer struct{ aead cipher.AEAD }

func newSealer() *gcmSealer {
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	return &gcmSealer{aead}
}

func (s *gcmSealer) Seal(plaintext, ad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plaintext, ad), nil
}

func (s *gcmSealer) Open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], ad)
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const issuer = "https://auth.example.com"

// env is a keyring with its store, sealer and clock.
type env struct {
	store  *memStore
	sealer *gcmSealer
	clock  *clock
	cfg    token.Config
}

func newEnv(alg string) *env {
	e := &env{store: newMemStore(), sealer: newSealer(), clock: newClock()}
	e.cfg = token.Config{Issuer: issuer, Algorithm: alg, Now: e.clock.Now}
	return e
}

func (e *env) keyring(t testing.TB) *token.Keyring {
	t.Helper()
	k, err := token.NewKeyring(context.Background(), e.store, e.sealer, e.cfg)
	if err != nil {
		t.Fatalf("NewKeyring() = %v", err)
	}
	return k
}

// privateKey unseals a stored key, as only a test may.
func (e *env) privateKey(t testing.TB, kid string) crypto.Signer {
	t.Helper()
	sk := e.store.get(kid)
	der, err := e.sealer.Open(sk.Sealed, []byte(kid))
	if err != nil {
		t.Fatal(err)
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return p.(crypto.Signer)
}

func activeID(t testing.TB, k *token.Keyring) string {
	t.Helper()
	for _, ki := range k.Keys() {
		if ki.Active {
			return ki.ID
		}
	}
	t.Fatal("no active key")
	return ""
}
