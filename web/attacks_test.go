package web

import (
	"context"
	"crypto"
	"crypto/x509"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/tokentest"
	"github.com/gatehouse-dev/gatehouse/masterkey"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// signingKey opens the active signing key from the store, as only a test
// holding the master secret can.
func signingKey(t *testing.T, env *testEnv) crypto.Signer {
	t.Helper()
	keys, err := env.store.FindSigningKeys(context.Background(), time.Now())
	if err != nil || len(keys) == 0 {
		t.Fatalf("FindSigningKeys() = %v, %v", keys, err)
	}
	mk, _ := masterkey.New("0123456789abcdef0123456789abcdef-test")
	der, err := mk.Open(keys[0].Sealed, []byte(keys[0].ID))
	if err != nil {
		t.Fatalf("open signing key: %v", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}

// The JWT attack catalogue against Gatehouse's own endpoint: every forged
// token is refused with 401 (or refused at the HTTP layer for an oversized
// header), never a 5xx, and never fetches a URL it names.
func TestTokenAttacksOnTheAPI(t *testing.T) {
	env := newEnv(t, storetestSQLite(t))
	env.mustRegister("zoe", pw)
	pair, r := env.tokenLogin("zoe", pw)
	if r.status != 200 {
		t.Fatal(r.body)
	}
	if r := env.do(nil, "GET", "/api/me", nil, bearerHeader(pair.AccessToken)...); r.status != 200 {
		t.Fatalf("the valid token = %d", r.status)
	}
	priv := signingKey(t, env)
	attacks := tokentest.Attacks(t, pair.AccessToken, priv.Public(), priv)
	if len(attacks) < 50 {
		t.Fatalf("only %d attacks", len(attacks))
	}
	for _, a := range attacks {
		if strings.ContainsAny(a.Token, "\r\n") {
			continue // an HTTP client refuses to send it
		}
		r := env.do(nil, "GET", "/api/me", nil, "Authorization", "Bearer "+a.Token)
		switch {
		case r.status >= 500:
			t.Errorf("%s: %d %s", a.Name, r.status, r.body)
		case r.status == 431 || r.status == 400:
			// refused by the HTTP server before any parsing: fine
		case r.status != 401:
			t.Errorf("%s: %d %s, want 401", a.Name, r.status, r.body)
		case strings.Contains(r.body, "zoe"):
			t.Errorf("%s: the forged token read the user", a.Name)
		}
	}
	// A forged token is no better on the admin API or the refresh endpoint.
	if r := env.doJSON(nil, "POST", "/api/auth/refresh", map[string]string{"refresh_token": pair.AccessToken}); r.status != 401 {
		t.Errorf("an access token as a refresh token = %d, want 401", r.status)
	}
	if r := env.do(nil, "GET", "/api/me", nil, "Authorization", "Bearer "+pair.RefreshToken); r.status != 401 {
		t.Errorf("a refresh token as an access token = %d, want 401", r.status)
	}
}

// The refresh endpoint's body never panics or answers 5xx, whatever it holds.
func FuzzRefreshBody(f *testing.F) {
	for _, seed := range []string{`{"refresh_token":"ghr_x"}`, `{}`, `[]`, `null`, `{"refresh_token":1}`, "\x00",
		`{"refresh_token":"ghr_` + strings.Repeat("a", 43) + `"}`, `{"refresh_token":"` + strings.Repeat("a", 47) + `"}`} {
		f.Add(seed)
	}
	env := newEnv(f, storetest.OpenSQLite(f))
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/auth/refresh", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		env.web.ServeHTTP(rec, req)
		if rec.Code != 400 && rec.Code != 401 {
			t.Errorf("refresh with %q = %d %s, want 400 or 401", body, rec.Code, rec.Body.String())
		}
	})
}
