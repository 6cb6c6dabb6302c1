package tokentest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSign(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256"} {
		k := NewKey(t, alg)
		tok := k.Sign(t, map[string]any{"sub": "u"})
		var header map[string]any
		seg, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		if err := json.Unmarshal(seg, &header); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"alg": alg, "kid": k.ID, "typ": "at+jwt"}
		if d := cmp.Diff(want, header); d != "" {
			t.Errorf("%s header (-want +got):\n%s", alg, d)
		}
	}
}

func TestAttacksCoverTheCatalogue(t *testing.T) {
	k, retired := NewKey(t, "EdDSA"), NewKey(t, "EdDSA")
	valid := k.Sign(t, map[string]any{"iss": "i", "sub": "u", "sid": "s", "aud": "i", "iat": 1780315200, "exp": 1780316100})
	attacks := Attacks(t, valid, k.Public(), k.Signer, WithRetiredKey(retired.ID, retired.Signer))
	ids := map[string]int{}
	for _, a := range attacks {
		if a.Token == valid {
			t.Errorf("%s: the token is the valid one", a.Name)
		}
		id, _, _ := strings.Cut(a.Name, " ")
		ids[id]++
	}
	for i := 1; i <= 15; i++ {
		id := "JW-" + map[bool]string{true: "0", false: ""}[i < 10] + itoa(i)
		if ids[id] == 0 {
			t.Errorf("no attack for %s", id)
		}
	}
}
