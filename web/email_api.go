package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gatehouse-dev/gatehouse/auth"
)

// The JSON API of the email lifecycle. Requests that send a mail to an
// address answer 202 whatever the address (see accounts.RequestPasswordReset
// for how the answer's timing is kept independent of it too); only the rate
// limits, which count every address alike, can refuse them (429).

type emailRequest struct {
	Email string `json:"email"`
	// ReturnTo, for a sign-in mail only, is where the mail's link goes on to
	// once it has signed the user in: a path here, or a URL on an allowed
	// origin (the sign-in SDK sends its page); anything else is ignored.
	ReturnTo string `json:"return_to"`
}

// acceptedBody is the body of every 202: the same for every address.
type acceptedBody struct {
	Message string `json:"message"`
}

func (s *Server) apiPasswordReset(w http.ResponseWriter, r *http.Request) error {
	var req emailRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.cfg.Accounts.RequestPasswordReset(r.Context(), req.Email, s.clientAddr(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, acceptedBody{"If an account uses this address, a link to choose a new password is on its way."})
	return nil
}

type resetConfirmRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// apiPasswordResetConfirm sets a new password with a reset link's token:
// 204, and every session and token of the user ends. It signs nobody in.
func (s *Server) apiPasswordResetConfirm(w http.ResponseWriter, r *http.Request) error {
	var req resetConfirmRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if _, err := s.cfg.Accounts.ResetPassword(r.Context(), req.Token, req.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type tokenRequest struct {
	Token string `json:"token"`
}

// apiVerifyEmailConfirm spends a confirmation link's token: one that
// confirms an account's address, or one that confirms a new address: 204.
func (s *Server) apiVerifyEmailConfirm(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if _, err := s.cfg.Accounts.ConfirmEmail(r.Context(), req.Token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiVerifyEmailResend sends a new confirmation link to an address whose
// account has not confirmed it: 202 for every address.
func (s *Server) apiVerifyEmailResend(w http.ResponseWriter, r *http.Request) error {
	var req emailRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.cfg.Accounts.ResendVerification(r.Context(), req.Email, s.clientAddr(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, acceptedBody{"If an account with an unconfirmed address uses this address, a new link is on its way."})
	return nil
}

func (s *Server) apiEmailLogin(w http.ResponseWriter, r *http.Request) error {
	var req emailRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.cfg.Accounts.RequestEmailLoginTo(r.Context(), req.Email, s.clientAddr(r), s.safeReturnTo(req.ReturnTo)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, acceptedBody{"If this address can sign in, a sign-in link and code are on their way."})
	return nil
}

type emailLoginConfirmRequest struct {
	Token string `json:"token"`
	Email string `json:"email"`
	Code  string `json:"code"`
	// Remember, for the SDK's same-site sign-ins (see loginRequest).
	Remember bool `json:"remember"`
}

// apiEmailLoginConfirm signs in with the link's token or with the address
// and the code of a sign-in mail, and answers as a password sign-in does.
func (s *Server) apiEmailLoginConfirm(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Tokens == nil {
		return auth.Errorf(auth.ENotFound, "Token sign-in is not enabled.")
	}
	var req emailLoginConfirmRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	var u *auth.User
	var err error
	switch {
	case req.Token != "" && req.Code == "":
		u, err = s.cfg.Accounts.EmailLoginWithLink(r.Context(), req.Token)
	case req.Token == "" && req.Email != "" && req.Code != "":
		u, err = s.cfg.Accounts.EmailLoginWithCode(r.Context(), req.Email, req.Code)
	default:
		return &auth.Error{Code: auth.EInvalidRequest, Message: "Send either token, or email and code.",
			Fields: map[string]string{"token": "token, or email and code, are required"}}
	}
	s.countSignIn("email", err)
	if err != nil {
		return err
	}
	// A pair, or 401 mfa_required with an mfa_token (signin_mfa.go).
	return s.completeTokenSignIn(w, r, u, signInOptions{Method: "email", Remember: req.Remember})
}

type emailChangeRequest struct {
	NewEmail string `json:"new_email"`
	Password string `json:"password"`
}

// apiChangeEmail starts a change of the caller's address: 202, and a
// confirmation link goes to the new address; the address changes when it is
// opened, and the old address then gets a notice.
func (s *Server) apiChangeEmail(w http.ResponseWriter, r *http.Request) error {
	var req emailChangeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	u, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.RequestEmailChange(r.Context(), u.ID, req.Password, req.NewEmail, s.clientAddr(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, acceptedBody{"A confirmation link is on its way to the new address. The address changes when it is opened."})
	return nil
}

// setRetryAfter sets Retry-After on a 429 (RFC 9110 §10.2.3): the wait the
// error carries (accounts.RateLimitError), or a minute.
func setRetryAfter(w http.ResponseWriter, err error) {
	secs := 60
	var ra interface{ RetryAfterSeconds() int }
	if errors.As(err, &ra) {
		secs = ra.RetryAfterSeconds()
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}
