package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/accounts"
	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/oauthlogin"
)

// Social sign-in over HTTP: GET /oauth/{provider}/start sends the browser to
// the provider with a sealed flow cookie; GET /oauth/{provider}/callback
// checks the answer (package oauthlogin: state, PKCE, nonce, the ID token,
// the RFC 9207 issuer) and acts on oauthlogin.Decide's outcome. The account
// page links and unlinks providers; the API lists and unlinks them.
//
// The redirect URI is always {public URL}/oauth/{provider}/callback, built
// from the configured public URL and never from the request, and is what
// must be registered with the provider. The flow cookie is cleared by every
// callback, whatever happens, so a flow state is good for one callback. The
// callback's answer carries Referrer-Policy: no-referrer, and its success
// redirects to a clean URL, so the code and state never reach another site.
// A provider's refusal (the user pressed Cancel, an invalid ID token) is
// shown as one readable message on the sign-in page; the details go to the
// log.
//
// Linking from the account page is a POST that needs a recent sign-in
// (reauth.go), and binds the flow to the session that started it
// (FlowState.LinkSession): a link flow completes only in that session, so
// another site cannot make a browser link the account of whoever is signed
// in at the provider. The POST answers with a page that continues to the
// provider, rather than a redirect, because the page's Content-Security-
// Policy (form-action 'self') forbids a form's redirect to another origin.

// errOAuthOff answers the social sign-in routes when no provider is set up.
var errOAuthOff = auth.Errorf(auth.ENotFound, "Sign-in with other accounts is not enabled on this server.")

var errLinkSession = auth.Errorf(auth.EInvalidRequest,
	"This linking attempt does not belong to your current sign-in. Start again from your account page.")

var errLinkUnverified = auth.Errorf(auth.EForbidden,
	"Confirm your email address before you link another way to sign in.")

// maxSignUpAttempts bounds how often a sign-up through a provider decides
// again after losing a username to a concurrent sign-up.
const maxSignUpAttempts = 3

func (s *Server) oauthLogin() (*oauthlogin.Login, error) {
	if s.cfg.OAuth == nil {
		return nil, errOAuthOff
	}
	return s.cfg.OAuth, nil
}

// providers lists the configured providers, for the sign-in buttons.
func (s *Server) providers() []oauthlogin.ProviderInfo {
	if s.cfg.OAuth == nil {
		return nil
	}
	return s.cfg.OAuth.Providers()
}

// callbackURL is the redirect URI of a provider: exact, from the public URL.
func (s *Server) callbackURL(provider string) string {
	return s.URL("/oauth/" + provider + "/callback")
}

// oauthStart is GET /oauth/{provider}/start?return_to=…: a sign-in (or
// sign-up) with the provider.
func (s *Server) oauthStart(w http.ResponseWriter, r *http.Request) error {
	login, err := s.oauthLogin()
	if err != nil {
		return err
	}
	name := r.PathValue("provider")
	authURL, flow, err := login.Start(r.Context(), name, s.callbackURL(name), s.safeReturnTo(r.URL.Query().Get("return_to")))
	if err != nil {
		return err
	}
	if err := s.setFlowCookie(w, flow); err != nil {
		return err
	}
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

func (s *Server) setFlowCookie(w http.ResponseWriter, flow *oauthlogin.FlowState) error {
	if s.cfg.Sealer == nil {
		return auth.Internal(errors.New("web: OAuth needs Config.Sealer"))
	}
	c, err := flow.Cookie(s.cfg.Sealer, s.https)
	if err != nil {
		return auth.Internal(err)
	}
	http.SetCookie(w, c)
	return nil
}

// oauthCallback is GET /oauth/{provider}/callback.
func (s *Server) oauthCallback(w http.ResponseWriter, r *http.Request) error {
	login, err := s.oauthLogin()
	if err != nil {
		return err
	}
	http.SetCookie(w, oauthlogin.ClearFlowCookie(s.https))
	var flow *oauthlogin.FlowState
	if c, err := r.Cookie(oauthlogin.FlowCookie(s.https)); err == nil && s.cfg.Sealer != nil {
		flow, _ = oauthlogin.OpenFlowState(s.cfg.Sealer, c.Value) // nil: Finish refuses the callback
	}
	name := r.PathValue("provider")
	claims, err := login.Finish(r.Context(), name, flow, r.URL.Query())
	if flow != nil && flow.LinkSession != "" {
		return s.finishLinkFlow(w, r, flow, claims, err)
	}
	next := ""
	if flow != nil {
		next = s.safeReturnTo(flow.ReturnTo)
	}
	if err != nil {
		return s.oauthRefused(w, r, next, err)
	}
	pc, _ := login.ProviderConfig(name)
	return s.oauthSignIn(w, r, claims, pc, next)
}

// oauthSignIn acts on what a sign-in through a provider decides.
func (s *Server) oauthSignIn(w http.ResponseWriter, r *http.Request, claims *oauthlogin.Claims, pc oauthlogin.ProviderConfig, next string) error {
	ctx := r.Context()
	method := "oauth:" + pc.Name
	for attempt := 1; ; attempt++ {
		d, err := oauthlogin.Decide(ctx, s.cfg.Accounts.Store(), claims, pc)
		if err != nil {
			return s.oauthRefused(w, r, next, err)
		}
		switch d.Outcome {
		case oauthlogin.SignIn:
			if d.User.Active && s.cfg.Accounts.VerificationRequired() && !d.User.EmailVerified {
				// As for a password: no sign-in until the address is confirmed.
				return s.oauthRefused(w, r, next, errConfirmEmailFirst)
			}
			u, err := s.cfg.Accounts.IdentitySignIn(ctx, d.User, d.Identity, claims.Email, claims.EmailVerified)
			if err != nil {
				return s.oauthRefused(w, r, next, err)
			}
			return s.completeBrowserSignIn(w, r, u, signInOptions{Method: method, Next: next})

		case oauthlogin.SignUp:
			if err := s.checkRegister(r); err != nil {
				return s.oauthRefused(w, r, next, err)
			}
			reg := accounts.Registration{Username: d.NewUser.Username, Email: d.NewUser.Email, EmailVerified: d.NewUser.EmailVerified}
			u, err := s.cfg.Accounts.RegisterWithIdentity(ctx, reg, d.Identity, method)
			if auth.IsConflict(err) && attempt < maxSignUpAttempts {
				continue // a concurrent sign-up took the name, the address or the identity: decide again
			}
			if err != nil {
				return s.oauthRefused(w, r, next, err)
			}
			if s.cfg.Accounts.VerificationRequired() && !u.EmailVerified {
				// As for a password sign-up: no sign-in until the address is
				// confirmed, since the provider did not vouch for it.
				s.render(w, r, http.StatusCreated, "mail_request.html", mailRequestPage{Kind: "registered", Email: u.Email, Sent: true})
				return nil
			}
			setFlash(w, flashWelcome)
			return s.completeBrowserSignIn(w, r, u, signInOptions{Method: method, Next: next})

		case oauthlogin.Link:
			if !d.User.Active {
				return s.oauthRefused(w, r, next, auth.Errorf(auth.EAccountDisabled, "This account is disabled."))
			}
			return s.completeBrowserSignIn(w, r, d.User, signInOptions{Method: method, Next: next, Link: &pendingLink{
				Provider: d.Identity.Provider, Issuer: d.Identity.Issuer, Subject: d.Identity.Subject,
				Email: d.Identity.Email, EmailVerified: d.Identity.EmailVerified, ProviderName: pc.DisplayName}})

		default: // oauthlogin.SignInToLink
			s.render(w, r, http.StatusConflict, "oauth_link.html", oauthLinkPage{Provider: pc.DisplayName, ProviderEmail: claims.Email, ReturnTo: next})
			return nil
		}
	}
}

var errConfirmEmailFirst = auth.Errorf(auth.EEmailNotVerified,
	"Confirm your email address first: open the link we sent you, or ask for a new one.")

// oauthLinkPage is the data of oauth_link.html: an account has the address
// the provider gave, and the user must sign in to it before linking.
type oauthLinkPage struct {
	Provider      string
	ProviderEmail string
	ReturnTo      string
}

// oauthRefused shows a refused sign-in through a provider on the sign-in
// page, with its one readable message and status. Failures of Gatehouse
// itself, and unknown providers, get the error page.
func (s *Server) oauthRefused(w http.ResponseWriter, r *http.Request, next string, err error) error {
	var e *auth.Error
	if !errors.As(err, &e) || e.Code == auth.EInternal || e.Code == auth.ENotFound {
		return err
	}
	setRefusalHeaders(w, err)
	s.render(w, r, statusOf(e.Code), "login.html", loginPage{Error: e.Message, ReturnTo: next, Unverified: e.Code == auth.EEmailNotVerified})
	return nil
}

// finishLinkFlow completes a link started from the account page: only in
// the session that started it.
func (s *Server) finishLinkFlow(w http.ResponseWriter, r *http.Request, flow *oauthlogin.FlowState, claims *oauthlogin.Claims, ferr error) error {
	ctx := r.Context()
	sess, u, err := s.sessionFromCookie(w, r)
	if err != nil {
		return err
	}
	if u == nil || sess.ID != flow.LinkSession {
		return errLinkSession
	}
	if ferr != nil {
		return ferr
	}
	st := s.cfg.Accounts.Store()
	existing, err := st.FindIdentity(ctx, claims.Provider, claims.Issuer, claims.Subject)
	switch {
	case err == nil && existing.UserID == u.ID:
		setFlash(w, flashIdentityLinked)
		http.Redirect(w, r, s.base+"/account#identities-title", http.StatusSeeOther)
		return nil
	case err == nil:
		return auth.Errorf(auth.EConflict, "This account at the provider is already linked to another Gatehouse account.")
	case !auth.IsNotFound(err):
		return err
	}
	pc, _ := s.cfg.OAuth.ProviderConfig(claims.Provider)
	ident := claims.Identity(u.ID)
	ident.CreatedAt, ident.LastLoginAt = time.Now(), time.Now()
	if err := s.cfg.Accounts.LinkIdentity(ctx, u, ident, accounts.LinkedFromAccount, pc.DisplayName); err != nil {
		return err
	}
	setFlash(w, flashIdentityLinked)
	http.Redirect(w, r, s.base+"/account#identities-title", http.StatusSeeOther)
	return nil
}

// oauthContinuePage is the data of oauth_continue.html.
type oauthContinuePage struct {
	URL      string
	Provider string
}

// linkIdentitySubmit is POST /account/identities/{provider}/link.
func (s *Server) linkIdentitySubmit(w http.ResponseWriter, r *http.Request) error {
	login, err := s.oauthLogin()
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return auth.Errorf(auth.EInvalidRequest, "The form could not be read.")
	}
	ctx := r.Context()
	u, _ := UserFrom(ctx)
	sess, _ := SessionFrom(ctx)
	// A session older than the window confirms it's the user on the
	// re-authentication page first, and comes back here.
	err = s.requireRecentSignIn(r, "")
	if s.pageReauth(w, r, err, s.base+"/account#identities-title") {
		return nil
	}
	if err != nil {
		return err
	}
	if s.cfg.Accounts.MailEnabled() && !u.EmailVerified {
		return errLinkUnverified
	}
	name := r.PathValue("provider")
	authURL, flow, err := login.Start(ctx, name, s.callbackURL(name), s.base+"/account")
	if err != nil {
		return err
	}
	flow.LinkSession = sess.ID
	if err := s.setFlowCookie(w, flow); err != nil {
		return err
	}
	pc, _ := login.ProviderConfig(name)
	s.render(w, r, http.StatusOK, "oauth_continue.html", oauthContinuePage{URL: authURL, Provider: pc.DisplayName})
	return nil
}

// unlinkIdentitySubmit is POST /account/identities/{id}/unlink.
func (s *Server) unlinkIdentitySubmit(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.UnlinkIdentity(r.Context(), u.ID, r.PathValue("id")); err != nil {
		return err
	}
	setFlash(w, flashIdentityUnlinked)
	http.Redirect(w, r, s.base+"/account#identities-title", http.StatusSeeOther)
	return nil
}

// identityView is one linked identity on the account page.
type identityView struct {
	*auth.Identity
	DisplayName, Icon string
}

// identitySection is the account page's list of linked providers.
type identitySection struct {
	// Enabled says whether providers are configured, so more can be linked.
	Enabled bool
	List    []identityView
	// Available are the configured providers, to link.
	Available []oauthlogin.ProviderInfo
	// CanUnlink says whether unlinking one would leave the account a way
	// to sign in; the page offers unlinking only then.
	CanUnlink bool
}

// Show says whether the account page shows the section.
func (p *identitySection) Show() bool { return p.Enabled || len(p.List) > 0 }

func (s *Server) identitySection(r *http.Request, u *auth.User) (*identitySection, error) {
	list, err := s.cfg.Accounts.Identities(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	canUnlink, err := s.cfg.Accounts.CanUnlinkIdentity(r.Context(), u, len(list))
	if err != nil {
		return nil, err
	}
	p := &identitySection{Enabled: s.cfg.OAuth != nil, Available: s.providers(), CanUnlink: canUnlink}
	for _, i := range list {
		v := identityView{Identity: i, DisplayName: i.Provider, Icon: "oidc"}
		if s.cfg.OAuth != nil {
			if pc, ok := s.cfg.OAuth.ProviderConfig(i.Provider); ok {
				v.DisplayName, v.Icon = pc.DisplayName, pc.Icon
			}
		}
		p.List = append(p.List, v)
	}
	return p, nil
}

// apiIdentities lists the caller's linked identities, oldest first.
func (s *Server) apiIdentities(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	list, err := s.cfg.Accounts.Identities(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"identities": list})
	return nil
}

// apiUnlinkIdentity unlinks one of the caller's identities: 204, or 409 when
// it is the account's last way to sign in.
func (s *Server) apiUnlinkIdentity(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	if err := s.cfg.Accounts.UnlinkIdentity(r.Context(), u.ID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// providerEntry is one provider in GET /api/auth/providers.
type providerEntry struct {
	oauthlogin.ProviderInfo
	// StartURL is where a browser goes to sign in with the provider.
	StartURL string `json:"start_url"`
}

// apiProviders lists the providers users can sign in with, for apps that
// draw their own buttons: a button is a link to start_url (with
// ?return_to= when wanted).
func (s *Server) apiProviders(w http.ResponseWriter, r *http.Request) error {
	out := []providerEntry{}
	for _, p := range s.providers() {
		out = append(out, providerEntry{ProviderInfo: p, StartURL: s.URL("/oauth/" + p.Name + "/start")})
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": out})
	return nil
}
