package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gatehouse-dev/gatehouse/client"
	jose "github.com/go-jose/go-jose/v4"
)

// gatehouse stands in for a Gatehouse server: it serves a JWKS and a
// revocation feed, and issues tokens.
type gatehouse struct {
	*httptest.Server
	key ed25519.PrivateKey
}

func startGatehouse() *gatehouse {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	g := &gatehouse{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: key.Public(), KeyID: "k1", Algorithm: "EdDSA", Use: "sig"},
		}})
	})
	mux.HandleFunc("GET /api/auth/revocations", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gh_example" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"revoked":[{"sid":"sess-revoked","until":%q}],"cursor":"1"}`,
			time.Now().Add(time.Hour).Format(time.RFC3339))
	})
	g.Server = httptest.NewServer(mux)
	return g
}

// issue signs a token for subject in session sid with roles.
func (g *gatehouse) issue(subject, sid string, roles ...string) string {
	now := time.Now()
	claims, _ := client.Claims{
		Issuer: g.URL, Audience: []string{g.URL}, Subject: subject, SessionID: sid,
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(15 * time.Minute), ID: "jti-" + subject,
		Roles: roles, Permissions: []string{"notes:read"},
	}.MarshalJSON()
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: g.key},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "k1"))
	jws, _ := signer.Sign(claims)
	raw, _ := jws.CompactSerialize()
	return raw
}

// call sends a GET with a bearer token to h and prints the status.
func call(h http.Handler, token string) {
	r := httptest.NewRequest("GET", "/notes", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String())
}

func ExampleNew() {
	g := startGatehouse()
	defer g.Close()

	// In a backend: the issuer is the Gatehouse public URL.
	gh, err := client.New(context.Background(), g.URL,
		client.WithLeeway(30*time.Second),
		client.WithRevocationFeed("gh_example", 10*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer gh.Close()

	_, err = gh.Verify(context.Background(), g.issue("user-1", "sess-1"))
	fmt.Println(err)
	// Output: <nil>
}

func ExampleClient_Verify() {
	g := startGatehouse()
	defer g.Close()
	gh, err := client.New(context.Background(), g.URL, client.WithRevocationFeed("gh_example", 0))
	if err != nil {
		log.Fatal(err)
	}
	defer gh.Close()

	claims, err := gh.Verify(context.Background(), g.issue("user-1", "sess-1", "editor"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.Roles)

	_, err = gh.Verify(context.Background(), g.issue("user-2", "sess-revoked"))
	fmt.Println(err)
	// Output:
	// user-1 [editor]
	// gatehouse: token revoked
}

func ExampleClient_Require() {
	g := startGatehouse()
	defer g.Close()
	gh, err := client.New(context.Background(), g.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer gh.Close()

	notes := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := client.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "notes of %s", claims.Subject)
	})
	h := gh.Require(notes)

	call(h, g.issue("user-1", "sess-1"))
	call(h, "")
	// Output:
	// 200 notes of user-1
	// 401 {"error":"unauthorized","message":"Sign-in required."}
}

func ExampleClient_RequireRole() {
	g := startGatehouse()
	defer g.Close()
	gh, err := client.New(context.Background(), g.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer gh.Close()

	admin := gh.RequireRole("admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "admin area")
	}))
	call(admin, g.issue("user-1", "sess-1", "admin"))
	call(admin, g.issue("user-2", "sess-2", "user"))
	// Output:
	// 200 admin area
	// 403 {"error":"forbidden","message":"You do not have a role this requires."}
}

func ExampleClient_RequirePermission() {
	g := startGatehouse()
	defer g.Close()
	gh, err := client.New(context.Background(), g.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer gh.Close()

	read := gh.RequirePermission("notes:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "notes")
	}))
	write := gh.RequirePermission("notes:read", "notes:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "saved")
	}))
	tok := g.issue("user-1", "sess-1") // grants notes:read only
	call(read, tok)
	call(write, tok)
	// Output:
	// 200 notes
	// 403 {"error":"forbidden","message":"You do not have a permission this requires."}
}

func ExampleClaimsFrom() {
	g := startGatehouse()
	defer g.Close()
	gh, err := client.New(context.Background(), g.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer gh.Close()

	h := gh.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := client.ClaimsFrom(r.Context()); ok {
			fmt.Fprintf(w, "%s in session %s", c.Subject, c.SessionID)
		}
	}))
	call(h, g.issue("user-1", "sess-1"))
	// Output: 200 user-1 in session sess-1
}

func ExampleClient_Close() {
	g := startGatehouse()
	defer g.Close()
	gh, err := client.New(context.Background(), g.URL)
	if err != nil {
		log.Fatal(err)
	}
	// Close stops the background key refresh and revocation polling.
	gh.Close()
	fmt.Println("closed")
	// Output: closed
}

func ExampleWithRefreshRedirect() {
	g := startGatehouse()
	defer g.Close()
	gh, err := client.New(context.Background(), g.URL, client.WithRefreshRedirect(true))
	if err != nil {
		log.Fatal(err)
	}
	defer gh.Close()

	// A browser navigation without a token goes to Gatehouse to refresh
	// its cookie, and comes back.
	r := httptest.NewRequest("GET", "https://app.example/notes", nil)
	r.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	gh.Require(http.NotFoundHandler()).ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Location")[len(g.URL):])
	// Output: 303 /session/refresh?return_to=https%3A%2F%2Fapp.example%2Fnotes
}

func ExampleNewVerifier() {
	// The key set comes from the caller: here a JWKS document; the
	// Gatehouse server uses its own keys.
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: key.Public(), KeyID: "k1", Algorithm: "EdDSA", Use: "sig"},
	}})
	keys, err := client.ParseJWKS(jwks)
	if err != nil {
		log.Fatal(err)
	}
	v := client.NewVerifier(keys, "https://auth.example.com", nil)

	// {"alg":"none"}, {}, and no signature.
	_, err = v.Verify("eyJhbGciOiJub25lIn0.e30.")
	fmt.Println(errors.Is(err, client.ErrMalformed), err)
	// Output: true gatehouse: malformed token: empty segment
}

func ExampleVerifier_Verify() {
	g := startGatehouse()
	defer g.Close()
	resp, err := http.Get(g.URL + "/.well-known/jwks.json")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	json.NewDecoder(resp.Body).Decode(&raw)
	keys, err := client.ParseJWKS(raw)
	if err != nil {
		log.Fatal(err)
	}
	v := client.NewVerifier(keys, g.URL, nil)
	claims, err := v.Verify(g.issue("user-1", "sess-1"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject)
	// Output: user-1
}

func ExampleParseJWKS() {
	keys, err := client.ParseJWKS([]byte(`{"keys":[
		{"kty":"OKP","crv":"Ed25519","kid":"k1","alg":"EdDSA","use":"sig","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
		{"kty":"RSA","kid":"r1","n":"AQAB","e":"AQAB"}
	]}`))
	if err != nil {
		log.Fatal(err)
	}
	k, ok := keys.Key("k1")
	fmt.Println(keys.Len(), ok, k.Algorithm)
	// Output: 1 true EdDSA
}

func ExampleClaims_HasRole() {
	c := client.Claims{Roles: []string{"user", "editor"}}
	fmt.Println(c.HasRole("editor"), c.HasRole("admin"))
	// Output: true false
}

func ExampleClaims_HasPermission() {
	c := client.Claims{Permissions: []string{"notes:read"}}
	fmt.Println(c.HasPermission("notes:read"), c.HasPermission("notes:write"))
	// Output: true false
}

func ExampleClaims_MarshalJSON() {
	b, _ := client.Claims{
		Issuer: "https://auth.example.com", Subject: "user-1", SessionID: "sess-1",
		Audience: []string{"https://auth.example.com"},
		IssuedAt: time.Unix(1780315200, 0), ExpiresAt: time.Unix(1780316100, 0),
	}.MarshalJSON()
	fmt.Println(string(b))
	// Output: {"iss":"https://auth.example.com","sub":"user-1","aud":"https://auth.example.com","exp":1780316100,"iat":1780315200,"sid":"sess-1","roles":[]}
}
