package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/session"
)

// sessionView is one device on the account page and in the API.
type sessionView struct {
	ID         string    `json:"id"`
	Device     string    `json:"device"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Method     string    `json:"method"`
	Remember   bool      `json:"remember"`
	Current    bool      `json:"current"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (s *Server) sessionViews(r *http.Request, userID, currentID string) ([]sessionView, error) {
	list, err := s.cfg.Accounts.Store().FindUserSessions(r.Context(), userID)
	if err != nil {
		return nil, err
	}
	out := make([]sessionView, 0, len(list))
	for _, ss := range list {
		out = append(out, sessionView{ID: ss.ID, Device: session.DescribeUserAgent(ss.UserAgent), UserAgent: ss.UserAgent,
			IP: ss.IP, Method: ss.Method, Remember: ss.Remember, Current: ss.ID == currentID,
			CreatedAt: ss.CreatedAt, LastSeenAt: ss.LastSeenAt, ExpiresAt: ss.ExpiresAt})
	}
	return out, nil
}

// accountPage is the data of account.html.
type accountPage struct {
	User     *auth.User
	Sessions []sessionView
	Passkeys *passkeySection
	// Identities are the linked providers (oauth.go); MFA the state of
	// two-step verification, nil when it is not enabled here (totp.go).
	Identities *identitySection
	MFA        *totpStatus
	Error      string
	Fields     map[string]string
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) error {
	return s.renderAccount(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, msg string, fields map[string]string) error {
	u, _ := UserFrom(r.Context())
	sess, _ := SessionFrom(r.Context())
	views, err := s.sessionViews(r, u.ID, sess.ID)
	if err != nil {
		return err
	}
	passkeys, err := s.passkeySection(r, u)
	if err != nil {
		return err
	}
	p := accountPage{User: u, Sessions: views, Passkeys: passkeys, Error: msg, Fields: fields}
	if p.Identities, err = s.identitySection(r, u); err != nil {
		return err
	}
	if s.cfg.TOTP != nil {
		if p.MFA, err = s.totpStatus(r, u); err != nil {
			return err
		}
	}
	s.render(w, r, status, "account.html", p)
	return nil
}

func (s *Server) changePasswordSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	u, _ := UserFrom(r.Context())
	sess, _ := SessionFrom(r.Context())
	next := r.PostForm.Get("new_password")
	if next != r.PostForm.Get("confirm_password") {
		return s.renderAccount(w, r, http.StatusUnprocessableEntity, "Your password was not changed.",
			map[string]string{"confirm_password": "Passwords do not match."})
	}
	err := s.cfg.Accounts.ChangePassword(r.Context(), u.ID, r.PostForm.Get("current_password"), next)
	var e *auth.Error
	if errors.As(err, &e) && e.Fields != nil {
		return s.renderAccount(w, r, statusOf(e.Code), "Your password was not changed.", e.Fields)
	}
	if err != nil {
		return err
	}
	if _, err := s.cfg.Sessions.RevokeUser(r.Context(), u.ID, sess.ID, "password changed"); err != nil {
		return err
	}
	setFlash(w, flashPasswordChanged)
	http.Redirect(w, r, s.base+"/account", http.StatusSeeOther)
	return nil
}

// revokeOwnSession ends one of the signed-in user's sessions. Another user's
// session ID is answered exactly like a missing one.
func (s *Server) revokeOwnSession(r *http.Request, id string) (current bool, err error) {
	u, _ := UserFrom(r.Context())
	cur, _ := SessionFrom(r.Context())
	target, err := s.cfg.Accounts.Store().FindSessionByID(r.Context(), id)
	if err != nil || target.UserID != u.ID {
		if err == nil || auth.IsNotFound(err) {
			return false, auth.Errorf(auth.ENotFound, "No such session.")
		}
		return false, err
	}
	if err := s.cfg.Sessions.Revoke(r.Context(), target.ID, "revoked by the user"); err != nil {
		return false, err
	}
	s.cfg.Audit.Record(r.Context(), auth.EventSessionRevoked, u.ID, u.ID, map[string]string{"session_id": target.ID, "reason": "revoked by the user"})
	return target.ID == cur.ID, nil
}

func (s *Server) revokeSessionSubmit(w http.ResponseWriter, r *http.Request) error {
	current, err := s.revokeOwnSession(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if current {
		s.clearSessionCookie(w)
		setFlash(w, flashSignedOut)
		http.Redirect(w, r, s.base+"/login", http.StatusSeeOther)
		return nil
	}
	setFlash(w, flashSessionRevoked)
	http.Redirect(w, r, s.base+"/account", http.StatusSeeOther)
	return nil
}

// home sends people to their account, or to sign in.
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, s.base+"/account", http.StatusSeeOther)
	return nil
}
