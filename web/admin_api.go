package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// bearer returns the credential of an Authorization: Bearer header, or of an
// X-API-Key header. Credentials are never read from the URL.
func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

// adminAuth lets through an admin: an API key with the admin scope, or a
// signed-in user with the admin role. Others get 401 (no credentials) or 403.
func (s *Server) adminAuth(next apiHandler) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.principal(w, r)
		if err != nil {
			return err
		}
		if p == nil {
			return auth.Errorf(auth.EUnauthorized, "Sign in as an admin, or send an API key with the admin scope.")
		}
		if !p.can(auth.ScopeAdmin) {
			s.cfg.Audit.Record(r.Context(), auth.EventAccessDenied, p.user.ID, "", map[string]string{"reason": "not an admin", "path": r.URL.Path})
			return auth.Errorf(auth.EForbidden, "This needs the admin role.")
		}
		return next(w, withPrincipal(r, p))
	})
}

// can reports whether the principal may use a scope: an API key by its
// scopes, a person by their roles (admin for everything).
func (p *principal) can(scope string) bool {
	if p.apiKey != nil {
		for _, sc := range p.apiKey.Scopes {
			if sc == scope {
				return true
			}
		}
		return false
	}
	return p.user.HasRole(auth.RoleAdmin)
}

// principal authenticates a request by API key, bearer token or session
// cookie, in that order. No credentials is (nil, nil); bad credentials are
// an error, never a fall-through to weaker ones.
func (s *Server) principal(w http.ResponseWriter, r *http.Request) (*principal, error) {
	if b := bearer(r); b != "" {
		if strings.HasPrefix(b, "gh_") {
			// API keys can be guessed at: refused while the client is
			// limited, and counted when they match nothing (limits.go).
			if err := s.checkGuess(r); err != nil {
				return nil, err
			}
			k, owner, err := s.cfg.Accounts.AuthenticateAPIKey(r.Context(), b)
			if auth.ErrorCode(err) == auth.EUnauthorized || auth.ErrorCode(err) == auth.EInvalidToken {
				return nil, s.guessFailed(r, err)
			}
			if err != nil {
				return nil, err
			}
			return &principal{user: owner, apiKey: k}, nil
		}
		p, err := s.bearerPrincipal(r, b)
		if err != nil {
			return nil, err
		}
		// A user whose role requires two-step verification that is not on
		// reaches only the set-up (enrollment.go).
		if err := s.enrollmentGate(r, p.user); err != nil {
			return nil, err
		}
		return p, nil
	}
	sess, u, err := s.sessionFromCookie(w, r)
	if err != nil || u == nil {
		return nil, err
	}
	if err := s.enrollmentGate(r, u); err != nil {
		return nil, err
	}
	return &principal{user: u, session: sess}, nil
}

type page struct {
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
	Total   int `json:"total"`
}

// paging reads page (from 1) and per_page (1–100, default 20).
func paging(r *http.Request) (pageNo, perPage int, err error) {
	q := r.URL.Query()
	pageNo, perPage = 1, 20
	if v := q.Get("page"); v != "" {
		if pageNo, err = strconv.Atoi(v); err != nil || pageNo < 1 || pageNo > 1_000_000 {
			return 0, 0, &auth.Error{Code: auth.EInvalidRequest, Message: "page must be a positive number.", Fields: map[string]string{"page": "must be a positive number"}}
		}
	}
	if v := q.Get("per_page"); v != "" {
		if perPage, err = strconv.Atoi(v); err != nil || perPage < 1 || perPage > 100 {
			return 0, 0, &auth.Error{Code: auth.EInvalidRequest, Message: "per_page must be between 1 and 100.", Fields: map[string]string{"per_page": "must be between 1 and 100"}}
		}
	}
	return pageNo, perPage, nil
}

func optionalBool(r *http.Request, name string) (*bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, &auth.Error{Code: auth.EInvalidRequest, Message: name + " must be true or false.", Fields: map[string]string{name: "must be true or false"}}
	}
	return &b, nil
}

// userFilter reads the users list's query: q, role, active, verified, sort,
// page, per_page.
func userFilter(r *http.Request) (auth.UserFilter, int, int, error) {
	pageNo, perPage, err := paging(r)
	if err != nil {
		return auth.UserFilter{}, 0, 0, err
	}
	active, err := optionalBool(r, "active")
	if err != nil {
		return auth.UserFilter{}, 0, 0, err
	}
	verified, err := optionalBool(r, "verified")
	if err != nil {
		return auth.UserFilter{}, 0, 0, err
	}
	q := r.URL.Query()
	return auth.UserFilter{Query: q.Get("q"), Role: q.Get("role"), Active: active, EmailVerified: verified,
		Sort: q.Get("sort"), Offset: (pageNo - 1) * perPage, Limit: perPage}, pageNo, perPage, nil
}

func (s *Server) apiAdminUsers(w http.ResponseWriter, r *http.Request) error {
	f, pageNo, perPage, err := userFilter(r)
	if err != nil {
		return err
	}
	users, total, err := s.cfg.Accounts.Store().FindUsers(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users, "total": total, "page": pageNo, "per_page": perPage})
	return nil
}

func (s *Server) apiAdminUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.cfg.Accounts.Store().FindUserByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
	return nil
}

type userPatch struct {
	Roles         *[]string `json:"roles"`
	Active        *bool     `json:"active"`
	EmailVerified *bool     `json:"email_verified"`
}

// apiAdminPatchUser changes roles, active and email_verified; other fields
// are ignored (no password, email or ID can be set here).
func (s *Server) apiAdminPatchUser(w http.ResponseWriter, r *http.Request) error {
	var req userPatch
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	actor, _ := UserFrom(r.Context())
	id := r.PathValue("id")
	if _, err := s.cfg.Accounts.Store().FindUserByID(r.Context(), id); err != nil {
		return err
	}
	if req.Roles != nil {
		if _, err := s.cfg.Accounts.SetRoles(r.Context(), actor, id, *req.Roles); err != nil {
			return err
		}
	}
	if req.Active != nil {
		if _, err := s.cfg.Accounts.SetActive(r.Context(), actor, id, *req.Active); err != nil {
			return err
		}
	}
	if req.EmailVerified != nil {
		if _, err := s.cfg.Accounts.SetEmailVerified(r.Context(), actor, id, *req.EmailVerified); err != nil {
			return err
		}
	}
	return s.apiAdminUser(w, r)
}

func (s *Server) apiAdminDeleteUser(w http.ResponseWriter, r *http.Request) error {
	actor, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.DeleteUser(r.Context(), actor, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAdminRevokeSessions(w http.ResponseWriter, r *http.Request) error {
	actor, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.RevokeSessions(r.Context(), actor, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiAdminResetMFA turns off a user's two-step verification without a
// code, for a user who lost their authenticator app and recovery codes
// (accounts.ResetMFA, which also ends the user's sessions): 204; 404 for an
// unknown user; 409 conflict when it is not on, so that a client can tell
// "no such user" from "nothing to reset"; 403 for an admin's own account.
func (s *Server) apiAdminResetMFA(w http.ResponseWriter, r *http.Request) error {
	actor, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.ResetMFA(r.Context(), actor, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAdminRoles(w http.ResponseWriter, r *http.Request) error {
	roles, err := s.cfg.Accounts.Store().FindRoles(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"roles": roles})
	return nil
}

type roleRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
}

func (s *Server) apiAdminCreateRole(w http.ResponseWriter, r *http.Request) error {
	var req roleRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	actor, _ := UserFrom(r.Context())
	role, err := s.cfg.Accounts.CreateRole(r.Context(), actor, req.Name, req.Description, req.Permissions)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"role": role})
	return nil
}

func (s *Server) apiAdminDeleteRole(w http.ResponseWriter, r *http.Request) error {
	actor, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.DeleteRole(r.Context(), actor, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiKeyView is how an API key is listed: never its secret or hash.
type apiKeyView struct {
	*auth.APIKey
	Key string `json:"key,omitempty"` // only in the response that creates it
}

func (s *Server) apiAdminAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.cfg.Accounts.Store().FindAPIKeys(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_keys": keys})
	return nil
}

type apiKeyRequest struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (s *Server) apiAdminCreateAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req apiKeyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	actor, _ := UserFrom(r.Context())
	k, secret, err := s.cfg.Accounts.CreateAPIKey(r.Context(), actor, req.Name, req.Scopes, req.ExpiresAt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiKeyView{APIKey: k, Key: secret})
	return nil
}

func (s *Server) apiAdminDeleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	actor, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.RevokeAPIKey(r.Context(), actor, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAdminAudit(w http.ResponseWriter, r *http.Request) error {
	pageNo, perPage, err := paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	events, total, err := s.cfg.Accounts.Store().FindEvents(r.Context(), auth.EventFilter{
		UserID: q.Get("user_id"), Type: q.Get("type"), Offset: (pageNo - 1) * perPage, Limit: perPage})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events, "total": total, "page": pageNo, "per_page": perPage})
	return nil
}
