package web

import (
	"errors"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
)

// setupPage is the data of setup.html.
type setupPage struct {
	Username, Email string
	Error           string
	Fields          map[string]string
	Done            bool
}

// setupForm shows the form that creates the first admin account, if the link
// in the URL can still be used.
func (s *Server) setupForm(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Accounts.CheckSetupLink(r.Context(), r.PathValue("token")); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "setup.html", setupPage{})
	return nil
}

// setupSubmit spends the setup link to create the first admin account.
func (s *Server) setupSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	p := setupPage{Username: r.PostForm.Get("username"), Email: r.PostForm.Get("email"), Fields: map[string]string{}}
	if r.PostForm.Get("password") != r.PostForm.Get("confirm_password") {
		p.Fields["confirm_password"] = "Passwords do not match."
		s.render(w, r, http.StatusUnprocessableEntity, "setup.html", p)
		return nil
	}
	u, err := s.cfg.Accounts.CompleteSetup(r.Context(), r.PathValue("token"), accounts.Registration{
		Username: p.Username, Email: p.Email, Password: r.PostForm.Get("password"),
	})
	var e *auth.Error
	if errors.As(err, &e) && (e.Code == auth.EValidation || e.Code == auth.EConflict) {
		p.Fields, p.Error = e.Fields, e.Message
		s.render(w, r, statusOf(e.Code), "setup.html", p)
		return nil
	}
	if err != nil {
		return err
	}
	// The new admin is signed in: the next step is the admin panel.
	sess, err := s.beginBrowserSession(w, r, u, false, "password")
	if err != nil {
		return err
	}
	s.render(w, withPrincipal(r, &principal{user: u, session: sess}), http.StatusCreated, "setup.html", setupPage{Done: true, Username: p.Username})
	return nil
}
