package password

import (
	"encoding/json"
	"os"
	"testing"
)

// vector is one entry of testdata/vectors.json, written by
// testdata/make_vectors.py from the Python libraries Flask apps use and from
// the argon2 reference implementation.
type vector struct {
	Format   string `json:"format"`
	Password string `json:"password"`
	Hash     string `json:"hash"`
	Source   string `json:"source"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatalf("testdata/vectors.json: %v", err)
	}
	if len(vs) == 0 {
		t.Fatal("testdata/vectors.json has no vectors")
	}
	return vs
}

func TestVectors(t *testing.T) {
	h := newHasher(t, DefaultParams())
	formats := map[string]int{}
	for _, v := range loadVectors(t) {
		formats[v.Format]++
		t.Run(v.Format, func(t *testing.T) {
			t.Parallel()
			if ok, err := h.Verify(v.Password, v.Hash); !ok || err != nil {
				t.Errorf("Verify(%q, %q) = %v, %v, want true, nil (%s)", v.Password, v.Hash, ok, err, v.Source)
			}
			wrong := []string{v.Password + "!", swapCase(v.Password)}
			for _, w := range wrong {
				if w == v.Password {
					continue
				}
				if ok, err := h.Verify(w, v.Hash); ok || err != nil {
					t.Errorf("Verify(%q, %q) = %v, %v, want false, nil", w, v.Hash, ok, err)
				}
			}
			// Every vector is either a legacy format or argon2id with
			// parameters unlike the defaults.
			if !h.NeedsRehash(v.Hash) {
				t.Errorf("NeedsRehash(%q) = false, want true", v.Hash)
			}
		})
	}
	// Guard against a regenerated file that quietly lost a format.
	for _, f := range []string{"argon2id", "bcrypt", "werkzeug-pbkdf2", "werkzeug-scrypt"} {
		if formats[f] == 0 {
			t.Errorf("testdata/vectors.json has no %s vectors", f)
		}
	}
}
