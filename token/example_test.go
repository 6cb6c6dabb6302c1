package token_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/gatehouse-dev/gatehouse/client"
	"github.com/gatehouse-dev/gatehouse/token"
)

// In these examples, store stands for the SQL store (an
// auth.SigningKeyStore) and sealer for the master key (masterkey.Key).

func ExampleNewKeyring() {
	store, sealer := newMemStore(), newSealer()
	k, err := token.NewKeyring(context.Background(), store, sealer, token.Config{
		Issuer:    "https://auth.example.com",
		Algorithm: token.EdDSA,
		AccessTTL: 15 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	// The first key was created and stored.
	keys := k.Keys()
	fmt.Println(len(keys), keys[0].Algorithm, keys[0].Active)
	// Output: 1 EdDSA true
}

func ExampleKeyring_Issue() {
	k, err := token.NewKeyring(context.Background(), newMemStore(), newSealer(),
		token.Config{Issuer: "https://auth.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	raw, exp, err := k.Issue(client.Claims{
		Subject:   "user-1",
		SessionID: "sess-1",
		Roles:     []string{"user"},
		Username:  "ada",
		Email:     "ada@example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(raw != "", time.Until(exp).Round(time.Minute))
	// Output: true 15m0s
}

func ExampleKeyring_Verify() {
	k, err := token.NewKeyring(context.Background(), newMemStore(), newSealer(),
		token.Config{Issuer: "https://auth.example.com"})
	if err != nil {
		log.Fatal(err)
	}
	raw, _, _ := k.Issue(client.Claims{Subject: "user-1", SessionID: "sess-1", Roles: []string{"admin"}})
	claims, err := k.Verify(raw)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Subject, claims.HasRole("admin"), claims.Issuer)
	// Output: user-1 true https://auth.example.com
}

func ExampleKeyring_JWKS() {
	k, err := token.NewKeyring(context.Background(), newMemStore(), newSealer(),
		token.Config{Issuer: "https://auth.example.com", Algorithm: token.ES256})
	if err != nil {
		log.Fatal(err)
	}
	// Serve k.JWKS() at /.well-known/jwks.json.
	var doc struct {
		Keys []struct {
			Kty, Crv, Alg, Use string
			D                  string `json:"d"`
		}
	}
	json.Unmarshal(k.JWKS(), &doc)
	key := doc.Keys[0]
	fmt.Println(key.Kty, key.Crv, key.Alg, key.Use, key.D == "")
	// Output: EC P-256 ES256 sig true
}

func ExampleKeyring_Rotate() {
	clk := newClock()
	k, err := token.NewKeyring(context.Background(), newMemStore(), newSealer(),
		token.Config{Issuer: "https://auth.example.com", Now: clk.Now})
	if err != nil {
		log.Fatal(err)
	}
	before, _, _ := k.Issue(client.Claims{Subject: "user-1", SessionID: "sess-1"})

	clk.Add(time.Minute)
	if err := k.Rotate(context.Background()); err != nil {
		log.Fatal(err)
	}
	_, err = k.Verify(before)
	fmt.Println("token of the retired key:", err)
	for _, ki := range k.Keys() {
		fmt.Println(ki.Active, ki.PublishUntil.Sub(ki.RetiredAt))
	}
	// Output:
	// token of the retired key: <nil>
	// true 0s
	// false 16m0s
}

func ExampleKeyring_Reload() {
	store, sealer := newMemStore(), newSealer()
	cfg := token.Config{Issuer: "https://auth.example.com"}
	node1, _ := token.NewKeyring(context.Background(), store, sealer, cfg)
	node2, _ := token.NewKeyring(context.Background(), store, sealer, cfg)

	// node1 rotates; node2 picks the new key up when it reloads, which
	// every node should do periodically.
	node1.Rotate(context.Background())
	if err := node2.Reload(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(node1.Keys()[0].ID == node2.Keys()[0].ID)
	// Output: true
}

func ExampleKeyring_Keys() {
	k, err := token.NewKeyring(context.Background(), newMemStore(), newSealer(),
		token.Config{Issuer: "https://auth.example.com", Algorithm: token.ES256})
	if err != nil {
		log.Fatal(err)
	}
	for _, ki := range k.Keys() {
		fmt.Println(len(ki.ID), ki.Algorithm, ki.Active, ki.RetiredAt.IsZero())
	}
	// Output: 22 ES256 true true
}
