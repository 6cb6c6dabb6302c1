package web

import (
	"net/http"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// apiAuth lets an API request through only with valid credentials: the
// session cookie (cross-origin writes are already refused by the
// cross-origin protection around every route). A store failure fails closed.
func (s *Server) apiAuth(next apiHandler) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		sess, u, err := s.sessionFromCookie(w, r)
		if err != nil {
			return err
		}
		if u == nil {
			return auth.Errorf(auth.EUnauthorized, "Sign in to use this endpoint.")
		}
		return next(w, withPrincipal(r, &principal{user: u, session: sess}))
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
	s.clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiLogoutAll(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	if _, err := s.cfg.Sessions.RevokeUser(r.Context(), u.ID, "", "logout everywhere"); err != nil {
		return err
	}
	s.clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
