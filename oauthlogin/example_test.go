package oauthlogin_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gatehouse-dev/gatehouse/internal/oidctest"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/oauthlogin"
	"github.com/gatehouse-dev/gatehouse/store/sqlite"
)

// A whole sign-in: the start handler, the provider, the callback handler.
func Example() {
	ctx := context.Background()
	// A provider for the example; in production, Google or your own.
	idp := oidctest.New(oidctest.Options{})
	defer idp.Close()
	idp.SetUser(oidctest.User{Subject: "248289761001", Email: "alice@example.com", EmailVerified: true, PreferredUsername: "alice"})

	login, err := oauthlogin.New(oauthlogin.Config{Providers: []oauthlogin.ProviderConfig{{
		Name: "corp", Kind: oauthlogin.KindOIDC, IssuerURL: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
	}}})
	if err != nil {
		log.Fatal(err)
	}
	key, _ := masterkey.New("an example secret of at least 32 characters")

	// GET /oauth/corp/start: redirect to the provider, remember the flow.
	authURL, flow, err := login.Start(ctx, "corp", "https://gatehouse.example/oauth/corp/callback", "/")
	if err != nil {
		log.Fatal(err)
	}
	cookie, _ := flow.Cookie(key, true)
	fmt.Println("cookie:", cookie.Name)

	// The browser signs in at the provider and comes back.
	query, err := oidctest.Callback(authURL)
	if err != nil {
		log.Fatal(err)
	}

	// GET /oauth/corp/callback: check, exchange, verify.
	flow, err = oauthlogin.OpenFlowState(key, cookie.Value)
	if err != nil {
		log.Fatal(err)
	}
	claims, err := login.Finish(ctx, "corp", flow, query)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in at the provider as:", claims.Subject, claims.Email, claims.EmailVerified)

	// Decide what that means for Gatehouse's accounts.
	dir, _ := os.MkdirTemp("", "gatehouse-example")
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	cfg, _ := login.ProviderConfig("corp")
	d, err := oauthlogin.Decide(ctx, db, claims, cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("outcome:", d.Outcome, d.NewUser.Username)
	// Output:
	// cookie: __Host-gatehouse_oauth
	// signed in at the provider as: 248289761001 alice@example.com true
	// outcome: sign_up alice
}

func ExampleDecide() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "gatehouse-example")
	defer os.RemoveAll(dir)
	db, _ := sqlite.Open(ctx, filepath.Join(dir, "gatehouse.db"))
	defer db.Close()
	db.Migrate(ctx)

	cfg := oauthlogin.ProviderConfig{Name: "google", DisplayName: "Google", TrustEmail: true}
	claims := &oauthlogin.Claims{Provider: "google", Issuer: oauthlogin.GoogleIssuer, Subject: "1001",
		Email: "alice@example.com", EmailVerified: true, Username: "alice"}

	d, _ := oauthlogin.Decide(ctx, db, claims, cfg)
	fmt.Println(d.Outcome)
	// The caller makes the account (through the account service) and links.
	db.CreateUser(ctx, d.NewUser)
	db.CreateIdentity(ctx, claims.Identity(d.NewUser.ID))

	d, _ = oauthlogin.Decide(ctx, db, claims, cfg)
	fmt.Println(d.Outcome, d.User.Username)

	// Someone else whose Google account shows the same address is not let in.
	other := *claims
	other.Subject, other.EmailVerified = "2002", false
	d, _ = oauthlogin.Decide(ctx, db, &other, cfg)
	fmt.Println(d.Outcome)
	// Output:
	// sign_up
	// sign_in alice
	// sign_in_to_link
}

func ExampleLogin_Start() {
	login, _ := oauthlogin.New(oauthlogin.Config{Providers: []oauthlogin.ProviderConfig{{
		Name: "github", Kind: oauthlogin.KindGitHub, ClientID: "Iv1.example", ClientSecret: "secret",
	}}})
	authURL, flow, _ := login.Start(context.Background(), "github", "https://gatehouse.example/oauth/github/callback", "/")
	fmt.Println(authURL[:len("https://github.com/login/oauth/authorize")])
	fmt.Println(len(flow.State), len(flow.Verifier), flow.Nonce == "")
	// Output:
	// https://github.com/login/oauth/authorize
	// 43 43 true
}
