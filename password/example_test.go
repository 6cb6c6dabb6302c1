package password_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/gatehouse-dev/gatehouse/password"
)

func ExampleHasher_Hash() {
	h, err := password.New(password.DefaultParams())
	if err != nil {
		log.Fatal(err)
	}
	encoded, err := h.Hash("correct horse battery staple")
	if err != nil {
		log.Fatal(err)
	}
	// The salt is random, so only the parameters are predictable.
	fmt.Println(strings.Join(strings.Split(encoded, "$")[:4], "$"))
	// Output: $argon2id$v=19$m=19456,t=2,p=1
}

// A sign-in check: verify, migrate a legacy hash on success, and spend the
// same time when there is no such user.
func ExampleHasher_Verify() {
	h, err := password.New(password.DefaultParams())
	if err != nil {
		log.Fatal(err)
	}
	// A row imported from a Flask app, made by Werkzeug 2.2.2's
	// generate_password_hash (see testdata/make_vectors.py).
	stored := map[string]string{
		"ada": "pbkdf2:sha256:1000$FAKP5euQYT0u7FUG$2b44fb3e53cd18bfb4f9186113af267755640b5510bae826eaf60ba8df949d6d",
	}

	signIn := func(user, pw string) bool {
		encoded, found := stored[user]
		if !found {
			h.VerifyDummy(pw)
			return false
		}
		ok, err := h.Verify(pw, encoded)
		if err != nil {
			log.Printf("verify %s: %v", user, err) // a damaged row, not a typo
			return false
		}
		if ok && h.NeedsRehash(encoded) {
			if fresh, err := h.Hash(pw); err == nil {
				stored[user] = fresh
			}
		}
		return ok
	}

	fmt.Println(signIn("ada", "wrong password"))
	fmt.Println(signIn("ada", "correct horse battery staple"))
	fmt.Println(strings.HasPrefix(stored["ada"], "$argon2id$"))
	fmt.Println(signIn("ada", "correct horse battery staple"))
	fmt.Println(signIn("bob", "correct horse battery staple"))
	// Output:
	// false
	// true
	// true
	// true
	// false
}
