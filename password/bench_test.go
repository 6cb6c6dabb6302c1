package password

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/benchratio"
	"golang.org/x/crypto/argon2"
)

// BenchmarkArgon2idRatio measures Hasher's overhead over a bare argon2.IDKey
// with the same default parameters: salt generation and encoding for Hash,
// parsing and the comparison for Verify. Ratios near 1 mean the KDF is all
// of the cost, as it should be.
func BenchmarkArgon2idRatio(b *testing.B) {
	p := DefaultParams()
	h := newHasher(b, p)
	const pw = "correct horse battery staple"
	salt := []byte("somesaltsomesalt")
	ref := func(b *testing.B) {
		for b.Loop() {
			argon2.IDKey([]byte(pw), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
		}
	}
	encoded, err := h.Hash(pw)
	if err != nil {
		b.Fatal(err)
	}
	benchratio.Compare(b, "argon2id Hash", ref, func(b *testing.B) {
		for b.Loop() {
			if _, err := h.Hash(pw); err != nil {
				b.Fatal(err)
			}
		}
	})
	benchratio.Compare(b, "argon2id Verify", ref, func(b *testing.B) {
		for b.Loop() {
			if ok, err := h.Verify(pw, encoded); !ok || err != nil {
				b.Fatalf("Verify = %v, %v", ok, err)
			}
		}
	})
}
