package web

import (
	"fmt"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
)

// apiAuth lets an API request through only with a user's credentials: an
// access token (Authorization: Bearer) or the session cookie (whose
// cross-origin writes the cross-origin protection already refuses). API keys
// act for services, not users, and are refused here. A store failure fails
// closed.
func (s *Server) apiAuth(next apiHandler) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.principal(w, r)
		if err != nil {
			return err
		}
		if p == nil {
			return auth.Errorf(auth.EUnauthorized, "Sign in to use this endpoint.")
		}
		if p.apiKey != nil {
			return auth.Errorf(auth.EForbidden, "API keys cannot act for a user; use the user's access token.")
		}
		return next(w, withPrincipal(r, p))
	})
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
	return nil
}

func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	cur, _ := SessionFrom(r.Context())
	views, err := s.sessionViews(r, u.ID, cur.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": views})
	return nil
}

func (s *Server) apiRevokeSession(w http.ResponseWriter, r *http.Request) error {
	current, err := s.revokeOwnSession(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if current {
		s.clearSessionCookie(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) error {
	sess, _ := SessionFrom(r.Context())
	if err := s.cfg.Sessions.Revoke(r.Context(), sess.ID, "logout"); err != nil && !auth.IsNotFound(err) {
		return err
	}
	s.cfg.Audit.Record(r.Context(), auth.EventLogout, sess.UserID, sess.UserID, map[string]string{"session_id": sess.ID})
	s.clearSessionCookie(w)
	s.clearTokenCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiLogoutAll(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	ids, err := s.cfg.Sessions.RevokeUser(r.Context(), u.ID, "", "logout everywhere")
	if err != nil {
		return err
	}
	s.cfg.Audit.Record(r.Context(), auth.EventLogout, u.ID, u.ID, map[string]string{"scope": "all", "sessions": fmt.Sprint(len(ids))})
	s.clearSessionCookie(w)
	s.clearTokenCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type registerRequest struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// apiRegister creates an account: 201 {user}, 409 for a taken username or
// email, 422 with fields for invalid input.
func (s *Server) apiRegister(w http.ResponseWriter, r *http.Request) error {
	var req registerRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.checkRegister(r); err != nil {
		return err
	}
	u, err := s.cfg.Accounts.Register(r.Context(), accounts.Registration{Username: req.Username, Email: req.Email, Password: req.Password})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": u})
	return nil
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// apiChangePassword changes the caller's password and ends their other
// sessions (and the tokens issued from them): 204.
func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request) error {
	var req passwordRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	u, _ := UserFrom(r.Context())
	sess, _ := SessionFrom(r.Context())
	if err := s.cfg.Accounts.ChangePassword(r.Context(), u.ID, req.CurrentPassword, req.NewPassword); err != nil {
		return err
	}
	if _, err := s.cfg.Sessions.RevokeUser(r.Context(), u.ID, sess.ID, "password changed"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
