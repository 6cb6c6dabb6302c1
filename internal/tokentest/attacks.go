package tokentest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// Attack is one forged token.
type Attack struct {
	Name  string // what the forgery tries, prefixed with its checklist ID
	Token string
}

// Option adds attacks that need more than the valid token and its key.
type Option func(*options)

type options struct {
	retiredID string
	retired   crypto.Signer
}

// WithRetiredKey adds a token signed by a key that is no longer published
// (JW-15): kid is its key ID, key its private half.
func WithRetiredKey(kid string, key crypto.Signer) Option {
	return func(o *options) { o.retiredID, o.retired = kid, key }
}

// attackerKeys are keys the attacker owns. RSA key generation is slow, so
// they are made once per test binary; they are never modified.
var attackerKeys = sync.OnceValue(func() struct {
	ed    ed25519.PrivateKey
	p256  *ecdsa.PrivateKey
	p384  *ecdsa.PrivateKey
	rsa   *rsa.PrivateKey
	certs []string // x5c: a self-signed certificate for p256
} {
	var k struct {
		ed    ed25519.PrivateKey
		p256  *ecdsa.PrivateKey
		p384  *ecdsa.PrivateKey
		rsa   *rsa.PrivateKey
		certs []string
	}
	var err error
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		panic(err)
	}
	if k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	if k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		panic(err)
	}
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Gatehouse signing key"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.p256.Public(), k.p256)
	if err != nil {
		panic(err)
	}
	k.certs = []string{base64.StdEncoding.EncodeToString(der)}
	return k
})

// Attacks returns the forged tokens of the JWT attack catalogue, built from
// valid (a token the verifier under test accepts), pub (the public key that
// verifies it, as the JWKS publishes it) and priv (its private half, for
// forgeries that are correctly signed but wrong in another way). Every one of
// them must be refused, without a panic.
//
// Time-based attacks are placed relative to the valid token's "iat", so the
// verifier's clock should be near it. One token holds a line break, which
// encoding/base64 skips and an HTTP client refuses to send in a header: a
// test over HTTP may skip the attacks whose token strings.ContainsAny "\r\n". The jku and x5u attacks point at a
// listener on 127.0.0.1 that Attacks starts; when t ends, t fails if any
// connection reached it.
func Attacks(t testing.TB, valid string, pub crypto.PublicKey, priv crypto.Signer, opts ...Option) []Attack {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	parts := strings.Split(valid, ".")
	if len(parts) != 3 {
		t.Fatalf("tokentest.Attacks: valid token has %d segments", len(parts))
	}
	h0, p0, s0 := parts[0], parts[1], parts[2]
	var hdr map[string]any
	decodeSegment(t, h0, &hdr)
	var claims map[string]any
	decodeSegment(t, p0, &claims)
	kid, _ := hdr["kid"].(string)
	alg := algorithmOf(pub)
	iat := time.Now().Unix()
	if n, ok := claims["iat"].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			iat = v
		}
	}
	sig := mustDecode(t, s0)
	ak := attackerKeys()

	var out []Attack
	seen := map[string]bool{}
	add := func(name, token string) {
		if seen[name] {
			t.Fatalf("tokentest: two attacks named %q", name)
		}
		seen[name] = true
		out = append(out, Attack{Name: name, Token: token})
	}
	// withClaims returns the valid claims changed by f, as JSON.
	withClaims := func(f func(map[string]any)) []byte {
		c := make(map[string]any, len(claims))
		for k, v := range claims {
			c[k] = v
		}
		f(c)
		return mustJSON(t, c)
	}
	// signed signs payload with the real key, under the real kid and
	// typ unless header overrides them (a nil value removes a member).
	signed := func(header map[string]any, payload []byte) string {
		h := map[string]any{"kid": kid, "typ": "at+jwt"}
		for k, v := range header {
			if v == nil {
				delete(h, k)
			} else {
				h[k] = v
			}
		}
		return signJOSE(t, jose.SignatureAlgorithm(alg), cryptosigner.Opaque(priv), h, payload, false)
	}
	rawHeader := func(v any) string { return b64(mustJSON(t, v)) }

	// JW-01: alg none, in four spellings, with and without a signature.
	for _, none := range []string{"none", "None", "NONE", "nOnE"} {
		add("JW-01 alg "+none+", empty signature", rawHeader(map[string]any{"alg": none, "typ": "JWT"})+"."+p0+".")
		add("JW-01 alg "+none+", signature kept", rawHeader(map[string]any{"alg": none, "kid": kid, "typ": "at+jwt"})+"."+p0+"."+s0)
	}

	// JW-02: stripped signature; payload tampered under the old signature;
	// one bit flipped in each segment.
	add("JW-02 signature stripped", h0+"."+p0+".")
	tampered := map[string]func(map[string]any){
		"sub":   func(c map[string]any) { c["sub"] = "someone-else" },
		"roles": func(c map[string]any) { c["roles"] = []string{"admin"} },
		"exp":   func(c map[string]any) { c["exp"] = iat + 365*24*3600 },
	}
	for _, name := range []string{"sub", "roles", "exp"} {
		add("JW-02 "+name+" changed, old signature", h0+"."+b64(withClaims(tampered[name]))+"."+s0)
	}
	for i, seg := range []string{h0, p0, s0} {
		name := [...]string{"header", "payload", "signature"}[i]
		b := mustDecode(t, seg)
		for _, at := range []int{0, len(b) / 2, len(b) - 1} {
			flipped := bytes.Clone(b)
			flipped[at] ^= 0x01
			s := []string{h0, p0, s0}
			s[i] = b64(flipped)
			add("JW-02 bit flipped in "+name+" byte "+itoa(at), strings.Join(s, "."))
		}
	}

	// JW-03: HS256 keyed with the public key's bytes, in the forms a
	// confused verifier might hold it.
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pemSPKI := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})
	secrets := []struct {
		name string
		key  []byte
	}{
		{"PEM SPKI", pemSPKI},
		{"PEM SPKI without newline", bytes.TrimRight(pemSPKI, "\n")},
		{"PEM with PKCS#1 label", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: spki})},
		{"DER SPKI", spki},
		{"raw key bytes", rawPublicBytes(t, pub)},
		{"JWK JSON", mustJWK(t, pub, kid, alg)},
	}
	for _, s := range secrets {
		for _, hs := range []jose.SignatureAlgorithm{jose.HS256, jose.HS384, jose.HS512} {
			if len(s.key)*8 < map[jose.SignatureAlgorithm]int{jose.HS256: 256, jose.HS384: 384, jose.HS512: 512}[hs] {
				continue // go-jose refuses keys shorter than the hash
			}
			tok := signJOSE(t, hs, s.key, map[string]any{"kid": kid, "typ": "at+jwt"}, mustDecode(t, p0), false)
			add("JW-03 "+string(hs)+" keyed with "+s.name, tok)
		}
	}

	// JW-04: re-signed under algorithms the attacker controls.
	for _, a := range []struct {
		alg jose.SignatureAlgorithm
		key crypto.Signer
	}{
		{jose.RS256, ak.rsa}, {jose.RS512, ak.rsa}, {jose.PS256, ak.rsa},
		{jose.ES384, ak.p384}, {jose.ES256, ak.p256}, {jose.EdDSA, ak.ed},
	} {
		tok := signJOSE(t, a.alg, cryptosigner.Opaque(a.key), map[string]any{"kid": kid, "typ": "at+jwt"}, mustDecode(t, p0), false)
		add("JW-04 re-signed "+string(a.alg)+" with an attacker key", tok)
	}

	// JW-05: the attacker's key embedded in the header.
	add("JW-05 embedded jwk, no kid",
		signJOSE(t, jose.EdDSA, cryptosigner.Opaque(ak.ed), map[string]any{"typ": "at+jwt"}, mustDecode(t, p0), true))
	add("JW-05 embedded jwk with the real kid",
		signJOSE(t, jose.EdDSA, cryptosigner.Opaque(ak.ed), map[string]any{"typ": "at+jwt", "kid": kid}, mustDecode(t, p0), true))
	add("JW-05 x5c with an attacker certificate",
		signJOSE(t, jose.ES256, cryptosigner.Opaque(ak.p256), map[string]any{"typ": "at+jwt", "x5c": ak.certs}, mustDecode(t, p0), false))
	add("JW-05 x5c with an attacker certificate and the real kid",
		signJOSE(t, jose.ES256, cryptosigner.Opaque(ak.p256), map[string]any{"typ": "at+jwt", "kid": kid, "x5c": ak.certs}, mustDecode(t, p0), false))

	// JW-06: remote key URLs, pointing at a listener that must stay
	// silent.
	url := trap(t)
	for _, member := range []string{"jku", "x5u"} {
		add("JW-06 "+member+" to 127.0.0.1, attacker kid",
			signJOSE(t, jose.EdDSA, cryptosigner.Opaque(ak.ed), map[string]any{"typ": "at+jwt", "kid": "attacker", member: url}, mustDecode(t, p0), false))
		add("JW-06 "+member+" to 127.0.0.1, real kid",
			signJOSE(t, jose.EdDSA, cryptosigner.Opaque(ak.ed), map[string]any{"typ": "at+jwt", "kid": kid, member: url}, mustDecode(t, p0), false))
	}

	// JW-07: kid injection, with HS256 under an empty and a NUL key (which
	// go-jose refuses to produce, so the HMAC is computed here), with the
	// attacker's key, and with the real key.
	kids := []string{"../../../../dev/null", "../../../../../../dev/null", "/dev/null", "' UNION SELECT 'k'--", "$(id)", "unknown-" + rand.Text()[:8], ""}
	for _, k := range kids {
		label := k
		if label == "" {
			label = "(empty)"
		}
		for _, secret := range [][]byte{{}, {0}} {
			h := rawHeader(map[string]any{"alg": "HS256", "kid": k, "typ": "at+jwt"})
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(h + "." + p0))
			add("JW-07 kid "+label+", HS256 with a "+itoa(len(secret))+"-byte key", h+"."+p0+"."+b64(m.Sum(nil)))
		}
		add("JW-07 kid "+label+", attacker EdDSA key",
			signJOSE(t, jose.EdDSA, cryptosigner.Opaque(ak.ed), map[string]any{"typ": "at+jwt", "kid": k}, mustDecode(t, p0), false))
		add("JW-07 kid "+label+", real key", signed(map[string]any{"kid": k}, mustDecode(t, p0)))
	}
	add("JW-07 no kid, real key", signed(map[string]any{"kid": nil}, mustDecode(t, p0)))

	// JW-08: time claims, correctly signed.
	add("JW-08 expired 120 s ago", signed(nil, withClaims(func(c map[string]any) { c["exp"] = iat - 120 })))
	add("JW-08 nbf 600 s ahead", signed(nil, withClaims(func(c map[string]any) { c["nbf"] = iat + 600 })))
	add("JW-08 iat 3600 s ahead", signed(nil, withClaims(func(c map[string]any) { c["iat"] = iat + 3600; c["exp"] = iat + 7200 })))
	add("JW-08 no exp", signed(nil, withClaims(func(c map[string]any) { delete(c, "exp") })))
	add("JW-08 exp not a number", signed(nil, withClaims(func(c map[string]any) { c["exp"] = "tomorrow" })))
	add("JW-08 exp huge", signed(nil, withClaims(func(c map[string]any) { c["exp"] = 1e300 })))

	// JW-09: issuer and audience, correctly signed.
	add("JW-09 wrong iss", signed(nil, withClaims(func(c map[string]any) { c["iss"] = "https://evil.example" })))
	add("JW-09 no iss", signed(nil, withClaims(func(c map[string]any) { delete(c, "iss") })))
	add("JW-09 no aud", signed(nil, withClaims(func(c map[string]any) { delete(c, "aud") })))
	add("JW-09 aud other-api", signed(nil, withClaims(func(c map[string]any) { c["aud"] = "other-api" })))
	add("JW-09 aud empty list", signed(nil, withClaims(func(c map[string]any) { c["aud"] = []string{} })))
	add("JW-09 no sub", signed(nil, withClaims(func(c map[string]any) { delete(c, "sub") })))
	add("JW-09 no sid", signed(nil, withClaims(func(c map[string]any) { delete(c, "sid") })))
	add("JW-09 sub not a string", signed(nil, withClaims(func(c map[string]any) { c["sub"] = 42 })))

	// JW-10: crit, correctly signed.
	add("JW-10 crit x-unknown", signed(map[string]any{"crit": []string{"x-unknown"}, "x-unknown": 1}, mustDecode(t, p0)))
	add("JW-10 crit exp", signed(map[string]any{"crit": []string{"exp"}}, mustDecode(t, p0)))
	add("JW-10 crit b64", signed(map[string]any{"crit": []string{"b64"}, "b64": true}, mustDecode(t, p0)))

	// JW-11: explicit typing, correctly signed.
	add("JW-11 typ JWT", signed(map[string]any{"typ": "JWT"}, mustDecode(t, p0)))
	add("JW-11 no typ", signed(map[string]any{"typ": nil}, mustDecode(t, p0)))
	add("JW-11 typ id_token+jwt", signed(map[string]any{"typ": "id_token+jwt"}, mustDecode(t, p0)))
	add("JW-11 typ at+jwt with cty", signed(map[string]any{"cty": "JWT"}, mustDecode(t, p0)))

	// JW-12: ECDSA r = s = 0 ("psychic signatures") and r = s = n.
	es := rawHeader(map[string]any{"alg": "ES256", "kid": kid, "typ": "at+jwt"})
	n := elliptic.P256().Params().N.FillBytes(make([]byte, 32))
	add("JW-12 ES256 signature of zeros", es+"."+p0+"."+strings.Repeat("A", 86))
	add("JW-12 ES256 DER r=s=0", es+"."+p0+".MAYCAQACAQA")
	add("JW-12 ES256 r=s=n", es+"."+p0+"."+b64(append(bytes.Clone(n), n...)))
	add("JW-12 EdDSA signature of zeros", rawHeader(map[string]any{"alg": "EdDSA", "kid": kid, "typ": "at+jwt"})+"."+p0+"."+strings.Repeat("A", 86))

	// JW-13: duplicate members, correctly signed.
	payload := mustDecode(t, p0)
	add("JW-13 duplicate sub", signed(nil, append([]byte(`{"sub":"attacker",`), payload[1:]...)))
	add("JW-13 duplicate sub, escaped", signed(nil, append([]byte(`{"s\u0075b":"attacker",`), payload[1:]...)))
	add("JW-13 duplicate roles", signed(nil, append([]byte(`{"roles":["admin"],`), payload[1:]...)))
	add("JW-13 duplicate member in a nested object", signed(nil, append([]byte(`{"x":{"a":1,"a":2},`), payload[1:]...)))
	dupAlg := []byte(`{"alg":"none","alg":"` + alg + `","kid":` + string(mustJSON(t, kid)) + `,"typ":"at+jwt"}`)
	add("JW-13 duplicate alg", signRaw(t, priv, dupAlg, payload))
	dupKid := []byte(`{"alg":"` + alg + `","kid":"attacker","kid":` + string(mustJSON(t, kid)) + `,"typ":"at+jwt"}`)
	add("JW-13 duplicate kid", signRaw(t, priv, dupKid, payload))

	// JW-14: shape, encoding and size.
	add("JW-14 four segments", valid+".e30")
	add("JW-14 five segments (JWE)", rawHeader(map[string]any{"alg": "dir", "enc": "A256GCM", "kid": kid})+"..AAAAAAAAAAAAAAAA."+p0+".AAAAAAAAAAAAAAAAAAAAAA")
	add("JW-14 two segments", h0+"."+p0)
	add("JW-14 one segment", h0)
	add("JW-14 empty", "")
	add("JW-14 only dots", "..")
	add("JW-14 bad base64 in header", "!"+h0[1:]+"."+p0+"."+s0)
	add("JW-14 standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(valid)+"+/")
	add("JW-14 padded signature", valid+"==")
	add("JW-14 line break in payload", h0+"."+p0[:10]+"\n"+p0[10:]+"."+s0)
	add("JW-14 space inside the payload", h0+"."+p0[:10]+" "+p0[10:]+"."+s0)
	add("JW-14 non-canonical trailing bits", h0+"."+p0+"."+nonCanonical(s0))
	add("JW-14 non-JSON header", b64([]byte("not json"))+"."+p0+"."+s0)
	add("JW-14 header is an array", b64([]byte(`["alg"]`))+"."+p0+"."+s0)
	add("JW-14 header is null", b64([]byte(`null`))+"."+p0+"."+s0)
	add("JW-14 non-JSON payload", signed(nil, []byte("not json")))
	add("JW-14 payload is an array", signed(nil, []byte(`[1,2,3]`)))
	add("JW-14 payload with trailing data", signed(nil, append(bytes.Clone(payload), []byte(`{}`)...)))
	add("JW-14 nested 2000 deep", signed(nil, append([]byte(`{"x":`+strings.Repeat("[", 2000)+strings.Repeat("]", 2000)+`,`), payload[1:]...)))
	add("JW-14 nested 10000 deep", signed(nil, append([]byte(`{"x":`+strings.Repeat("[", 10000)+strings.Repeat("]", 10000)+`,`), payload[1:]...)))
	add("JW-14 header nested deep", b64([]byte(`{"alg":`+strings.Repeat("[", 1000)+strings.Repeat("]", 1000)+`}`))+"."+p0+"."+s0)
	add("JW-14 1 MiB token", strings.Repeat("a", 1<<20))
	add("JW-14 1 MiB payload", h0+"."+strings.Repeat("A", 1<<20)+"."+s0)
	add("JW-14 JSON serialization", string(mustJSON(t, map[string]string{"protected": h0, "payload": p0, "signature": s0})))
	add("JW-14 signature too short", h0+"."+p0+"."+b64(sig[:len(sig)-1]))
	add("JW-14 signature too long", h0+"."+p0+"."+b64(append(bytes.Clone(sig), 0)))

	// JW-15: a key no longer published.
	if o.retired != nil {
		add("JW-15 signed by a retired key past its grace period",
			signJOSE(t, jose.SignatureAlgorithm(algorithmOf(o.retired.Public())), cryptosigner.Opaque(o.retired),
				map[string]any{"kid": o.retiredID, "typ": "at+jwt"}, payload, false))
	}
	return out
}

// trap starts a listener on 127.0.0.1 and returns a JWKS URL on it. When t
// ends, t fails if anything connected: a verifier must never fetch keys a
// token points at.
func trap(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tokentest: listen: %v", err)
	}
	var conns atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		if n := conns.Load(); n > 0 {
			t.Errorf("jku/x5u: %d connection(s) reached the attacker's key URL; the verifier fetched a key a token pointed at", n)
		}
	})
	return "http://" + ln.Addr().String() + "/jwks.json"
}

func decodeSegment(t testing.TB, seg string, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(mustDecode(t, seg)))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("tokentest: valid token segment: %v", err)
	}
}

func mustDecode(t testing.TB, seg string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("tokentest: valid token segment: %v", err)
	}
	return b
}

// nonCanonical sets an unused trailing bit of a base64url segment, which
// decodes to the same bytes under a lax decoder.
func nonCanonical(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 == 0 {
		return seg + "A" // no unused bits: make the length impossible instead
	}
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last|1])
}

func rawPublicBytes(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return k
	case *ecdsa.PublicKey:
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("tokentest: unsupported public key %T", pub)
	return nil
}

func mustJWK(t testing.TB, pub crypto.PublicKey, kid, alg string) []byte {
	t.Helper()
	b, err := jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func itoa(n int) string { return strconv.Itoa(n) }
