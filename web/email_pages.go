package web

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/mail"
)

// The hosted pages of the email lifecycle: password reset, address
// confirmation, sign-in by email link or code, and change of address.
//
// Pages whose URL holds a secret (/reset-password/{token},
// /login/email/{token}, /verify-email/{token}) are served with
// Referrer-Policy: no-referrer and Cache-Control: no-store, load nothing
// from other origins, and, where the page stays open with a form, replace
// the URL in the address bar with one without the secret at once
// (static/clean-url.js); the form keeps the secret in a hidden field.

// clientAddr is the client's IP address for the rate limits (see realIP in
// limits.go). A peer whose address cannot be read (a Unix socket) counts as
// the unspecified address, so such clients share one allowance rather than
// escape the limits.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	if a := s.realIP(r); a.IsValid() {
		return a
	}
	return netip.IPv4Unspecified()
}

// mailRequestPage is the data of mail_request.html: a form that asks for an
// address to send a link to, and the same answer for every address.
type mailRequestPage struct {
	Kind   string // "reset", "verify" or "login"
	Email  string
	Sent   bool
	Error  string
	Fields map[string]string
	// ReturnTo is kept through sign-in by code.
	ReturnTo string
	// TTL describes how long the link works, e.g. "1 hour".
	TTL string
}

// askAddress reads the address of a mail request form; a blank or malformed
// one is answered with a field error (which says nothing about accounts).
func (s *Server) askAddress(w http.ResponseWriter, r *http.Request, p *mailRequestPage) (ok bool, err error) {
	if err := r.ParseForm(); err != nil {
		return false, auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	p.Email = strings.TrimSpace(r.PostForm.Get("email"))
	if msg := auth.ValidateEmail(auth.NormalizeEmail(p.Email)); msg != "" {
		p.Fields = map[string]string{"email": msg}
		s.render(w, r, http.StatusUnprocessableEntity, "mail_request.html", *p)
		return false, nil
	}
	return true, nil
}

// mailRequestFailed shows a refused request (rate limits) on the form, and
// returns other errors for the error page.
func (s *Server) mailRequestFailed(w http.ResponseWriter, r *http.Request, p mailRequestPage, err error) error {
	if auth.ErrorCode(err) != auth.ERateLimited {
		return err
	}
	setRetryAfter(w, err)
	p.Error = auth.ErrorMessage(err)
	s.render(w, r, http.StatusTooManyRequests, "mail_request.html", p)
	return nil
}

func (s *Server) resetRequestForm(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Accounts.MailEnabled() {
		return notFoundError
	}
	s.render(w, r, http.StatusOK, "mail_request.html", mailRequestPage{Kind: "reset", Email: r.URL.Query().Get("email")})
	return nil
}

// resetRequestSubmit answers the same way, after the same work, whether or
// not the address has an account: the mail is prepared after the answer.
func (s *Server) resetRequestSubmit(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Accounts.MailEnabled() {
		return notFoundError
	}
	p := mailRequestPage{Kind: "reset", TTL: formatTTL(s.cfg.Accounts.ResetTTL())}
	if ok, err := s.askAddress(w, r, &p); !ok {
		return err
	}
	if err := s.cfg.Accounts.RequestPasswordReset(r.Context(), p.Email, s.clientAddr(r)); err != nil {
		return s.mailRequestFailed(w, r, p, err)
	}
	p.Sent = true
	s.render(w, r, http.StatusOK, "mail_request.html", p)
	return nil
}

// resetPasswordPage is the data of reset_password.html.
type resetPasswordPage struct {
	Token    string
	Username string
	Error    string
	Fields   map[string]string
}

func (s *Server) resetPasswordForm(w http.ResponseWriter, r *http.Request) error {
	u, err := s.cfg.Accounts.CheckResetLink(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "reset_password.html", resetPasswordPage{Token: r.PathValue("token"), Username: u.Username})
	return nil
}

// resetPasswordSubmit sets the new password and sends the browser to sign
// in: a reset never signs anyone in, so that it cannot stand in for a second
// factor.
func (s *Server) resetPasswordSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	token := r.PathValue("token")
	p := resetPasswordPage{Token: token, Username: r.PostForm.Get("username")}
	next := r.PostForm.Get("password")
	if next != r.PostForm.Get("confirm_password") {
		p.Fields = map[string]string{"confirm_password": "Passwords do not match."}
		s.render(w, r, http.StatusUnprocessableEntity, "reset_password.html", p)
		return nil
	}
	_, err := s.cfg.Accounts.ResetPassword(r.Context(), token, next)
	var e *auth.Error
	if errors.As(err, &e) && e.Code == auth.EValidation {
		p.Error, p.Fields = "Your password was not changed.", e.Fields
		s.render(w, r, http.StatusUnprocessableEntity, "reset_password.html", p)
		return nil
	}
	if err != nil {
		return err
	}
	// Every session of the user has ended, this browser's included.
	s.clearSessionCookie(w)
	s.clearTokenCookie(w)
	setFlash(w, flashPasswordReset)
	http.Redirect(w, r, s.base+"/login", http.StatusSeeOther)
	return nil
}

func (s *Server) verifyRequestForm(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Accounts.MailEnabled() {
		return notFoundError
	}
	s.render(w, r, http.StatusOK, "mail_request.html", mailRequestPage{Kind: "verify", Email: r.URL.Query().Get("email")})
	return nil
}

// verifyRequestSubmit sends a new confirmation link, answering the same way
// for every address.
func (s *Server) verifyRequestSubmit(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Accounts.MailEnabled() {
		return notFoundError
	}
	p := mailRequestPage{Kind: "verify"}
	if ok, err := s.askAddress(w, r, &p); !ok {
		return err
	}
	if err := s.cfg.Accounts.ResendVerification(r.Context(), p.Email, s.clientAddr(r)); err != nil {
		return s.mailRequestFailed(w, r, p, err)
	}
	p.Sent = true
	s.render(w, r, http.StatusOK, "mail_request.html", p)
	return nil
}

// verifyPage is the data of verify_email.html.
type verifyPage struct {
	Email    string
	SignedIn bool
}

// verifyEmail spends a confirmation link. It acts on GET, as links in mail
// must; the link only confirms an address, which a mail scanner opening it
// first cannot abuse.
func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	u, err := s.cfg.Accounts.ConfirmEmail(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	_, current, err := s.sessionFromCookie(w, r)
	if err == nil && current != nil && current.ID == u.ID {
		setFlash(w, flashEmailConfirmed)
		http.Redirect(w, r, s.base+"/account", http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "verify_email.html", verifyPage{Email: u.Email, SignedIn: current != nil})
	return nil
}

// emailLoginPage is the data of login_email.html.
type emailLoginPage struct {
	Email    string
	Code     bool // the code step: a mail was sent
	ReturnTo string
	TTL      string
	Error    string
	Fields   map[string]string
	// Token is set on the page a sign-in link opens.
	Token string
}

func (s *Server) emailLoginForm(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Accounts.EmailLoginEnabled() {
		return notFoundError
	}
	s.render(w, r, http.StatusOK, "login_email.html", emailLoginPage{ReturnTo: s.returnTo(r), Email: r.URL.Query().Get("email")})
	return nil
}

// emailLoginSubmit is both steps of sign-in by email: with only an address
// it sends the mail and shows the code form (the same answer for every
// address); with a code it signs in.
func (s *Server) emailLoginSubmit(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Accounts.EmailLoginEnabled() {
		return notFoundError
	}
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	p := emailLoginPage{Email: strings.TrimSpace(r.PostForm.Get("email")), ReturnTo: s.returnTo(r),
		TTL: formatTTL(s.cfg.Accounts.LoginTTL())}
	if msg := auth.ValidateEmail(auth.NormalizeEmail(p.Email)); msg != "" {
		p.Fields = map[string]string{"email": msg}
		s.render(w, r, http.StatusUnprocessableEntity, "login_email.html", p)
		return nil
	}
	if r.PostForm.Has("code") {
		p.Code = true
		u, err := s.cfg.Accounts.EmailLoginWithCode(r.Context(), p.Email, r.PostForm.Get("code"))
		s.countSignIn("email", err)
		if err != nil {
			code := auth.ErrorCode(err)
			if code != auth.EInvalidToken && code != auth.ERateLimited && code != auth.EAccountDisabled {
				return err
			}
			if code == auth.ERateLimited {
				setRetryAfter(w, err)
			}
			p.Fields = map[string]string{"code": auth.ErrorMessage(err)}
			s.render(w, r, statusOf(code), "login_email.html", p)
			return nil
		}
		return s.signIn(w, r, u, false, "email", s.afterLogin(r))
	}
	if err := s.cfg.Accounts.RequestEmailLoginTo(r.Context(), p.Email, s.clientAddr(r), p.ReturnTo); err != nil {
		if auth.ErrorCode(err) != auth.ERateLimited {
			return err
		}
		setRetryAfter(w, err)
		p.Error = auth.ErrorMessage(err)
		s.render(w, r, http.StatusTooManyRequests, "login_email.html", p)
		return nil
	}
	p.Code = true
	s.render(w, r, http.StatusOK, "login_email.html", p)
	return nil
}

// emailLinkForm is the page a sign-in link opens. It does not sign in: mail
// scanners open links too, and one would spend the link. The user presses
// the button, which posts the secret back.
func (s *Server) emailLinkForm(w http.ResponseWriter, r *http.Request) error {
	email, err := s.cfg.Accounts.CheckEmailLoginLink(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "login_email.html", emailLoginPage{Email: email, Token: r.PathValue("token"), ReturnTo: s.returnTo(r)})
	return nil
}

func (s *Server) emailLinkSubmit(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Accounts.EmailLoginEnabled() {
		return notFoundError
	}
	u, err := s.cfg.Accounts.EmailLoginWithLink(r.Context(), r.PathValue("token"))
	s.countSignIn("email", err)
	if err != nil {
		return err
	}
	return s.signIn(w, r, u, false, "email", s.afterLogin(r))
}

// changeEmailSubmit starts a change of the signed-in user's address: a
// confirmation link goes to the new address, which takes effect only when
// it is opened.
func (s *Server) changeEmailSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	u, _ := UserFrom(r.Context())
	err := s.cfg.Accounts.RequestEmailChange(r.Context(), u.ID, r.PostForm.Get("password"), r.PostForm.Get("new_email"), s.clientAddr(r))
	var e *auth.Error
	if errors.As(err, &e) && (e.Code == auth.EValidation || e.Code == auth.EConflict || e.Code == auth.EForbidden ||
		e.Code == auth.ERateLimited) {
		// The account page's fields for this form have their own names.
		fields := map[string]string{"new_email": e.Message}
		if msg, ok := e.Fields["password"]; ok {
			fields = map[string]string{"email_password": msg}
		} else if msg, ok := e.Fields["new_email"]; ok {
			fields["new_email"] = msg
		}
		if e.Code == auth.ERateLimited {
			setRetryAfter(w, err)
		}
		return s.renderAccount(w, r, statusOf(e.Code), "", fields)
	}
	if err != nil {
		return err
	}
	setFlash(w, flashEmailChangeSent)
	http.Redirect(w, r, s.base+"/account", http.StatusSeeOther)
	return nil
}

// formatTTL writes a lifetime as the mails do: "1 hour", "15 minutes".
func formatTTL(d time.Duration) string { return mail.FormatDuration(d) }
