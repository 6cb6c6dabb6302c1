package ratelimit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// DeviceCookie is the name under which the web layer keeps a device token in
// the browser. The token names one account, so a browser that signs in to a
// second account trades the first account's token for the second's.
const DeviceCookie = "gatehouse_device"

// DefaultDeviceMaxAge is the default of [Device.MaxAge]: 400 days, the
// longest lifetime browsers give a cookie (RFC 6265bis caps Expires and
// Max-Age at 400 days).
const DefaultDeviceMaxAge = 400 * 24 * time.Hour

const (
	// devicePrefix starts every device token: "gd" for Gatehouse device,
	// then the format version, so a token is recognisable in logs and a
	// later format can be told apart.
	devicePrefix = "gd1."
	deviceIDLen  = 16
	// A token is the prefix, the payload (device ID and issue time, 24
	// bytes), a dot, and the HMAC-SHA-256 (32 bytes), both in unpadded
	// base64url.
	devicePayloadLen = deviceIDLen + 8
	deviceTokenLen   = len(devicePrefix) + 32 + 1 + 43
)

// b64 is base64url without padding, refusing non-canonical encodings, so
// that one token has exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

// Device issues and checks device tokens: the proof, kept in a cookie, that
// a browser has signed in to an account before. A request that carries a
// valid token for the account it tries to sign in to is counted against
// that device's own allowance instead of the account's (see [Policy]), so
// that an attacker guessing an account's password does not lock its owner
// out of the devices the owner already uses.
//
// A token is
//
//	gd1.<base64url(device ID ‖ issue time)>.<base64url(HMAC-SHA-256(k, "gd1" ‖ device ID ‖ issue time ‖ user ID))>
//
// with a random 128-bit device ID, the issue time in Unix seconds as 8
// big-endian bytes, and k derived from the secret given to [NewDevice]. The
// user ID is covered by the MAC but not carried, so a token is useless for
// any other account and names no account by itself. Tokens hold no
// server-side state: a token stops working when it is older than MaxAge or
// when the secret changes, and cannot be revoked one by one. Someone who
// steals one gains the device's allowance for that one account (by default
// 10 guesses per 15 minutes), never a way in.
//
// Set MaxAge and Now, if at all, before the first call; a Device is then
// safe for concurrent use.
type Device struct {
	// MaxAge is how long a token is valid after it is issued. Default:
	// DefaultDeviceMaxAge (400 days).
	MaxAge time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time

	key []byte
}

// NewDevice returns a Device whose tokens are authenticated with a key
// derived from secret, which must be at least 32 bytes and must be the same
// on every node. It may be the server's master secret: the derived key is
// used for nothing else.
func NewDevice(secret []byte) (*Device, error) {
	if len(secret) < 32 {
		return nil, errors.New("ratelimit: device secret is shorter than 32 bytes")
	}
	return &Device{
		MaxAge: DefaultDeviceMaxAge,
		Now:    time.Now,
		key:    derive(secret, "gatehouse ratelimit device token v1"),
	}, nil
}

// derive returns a key for one purpose from a secret.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Issue returns a new device token for userID, with a new device ID, for the
// web layer to set as the [DeviceCookie] cookie after a successful sign-in.
// It returns "" for an empty userID.
func (d *Device) Issue(userID string) string {
	if userID == "" {
		return ""
	}
	var id [deviceIDLen]byte
	rand.Read(id[:]) // never fails (crypto/rand, Go 1.24)
	return d.issue(userID, id, d.Now())
}

func (d *Device) issue(userID string, id [deviceIDLen]byte, at time.Time) string {
	var payload [devicePayloadLen]byte
	copy(payload[:], id[:])
	binary.BigEndian.PutUint64(payload[deviceIDLen:], uint64(at.Unix()))
	return devicePrefix + b64.EncodeToString(payload[:]) + "." + b64.EncodeToString(d.mac(payload[:], userID))
}

func (d *Device) mac(payload []byte, userID string) []byte {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(devicePrefix[:len(devicePrefix)-1]))
	m.Write(payload)
	m.Write([]byte(userID))
	return m.Sum(nil)
}

// Valid reports whether token is a device token that d issued for userID
// no longer than MaxAge ago, and if so returns its device ID (22 characters
// of base64url). Anything else, including an empty token or userID, is
// simply not valid: a bad cookie is treated as no cookie. The MAC is
// compared in constant time.
func (d *Device) Valid(token, userID string) (deviceID string, ok bool) {
	payload, mac, ok := parseDevice(token)
	if !ok {
		return "", false
	}
	// The MAC is computed even for an empty userID, so that the time a
	// well-formed token takes does not depend on whether an account was
	// found for the identifier.
	if !hmac.Equal(mac, d.mac(payload, userID)) || userID == "" {
		return "", false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(payload[deviceIDLen:])), 0)
	if age := d.Now().Sub(issued); age > d.MaxAge {
		return "", false
	}
	return b64.EncodeToString(payload[:deviceIDLen]), true
}

// parseDevice splits a token into its payload and MAC. It checks only the
// form, not the MAC.
func parseDevice(token string) (payload, mac []byte, ok bool) {
	if len(token) != deviceTokenLen {
		return nil, nil, false
	}
	rest, ok := strings.CutPrefix(token, devicePrefix)
	if !ok {
		return nil, nil, false
	}
	p, m, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, nil, false
	}
	payload, err := b64.DecodeString(p)
	if err != nil || len(payload) != devicePayloadLen {
		return nil, nil, false
	}
	mac, err = b64.DecodeString(m)
	if err != nil || len(mac) != sha256.Size {
		return nil, nil, false
	}
	return payload, mac, true
}
