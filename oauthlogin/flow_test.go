package oauthlogin

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/masterkey"
)

func sampleFlow() *FlowState {
	return &FlowState{State: randomString(), Verifier: randomString(), Nonce: randomString(), Provider: "google",
		RedirectURL: redirectURL, ReturnTo: "/account", CreatedAt: time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)}
}

func TestFlowStateRoundTrip(t *testing.T) {
	key := testKey(t)
	f := sampleFlow()
	v, err := f.Seal(key)
	if err != nil {
		t.Fatalf("Seal() = %v", err)
	}
	got, err := OpenFlowState(key, v)
	if err != nil {
		t.Fatalf("OpenFlowState() = %v", err)
	}
	if d := cmp.Diff(f, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	if strings.Contains(v, f.State) || strings.Contains(v, "google") {
		t.Error("sealed value shows its contents")
	}
}

func TestOpenFlowStateRefuses(t *testing.T) {
	key := testKey(t)
	otherKey, _ := masterkey.New("another secret, also 32 characters long")
	good, _ := sampleFlow().Seal(key)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	otherPurpose := func() string {
		b, _ := key.Seal([]byte(`{"s":"a","v":"b","p":"google","r":"https://x.example/cb","t":"2026-01-01T00:00:00Z"}`), []byte("gatehouse totp v1"))
		return base64.RawURLEncoding.EncodeToString(b)
	}
	incomplete := func() string {
		f := sampleFlow()
		f.Verifier = ""
		v, _ := f.Seal(key)
		return v
	}
	otherKeyValue, _ := sampleFlow().Seal(otherKey)
	tests := []struct{ name, value string }{
		{"empty", ""},
		{"not base64", "not base64!"},
		{"flipped nonce byte", flip(0)},
		{"flipped ciphertext byte", flip(len(raw) / 2)},
		{"flipped tag byte", flip(len(raw) - 1)},
		{"truncated", good[:len(good)-4]},
		{"sealed by another key", otherKeyValue},
		{"sealed for another purpose", otherPurpose()},
		{"without a verifier", incomplete()},
		{"too long", strings.Repeat("A", maxCookieValue+1)},
	}
	for _, tc := range tests {
		f, err := OpenFlowState(key, tc.value)
		if f != nil || !errors.Is(err, ErrInvalidState) {
			t.Errorf("OpenFlowState(%s) = %+v, %v; want %v", tc.name, f, err, ErrInvalidState)
		}
	}
}

func TestFlowCookie(t *testing.T) {
	key := testKey(t)
	for _, secure := range []bool{true, false} {
		c, err := sampleFlow().Cookie(key, secure)
		if err != nil {
			t.Fatal(err)
		}
		wantName := map[bool]string{true: "__Host-gatehouse_oauth", false: "gatehouse_oauth"}[secure]
		if c.Name != wantName || c.Name != FlowCookie(secure) || c.Path != "/" || c.Domain != "" || !c.HttpOnly ||
			c.Secure != secure || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 600 {
			t.Errorf("Cookie(secure=%v) = %+v; want %s, Path=/, no Domain, HttpOnly, SameSite=Lax, Max-Age=600", secure, c, wantName)
		}
		if err := c.Valid(); err != nil {
			t.Errorf("Cookie(secure=%v) is not a valid cookie: %v", secure, err)
		}
		clear := ClearFlowCookie(secure)
		if clear.Name != c.Name || clear.MaxAge >= 0 || clear.Path != "/" || clear.Secure != secure {
			t.Errorf("ClearFlowCookie(%v) = %+v; want the same cookie, expired", secure, clear)
		}
	}
}

// FuzzOpenFlowState feeds the cookie opener arbitrary values: it must never
// panic, and must accept nothing but what Seal made.
func FuzzOpenFlowState(f *testing.F) {
	key := testKey(f)
	good, _ := sampleFlow().Seal(key)
	f.Add(good)
	f.Add("")
	f.Add("AAAA")
	f.Add(good[:len(good)/2])
	f.Add(strings.Repeat("_", 100))
	f.Fuzz(func(t *testing.T, value string) {
		fs, err := OpenFlowState(key, value)
		if err != nil {
			if fs != nil || !errors.Is(err, ErrInvalidState) {
				t.Fatalf("OpenFlowState(%q) = %+v, %v; want nil, ErrInvalidState", value, fs, err)
			}
			return
		}
		// Only an untouched sealed value opens; it must be complete.
		if fs.State == "" || fs.Verifier == "" || fs.Provider == "" || fs.CreatedAt.IsZero() {
			t.Fatalf("OpenFlowState(%q) = %+v: incomplete state accepted", value, fs)
		}
	})
}
