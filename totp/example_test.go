package totp_test

import (
	"context"
	"encoding/base32"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-dev/gatehouse/auth"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/store/sqlite"
	gtotp "github.com/gatehouse-dev/gatehouse/totp"
)

func ExampleValidate() {
	// The secret of RFC 6238's test vectors; at Unix time 59 its code is
	// 94287082, of which an authenticator app shows the last six digits.
	secret := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	step, ok := gtotp.Validate(secret, "287 082", time.Unix(59, 0))
	fmt.Println(step, ok)
	// Output: 1 true
}

func ExampleEnroll() {
	secret, uri, qr, err := gtotp.Enroll("Gatehouse", "alice@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(secret))
	fmt.Println(strings.SplitN(uri, "?", 2)[0])
	fmt.Println(strings.HasPrefix(qr, "data:image/png;base64,"))
	// Output:
	// 32
	// otpauth://totp/Gatehouse:alice@example.com
	// true
}

func ExampleNewRecoveryCodes() {
	codes, hashes := gtotp.NewRecoveryCodes()
	fmt.Println(len(codes), len(codes[0]), len(hashes[0]))
	// Output: 10 14 32
}

func ExampleService() {
	ctx := context.Background()
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
	key, _ := masterkey.New("an example secret of at least 32 characters")
	svc, err := gtotp.New(gtotp.Config{Store: db, Sealer: key})
	if err != nil {
		log.Fatal(err)
	}
	alice := &auth.User{Username: "alice", Email: "alice@example.com", Active: true}
	if err := db.CreateUser(ctx, alice); err != nil {
		log.Fatal(err)
	}

	// The account page starts the enrolment and shows e.QRCode.
	e, err := svc.BeginEnrollment(ctx, alice)
	if err != nil {
		log.Fatal(err)
	}
	// The user scans it and types the code the app shows (computed here).
	code, _ := totp.GenerateCode(e.Secret, time.Now())
	recovery, err := svc.ConfirmEnrollment(ctx, alice, code)
	if err != nil {
		log.Fatal(err)
	}
	on, _ := svc.Enabled(ctx, alice.ID)
	fmt.Println("on:", on, "recovery codes:", len(recovery))

	// At sign-in, the same code does not work twice; a recovery code works once.
	fmt.Println("same code again:", auth.ErrorCode(svc.Verify(ctx, alice.ID, code)))
	fmt.Println("recovery code:", svc.Verify(ctx, alice.ID, recovery[0]))
	fmt.Println("recovery code again:", auth.ErrorCode(svc.Verify(ctx, alice.ID, recovery[0])))
	// Output:
	// on: true recovery codes: 10
	// same code again: invalid_credentials
	// recovery code: <nil>
	// recovery code again: invalid_credentials
}
