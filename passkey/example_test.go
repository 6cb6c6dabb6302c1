package passkey_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/internal/webauthntest"
	"github.com/gatehouse-dev/gatehouse/passkey"
	"github.com/gatehouse-dev/gatehouse/store/sqlite"
)

// openExampleStore opens a migrated SQLite store in a temporary directory
// with one user, alice.
func openExampleStore() (*sqlite.DB, *auth.User, func()) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gatehouse-passkey-example")
	if err != nil {
		log.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	alice := &auth.User{Username: "alice", Email: "alice@example.com", Active: true}
	if err := db.CreateUser(ctx, alice); err != nil {
		log.Fatal(err)
	}
	return db, alice, func() { db.Close(); os.RemoveAll(dir) }
}

// A user adds a passkey on their account page, then signs in with it from
// the login page without typing a username. The browser is played by a
// software authenticator.
func Example() {
	ctx := context.Background()
	db, alice, done := openExampleStore()
	defer done()

	// The relying party ID and origin come from Gatehouse's public URL.
	public, _ := url.Parse("https://auth.example.com")
	rp, err := passkey.New(passkey.Config{
		RPID:    public.Hostname(),
		Origins: []string{public.Scheme + "://" + public.Host},
		Store:   db,
	})
	if err != nil {
		log.Fatal(err)
	}
	browser := webauthntest.New("https://auth.example.com")

	// POST /api/passkeys/register/begin, then /finish.
	existing, _ := db.FindPasskeysByUser(ctx, alice.ID)
	options, ceremonyID, err := rp.BeginRegistration(ctx, alice, existing)
	if err != nil {
		log.Fatal(err)
	}
	credential, _, _ := browser.Create(options)
	pk, err := rp.FinishRegistration(ctx, alice, ceremonyID, credential)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("alice registered %q (synced: %v)\n", pk.Name, pk.Synced())

	// POST /api/passkeys/login/begin, then /finish: no username given.
	options, ceremonyID, err = rp.BeginLogin(ctx, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	assertion, _ := browser.Get(options)
	user, used, err := rp.FinishLogin(ctx, ceremonyID, assertion, passkey.StoreLookup(ctx, db))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("signed in as %s with %q\n", user.Username, used.Name)

	// The same answer a second time is refused: its ceremony is spent.
	_, _, err = rp.FinishLogin(ctx, ceremonyID, assertion, passkey.StoreLookup(ctx, db))
	fmt.Println(err)
	// Output:
	// alice registered "Passkey" (synced: true)
	// signed in as alice with "Passkey"
	// passkey: unknown, expired or used ceremony: no such ceremony in progress
}

// A username-first sign-in: the options list the user's passkeys, and only
// those are accepted.
func ExampleRelyingParty_BeginLogin() {
	ctx := context.Background()
	db, alice, done := openExampleStore()
	defer done()
	rp, err := passkey.New(passkey.Config{RPID: "localhost", Origins: []string{"http://localhost:8080"}, Store: db})
	if err != nil {
		log.Fatal(err)
	}
	browser := webauthntest.New("http://localhost:8080")
	options, id, _ := rp.BeginRegistration(ctx, alice, nil)
	credential, _, _ := browser.Create(options)
	if _, err := rp.FinishRegistration(ctx, alice, id, credential); err != nil {
		log.Fatal(err)
	}

	passkeys, _ := db.FindPasskeysByUser(ctx, alice.ID)
	options, id, err = rp.BeginLogin(ctx, alice, passkeys)
	if err != nil {
		log.Fatal(err)
	}
	assertion, _ := browser.Get(options)
	user, _, err := rp.FinishLogin(ctx, id, assertion, passkey.StoreLookup(ctx, db))
	fmt.Println(user.Username, err)
	// Output: alice <nil>
}

// A sign-in refused because the answer came from another site: the HTTP
// layer maps each sentinel error to one 400 response.
func ExampleRelyingParty_FinishLogin() {
	ctx := context.Background()
	db, alice, done := openExampleStore()
	defer done()
	rp, _ := passkey.New(passkey.Config{RPID: "localhost", Origins: []string{"http://localhost:8080"}, Store: db})
	browser := webauthntest.New("http://localhost:8080")
	options, id, _ := rp.BeginRegistration(ctx, alice, nil)
	credential, _, _ := browser.Create(options)
	rp.FinishRegistration(ctx, alice, id, credential)

	options, id, _ = rp.BeginLogin(ctx, nil, nil)
	phished, _ := browser.Get(options, webauthntest.WithOrigin("https://evil.example"))
	_, _, err := rp.FinishLogin(ctx, id, phished, passkey.StoreLookup(ctx, db))
	switch {
	case errors.Is(err, passkey.ErrCeremony):
		fmt.Println("400: start again")
	case errors.Is(err, passkey.ErrVerification), errors.Is(err, passkey.ErrNotAllowed):
		fmt.Println("400: sign-in failed")
	case err != nil:
		fmt.Println("500")
	}
	// Output: 400: sign-in failed
}
