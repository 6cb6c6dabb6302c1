package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/webauthntest"
	"github.com/gatehouse-dev/gatehouse/store/storetest"
)

// The finish endpoints take untrusted bodies from anyone. Whatever the body,
// the answer is 400 invalid_request: never a panic, a 500 or a sign-in. A
// fresh ceremony is begun for every input and its ID put where the input
// says @CEREMONY@, so that the fuzzer reaches past the ceremony lookup into
// the WebAuthn checks; no input can pass those, since the challenge is new.

const ceremonyMark = "@CEREMONY@"

// fuzzEnv is a server with passkeys on, alice signed in (for the
// registration endpoint), and good bodies of each kind to seed the corpus.
type fuzzEnv struct {
	*pkEnv
	bearer []string
	seeds  map[string][][]byte // finish path → bodies
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	e := newPasskeyEnv(f, storetest.OpenSQLite(f))
	e.mustRegister("alice", pw)
	pair, _ := e.tokenLogin("alice", pw)
	fe := &fuzzEnv{pkEnv: e, bearer: bearerHeader(pair.AccessToken), seeds: map[string][][]byte{}}
	a := webauthntest.New(pkOrigin)
	body := func(cred []byte, extra string) []byte {
		return []byte(`{"ceremony_id":"` + ceremonyMark + `","credential":` + string(cred) + extra + `}`)
	}

	b, _ := e.begin(nil, "/api/passkeys/register/begin", nil, fe.bearer...)
	reg, _, err := a.Create(b.Options)
	if err != nil {
		f.Fatal(err)
	}
	fe.seeds["/api/passkeys/register/finish"] = [][]byte{body(reg, ""), body(reg, `,"name":"Laptop"`)}
	e.finish(nil, "/api/passkeys/register/finish", b.CeremonyID, reg, nil, fe.bearer...)

	b, _ = e.begin(nil, "/api/passkeys/login/begin", nil)
	login, _ := a.Get(b.Options)
	fe.seeds["/api/passkeys/login/finish"] = [][]byte{body(login, ""), body(login, `,"set_cookie":true,"remember":true,"return_to":"/account"`)}

	b, _ = e.begin(nil, "/api/passkeys/signup/begin", map[string]string{"username": "nora", "email": "nora@example.com"})
	signUp, _, _ := webauthntest.New(pkOrigin).Create(b.Options)
	fe.seeds["/api/passkeys/signup/finish"] = [][]byte{body(signUp, ""), body(signUp, `,"set_cookie":true,"name":"Phone"`)}

	for path := range fe.seeds {
		fe.seeds[path] = append(fe.seeds[path], []byte(``), []byte(`{}`), []byte(`null`), []byte(`[]`),
			[]byte(`{"ceremony_id":"`+ceremonyMark+`"}`), []byte(`{"ceremony_id":"`+ceremonyMark+`","credential":null}`),
			[]byte(`{"ceremony_id":"`+ceremonyMark+`","credential":{"id":"AA","rawId":"AA","type":"public-key","response":{}}}`),
			[]byte(`{"ceremony_id":1,"credential":"x"}`), []byte(`{"ceremony_id":"`+ceremonyMark+`","credential":{},"name":"\u0000"}`))
	}
	return fe
}

// fuzzFinish begins a ceremony at beginPath for every input and posts the
// input, with the ceremony's ID put in, to finishPath.
func fuzzFinish(f *testing.F, beginPath, finishPath string, beginBody any, auth bool) {
	fe := newFuzzEnv(f)
	for _, s := range fe.seeds[finishPath] {
		f.Add(s)
	}
	begin, _ := json.Marshal(beginBody)
	if beginBody == nil {
		begin = []byte(`{}`)
	}
	// Inside the target only t may be used, so requests go straight to the
	// handler rather than through the env's helpers, which report to f.
	serve := func(path string, body []byte, headers []string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		fe.web.ServeHTTP(rec, req)
		return rec
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var headers []string
		if auth {
			headers = fe.bearer
		}
		rec := serve(beginPath, begin, headers)
		var begun ceremonyBegun
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &begun) != nil {
			t.Fatalf("%s = %d %s", beginPath, rec.Code, rec.Body)
		}
		body = bytes.ReplaceAll(body, []byte(ceremonyMark), []byte(begun.CeremonyID))
		rec = serve(finishPath, body, headers)
		var e errorBody
		if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error != "invalid_request" || e.Message == "" {
			t.Fatalf("POST %s %q = %d %s, want 400 invalid_request", finishPath, body, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Header().Get("Set-Cookie"), SessionCookie) {
			t.Fatalf("POST %s %q set a session cookie", finishPath, body)
		}
	})
}

func FuzzPasskeyRegisterFinish(f *testing.F) {
	fuzzFinish(f, "/api/passkeys/register/begin", "/api/passkeys/register/finish", nil, true)
}

func FuzzPasskeyLoginFinish(f *testing.F) {
	fuzzFinish(f, "/api/passkeys/login/begin", "/api/passkeys/login/finish", nil, false)
}

func FuzzPasskeySignUpFinish(f *testing.F) {
	fuzzFinish(f, "/api/passkeys/signup/begin", "/api/passkeys/signup/finish",
		map[string]string{"username": "olga", "email": "olga@example.com"}, false)
}
