package password

import (
	"fmt"
	"strings"
)

// stored is a parsed hash, ready to check a password against.
type stored interface {
	// verify reports whether password matches, comparing in constant time.
	// An error means the hash turned out unusable only once used, for
	// example a bcrypt salt that does not decode.
	verify(password string) (bool, error)
}

// maxEncodedLen bounds the stored string itself. The longest legitimate one,
// pbkdf2:sha512 with a generous salt, is about 200 bytes.
const maxEncodedLen = 1024

// limits are the ceilings on work factors read from stored hashes. They sit
// well above anything the libraries that made the hashes choose by default,
// and well below what would let one planted hash tie up a server: each allows
// at most a few seconds of CPU and, for the memory-hard functions, at most
// 4 GiB (argon2id) or 512 MiB (scrypt).
//
// They are a struct rather than constants only so that the fuzz tests can
// lower them and keep every iteration cheap.
type limits struct {
	argon2MaxMemory     uint32 // KiB
	argon2MaxIterations uint32
	argon2MaxWork       uint64 // KiB × passes
	bcryptMaxCost       int
	pbkdf2MaxIterations uint64
	scryptMaxN          uint64
	scryptMaxR          uint64
	scryptMaxP          uint64
	scryptMaxWork       uint64 // N × r × p
}

func defaultLimits() limits {
	return limits{
		// 4 GiB admits RFC 9106 §4's first recommended option (2 GiB, t=1,
		// p=4); the work bound, 8 GiB of passes, is what stops 4 GiB × 1000.
		argon2MaxMemory:     4 << 20,
		argon2MaxIterations: 1000,
		argon2MaxWork:       8 << 20,
		// Cost 16 is 64 times the common default of 10: seconds, not minutes.
		bcryptMaxCost: 16,
		// Five times Werkzeug 3.1's default of 1,000,000.
		pbkdf2MaxIterations: 5_000_000,
		// Werkzeug's default is 2^15, 8, 1; N × r × p up to 16 times that
		// keeps memory (128 × N × r bytes) at 512 MiB or less. The separate
		// caps on r and p bound the PBKDF2 pre-pass, which is 128 × r × p
		// bytes long.
		scryptMaxN:    1 << 22,
		scryptMaxR:    32,
		scryptMaxP:    16,
		scryptMaxWork: 1 << 22,
	}
}

// parse recognises the format of encoded by its prefix and parses it,
// checking work factors against lim. It does no hashing work at all.
//
// Errors name parameters but never quote the hash, because they end up in
// logs.
func parse(encoded string, lim limits) (stored, error) {
	if len(encoded) > maxEncodedLen {
		return nil, fmt.Errorf("%w: %d bytes, longer than %d", ErrMalformed, len(encoded), maxEncodedLen)
	}
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return parseArgon2id(encoded, lim)
	case strings.HasPrefix(encoded, "$2a$"),
		strings.HasPrefix(encoded, "$2b$"),
		strings.HasPrefix(encoded, "$2y$"):
		return parseBcrypt(encoded, lim)
	}
	// Werkzeug's method is everything before the first "$", split on ":".
	method, _, _ := strings.Cut(encoded, "$")
	name, _, _ := strings.Cut(method, ":")
	switch name {
	case "pbkdf2":
		return parsePBKDF2(encoded, lim)
	case "scrypt":
		return parseScrypt(encoded, lim)
	}
	return nil, ErrUnknownFormat
}

// parseDecimal parses a canonical unsigned decimal: ASCII digits only, no
// sign, no leading zeros, at most max. Every library whose hashes are read
// here writes numbers this way, so anything else is a damaged hash, and
// refusing it keeps one hash from having several spellings.
func parseDecimal(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if d > max || n > (max-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
