package client

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/benchratio"
	"github.com/gatehouse-dev/gatehouse/internal/tokentest"
)

// typicalToken returns a token like the ones Gatehouse issues, and the
// Client that verifies it.
func typicalToken(b *testing.B) (*Client, tokentest.Key, string) {
	key := tokentest.NewKey(b, EdDSA)
	g := newFakeGatehouse(b, key)
	c := newTestClient(b, g)
	cl := claimsAt(g.URL(), time.Now())
	cl.Subject = "01J9Z8K4Q6W3E5R7T9Y1U3I5O7"
	cl.SessionID = "01J9Z8K4Q6W3E5R7T9Y1U3I5O8"
	cl.ID = "l0kT3yqF6m2Zb8NcV1xR4w"
	cl.Roles = []string{"user", "editor"}
	cl.Email = "ada.lovelace@example.com"
	cl.Username = "ada"
	return c, key, key.Sign(b, cl)
}

// BenchmarkVerifyRatio compares Client.Verify of a typical access token
// with a bare ed25519.Verify of the same signing input and signature: the
// ratio is the cost of everything around the signature check.
func BenchmarkVerifyRatio(b *testing.B) {
	c, key, tok := typicalToken(b)
	dot := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:dot])
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil {
		b.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	ctx := context.Background()
	r := benchratio.Compare(b, "client.Verify vs ed25519.Verify",
		func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !ed25519.Verify(pub, input, sig) {
					b.Fatal("ed25519.Verify failed")
				}
			}
		},
		func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	if r.Ratio() > 1.5 {
		b.Logf("ratio %.3f is above the 1.5 target", r.Ratio())
	}
}

// BenchmarkMiddlewareRatio compares a handler behind Require with the same
// handler unprotected, both called directly with httptest.
func BenchmarkMiddlewareRatio(b *testing.B) {
	c, _, tok := typicalToken(b)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	protected := c.Require(h)
	serve := func(h http.Handler) func(*testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("GET", "/notes", nil)
				r.Header.Set("Authorization", "Bearer "+tok)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusNoContent {
					b.Fatalf("got status %d", w.Code)
				}
			}
		}
	}
	benchratio.Compare(b, "Require(handler) vs handler", serve(h), serve(protected))
}

// BenchmarkVerifier measures the offline Verifier alone, with allocations.
func BenchmarkVerifier(b *testing.B) {
	key := tokentest.NewKey(b, EdDSA)
	v := NewVerifier(keySetOf(key), testIssuer, nil)
	tok := key.Sign(b, claimsAt(testIssuer, time.Now()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
