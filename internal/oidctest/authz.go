package oidctest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// AuthRequest is an authorization request as the provider received it.
type AuthRequest struct {
	// The request's parameters, by their OAuth names.
	ClientID            string
	RedirectURI         string
	ResponseType        string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
}

// TokenRequest is a token request as the provider received it, and how it
// was answered.
type TokenRequest struct {
	// ClientID is the client that authenticated, or tried to.
	ClientID string
	// ClientAuth is how the client authenticated: "basic", "post" or "".
	ClientAuth string
	// The request's parameters, by their OAuth names.
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	// Error is the OAuth error code the provider answered with, or "".
	Error string
}

// grant is an authorization code and what it was issued for.
type grant struct {
	req     AuthRequest
	user    any // the user it signs in, as the authorization endpoint saw it
	expires time.Time
	used    bool
}

// authz is the authorization-code machinery both fakes share: the codes,
// client authentication, PKCE (RFC 7636) and the records of requests.
type authz struct {
	clientID, clientSecret string
	redirectURIs           []string

	mu     sync.Mutex
	codes  map[string]*grant
	auths  []AuthRequest
	tokens []TokenRequest
}

func newAuthz(clientID, clientSecret string, redirectURIs []string) *authz {
	return &authz{clientID: clientID, clientSecret: clientSecret, redirectURIs: redirectURIs, codes: map[string]*grant{}}
}

func random() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// authorize checks an authorization request and records it. It returns the
// request, or an error to show instead of redirecting: a request with a bad
// client or redirect URI must not redirect anywhere (RFC 6749 §4.1.2.1).
func (a *authz) authorize(r *http.Request) (AuthRequest, error) {
	q := r.URL.Query()
	req := AuthRequest{
		ClientID:            q.Get("client_id"),
		RedirectURI:         q.Get("redirect_uri"),
		ResponseType:        q.Get("response_type"),
		Scope:               q.Get("scope"),
		State:               q.Get("state"),
		Nonce:               q.Get("nonce"),
		CodeChallenge:       q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"),
	}
	a.mu.Lock()
	a.auths = append(a.auths, req)
	a.mu.Unlock()
	if req.ClientID != a.clientID {
		return req, errors.New("unknown client_id")
	}
	u, err := url.Parse(req.RedirectURI)
	if err != nil || !u.IsAbs() || u.Fragment != "" {
		return req, errors.New("redirect_uri must be an absolute URL")
	}
	if len(a.redirectURIs) > 0 && !slices.Contains(a.redirectURIs, req.RedirectURI) {
		return req, errors.New("redirect_uri is not registered")
	}
	return req, nil
}

// issueCode makes a code for req that signs in user.
func (a *authz) issueCode(req AuthRequest, user any) string {
	code := random()
	a.mu.Lock()
	a.codes[code] = &grant{req: req, user: user, expires: time.Now().Add(time.Minute)}
	a.mu.Unlock()
	return code
}

// redirect sends the browser back to the client with params.
func redirect(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, _ := url.Parse(redirectURI)
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// oauthError is an error of the token endpoint (RFC 6749 §5.2).
type oauthError struct {
	status      int
	code        string
	description string
}

// Error implements error.
func (e *oauthError) Error() string { return e.code + ": " + e.description }

// redeem checks a token request and spends its code, returning the grant.
// The request is recorded whatever the outcome.
func (a *authz) redeem(r *http.Request) (*grant, *oauthError) {
	rec := TokenRequest{}
	g, oerr := a.check(r, &rec)
	if oerr != nil {
		rec.Error = oerr.code
	}
	a.mu.Lock()
	a.tokens = append(a.tokens, rec)
	a.mu.Unlock()
	return g, oerr
}

func (a *authz) check(r *http.Request, rec *TokenRequest) (*grant, *oauthError) {
	if r.Method != http.MethodPost {
		return nil, &oauthError{http.StatusMethodNotAllowed, "invalid_request", "use POST"}
	}
	if err := r.ParseForm(); err != nil {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "malformed body"}
	}
	f := r.PostForm
	rec.GrantType, rec.Code, rec.RedirectURI, rec.CodeVerifier = f.Get("grant_type"), f.Get("code"), f.Get("redirect_uri"), f.Get("code_verifier")

	// Client authentication (RFC 6749 §2.3.1): HTTP Basic with the
	// form-encoded id and secret, or both in the body; never both ways.
	id, secret, basic := r.BasicAuth()
	switch {
	case basic && f.Get("client_secret") != "":
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "more than one client authentication method"}
	case basic:
		rec.ClientAuth = "basic"
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	case f.Get("client_secret") != "":
		rec.ClientAuth = "post"
		id, secret = f.Get("client_id"), f.Get("client_secret")
	default:
		id = f.Get("client_id")
	}
	rec.ClientID = id
	if id != a.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(a.clientSecret)) != 1 {
		return nil, &oauthError{http.StatusUnauthorized, "invalid_client", "client authentication failed"}
	}
	if rec.GrantType != "authorization_code" {
		return nil, &oauthError{http.StatusBadRequest, "unsupported_grant_type", "only authorization_code"}
	}

	a.mu.Lock()
	g := a.codes[rec.Code]
	var fresh bool
	if g != nil {
		fresh = !g.used && time.Now().Before(g.expires)
		g.used = true // a code is spent by its first presentation (RFC 6749 §4.1.2)
	}
	a.mu.Unlock()
	switch {
	case g == nil || !fresh:
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "unknown, expired or used code"}
	case g.req.ClientID != id:
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "code issued to another client"}
	case g.req.RedirectURI != rec.RedirectURI:
		// RFC 6749 §4.1.3: identical to the authorization request's.
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request"}
	}
	// PKCE, RFC 7636 §4.6. A verifier without a challenge is refused too, so
	// that a client cannot be downgraded (RFC 9700 §2.1.1).
	challenge, method := g.req.CodeChallenge, g.req.CodeChallengeMethod
	if challenge == "" {
		if rec.CodeVerifier != "" {
			return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "code_verifier without a code_challenge"}
		}
		return g, nil
	}
	if method == "" {
		method = "plain" // RFC 7636 §4.3
	}
	if method != "S256" && method != "plain" {
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "unsupported code_challenge_method"}
	}
	if rec.CodeVerifier == "" {
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "code_verifier required"}
	}
	want := rec.CodeVerifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(rec.CodeVerifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) != 1 {
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge"}
	}
	return g, nil
}

// AuthRequests returns the authorization requests received so far.
func (a *authz) AuthRequests() []AuthRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.auths)
}

// TokenRequests returns the token requests received so far.
func (a *authz) TokenRequests() []TokenRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.tokens)
}

// Callback plays the browser's part of an authorization: it follows authURL
// to the provider, which approves at once, and returns the query of the
// redirect back to the client (code, state, iss; or error). It does not
// follow that redirect.
func Callback(authURL string) (url.Values, error) {
	c := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Get(authURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("authorize: status %d, want a redirect", resp.StatusCode)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, err
	}
	return u.Query(), nil
}
