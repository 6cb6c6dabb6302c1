package password

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Bounds on argon2id salt and hash lengths, in bytes. RFC 9106 §3.1 allows
// salts from 8 bytes and tags from 4; Gatehouse refuses tags under 16 bytes
// when verifying, since no library in common use writes them and a short tag
// lets a wrong password match by chance. The upper bounds only keep stored
// strings to a sensible size.
const (
	minArgon2SaltLen = 8
	maxArgon2SaltLen = 64
	minArgon2KeyLen  = 16
	maxArgon2KeyLen  = 128
)

// b64 is the PHC string format's base64: the standard alphabet without
// padding. Strict refuses non-zero trailing bits; together with refusing the
// CR and LF that Go's decoder skips, each salt and hash has exactly one
// spelling.
// See https://github.com/P-H-C/phc-string-format/blob/master/phc-sf-spec.md#b64
var b64 = base64.RawStdEncoding.Strict()

// argon2idHash is a parsed argon2id PHC string, version 0x13 (19).
type argon2idHash struct {
	memory      uint32 // KiB
	iterations  uint32
	parallelism uint8
	salt, key   []byte
}

// String encodes a in the PHC string format exactly as the reference
// implementation's encode_string does.
func (a argon2idHash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, a.memory, a.iterations, a.parallelism,
		b64.EncodeToString(a.salt), b64.EncodeToString(a.key))
}

func (a argon2idHash) derive(password string, keyLen uint32) []byte {
	return argon2.IDKey([]byte(password), a.salt, a.iterations, a.memory, a.parallelism, keyLen)
}

func (a argon2idHash) verify(password string) (bool, error) {
	got := a.derive(password, uint32(len(a.key)))
	return subtle.ConstantTimeCompare(got, a.key) == 1, nil
}

// checkArgon2id checks parameters both for New and for stored hashes.
func (lim limits) checkArgon2id(m, t uint32, p uint8) error {
	switch {
	case p < 1:
		return fmt.Errorf("parallelism %d, want at least 1", p)
	case t < 1:
		return fmt.Errorf("iterations %d, want at least 1", t)
	case uint64(m) < 8*uint64(p):
		// RFC 9106 §3.1: m is at least 8p KiB. x/crypto/argon2 would
		// silently raise it, computing some other hash than the one stored.
		return fmt.Errorf("memory %d KiB below 8 KiB per lane", m)
	case m > lim.argon2MaxMemory:
		return fmt.Errorf("memory %d KiB above %d", m, lim.argon2MaxMemory)
	case t > lim.argon2MaxIterations:
		return fmt.Errorf("iterations %d above %d", t, lim.argon2MaxIterations)
	case uint64(m)*uint64(t) > lim.argon2MaxWork:
		return fmt.Errorf("memory × iterations %d KiB above %d", uint64(m)*uint64(t), lim.argon2MaxWork)
	}
	return nil
}

// parseArgon2id parses the PHC string format as the reference
// implementation writes it (https://github.com/P-H-C/phc-winner-argon2,
// src/encoding.c):
//
//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<b64 salt>$<b64 hash>
//
// The optional keyid and data parameters of older releases are refused, as
// is a string without salt or hash.
func parseArgon2id(encoded string, lim limits) (stored, error) {
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	f := strings.Split(encoded, "$")
	if len(f) == 5 && strings.HasPrefix(f[2], "m=") {
		// Argon2 1.0 wrote no version field; x/crypto/argon2 computes only
		// version 1.3.
		return nil, fmt.Errorf("%w: argon2id version 1.0", ErrUnknownFormat)
	}
	if len(f) != 6 {
		return nil, fmt.Errorf("%w: argon2id: %d fields, want 6", ErrMalformed, len(f))
	}
	switch f[2] {
	case "v=19":
	case "v=16":
		return nil, fmt.Errorf("%w: argon2id version 1.0", ErrUnknownFormat)
	default:
		return nil, fmt.Errorf("%w: argon2id: bad version field", ErrMalformed)
	}

	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return nil, fmt.Errorf("%w: argon2id: %d parameters, want m, t and p", ErrMalformed, len(ps))
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(ps[i], name)
		if !ok {
			return nil, fmt.Errorf("%w: argon2id: parameter %d is not %s", ErrMalformed, i+1, name)
		}
		// Bounded by the parameter types here; by lim just below.
		max := uint64(1<<32 - 1)
		if name == "p=" {
			max = 255 // x/crypto/argon2 takes lanes as a uint8
		}
		if vals[i], ok = parseDecimal(v, max); !ok {
			return nil, fmt.Errorf("%w: argon2id: parameter %s not a number in range", ErrMalformed, name)
		}
	}
	a := argon2idHash{memory: uint32(vals[0]), iterations: uint32(vals[1]), parallelism: uint8(vals[2])}
	if err := lim.checkArgon2id(a.memory, a.iterations, a.parallelism); err != nil {
		return nil, fmt.Errorf("%w: argon2id: %v", ErrMalformed, err)
	}

	if strings.ContainsAny(f[4]+f[5], "\r\n") {
		return nil, fmt.Errorf("%w: argon2id: line break in salt or hash", ErrMalformed)
	}
	var err error
	if a.salt, err = b64.DecodeString(f[4]); err != nil {
		return nil, fmt.Errorf("%w: argon2id: salt is not unpadded base64", ErrMalformed)
	}
	if n := len(a.salt); n < minArgon2SaltLen || n > maxArgon2SaltLen {
		return nil, fmt.Errorf("%w: argon2id: salt of %d bytes, want %d to %d", ErrMalformed, n, minArgon2SaltLen, maxArgon2SaltLen)
	}
	if a.key, err = b64.DecodeString(f[5]); err != nil {
		return nil, fmt.Errorf("%w: argon2id: hash is not unpadded base64", ErrMalformed)
	}
	if n := len(a.key); n < minArgon2KeyLen || n > maxArgon2KeyLen {
		return nil, fmt.Errorf("%w: argon2id: hash of %d bytes, want %d to %d", ErrMalformed, n, minArgon2KeyLen, maxArgon2KeyLen)
	}
	return a, nil
}
