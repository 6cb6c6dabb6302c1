package password_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/password"
)

// Each rejection has its own reason and its own message, and passphrases up
// to the maximum pass.
func TestPolicyCheck(t *testing.T) {
	p, err := password.NewPolicy(8, 0)
	if err != nil {
		t.Fatal(err)
	}
	passphrase64 := "the quick brown fox jumps over the lazy dog, then naps till noon"
	if n := len([]rune(passphrase64)); n != 64 {
		t.Fatalf("the passphrase has %d characters, want 64", n)
	}
	tests := []struct {
		name, pw, username, email string
		reason, message           string // "" for accepted
	}{
		{"empty", "", "alice", "alice@example.com", password.ReasonEmpty, "Password is required."},
		{"too short", "Xk3#pq1", "alice", "", password.ReasonTooShort, "Password must be at least 8 characters."},
		{"too short in characters, not bytes", "ünïcødé", "", "", password.ReasonTooShort, "Password must be at least 8 characters."},
		{"too long", strings.Repeat("Xk3#pq1!", 33), "", "", password.ReasonTooLong, "Password must be at most 256 characters."},
		{"beyond MaxBytes", strings.Repeat("é", 600), "", "", password.ReasonTooLong, "Password is too long."},
		{"not UTF-8", "abcdefgh\xff", "", "", password.ReasonNotText, "Password must be valid text."},
		{"the username", "AliceInChains", "aliceinchains", "a@example.com", password.ReasonUsername, "Password must not be your username."},
		{"the email", "Alice.Smith@Example.com", "alice", "alice.smith@example.com", password.ReasonEmail, "Password must not be your email address."},
		{"the email's local part", "alice.smith", "alice", "alice.smith@example.com", password.ReasonEmail, "Password must not be the name in your email address."},
		{"common", "password1", "alice", "", password.ReasonCommon, "This password is too common: it is on lists of leaked passwords that attackers try first. Choose another."},
		{"common, other case", "PassWord1", "alice", "", password.ReasonCommon, ""},
		{"common: iloveyou2", "iloveyou2", "", "", password.ReasonCommon, ""},
		{"repeated", "zqzqzqzqzq", "", "", password.ReasonRepetitive, "Password must not be a repeated or sequential run of characters, like aaaaaaaa, abcabcabc or 12345678."},
		{"repeated word", "XkcdXkcdXkcd", "", "", password.ReasonRepetitive, ""},
		{"sequential up", "lmnopqrstu", "", "", password.ReasonRepetitive, ""},
		{"sequential down", "zyxwvutsrq", "", "", password.ReasonRepetitive, ""},
		{"a 64-character passphrase", passphrase64, "alice", "alice@example.com", "", ""},
		{"unicode passphrase", "ünïcødé pässphrâsé ✓", "alice", "", "", ""},
		{"short but fine", "Tr0ub4dor&3", "alice", "", "", ""},
		{"contains the username", "alice-in-wonderland-42", "alice", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Check(tc.pw, tc.username, tc.email)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tc.pw, err)
				}
				return
			}
			var pe *password.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Check(%q) = %v, want a *PolicyError", tc.pw, err)
			}
			if pe.Reason != tc.reason {
				t.Errorf("Check(%q) reason = %q, want %q", tc.pw, pe.Reason, tc.reason)
			}
			if tc.message != "" && pe.Message != tc.message {
				t.Errorf("Check(%q) message = %q, want %q", tc.pw, pe.Message, tc.message)
			}
		})
	}
}

// Every reason has a message of its own.
func TestPolicyMessagesDiffer(t *testing.T) {
	var p password.Policy
	inputs := []string{"", "short", strings.Repeat("x1", 200), "bad\xffbytes", "username1", "mail@example.com", "password1", "zqzqzqzqzq"}
	seen := map[string]string{}
	for _, in := range inputs {
		err := p.Check(in, "username1", "mail@example.com")
		var pe *password.PolicyError
		if !errors.As(err, &pe) {
			t.Fatalf("Check(%q) = %v, want a refusal", in, err)
		}
		if other, dup := seen[pe.Message]; dup {
			t.Errorf("Check(%q) and Check(%q) share the message %q", in, other, pe.Message)
		}
		seen[pe.Message] = in
	}
}

func TestNewPolicy(t *testing.T) {
	tests := []struct {
		min, max int
		ok       bool
	}{
		{0, 0, true}, {8, 64, true}, {15, 4096, true}, {8, 63, false}, {100, 80, false}, {-1, 64, false},
	}
	for _, tc := range tests {
		_, err := password.NewPolicy(tc.min, tc.max)
		if (err == nil) != tc.ok {
			t.Errorf("NewPolicy(%d, %d) = %v, want ok %v", tc.min, tc.max, err, tc.ok)
		}
	}
}

// The shipped list is the whole list, and lookups are exact.
func TestCommonList(t *testing.T) {
	if n := password.CommonCount(); n != 50000 {
		t.Errorf("CommonCount() = %d, want 50000", n)
	}
	for _, pw := range []string{"!qaz1qaz", "zzzzzzzzzzzz", "qwertyuiop", "12345678", "Password"} {
		if !password.IsCommon(pw) {
			t.Errorf("IsCommon(%q) = false, want true", pw)
		}
	}
	for _, pw := range []string{"password1 ", "correct horse battery staple", "", "# Common passwords"} {
		if password.IsCommon(pw) {
			t.Errorf("IsCommon(%q) = true, want false", pw)
		}
	}
}

func ExamplePolicy_Check() {
	p, _ := password.NewPolicy(8, 64)
	for _, pw := range []string{"sunshine1", "alice", "12345678910", "correct horse battery staple"} {
		fmt.Printf("%q: %v\n", pw, p.Check(pw, "alice", "alice@example.com"))
	}
	// Output:
	// "sunshine1": This password is too common: it is on lists of leaked passwords that attackers try first. Choose another.
	// "alice": Password must be at least 8 characters.
	// "12345678910": This password is too common: it is on lists of leaked passwords that attackers try first. Choose another.
	// "correct horse battery staple": <nil>
}

func TestIdentify(t *testing.T) {
	h, _ := password.New(password.Params{Memory: 1024, Iterations: 1})
	argon, _ := h.Hash("x")
	tests := []struct{ hash, want string }{
		{argon, "argon2id"},
		{"$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "bcrypt"},
		{"pbkdf2:sha256:600000$MYSALTxx$" + strings.Repeat("ab", 32), "pbkdf2"},
		{"scrypt:32768:8:1$salt$" + strings.Repeat("ab", 64), "scrypt"},
		{"sha256$salt$abcdef", ""},
		{"pbkdf2:sha256:99999999$s$" + strings.Repeat("ab", 32), ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, err := password.Identify(tc.hash)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("Identify(%.30q) = %q, %v; want %q", tc.hash, got, err, tc.want)
		}
	}
}
