package totp

import (
	"bufio"
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"image/png"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// rfcSecret is the SHA1 secret of RFC 6238 Appendix B, in base32.
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

type vector struct {
	unix int64
	step int64
	code string
}

func readVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open("testdata/rfc6238.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("bad vector line %q", line)
		}
		unix, err1 := strconv.ParseInt(f[0], 10, 64)
		step, err2 := strconv.ParseInt(f[1], 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad vector line %q", line)
		}
		out = append(out, vector{unix, step, f[2]})
	}
	if len(out) != 6 {
		t.Fatalf("read %d vectors, want the 6 SHA1 rows of RFC 6238", len(out))
	}
	return out
}

func TestRFC6238Vectors(t *testing.T) {
	for _, v := range readVectors(t) {
		at := time.Unix(v.unix, 0).UTC()
		t.Run(strconv.FormatInt(v.unix, 10), func(t *testing.T) {
			// The published eight digits, through the same code path.
			if step, ok := validate(rfcSecret, v.code, at, otp.DigitsEight); !ok || step != v.step {
				t.Errorf("validate(8 digits %s, %v) = %d, %v; want %d, true", v.code, at, step, ok, v.step)
			}
			// Six digits are the last six of the eight (RFC 4226 §5.3: the
			// value modulo 10^6).
			six := v.code[2:]
			if step, ok := Validate(rfcSecret, six, at); !ok || step != v.step {
				t.Errorf("Validate(%s, %v) = %d, %v; want %d, true", six, at, step, ok, v.step)
			}
		})
	}
}

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestValidateSkew(t *testing.T) {
	const step = 58_000_000
	stepStart := time.Unix(step*30, 0)
	code := codeAt(t, rfcSecret, stepStart)
	tests := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"two steps early", stepStart.Add(-31 * time.Second), false},
		{"one step early", stepStart.Add(-1 * time.Second), true},
		{"start of its step", stepStart, true},
		{"end of its step", stepStart.Add(29 * time.Second), true},
		{"one step late", stepStart.Add(59 * time.Second), true},
		{"two steps late", stepStart.Add(60 * time.Second), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Validate(rfcSecret, code, tc.now)
			if ok != tc.ok || (ok && got != step) {
				t.Errorf("Validate(%s, %v) = %d, %v; want %d, %v", code, tc.now, got, ok, step, tc.ok)
			}
		})
	}
}

func TestValidateInput(t *testing.T) {
	at := time.Unix(59, 0)
	tests := []struct {
		code string
		ok   bool
	}{
		{"287082", true},
		{"287 082", true},
		{" 287082\n", true},
		{"287083", false},
		{"", false},
		{"28708", false},
		{"2870820", false},
		{"28708a", false},
		{"２８７０８２", false},   // full-width digits are not digits here
		{"94287082", false}, // eight digits are not accepted by Validate
	}
	for _, tc := range tests {
		if _, ok := Validate(rfcSecret, tc.code, at); ok != tc.ok {
			t.Errorf("Validate(%q) ok = %v, want %v", tc.code, ok, tc.ok)
		}
	}
	if _, ok := Validate("not base32!", "287082", at); ok {
		t.Error("Validate(bad secret) = ok, want refused")
	}
}

func TestEnroll(t *testing.T) {
	secret, uri, qr, err := Enroll("Gatehouse", "alice@example.com")
	if err != nil {
		t.Fatalf("Enroll() = %v", err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil || len(raw) != SecretSize {
		t.Errorf("secret %q decodes to %d bytes, %v; want %d", secret, len(raw), err, SecretSize)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("otpauth URI %q: %v", uri, err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Gatehouse:alice@example.com" {
		t.Errorf("otpauth URI %q: want otpauth://totp/Gatehouse:alice@example.com", uri)
	}
	q := u.Query()
	for k, want := range map[string]string{"secret": secret, "issuer": "Gatehouse", "algorithm": "SHA1", "digits": "6", "period": "30"} {
		if got := q.Get(k); got != want {
			t.Errorf("otpauth URI %s = %q, want %q", k, got, want)
		}
	}
	b64, ok := strings.CutPrefix(qr, "data:image/png;base64,")
	if !ok {
		t.Fatalf("QR code %.40q…: want a PNG data URL", qr)
	}
	png64, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(png64))
	if err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != QRSize || b.Dy() != QRSize {
		t.Errorf("QR code is %dx%d, want %dx%d", b.Dx(), b.Dy(), QRSize, QRSize)
	}
	now := time.Now()
	if _, ok := Validate(secret, codeAt(t, secret, now), now); !ok {
		t.Error("a code from the enrolled secret does not validate")
	}
	other, _, _, _ := Enroll("Gatehouse", "alice@example.com")
	if other == secret {
		t.Error("two enrolments got the same secret")
	}
	if _, _, _, err := Enroll("", "alice"); err == nil {
		t.Error("Enroll(no issuer) succeeded, want an error")
	}
}

var recoveryShape = regexp.MustCompile(`^[a-km-np-z2-9]{4}-[a-km-np-z2-9]{4}-[a-km-np-z2-9]{4}$`)

func TestNewRecoveryCodes(t *testing.T) {
	codes, hashes := NewRecoveryCodes()
	if len(codes) != 10 || len(hashes) != 10 {
		t.Fatalf("NewRecoveryCodes() gave %d codes, %d hashes; want 10 and 10", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if !recoveryShape.MatchString(c) {
			t.Errorf("recovery code %q: want xxxx-xxxx-xxxx from the unambiguous alphabet", c)
		}
		if seen[c] {
			t.Errorf("recovery code %q appears twice", c)
		}
		seen[c] = true
		if !bytes.Equal(hashes[i], HashRecoveryCode(c)) {
			t.Errorf("hash %d is not HashRecoveryCode(%q)", i, c)
		}
	}
}

func TestHashRecoveryCode(t *testing.T) {
	want := HashRecoveryCode("k7hd-2mqx-9prt")
	tests := []struct {
		in   string
		same bool
	}{
		{"k7hd-2mqx-9prt", true},
		{"K7HD-2MQX-9PRT", true},
		{"k7hd2mqx9prt", true},
		{" k7hd 2mqx 9prt ", true},
		{"k7hd–2mqx—9prt", true}, // typographic dashes
		{"k7hd-2mqx-9prs", false},
		{"k7hd-2mqx-9pr", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := bytes.Equal(HashRecoveryCode(tc.in), want); got != tc.same {
			t.Errorf("HashRecoveryCode(%q) equal to that of k7hd-2mqx-9prt = %v, want %v", tc.in, got, tc.same)
		}
	}
}
