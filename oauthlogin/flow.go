package oauthlogin

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Sealer encrypts the flow state for the browser and binds it to its use
// (additionalData). *masterkey.Key implements it, with AES-256-GCM.
type Sealer interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// FlowMaxAge is how long a sign-in at a provider may take, from Start to
// Finish: the flow cookie's lifetime, and the oldest flow state Finish
// accepts.
const FlowMaxAge = 10 * time.Minute

// Names of the flow cookie. The __Host- prefix makes browsers insist on
// Secure, Path=/ and no Domain, so no other host or path can plant or read
// it (RFC 6265bis §4.1.3.2); it needs https, so plain-http development uses
// the other name.
const (
	FlowCookieName         = "__Host-gatehouse_oauth"
	FlowCookieNameInsecure = "gatehouse_oauth"
)

// maxCookieValue bounds what OpenFlowState reads; a real value is about
// 400 bytes.
const maxCookieValue = 4096

// FlowState is what one sign-in at a provider must remember between Start
// and Finish. It is kept in the browser that started the flow, sealed (see
// Seal), so that the callback can only complete in that browser.
type FlowState struct {
	// State is the OAuth state parameter: 256 random bits, base64url.
	State string `json:"s"`
	// Verifier is the PKCE code verifier (RFC 7636 §4.1); the provider saw
	// only its S256 challenge.
	Verifier string `json:"v"`
	// Nonce is the OpenID Connect nonce; empty for GitHub.
	Nonce string `json:"n,omitempty"`
	// Provider is the name of the provider the flow was started with; the
	// callback must be for the same one.
	Provider string `json:"p"`
	// RedirectURL is the callback URL the flow uses, sent again when the
	// code is exchanged (RFC 6749 §4.1.3).
	RedirectURL string `json:"r"`
	// ReturnTo is where to send the user afterwards, as given to Start.
	// Validate it again before redirecting.
	ReturnTo string `json:"rt,omitempty"`
	// LinkSession, when set, makes the flow link the provider to the
	// account of the session with this ID rather than sign in: the caller
	// sets it after Start, and at the callback accepts it only from a
	// browser still signed in to that session, so a link started by one
	// session cannot complete in another.
	LinkSession string `json:"l,omitempty"`
	// CreatedAt is when Start made the flow.
	CreatedAt time.Time `json:"t"`
}

// flowSealData binds a sealed flow state to this use of the master key.
var flowSealData = []byte("gatehouse oauth flow v1")

func randomString() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand: "Read ... never returns an error")
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Seal encrypts and authenticates the flow state into a cookie value.
func (f *FlowState) Seal(s Sealer) (string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("seal flow state: %w", err)
	}
	sealed, err := s.Seal(b, flowSealData)
	if err != nil {
		return "", fmt.Errorf("seal flow state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// OpenFlowState opens a cookie value made by Seal. Anything else — altered,
// truncated, sealed with another key or for another purpose, or incomplete
// — is ErrInvalidState. It does not check the age; Finish does, with the
// Login's clock.
func OpenFlowState(s Sealer, cookieValue string) (*FlowState, error) {
	if cookieValue == "" || len(cookieValue) > maxCookieValue {
		return nil, stateError("flow cookie missing or too long")
	}
	sealed, err := base64.RawURLEncoding.DecodeString(cookieValue)
	if err != nil {
		return nil, stateError("flow cookie is not base64url")
	}
	b, err := s.Open(sealed, flowSealData)
	if err != nil {
		return nil, stateError("flow cookie does not open")
	}
	var f FlowState
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, stateError("flow cookie is not a flow state")
	}
	if f.State == "" || f.Verifier == "" || f.Provider == "" || f.RedirectURL == "" || f.CreatedAt.IsZero() {
		return nil, stateError("flow state incomplete")
	}
	return &f, nil
}

// Cookie returns the flow cookie carrying the sealed state: HttpOnly, for
// the whole site, expiring with the flow. secure selects the __Host- name
// and the Secure flag; pass false only for plain-http development.
//
// SameSite is Lax, not Strict: the callback is a top-level navigation from
// the provider's site, and a Strict cookie would not come with it.
func (f *FlowState) Cookie(s Sealer, secure bool) (*http.Cookie, error) {
	v, err := f.Seal(s)
	if err != nil {
		return nil, err
	}
	return &http.Cookie{
		Name:     FlowCookie(secure),
		Value:    v,
		Path:     "/",
		MaxAge:   int(FlowMaxAge / time.Second),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}, nil
}

// ClearFlowCookie returns the cookie that deletes the flow cookie. Set it on
// every callback response, success or not: a flow state is good for one
// callback.
func ClearFlowCookie(secure bool) *http.Cookie {
	return &http.Cookie{
		Name:     FlowCookie(secure),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// FlowCookie returns the name of the flow cookie for secure (https) or
// plain-http serving.
func FlowCookie(secure bool) string {
	if secure {
		return FlowCookieName
	}
	return FlowCookieNameInsecure
}
