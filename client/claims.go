package client

import (
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4/json"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Claims are the claims of a Gatehouse access token (RFC 9068 §2.2, plus
// Gatehouse's own "sid", "roles", "username", "email" and "permissions").
//
// Their JSON form, from MarshalJSON, is the token payload: registered claim
// names, NumericDate times in whole seconds, zero values left out except
// "roles", which is always present.
type Claims struct {
	Issuer    string    // "iss": the Gatehouse public URL
	Subject   string    // "sub": the user ID
	Audience  []string  // "aud"
	ExpiresAt time.Time // "exp"
	IssuedAt  time.Time // "iat"
	NotBefore time.Time // "nbf"; zero when absent
	ID        string    // "jti": unique per token
	SessionID string    // "sid": the session the token was issued from
	Roles     []string  // "roles"
	Username  string    // "username"
	Email     string    // "email"
	// Permissions ("permissions") are finer-grained grants than roles; the
	// claim is left out when empty.
	Permissions []string
}

// HasRole reports whether the claims grant role r.
func (c *Claims) HasRole(r string) bool { return slices.Contains(c.Roles, r) }

// HasPermission reports whether the claims grant permission p.
func (c *Claims) HasPermission(p string) bool { return slices.Contains(c.Permissions, p) }

// wireClaims is the JSON form of Claims. It is decoded with go-jose's JSON
// package, which matches member names case-sensitively: {"SUB": …} is not
// "sub". It mirrors jwt.Claims but for the audience, whose jwt.Audience
// decodes through an interface{} and costs a tenth of Verify's glue.
type wireClaims struct {
	Issuer      string           `json:"iss,omitempty"`
	Subject     string           `json:"sub,omitempty"`
	Audience    audience         `json:"aud,omitempty"`
	Expiry      *jwt.NumericDate `json:"exp,omitempty"`
	NotBefore   *jwt.NumericDate `json:"nbf,omitempty"`
	IssuedAt    *jwt.NumericDate `json:"iat,omitempty"`
	ID          string           `json:"jti,omitempty"`
	SessionID   string           `json:"sid,omitempty"`
	Roles       []string         `json:"roles"`
	Username    string           `json:"username,omitempty"`
	Email       string           `json:"email,omitempty"`
	Permissions []string         `json:"permissions,omitempty"`
}

// MarshalJSON encodes c as a token payload. Times are truncated to seconds.
func (c Claims) MarshalJSON() ([]byte, error) {
	w := wireClaims{
		Issuer:      c.Issuer,
		Subject:     c.Subject,
		Audience:    audience(c.Audience),
		Expiry:      jwt.NewNumericDate(c.ExpiresAt),
		IssuedAt:    jwt.NewNumericDate(c.IssuedAt),
		NotBefore:   jwt.NewNumericDate(c.NotBefore),
		ID:          c.ID,
		SessionID:   c.SessionID,
		Roles:       c.Roles,
		Username:    c.Username,
		Email:       c.Email,
		Permissions: c.Permissions,
	}
	if w.Roles == nil {
		w.Roles = []string{}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a token payload into c. It refuses duplicate members
// at any depth, but checks no claim: only Verify says whether claims are
// to be trusted.
func (c *Claims) UnmarshalJSON(data []byte) error {
	if err := checkJSON(data, maxPayloadDepth, nil); err != nil {
		return err
	}
	var w wireClaims
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("decode claims: %w", err)
	}
	*c = w.claims()
	return nil
}

func (w *wireClaims) claims() Claims {
	return Claims{
		Issuer:      w.Issuer,
		Subject:     w.Subject,
		Audience:    []string(w.Audience),
		ExpiresAt:   timeOf(w.Expiry),
		IssuedAt:    timeOf(w.IssuedAt),
		NotBefore:   timeOf(w.NotBefore),
		ID:          w.ID,
		SessionID:   w.SessionID,
		Roles:       w.Roles,
		Username:    w.Username,
		Email:       w.Email,
		Permissions: w.Permissions,
	}
}

// registered returns the registered claims, for go-jose's validation.
func (w *wireClaims) registered() jwt.Claims {
	return jwt.Claims{
		Issuer:    w.Issuer,
		Subject:   w.Subject,
		Audience:  jwt.Audience(w.Audience),
		Expiry:    w.Expiry,
		NotBefore: w.NotBefore,
		IssuedAt:  w.IssuedAt,
		ID:        w.ID,
	}
}

// audience is "aud": a string or an array of strings (RFC 7519 §4.1.3).
type audience []string

// MarshalJSON writes a single audience as a string, like jwt.Audience.
func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON reads a string or an array of strings.
func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return jwt.ErrUnmarshalAudience
	}
	*a = l
	return nil
}

func timeOf(n *jwt.NumericDate) time.Time {
	if n == nil {
		return time.Time{}
	}
	return n.Time().UTC()
}
