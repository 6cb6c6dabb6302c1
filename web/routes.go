package web

import (
	"io/fs"
	"net/http"
	"strings"
)

// routeMux is a ServeMux that remembers the patterns registered on it, so
// that tests can check every route against the API description.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// routes lists every route Gatehouse serves.
func (s *Server) routes() (http.Handler, error) {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	defer func() { s.patterns = mux.patterns }()
	static, err := fs.Sub(uiFiles, "ui/static")
	if err != nil {
		return nil, err
	}

	// Operations.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.cfg.ServeMetrics && s.cfg.Metrics != nil {
		// Otherwise /metrics is a 404 here: serve it on its own listener.
		mux.Handle("GET /metrics", s.cfg.Metrics.Handler())
	}

	// Assets, embedded in the binary.
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheable(http.FileServerFS(static))))
	mux.HandleFunc("GET /theme.css", s.theme)
	// The sign-in SDK (sdk.go), by name and pinned by content hash.
	mux.HandleFunc("GET /sdk/{file}", s.sdkFile)
	mux.HandleFunc("GET /sdk/{version}/{file}", s.sdkFile)

	// First-start setup of the first admin account.
	mux.Handle("GET /setup/{token}", noReferrer(s.page(s.setupForm)))
	mux.Handle("POST /setup/{token}", noReferrer(s.page(s.setupSubmit)))

	// Hosted pages.
	mux.Handle("GET /{$}", s.page(s.home))
	mux.Handle("GET /login", s.page(s.loginForm))
	mux.Handle("POST /login", s.page(s.loginSubmit))
	mux.Handle("GET /register", s.page(s.registerForm))
	mux.Handle("POST /register", s.page(s.registerSubmit))
	mux.Handle("GET /logout", s.page(s.logoutConfirm))
	mux.Handle("POST /logout", s.page(s.logoutSubmit))
	mux.Handle("GET /session/refresh", s.page(s.sessionRefresh))
	mux.Handle("GET /account", s.RequireLogin(s.page(s.account)))
	mux.Handle("POST /account/password", s.RequireLogin(s.page(s.changePasswordSubmit)))
	mux.Handle("POST /account/sessions/{id}/revoke", s.RequireLogin(s.page(s.revokeSessionSubmit)))
	mux.Handle("POST /account/passkeys/{id}/rename", s.RequireLogin(s.page(s.renamePasskeySubmit)))
	mux.Handle("POST /account/passkeys/{id}/delete", s.RequireLogin(s.page(s.removePasskeySubmit)))

	// Admin panel (admin_pages.go): pages for the admin role; every change
	// is a POST, and deleting asks first with a GET confirmation page.
	mux.Handle("GET /admin", s.adminPage(s.adminDashboard))
	mux.Handle("GET /admin/users", s.adminPage(s.adminUsers))
	mux.Handle("GET /admin/users/{id}", s.adminPage(s.adminUser))
	mux.Handle("POST /admin/users/{id}/active", s.adminPage(s.adminSetActive))
	mux.Handle("POST /admin/users/{id}/roles", s.adminPage(s.adminSetRoles))
	mux.Handle("POST /admin/users/{id}/verified", s.adminPage(s.adminSetVerified))
	mux.Handle("POST /admin/users/{id}/revoke-sessions", s.adminPage(s.adminRevokeSessions))
	mux.Handle("POST /admin/users/{id}/mfa/reset", s.adminPage(s.adminResetMFA))
	mux.Handle("GET /admin/users/{id}/delete", s.adminPage(s.adminDeleteConfirm))
	mux.Handle("POST /admin/users/{id}/delete", s.adminPage(s.adminDeleteUser))
	mux.Handle("GET /admin/audit", s.adminPage(s.adminAudit))
	mux.Handle("GET /admin/api-keys", s.adminPage(s.adminAPIKeys))
	mux.Handle("GET /admin/sdk", s.adminPage(s.adminSDK))
	mux.Handle("POST /admin/api-keys", s.adminPage(s.adminCreateAPIKey))
	mux.Handle("POST /admin/api-keys/{id}/revoke", s.adminPage(s.adminRevokeAPIKey))

	// JSON API.
	mux.Handle("POST /api/auth/register", s.api(s.apiRegister))
	mux.Handle("POST /api/auth/login", s.refreshCookie(false, s.api(s.apiLogin)))
	mux.Handle("POST /api/auth/refresh", s.sessionToken(s.refreshCookie(true, s.api(s.apiRefresh))))
	mux.Handle("GET /api/auth/revocations", s.api(s.apiRevocations))
	mux.Handle("POST /api/introspect", s.api(s.apiIntrospect))
	mux.HandleFunc("GET /.well-known/jwks.json", s.jwks)
	mux.HandleFunc("GET /api/openapi.json", s.openAPI)
	mux.Handle("POST /api/auth/password", s.apiAuth(s.apiChangePassword))
	mux.Handle("GET /api/me", enrollmentExempt(s.apiAuth(s.apiMe)))
	mux.Handle("GET /api/sessions", s.apiAuth(s.apiSessions))
	mux.Handle("DELETE /api/sessions/{id}", s.apiAuth(s.apiRevokeSession))

	// Passkeys (passkeys.go): each ceremony a begin/finish pair.
	mux.Handle("POST /api/passkeys/register/begin", s.apiAuth(s.apiPasskeyRegisterBegin))
	mux.Handle("POST /api/passkeys/register/finish", s.apiAuth(s.apiPasskeyRegisterFinish))
	mux.Handle("POST /api/passkeys/login/begin", s.api(s.apiPasskeyLoginBegin))
	mux.Handle("POST /api/passkeys/login/finish", s.refreshCookie(false, s.api(s.apiPasskeyLoginFinish)))
	mux.Handle("POST /api/passkeys/signup/begin", s.api(s.apiPasskeySignUpBegin))
	mux.Handle("POST /api/passkeys/signup/finish", s.api(s.apiPasskeySignUpFinish))
	mux.Handle("GET /api/passkeys", s.apiAuth(s.apiPasskeys))
	mux.Handle("PATCH /api/passkeys/{id}", s.apiAuth(s.apiRenamePasskey))
	mux.Handle("DELETE /api/passkeys/{id}", s.apiAuth(s.apiDeletePasskey))
	mux.Handle("POST /api/auth/logout", enrollmentExempt(s.clearRefreshCookie(s.apiAuth(s.apiLogout))))
	mux.Handle("POST /api/auth/logout-all", enrollmentExempt(s.clearRefreshCookie(s.apiAuth(s.apiLogoutAll))))

	// Admin JSON API: an admin's session or token, or an API key with the admin scope.
	mux.Handle("GET /api/admin/users", s.adminAuth(s.apiAdminUsers))
	mux.Handle("GET /api/admin/users/{id}", s.adminAuth(s.apiAdminUser))
	mux.Handle("PATCH /api/admin/users/{id}", s.adminAuth(s.apiAdminPatchUser))
	mux.Handle("DELETE /api/admin/users/{id}", s.adminAuth(s.apiAdminDeleteUser))
	mux.Handle("POST /api/admin/users/{id}/revoke-sessions", s.adminAuth(s.apiAdminRevokeSessions))
	mux.Handle("DELETE /api/admin/users/{id}/mfa", s.adminAuth(s.apiAdminResetMFA))
	mux.Handle("GET /api/admin/roles", s.adminAuth(s.apiAdminRoles))
	mux.Handle("POST /api/admin/roles", s.adminAuth(s.apiAdminCreateRole))
	mux.Handle("DELETE /api/admin/roles/{name}", s.adminAuth(s.apiAdminDeleteRole))
	mux.Handle("GET /api/admin/api-keys", s.adminAuth(s.apiAdminAPIKeys))
	mux.Handle("POST /api/admin/api-keys", s.adminAuth(s.apiAdminCreateAPIKey))
	mux.Handle("DELETE /api/admin/api-keys/{id}", s.adminAuth(s.apiAdminDeleteAPIKey))
	mux.Handle("GET /api/admin/audit", s.adminAuth(s.apiAdminAudit))

	// The email lifecycle: password reset, address confirmation, sign-in by
	// email, change of address. Pages whose URL holds a secret send no
	// Referer.
	mux.Handle("GET /reset-password", s.page(s.resetRequestForm))
	mux.Handle("POST /reset-password", s.page(s.resetRequestSubmit))
	mux.Handle("GET /reset-password/{token}", noReferrer(s.page(s.resetPasswordForm)))
	mux.Handle("POST /reset-password/{token}", noReferrer(s.page(s.resetPasswordSubmit)))
	mux.Handle("GET /verify-email", s.page(s.verifyRequestForm))
	mux.Handle("POST /verify-email", s.page(s.verifyRequestSubmit))
	mux.Handle("GET /verify-email/{token}", noReferrer(s.page(s.verifyEmail)))
	mux.Handle("GET /login/email", s.page(s.emailLoginForm))
	mux.Handle("POST /login/email", s.page(s.emailLoginSubmit))
	mux.Handle("GET /login/email/{token}", noReferrer(s.page(s.emailLinkForm)))
	mux.Handle("POST /login/email/{token}", noReferrer(s.page(s.emailLinkSubmit)))
	mux.Handle("POST /account/email", s.RequireLogin(s.page(s.changeEmailSubmit)))
	mux.Handle("GET /dev/mail", s.page(s.devMailbox))
	mux.Handle("POST /api/auth/password-reset", s.api(s.apiPasswordReset))
	mux.Handle("POST /api/auth/password-reset/confirm", s.api(s.apiPasswordResetConfirm))
	mux.Handle("POST /api/auth/verify-email/confirm", s.api(s.apiVerifyEmailConfirm))
	mux.Handle("POST /api/auth/verify-email/resend", s.api(s.apiVerifyEmailResend))
	mux.Handle("POST /api/auth/email-login", s.api(s.apiEmailLogin))
	mux.Handle("POST /api/auth/email-login/confirm", s.refreshCookie(false, s.api(s.apiEmailLoginConfirm)))
	mux.Handle("POST /api/auth/email", s.apiAuth(s.apiChangeEmail))

	// Sign-in through outside providers (oauth.go); the callback's URL
	// carries the code and state, so it sends no Referer.
	mux.Handle("GET /oauth/{provider}/start", s.page(s.oauthStart))
	mux.Handle("GET /oauth/{provider}/callback", noReferrer(s.page(s.oauthCallback)))
	mux.Handle("POST /account/identities/{provider}/link", s.RequireLogin(s.page(s.linkIdentitySubmit)))
	mux.Handle("POST /account/identities/{id}/unlink", s.RequireLogin(s.page(s.unlinkIdentitySubmit)))
	mux.Handle("GET /api/auth/providers", s.api(s.apiProviders))
	mux.Handle("GET /api/identities", s.apiAuth(s.apiIdentities))
	mux.Handle("DELETE /api/identities/{id}", s.apiAuth(s.apiUnlinkIdentity))

	// Two-step verification: the second step of a sign-in
	// (signin_mfa.go), turning TOTP on and off (totp.go), re-authentication
	// before sensitive changes (reauth.go). Routes marked enrollmentExempt
	// stay open to users whose role requires TOTP until they set it up
	// (enrollment.go).
	mux.Handle("GET /login/mfa", s.page(s.loginMFAForm))
	mux.Handle("POST /login/mfa", s.page(s.loginMFASubmit))
	mux.Handle("POST /api/auth/login/mfa", s.refreshCookie(false, s.api(s.apiLoginMFA)))
	mux.Handle("GET /account/mfa", enrollmentExempt(s.RequireLogin(s.page(s.mfaForm))))
	mux.Handle("POST /account/mfa/totp/setup", enrollmentExempt(s.RequireLogin(s.page(s.mfaSetupSubmit))))
	mux.Handle("POST /account/mfa/totp/confirm", enrollmentExempt(s.RequireLogin(s.page(s.mfaConfirmSubmit))))
	mux.Handle("POST /account/mfa/totp/disable", s.RequireLogin(s.page(s.mfaDisableSubmit)))
	mux.Handle("POST /account/mfa/totp/recovery-codes", s.RequireLogin(s.page(s.mfaRecoveryCodesSubmit)))
	mux.Handle("GET /account/reauth", enrollmentExempt(s.RequireLogin(s.page(s.reauthForm))))
	mux.Handle("POST /account/reauth", enrollmentExempt(s.RequireLogin(s.page(s.reauthSubmit))))
	mux.Handle("GET /api/mfa/totp", enrollmentExempt(s.apiAuth(s.apiTOTPStatus)))
	mux.Handle("POST /api/mfa/totp/setup", enrollmentExempt(s.apiAuth(s.apiTOTPSetup)))
	mux.Handle("POST /api/mfa/totp/confirm", enrollmentExempt(s.apiAuth(s.apiTOTPConfirm)))
	mux.Handle("DELETE /api/mfa/totp", s.apiAuth(s.apiTOTPDisable))
	mux.Handle("POST /api/mfa/totp/recovery-codes", s.apiAuth(s.apiRecoveryCodes))

	// Everything else: a JSON or HTML 404.
	mux.Handle("/", s.notFound())

	cop := http.NewCrossOriginProtection()
	cop.AddTrustedOrigin(s.public.Scheme + "://" + s.public.Host)
	for _, o := range s.cfg.AllowedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	return s.observe(s.secure(s.cors(crossOriginCheck(cop, recordRoute(mux.ServeMux))))), nil
}

// requestURI is where a browser's request was, to come back to it: for
// Gatehouse's own pages under the public URL's path (/auth/account, not the
// app's /account). A request reached Gatehouse's own handler, whose paths
// are relative to the public URL's (an app that mounts it under /auth strips
// that prefix), when it went through secure, which gave it a CSP nonce; one
// that reached an app's handler through RequireLogin or RequireRole did not.
func (s *Server) requestURI(r *http.Request) string {
	if cspNonce(r.Context()) != "" {
		return s.base + r.URL.RequestURI()
	}
	return r.URL.RequestURI()
}

// crossOriginCheck refuses state-changing cross-origin requests that a
// browser could have sent with the user's cookie (CSRF). A request that
// carries an Authorization header and no session cookie is exempt: a browser
// never adds such a header on its own, so the credential was the caller's to
// send, and SPAs on allowed origins call the API that way.
func crossOriginCheck(cop *http.CrossOriginProtection, next http.Handler) http.Handler {
	protected := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-API-Key") != "" {
			if _, err := r.Cookie(SessionCookie); err != nil {
				next.ServeHTTP(w, r)
				return
			}
		}
		protected.ServeHTTP(w, r)
	})
}

// cacheable lets browsers cache embedded assets; they change only with the
// binary, and pages reference them with a version query.
func cacheable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := notFoundError
		if wantsJSON(r) {
			s.writeJSONError(w, r, err)
			return
		}
		s.renderError(w, r, err)
	})
}

// crossOriginDenied answers a state-changing request from another origin.
func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	err := crossOriginError
	if wantsJSON(r) || strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		s.writeJSONError(w, r, err)
		return
	}
	s.renderError(w, r, err)
}
