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
	params := encoded[:strings.LastIndex(encoded[:strings.LastIndex(encoded, "$")], "$")]
	fmt.Println(params)
	// Output: $argon2id$v=19$m=19456,t=2,p=1
}

// A sign-in check: verify, migrate a legacy hash on success, and spend the
// same time when there is no such user.
func ExampleHasher_Verify() {
	h, err := password.New(password.DefaultParams())
	if err != nil {
		log.Fatal(err)
	}
	// A row imported from a Flask app using Werkzeug.
	stored := map[string]string{
		"ada": "pbkdf2:sha256:1000$ZYs2FXpoHS6ikVz6$ecfdf15b2b95214adb0b0984b928b4a4c69d9ed955e5b31716611f79c5544f77",
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
