package auth

import (
	"crypto/rand"
	"encoding/base32"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// User is an account. PasswordHash is empty for accounts that sign in only with
// passkeys, social logins or email links.
type User struct {
	ID            string     `json:"id"`
	Username      string     `json:"username"`
	Email         string     `json:"email"`
	EmailVerified bool       `json:"email_verified"`
	PasswordHash  string     `json:"-"`
	Active        bool       `json:"active"`
	Roles         []string   `json:"roles"`
	CreatedAt     time.Time  `json:"created_at"`
	LastLoginAt   *time.Time `json:"last_login_at"`
}

// HasRole reports whether u holds role.
func (u *User) HasRole(role string) bool {
	for _, r := range u.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// HasPassword reports whether u can sign in with a password.
func (u *User) HasPassword() bool { return u.PasswordHash != "" }

// UserUpdate lists the fields to change on a user; nil fields are left alone.
// Roles are changed with SetUserRoles, not here.
type UserUpdate struct {
	Username      *string
	Email         *string
	EmailVerified *bool
	PasswordHash  *string
	Active        *bool
	LastLoginAt   *time.Time
}

// UserFilter selects users for FindUsers. Zero fields match everything.
type UserFilter struct {
	// Query matches the start of the username or the email, case-insensitively.
	Query         string
	Role          string
	Active        *bool
	EmailVerified *bool
	// Sort is one of "created_at", "-created_at" (the default), "username",
	// "-username", "email", "-email", "last_login_at", "-last_login_at".
	Sort string
	// Offset and Limit page the result; Limit 0 means 50, and it is capped at 500.
	Offset int
	Limit  int
}

// Role is a named set of privileges that users hold many-to-many.
type Role struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Permissions are finer-grained grants (such as "posts:write") that every
	// holder of the role has.
	Permissions []string  `json:"permissions"`
	CreatedAt   time.Time `json:"created_at"`
}

// Seeded roles, created by the first migration.
const (
	RoleUser   = "user"
	RoleEditor = "editor"
	RoleAdmin  = "admin"
)

// NewID returns a random, non-sequential identifier: 128 bits from the
// operating system's generator, as 26 lowercase base32 characters.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand: "Read ... never returns an error")
	return strings.ToLower(idEncoding.EncodeToString(b[:]))
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Username rules: 3–32 characters of ASCII letters, digits, '_', '.' and '-'.
// Uniqueness is case-insensitive; the case the user typed is kept for display.
const (
	UsernameMinLen = 3
	UsernameMaxLen = 32
	// EmailMaxLen is RFC 5321's limit on a forward path.
	EmailMaxLen = 254
)

// ValidateUsername returns a readable problem with name, or "" when it is valid.
func ValidateUsername(name string) string {
	switch {
	case name == "":
		return "Username is required."
	case len(name) < UsernameMinLen:
		return "Username must be at least 3 characters."
	case len(name) > UsernameMaxLen:
		return "Username must be at most 32 characters."
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return "Username can only contain letters, numbers, _ . -"
		}
	}
	return ""
}

// NormalizeEmail trims spaces and lowercases an address, so that one mailbox
// has one spelling in the store. It does not validate; see ValidateEmail.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// ValidateEmail returns a readable problem with a normalised address, or "" when
// it is valid. Only bare addresses are accepted: no display name, no comments.
func ValidateEmail(email string) string {
	if email == "" {
		return "Email is required."
	}
	if len(email) > EmailMaxLen || !utf8.ValidString(email) {
		return "Enter a valid email address."
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "Enter a valid email address."
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n<>") {
		return "Enter a valid email address."
	}
	return ""
}

// ValidatePermission returns a readable problem with a permission name, or ""
// when it is valid: the same alphabet as role names, 1–128 characters.
func ValidatePermission(p string) string {
	if p == "" || len(p) > 128 {
		return "Permissions have 1 to 128 characters."
	}
	if ValidateRoleName(p[:min(len(p), 64)]) != "" {
		return "Permissions can only contain lowercase letters, numbers, _ - . :"
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			return "Permissions can only contain lowercase letters, numbers, _ - . :"
		}
	}
	return ""
}

// ValidateRoleName returns a readable problem with a role name, or "" when it
// is valid: 1–64 characters of lowercase letters, digits, '_', '-', '.', ':'.
func ValidateRoleName(name string) string {
	if name == "" || len(name) > 64 {
		return "Role names have 1 to 64 characters."
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			return "Role names can only contain lowercase letters, numbers, _ - . :"
		}
	}
	return ""
}
