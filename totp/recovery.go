package totp

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// recoveryAlphabet has 32 characters, so each carries 5 bits, and leaves out
// those that are easy to misread on paper: l and 1, o and 0.
const recoveryAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// Recovery code shape: 12 characters in groups of 4 (60 bits), e.g.
// "k7hd-2mqx-9prt".
const (
	recoveryChars = 12
	recoveryGroup = 4
	// recoveryMaxInput bounds what HashRecoveryCode is asked to read.
	recoveryMaxInput = 64
)

// NewRecoveryCodes returns auth.RecoveryCodeCount new recovery codes, to show
// to the user once, and their hashes, to store (HashRecoveryCode of each).
//
// Each code has 60 random bits. That is enough against online guessing,
// which the HTTP layer limits; against someone with a copy of the database
// the hashes hold up as far as 60 bits do, and the codes only matter
// together with the account's password.
func NewRecoveryCodes() (codes []string, hashes [][]byte) {
	seen := map[string]bool{}
	for len(codes) < auth.RecoveryCodeCount {
		c := newRecoveryCode()
		if seen[c] {
			continue
		}
		seen[c] = true
		codes = append(codes, c)
		hashes = append(hashes, HashRecoveryCode(c))
	}
	return codes, hashes
}

func newRecoveryCode() string {
	var b [recoveryChars]byte
	rand.Read(b[:]) // never fails (crypto/rand: "Read ... never returns an error")
	var s strings.Builder
	for i, x := range b {
		if i > 0 && i%recoveryGroup == 0 {
			s.WriteByte('-')
		}
		// 256 is a multiple of 32: the low five bits are uniform.
		s.WriteByte(recoveryAlphabet[x&31])
	}
	return s.String()
}

// NormalizeRecoveryCode returns the canonical form of a recovery code as a
// user may type it: lowercase, without dashes or spaces.
func NormalizeRecoveryCode(code string) string {
	var s strings.Builder
	for _, r := range strings.ToLower(code) {
		switch r {
		case '-', ' ', '\t', '\n', '\r', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212':
			continue // separators, including the dashes word processors substitute
		}
		s.WriteRune(r)
	}
	return s.String()
}

// HashRecoveryCode returns the stored form of a recovery code: SHA-256 of the
// normalised code, so "K7HD 2MQX 9PRT" and "k7hd-2mqx-9prt" hash alike. A
// fast hash is enough for 60 random bits used once each; see
// NewRecoveryCodes.
func HashRecoveryCode(code string) []byte {
	h := sha256.Sum256([]byte(NormalizeRecoveryCode(code)))
	return h[:]
}
