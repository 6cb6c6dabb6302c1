package password

import (
	"crypto/rand"
	"errors"
	"fmt"
)

// MaxBytes is the longest password, in bytes of UTF-8, that [Hasher.Hash] and
// [Hasher.Verify] accept. Real passwords and passphrases are far shorter; the
// cap exists so that a request carrying megabytes of "password" is turned away
// before it reaches a key derivation function.
const MaxBytes = 1024

var (
	// ErrTooLong means the password is longer than MaxBytes. It is returned
	// before any hashing work is done.
	ErrTooLong = errors.New("password: longer than MaxBytes")

	// ErrUnknownFormat means the stored hash is not in a format this package
	// can verify, such as an old Werkzeug plain or salted-digest hash, argon2i,
	// or argon2 version 1.0; or one this process may not check, such as
	// PBKDF2 with SHA-1 under GODEBUG=fips140=only.
	ErrUnknownFormat = errors.New("password: unknown hash format")

	// ErrMalformed means the stored hash looks like a supported format but
	// cannot be parsed, or asks for work factors beyond the ceilings this
	// package enforces.
	ErrMalformed = errors.New("password: malformed hash")

	// ErrInvalidParams means New was given parameters it will not hash with.
	ErrInvalidParams = errors.New("password: invalid params")
)

// Params are the argon2id parameters for new hashes. A zero field takes its
// default, so Params{} is the same as DefaultParams().
type Params struct {
	// Memory is the memory cost in KiB. Default 19456 (19 MiB). It must be at
	// least 8 KiB per lane (RFC 9106 §3.1) and at most 4 GiB.
	Memory uint32

	// Iterations is the number of passes over memory. Default 2. At most 1000,
	// and Memory × Iterations may not exceed 8 GiB of passes.
	Iterations uint32

	// Parallelism is the number of lanes, each filled by its own goroutine.
	// Default 1.
	Parallelism uint8

	// SaltLen is the salt length in bytes. Default 16, the length RFC 9106 §3.1
	// recommends for password hashing; 16 to 64.
	SaltLen uint32

	// KeyLen is the hash length in bytes. Default 32; 16 to 128.
	KeyLen uint32
}

// DefaultParams returns the parameters New uses for zero fields: OWASP's
// first argon2id recommendation, m=19 MiB, t=2, p=1, with a 16-byte salt and
// a 32-byte hash.
//
// See https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id
func DefaultParams() Params {
	return Params{
		Memory:      19 * 1024,
		Iterations:  2,
		Parallelism: 1,
		SaltLen:     16,
		KeyLen:      32,
	}
}

// Hasher hashes new passwords with argon2id and verifies stored hashes of
// every supported format. Its methods are safe for concurrent use.
type Hasher struct {
	params Params
	lim    limits

	// dummy is an argon2id hash with h's params of a password nobody knows,
	// made in New so that VerifyDummy runs the very code path Verify does.
	dummy string
}

// New returns a Hasher that writes argon2id hashes with p, after filling zero
// fields from DefaultParams. It returns an error wrapping ErrInvalidParams if
// p is outside the bounds documented on Params, which are the same ceilings
// Verify enforces, so a Hasher never writes a hash it would refuse to read.
//
// Weaker parameters than the defaults are accepted, because tests need fast
// hashers; choosing them for production is the caller's decision.
func New(p Params) (*Hasher, error) {
	d := DefaultParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Iterations == 0 {
		p.Iterations = d.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = d.Parallelism
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}

	lim := defaultLimits()
	if err := lim.checkArgon2id(p.Memory, p.Iterations, p.Parallelism); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidParams, err)
	}
	// New hashes get the RFC 9106 §3.1 recommended 16-byte salt at least,
	// though Verify reads the 8-byte minimum the RFC allows.
	if p.SaltLen < 16 || p.SaltLen > maxArgon2SaltLen {
		return nil, fmt.Errorf("%w: salt length %d, want 16 to %d", ErrInvalidParams, p.SaltLen, maxArgon2SaltLen)
	}
	if p.KeyLen < minArgon2KeyLen || p.KeyLen > maxArgon2KeyLen {
		return nil, fmt.Errorf("%w: key length %d, want %d to %d", ErrInvalidParams, p.KeyLen, minArgon2KeyLen, maxArgon2KeyLen)
	}

	h := &Hasher{params: p, lim: lim}
	h.dummy = argon2idHash{
		memory:      p.Memory,
		iterations:  p.Iterations,
		parallelism: p.Parallelism,
		salt:        randomBytes(p.SaltLen),
		key:         randomBytes(p.KeyLen),
	}.String()
	return h, nil
}

// Params returns the parameters h hashes with, defaults filled in.
func (h *Hasher) Params() Params { return h.params }

// Hash returns an argon2id PHC string for password with a fresh random salt.
// The only error is ErrTooLong.
func (h *Hasher) Hash(password string) (string, error) {
	if len(password) > MaxBytes {
		return "", ErrTooLong
	}
	return h.hashWithSalt(password, randomBytes(h.params.SaltLen)), nil
}

func (h *Hasher) hashWithSalt(password string, salt []byte) string {
	a := argon2idHash{
		memory:      h.params.Memory,
		iterations:  h.params.Iterations,
		parallelism: h.params.Parallelism,
		salt:        salt,
	}
	a.key = a.derive(password, h.params.KeyLen)
	return a.String()
}

// Verify reports whether password matches the stored hash encoded, which may
// be in any format the package documentation lists.
//
// A wrong password is (false, nil). An error means the check could not be
// made: ErrTooLong for an oversized password, ErrUnknownFormat or ErrMalformed
// for a stored hash that cannot be used. Callers should treat every error as
// a failed sign-in towards the user, and log the malformed-hash ones, which
// point at a damaged row rather than a mistyped password.
func (h *Hasher) Verify(password, encoded string) (bool, error) {
	// Length first, before even parsing, so an oversized password costs
	// nothing whatever it is compared with.
	if len(password) > MaxBytes {
		return false, ErrTooLong
	}
	s, err := parse(encoded, h.lim)
	if err != nil {
		return false, err
	}
	return s.verify(password)
}

// VerifyDummy does the work of Verify against an argon2id hash with h's
// parameters, and discards the result. Call it when a sign-in names an
// account that does not exist, or one that has no password, so that the
// response takes as long as a wrong password would and its timing does not
// tell an attacker which accounts exist.
func (h *Hasher) VerifyDummy(password string) {
	_, _ = h.Verify(password, h.dummy)
}

// NeedsRehash reports whether encoded should be replaced by h.Hash of the
// same password at the next successful sign-in: true for every format other
// than argon2id, for argon2id with less memory or fewer passes than h uses,
// with a different parallelism, salt length or key length, and for anything
// that does not parse.
//
// Hashes with more memory or passes than h's are kept: lowering the
// configuration, for instance to fit a smaller machine, should not quietly
// weaken hashes that are stronger.
func (h *Hasher) NeedsRehash(encoded string) bool {
	s, err := parse(encoded, h.lim)
	if err != nil {
		return true
	}
	a, ok := s.(argon2idHash)
	if !ok {
		return true
	}
	p := h.params
	return a.memory < p.Memory ||
		a.iterations < p.Iterations ||
		a.parallelism != p.Parallelism ||
		uint32(len(a.salt)) != p.SaltLen ||
		uint32(len(a.key)) != p.KeyLen
}

func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error: it crashes the program
	// instead, since Go 1.24, as no caller can safely carry on without
	// randomness.
	_, _ = rand.Read(b)
	return b
}
