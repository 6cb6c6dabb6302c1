package password

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// Werkzeug's werkzeug.security writes method$salt$hex, where method names the
// function and its parameters, salt is a string used as its UTF-8 bytes (not
// decoded), and hex is the derived key in lowercase hex. check_password_hash
// splits on the first two "$" and compares hex strings, so the hex must be
// lowercase and of exactly the length Python derives, or it never matches.
// See src/werkzeug/security.py, _hash_internal and check_password_hash, in
// https://github.com/pallets/werkzeug.

// werkzeugPBKDF2DefaultIterations is what check_password_hash uses when the
// method names no iteration count ("pbkdf2:sha256" or, from 2.3, "pbkdf2").
// No Werkzeug release writes such a hash, since generate_password_hash always
// records the count it used, but check_password_hash reads one with its own
// DEFAULT_PBKDF2_ITERATIONS, which has changed: 260,000 in 2.0 to 2.2,
// 600,000 in 2.3 to 3.0, and 1,000,000 from 3.1. This follows 3.1; a hash
// made for an older default will not verify, and its user must reset.
const werkzeugPBKDF2DefaultIterations = 1_000_000

// Werkzeug's scrypt default, used when the method is just "scrypt" (again
// never written, only read). It has been 2^15, 8, 1 since scrypt arrived in
// 2.3.
const (
	werkzeugScryptN = 1 << 15
	werkzeugScryptR = 8
	werkzeugScryptP = 1
)

// werkzeugScryptKeyLen is hashlib.scrypt's default dklen, which Werkzeug does
// not override.
const werkzeugScryptKeyLen = 64

// pbkdf2Digest returns the hash function for a hashlib digest name, or nil.
// Werkzeug hashes use sha256 (long the default), sha512, and sha1 (the
// default of early releases, with 1,000 iterations); sha224 and sha384 cost
// nothing to support.
func pbkdf2Digest(name string) func() hash.Hash {
	switch name {
	case "sha1":
		return sha1.New
	case "sha224":
		return sha256.New224
	case "sha256":
		return sha256.New
	case "sha384":
		return sha512.New384
	case "sha512":
		return sha512.New
	}
	return nil
}

// werkzeugSplit splits method$salt$hex the way check_password_hash does, and
// decodes the hex, which must be lowercase and keyLen bytes long.
func werkzeugSplit(encoded string, keyLen int) (salt string, key []byte, err error) {
	_, rest, ok := strings.Cut(encoded, "$")
	if !ok {
		return "", nil, fmt.Errorf("%w: werkzeug: no salt", ErrMalformed)
	}
	salt, hexKey, ok := strings.Cut(rest, "$")
	if !ok {
		return "", nil, fmt.Errorf("%w: werkzeug: no hash", ErrMalformed)
	}
	if len(hexKey) != 2*keyLen {
		return "", nil, fmt.Errorf("%w: werkzeug: hash of %d hex digits, want %d", ErrMalformed, len(hexKey), 2*keyLen)
	}
	for i := 0; i < len(hexKey); i++ {
		if c := hexKey[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", nil, fmt.Errorf("%w: werkzeug: hash is not lowercase hex", ErrMalformed)
		}
	}
	key, _ = hex.DecodeString(hexKey) // checked just above
	return salt, key, nil
}

// pbkdf2Hash is a Werkzeug pbkdf2:<digest>:<iterations>$salt$hex hash.
type pbkdf2Hash struct {
	digest     func() hash.Hash
	iterations int
	salt       []byte
	key        []byte
}

// parsePBKDF2 reads "pbkdf2", "pbkdf2:<digest>" and
// "pbkdf2:<digest>:<iterations>", as Werkzeug 2.3+'s _hash_internal does.
// (Before 2.3 the bare "pbkdf2" was not a PBKDF2 method at all, and failed.)
func parsePBKDF2(encoded string, lim limits) (stored, error) {
	method, _, _ := strings.Cut(encoded, "$")
	args := strings.Split(method, ":")[1:]
	digestName, iterations := "sha256", uint64(werkzeugPBKDF2DefaultIterations)
	switch len(args) {
	case 0:
	case 1:
		digestName = args[0]
	case 2:
		digestName = args[0]
		var ok bool
		if iterations, ok = parseDecimal(args[1], lim.pbkdf2MaxIterations); !ok || iterations < 1 {
			return nil, fmt.Errorf("%w: pbkdf2: iterations not a number from 1 to %d", ErrMalformed, lim.pbkdf2MaxIterations)
		}
	default:
		return nil, fmt.Errorf("%w: pbkdf2: %d arguments, want at most 2", ErrMalformed, len(args))
	}
	if iterations > lim.pbkdf2MaxIterations {
		// Only the default can get here, when lim is the fuzz tests'.
		return nil, fmt.Errorf("%w: pbkdf2: iterations above %d", ErrMalformed, lim.pbkdf2MaxIterations)
	}
	digest := pbkdf2Digest(digestName)
	if digest == nil {
		return nil, fmt.Errorf("%w: pbkdf2 with an unsupported digest", ErrUnknownFormat)
	}
	// hashlib.pbkdf2_hmac's dklen defaults to the digest size.
	salt, key, err := werkzeugSplit(encoded, digest().Size())
	if err != nil {
		return nil, err
	}
	return pbkdf2Hash{digest: digest, iterations: int(iterations), salt: []byte(salt), key: key}, nil
}

func (p pbkdf2Hash) verify(password string) (bool, error) {
	got, err := pbkdf2.Key(p.digest, password, p.salt, p.iterations, len(p.key))
	if err != nil {
		// Only FIPS 140-only mode (GODEBUG=fips140=only) refuses what parse
		// accepts: SHA-1, and salts under 16 bytes such as old Werkzeug's
		// 8-character ones. The hash is fine; this process may not check it.
		return false, fmt.Errorf("%w: pbkdf2: %v", ErrUnknownFormat, err)
	}
	return subtle.ConstantTimeCompare(got, p.key) == 1, nil
}

// scryptHash is a Werkzeug scrypt:<N>:<r>:<p>$salt$hex hash.
type scryptHash struct {
	n, r, p int
	salt    []byte
	key     []byte
}

// parseScrypt reads "scrypt" and "scrypt:<N>:<r>:<p>", as Werkzeug 2.3+'s
// _hash_internal does, then derives with hashlib.scrypt's defaults.
func parseScrypt(encoded string, lim limits) (stored, error) {
	method, _, _ := strings.Cut(encoded, "$")
	args := strings.Split(method, ":")[1:]
	n, r, p := uint64(werkzeugScryptN), uint64(werkzeugScryptR), uint64(werkzeugScryptP)
	switch len(args) {
	case 0:
	case 3:
		var okN, okR, okP bool
		n, okN = parseDecimal(args[0], lim.scryptMaxN)
		r, okR = parseDecimal(args[1], lim.scryptMaxR)
		p, okP = parseDecimal(args[2], lim.scryptMaxP)
		if !okN || !okR || !okP {
			return nil, fmt.Errorf("%w: scrypt: N, r or p not a number in range", ErrMalformed)
		}
	default:
		return nil, fmt.Errorf("%w: scrypt: %d arguments, want 0 or 3", ErrMalformed, len(args))
	}
	switch {
	case n < 2 || n&(n-1) != 0:
		return nil, fmt.Errorf("%w: scrypt: N=%d is not a power of 2 above 1", ErrMalformed, n)
	case r < 1 || p < 1:
		return nil, fmt.Errorf("%w: scrypt: r and p must be at least 1", ErrMalformed)
	case n > lim.scryptMaxN || n*r*p > lim.scryptMaxWork:
		// parseDecimal capped each factor, so the product cannot overflow.
		return nil, fmt.Errorf("%w: scrypt: N=%d, r=%d, p=%d above the ceiling", ErrMalformed, n, r, p)
	}
	salt, key, err := werkzeugSplit(encoded, werkzeugScryptKeyLen)
	if err != nil {
		return nil, err
	}
	return scryptHash{n: int(n), r: int(r), p: int(p), salt: []byte(salt), key: key}, nil
}

func (s scryptHash) verify(password string) (bool, error) {
	got, err := scrypt.Key([]byte(password), s.salt, s.n, s.r, s.p, len(s.key))
	if err != nil {
		return false, fmt.Errorf("%w: scrypt: %v", ErrMalformed, err)
	}
	return subtle.ConstantTimeCompare(got, s.key) == 1, nil
}
