package web

import (
	"bytes"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/totp"
)

// Turning the second factor (TOTP) on and off: the JSON API under
// /api/mfa/totp and the hosted page /account/mfa. Enrolment is two steps:
// setup makes a secret and shows it (an otpauth:// URI, the same as a QR
// code in a PNG data URL, and the base32 key to type by hand); confirm
// takes a first code from the app, turns TOTP on and returns ten recovery
// codes, shown this once and stored hashed.
//
// Setup, and turning TOTP off, need a recent sign-in (reauth.go); confirm
// needs the set-up made under that check within the last 15 minutes, whose
// secret only the person who saw it has. Turning TOTP off also needs a
// current code or a recovery code, so that a session alone cannot remove
// the factor; so does replacing the recovery codes. Wrong codes count
// against the account's limit on wrong one-time codes. Turning TOTP on or
// off ends the user's other sessions (SE-05): a change of factors is a
// moment to drop devices the user may not control. Each change, and each
// new set of recovery codes, is mailed to the account's address as a
// security notice (accounts.NotifyMFAChange). An admin's reset of another
// user's TOTP is in admin_pages.go and admin_api.go (accounts.ResetMFA).

var errTOTPOff = auth.Errorf(auth.ENotFound, "Two-step verification is not enabled on this server.")

func (s *Server) totpService() (*totp.Service, error) {
	if s.cfg.TOTP == nil {
		return nil, errTOTPOff
	}
	return s.cfg.TOTP, nil
}

// decodeOptionalJSON reads a JSON body into v when the request has one; an
// empty body (no fields to send) leaves v as it is.
func decodeOptionalJSON(r *http.Request, v any) error {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	body, err := io.ReadAll(r.Body) // capped by the body limit
	if err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The request body is too large.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return decodeJSON(r, v)
}

// totpStatus is the answer of GET /api/mfa/totp.
type totpStatus struct {
	Enabled           bool `json:"enabled"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
	// Required says the user's role requires TOTP: it cannot be turned
	// off, and until it is on the session reaches only the set-up.
	Required bool `json:"required"`
}

func (s *Server) totpStatus(r *http.Request, u *auth.User) (*totpStatus, error) {
	svc, err := s.totpService()
	if err != nil {
		return nil, err
	}
	on, err := svc.Enabled(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	st := &totpStatus{Enabled: on, Required: s.mfaRequiredByRole(u)}
	if on {
		if st.RecoveryCodesLeft, err = svc.RecoveryCodesLeft(r.Context(), u.ID); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (s *Server) apiTOTPStatus(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	st, err := s.totpStatus(r, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// totpSetupResponse is the answer of POST /api/mfa/totp/setup.
type totpSetupResponse struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRPNG      string `json:"qr_png"`
}

type totpRequest struct {
	Code string `json:"code"`
	// Password re-authenticates a session older than the window.
	Password string `json:"password"`
}

// apiTOTPSetup starts an enrolment: 200 {secret, otpauth_uri, qr_png}; 409
// while TOTP is on.
func (s *Server) apiTOTPSetup(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.totpService()
	if err != nil {
		return err
	}
	var req totpRequest
	if err := decodeOptionalJSON(r, &req); err != nil {
		return err
	}
	if err := s.requireRecentSignIn(r, req.Password); err != nil {
		return err
	}
	u, _ := UserFrom(r.Context())
	e, err := svc.BeginEnrollment(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, totpSetupResponse{Secret: e.Secret, OTPAuthURI: e.URI, QRPNG: e.QRCode})
	return nil
}

// confirmTOTP turns TOTP on with the first code and returns the recovery
// codes; it ends the user's other sessions and records the change.
func (s *Server) confirmTOTP(r *http.Request, code string) ([]string, error) {
	svc, err := s.totpService()
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	u, _ := UserFrom(ctx)
	sess, _ := SessionFrom(ctx)
	codes, err := svc.ConfirmEnrollment(ctx, u, code)
	if err != nil {
		return nil, err
	}
	s.cfg.Audit.Record(ctx, auth.EventTOTPEnabled, u.ID, u.ID, nil)
	s.cfg.Accounts.NotifyMFAChange(ctx, u, accounts.MFATurnedOn)
	if _, err := s.cfg.Sessions.RevokeUser(ctx, u.ID, sess.ID, "two-step verification turned on"); err != nil {
		return nil, err
	}
	return codes, nil
}

type recoveryCodesResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// apiTOTPConfirm turns TOTP on: 200 {recovery_codes}; 422 for a wrong code.
func (s *Server) apiTOTPConfirm(w http.ResponseWriter, r *http.Request) error {
	var req totpRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	codes, err := s.confirmTOTP(r, req.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recoveryCodesResponse{RecoveryCodes: codes})
	return nil
}

// disableTOTP turns TOTP off with a current code or a recovery code, under
// the limit on wrong codes; it ends the other sessions.
func (s *Server) disableTOTP(r *http.Request, code string) error {
	svc, err := s.totpService()
	if err != nil {
		return err
	}
	ctx := r.Context()
	u, _ := UserFrom(ctx)
	sess, _ := SessionFrom(ctx)
	if s.mfaRequiredByRole(u) {
		return errMFARoleRequires
	}
	if err := s.checkCodeLimit(r, u.ID); err != nil {
		return err
	}
	if err := svc.Disable(ctx, u.ID, code); err != nil {
		if errors.Is(err, totp.ErrWrongCode) {
			s.cfg.Audit.Record(ctx, auth.EventMFAFailed, u.ID, u.ID, map[string]string{"reason": "wrong code", "action": "disable"})
			return s.codeFailed(r, u.ID, err)
		}
		return err
	}
	factor := "totp"
	if !totp.LooksLikeCode(code) {
		factor = "recovery_code"
	}
	s.cfg.Audit.Record(ctx, auth.EventTOTPDisabled, u.ID, u.ID, map[string]string{"factor": factor})
	s.cfg.Accounts.NotifyMFAChange(ctx, u, accounts.MFATurnedOff)
	_, err = s.cfg.Sessions.RevokeUser(ctx, u.ID, sess.ID, "two-step verification turned off")
	return err
}

// apiTOTPDisable turns TOTP off: 204; 401 invalid_credentials for a wrong
// code; 403 reauth_required for an old session without the password.
func (s *Server) apiTOTPDisable(w http.ResponseWriter, r *http.Request) error {
	var req totpRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if _, err := s.totpService(); err != nil {
		return err
	}
	if err := s.requireRecentSignIn(r, req.Password); err != nil {
		return err
	}
	if err := s.disableTOTP(r, req.Code); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// renewRecoveryCodes replaces the recovery codes, with a current code or a
// recovery code.
func (s *Server) renewRecoveryCodes(r *http.Request, code string) ([]string, error) {
	svc, err := s.totpService()
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	u, _ := UserFrom(ctx)
	if err := s.checkCodeLimit(r, u.ID); err != nil {
		return nil, err
	}
	codes, err := svc.RegenerateRecoveryCodes(ctx, u.ID, code)
	if err != nil {
		if errors.Is(err, totp.ErrWrongCode) {
			s.cfg.Audit.Record(ctx, auth.EventMFAFailed, u.ID, u.ID, map[string]string{"reason": "wrong code", "action": "recovery_codes"})
			return nil, s.codeFailed(r, u.ID, err)
		}
		return nil, err
	}
	s.cfg.Audit.Record(ctx, auth.EventRecoveryCodesRenewed, u.ID, u.ID, nil)
	s.cfg.Accounts.NotifyMFAChange(ctx, u, accounts.RecoveryCodesRenewed)
	return codes, nil
}

func (s *Server) apiRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	var req totpRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	codes, err := s.renewRecoveryCodes(r, req.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recoveryCodesResponse{RecoveryCodes: codes})
	return nil
}

// --- The hosted page ---

// mfaPage is the data of mfa.html, which shows the state of two-step
// verification, the set-up (QR code, key, first code), the recovery codes
// once, and the forms that turn it off or renew the codes.
type mfaPage struct {
	Status *totpStatus
	// Due says the user's role requires TOTP and it is off: the session
	// reaches only this set-up until it is on.
	Due bool
	// Fresh says the session is recent enough for changes without the
	// password; Password that the account has one to confirm with.
	Fresh, Password bool
	// Setup is an enrolment in progress, shown with its confirm form.
	Setup *totp.Enrollment
	// RecoveryCodes are new codes, shown once.
	RecoveryCodes []string
	ReturnTo      string
	Error         string
	Fields        map[string]string
}

// QRCode is the set-up's QR code as an image source for the page: a PNG
// data URL, which html/template would otherwise refuse as unsafe.
func (p *mfaPage) QRCode() template.URL {
	if p.Setup == nil || !strings.HasPrefix(p.Setup.QRCode, "data:image/png;base64,") {
		return ""
	}
	return template.URL(p.Setup.QRCode)
}

func (s *Server) mfaPageData(r *http.Request) (*mfaPage, error) {
	u, _ := UserFrom(r.Context())
	st, err := s.totpStatus(r, u)
	if err != nil {
		return nil, err
	}
	return &mfaPage{Status: st, Due: st.Required && !st.Enabled, Fresh: s.recentSignIn(r), Password: u.HasPassword(),
		ReturnTo: s.returnTo(r)}, nil
}

func (s *Server) renderMFA(w http.ResponseWriter, r *http.Request, status int, p *mfaPage) error {
	s.render(w, r, status, "mfa.html", p)
	return nil
}

// mfaForm is GET /account/mfa.
func (s *Server) mfaForm(w http.ResponseWriter, r *http.Request) error {
	p, err := s.mfaPageData(r)
	if err != nil {
		return err
	}
	return s.renderMFA(w, r, http.StatusOK, p)
}

// formError shows a refused form on the MFA page with its status: the
// message, and the field it concerns.
func (s *Server) mfaFormError(w http.ResponseWriter, r *http.Request, p *mfaPage, err error) error {
	var e *auth.Error
	if !errors.As(err, &e) || e.Code == auth.EInternal {
		return err
	}
	setRefusalHeaders(w, err)
	p.Error, p.Fields = e.Message, e.Fields
	if e.Code == auth.EInvalidCredentials {
		p.Fields = map[string]string{"code": e.Message}
	}
	return s.renderMFA(w, r, statusOf(e.Code), p)
}

func (s *Server) mfaSetupSubmit(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.totpService()
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	p, err := s.mfaPageData(r)
	if err != nil {
		return err
	}
	err = s.requireRecentSignIn(r, r.PostForm.Get("password"))
	if s.pageReauth(w, r, err, s.enrollmentURL(p.ReturnTo)) {
		return nil
	}
	if err != nil {
		return s.mfaFormError(w, r, p, err)
	}
	u, _ := UserFrom(r.Context())
	if p.Setup, err = svc.BeginEnrollment(r.Context(), u); err != nil {
		return s.mfaFormError(w, r, p, err)
	}
	return s.renderMFA(w, r, http.StatusOK, p)
}

func (s *Server) mfaConfirmSubmit(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.totpService()
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	p, err := s.mfaPageData(r)
	if err != nil {
		return err
	}
	codes, err := s.confirmTOTP(r, r.PostForm.Get("code"))
	if auth.ErrorCode(err) == auth.EValidation {
		// A mistyped first code: show the same secret again, so that the
		// entry the user added to their app stays good.
		u, _ := UserFrom(r.Context())
		if p.Setup, err = svc.Pending(r.Context(), u); err != nil {
			return s.mfaFormError(w, r, p, err)
		}
		return s.mfaFormError(w, r, p, totp.ErrEnrollmentCode)
	}
	if err != nil {
		return s.mfaFormError(w, r, p, err)
	}
	if p, err = s.mfaPageData(r); err != nil {
		return err
	}
	p.RecoveryCodes = codes
	return s.renderMFA(w, r, http.StatusOK, p)
}

func (s *Server) mfaDisableSubmit(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.totpService(); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	p, err := s.mfaPageData(r)
	if err != nil {
		return err
	}
	err = s.requireRecentSignIn(r, r.PostForm.Get("password"))
	if s.pageReauth(w, r, err, s.base+"/account/mfa") {
		return nil
	}
	if err == nil {
		err = s.disableTOTP(r, r.PostForm.Get("code"))
	}
	if err != nil {
		return s.mfaFormError(w, r, p, err)
	}
	setFlash(w, flashMFADisabled)
	http.Redirect(w, r, s.base+"/account/mfa", http.StatusSeeOther)
	return nil
}

func (s *Server) mfaRecoveryCodesSubmit(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.totpService(); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	p, err := s.mfaPageData(r)
	if err != nil {
		return err
	}
	codes, err := s.renewRecoveryCodes(r, r.PostForm.Get("code"))
	if err != nil {
		return s.mfaFormError(w, r, p, err)
	}
	if p, err = s.mfaPageData(r); err != nil {
		return err
	}
	p.RecoveryCodes = codes
	return s.renderMFA(w, r, http.StatusOK, p)
}
