package password

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Policy decides which new passwords are acceptable, following NIST SP
// 800-63B §5.1.1.2 (and §3.1.1.2 of the 2024 revision): a minimum length
// (8 by default), a maximum of at least 64 characters so that passphrases fit,
// no composition rules (no "one digit, one symbol"), and a blocklist: common
// and breached passwords, repetitive or sequential runs, and the words of the
// account itself (its username and email address).
//
// Lengths count characters (Unicode code points), not bytes. Passwords are
// not trimmed or normalised; see the package documentation.
//
// The zero Policy is usable and has the defaults.
type Policy struct {
	// MinLength is the shortest acceptable password. Default 8; NIST asks 15
	// where the password is the only factor.
	MinLength int
	// MaxLength is the longest acceptable password. Default 256; NewPolicy
	// refuses less than 64. Passwords longer than MaxBytes bytes are refused
	// whatever MaxLength says.
	MaxLength int
}

// NewPolicy checks the lengths and returns a Policy (zero means default).
func NewPolicy(minLength, maxLength int) (Policy, error) {
	p := Policy{MinLength: minLength, MaxLength: maxLength}.withDefaults()
	switch {
	case p.MinLength < 1:
		return Policy{}, errors.New("password: the minimum length must be at least 1")
	case p.MaxLength < 64:
		return Policy{}, fmt.Errorf("password: the maximum length must be at least 64 characters (NIST SP 800-63B), not %d", p.MaxLength)
	case p.MinLength > p.MaxLength:
		return Policy{}, fmt.Errorf("password: the minimum length %d is above the maximum %d", p.MinLength, p.MaxLength)
	}
	return p, nil
}

func (p Policy) withDefaults() Policy {
	if p.MinLength == 0 {
		p.MinLength = 8
	}
	if p.MaxLength == 0 {
		p.MaxLength = 256
	}
	return p
}

// Reasons for refusing a password, in PolicyError.Reason.
const (
	ReasonEmpty      = "empty"
	ReasonTooShort   = "too_short"
	ReasonTooLong    = "too_long"
	ReasonNotText    = "not_text"   // not valid UTF-8
	ReasonUsername   = "username"   // the account's username
	ReasonEmail      = "email"      // the account's email address, or its local part
	ReasonCommon     = "common"     // on the list of common and breached passwords
	ReasonRepetitive = "repetitive" // a repeated or sequential run, such as aaaaaaaa or 12345678
)

// PolicyError says why a password was refused, with a message fit to show
// the user next to the password field.
type PolicyError struct {
	Reason  string
	Message string
}

func (e *PolicyError) Error() string { return e.Message }

func refuse(reason, format string, args ...any) *PolicyError {
	return &PolicyError{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Check returns a *PolicyError when password may not be used by the account
// with this username and email address (either may be ""), and nil when it
// may. The checks run in a fixed order and the first failure is reported.
func (p Policy) Check(password, username, email string) error {
	p = p.withDefaults()
	switch {
	case password == "":
		return refuse(ReasonEmpty, "Password is required.")
	case len(password) > MaxBytes:
		return refuse(ReasonTooLong, "Password is too long.")
	case !utf8.ValidString(password):
		return refuse(ReasonNotText, "Password must be valid text.")
	}
	n := utf8.RuneCountInString(password)
	switch {
	case n > p.MaxLength:
		return refuse(ReasonTooLong, "Password must be at most %d characters.", p.MaxLength)
	case n < p.MinLength:
		return refuse(ReasonTooShort, "Password must be at least %d characters.", p.MinLength)
	case username != "" && strings.EqualFold(password, username):
		return refuse(ReasonUsername, "Password must not be your username.")
	case email != "" && strings.EqualFold(password, email):
		return refuse(ReasonEmail, "Password must not be your email address.")
	}
	if local, _, ok := strings.Cut(email, "@"); ok && len(local) >= 3 && strings.EqualFold(password, local) {
		return refuse(ReasonEmail, "Password must not be the name in your email address.")
	}
	if IsCommon(password) {
		return refuse(ReasonCommon, "This password is too common: it is on lists of leaked passwords that attackers try first. Choose another.")
	}
	if repetitive(password) {
		return refuse(ReasonRepetitive, "Password must not be a repeated or sequential run of characters, like aaaaaaaa, abcabcabc or 12345678.")
	}
	return nil
}

//go:embed blocklist/common-passwords.txt
var commonFile string

// common is the blocklist, lowercase and sorted, parsed on first use.
var common = sync.OnceValue(func() []string {
	var list []string
	for line := range strings.Lines(commonFile) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		list = append(list, line)
	}
	if !slices.IsSorted(list) {
		slices.Sort(list)
	}
	return list
})

// IsCommon reports whether password, lowercased, is on Gatehouse's list of
// common and breached passwords (see blocklist/README.md for its origin).
func IsCommon(password string) bool {
	_, found := slices.BinarySearch(common(), strings.ToLower(password))
	return found
}

// CommonCount returns the number of passwords on the blocklist.
func CommonCount() int { return len(common()) }

// repetitive reports whether s is one unit repeated (aaaaaaaa, abcabcabc,
// 12121212, passpasspass) or a run of consecutive characters up or down
// (abcdefgh, 98765432), ignoring case.
func repetitive(s string) bool {
	r := []rune(strings.ToLower(s))
	if len(r) < 2 {
		return true
	}
	for unit := 1; unit*2 <= len(r); unit++ {
		// Units of up to 3 repeated at least twice, longer ones (passpasspass)
		// at least three times and whole.
		if unit > 3 && (len(r)%unit != 0 || len(r)/unit < 3) {
			continue
		}
		same := true
		for i := unit; i < len(r) && same; i++ {
			same = r[i] == r[i-unit]
		}
		if same {
			return true
		}
	}
	for _, step := range []rune{1, -1} {
		run := true
		for i := 1; i < len(r) && run; i++ {
			run = r[i]-r[i-1] == step
		}
		if run {
			return true
		}
	}
	return false
}
