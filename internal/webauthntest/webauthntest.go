// Package webauthntest is a software WebAuthn authenticator, with the browser
// around it, for Gatehouse's tests: it reads the options a relying party
// sends to navigator.credentials.create() and get() and answers with the JSON
// a browser would post back (WebAuthn L3 §5.1, the toJSON() forms), signed
// with ES256 keys it generates.
//
// Options change exactly one part of an answer and still sign the result
// correctly, so that a refused answer shows that the check for that one part
// works: the origin, the ceremony type, the challenge, crossOrigin and
// topOrigin, the RP ID hash, the flags, the signature counter, the user
// handle, the credential ID, the key's algorithm and the signature bytes.
//
// It is for tests only: keys live in memory and nothing is protected.
package webauthntest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
)

// Flags of the authenticator data (WebAuthn L3 §6.1, table "flags").
const (
	FlagUP byte = 0x01 // user present
	FlagUV byte = 0x04 // user verified
	FlagBE byte = 0x08 // backup eligible
	FlagBS byte = 0x10 // backup state
	FlagAT byte = 0x40 // attested credential data included
	FlagED byte = 0x80 // extension data included
)

// COSE algorithm identifiers (RFC 9053 §2.1, IANA "COSE Algorithms").
const (
	AlgES256  = -7
	AlgES256K = -47
)

// ZeroES256Signature is the DER encoding of the ECDSA signature r = 0, s = 0
// ("MAYCAQACAQA" in base64), which a verifier that forgets the range check
// accepts for any message and key (CVE-2022-21449).
var ZeroES256Signature = []byte{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00}

// FlipLastByte returns a copy of b with the bits of its last byte inverted;
// pass it to WithSignature to spoil a signature.
func FlipLastByte(b []byte) []byte {
	out := bytes.Clone(b)
	if len(out) > 0 {
		out[len(out)-1] ^= 0xff
	}
	return out
}

// Credential is a key pair the authenticator made for one relying party and
// user.
type Credential struct {
	ID         []byte
	Key        *ecdsa.PrivateKey
	RPID       string
	UserHandle []byte
	// SignCount is the last counter value the authenticator reported.
	SignCount uint32
	// BackupEligible and BackupState are the BE and BS flags it reports.
	BackupEligible, BackupState bool
}

// Authenticator holds credentials and answers ceremonies. Its fields are read
// when a credential is created; set them before calling Create.
type Authenticator struct {
	// Origin is the origin the browser puts in the client data, e.g.
	// "https://auth.example.com".
	Origin string
	// AAGUID names the authenticator model. Default: all zeros.
	AAGUID [16]byte
	// BackupEligible and BackupState are the BE and BS flags of new
	// credentials. New sets both, as a synced passkey has them.
	BackupEligible, BackupState bool
	// Counter makes each assertion count up from the last value, as a
	// device-bound security key does. Without it the counter is always 0, as
	// it is for synced passkeys.
	Counter bool
	// Attestation is the attestation statement format of new credentials:
	// "none" (the default) or "packed" (self attestation, L3 §8.2).
	Attestation string
	// Attachment is "platform" (the default) or "cross-platform".
	Attachment string

	mu    sync.Mutex
	creds []*Credential
}

// New returns an authenticator behind a browser at origin that makes synced
// passkeys: BE and BS set, no signature counter, attestation "none".
func New(origin string) *Authenticator {
	return &Authenticator{Origin: origin, BackupEligible: true, BackupState: true}
}

// Credentials returns the credentials the authenticator holds, oldest first.
func (a *Authenticator) Credentials() []*Credential {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*Credential(nil), a.creds...)
}

// Option changes one part of an answer.
type Option func(*answer)

type answer struct {
	origin       *string
	typ          *string
	challenge    []byte
	crossOrigin  bool
	topOrigin    string
	rpID         *string
	setFlags     byte
	clearFlags   byte
	signCount    *uint32
	userHandle   *[]byte
	credentialID []byte
	alg          *int
	signature    func([]byte) []byte
	credential   *Credential
}

// WithOrigin reports origin in the client data instead of the
// authenticator's Origin.
func WithOrigin(origin string) Option { return func(a *answer) { a.origin = &origin } }

// WithType reports typ as the client data type instead of "webauthn.create"
// or "webauthn.get".
func WithType(typ string) Option { return func(a *answer) { a.typ = &typ } }

// WithChallenge reports challenge in the client data instead of the one in
// the options.
func WithChallenge(challenge []byte) Option { return func(a *answer) { a.challenge = challenge } }

// WithCrossOrigin reports crossOrigin: true, as a browser does for a
// ceremony inside a cross-origin iframe.
func WithCrossOrigin() Option { return func(a *answer) { a.crossOrigin = true } }

// WithTopOrigin reports topOrigin in the client data.
func WithTopOrigin(origin string) Option { return func(a *answer) { a.topOrigin = origin } }

// WithRPID makes the authenticator data carry the hash of rpID instead of the
// options' RP ID.
func WithRPID(rpID string) Option { return func(a *answer) { a.rpID = &rpID } }

// SetFlags sets flags in the authenticator data.
func SetFlags(flags byte) Option { return func(a *answer) { a.setFlags |= flags } }

// ClearFlags clears flags in the authenticator data.
func ClearFlags(flags byte) Option { return func(a *answer) { a.clearFlags |= flags } }

// WithSignCount reports n as the signature counter.
func WithSignCount(n uint32) Option { return func(a *answer) { a.signCount = &n } }

// WithUserHandle reports handle as the assertion's user handle instead of the
// credential's; nil leaves the user handle out.
func WithUserHandle(handle []byte) Option { return func(a *answer) { a.userHandle = &handle } }

// WithCredentialID makes Create use id as the new credential's ID instead of
// 32 random bytes.
func WithCredentialID(id []byte) Option { return func(a *answer) { a.credentialID = id } }

// WithAlgorithm makes Create label the new ES256 key with the COSE algorithm
// alg, in the key and in publicKeyAlgorithm.
func WithAlgorithm(alg int) Option { return func(a *answer) { a.alg = &alg } }

// WithSignature passes the signature (the assertion's, or the packed
// attestation's) through fn before it is sent.
func WithSignature(fn func(sig []byte) []byte) Option { return func(a *answer) { a.signature = fn } }

// WithCredential makes Get answer with c, whatever the options allow.
func WithCredential(c *Credential) Option { return func(a *answer) { a.credential = c } }

var b64 = base64.RawURLEncoding

// bytesJSON is a byte string in JSON as base64url, the encoding of the
// toJSON() forms; it also reads standard base64 with padding.
type bytesJSON []byte

// MarshalJSON writes b as a base64url string.
func (b bytesJSON) MarshalJSON() ([]byte, error) { return json.Marshal(b64.EncodeToString(b)) }

// UnmarshalJSON reads a base64url or standard base64 string.
func (b *bytesJSON) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if v, err := enc.DecodeString(s); err == nil {
			*b = v
			return nil
		}
	}
	return fmt.Errorf("webauthntest: %q is not base64", s)
}

type descriptor struct {
	Type string    `json:"type"`
	ID   bytesJSON `json:"id"`
}

// creationOptions is the part of PublicKeyCredentialCreationOptionsJSON
// (L3 §5.4) an authenticator reads.
type creationOptions struct {
	RP struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rp"`
	User struct {
		ID   bytesJSON `json:"id"`
		Name string    `json:"name"`
	} `json:"user"`
	Challenge bytesJSON `json:"challenge"`
	Params    []struct {
		Type string `json:"type"`
		Alg  int    `json:"alg"`
	} `json:"pubKeyCredParams"`
	Exclude []descriptor `json:"excludeCredentials"`
}

// requestOptions is the part of PublicKeyCredentialRequestOptionsJSON
// (L3 §5.5) an authenticator reads.
type requestOptions struct {
	Challenge bytesJSON    `json:"challenge"`
	RPID      string       `json:"rpId"`
	Allow     []descriptor `json:"allowCredentials"`
}

// unwrap accepts the options alone or wrapped as {"publicKey": {...}}.
func unwrap(options []byte) []byte {
	var w struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if json.Unmarshal(options, &w) == nil && len(w.PublicKey) > 0 {
		return w.PublicKey
	}
	return options
}

// clientData builds clientDataJSON (L3 §5.8.1) in the key order browsers use.
func (a *Authenticator) clientData(typ string, challenge []byte, ans *answer) []byte {
	if ans.typ != nil {
		typ = *ans.typ
	}
	if ans.challenge != nil {
		challenge = ans.challenge
	}
	origin := a.Origin
	if ans.origin != nil {
		origin = *ans.origin
	}
	cd := struct {
		Type        string `json:"type"`
		Challenge   string `json:"challenge"`
		Origin      string `json:"origin"`
		CrossOrigin bool   `json:"crossOrigin"`
		TopOrigin   string `json:"topOrigin,omitempty"`
	}{typ, b64.EncodeToString(challenge), origin, ans.crossOrigin, ans.topOrigin}
	out, _ := json.Marshal(cd)
	return out
}

func (a *Authenticator) rpID(optionsRPID string) (string, error) {
	if optionsRPID != "" {
		return optionsRPID, nil
	}
	// Without an RP ID the browser uses the origin's effective domain.
	u, err := url.Parse(a.Origin)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("webauthntest: no RP ID in the options and no host in origin %q", a.Origin)
	}
	return u.Hostname(), nil
}

// authData builds the authenticator data (L3 §6.1): the RP ID hash, flags,
// the counter, and the attested credential data when there is one.
func authData(rpID string, flags byte, count uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append(bytes.Clone(h[:]), flags)
	out = binary.BigEndian.AppendUint32(out, count)
	return append(out, attested...)
}

func (ans *answer) flags(base byte) byte { return (base | ans.setFlags) &^ ans.clearFlags }

func sign(key *ecdsa.PrivateKey, authData, clientDataJSON []byte) []byte {
	cdh := sha256.Sum256(clientDataJSON)
	digest := sha256.Sum256(append(bytes.Clone(authData), cdh[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return sig
}

// coseKey encodes an EC2 P-256 public key as a COSE_Key (RFC 9053 §7.1.1),
// in CTAP2 canonical key order: 1 (kty), 3 (alg), -1 (crv), -2 (x), -3 (y).
func coseKey(pub *ecdsa.PublicKey, alg int) []byte {
	point, err := pub.Bytes() // 0x04 || x || y
	if err != nil {
		panic(err)
	}
	return cborEncode(cborMap{{1, 2}, {3, alg}, {-1, 1}, {-2, point[1:33]}, {-3, point[33:65]}})
}

// ErrExcluded is what Create returns when the authenticator already holds a
// credential in the options' excludeCredentials; a browser reports it as
// InvalidStateError.
var ErrExcluded = errors.New("webauthntest: the authenticator holds an excluded credential")

// ErrNoCredential is what Get returns when the authenticator holds no
// credential the options allow; a browser reports it as NotAllowedError.
var ErrNoCredential = errors.New("webauthntest: no credential for these options")

// Create answers creation options (PublicKeyCredentialCreationOptionsJSON,
// alone or as {"publicKey": …}) as navigator.credentials.create() would,
// with a new ES256 credential, and returns the JSON of the
// PublicKeyCredential (its toJSON() form) and the credential.
func (a *Authenticator) Create(options []byte, opts ...Option) ([]byte, *Credential, error) {
	var o creationOptions
	if err := json.Unmarshal(unwrap(options), &o); err != nil {
		return nil, nil, fmt.Errorf("webauthntest: read creation options: %w", err)
	}
	ans := &answer{}
	for _, opt := range opts {
		opt(ans)
	}
	rpID, err := a.rpID(o.RP.ID)
	if err != nil {
		return nil, nil, err
	}
	es256 := false
	for _, p := range o.Params {
		es256 = es256 || p.Type == "public-key" && p.Alg == AlgES256
	}
	if !es256 {
		return nil, nil, errors.New("webauthntest: the options do not offer ES256")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ex := range o.Exclude {
		for _, c := range a.creds {
			if c.RPID == rpID && bytes.Equal(c.ID, ex.ID) {
				return nil, nil, ErrExcluded
			}
		}
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	id := ans.credentialID
	if id == nil {
		id = make([]byte, 32)
		rand.Read(id)
	}
	cred := &Credential{ID: id, Key: key, RPID: rpID, UserHandle: bytes.Clone(o.User.ID),
		BackupEligible: a.BackupEligible, BackupState: a.BackupState}
	alg := AlgES256
	if ans.alg != nil {
		alg = *ans.alg
	}

	base := FlagUP | FlagUV | FlagAT
	if cred.BackupEligible {
		base |= FlagBE
	}
	if cred.BackupState {
		base |= FlagBS
	}
	var count uint32
	if ans.signCount != nil {
		count = *ans.signCount
	}
	if a.Counter {
		cred.SignCount = count
	}
	pub := coseKey(&key.PublicKey, alg)
	attested := append(bytes.Clone(a.AAGUID[:]), byte(len(id)>>8), byte(len(id)))
	attested = append(attested, id...)
	attested = append(attested, pub...)
	if ans.rpID != nil {
		rpID = *ans.rpID
	}
	ad := authData(rpID, ans.flags(base), count, attested)
	cdj := a.clientData("webauthn.create", o.Challenge, ans)

	var attStmt cborMap
	format := a.Attestation
	switch format {
	case "", "none":
		format, attStmt = "none", cborMap{}
	case "packed":
		// Self attestation: signed by the credential key itself (L3 §8.2).
		sig := sign(key, ad, cdj)
		if ans.signature != nil {
			sig = ans.signature(sig)
		}
		attStmt = cborMap{{"alg", alg}, {"sig", sig}}
	default:
		return nil, nil, fmt.Errorf("webauthntest: unknown attestation format %q", format)
	}
	attObj := cborEncode(cborMap{{"fmt", format}, {"attStmt", attStmt}, {"authData", ad}})
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}

	resp := map[string]any{
		"id":                      b64.EncodeToString(id),
		"rawId":                   bytesJSON(id),
		"type":                    "public-key",
		"authenticatorAttachment": a.attachment(),
		"response": map[string]any{
			"clientDataJSON":     bytesJSON(cdj),
			"attestationObject":  bytesJSON(attObj),
			"authenticatorData":  bytesJSON(ad),
			"transports":         []string{"hybrid", "internal"},
			"publicKeyAlgorithm": alg,
			"publicKey":          bytesJSON(spki),
		},
		"clientExtensionResults": map[string]any{},
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return nil, nil, err
	}
	a.creds = append(a.creds, cred)
	return out, cred, nil
}

func (a *Authenticator) attachment() string {
	if a.Attachment == "" {
		return "platform"
	}
	return a.Attachment
}

// Get answers request options (PublicKeyCredentialRequestOptionsJSON, alone
// or as {"publicKey": …}) as navigator.credentials.get() would, and returns
// the JSON of the PublicKeyCredential (its toJSON() form). It signs with the
// first allowed credential it holds, or, when the options allow any (a
// discoverable login), with its newest credential for the RP ID.
func (a *Authenticator) Get(options []byte, opts ...Option) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(unwrap(options), &o); err != nil {
		return nil, fmt.Errorf("webauthntest: read request options: %w", err)
	}
	ans := &answer{}
	for _, opt := range opts {
		opt(ans)
	}
	rpID, err := a.rpID(o.RPID)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cred := ans.credential
	if cred == nil {
		cred = a.find(rpID, o.Allow)
	}
	if cred == nil {
		return nil, ErrNoCredential
	}

	base := FlagUP | FlagUV
	if cred.BackupEligible {
		base |= FlagBE
	}
	if cred.BackupState {
		base |= FlagBS
	}
	var count uint32
	if a.Counter {
		count = cred.SignCount + 1
	}
	if ans.signCount != nil {
		count = *ans.signCount
	}
	if a.Counter {
		cred.SignCount = count
	}
	if ans.rpID != nil {
		rpID = *ans.rpID
	}
	ad := authData(rpID, ans.flags(base), count, nil)
	cdj := a.clientData("webauthn.get", o.Challenge, ans)
	sig := sign(cred.Key, ad, cdj)
	if ans.signature != nil {
		sig = ans.signature(sig)
	}
	handle := cred.UserHandle
	if ans.userHandle != nil {
		handle = *ans.userHandle
	}
	response := map[string]any{
		"clientDataJSON":    bytesJSON(cdj),
		"authenticatorData": bytesJSON(ad),
		"signature":         bytesJSON(sig),
	}
	if handle != nil {
		response["userHandle"] = bytesJSON(handle)
	}
	return json.Marshal(map[string]any{
		"id":                      b64.EncodeToString(cred.ID),
		"rawId":                   bytesJSON(cred.ID),
		"type":                    "public-key",
		"authenticatorAttachment": a.attachment(),
		"response":                response,
		"clientExtensionResults":  map[string]any{},
	})
}

// find returns the first allowed credential for rpID, or the newest one when
// allow is empty. The caller holds a.mu.
func (a *Authenticator) find(rpID string, allow []descriptor) *Credential {
	if len(allow) == 0 {
		for i := len(a.creds) - 1; i >= 0; i-- {
			if a.creds[i].RPID == rpID {
				return a.creds[i]
			}
		}
		return nil
	}
	for _, d := range allow {
		for _, c := range a.creds {
			if c.RPID == rpID && bytes.Equal(c.ID, d.ID) {
				return c
			}
		}
	}
	return nil
}
