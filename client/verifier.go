package client

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/json"
	"github.com/go-jose/go-jose/v4/jwt"
)

// MaxTokenSize is the longest token Verify looks at, in bytes. Gatehouse's
// tokens are well under 2 KiB; the bound keeps an attacker's tokens from
// costing more than a few microseconds to refuse.
const MaxTokenSize = 8 << 10

// signatureAlgorithms are the algorithms go-jose may parse; the key found by
// "kid" then narrows them to one. It is never modified.
var signatureAlgorithms = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}

// A Verifier verifies Gatehouse access tokens offline, against a key set the
// caller supplies. It is safe for concurrent use. A Client wraps one with
// key fetching and revocation; the Gatehouse server uses one directly over
// its own keys, so both sides share one verification path.
type Verifier struct {
	keys     KeySet
	issuer   string
	audience []string
	leeway   time.Duration
	now      func() time.Time
	// cache remembers tokens that verified, so that presenting one again
	// costs a map lookup instead of a signature check (cache.go).
	cache verifiedCache
}

// NewVerifier returns a Verifier of tokens issued by issuer (compared exactly
// with "iss") for at least one of audience (which defaults to the issuer when
// empty), signed by keys from keys. Of the options, only WithLeeway and
// WithClock apply; WithAudience is overridden by audience.
func NewVerifier(keys KeySet, issuer string, audience []string, opts ...Option) *Verifier {
	cfg := newConfig(opts)
	if len(audience) == 0 {
		audience = []string{issuer}
	}
	return &Verifier{
		keys:     keys,
		issuer:   issuer,
		audience: append([]string(nil), audience...),
		leeway:   cfg.leeway,
		now:      cfg.now,
	}
}

// Verify checks raw as described in the package documentation and returns
// its claims. Errors match one of the package's sentinel errors with
// errors.Is.
func (v *Verifier) Verify(raw string) (*Claims, error) {
	// RFC 8725 §3: bound the work an attacker can cause before anything
	// else; 1 MiB tokens are refused without being read.
	if len(raw) > MaxTokenSize {
		return nil, ErrTooLarge
	}
	if c, ok, err := v.cached(raw); ok {
		return c, err
	}
	header, err := checkCompact(raw)
	if err != nil {
		return nil, err
	}
	if err := checkHeader(header); err != nil {
		return nil, err
	}

	// go-jose parses the JWS; the algorithms listed are the only ones it
	// will parse at all, and the key decides below which one is right.
	jws, err := jose.ParseSignedCompact(raw, signatureAlgorithms)
	if err != nil {
		var unexpected *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &unexpected) {
			return nil, fmt.Errorf("%w: algorithm %q not accepted", ErrSignature, truncate(string(unexpected.Got)))
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: want one signature", ErrMalformed)
	}
	h := jws.Signatures[0].Protected

	// RFC 9068 §2.1 and RFC 8725 §3.11: explicit typing keeps other JWTs
	// (ID tokens, other services' tokens) from passing as access tokens.
	// RFC 7515 §4.1.9: "typ" compares case-insensitively, and the
	// "application/" prefix may be present or not.
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, fmt.Errorf("%w: typ %q is not at+jwt", ErrMalformed, truncate(typ))
	}

	// RFC 8725 §3.1 and §2.9: the key ID is looked up in the key set and
	// nowhere else, and the key found decides the algorithm.
	if h.KeyID == "" {
		return nil, fmt.Errorf("%w: no kid", ErrUnknownKey)
	}
	if v.keys == nil {
		return nil, ErrUnknownKey
	}
	key, ok := v.keys.Key(h.KeyID)
	if !ok {
		return nil, ErrUnknownKey
	}
	if !key.valid() {
		return nil, fmt.Errorf("%w: key %q is not a usable EdDSA or ES256 key", ErrUnknownKey, key.ID)
	}
	if h.Algorithm != key.Algorithm {
		return nil, fmt.Errorf("%w: alg %q, but the key signs %s", ErrSignature, truncate(h.Algorithm), key.Algorithm)
	}
	// For ES256 go-jose requires a 64-byte signature and crypto/ecdsa
	// rejects r or s of zero, so the "psychic signature" (CVE-2022-21449)
	// fails here.
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, ErrSignature
	}

	if err := checkJSON(payload, maxPayloadDepth, nil); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	if err := v.checkClaims(&w); err != nil {
		return nil, err
	}
	c := w.claims()
	v.remember(raw, &c, key)
	return &c, nil
}

func (v *Verifier) checkClaims(w *wireClaims) error {
	// RFC 8725 §3.8, §3.9.
	if w.Issuer != v.issuer {
		return fmt.Errorf("%w: %q", ErrIssuer, truncate(w.Issuer))
	}
	if len(w.Audience) == 0 {
		return fmt.Errorf("%w: no aud", ErrAudience)
	}
	// RFC 9068 §2.2 makes exp, iat and sub required; Gatehouse adds sid,
	// which revocation needs.
	switch {
	case w.Expiry == nil:
		return fmt.Errorf("%w: no exp", ErrMalformed)
	case w.IssuedAt == nil:
		return fmt.Errorf("%w: no iat", ErrMalformed)
	case w.Subject == "":
		return fmt.Errorf("%w: no sub", ErrMalformed)
	case w.SessionID == "":
		return fmt.Errorf("%w: no sid", ErrMalformed)
	}
	err := w.registered().ValidateWithLeeway(jwt.Expected{
		AnyAudience: v.audience,
		Time:        v.now(),
	}, v.leeway)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrInvalidAudience):
		return ErrAudience
	case errors.Is(err, jwt.ErrExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrNotValidYet):
		return fmt.Errorf("%w: nbf in the future", ErrNotYetValid)
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return fmt.Errorf("%w: iat in the future", ErrNotYetValid)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// checkCompact checks that raw is three segments of canonical unpadded
// base64url (RFC 7515 §2, §7.1; RFC 4648 §5) and returns the decoded header.
//
// go-jose decodes with encoding/base64, which skips line breaks, and then
// verifies the signature over a re-encoding of what it decoded, so without
// this check several strings would pass as one token. A fourth or fifth
// segment (JWE, RFC 7516 §7.1) is refused here too.
func checkCompact(raw string) ([]byte, error) {
	var dots [2]int
	n := 0
	for i := 0; i < len(raw); i++ {
		b := raw[i]
		if b == '.' {
			if n == len(dots) {
				return nil, fmt.Errorf("%w: more than three segments", ErrMalformed)
			}
			dots[n] = i
			n++
			continue
		}
		if base64URLValue(b) < 0 {
			return nil, fmt.Errorf("%w: character %q outside base64url", ErrMalformed, b)
		}
	}
	if n != len(dots) {
		return nil, fmt.Errorf("%w: want three segments", ErrMalformed)
	}
	segments := [3]string{raw[:dots[0]], raw[dots[0]+1 : dots[1]], raw[dots[1]+1:]}
	for _, s := range segments {
		if s == "" {
			return nil, fmt.Errorf("%w: empty segment", ErrMalformed)
		}
		if !canonicalBase64URL(s) {
			return nil, fmt.Errorf("%w: segment not canonical base64url", ErrMalformed)
		}
	}
	header, err := base64.RawURLEncoding.Strict().DecodeString(segments[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	return header, nil
}

// canonicalBase64URL reports whether s, made of base64url characters only,
// is of a possible length and has its unused trailing bits zero.
func canonicalBase64URL(s string) bool {
	switch len(s) % 4 {
	case 0:
		return true
	case 1:
		return false
	case 2: // 12 bits for 1 byte: the last character's low 4 bits are unused
		return base64URLValue(s[len(s)-1])&0x0f == 0
	default: // 18 bits for 2 bytes: the low 2 bits are unused
		return base64URLValue(s[len(s)-1])&0x03 == 0
	}
}

func base64URLValue(b byte) int {
	switch {
	case 'A' <= b && b <= 'Z':
		return int(b - 'A')
	case 'a' <= b && b <= 'z':
		return int(b-'a') + 26
	case '0' <= b && b <= '9':
		return int(b-'0') + 52
	case b == '-':
		return 62
	case b == '_':
		return 63
	}
	return -1
}

// checkHeader refuses duplicate members and every member but "alg", "kid"
// and "typ", before go-jose parses the header. That refuses "crit" (RFC 7515
// §4.1.11: Gatehouse understands no extension, so any listed one is
// unsupported) and every header that carries or points at a key ("jwk",
// "jku", "x5u", "x5c", RFC 8725 §3.10), so go-jose never parses an
// attacker's certificate and nothing is ever fetched.
func checkHeader(header []byte) error {
	err := checkJSON(header, maxHeaderDepth, func(name []byte) error {
		switch string(name) {
		case "alg", "kid", "typ":
			return nil
		}
		return fmt.Errorf("%w: header member %q not accepted", ErrMalformed, truncate(string(name)))
	})
	if err != nil && !errors.Is(err, ErrMalformed) {
		err = fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	return err
}

// truncate shortens attacker-supplied text quoted in error messages.
func truncate(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
