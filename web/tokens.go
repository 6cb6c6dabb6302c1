package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/client"
	"github.com/gatehouse-dev/gatehouse/session"
)

// RefreshPrefix starts every refresh token, so that a leaked one is
// recognisable to people and secret scanners.
const RefreshPrefix = "ghr_"

// refreshLen is the length of a refresh token: the prefix and 256 bits.
const refreshLen = len(RefreshPrefix) + 43

// tokenResponse is the body of a successful token login or refresh.
type tokenResponse struct {
	AccessToken  string     `json:"access_token"`
	RefreshToken string     `json:"refresh_token,omitempty"` // none when a session cookie keeps the sign-in
	TokenType    string     `json:"token_type"`
	ExpiresIn    int        `json:"expires_in"`
	User         *auth.User `json:"user"`
}

// accessToken signs an access token for a user's session. Its claims mirror
// the user as they are now: roles, username, email, and permissions when the
// deployment puts them in tokens.
func (s *Server) accessToken(r *http.Request, u *auth.User, sess *auth.Session) (string, time.Time, error) {
	c := client.Claims{Subject: u.ID, SessionID: sess.ID, Roles: u.Roles, Username: u.Username, Email: u.Email}
	if s.cfg.TokenPermissions {
		perms, err := s.cfg.Accounts.Store().FindPermissions(r.Context(), u.Roles)
		if err != nil {
			return "", time.Time{}, err
		}
		c.Permissions = perms
	}
	return s.cfg.Tokens.Issue(c)
}

// issuePair signs an access token and stores a new refresh token for a
// session.
func (s *Server) issuePair(r *http.Request, u *auth.User, sess *auth.Session) (*tokenResponse, error) {
	at, exp, err := s.accessToken(r, u, sess)
	if err != nil {
		return nil, err
	}
	secret, hash := auth.NewSecret(RefreshPrefix)
	now := time.Now()
	rt := &auth.RefreshToken{Hash: hash, SessionID: sess.ID, UserID: u.ID, CreatedAt: now, ExpiresAt: minTime(now.Add(s.cfg.RefreshTTL), sess.ExpiresAt)}
	if err := s.cfg.Accounts.Store().CreateRefreshToken(r.Context(), rt); err != nil {
		return nil, err
	}
	return &tokenResponse{AccessToken: at, RefreshToken: secret, TokenType: "Bearer", ExpiresIn: int(time.Until(exp).Seconds()), User: u}, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// startTokenSession begins the session behind a token login: it lives as long
// as a refresh token, and appears on the user's list of devices like a
// browser sign-in.
func (s *Server) startTokenSession(r *http.Request, u *auth.User, method string) (*auth.Session, error) {
	_, sess, err := s.cfg.Sessions.Start(r.Context(), u, session.Options{
		Lifetime: s.cfg.RefreshTTL, IP: s.clientIP(r), UserAgent: r.UserAgent(), Method: method,
	})
	return sess, err
}

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
	// Remember makes the session cookie persistent, for the SDK's
	// same-site sign-ins (X-Gatehouse-Session-Cookie); tokens ignore it.
	Remember bool `json:"remember"`
}

// apiLogin signs in with a password and returns a token pair.
func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Tokens == nil {
		return auth.Errorf(auth.ENotFound, "Token sign-in is not enabled.")
	}
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	u, err := s.authenticate(w, r, req.Login, req.Password)
	if err != nil {
		return err
	}
	// A pair, or 401 mfa_required with an mfa_token (signin_mfa.go).
	return s.completeTokenSignIn(w, r, u, signInOptions{Method: "password", Remember: req.Remember})
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

var errBadRefresh = auth.Errorf(auth.EInvalidToken, "The refresh token is invalid or has expired.")

// apiRefresh trades a refresh token for a new pair. The old token stops
// working; presenting it again ends the whole session (RFC 9700 §4.14.2).
func (s *Server) apiRefresh(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Tokens == nil {
		return auth.Errorf(auth.ENotFound, "Token sign-in is not enabled.")
	}
	var req refreshRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.checkRefreshIP(r); err != nil {
		return err
	}
	if len(req.RefreshToken) != refreshLen || req.RefreshToken[:len(RefreshPrefix)] != RefreshPrefix {
		return s.guessFailed(r, errBadRefresh)
	}
	secret, hash := auth.NewSecret(RefreshPrefix)
	now := time.Now()
	next := &auth.RefreshToken{Hash: hash, CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
	sess, err := s.cfg.Accounts.Store().RotateRefreshToken(r.Context(), auth.HashSecret(req.RefreshToken), next, now, now.Add(s.cfg.Sessions.TokenTTL()))
	if auth.ErrorCode(err) == auth.ETokenReused {
		var target string
		var data map[string]string
		if sess != nil { // the ended session, and whose it was
			target, data = sess.UserID, map[string]string{"session_id": sess.ID}
			s.cfg.Sessions.Ended(r.Context(), sess.ID, "refresh token reused")
		}
		s.cfg.Audit.Record(r.Context(), auth.EventRefreshTokenReused, "", target, data)
		return err
	}
	if auth.ErrorCode(err) == auth.EInvalidToken {
		return s.guessFailed(r, err)
	}
	if err != nil {
		return err
	}
	// The rotation itself found the session; it must not have expired, and
	// its user must still be active. (Rechecking the session afterwards would
	// let a concurrent replay of the old token, which ends the family, turn
	// this rotation's success into a failure: of concurrent refreshes exactly
	// one wins, and reuse still kills the family, new tokens included.)
	if !now.Before(sess.ExpiresAt) {
		return errBadRefresh
	}
	u, err := s.cfg.Accounts.Store().FindUserByID(r.Context(), sess.UserID)
	if auth.IsNotFound(err) || (err == nil && !u.Active) {
		return errBadRefresh
	}
	if err != nil {
		return err
	}
	if err := s.checkRefreshSession(r, sess); err != nil {
		return err
	}
	// No new tokens while the user's role requires two-step verification
	// that is not on (enrollment.go).
	if err := s.enrollmentGate(r, u); err != nil {
		return err
	}
	live := sess
	at, exp, err := s.accessToken(r, u, live)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, &tokenResponse{AccessToken: at, RefreshToken: secret, TokenType: "Bearer",
		ExpiresIn: int(time.Until(exp).Seconds()), User: u})
	return nil
}

// jwks publishes the public keys that verify access tokens. Keys change
// rarely and clients refetch on an unknown key ID, so a short cache is safe.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Tokens == nil {
		s.writeJSONError(w, r, notFoundError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(s.cfg.Tokens.JWKS())
}

// revocationEntry is one revoked session in the feed.
type revocationEntry struct {
	SID   string    `json:"sid"`
	Until time.Time `json:"until"`
}

// apiRevocations is the revocation feed that lets backends verifying tokens
// offline drop tokens of ended sessions: every revocation after the cursor
// (all current ones without it) and the next cursor. It needs an API key with
// the revocations or admin scope.
func (s *Server) apiRevocations(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(w, r)
	if err != nil {
		return err
	}
	if p == nil {
		return auth.Errorf(auth.EUnauthorized, "Send an API key with the revocations scope.")
	}
	if p.apiKey == nil {
		return auth.Errorf(auth.EForbidden, "The revocation feed needs an API key with the revocations scope.")
	}
	if !p.can(auth.ScopeRevocations) && !p.can(auth.ScopeAdmin) {
		return auth.Errorf(auth.EForbidden, "This API key lacks the revocations scope.")
	}
	var after int64
	if c := r.URL.Query().Get("since"); c != "" {
		if after, err = strconv.ParseInt(c, 10, 64); err != nil || after < 0 {
			return &auth.Error{Code: auth.EInvalidRequest, Message: "since must be a cursor from an earlier response.", Fields: map[string]string{"since": "invalid cursor"}}
		}
	}
	revs, err := s.cfg.Accounts.Store().FindRevocations(r.Context(), after, time.Now(), 10000)
	if err != nil {
		return err
	}
	out := make([]revocationEntry, 0, len(revs))
	cursor := after
	for _, rv := range revs {
		out = append(out, revocationEntry{SID: rv.SessionID, Until: rv.Until})
		cursor = rv.Seq
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": out, "cursor": fmt.Sprint(cursor)})
	return nil
}

type introspectRequest struct {
	Token string `json:"token"`
}

// apiIntrospect tells a backend that cannot verify tokens itself whether an
// access token is active (RFC 7662). It needs an API key with the introspect
// or admin scope; an inactive token is {"active": false} and nothing more.
func (s *Server) apiIntrospect(w http.ResponseWriter, r *http.Request) error {
	p, err := s.principal(w, r)
	if err != nil {
		return err
	}
	if p == nil {
		return auth.Errorf(auth.EUnauthorized, "Send an API key with the introspect scope.")
	}
	if p.apiKey == nil {
		return auth.Errorf(auth.EForbidden, "Introspection needs an API key with the introspect scope.")
	}
	if !p.can(auth.ScopeIntrospect) && !p.can(auth.ScopeAdmin) {
		return auth.Errorf(auth.EForbidden, "This API key lacks the introspect scope.")
	}
	var req introspectRequest
	if ct := r.Header.Get("Content-Type"); len(ct) >= 33 && ct[:33] == "application/x-www-form-urlencoded" {
		req.Token = r.PostFormValue("token") // RFC 7662 §2.1 sends a form
	} else if err := decodeJSON(r, &req); err != nil {
		return err
	}
	inactive := map[string]any{"active": false}
	if req.Token == "" || s.cfg.Tokens == nil {
		writeJSON(w, http.StatusOK, inactive)
		return nil
	}
	claims, err := s.cfg.Tokens.Verify(req.Token)
	if err != nil {
		writeJSON(w, http.StatusOK, inactive)
		return nil
	}
	if _, _, err := s.cfg.Sessions.CheckID(r.Context(), claims.SessionID); err != nil {
		if errors.Is(err, session.ErrNoSession) {
			writeJSON(w, http.StatusOK, inactive)
			return nil
		}
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"active": true, "sub": claims.Subject, "sid": claims.SessionID, "roles": claims.Roles,
		"username": claims.Username, "email": claims.Email, "iss": claims.Issuer, "aud": claims.Audience,
		"exp": claims.ExpiresAt.Unix(), "iat": claims.IssuedAt.Unix(), "jti": claims.ID, "token_type": "access_token",
		"permissions": claims.Permissions,
	})
	return nil
}
