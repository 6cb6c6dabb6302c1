package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/metrics"
	"github.com/gatehouse-dev/gatehouse/ratelimit"
)

// Rate limits and the client's address.
//
// The limits (package ratelimit, Config.Limits) apply to every way in that
// can be guessed at: password sign-ins on the hosted page and the API, API
// keys and malformed bearer credentials, refresh tokens, passkey answers,
// and registrations; and to passkey sign-ins begun, each of which stores a
// ceremony. Mails and one-time codes are limited by the account
// service. A limited request gets 429 rate_limited with Retry-After; while a
// sign-in is limited even the right password gets 429, so a limit never
// confirms a password, and an identifier that names no account is limited
// exactly like one that does.
//
// When the limiter cannot answer (Redis is down), the request is refused
// with 503 and Retry-After rather than let through unchecked: an attacker
// who can make the limiter fail must not gain unlimited guesses. Requests
// that need no limit check (session and token checks, pages) are not
// affected.

// limiterRetry is the Retry-After of a request refused because the limiter
// did not answer: long enough for a Redis failover, short enough that a
// person retrying by hand barely notices.
const limiterRetry = 5 * time.Second

// retryLater is an EUnavailable error with the wait that Retry-After
// announces.
type retryLater struct {
	err   *auth.Error
	after time.Duration
}

func (e *retryLater) Error() string { return e.err.Error() }

// Unwrap returns the *auth.Error, so that auth.ErrorCode sees EUnavailable.
func (e *retryLater) Unwrap() error { return e.err }

// RetryAfterSeconds is the wait in whole seconds, at least 1.
func (e *retryLater) RetryAfterSeconds() int {
	return max(int((e.after+time.Second-1)/time.Second), 1)
}

// setUnavailableRetryAfter sets Retry-After on a 503: the wait the error
// carries, or one second (a full hash pool drains within a few hash times).
func setUnavailableRetryAfter(w http.ResponseWriter, err error) {
	secs := 1
	var ra interface{ RetryAfterSeconds() int }
	if errors.As(err, &ra) {
		secs = ra.RetryAfterSeconds()
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}

// limited is the error of a request refused by the limit named limit.
func (s *Server) limited(res ratelimit.Result, limit string) error {
	s.cfg.Metrics.Limited(limit)
	return accounts.RateLimited(res)
}

// limiterDown is the error of a request whose limit could not be checked.
// It is logged here, with the cause; the client sees only that it should
// retry.
func (s *Server) limiterDown(r *http.Request, limit string, err error) error {
	s.cfg.Metrics.Refused("rate_limiter_down")
	s.log.LogAttrs(r.Context(), slog.LevelWarn, "rate limit unavailable; request refused",
		slog.String("limit", limit), slog.String("request_id", requestID(r.Context())), slog.String("error", err.Error()))
	return &retryLater{err: &auth.Error{Code: auth.EUnavailable,
		Message: "This is briefly unavailable. Try again in a few seconds.", Err: err}, after: limiterRetry}
}

// realIP finds the client's address. Without trusted proxies it is the
// socket's peer, and forwarding headers are ignored, because anyone can
// send them. When the peer is a trusted proxy, X-Forwarded-For is read from
// the right (each proxy appends the address it received the request from),
// skipping addresses that are themselves trusted proxies; the first one that
// is not is the client. Entries to its left were written by the client or
// by proxies nobody vouches for, so they are never believed. If every entry
// is a trusted proxy, the leftmost one is the client.
func (s *Server) realIP(r *http.Request) netip.Addr {
	peer := parseHost(r.RemoteAddr)
	if !peer.IsValid() || !s.trusted(peer) {
		return peer
	}
	client := peer
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		entries := strings.Split(values[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a := parseHost(strings.TrimSpace(entries[j]))
			if !a.IsValid() {
				// A trusted proxy wrote something that is not an address:
				// stop at the last hop that can be vouched for.
				return client
			}
			client = a
			if !s.trusted(a) {
				return a
			}
		}
	}
	return client
}

// trusted reports whether a is one of the configured trusted proxies.
func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHost reads an address with or without a port, IPv6 in brackets or
// not, and drops any zone.
func parseHost(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// authenticate checks a password sign-in under the sign-in limits: it
// refuses with 429 while the identifier or the client address is limited
// (whatever the password), counts a wrong password against both, and on
// success sets the device cookie by which this browser keeps its own
// allowance for the account. A request carrying a device cookie valid for
// the account the identifier names is limited by that device's allowance
// alone, so an attack on the account does not lock its owner out of the
// devices they already use.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, login, password string) (*auth.User, error) {
	ctx := r.Context()
	lim := s.cfg.Limits
	if lim == nil {
		u, err := s.cfg.Accounts.Authenticate(ctx, login, password)
		s.countSignIn("password", err)
		return u, err
	}
	a := ratelimit.Attempt{Identifier: login, IP: s.clientAddr(r)}
	if c, err := r.Cookie(ratelimit.DeviceCookie); err == nil && c.Value != "" {
		// The account is looked up only to check the device token, which
		// names it; the limits themselves are keyed by the identifier.
		a.DeviceToken = c.Value
		if u, err := s.cfg.Accounts.Store().FindUserByLogin(ctx, login); err == nil {
			a.UserID = u.ID
		}
	}
	res, err := lim.Login(ctx, a)
	if err != nil {
		s.cfg.Metrics.SignIn("password", metrics.Unavailable)
		return nil, s.limiterDown(r, "login", err)
	}
	if !res.Allowed {
		s.cfg.Metrics.SignIn("password", metrics.RateLimited)
		return nil, s.limited(res, "login")
	}
	u, err := s.cfg.Accounts.Authenticate(ctx, login, password)
	s.countSignIn("password", err)
	switch auth.ErrorCode(err) {
	case "":
		a.UserID = u.ID
		token, lerr := lim.LoginSucceeded(ctx, a)
		if lerr != nil {
			// The sign-in was checked against the limits and succeeded;
			// only this device's fresh token is lost, not a limit.
			s.log.LogAttrs(ctx, slog.LevelWarn, "issuing a device token failed", slog.String("error", lerr.Error()))
		}
		s.setDeviceCookie(w, token)
	case auth.EInvalidCredentials:
		if _, lerr := lim.LoginFailed(ctx, a); lerr != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "counting a failed sign-in failed", slog.String("error", lerr.Error()))
		}
	}
	return u, err
}

// countSignIn records the result of a sign-in attempt in the metrics.
func (s *Server) countSignIn(method string, err error) {
	switch auth.ErrorCode(err) {
	case "":
		s.cfg.Metrics.SignIn(method, metrics.Success)
	case auth.EUnavailable:
		s.cfg.Metrics.SignIn(method, metrics.Unavailable)
		if errors.Is(err, accounts.ErrBusy) {
			s.cfg.Metrics.Refused("hash_pool_full")
		}
	case auth.ERateLimited:
		s.cfg.Metrics.SignIn(method, metrics.RateLimited)
	case auth.EMFARequired:
		s.cfg.Metrics.SignIn(method, metrics.SecondFactorDue)
	default:
		s.cfg.Metrics.SignIn(method, metrics.Failure)
	}
}

// setDeviceCookie keeps a device token in the browser: HttpOnly,
// SameSite=Lax, Secure on https, for as long as the token is valid. It is
// sent with every request to Gatehouse, like the session cookie, and grants
// nothing but a sign-in allowance of its own.
func (s *Server) setDeviceCookie(w http.ResponseWriter, token string) {
	if token == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ratelimit.DeviceCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: s.https, SameSite: http.SameSiteLaxMode, MaxAge: int(ratelimit.DefaultDeviceMaxAge / time.Second)})
}

// checkRegister counts a registration against the per-address limit.
func (s *Server) checkRegister(r *http.Request) error {
	if s.cfg.Limits == nil {
		return nil
	}
	res, err := s.cfg.Limits.Register(r.Context(), s.clientAddr(r))
	if err != nil {
		return s.limiterDown(r, "register", err)
	}
	if !res.Allowed {
		return s.limited(res, "register")
	}
	return nil
}

// checkPasskeyBegin counts a passkey sign-in begun against the per-address
// limit. Each begin stores a ceremony until it expires, and it needs no
// credential, so this limit is what keeps one client from filling the store.
func (s *Server) checkPasskeyBegin(r *http.Request) error {
	if s.cfg.Limits == nil {
		return nil
	}
	res, err := s.cfg.Limits.PasskeyBegin(r.Context(), s.clientAddr(r))
	if err != nil {
		return s.limiterDown(r, "passkey_begin", err)
	}
	if !res.Allowed {
		return s.limited(res, "passkey_begin")
	}
	return nil
}

// checkGuess refuses a request that presents a guessable credential (an
// API key, a refresh token, a passkey answer) while its client address is
// limited for presenting ones that matched nothing. Even a right one is
// refused then, so that the answers do not tell a guesser which guess was
// right.
func (s *Server) checkGuess(r *http.Request) error {
	if s.cfg.Limits == nil {
		return nil
	}
	res, err := s.cfg.Limits.Token(r.Context(), s.clientAddr(r))
	if err != nil {
		return s.limiterDown(r, "invalid_token", err)
	}
	if !res.Allowed {
		return s.limited(res, "invalid_token")
	}
	return nil
}

// guessFailed counts a credential that matched nothing against the client
// address, and returns the error to answer with: refused, the 401 or 404
// the caller had, and once the limit is reached, 429.
func (s *Server) guessFailed(r *http.Request, refused error) error {
	if s.cfg.Limits == nil {
		return refused
	}
	res, err := s.cfg.Limits.TokenFailed(r.Context(), s.clientAddr(r))
	if err != nil {
		return s.limiterDown(r, "invalid_token", err)
	}
	if !res.Allowed {
		return s.limited(res, "invalid_token")
	}
	return refused
}

// checkRefreshIP counts a refresh against the client address's limit. It
// runs before the refresh token is spent, so a refused client keeps its
// token.
func (s *Server) checkRefreshIP(r *http.Request) error {
	if s.cfg.Limits == nil {
		return nil
	}
	if err := s.checkGuess(r); err != nil {
		return err
	}
	res, err := s.cfg.Limits.RefreshIP(r.Context(), s.clientAddr(r))
	if err != nil {
		return s.limiterDown(r, "refresh", err)
	}
	if !res.Allowed {
		return s.limited(res, "refresh")
	}
	return nil
}

// checkRefreshSession counts a refresh against its session's limit, after
// the rotation has named the session. The presented token is spent by
// then, so a session over its limit (a client stuck in a refresh loop,
// since a working client refreshes a few times an hour) is ended: the
// client must sign in again, and the audit log says why.
func (s *Server) checkRefreshSession(r *http.Request, sess *auth.Session) error {
	if s.cfg.Limits == nil {
		return nil
	}
	ctx := r.Context()
	res, err := s.cfg.Limits.RefreshSession(ctx, sess.ID)
	if err != nil {
		return s.limiterDown(r, "refresh", err)
	}
	if res.Allowed {
		return nil
	}
	if err := s.cfg.Sessions.Revoke(ctx, sess.ID, "too many refreshes"); err != nil && !auth.IsNotFound(err) {
		return err
	}
	s.cfg.Audit.Record(ctx, auth.EventSessionRevoked, sess.UserID, sess.UserID,
		map[string]string{"session_id": sess.ID, "reason": "too many refreshes"})
	return s.limited(res, "refresh")
}

// loginRefusal reports whether a sign-in error is one the sign-in page
// shows on its form (with its status), rather than on the error page.
func loginRefusal(err error) bool {
	switch auth.ErrorCode(err) {
	case auth.EInvalidCredentials, auth.EAccountDisabled, auth.EEmailNotVerified, auth.ERateLimited, auth.EUnavailable:
		return true
	}
	return false
}

// setRefusalHeaders sets Retry-After for a refusal shown on a form: on a
// 429, and on a 503.
func setRefusalHeaders(w http.ResponseWriter, err error) {
	switch auth.ErrorCode(err) {
	case auth.ERateLimited:
		setRetryAfter(w, err)
	case auth.EUnavailable:
		setUnavailableRetryAfter(w, err)
	}
}
