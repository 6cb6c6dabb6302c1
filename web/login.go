package web

import (
	"errors"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/session"
)

// loginPage is the data of login.html.
type loginPage struct {
	Login    string
	Remember bool
	ReturnTo string
	Error    string
	// Unverified says the error is an unconfirmed address: offer a new link.
	Unverified bool
}

// returnTo is the safe return_to of a request (query or form), or "".
func (s *Server) returnTo(r *http.Request) string {
	v := r.URL.Query().Get("return_to")
	if r.Method == http.MethodPost {
		if f := r.PostFormValue("return_to"); f != "" {
			v = f
		}
	}
	return s.safeReturnTo(v)
}

// afterLogin is where a browser goes once signed in.
func (s *Server) afterLogin(r *http.Request) string {
	if rt := s.returnTo(r); rt != "" {
		return rt
	}
	return s.base + "/account"
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) error {
	// Someone already signed in goes straight on.
	if _, u, err := s.sessionFromCookie(w, r); err == nil && u != nil {
		http.Redirect(w, r, s.afterLogin(r), http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "login.html", loginPage{ReturnTo: s.returnTo(r)})
	return nil
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	p := loginPage{Login: r.PostForm.Get("login"), Remember: r.PostForm.Get("remember") != "", ReturnTo: s.returnTo(r)}
	u, err := s.authenticate(w, r, p.Login, r.PostForm.Get("password"))
	var e *auth.Error
	if errors.As(err, &e) && loginRefusal(err) {
		setRefusalHeaders(w, err)
		p.Error, p.Unverified = e.Message, e.Code == auth.EEmailNotVerified
		s.render(w, r, statusOf(e.Code), "login.html", p)
		return nil
	}
	if err != nil {
		return err
	}
	return s.signIn(w, r, u, p.Remember, "password", s.afterLogin(r))
}

// signIn completes a sign-in whose first factor (method) succeeded: it asks
// for the second factor when u has one, and otherwise starts a new session
// and sends the browser on (signin_mfa.go).
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, u *auth.User, remember bool, method, next string) error {
	return s.completeBrowserSignIn(w, r, u, signInOptions{Method: method, Remember: remember, Next: next})
}

// startBrowserSession starts a new session for u and sets its cookies. Any
// session the browser already had ends first: a sign-in never reuses a
// session ID, so a cookie planted before sign-in is worthless (session
// fixation).
func (s *Server) startBrowserSession(w http.ResponseWriter, r *http.Request, u *auth.User, remember bool, method string) error {
	_, err := s.beginBrowserSession(w, r, u, remember, method)
	return err
}

// beginBrowserSession is startBrowserSession returning the new session.
func (s *Server) beginBrowserSession(w http.ResponseWriter, r *http.Request, u *auth.User, remember bool, method string) (*auth.Session, error) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if old, _, _, err := s.cfg.Sessions.Check(r.Context(), c.Value); err == nil {
			s.cfg.Sessions.Revoke(r.Context(), old.ID, "replaced by a new sign-in")
		}
	}
	secret, sess, err := s.cfg.Sessions.Start(r.Context(), u, session.Options{
		Remember: remember, IP: s.clientIP(r), UserAgent: r.UserAgent(), Method: method,
	})
	if err != nil {
		return nil, err
	}
	s.setSessionCookie(w, secret, sess)
	return sess, s.setTokenCookie(w, r, u, sess)
}

// registerPage is the data of register.html.
type registerPage struct {
	Username, Email string
	ReturnTo        string
	Error           string
	Fields          map[string]string
}

func (s *Server) registerForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "register.html", registerPage{ReturnTo: s.returnTo(r)})
	return nil
}

func (s *Server) registerSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	p := registerPage{Username: r.PostForm.Get("username"), Email: r.PostForm.Get("email"), ReturnTo: s.returnTo(r), Fields: map[string]string{}}
	pw := r.PostForm.Get("password")
	reg := accounts.Registration{Username: p.Username, Email: p.Email, Password: pw}
	err := s.cfg.Accounts.Validate(&reg)
	var e *auth.Error
	if errors.As(err, &e) {
		p.Fields = e.Fields
	}
	if pw != r.PostForm.Get("confirm_password") {
		p.Fields["confirm_password"] = "Passwords do not match."
	}
	if len(p.Fields) > 0 {
		p.Error = "Please correct the fields below."
		s.render(w, r, http.StatusUnprocessableEntity, "register.html", p)
		return nil
	}
	var u *auth.User
	err = s.checkRegister(r)
	if err == nil {
		u, err = s.cfg.Accounts.Register(r.Context(), reg)
	}
	if errors.As(err, &e) && (e.Code == auth.EConflict || e.Code == auth.EValidation || e.Code == auth.ERateLimited || e.Code == auth.EUnavailable) {
		setRefusalHeaders(w, err)
		p.Fields, p.Error = e.Fields, e.Message
		s.render(w, r, statusOf(e.Code), "register.html", p)
		return nil
	}
	if err != nil {
		return err
	}
	if s.cfg.Accounts.VerificationRequired() && !u.EmailVerified {
		// No sign-in until the address is confirmed.
		s.render(w, r, http.StatusCreated, "mail_request.html", mailRequestPage{Kind: "registered", Email: u.Email, Sent: true})
		return nil
	}
	setFlash(w, flashWelcome)
	return s.signIn(w, r, u, false, "password", s.afterLogin(r))
}

// logoutPage is the data of logout.html.
type logoutPage struct{ SignedIn bool }

// logoutConfirm shows a form: a GET never signs anyone out, so a link or an
// image on another site cannot either.
func (s *Server) logoutConfirm(w http.ResponseWriter, r *http.Request) error {
	_, u, err := s.sessionFromCookie(w, r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "logout.html", logoutPage{SignedIn: u != nil})
	return nil
}

func (s *Server) logoutSubmit(w http.ResponseWriter, r *http.Request) error {
	sess, _, err := s.sessionFromCookie(w, r)
	if err != nil {
		return err
	}
	if sess != nil {
		if err := s.cfg.Sessions.Revoke(r.Context(), sess.ID, "logout"); err != nil && !auth.IsNotFound(err) {
			return err
		}
		s.cfg.Audit.Record(r.Context(), auth.EventLogout, sess.UserID, sess.UserID, map[string]string{"session_id": sess.ID})
	}
	s.clearSessionCookie(w)
	s.clearTokenCookie(w)
	setFlash(w, flashSignedOut)
	next := s.returnTo(r)
	if next == "" {
		next = s.base + "/login"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
