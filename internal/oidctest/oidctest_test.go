package oidctest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestDiscoveryAndJWKS(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		p := New(Options{Alg: alg})
		defer p.Close()
		var meta map[string]any
		getJSON(t, p.Issuer+"/.well-known/openid-configuration", &meta)
		if meta["issuer"] != p.Issuer || meta["jwks_uri"] != p.Issuer+"/jwks" {
			t.Errorf("%s discovery = %v", alg, meta)
		}
		var jwks struct{ Keys []map[string]any }
		getJSON(t, p.Issuer+"/jwks", &jwks)
		if len(jwks.Keys) != 1 || jwks.Keys[0]["alg"] != alg || jwks.Keys[0]["use"] != "sig" {
			t.Errorf("%s JWKS = %v, want one %s signing key", alg, jwks, alg)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := jwks.Keys[0][private]; ok {
				t.Errorf("%s JWKS publishes private member %q", alg, private)
			}
		}
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// The token endpoint is as strict as a careful provider.
func TestTokenEndpoint(t *testing.T) {
	const redirect = "https://client.example/cb"
	tests := []struct {
		name     string
		method   string // code_challenge_method at the authorization endpoint; "none" for no PKCE
		verifier func(v string) string
		secret   string
		redirect string
		reuse    bool
		want     string // OAuth error code, "" for success
	}{
		{name: "S256", method: "S256", want: ""},
		{name: "plain", method: "plain", want: ""},
		{name: "no PKCE", method: "none", verifier: func(string) string { return "" }, want: ""},
		{name: "missing verifier", method: "S256", verifier: func(string) string { return "" }, want: "invalid_grant"},
		{name: "wrong verifier", method: "S256", verifier: func(v string) string { return v + "x" }, want: "invalid_grant"},
		{name: "verifier without challenge", method: "none", want: "invalid_grant"},
		{name: "wrong client secret", method: "S256", secret: "wrong", want: "invalid_client"},
		{name: "other redirect URI", method: "S256", redirect: "https://client.example/other", want: "invalid_grant"},
		{name: "code used twice", method: "S256", reuse: true, want: "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(Options{})
			defer p.Close()
			cfg := &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: redirect, Scopes: []string{"openid"},
				Endpoint: oauth2.Endpoint{AuthURL: p.Issuer + "/authorize", TokenURL: p.Issuer + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
			verifier := oauth2.GenerateVerifier()
			var opts []oauth2.AuthCodeOption
			switch tc.method {
			case "S256":
				opts = append(opts, oauth2.S256ChallengeOption(verifier))
			case "plain":
				opts = append(opts, oauth2.SetAuthURLParam("code_challenge", verifier), oauth2.SetAuthURLParam("code_challenge_method", "plain"))
			}
			q, err := Callback(cfg.AuthCodeURL("st", opts...))
			if err != nil {
				t.Fatal(err)
			}
			if q.Get("state") != "st" || q.Get("iss") != p.Issuer || q.Get("code") == "" {
				t.Fatalf("callback %v: want code, state st and iss %s", q, p.Issuer)
			}
			if tc.secret != "" {
				cfg.ClientSecret = tc.secret
			}
			if tc.redirect != "" {
				cfg.RedirectURL = tc.redirect
			}
			v := verifier
			if tc.verifier != nil {
				v = tc.verifier(verifier)
			}
			var exOpts []oauth2.AuthCodeOption
			if v != "" {
				exOpts = append(exOpts, oauth2.VerifierOption(v))
			}
			tok, err := cfg.Exchange(ctx(t), q.Get("code"), exOpts...)
			if tc.reuse && err == nil {
				tok, err = cfg.Exchange(ctx(t), q.Get("code"), exOpts...)
			}
			got := ""
			if re, ok := err.(*oauth2.RetrieveError); ok {
				got = re.ErrorCode
			} else if err != nil {
				t.Fatalf("Exchange() = %v", err)
			}
			if got != tc.want {
				t.Errorf("Exchange() error %q, want %q", got, tc.want)
			}
			if tc.want == "" && (tok == nil || tok.Extra("id_token") == nil) {
				t.Errorf("Exchange() = %v, want an ID token", tok)
			}
		})
	}
}

func TestAuthorizeRefusesUnknownClient(t *testing.T) {
	p := New(Options{RedirectURIs: []string{"https://client.example/cb"}})
	defer p.Close()
	for _, q := range []url.Values{
		{"client_id": {"other"}, "redirect_uri": {"https://client.example/cb"}, "response_type": {"code"}},
		{"client_id": {p.ClientID}, "redirect_uri": {"https://evil.example/cb"}, "response_type": {"code"}},
	} {
		if _, err := Callback(p.Issuer + "/authorize?" + q.Encode()); err == nil || !strings.Contains(err.Error(), "400") {
			t.Errorf("authorize(%v) = %v, want a 400 page and no redirect", q, err)
		}
	}
}

func TestGitHubFake(t *testing.T) {
	g := NewGitHub(GitHubOptions{})
	defer g.Close()
	cfg := &oauth2.Config{ClientID: g.ClientID, ClientSecret: g.ClientSecret, RedirectURL: "https://client.example/cb",
		Endpoint: oauth2.Endpoint{AuthURL: g.AuthURL(), TokenURL: g.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}
	q, err := Callback(cfg.AuthCodeURL("st"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(ctx(t), q.Get("code"))
	if err != nil {
		t.Fatalf("Exchange() = %v", err)
	}
	if !strings.HasPrefix(tok.AccessToken, "gho_") {
		t.Errorf("access token %q, want a gho_ token", tok.AccessToken)
	}
	// GitHub's 200-with-error answer is an error to the client.
	if _, err := cfg.Exchange(ctx(t), q.Get("code")); err == nil {
		t.Error("Exchange(used code) succeeded")
	}
	req, _ := http.NewRequest("GET", g.URL+"/user/emails", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var emails []map[string]any
	json.NewDecoder(resp.Body).Decode(&emails)
	if len(emails) != 1 || emails[0]["primary"] != true || emails[0]["verified"] != true {
		t.Errorf("/user/emails = %v", emails)
	}
	resp2, _ := http.Get(g.URL + "/user")
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Errorf("/user without a token: status %d, want 401", resp2.StatusCode)
	}
	resp2.Body.Close()
}

func ctx(t *testing.T) context.Context { return t.Context() }
