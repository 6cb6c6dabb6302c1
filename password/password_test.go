package password

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// fastParams keep argon2id cheap for tests that are not about its cost.
var fastParams = Params{Memory: 64, Iterations: 1}

func newHasher(t testing.TB, p Params) *Hasher {
	t.Helper()
	h, err := New(p)
	if err != nil {
		t.Fatalf("New(%+v) = %v", p, err)
	}
	return h
}

// swapCase turns "Pässword" into "pÄSSWORD".
func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

func TestHashVerify(t *testing.T) {
	h := newHasher(t, fastParams)
	tests := []struct {
		name, password string
	}{
		{"ascii", "correct horse battery staple"},
		{"empty", ""},
		{"unicode", "pässwörd Ünïcødé 日本語 🔑"},
		{"nul byte", "before\x00after"},
		{"max bytes", strings.Repeat("a", MaxBytes)},
		{"max bytes multibyte", strings.Repeat("é", MaxBytes/2)},
		{"spaces", "  padded  "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := h.Hash(tt.password)
			if err != nil {
				t.Fatalf("Hash(%q) error = %v", tt.password, err)
			}
			if ok, err := h.Verify(tt.password, enc); !ok || err != nil {
				t.Errorf("Verify(%q, %q) = %v, %v, want true, nil", tt.password, enc, ok, err)
			}
			// Wrong passwords: one byte more or fewer, case swapped, trimmed.
			// None may verify, and none is an error.
			wrong := []string{tt.password + "x", swapCase(tt.password), strings.TrimSpace(tt.password)}
			if tt.password != "" {
				wrong = append(wrong, tt.password[:len(tt.password)-1])
			}
			for _, w := range wrong {
				if w == tt.password || len(w) > MaxBytes {
					continue
				}
				if ok, err := h.Verify(w, enc); ok || err != nil {
					t.Errorf("Verify(%q, hash of %q) = %v, %v, want false, nil", w, tt.password, ok, err)
				}
			}
			if h.NeedsRehash(enc) {
				t.Errorf("NeedsRehash(%q) = true, want false for a hash h just made", enc)
			}
		})
	}
}

func TestHashFreshSalt(t *testing.T) {
	h := newHasher(t, fastParams)
	seen := map[string]bool{}
	for range 8 {
		enc, err := h.Hash("same password")
		if err != nil {
			t.Fatal(err)
		}
		if seen[enc] {
			t.Fatalf("Hash(%q) repeated %q, want a fresh salt each time", "same password", enc)
		}
		seen[enc] = true
	}
}

// TestHashReference pins the encoding to the reference implementation's:
//
//	echo -n "correct horse battery staple" |
//		argon2 somesaltsomesalt -id -t 2 -k 19456 -p 1 -l 32 -e
func TestHashReference(t *testing.T) {
	const want = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y"
	h := newHasher(t, DefaultParams())
	if got := h.hashWithSalt("correct horse battery staple", []byte("somesaltsomesalt")); got != want {
		t.Errorf("hashWithSalt = %q, want %q", got, want)
	}
	if ok, err := h.Verify("correct horse battery staple", want); !ok || err != nil {
		t.Errorf("Verify(%q) = %v, %v, want true, nil", want, ok, err)
	}
	if h.NeedsRehash(want) {
		t.Errorf("NeedsRehash(%q) = true, want false", want)
	}
}

func TestNew(t *testing.T) {
	h := newHasher(t, Params{})
	if diff := cmp.Diff(DefaultParams(), h.Params()); diff != "" {
		t.Errorf("New(Params{}).Params() mismatch (-want +got):\n%s", diff)
	}
	h = newHasher(t, Params{Memory: 65536, Parallelism: 4})
	want := Params{Memory: 65536, Iterations: 2, Parallelism: 4, SaltLen: 16, KeyLen: 32}
	if diff := cmp.Diff(want, h.Params()); diff != "" {
		t.Errorf("New(partial).Params() mismatch (-want +got):\n%s", diff)
	}
}

func TestNewInvalid(t *testing.T) {
	tests := []struct {
		name string
		p    Params
	}{
		{"memory below 8 KiB per lane", Params{Memory: 7}},
		{"memory below 8 KiB per lane, 4 lanes", Params{Memory: 31, Parallelism: 4}},
		{"memory above 4 GiB", Params{Memory: 4<<20 + 1, Iterations: 1}},
		{"iterations above 1000", Params{Memory: 8, Iterations: 1001}},
		{"memory × iterations above 8 GiB", Params{Memory: 4 << 20, Iterations: 3}},
		{"salt too short", Params{SaltLen: 8}},
		{"salt too long", Params{SaltLen: 65}},
		{"key too short", Params{KeyLen: 15}},
		{"key too long", Params{KeyLen: 129}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.p); !errors.Is(err, ErrInvalidParams) {
				t.Errorf("New(%+v) error = %v, want ErrInvalidParams", tt.p, err)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	h := newHasher(t, DefaultParams())
	// Only parameters matter to NeedsRehash, so the salt and key can be any
	// bytes of the right length.
	argon := func(m, t uint32, p uint8, saltLen, keyLen int) string {
		return argon2idHash{
			memory: m, iterations: t, parallelism: p,
			salt: make([]byte, saltLen), key: make([]byte, keyLen),
		}.String()
	}
	tests := []struct {
		name    string
		encoded string
		want    bool
	}{
		{"same params", argon(19456, 2, 1, 16, 32), false},
		{"more memory", argon(65536, 2, 1, 16, 32), false},
		{"more passes", argon(19456, 3, 1, 16, 32), false},
		{"less memory", argon(19455, 2, 1, 16, 32), true},
		{"fewer passes", argon(19456, 1, 1, 16, 32), true},
		{"more lanes", argon(19456, 2, 2, 16, 32), true},
		{"shorter salt", argon(19456, 2, 1, 8, 32), true},
		{"longer salt", argon(19456, 2, 1, 32, 32), true},
		{"shorter key", argon(19456, 2, 1, 16, 16), true},
		{"longer key", argon(19456, 2, 1, 16, 64), true},
		{"bcrypt", "$2b$12$" + strings.Repeat("a", 53), true},
		{"werkzeug pbkdf2", "pbkdf2:sha256:1000000$salt$" + strings.Repeat("0", 64), true},
		{"werkzeug scrypt", "scrypt:32768:8:1$salt$" + strings.Repeat("0", 128), true},
		{"malformed", "$argon2id$v=19$m=19456,t=2,p=1$", true},
		{"unknown", "plain$$secret", true},
		{"empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.NeedsRehash(tt.encoded); got != tt.want {
				t.Errorf("NeedsRehash(%q) = %v, want %v", tt.encoded, got, tt.want)
			}
		})
	}
}

// malformedHashes are stored strings Verify must refuse, with the error it
// must refuse them with. None may cost noticeable work: the ones with huge
// parameters are exactly what the ceilings exist for. The fuzz tests use
// them as seeds.
var malformedHashes = []struct {
	name, encoded string
	want          error
}{
	{"empty", "", ErrUnknownFormat},
	{"plain text", "hunter2", ErrUnknownFormat},
	{"werkzeug plain", "plain$$hunter2", ErrUnknownFormat},
	{"werkzeug salted sha256", "sha256$salt$" + strings.Repeat("0", 64), ErrUnknownFormat},
	{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrUnknownFormat},
	{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrUnknownFormat},
	// Reference implementation, -v 10.
	{"argon2id v=16", "$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$N7iLEgZOh6zMQ9GnWYlxc9lRyjqPvQZjDamtKtmE3N8", ErrUnknownFormat},
	{"argon2id no version", "$argon2id$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$N7iLEgZOh6zMQ9GnWYlxc9lRyjqPvQZjDamtKtmE3N8", ErrUnknownFormat},
	{"argon2id prefix only", "$argon2id$", ErrMalformed},
	{"argon2id no hash", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA", ErrMalformed},
	{"argon2id empty hash", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$", ErrMalformed},
	{"argon2id extra field", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y$", ErrMalformed},
	{"argon2id v=20", "$argon2id$v=20$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id params reordered", "$argon2id$v=19$t=2,m=19456,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id keyid", "$argon2id$v=19$m=19456,t=2,p=1,keyid=AA$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id leading zero", "$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id plus sign", "$argon2id$v=19$m=+19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id m empty", "$argon2id$v=19$m=,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id m above 4 GiB", "$argon2id$v=19$m=4194305,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id m overflows uint32", "$argon2id$v=19$m=4294967296,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id m overflows uint64", "$argon2id$v=19$m=99999999999999999999999,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id 4 GiB × 3", "$argon2id$v=19$m=4194304,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id t above 1000", "$argon2id$v=19$m=8,t=1001,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id t=0", "$argon2id$v=19$m=19456,t=0,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id p=0", "$argon2id$v=19$m=19456,t=2,p=0$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id p=256", "$argon2id$v=19$m=19456,t=2,p=256$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id m below 8p", "$argon2id$v=19$m=15,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id padded salt", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA==$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id url alphabet", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600_", ErrMalformed},
	{"argon2id trailing bits", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdB$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id line break", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRz\nb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id salt 4 bytes", "$argon2id$v=19$m=19456,t=2,p=1$c29tZQ$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y", ErrMalformed},
	{"argon2id hash 8 bytes", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh0", ErrMalformed},
	{"bcrypt 2x", "$2x$04$84JzgIu6BpnRpGICQXNBH.GJMkUJHFiyk1PGpjx3D.niW5svNAa7.", ErrUnknownFormat},
	{"bcrypt 2", "$2$04$84JzgIu6BpnRpGICQXNBH.GJMkUJHFiyk1PGpjx3D.niW5svNAa7.", ErrUnknownFormat},
	{"bcrypt cost 17", "$2b$17$84JzgIu6BpnRpGICQXNBH.GJMkUJHFiyk1PGpjx3D.niW5svNAa7.", ErrMalformed},
	{"bcrypt cost 31", "$2b$31$84JzgIu6BpnRpGICQXNBH.GJMkUJHFiyk1PGpjx3D.niW5svNAa7.", ErrMalformed},
	{"bcrypt cost 3", "$2b$03$84JzgIu6BpnRpGICQXNBH.GJMkUJHFiyk1PGpjx3D.niW5svNAa7.", ErrMalformed},
	{"bcrypt cost one digit", "$2b$4$84JzgIu6BpnRpGICQXNBH.GJMkUJHFiyk1PGpjx3D.niW5svNAa7.a", ErrMalformed},
	{"bcrypt cost not digits", "$2b$0a$84JzgIu6BpnRpGICQXNBH.GJMkUJHFiyk1PGpjx3D.niW5svNAa7.", ErrMalformed},
	{"bcrypt short", "$2b$04$84JzgIu6BpnRpGICQXNBH.GJMkUJHFiyk1PGpjx3D.niW5svNAa7", ErrMalformed},
	{"bcrypt long", "$2b$04$84JzgIu6BpnRpGICQXNBH.GJMkUJHFiyk1PGpjx3D.niW5svNAa7..", ErrMalformed},
	{"bcrypt bad character", "$2b$04$84JzgIu6BpnRpGICQXNBH+GJMkUJHFiyk1PGpjx3D.niW5svNAa7.", ErrMalformed},
	{"bcrypt prefix only", "$2b$", ErrMalformed},
	{"pbkdf2 no salt", "pbkdf2:sha256:1000", ErrMalformed},
	{"pbkdf2 no hash", "pbkdf2:sha256:1000$salt", ErrMalformed},
	{"pbkdf2 empty hash", "pbkdf2:sha256:1000$salt$", ErrMalformed},
	{"pbkdf2 0 iterations", "pbkdf2:sha256:0$salt$" + strings.Repeat("0", 64), ErrMalformed},
	{"pbkdf2 empty iterations", "pbkdf2:sha256:$salt$" + strings.Repeat("0", 64), ErrMalformed},
	{"pbkdf2 negative iterations", "pbkdf2:sha256:-1$salt$" + strings.Repeat("0", 64), ErrMalformed},
	{"pbkdf2 spaced iterations", "pbkdf2:sha256: 1000$salt$" + strings.Repeat("0", 64), ErrMalformed},
	{"pbkdf2 too many iterations", "pbkdf2:sha256:5000001$salt$" + strings.Repeat("0", 64), ErrMalformed},
	{"pbkdf2 absurd iterations", "pbkdf2:sha256:99999999999999999999999$salt$" + strings.Repeat("0", 64), ErrMalformed},
	{"pbkdf2 three arguments", "pbkdf2:sha256:1000:1$salt$" + strings.Repeat("0", 64), ErrMalformed},
	{"pbkdf2 md5", "pbkdf2:md5:1000$salt$" + strings.Repeat("0", 32), ErrUnknownFormat},
	{"pbkdf2 upper-case digest", "pbkdf2:SHA256:1000$salt$" + strings.Repeat("0", 64), ErrUnknownFormat},
	{"pbkdf2 empty digest", "pbkdf2::1000$salt$" + strings.Repeat("0", 64), ErrUnknownFormat},
	{"pbkdf2 upper-case hex", "pbkdf2:sha256:1000$salt$" + strings.Repeat("A", 64), ErrMalformed},
	{"pbkdf2 odd hex", "pbkdf2:sha256:1000$salt$" + strings.Repeat("0", 63) + "g", ErrMalformed},
	{"pbkdf2 short hex", "pbkdf2:sha256:1000$salt$" + strings.Repeat("0", 62), ErrMalformed},
	{"pbkdf2 sha512 with sha256 length", "pbkdf2:sha512:1000$salt$" + strings.Repeat("0", 64), ErrMalformed},
	{"pbkdf2 dollar in hash", "pbkdf2:sha256:1000$salt$" + strings.Repeat("0", 32) + "$" + strings.Repeat("0", 31), ErrMalformed},
	{"scrypt N not a power of 2", "scrypt:1000:8:1$salt$" + strings.Repeat("0", 128), ErrMalformed},
	{"scrypt N=1", "scrypt:1:8:1$salt$" + strings.Repeat("0", 128), ErrMalformed},
	{"scrypt N=0", "scrypt:0:8:1$salt$" + strings.Repeat("0", 128), ErrMalformed},
	{"scrypt N=2^23", "scrypt:8388608:1:1$salt$" + strings.Repeat("0", 128), ErrMalformed},
	{"scrypt N·r 2^23", "scrypt:4194304:2:1$salt$" + strings.Repeat("0", 128), ErrMalformed},
	{"scrypt r=0", "scrypt:1024:0:1$salt$" + strings.Repeat("0", 128), ErrMalformed},
	{"scrypt r=33", "scrypt:1024:33:1$salt$" + strings.Repeat("0", 128), ErrMalformed},
	{"scrypt p=0", "scrypt:1024:8:0$salt$" + strings.Repeat("0", 128), ErrMalformed},
	{"scrypt p=17", "scrypt:1024:8:17$salt$" + strings.Repeat("0", 128), ErrMalformed},
	{"scrypt two arguments", "scrypt:1024:8$salt$" + strings.Repeat("0", 128), ErrMalformed},
	{"scrypt 32-byte hash", "scrypt:1024:8:1$salt$" + strings.Repeat("0", 64), ErrMalformed},
	{"scrypt no hash", "scrypt:1024:8:1$salt", ErrMalformed},
	{"too long", "pbkdf2:sha256:1000$" + strings.Repeat("s", 2000) + "$" + strings.Repeat("0", 64), ErrMalformed},
}

func TestVerifyMalformed(t *testing.T) {
	h := newHasher(t, DefaultParams())
	for _, tt := range malformedHashes {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.Verify("correct horse battery staple", tt.encoded)
			if ok || !errors.Is(err, tt.want) {
				t.Errorf("Verify(%q) = %v, %v, want false, %v", tt.encoded, ok, err, tt.want)
			}
			if !h.NeedsRehash(tt.encoded) {
				t.Errorf("NeedsRehash(%q) = false, want true", tt.encoded)
			}
		})
	}
}

// TestParseLimits checks each ceiling from both sides without doing the
// work: parse never hashes.
func TestParseLimits(t *testing.T) {
	salt := "c29tZXNhbHRzb21lc2FsdA"
	key := "ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y"
	hex64, hex128 := strings.Repeat("0", 64), strings.Repeat("0", 128)
	bcryptTail := "$84JzgIu6BpnRpGICQXNBH.GJMkUJHFiyk1PGpjx3D.niW5svNAa7."
	tests := []struct {
		encoded string
		ok      bool
	}{
		{"$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key, true},
		{"$argon2id$v=19$m=4194304,t=3,p=1$" + salt + "$" + key, false},
		{"$argon2id$v=19$m=8192,t=1000,p=1$" + salt + "$" + key, true},
		{"$argon2id$v=19$m=8192,t=1001,p=1$" + salt + "$" + key, false},
		{"$argon2id$v=19$m=2040,t=1,p=255$" + salt + "$" + key, true},
		{"$argon2id$v=19$m=2039,t=1,p=255$" + salt + "$" + key, false},
		{"$2b$04" + bcryptTail, true},
		{"$2b$16" + bcryptTail, true},
		{"$2b$17" + bcryptTail, false},
		{"pbkdf2:sha256:1$salt$" + hex64, true},
		{"pbkdf2:sha256:5000000$salt$" + hex64, true},
		{"pbkdf2:sha256:5000001$salt$" + hex64, false},
		{"scrypt:2:1:1$salt$" + hex128, true},
		{"scrypt:4194304:1:1$salt$" + hex128, true},
		{"scrypt:131072:32:1$salt$" + hex128, true},
		{"scrypt:131072:32:2$salt$" + hex128, false},
		{"scrypt:16384:16:16$salt$" + hex128, true},
		{"scrypt:16384:16:16$$" + hex128, true},
	}
	for _, tt := range tests {
		_, err := parse(tt.encoded, defaultLimits())
		if ok := err == nil; ok != tt.ok {
			t.Errorf("parse(%q) error = %v, want ok %v", tt.encoded, err, tt.ok)
		}
	}
}

// TestParseWerkzeugDefaults covers the methods Werkzeug reads but never
// writes, which take their parameters from its defaults.
func TestParseWerkzeugDefaults(t *testing.T) {
	hex64, hex128 := strings.Repeat("0", 64), strings.Repeat("0", 128)
	tests := []struct {
		encoded    string
		iterations int
		keyLen     int
	}{
		{"pbkdf2$salt$" + hex64, 1_000_000, 32},
		{"pbkdf2:sha256$salt$" + hex64, 1_000_000, 32},
		{"pbkdf2:sha512$salt$" + hex128, 1_000_000, 64},
		{"pbkdf2:sha1:1000$salt$" + strings.Repeat("0", 40), 1000, 20},
	}
	for _, tt := range tests {
		s, err := parse(tt.encoded, defaultLimits())
		if err != nil {
			t.Errorf("parse(%q) error = %v", tt.encoded, err)
			continue
		}
		p := s.(pbkdf2Hash)
		if p.iterations != tt.iterations || len(p.key) != tt.keyLen {
			t.Errorf("parse(%q) = %d iterations, %d-byte key, want %d, %d", tt.encoded, p.iterations, len(p.key), tt.iterations, tt.keyLen)
		}
	}

	s, err := parse("scrypt$salt$"+hex128, defaultLimits())
	if err != nil {
		t.Fatalf("parse(scrypt$…) error = %v", err)
	}
	if got, want := s.(scryptHash), (scryptHash{n: 32768, r: 8, p: 1}); got.n != want.n || got.r != want.r || got.p != want.p {
		t.Errorf("parse(scrypt$…) = N %d, r %d, p %d, want %d, %d, %d", got.n, got.r, got.p, want.n, want.r, want.p)
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		s    string
		max  uint64
		want uint64
		ok   bool
	}{
		{"0", 10, 0, true},
		{"7", 10, 7, true},
		{"10", 10, 10, true},
		{"11", 10, 0, false},
		{"9", 5, 0, false},
		{"", 10, 0, false},
		{"01", 10, 0, false},
		{"+1", 10, 0, false},
		{"-1", 10, 0, false},
		{"1_0", 100, 0, false},
		{" 1", 10, 0, false},
		{"4294967295", 1<<32 - 1, 1<<32 - 1, true},
		{"4294967296", 1<<32 - 1, 0, false},
		{"18446744073709551615", 1<<64 - 1, 1<<64 - 1, true},
		{"18446744073709551616", 1<<64 - 1, 0, false},
		{"99999999999999999999", 1<<64 - 1, 0, false},
		{"123456789012345678901", 1<<64 - 1, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseDecimal(tt.s, tt.max)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseDecimal(%q, %d) = %d, %v, want %d, %v", tt.s, tt.max, got, ok, tt.want, tt.ok)
		}
	}
}

// TestTooLong checks that an oversized password is refused before any work.
// The hasher is deliberately expensive (256 MiB, 32 passes: seconds per
// hash), so a regression shows up as a slow test as well as a failed one.
func TestTooLong(t *testing.T) {
	h := newHasher(t, Params{Memory: 256 << 10, Iterations: 32})
	huge := strings.Repeat("a", 1<<20)
	justOver := strings.Repeat("a", MaxBytes+1)
	valid := h.dummy

	start := time.Now()
	for _, pw := range []string{huge, justOver} {
		if enc, err := h.Hash(pw); !errors.Is(err, ErrTooLong) || enc != "" {
			t.Errorf("Hash(%d bytes) = %q, %v, want \"\", ErrTooLong", len(pw), enc, err)
		}
		for _, encoded := range []string{valid, "garbage", ""} {
			// ErrTooLong rather than ErrUnknownFormat for "garbage" shows
			// the length is checked before the hash is even parsed.
			if ok, err := h.Verify(pw, encoded); ok || !errors.Is(err, ErrTooLong) {
				t.Errorf("Verify(%d bytes, %q) = %v, %v, want false, ErrTooLong", len(pw), encoded, ok, err)
			}
		}
		h.VerifyDummy(pw)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing oversized passwords took %v; want no hashing work", d)
	}
}

func TestBcryptOver72Bytes(t *testing.T) {
	h := newHasher(t, fastParams)
	// The 72-byte vector was hashed by Python's bcrypt, which truncates
	// longer passwords, so the longer variants below are exactly what a
	// truncating verifier would accept.
	var pw72, hash string
	for _, v := range loadVectors(t) {
		if v.Format == "bcrypt" && len(v.Password) == 72 {
			pw72, hash = v.Password, v.Hash
		}
	}
	if hash == "" {
		t.Fatal("testdata/vectors.json has no bcrypt vector with a 72-byte password")
	}
	tests := []struct {
		password string
		want     bool
	}{
		{pw72, true},
		{pw72 + "!", false},
		{pw72 + "ab", false},
		{pw72 + strings.Repeat("z", MaxBytes-72), false},
		{pw72[:71], false},
	}
	for _, tt := range tests {
		if ok, err := h.Verify(tt.password, hash); ok != tt.want || err != nil {
			t.Errorf("Verify(%d bytes, %q) = %v, %v, want %v, nil", len(tt.password), hash, ok, err, tt.want)
		}
	}
}

func TestVerifyDummy(t *testing.T) {
	for _, p := range []Params{DefaultParams(), {Memory: 65536, Iterations: 3, Parallelism: 4, SaltLen: 32, KeyLen: 64}} {
		h := newHasher(t, p)
		// The dummy must cost what a real hash made by h costs, so it must
		// carry exactly h's parameters.
		if h.NeedsRehash(h.dummy) {
			t.Errorf("with %+v, NeedsRehash(dummy %q) = true, want false", p, h.dummy)
		}
		s, err := parse(h.dummy, h.lim)
		if err != nil {
			t.Fatalf("parse(dummy %q) error = %v", h.dummy, err)
		}
		a := s.(argon2idHash)
		if a.memory != p.Memory || a.iterations != p.Iterations || a.parallelism != p.Parallelism {
			t.Errorf("dummy = %q, want m=%d,t=%d,p=%d", h.dummy, p.Memory, p.Iterations, p.Parallelism)
		}
	}
	h := newHasher(t, fastParams)
	h.VerifyDummy("correct horse battery staple")
	if other := newHasher(t, fastParams); other.dummy == h.dummy {
		t.Errorf("two Hashers share dummy %q, want each its own random one", h.dummy)
	}
}
