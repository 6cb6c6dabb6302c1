package password

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"golang.org/x/crypto/scrypt"
)

// cheapLimits replace the production ceilings in FuzzVerify, so that no
// input the fuzzer invents can make one iteration slow: at most 64 KiB of
// argon2id, bcrypt cost 4, 1,000 PBKDF2 iterations and a 256 KiB scrypt.
func cheapLimits() limits {
	return limits{
		argon2MaxMemory:     64,
		argon2MaxIterations: 2,
		argon2MaxWork:       128,
		bcryptMaxCost:       4,
		pbkdf2MaxIterations: 1000,
		scryptMaxN:          256,
		scryptMaxR:          8,
		scryptMaxP:          2,
		scryptMaxWork:       2048,
	}
}

// fuzzSeeds returns stored hashes for the seed corpus: the vectors, the
// malformed table, and valid hashes cheap enough to verify under
// cheapLimits, so the fuzzer starts from inputs that reach the KDFs.
func fuzzSeeds(t testing.TB) []string {
	var seeds []string
	for _, v := range loadVectors(t) {
		seeds = append(seeds, v.Hash)
	}
	for _, m := range malformedHashes {
		seeds = append(seeds, m.encoded)
	}
	h := newHasher(t, fastParams)
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, enc)
	key, err := pbkdf2.Key(sha256.New, "correct horse battery staple", []byte("salt"), 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, "pbkdf2:sha256:10$salt$"+hex.EncodeToString(key))
	key, err = scrypt.Key([]byte("correct horse battery staple"), []byte("salt"), 16, 1, 1, 64)
	if err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, "scrypt:16:1:1$salt$"+hex.EncodeToString(key))
	return seeds
}

// FuzzParse feeds arbitrary stored strings to the parser, which does no
// hashing, under the production ceilings: it must never panic, must fail
// only with the package's sentinels, and must read argon2id strings in their
// one canonical spelling.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, encoded string) {
		s, err := parse(encoded, defaultLimits())
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownFormat) {
				t.Fatalf("parse(%q) error = %v, want ErrMalformed or ErrUnknownFormat", encoded, err)
			}
			return
		}
		if a, ok := s.(argon2idHash); ok && a.String() != encoded {
			t.Fatalf("parse(%q).String() = %q, want the input back", encoded, a.String())
		}
	})
}

// FuzzVerify runs the whole of Verify, hashing included, under cheapLimits.
func FuzzVerify(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add("correct horse battery staple", s)
		f.Add("", s)
	}
	h := newHasher(f, fastParams)
	h.lim = cheapLimits()
	f.Fuzz(func(t *testing.T, password, encoded string) {
		ok, err := h.Verify(password, encoded)
		if err != nil {
			if ok {
				t.Fatalf("Verify(%q, %q) = true, %v, want false with an error", password, encoded, err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownFormat) && !errors.Is(err, ErrTooLong) {
				t.Fatalf("Verify(%q, %q) error = %v, want a sentinel", password, encoded, err)
			}
		}
		_ = h.NeedsRehash(encoded)
	})
}
