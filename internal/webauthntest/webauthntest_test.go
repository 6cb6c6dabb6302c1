package webauthntest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
)

// Vectors from RFC 8949 Appendix A.
func TestCBORVectors(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{0, "00"}, {1, "01"}, {10, "0a"}, {23, "17"}, {24, "1818"}, {25, "1819"}, {100, "1864"},
		{1000, "1903e8"}, {1000000, "1a000f4240"}, {1000000000000, "1b000000e8d4a51000"},
		{-1, "20"}, {-10, "29"}, {-100, "3863"}, {-1000, "3903e7"},
		{[]byte{}, "40"}, {[]byte{1, 2, 3, 4}, "4401020304"},
		{"", "60"}, {"a", "6161"}, {"IETF", "6449455446"}, {"\u00fc", "62c3bc"},
		{cborMap{}, "a0"}, {cborMap{{1, 2}, {3, 4}}, "a201020304"},
		{cborMap{{"a", "A"}, {"b", "B"}, {"c", "C"}, {"d", "D"}, {"e", "E"}}, "a56161614161626142616361436164614461656145"},
	} {
		if got := hex.EncodeToString(cborEncode(tc.v)); got != tc.want {
			t.Errorf("cborEncode(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

const (
	testCreation = `{"rp":{"id":"localhost","name":"Gatehouse"},"user":{"id":"dXNlci1oYW5kbGU","name":"alice"},
		"challenge":"Y2hhbGxlbmdlLWNoYWxsZW5nZQ","pubKeyCredParams":[{"type":"public-key","alg":-7}]}`
	testRequest = `{"publicKey":{"challenge":"bG9naW4tY2hhbGxlbmdl","rpId":"localhost"}}`
)

type credentialJSON struct {
	ID       string
	RawID    bytesJSON `json:"rawId"`
	Type     string
	Response struct {
		ClientDataJSON    bytesJSON
		AuthenticatorData bytesJSON
		AttestationObject bytesJSON
		PublicKey         bytesJSON
		Signature         bytesJSON
		UserHandle        *bytesJSON
	}
}

type clientDataJSON struct {
	Type, Challenge, Origin, TopOrigin string
	CrossOrigin                        bool
}

// The answers are checked here with the standard library only, against the
// layout of L3 §6.1 and §5.8.1, independently of any relying party.
func TestCreateAndGet(t *testing.T) {
	a := New("https://localhost:8443")
	a.Counter = true
	body, cred, err := a.Create([]byte(testCreation))
	if err != nil {
		t.Fatal(err)
	}
	var c credentialJSON
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	ad := c.Response.AuthenticatorData
	rpHash := sha256.Sum256([]byte("localhost"))
	if c.Type != "public-key" || !bytes.Equal(c.RawID, cred.ID) || !bytes.Equal(ad[:32], rpHash[:]) ||
		ad[32] != FlagUP|FlagUV|FlagBE|FlagBS|FlagAT || !bytes.Equal(ad[55:55+32], cred.ID) ||
		binary.BigEndian.Uint16(ad[53:55]) != 32 || string(cred.UserHandle) != "user-handle" {
		t.Errorf("Create() = %s", body)
	}
	if !bytes.Contains(c.Response.AttestationObject, ad) {
		t.Error("attestation object does not hold the authenticator data")
	}
	pub, err := x509.ParsePKIXPublicKey(c.Response.PublicKey)
	if err != nil || !pub.(*ecdsa.PublicKey).Equal(&cred.Key.PublicKey) {
		t.Errorf("publicKey = %v, %v; want the credential's key", pub, err)
	}

	for _, tc := range []struct {
		name      string
		opts      []Option
		flags     byte
		count     uint32
		validSig  bool
		wantType  string
		wantCross bool
	}{
		{"plain", nil, FlagUP | FlagUV | FlagBE | FlagBS, 1, true, "webauthn.get", false},
		{"no UV", []Option{ClearFlags(FlagUV)}, FlagUP | FlagBE | FlagBS, 2, true, "webauthn.get", false},
		{"counter 10", []Option{WithSignCount(10)}, FlagUP | FlagUV | FlagBE | FlagBS, 10, true, "webauthn.get", false},
		{"counts on from 10", nil, FlagUP | FlagUV | FlagBE | FlagBS, 11, true, "webauthn.get", false},
		{"type", []Option{WithType("webauthn.create")}, FlagUP | FlagUV | FlagBE | FlagBS, 12, true, "webauthn.create", false},
		{"cross origin", []Option{WithCrossOrigin()}, FlagUP | FlagUV | FlagBE | FlagBS, 13, true, "webauthn.get", true},
		{"bad signature", []Option{WithSignature(FlipLastByte)}, FlagUP | FlagUV | FlagBE | FlagBS, 14, false, "webauthn.get", false},
	} {
		body, err := a.Get([]byte(testRequest), tc.opts...)
		if err != nil {
			t.Fatalf("Get(%s) = %v", tc.name, err)
		}
		var g credentialJSON
		json.Unmarshal(body, &g)
		ad := g.Response.AuthenticatorData
		var cd clientDataJSON
		json.Unmarshal(g.Response.ClientDataJSON, &cd)
		cdh := sha256.Sum256(g.Response.ClientDataJSON)
		digest := sha256.Sum256(append(bytes.Clone(ad), cdh[:]...))
		valid := ecdsa.VerifyASN1(&cred.Key.PublicKey, digest[:], g.Response.Signature)
		if len(ad) != 37 || ad[32] != tc.flags || binary.BigEndian.Uint32(ad[33:]) != tc.count || valid != tc.validSig ||
			cd.Type != tc.wantType || cd.CrossOrigin != tc.wantCross || cd.Challenge != "bG9naW4tY2hhbGxlbmdl" ||
			cd.Origin != "https://localhost:8443" || g.Response.UserHandle == nil || string(*g.Response.UserHandle) != "user-handle" {
			t.Errorf("Get(%s): flags %02x, counter %d, signature valid %v, client data %+v; want %02x, %d, %v",
				tc.name, ad[32], binary.BigEndian.Uint32(ad[33:]), valid, cd, tc.flags, tc.count, tc.validSig)
		}
	}

	// The exclude list and the allow list are honoured.
	excl := `{"rp":{"id":"localhost"},"user":{"id":"eA"},"challenge":"eA","pubKeyCredParams":[{"type":"public-key","alg":-7}],
		"excludeCredentials":[{"type":"public-key","id":"` + c.ID + `"}]}`
	if _, _, err := a.Create([]byte(excl)); !errors.Is(err, ErrExcluded) {
		t.Errorf("Create(excluded) = %v, want ErrExcluded", err)
	}
	other := `{"challenge":"eA","rpId":"localhost","allowCredentials":[{"type":"public-key","id":"AAAA"}]}`
	if _, err := a.Get([]byte(other)); !errors.Is(err, ErrNoCredential) {
		t.Errorf("Get(other credential) = %v, want ErrNoCredential", err)
	}
}
