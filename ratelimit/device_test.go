package ratelimit

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

var testSecret = []byte("gatehouse test secret, 32 bytes!")

func newDevice(t testing.TB, clk *clock) *Device {
	t.Helper()
	d, err := NewDevice(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if clk != nil {
		d.Now = clk.Now
	}
	return d
}

// TestDeviceVectors checks tokens computed by testdata/make_device_vectors.py
// from the documented format, independently of this code.
func TestDeviceVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/device_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []struct {
		Secret      string `json:"secret"`
		UserID      string `json:"user_id"`
		DeviceID    string `json:"device_id"`
		IssuedUnix  int64  `json:"issued_unix"`
		Token       string `json:"token"`
		DeviceIDB64 string `json:"device_id_b64"`
	}
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("no vectors")
	}
	for i, v := range vs {
		secret, _ := hex.DecodeString(v.Secret)
		idBytes, _ := hex.DecodeString(v.DeviceID)
		user, want := v.UserID, v.Token
		issued := time.Unix(v.IssuedUnix, 0)

		d, err := NewDevice(secret)
		if err != nil {
			t.Fatal(err)
		}
		d.Now = func() time.Time { return issued.Add(time.Hour) }
		var id [deviceIDLen]byte
		copy(id[:], idBytes)
		if got := d.issue(user, id, issued); got != want {
			t.Errorf("vector %d: issue(%q) = %q, want %q", i, user, got, want)
		}
		gotID, ok := d.Valid(want, user)
		if !ok || gotID != v.DeviceIDB64 {
			t.Errorf("vector %d: Valid(%q, %q) = %q, %v; want %q, true", i, want, user, gotID, ok, v.DeviceIDB64)
		}
	}
}

func TestDeviceValid(t *testing.T) {
	clk := newClock()
	d := newDevice(t, clk)
	tok := d.Issue("u1")
	other, err := NewDevice([]byte(strings.Repeat("x", 32)))
	if err != nil {
		t.Fatal(err)
	}
	other.Now = clk.Now

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name  string
		d     *Device
		token string
		user  string
		wait  time.Duration
		want  bool
	}{
		{"issued for this user", d, tok, "u1", 0, true},
		{"just before MaxAge", d, tok, "u1", DefaultDeviceMaxAge, true},
		{"after MaxAge", d, tok, "u1", DefaultDeviceMaxAge + time.Second, false},
		{"another user", d, tok, "u2", 0, false},
		{"user ID that extends the real one", d, tok, "u10", 0, false},
		{"empty user", d, tok, "", 0, false},
		{"another secret", other, tok, "u1", 0, false},
		{"empty token", d, "", "u1", 0, false},
		{"payload changed", d, flip(tok, 6), "u1", 0, false},
		{"MAC changed", d, flip(tok, len(tok)-3), "u1", 0, false},
		{"other version", d, "gd2" + tok[3:], "u1", 0, false},
		{"padded", d, tok + "=", "u1", 0, false},
		{"truncated", d, tok[:len(tok)-1], "u1", 0, false},
		{"dot moved", d, tok[:35] + "." + tok[35:36] + tok[37:], "u1", 0, false},
		{"standard base64", d, strings.NewReplacer("-", "+", "_", "/").Replace(tok), "u1", 0, strings.IndexAny(tok, "-_") < 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at := clk.Now().Add(tc.wait)
			tc.d.Now = func() time.Time { return at }
			defer func() { tc.d.Now = clk.Now }()
			if _, got := tc.d.Valid(tc.token, tc.user); got != tc.want {
				t.Errorf("Valid(%q, %q) = %v, want %v", tc.token, tc.user, got, tc.want)
			}
		})
	}
}

func TestDeviceIssue(t *testing.T) {
	d := newDevice(t, nil)
	a, b := d.Issue("u1"), d.Issue("u1")
	if len(a) != deviceTokenLen || !strings.HasPrefix(a, "gd1.") {
		t.Errorf("Issue(u1) = %q, want %d characters starting gd1.", a, deviceTokenLen)
	}
	idA, _ := d.Valid(a, "u1")
	idB, _ := d.Valid(b, "u1")
	if idA == idB {
		t.Errorf("two tokens share the device ID %q", idA)
	}
	if got := d.Issue(""); got != "" {
		t.Errorf(`Issue("") = %q, want ""`, got)
	}
	if _, err := NewDevice(make([]byte, 31)); err == nil {
		t.Error("NewDevice with a 31-byte secret: no error")
	}
}

// FuzzDeviceValid feeds arbitrary tokens to the parser: it must never
// panic, and must accept nothing but tokens that were actually issued (a
// forgery the fuzzer found would be an HMAC forgery, or a parser that
// accepts two spellings of one token).
func FuzzDeviceValid(f *testing.F) {
	d, err := NewDevice(testSecret)
	if err != nil {
		f.Fatal(err)
	}
	fixed := time.Unix(1767323045, 0)
	d.Now = func() time.Time { return fixed }
	issued := map[string]string{}
	for _, u := range []string{"u1", "u2", ""} {
		var id [deviceIDLen]byte
		copy(id[:], u)
		tok := d.issue(u, id, fixed)
		issued[tok] = u
		f.Add(tok, u)
		f.Add(tok, u+"x")
		f.Add(tok[:len(tok)-1]+"B", u)
	}
	f.Add("", "")
	f.Add("gd1..", "u1")
	f.Add("gd1."+strings.Repeat("A", 32)+"."+strings.Repeat("A", 43), "u1")
	f.Fuzz(func(t *testing.T, token, user string) {
		id, ok := d.Valid(token, user)
		if !ok {
			if id != "" {
				t.Errorf("Valid(%q, %q) = %q, false; want an empty ID", token, user, id)
			}
			return
		}
		if u, known := issued[token]; !known || u != user || user == "" {
			t.Errorf("Valid(%q, %q) accepted a token that was not issued for that user", token, user)
		}
		if len(id) != 22 {
			t.Errorf("Valid(%q, %q) ID %q, want 22 characters", token, user, id)
		}
	})
}
