package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/passkey"
)

// Passkeys (WebAuthn) over HTTP: the JSON API that SPAs, mobile apps and the
// hosted pages' own script (ui/static/passkey.js) use to register passkeys,
// sign up and sign in with them, and list, rename and remove them; and the
// account page's forms that rename and remove them without a script.
//
// Each ceremony is two calls. …/begin answers
//
//	200 {"ceremony_id": "…", "options": {…}}
//
// where options are what navigator.credentials.create() or get() takes as
// publicKey, in the JSON form of WebAuthn L3 §5.1.8 and §5.1.9 (byte strings
// in base64url; PublicKeyCredential.parseCreationOptionsFromJSON and
// parseRequestOptionsFromJSON read it). …/finish takes
//
//	{"ceremony_id": "…", "credential": <PublicKeyCredential.toJSON()>, …}
//
// The ceremony ID travels in the JSON body, not in a cookie: mobile apps and
// SPAs on other origins have no cookie to carry it, and a body field works
// the same for all of them and on every node (ceremonies live in the
// database). It is 256 random bits, good for one Finish within five minutes,
// and the challenge it stands for is signed into the answer, so an ID taken
// from one client is useless with another client's answer.
//
// Login and sign-up finish in one of two modes. By default they answer as
// POST /api/auth/login does, with an access and refresh token pair. With
// "set_cookie": true, sent by the hosted pages, they start a browser session
// instead, set the session cookie (and the gatehouse_token cookie when one is
// configured), and answer {"user": …, "redirect_to": "…"}: the page then
// goes to redirect_to, the request's return_to when it is safe, else
// /account. The cross-origin protection in front of every route refuses such
// a request from another site, as it does a sign-in form posted from one.
//
// A passkey sign-in is both factors when user verification is required (the
// default); otherwise an account with TOTP gives its code next, as after a
// password (signin_mfa.go). Refused answers count against the client
// address's limit on credentials that match nothing, and sign-ups against
// its registrations (limits.go).

// errPasskeysOff answers the ceremony endpoints when passkeys are off.
var errPasskeysOff = auth.Errorf(auth.ENotFound, "Passkeys are not enabled on this server.")

// errTokensOff answers a sign-in that asks for tokens when tokens are off.
var errTokensOff = auth.Errorf(auth.ENotFound, "Token sign-in is not enabled.")

// passkeyError turns the passkey package's refusals into client errors:
// each is 400 invalid_request with its own message, and the cause, with
// go-webauthn's detail, stays for the log. Anything else is returned as it
// is. It is the one place these errors get their response.
func passkeyError(err error) error {
	if msg := refusalMessage(err); msg != "" {
		return &auth.Error{Code: auth.EInvalidRequest, Message: msg, Err: err}
	}
	return err
}

// refusalMessage is the client's message for a refusal of package passkey,
// or "" for any other error.
func refusalMessage(err error) string {
	switch {
	case errors.Is(err, passkey.ErrCeremony):
		return "This passkey request has expired or was already used. Please try again."
	case errors.Is(err, passkey.ErrPossibleClone): // before ErrVerification, which it comes with
		return "This passkey was refused because it may have been copied. Sign in another way, then remove it and add it again."
	case errors.Is(err, passkey.ErrNotAllowed):
		return "This passkey cannot be used here: it is registered already, or it is not registered to this account."
	case errors.Is(err, passkey.ErrVerification):
		return "Your passkey's answer could not be verified. Please try again."
	case errors.Is(err, passkey.ErrNoPasskeys):
		return "This account has no passkeys."
	}
	return ""
}

// refusePasskey logs why a ceremony was refused, which the client's message
// does not say, and returns the client error.
func (s *Server) refusePasskey(r *http.Request, err error) error {
	if refusalMessage(err) != "" {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "passkey ceremony refused", slog.String("request_id", requestID(r.Context())),
			slog.String("route", r.Pattern), slog.String("reason", err.Error()))
	}
	return passkeyError(err)
}

func (s *Server) relyingParty() (*passkey.RelyingParty, error) {
	if s.cfg.Passkeys == nil {
		return nil, errPasskeysOff
	}
	return s.cfg.Passkeys, nil
}

// ceremonyBegun is the answer of every …/begin.
type ceremonyBegun struct {
	CeremonyID string          `json:"ceremony_id"`
	Options    json.RawMessage `json:"options"`
}

// ceremonyAnswer is what every …/finish takes.
type ceremonyAnswer struct {
	CeremonyID string `json:"ceremony_id"`
	// Credential is the PublicKeyCredential's toJSON(); package passkey
	// reads it, with its own size cap and checks.
	Credential json.RawMessage `json:"credential"`
}

// checkName trims the name a finish request proposes for a new passkey and
// checks it before the ceremony is spent. A bad one is 400 invalid_request
// (with fields.name), not 422: every refusal of a finish body is a 400, so a
// client handles the finish step's failures in one way.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil
	}
	if problem := auth.ValidatePasskeyName(name); problem != "" {
		return "", &auth.Error{Code: auth.EInvalidRequest, Message: problem, Fields: map[string]string{"name": problem}}
	}
	return name, nil
}

// apiPasskeyRegisterBegin starts adding a passkey to the caller's account.
func (s *Server) apiPasskeyRegisterBegin(w http.ResponseWriter, r *http.Request) error {
	rp, err := s.relyingParty()
	if err != nil {
		return err
	}
	u, _ := UserFrom(r.Context())
	existing, err := s.cfg.Accounts.Store().FindPasskeysByUser(r.Context(), u.ID)
	if err != nil {
		return err
	}
	options, id, err := rp.BeginRegistration(r.Context(), u, existing)
	if err != nil {
		return s.refusePasskey(r, err)
	}
	writeJSON(w, http.StatusOK, ceremonyBegun{CeremonyID: id, Options: options})
	return nil
}

type registerFinishRequest struct {
	ceremonyAnswer
	// Name names the new passkey; empty keeps passkey.DefaultName.
	Name string `json:"name"`
}

// apiPasskeyRegisterFinish checks the authenticator's answer and stores the
// passkey: 201 {passkey}. The ceremony must have been begun by the same
// user.
func (s *Server) apiPasskeyRegisterFinish(w http.ResponseWriter, r *http.Request) error {
	rp, err := s.relyingParty()
	if err != nil {
		return err
	}
	var req registerFinishRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name, err = checkName(req.Name); err != nil {
		return err
	}
	u, _ := UserFrom(r.Context())
	pk, err := rp.FinishRegistration(r.Context(), u, req.CeremonyID, req.Credential)
	if err != nil {
		return s.refusePasskey(r, err)
	}
	if err := s.cfg.Accounts.PasskeyAdded(r.Context(), u, pk, req.Name); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"passkey": pk})
	return nil
}

// apiPasskeyLoginBegin starts a sign-in with a passkey. It is always the
// discoverable flow (L3 §5.1.4.1): the options name no account and no
// credential, so asking for them tells nothing about who has passkeys, and
// the same ceremony serves the button and the browser's autofill. Gatehouse
// registers only discoverable credentials, so every passkey can answer it.
// Begins are limited per client address (rate_limit.passkey_begin_per_ip).
func (s *Server) apiPasskeyLoginBegin(w http.ResponseWriter, r *http.Request) error {
	rp, err := s.relyingParty()
	if err != nil {
		return err
	}
	if err := s.checkPasskeyBegin(r); err != nil {
		return err
	}
	options, id, err := rp.BeginLogin(r.Context(), nil, nil)
	if err != nil {
		return s.refusePasskey(r, err)
	}
	writeJSON(w, http.StatusOK, ceremonyBegun{CeremonyID: id, Options: options})
	return nil
}

type loginFinishRequest struct {
	ceremonyAnswer
	// SetCookie asks for a browser session instead of tokens (the hosted
	// page sends it).
	SetCookie bool `json:"set_cookie"`
	// Remember makes the browser session's cookie persistent.
	Remember bool `json:"remember"`
	// ReturnTo is where the hosted page goes next, when it is safe.
	ReturnTo string `json:"return_to"`
}

// browserSignedIn is the answer of a finish with set_cookie.
type browserSignedIn struct {
	User       *auth.User `json:"user"`
	RedirectTo string     `json:"redirect_to"`
}

// apiPasskeyLoginFinish checks the assertion and signs its user in: 200 with
// a token pair, or with set_cookie, a session cookie and {user,
// redirect_to}. A disabled account is 403 account_disabled, as for a
// password.
func (s *Server) apiPasskeyLoginFinish(w http.ResponseWriter, r *http.Request) error {
	rp, err := s.relyingParty()
	if err != nil {
		return err
	}
	var req loginFinishRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if !req.SetCookie && s.cfg.Tokens == nil {
		return errTokensOff
	}
	// A passkey answer is a credential like any other: a client address
	// that keeps presenting ones that fail is limited (limits.go).
	if err := s.checkGuess(r); err != nil {
		return err
	}
	ctx := r.Context()
	u, pk, err := rp.FinishLogin(ctx, req.CeremonyID, req.Credential, passkey.StoreLookup(ctx, s.cfg.Accounts.Store()))
	if err != nil {
		s.recordPasskeyLoginFailure(ctx, err, req.Credential)
		if refusalMessage(err) == "" {
			s.countSignIn("passkey", err)
			return err // a system failure, not a wrong answer
		}
		refused := s.guessFailed(r, s.refusePasskey(r, err))
		s.countSignIn("passkey", refused)
		return refused
	}
	u, err = s.cfg.Accounts.PasskeySignIn(ctx, u, pk)
	s.countSignIn("passkey", err)
	if err != nil {
		return err
	}
	// A passkey is both factors when the authenticator had to verify the
	// user; otherwise a user with TOTP gives a code too (signin_mfa.go).
	o := signInOptions{Method: "passkey", Remember: req.Remember, Next: s.safeReturnTo(req.ReturnTo),
		BothFactors: rp.UserVerificationRequired()}
	if req.SetCookie {
		next, err := s.browserSignIn(w, r, u, o)
		if err != nil {
			return err
		}
		if next == s.base+"/login/mfa" {
			u = nil // not signed in yet: the page goes on to the code
		}
		writeJSON(w, http.StatusOK, browserSignedIn{User: u, RedirectTo: next})
		return nil
	}
	return s.completeTokenSignIn(w, r, u, o)
}

// nextPage is where the hosted page goes after a sign-in: returnTo when it
// is safe, else the account page.
func (s *Server) nextPage(returnTo string) string {
	if next := s.safeReturnTo(returnTo); next != "" {
		return next
	}
	return s.base + "/account"
}

// recordPasskeyLoginFailure puts a refused passkey sign-in in the audit log,
// against the account whose passkey answered when the answer names one, and
// records a clone warning. System failures are the error log's.
func (s *Server) recordPasskeyLoginFailure(ctx context.Context, err error, credential []byte) {
	var reason string
	switch {
	case errors.Is(err, passkey.ErrCeremony):
		// The answer was never looked at: it names nobody worth a lookup.
		s.cfg.Accounts.PasskeySignInFailed(ctx, "", "unknown, expired or used ceremony")
		return
	case errors.Is(err, passkey.ErrPossibleClone):
		reason = "signature counter did not advance"
	case errors.Is(err, passkey.ErrNotAllowed):
		reason = "passkey not registered to the account"
	case errors.Is(err, passkey.ErrVerification):
		reason = "verification failed"
	default:
		return
	}
	pk := s.answeringPasskey(ctx, credential)
	userID := ""
	if pk != nil {
		userID = pk.UserID
		if errors.Is(err, passkey.ErrPossibleClone) {
			s.cfg.Accounts.PasskeyCloneWarning(ctx, pk)
		}
	}
	s.cfg.Accounts.PasskeySignInFailed(ctx, userID, reason)
}

// answeringPasskey returns the stored passkey whose credential ID an answer
// carries, or nil.
func (s *Server) answeringPasskey(ctx context.Context, credential []byte) *auth.Passkey {
	var c struct {
		RawID string `json:"rawId"`
	}
	if json.Unmarshal(credential, &c) != nil || c.RawID == "" || len(c.RawID) > 1400 {
		return nil
	}
	id, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(c.RawID, "="))
	if err != nil {
		return nil
	}
	pk, err := s.cfg.Accounts.Store().FindPasskeyByCredentialID(ctx, id)
	if err != nil {
		return nil
	}
	return pk
}

type signUpBeginRequest struct {
	Username string `json:"username"`
	Email    string `json:"email"`
}

// apiPasskeySignUpBegin starts creating an account whose only way to sign in
// is a passkey. The username and email are checked first (422 with fields,
// 409 when taken), so the user hears of a problem before their
// authenticator asks them to make a passkey; nothing is stored until
// finish.
func (s *Server) apiPasskeySignUpBegin(w http.ResponseWriter, r *http.Request) error {
	rp, err := s.relyingParty()
	if err != nil {
		return err
	}
	var req signUpBeginRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.checkRegister(r); err != nil {
		return err
	}
	reg := accounts.Registration{Username: req.Username, Email: req.Email}
	if err := s.cfg.Accounts.CheckPasskeySignUp(r.Context(), &reg); err != nil {
		return err
	}
	options, id, err := rp.BeginSignUp(r.Context(), reg.Username, reg.Email)
	if err != nil {
		return s.refusePasskey(r, err)
	}
	writeJSON(w, http.StatusOK, ceremonyBegun{CeremonyID: id, Options: options})
	return nil
}

type signUpFinishRequest struct {
	ceremonyAnswer
	// Name names the first passkey; empty keeps passkey.DefaultName.
	Name      string `json:"name"`
	SetCookie bool   `json:"set_cookie"`
	ReturnTo  string `json:"return_to"`
}

// signedUp is the answer of a passkey sign-up: the account and its passkey,
// and either a token pair or (set_cookie) where the page goes next.
type signedUp struct {
	*tokenResponse
	User       *auth.User    `json:"user"`
	Passkey    *auth.Passkey `json:"passkey"`
	RedirectTo string        `json:"redirect_to,omitempty"`
}

// apiPasskeySignUpFinish checks the authenticator's answer and creates the
// account with its first passkey, together: 201 {user, passkey} and the new
// account signed in, with a token pair (when tokens are on) or, with
// set_cookie, a session cookie and redirect_to. Registering the passkey
// proved its holder, verified as user_verification asks, so no second
// ceremony is needed to sign in. Where addresses must be confirmed first,
// the account is not signed in: the answer has no tokens, and the page is
// sent to /login with a notice to open the mailed link.
func (s *Server) apiPasskeySignUpFinish(w http.ResponseWriter, r *http.Request) error {
	rp, err := s.relyingParty()
	if err != nil {
		return err
	}
	var req signUpFinishRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name, err = checkName(req.Name); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.checkRegister(r); err != nil {
		return err
	}
	u, pk, err := rp.FinishSignUp(ctx, req.CeremonyID, req.Credential, func(u *auth.User, handle []byte, pk *auth.Passkey) (*auth.User, error) {
		if req.Name != "" {
			pk.Name = req.Name
		}
		reg := accounts.Registration{Username: u.Username, Email: u.Email}
		return s.cfg.Accounts.RegisterWithPasskey(ctx, reg, u.ID, handle, pk)
	})
	if err != nil {
		return s.refusePasskey(r, err)
	}
	resp := signedUp{User: u, Passkey: pk}
	switch {
	case s.cfg.Accounts.VerificationRequired() && !u.EmailVerified:
		// No sign-in until the address is confirmed, as for a password.
		if req.SetCookie {
			setFlash(w, flashPasskeyConfirmEmail)
			resp.RedirectTo = s.base + "/login"
		}
	case req.SetCookie:
		// As any sign-in: on to the set-up of two-step verification first
		// when the new account's role requires it (signin_mfa.go).
		o := signInOptions{Method: "passkey", Next: s.safeReturnTo(req.ReturnTo), BothFactors: rp.UserVerificationRequired()}
		if resp.RedirectTo, err = s.browserSignIn(w, r, u, o); err != nil {
			return err
		}
		setFlash(w, flashWelcome)
	case s.cfg.Tokens != nil:
		// Tokens wait, as for any sign-in, while the role requires two-step
		// verification that is not set up; the account exists regardless.
		if due, err := s.enrollmentDue(ctx, u); err != nil || due {
			if err != nil {
				return err
			}
			break
		}
		sess, err := s.startTokenSession(r, u, "passkey")
		if err != nil {
			return err
		}
		if resp.tokenResponse, err = s.issuePair(r, u, sess); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

// apiPasskeys lists the caller's passkeys, oldest first.
func (s *Server) apiPasskeys(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	list, err := s.cfg.Accounts.Store().FindPasskeysByUser(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"passkeys": list})
	return nil
}

type passkeyPatch struct {
	Name *string `json:"name"`
}

// apiRenamePasskey renames one of the caller's passkeys: 200 {passkey}.
func (s *Server) apiRenamePasskey(w http.ResponseWriter, r *http.Request) error {
	var req passkeyPatch
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return auth.ValidationError(map[string]string{"name": "Passkey name is required."})
	}
	u, _ := UserFrom(r.Context())
	pk, err := s.cfg.Accounts.RenamePasskey(r.Context(), u.ID, r.PathValue("id"), strings.TrimSpace(*req.Name))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"passkey": pk})
	return nil
}

// apiDeletePasskey removes one of the caller's passkeys: 204, or 409 when it
// is the account's last way to sign in.
func (s *Server) apiDeletePasskey(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.RemovePasskey(r.Context(), u.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// passkeySection is the account page's list of passkeys.
type passkeySection struct {
	// Enabled says whether passkeys can be added (ceremonies are on).
	Enabled bool
	List    []*auth.Passkey
	// CanRemove says whether removing one would leave the account a way to
	// sign in; the page offers removal only then.
	CanRemove bool
}

// Show says whether the account page shows the section: passkeys are on,
// or the user has some from when they were.
func (p *passkeySection) Show() bool { return p.Enabled || len(p.List) > 0 }

func (s *Server) passkeySection(r *http.Request, u *auth.User) (*passkeySection, error) {
	list, err := s.cfg.Accounts.Store().FindPasskeysByUser(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	canRemove, err := s.cfg.Accounts.CanRemovePasskey(r.Context(), u, len(list))
	if err != nil {
		return nil, err
	}
	return &passkeySection{Enabled: s.cfg.Passkeys != nil, List: list, CanRemove: canRemove}, nil
}

// renamePasskeySubmit renames a passkey from the account page.
func (s *Server) renamePasskeySubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	u, _ := UserFrom(r.Context())
	_, err := s.cfg.Accounts.RenamePasskey(r.Context(), u.ID, r.PathValue("id"), strings.TrimSpace(r.PostForm.Get("name")))
	var e *auth.Error
	if errors.As(err, &e) && e.Fields["name"] != "" {
		return &auth.Error{Code: e.Code, Message: e.Fields["name"], Err: err} // the error page shows one message
	}
	if err != nil {
		return err
	}
	setFlash(w, flashPasskeyRenamed)
	http.Redirect(w, r, s.base+"/account#passkeys-title", http.StatusSeeOther)
	return nil
}

// removePasskeySubmit removes a passkey from the account page. The page
// offers no removal that would leave the account without a way to sign in;
// one posted anyway gets the error page.
func (s *Server) removePasskeySubmit(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.RemovePasskey(r.Context(), u.ID, r.PathValue("id")); err != nil {
		return err
	}
	setFlash(w, flashPasskeyRemoved)
	http.Redirect(w, r, s.base+"/account#passkeys-title", http.StatusSeeOther)
	return nil
}
