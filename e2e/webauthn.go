//go:build e2e

package e2e

import (
	"context"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// VirtualAuthenticator is an authenticator that Chromium simulates for one
// tab through the DevTools WebAuthn domain: it answers
// navigator.credentials.create() and get() at once, without any dialog, as a
// phone's or laptop's built-in passkey provider would after the user
// unlocked it.
type VirtualAuthenticator struct {
	// ID is Chromium's identifier of the authenticator.
	ID webauthn.AuthenticatorID

	b *Browser
}

// AddVirtualAuthenticator turns on the browser's WebAuthn testing domain and
// adds an authenticator to the current tab: CTAP 2.1 over the internal
// transport (a platform authenticator), with resident keys (passkeys) and
// user verification that always succeeds, presence simulated, and new
// credentials backup eligible and backed up, as synced passkeys are. It stays
// through navigations, until the browser closes.
func (b *Browser) AddVirtualAuthenticator() *VirtualAuthenticator {
	b.t.Helper()
	res := run(b, "AddVirtualAuthenticator()", func(ctx context.Context, t *chromedp.Target) (webauthn.AddVirtualAuthenticatorResult, error) {
		// No UI: the authenticator answers by itself.
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{EnableUI: new(false)}); err != nil {
			return webauthn.AddVirtualAuthenticatorResult{}, err
		}
		return cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
				DefaultBackupEligibility:    true,
				DefaultBackupState:          true,
			},
		})
	})
	return &VirtualAuthenticator{ID: res.AuthenticatorID, b: b}
}

// Credentials returns the credentials the authenticator holds.
func (v *VirtualAuthenticator) Credentials() []*webauthn.Credential {
	v.b.t.Helper()
	res := run(v.b, "VirtualAuthenticator.Credentials()", func(ctx context.Context, t *chromedp.Target) (webauthn.GetCredentialsResult, error) {
		return cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: v.ID})
	})
	return res.Credentials
}

// WithoutPasskeyAutofill makes every page this tab loads from now on see a
// browser without conditional mediation: PublicKeyCredential's
// isConditionalMediationAvailable() resolves false, as in browsers that
// offer passkeys only through a button. Chromium's virtual authenticator
// answers an autofill request (mediation "conditional") at once, as if the
// user had picked the passkey from the username field's suggestions, so a
// scenario that means to press a passkey button must turn autofill off
// first.
func (b *Browser) WithoutPasskeyAutofill() {
	b.t.Helper()
	const script = `if (window.PublicKeyCredential) {
	PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
}`
	run(b, "WithoutPasskeyAutofill()", func(ctx context.Context, t *chromedp.Target) (page.AddScriptToEvaluateOnNewDocumentResult, error) {
		return cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
	})
}

// SetUserVerified sets whether the authenticator's user verification (the
// PIN or biometric prompt) succeeds. With false, a ceremony that requires
// it fails in the page with NotAllowedError, as when the user cancels.
func (v *VirtualAuthenticator) SetUserVerified(ok bool) {
	v.b.t.Helper()
	run(v.b, "VirtualAuthenticator.SetUserVerified()", func(ctx context.Context, t *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, t, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: v.ID, IsUserVerified: ok})
	})
}
