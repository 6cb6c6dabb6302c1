package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/totp"
)

// The second step of a sign-in: every way in whose first factor succeeded
// (a password, a provider, an email link or code, a passkey that did not
// verify the user) ends here. A user without TOTP gets a session at once. A
// user with TOTP gets none yet: the first factor's success is written to a
// one-time token in the store (auth.PurposeMFALogin), good for a few
// minutes and a few codes, and the client proves the second factor against
// it:
//
//   - the JSON API answers 401 {"error":"mfa_required","mfa_token":"ghmfa_…"}
//     and the client posts {mfa_token, code} to POST /api/auth/login/mfa,
//     which answers as the sign-in would have;
//   - the hosted pages keep the token in an HttpOnly cookie (gatehouse_mfa,
//     __Host-gatehouse_mfa over https) and send the browser to /login/mfa,
//     which asks for the code.
//
// Nothing about the pending sign-in is a session: no session row exists,
// and the token opens no other endpoint, so a stolen password alone reaches
// only the code form. A token is bound to the kind of client that got it
// (the page's cannot be used at the API and the other way round), dies
// after maxMFAAttempts codes whether right or wrong, and is spent by the
// right one. Wrong codes also count against the account's limit on wrong
// one-time codes (Config.Limits), which a fresh token does not reset; while
// it is reached, even the right code is refused (429).
//
// A passkey sign-in skips the step when the relying party requires user
// verification: the authenticator checked a PIN or biometric, so the
// passkey is both factors (NIST SP 800-63B-4 §3.1.7).

// MFATokenPrefix starts every pending sign-in token (the API's mfa_token and
// the hosted page's cookie), so that a leaked one is recognisable.
const MFATokenPrefix = "ghmfa_"

// MFATokenTTL is how long a pending sign-in waits for its second factor.
const MFATokenTTL = 5 * time.Minute

// maxMFAAttempts is how many codes one pending sign-in survives: the fifth
// wrong one kills it, and the user signs in again.
const maxMFAAttempts = 5

// Names of the hosted page's pending sign-in cookie, as for the flow cookie
// of oauthlogin: the __Host- prefix needs https.
const (
	MFACookieName         = "__Host-gatehouse_mfa"
	MFACookieNameInsecure = "gatehouse_mfa"
)

// Kinds of client a pending sign-in belongs to.
const (
	pendingBrowser = "browser"
	pendingAPI     = "api"
)

var errPendingExpired = auth.Errorf(auth.EInvalidToken,
	"This sign-in has expired, or too many codes were wrong. Please sign in again.")

// mfaRequiredMessage is the message of a 401 mfa_required.
const mfaRequiredMessage = "Enter the code from your authenticator app, or one of your recovery codes."

// signInOptions says how a sign-in whose first factor succeeded goes on.
type signInOptions struct {
	// Method is the first factor, as sessions and the audit log name it:
	// "password", "oauth:<provider>", "email", "passkey".
	Method string
	// Remember asks for a remember-me session (hosted pages, and the SDK's
	// same-site sign-ins).
	Remember bool
	// Next is where the browser goes afterwards, already checked with
	// safeReturnTo (hosted pages only).
	Next string
	// BothFactors says the first factor counts as two: a passkey whose
	// authenticator verified the user.
	BothFactors bool
	// Link is an identity to link to the user once the second factor is
	// right (a provider's sign-in that links on a trusted address).
	Link *pendingLink
}

// pendingLink is an identity waiting to be linked until the sign-in that
// brought it completes: linking before the second factor would let a first
// factor alone add a way into the account.
type pendingLink struct {
	Provider      string `json:"provider"`
	Issuer        string `json:"issuer"`
	Subject       string `json:"subject"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
	// ProviderName is the provider's display name, for the notice mail.
	ProviderName string `json:"provider_name"`
}

func (l *pendingLink) identity() *auth.Identity {
	return &auth.Identity{Provider: l.Provider, Issuer: l.Issuer, Subject: l.Subject, Email: l.Email, EmailVerified: l.EmailVerified}
}

// pendingSignIn is what a pending sign-in token carries (its Data).
type pendingSignIn struct {
	Kind     string       `json:"kind"`
	Method   string       `json:"method"`
	Remember bool         `json:"remember,omitempty"`
	Next     string       `json:"next,omitempty"`
	Link     *pendingLink `json:"link,omitempty"`
}

// secondFactorDue reports whether u must give a second factor before a
// session starts. A store failure is an error, never a skipped factor.
func (s *Server) secondFactorDue(ctx context.Context, u *auth.User, o signInOptions) (bool, error) {
	if s.cfg.TOTP == nil || o.BothFactors {
		return false, nil
	}
	return s.cfg.TOTP.Enabled(ctx, u.ID)
}

// beginSecondFactor stores a pending sign-in for u and returns its secret.
// A newer pending sign-in of the user replaces the older ones.
func (s *Server) beginSecondFactor(ctx context.Context, u *auth.User, p pendingSignIn) (string, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return "", auth.Internal(err)
	}
	st := s.cfg.Accounts.Store()
	if err := st.DeleteTokens(ctx, auth.PurposeMFALogin, u.ID); err != nil {
		return "", err
	}
	secret, hash := auth.NewSecret(MFATokenPrefix)
	now := time.Now()
	err = st.CreateToken(ctx, &auth.OneTimeToken{Hash: hash, Purpose: auth.PurposeMFALogin, UserID: u.ID,
		Data: string(data), CreatedAt: now, ExpiresAt: now.Add(MFATokenTTL)})
	if err != nil {
		return "", err
	}
	s.cfg.Audit.Record(ctx, auth.EventMFARequired, u.ID, u.ID, map[string]string{"method": p.Method})
	return secret, nil
}

// completeBrowserSignIn ends a hosted page's sign-in whose first factor
// succeeded: with a second factor due, the pending sign-in goes into its
// cookie and the browser to /login/mfa; otherwise the session starts and
// the browser goes on (to the set-up of two-step verification first, when
// the user's role requires it and it is off).
func (s *Server) completeBrowserSignIn(w http.ResponseWriter, r *http.Request, u *auth.User, o signInOptions) error {
	next, err := s.browserSignIn(w, r, u, o)
	if err != nil {
		return err
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// browserSignIn does the work of completeBrowserSignIn and returns where
// the browser goes next, for callers that answer with JSON.
func (s *Server) browserSignIn(w http.ResponseWriter, r *http.Request, u *auth.User, o signInOptions) (string, error) {
	ctx := r.Context()
	due, err := s.secondFactorDue(ctx, u, o)
	if err != nil {
		return "", err
	}
	if due {
		secret, err := s.beginSecondFactor(ctx, u, pendingSignIn{Kind: pendingBrowser, Method: o.Method,
			Remember: o.Remember, Next: o.Next, Link: o.Link})
		if err != nil {
			return "", err
		}
		s.setMFACookie(w, secret)
		return s.base + "/login/mfa", nil
	}
	if err := s.finishLink(ctx, u, o.Link); err != nil {
		return "", err
	}
	if err := s.startBrowserSession(w, r, u, o.Remember, o.Method); err != nil {
		return "", err
	}
	return s.afterSignIn(ctx, u, o.Next)
}

// afterSignIn is where a browser goes once its session has started: next,
// or the account page, unless the user's role requires two-step
// verification that is not on yet.
func (s *Server) afterSignIn(ctx context.Context, u *auth.User, next string) (string, error) {
	if next == "" {
		next = s.base + "/account"
	}
	due, err := s.enrollmentDue(ctx, u)
	if err != nil {
		return "", err
	}
	if due {
		return s.enrollmentURL(next), nil
	}
	return next, nil
}

// completeTokenSignIn ends a JSON API sign-in whose first factor succeeded:
// 401 mfa_required with an mfa_token when a second factor is due, or a
// token pair. A user whose role requires two-step verification that is not
// on gets no tokens (403): other backends trust those tokens, and Gatehouse
// cannot hold them to the set-up pages. They set it up on the hosted pages.
func (s *Server) completeTokenSignIn(w http.ResponseWriter, r *http.Request, u *auth.User, o signInOptions) error {
	if s.cfg.Tokens == nil {
		return errTokensOff
	}
	ctx := r.Context()
	due, err := s.secondFactorDue(ctx, u, o)
	if err != nil {
		return err
	}
	if due {
		secret, err := s.beginSecondFactor(ctx, u, pendingSignIn{Kind: pendingAPI, Method: o.Method, Remember: o.Remember, Link: o.Link})
		if err != nil {
			return err
		}
		if wantsSessionCookie(r) || wantsRefreshCookie(r) {
			// The SDK: a step of a sign-in going well, not a failure that
			// browsers would log as an error on the page's console.
			writeJSON(w, http.StatusAccepted, mfaPendingBody{MFARequired: true, MFAToken: secret, Message: mfaRequiredMessage})
			return nil
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		writeJSON(w, statusOf(auth.EMFARequired), mfaRequiredBody{
			errorBody: errorBody{Error: auth.EMFARequired, Message: mfaRequiredMessage}, MFAToken: secret})
		return nil
	}
	return s.issueTokenSignIn(w, r, u, o)
}

// issueTokenSignIn starts a token session for u and answers with its pair.
func (s *Server) issueTokenSignIn(w http.ResponseWriter, r *http.Request, u *auth.User, o signInOptions) error {
	ctx := r.Context()
	if due, err := s.enrollmentDue(ctx, u); err != nil {
		return err
	} else if due {
		return errEnrollmentDue
	}
	if err := s.finishLink(ctx, u, o.Link); err != nil {
		return err
	}
	if wantsSessionCookie(r) {
		return s.issueSessionSignIn(w, r, u, o)
	}
	sess, err := s.startTokenSession(r, u, o.Method)
	if err != nil {
		return err
	}
	pair, err := s.issuePair(r, u, sess)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pair)
	return nil
}

// mfaPendingBody is the answer to the SDK (a request with a cookie header)
// of a sign-in that needs a second factor: 202, the same token as
// mfaRequiredBody.
type mfaPendingBody struct {
	MFARequired bool   `json:"mfa_required"`
	MFAToken    string `json:"mfa_token"`
	Message     string `json:"message"`
}

// mfaRequiredBody is the error body of a sign-in that needs a second factor.
type mfaRequiredBody struct {
	errorBody
	MFAToken string `json:"mfa_token"`
}

// finishLink links the identity a sign-in brought, if any, now that the
// sign-in has succeeded in full, and records the sign-in with it.
func (s *Server) finishLink(ctx context.Context, u *auth.User, l *pendingLink) error {
	if l == nil {
		return nil
	}
	ident := l.identity()
	if err := s.cfg.Accounts.LinkIdentity(ctx, u, ident, accounts.LinkedTrustedEmail, l.ProviderName); err != nil {
		return err
	}
	_, err := s.cfg.Accounts.IdentitySignIn(ctx, u, ident, l.Email, l.EmailVerified)
	return err
}

// mfaCookie returns the name of the pending sign-in cookie.
func (s *Server) mfaCookie() string {
	if s.https {
		return MFACookieName
	}
	return MFACookieNameInsecure
}

// setMFACookie keeps a pending sign-in in the browser: HttpOnly, for the
// whole site (the __Host- prefix forbids a narrower path), expiring with
// the token. SameSite is Lax, not Strict, because a sign-in through a
// provider sets it on a redirect chain that started on the provider's site.
func (s *Server) setMFACookie(w http.ResponseWriter, secret string) {
	http.SetCookie(w, &http.Cookie{Name: s.mfaCookie(), Value: secret, Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, MaxAge: int(MFATokenTTL / time.Second)})
}

func (s *Server) clearMFACookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.mfaCookie(), Value: "", Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// wellFormedMFAToken reports whether secret looks like a pending sign-in
// token, so that junk never reaches the store.
func wellFormedMFAToken(secret string) bool {
	rest, ok := strings.CutPrefix(secret, MFATokenPrefix)
	return ok && len(rest) == 43
}

// verifySecondFactor checks code against the pending sign-in whose token is
// secret, for the kind of client given. On success the token is spent and
// the user (re-read, so a disabled account is caught) and the pending
// sign-in are returned. A wrong code is totp.ErrWrongCode (401
// invalid_credentials); a dead token errPendingExpired (401
// invalid_token); a limited account 429. Each answer is counted in the
// sign-in metrics as method second_factor.
func (s *Server) verifySecondFactor(r *http.Request, secret, kind, code string) (*auth.User, *pendingSignIn, error) {
	u, p, err := s.checkSecondFactor(r, secret, kind, code)
	s.countSignIn("second_factor", err)
	return u, p, err
}

func (s *Server) checkSecondFactor(r *http.Request, secret, kind, code string) (*auth.User, *pendingSignIn, error) {
	ctx := r.Context()
	if s.cfg.TOTP == nil || !wellFormedMFAToken(secret) {
		return nil, nil, errPendingExpired
	}
	st := s.cfg.Accounts.Store()
	hash := auth.HashSecret(secret)
	tok, err := st.AttemptToken(ctx, auth.PurposeMFALogin, hash, maxMFAAttempts, time.Now())
	if err != nil {
		if auth.ErrorCode(err) == auth.EInvalidToken {
			return nil, nil, errPendingExpired
		}
		return nil, nil, err
	}
	var p pendingSignIn
	if err := json.Unmarshal([]byte(tok.Data), &p); err != nil || p.Kind != kind {
		return nil, nil, errPendingExpired
	}
	if err := s.checkCodeLimit(r, tok.UserID); err != nil {
		return nil, nil, err
	}
	if err := s.cfg.TOTP.Verify(ctx, tok.UserID, code); err != nil {
		switch {
		case errors.Is(err, totp.ErrWrongCode):
			s.cfg.Audit.Record(ctx, auth.EventMFAFailed, "", tok.UserID, map[string]string{"reason": "wrong code", "method": p.Method})
			return nil, nil, s.codeFailed(r, tok.UserID, err)
		case errors.Is(err, totp.ErrNotEnabled):
			// Turned off since the first factor: the pending sign-in asked
			// for a factor that no longer exists; start again.
			st.DeleteToken(ctx, auth.PurposeMFALogin, hash)
			return nil, nil, errPendingExpired
		}
		return nil, nil, err
	}
	if _, err := st.ConsumeToken(ctx, auth.PurposeMFALogin, hash, time.Now()); err != nil {
		if auth.ErrorCode(err) == auth.EInvalidToken {
			return nil, nil, errPendingExpired // a concurrent request spent it
		}
		return nil, nil, err
	}
	u, err := st.FindUserByID(ctx, tok.UserID)
	if auth.IsNotFound(err) {
		return nil, nil, errPendingExpired
	}
	if err != nil {
		return nil, nil, err
	}
	if !u.Active {
		return nil, nil, auth.Errorf(auth.EAccountDisabled, "This account is disabled.")
	}
	data := map[string]string{"method": p.Method, "factor": "totp"}
	if !totp.LooksLikeCode(code) {
		data["factor"] = "recovery_code"
		if n, err := s.cfg.TOTP.RecoveryCodesLeft(ctx, u.ID); err == nil {
			data["recovery_codes_left"] = strconv.Itoa(n)
		}
	}
	s.cfg.Audit.Record(ctx, auth.EventMFAVerified, u.ID, u.ID, data)
	s.log.LogAttrs(ctx, slog.LevelInfo, "second factor verified", slog.String("user_id", u.ID), slog.String("factor", data["factor"]))
	return u, &p, nil
}

// checkCodeLimit refuses a one-time code for an account over its limit on
// wrong codes, whatever the code. It fails closed when the limiter is down.
func (s *Server) checkCodeLimit(r *http.Request, userID string) error {
	if s.cfg.Limits == nil {
		return nil
	}
	res, err := s.cfg.Limits.Code(r.Context(), userID)
	if err != nil {
		return s.limiterDown(r, "code", err)
	}
	if !res.Allowed {
		return s.limited(res, "code")
	}
	return nil
}

// codeFailed counts a wrong one-time code against the account and returns
// the error to answer with: refused, or 429 once the limit is reached.
func (s *Server) codeFailed(r *http.Request, userID string, refused error) error {
	if s.cfg.Limits == nil {
		return refused
	}
	res, err := s.cfg.Limits.CodeFailed(r.Context(), userID)
	if err != nil {
		return s.limiterDown(r, "code", err)
	}
	if !res.Allowed {
		return s.limited(res, "code")
	}
	return refused
}

type mfaLoginRequest struct {
	MFAToken string `json:"mfa_token"`
	Code     string `json:"code"`
}

// apiLoginMFA is the second step of a token sign-in: {mfa_token, code}, and
// the answer of a sign-in.
func (s *Server) apiLoginMFA(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Tokens == nil {
		return errTokensOff
	}
	var req mfaLoginRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.MFAToken == "" || req.Code == "" {
		return &auth.Error{Code: auth.EInvalidRequest, Message: "Send mfa_token and code.",
			Fields: map[string]string{"mfa_token": "required", "code": "required"}}
	}
	u, p, err := s.verifySecondFactor(r, req.MFAToken, pendingAPI, req.Code)
	if err != nil {
		return err
	}
	return s.issueTokenSignIn(w, r, u, signInOptions{Method: p.Method, Remember: p.Remember, Link: p.Link})
}

// loginMFAPage is the data of login_mfa.html.
type loginMFAPage struct {
	Error string
}

// pendingFromCookie returns the browser's pending sign-in secret, if its
// token is still alive.
func (s *Server) pendingFromCookie(r *http.Request) (string, bool, error) {
	c, err := r.Cookie(s.mfaCookie())
	if err != nil || !wellFormedMFAToken(c.Value) {
		return "", false, nil
	}
	_, err = s.cfg.Accounts.Store().FindToken(r.Context(), auth.PurposeMFALogin, auth.HashSecret(c.Value), time.Now())
	if auth.ErrorCode(err) == auth.EInvalidToken {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return c.Value, true, nil
}

// loginMFAForm asks for the second factor of the browser's pending sign-in;
// without one, the browser goes back to sign in.
func (s *Server) loginMFAForm(w http.ResponseWriter, r *http.Request) error {
	_, ok, err := s.pendingFromCookie(r)
	if err != nil {
		return err
	}
	if !ok {
		s.clearMFACookie(w)
		setFlash(w, flashMFAExpired)
		http.Redirect(w, r, s.base+"/login", http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "login_mfa.html", loginMFAPage{})
	return nil
}

// loginMFASubmit checks the code of the browser's pending sign-in and, when
// it is right, starts the session.
func (s *Server) loginMFASubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	c, _ := r.Cookie(s.mfaCookie())
	secret := ""
	if c != nil {
		secret = c.Value
	}
	u, p, err := s.verifySecondFactor(r, secret, pendingBrowser, r.PostForm.Get("code"))
	switch auth.ErrorCode(err) {
	case "":
	case auth.EInvalidCredentials, auth.ERateLimited, auth.EUnavailable:
		setRefusalHeaders(w, err)
		s.render(w, r, statusOf(auth.ErrorCode(err)), "login_mfa.html", loginMFAPage{Error: auth.ErrorMessage(err)})
		return nil
	case auth.EInvalidToken:
		s.clearMFACookie(w)
		setFlash(w, flashMFAExpired)
		http.Redirect(w, r, s.base+"/login", http.StatusSeeOther)
		return nil
	default:
		return err
	}
	s.clearMFACookie(w)
	if err := s.finishLink(r.Context(), u, p.Link); err != nil {
		return err
	}
	if err := s.startBrowserSession(w, r, u, p.Remember, p.Method); err != nil {
		return err
	}
	next, err := s.afterSignIn(r.Context(), u, s.safeReturnTo(p.Next))
	if err != nil {
		return err
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
