//go:build e2e

// Package e2e is Gatehouse's browser suite: scenarios that run Gatehouse in
// the test's process and drive a real, headless Chromium through its hosted
// pages, as a user would. It covers what only a browser shows: that the pages
// render and work at laptop and phone widths without a single console error
// (their Content-Security-Policy included), that forms and cookies behave,
// and that a browser's own cross-site requests are refused — the behaviour
// that handler tests can only imitate with hand-written headers.
//
// Today the scenarios are creating the first admin account through a setup
// link (TestSetupFirstAdmin) and a form on another site that tries to do the
// same and is refused (TestCrossOriginFormRefused); a new user's way through
// registration, sign-out, sign-in with remember-me, the account page and back
// (TestRegisterLoginAccountLogout); a page on another origin that tries to
// change a signed-in user's password and is refused
// (TestCrossOriginPasswordChangeRefused); signing another device out from
// the account page (TestRevokeOtherDevice); the session cookie's being
// out of reach of the page's scripts (TestSessionCookieNotReadableByScript);
// and passkeys, with Chromium's virtual authenticator (AddVirtualAuthenticator)
// standing in for the user's device: adding one from the account page and
// signing in with the passkey button (TestPasskeyAddThenSignIn), and signing
// up with a passkey and no password, then back in through the sign-in page's
// autofill (TestPasskeySignUp). Passkeys need a host name, so those scenarios
// run Gatehouse at http://localhost:<port>.
//
// Two-step verification: turning TOTP on from the account page with the key
// read off the page, then signing in with a password and a code computed in
// the test, and with a recovery code, which works once
// (TestTOTPEnrolAndSignIn). Sign-in through an OpenID Connect provider on
// loopback (internal/oidctest) from the sign-in and registration pages'
// buttons (TestOAuthSignUpAndSignIn).
//
// Every page: TestEveryPageScreenshot visits every hosted and admin page in
// the states users meet them in (empty lists, refused forms, spent links)
// and saves each in the light and the dark colour scheme at both widths. It
// fails when a page scrolls sideways on a phone, lacks its h1 or the skip
// link, or when a template in web/ui/templates was not seen as a page, so
// that a new page cannot go without screenshots.
//
// # Running
//
// The suite is behind the build tag e2e, so go test ./... neither builds nor
// runs it. Run it with
//
//	make e2e
//
// which is
//
//	go test -tags e2e -count=1 ./e2e/...
//
// It needs Debian's chromium on PATH (apt-get install -y chromium); it never
// downloads a browser, and fails with that hint when chromium is missing. It
// needs no network beyond loopback. With GATEHOUSE_TEST_POSTGRES_URL set
// (e.g. postgres://postgres@127.0.0.1:5432/test), scenarios that run on each
// of Stores run on PostgreSQL too, in a schema of their own; otherwise those
// runs are skipped. Each scenario saves full-page screenshots at 1280 and 390
// pixels to e2e/screenshots/ (git-ignored), and another one, named failure,
// when a step fails.
//
// # Writing a scenario
//
// Start runs Gatehouse on a free loopback port with a database of its own;
// Harness.Browser starts a browser with an empty profile, so each test has
// its own cookie jar; NewSite serves pages from another origin. Every browser
// step is bounded by a timeout and fails the test with the page's URL and a
// screenshot, so a scenario is straight-line code:
//
//	func TestSomething(t *testing.T) {
//		h := e2e.Start(t)
//		h.CreateUser(t, accounts.Registration{Username: "ada", Email: "ada@example.com", Password: "correct horse"})
//		b := h.Browser(t)
//		b.Navigate("/login")
//		b.Fill("#login", "ada")
//		b.Fill("#password", "correct horse")
//		if status := b.Submit("button[type=submit]"); status != http.StatusOK {
//			t.Errorf("sign-in: got status %d, want %d", status, http.StatusOK)
//		}
//		b.Screenshot("signed-in")
//	}
//
// A test fails when the page reported any error — console.error, an uncaught
// exception, or an error in the browser's log, such as a blocked script or a
// failed request. A page answered with an error status counts as a failed
// request, so a scenario that expects one says so with
// Browser.AllowConsole.
//
// The suite does not test Gatehouse's handlers one by one (package web's
// tests do, faster), nor other browsers than Chromium.
package e2e
