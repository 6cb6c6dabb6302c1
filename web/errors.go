package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// statusOf maps an error code to its HTTP status. It is the only place that
// does.
func statusOf(code string) int {
	switch code {
	case auth.EInvalidRequest:
		return http.StatusBadRequest
	case auth.EValidation:
		return http.StatusUnprocessableEntity
	case auth.EInvalidCredentials, auth.EUnauthorized, auth.EInvalidToken, auth.ETokenReused, auth.EMFARequired:
		return http.StatusUnauthorized
	case auth.EForbidden, auth.EAccountDisabled, auth.EEmailNotVerified, auth.EReauthRequired:
		return http.StatusForbidden
	case auth.ENotFound:
		return http.StatusNotFound
	case auth.EConflict:
		return http.StatusConflict
	case auth.ERateLimited:
		return http.StatusTooManyRequests
	case auth.EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error   string            `json:"error"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// toError turns any error into the one error type; anything that is not
// already an *auth.Error becomes EInternal, whose cause only the log sees.
func toError(err error) *auth.Error {
	var e *auth.Error
	if errors.As(err, &e) {
		return e
	}
	return auth.Internal(err)
}

// logError records server-side failures with their cause; client mistakes
// are not worth a log line of their own here (the request log has them).
func (s *Server) logError(r *http.Request, e *auth.Error) {
	if e.Code == auth.EInternal {
		cause := "unknown"
		if e.Err != nil {
			cause = e.Err.Error()
		}
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(r.Context())), slog.String("route", r.Pattern), slog.String("error", cause))
	}
}

// writeJSONError writes err as the API's JSON error body.
func (s *Server) writeJSONError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	s.logError(r, e)
	status := statusOf(e.Code)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	}
	if status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		setRetryAfter(w, err)
	}
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		setUnavailableRetryAfter(w, err)
	}
	msg := e.Message
	if e.Code == auth.EInternal {
		msg = auth.ErrorMessage(e)
	}
	writeJSON(w, status, errorBody{Error: e.Code, Message: msg, Fields: e.Fields})
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiHandler is a JSON API handler that may fail.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

// api adapts an apiHandler: a returned error becomes the JSON error body.
func (s *Server) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeJSONError(w, r, err)
		}
	})
}

// pageHandler is an HTML handler that may fail.
type pageHandler func(w http.ResponseWriter, r *http.Request) error

// page adapts a pageHandler: a returned error becomes the error page.
func (s *Server) page(h pageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	})
}

// renderError shows err on the error page with its status.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	s.logError(r, e)
	if statusOf(e.Code) == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		setRetryAfter(w, err)
	}
	if statusOf(e.Code) == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		setUnavailableRetryAfter(w, err)
	}
	p := errorPage{Title: errorTitle(e.Code), Message: auth.ErrorMessage(e)}
	p.Action, p.ActionURL = s.errorAction(r, e.Code)
	s.render(w, r, statusOf(e.Code), "error.html", p)
}

// errorAction is the way on from an error page, or "": a link from a mail
// that no longer works leads to the page that sends a new one.
func (s *Server) errorAction(r *http.Request, code string) (label, url string) {
	if code != auth.EInvalidToken && code != auth.ETokenReused {
		return "", ""
	}
	path := strings.TrimPrefix(r.URL.Path, s.base)
	switch {
	case strings.HasPrefix(path, "/reset-password/"):
		return "Ask for a new reset link", s.base + "/reset-password"
	case strings.HasPrefix(path, "/verify-email/"):
		return "Ask for a new confirmation link", s.base + "/verify-email"
	case strings.HasPrefix(path, "/login/email/"):
		return "Ask for a new sign-in link", s.base + "/login/email"
	}
	return "", ""
}

// errorTitle heads the error page. Most titles follow the status, but a
// link from a mail that no longer works is answered 401, and "Sign-in
// needed" would send its reader the wrong way.
func errorTitle(code string) string {
	switch code {
	case auth.EInvalidToken, auth.ETokenReused:
		return "This link does not work"
	}
	return statusTitle(statusOf(code))
}

func statusTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusUnauthorized:
		return "Sign-in needed"
	case http.StatusTooManyRequests:
		return "Too many attempts"
	case http.StatusServiceUnavailable:
		return "Busy for a moment"
	case http.StatusInternalServerError:
		return "Something went wrong"
	}
	return "That did not work"
}
