package password

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// bcryptMaxPassword is the most of a password bcrypt uses: its key schedule
// cycles through at most 72 bytes and ignores the rest.
const bcryptMaxPassword = 72

// bcryptHash is a $2a$, $2b$ or $2y$ hash:
//
//	$2b$<cost, two digits>$<22 characters of salt><31 characters of hash>
//
// in bcrypt's own base64 alphabet. The three prefixes name the same
// algorithm; they differ only in how some C implementations mishandled
// passwords longer than 255 bytes ($2a$ in OpenBSD before 2014) or with
// 8-bit characters ($2x$, crypt_blowfish before 2011, which is refused
// here). Neither bug can arise with passwords of at most 72 bytes.
type bcryptHash struct {
	encoded []byte
}

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// parseBcrypt checks the shape and cost itself, because x/crypto/bcrypt
// accepts any minor version letter and costs up to 31, and only learns of a
// bad salt once it is hashing.
func parseBcrypt(encoded string, lim limits) (stored, error) {
	if len(encoded) != 60 {
		return nil, fmt.Errorf("%w: bcrypt: %d bytes, want 60", ErrMalformed, len(encoded))
	}
	if encoded[6] != '$' {
		return nil, fmt.Errorf("%w: bcrypt: no $ after cost", ErrMalformed)
	}
	// Always two digits, zero-padded, so parseDecimal's canonical form does
	// not apply.
	c0, c1 := encoded[4], encoded[5]
	if c0 < '0' || c0 > '9' || c1 < '0' || c1 > '9' {
		return nil, fmt.Errorf("%w: bcrypt: cost is not two digits", ErrMalformed)
	}
	cost := int(c0-'0')*10 + int(c1-'0')
	if cost < bcrypt.MinCost || cost > lim.bcryptMaxCost {
		return nil, fmt.Errorf("%w: bcrypt: cost %d, want %d to %d", ErrMalformed, cost, bcrypt.MinCost, lim.bcryptMaxCost)
	}
	for i := 7; i < len(encoded); i++ {
		if strings.IndexByte(bcryptAlphabet, encoded[i]) < 0 {
			return nil, fmt.Errorf("%w: bcrypt: character outside its base64 alphabet", ErrMalformed)
		}
	}
	return bcryptHash{encoded: []byte(encoded)}, nil
}

func (b bcryptHash) verify(password string) (bool, error) {
	// bcrypt ignores everything after byte 72, so a longer password would
	// match the hash of its own first 72 bytes. It cannot be what the user
	// set (Gatehouse never hashes with bcrypt, and libraries that truncated
	// silently lost the rest), so it is simply wrong. Returning early skips
	// the work; the timing says only that the account has a bcrypt hash,
	// which format-dependent timing says anyway.
	if len(password) > bcryptMaxPassword {
		return false, nil
	}
	// CompareHashAndPassword compares in constant time.
	err := bcrypt.CompareHashAndPassword(b.encoded, []byte(password))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("%w: bcrypt: %v", ErrMalformed, err)
	}
}
