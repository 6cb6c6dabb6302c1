package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// PasskeyRPID returns the WebAuthn relying party ID: Passkey.RPID, or the
// public URL's host name when that is empty. It returns "" when neither gives
// one (the public URL's host is an IP address, which WebAuthn does not allow
// as an RP ID): passkeys are then off.
func (c *Config) PasskeyRPID() string {
	if c.Passkey.RPID != "" {
		return c.Passkey.RPID
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || net.ParseIP(host) != nil {
		return ""
	}
	return host
}

// PasskeyOrigins returns the origins that may run passkey ceremonies:
// Passkey.Origins, or the public URL's origin when that is empty.
func (c *Config) PasskeyOrigins() []string {
	if len(c.Passkey.Origins) > 0 {
		return append([]string(nil), c.Passkey.Origins...)
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || u.Host == "" {
		return nil
	}
	return []string{strings.ToLower(u.Scheme + "://" + u.Host)}
}

// checkRPID accepts "" or a lowercase host name that is the public URL's host
// or a suffix of it on a label boundary (WebAuthn L3 §5.1.3 lets a page use
// its own host or a registrable suffix of it as the RP ID).
func checkRPID(rpID, publicURL string) string {
	if rpID == "" {
		return ""
	}
	if rpID != strings.ToLower(rpID) || net.ParseIP(rpID) != nil || strings.HasPrefix(rpID, ".") ||
		strings.HasSuffix(rpID, ".") || strings.Contains(rpID, "..") ||
		strings.ContainsFunc(rpID, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') }) {
		return fmt.Sprintf("%q: must be a lowercase host name without scheme or port, e.g. auth.example.com", rpID)
	}
	u, err := url.Parse(publicURL)
	if err != nil {
		return "" // public_url reports its own problem
	}
	host := strings.ToLower(u.Hostname())
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return fmt.Sprintf("%q: must be the public URL's host %q or a suffix of it, or browsers refuse passkeys on Gatehouse's own pages", rpID, host)
	}
	return ""
}

// checkPasskeyOrigin accepts an origin, as checkOrigin does, on the relying
// party ID or a subdomain of it, and https unless on localhost (which
// browsers treat as a secure context).
func (c *Config) checkPasskeyOrigin(o string) string {
	if p := checkOrigin(o); p != "" {
		return p
	}
	rpID := c.PasskeyRPID()
	if rpID == "" {
		return fmt.Sprintf("%q: set passkey.rp_id as well; the public URL's host is an IP address, which cannot be an RP ID", o)
	}
	u, _ := url.Parse(o)
	host := u.Hostname()
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return fmt.Sprintf("%q: must be on the relying party ID %q or a subdomain of it", o, rpID)
	}
	if u.Scheme != "https" && host != "localhost" && !strings.HasSuffix(host, ".localhost") {
		return fmt.Sprintf("%q: must use https (http only on localhost), since browsers allow passkeys only in secure contexts", o)
	}
	return ""
}
