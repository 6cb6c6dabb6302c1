// Package masterkey holds Gatehouse's master secret: the one secret from which
// every other key is derived or under which it is encrypted at rest (token
// signing keys, and the keys of later features).
//
// The secret comes from GATEHOUSE_SECRET_KEY when that is set; otherwise it is
// generated on first start into a file in the data directory, readable only by
// its owner (mode 0600), and read back on every later start.
//
// Threat model: a copy of the database alone must not yield a usable signing
// key, so private keys are sealed with AES-256-GCM under a key derived from the
// master secret, with the record's identity as additional data (a sealed value
// moved to another record does not open). Whoever holds both the database and
// the master secret holds everything; keep them apart in backups.
package masterkey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the name of the generated secret file in the data directory.
const FileName = "gatehouse.key"

// MinLength is the least number of characters a configured secret may have.
const MinLength = 32

// Key is the master secret. It is safe for concurrent use.
type Key struct {
	secret []byte
	aead   cipher.AEAD
}

// New returns a Key for a configured secret of at least MinLength characters.
func New(secret string) (*Key, error) {
	if len(secret) < MinLength {
		return nil, fmt.Errorf("secret key: must be at least %d characters", MinLength)
	}
	k := &Key{secret: []byte(secret)}
	sealKey, err := k.Derive("gatehouse seal v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return k, nil
}

// ErrNoSecret is returned by Read when no secret is configured and dir holds
// no secret file.
var ErrNoSecret = errors.New("masterkey: no secret configured and no secret file")

// Read returns the configured secret when it is not empty; otherwise it reads
// the secret file in dir. Unlike Load it never creates the file: with neither
// a secret nor a file it returns an error wrapping ErrNoSecret. Tools that
// work on an existing installation use it, because a secret they generated
// would not open what the installation sealed under its own.
func Read(configured, dir string) (*Key, error) {
	if configured != "" {
		return New(configured)
	}
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: %w", path, ErrNoSecret)
	case err != nil:
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	k, err := New(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// Load is Read, except that with neither a configured secret nor a secret
// file it creates the file in dir with a new random secret (mode 0600).
// generated reports whether it did.
func Load(configured, dir string) (k *Key, generated bool, err error) {
	k, err = Read(configured, dir)
	if !errors.Is(err, ErrNoSecret) {
		return k, false, err
	}
	path := filepath.Join(dir, FileName)
	var raw [32]byte
	rand.Read(raw[:])
	secret := base64.RawURLEncoding.EncodeToString(raw[:])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data directory: %w", err)
	}
	// O_EXCL: if another process created the file since we looked, read its
	// secret instead of overwriting it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Load("", dir)
	}
	if err != nil {
		return nil, false, fmt.Errorf("create secret key: %w", err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write secret key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("write secret key: %w", err)
	}
	k, err = New(secret)
	return k, true, err
}

// Derive returns n bytes derived from the master secret for one purpose
// (HKDF-SHA256, RFC 5869). Different purposes give independent keys.
func (k *Key) Derive(purpose string, n int) ([]byte, error) {
	return hkdf.Key(sha256.New, k.secret, nil, purpose, n)
}

// Seal encrypts plaintext, binding it to additionalData (for example the ID of
// the record that stores it). The result holds its own random nonce.
func (k *Key) Seal(plaintext, additionalData []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, plaintext, additionalData), nil
}

// ErrOpen is returned by Open when the sealed value was not sealed by this key
// with this additional data, or was altered.
var ErrOpen = errors.New("masterkey: sealed value does not open with this key")

// Open decrypts a value made by Seal with the same additionalData.
func (k *Key) Open(sealed, additionalData []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < ns+k.aead.Overhead() {
		return nil, ErrOpen
	}
	pt, err := k.aead.Open(nil, sealed[:ns], sealed[ns:], additionalData)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
