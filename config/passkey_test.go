package config_test

import (
	"slices"
	"testing"

	"github.com/gatehouse-dev/gatehouse/config"
)

func TestPasskeyKeys(t *testing.T) {
	tests := []struct {
		name        string
		change      func(c *config.Config)
		wantErr     string // "" for valid
		wantRPID    string
		wantOrigins []string
	}{
		{"default: from the public URL", func(c *config.Config) {}, "", "localhost", []string{"http://localhost:8080"}},
		{"https public URL", func(c *config.Config) { c.PublicURL = "https://Auth.Example.com/gh" }, "",
			"auth.example.com", []string{"https://auth.example.com"}},
		{"IP public URL: off", func(c *config.Config) { c.PublicURL = "http://127.0.0.1:8080" }, "", "", []string{"http://127.0.0.1:8080"}},
		{"registrable suffix", func(c *config.Config) {
			c.PublicURL = "https://auth.example.com"
			c.Passkey.RPID = "example.com"
			c.Passkey.Origins = []string{"https://auth.example.com", "https://app.example.com"}
		}, "", "example.com", []string{"https://auth.example.com", "https://app.example.com"}},
		{"rp_id not on the public URL", func(c *config.Config) {
			c.PublicURL = "https://auth.example.com"
			c.Passkey.RPID = "evil.example"
		}, `passkey.rp_id: "evil.example": must be the public URL's host "auth.example.com" or a suffix of it, or browsers refuse passkeys on Gatehouse's own pages`, "", nil},
		{"rp_id a partial label", func(c *config.Config) {
			c.PublicURL = "https://auth.example.com"
			c.Passkey.RPID = "ample.com"
		}, `passkey.rp_id: "ample.com": must be the public URL's host "auth.example.com" or a suffix of it, or browsers refuse passkeys on Gatehouse's own pages`, "", nil},
		{"rp_id with a port", func(c *config.Config) { c.Passkey.RPID = "localhost:8080" },
			`passkey.rp_id: "localhost:8080": must be a lowercase host name without scheme or port, e.g. auth.example.com`, "", nil},
		{"rp_id an IP address", func(c *config.Config) { c.PublicURL = "http://127.0.0.1:8080"; c.Passkey.RPID = "127.0.0.1" },
			`passkey.rp_id: "127.0.0.1": must be a lowercase host name without scheme or port, e.g. auth.example.com`, "", nil},
		{"origin on another site", func(c *config.Config) { c.Passkey.Origins = []string{"https://evil.example"} },
			`passkey.origins: "https://evil.example": must be on the relying party ID "localhost" or a subdomain of it`, "", nil},
		{"plain http origin", func(c *config.Config) {
			c.PublicURL = "https://auth.example.com"
			c.Passkey.Origins = []string{"http://auth.example.com"}
		}, `passkey.origins: "http://auth.example.com": must use https (http only on localhost), since browsers allow passkeys only in secure contexts`, "", nil},
		{"origin with a path", func(c *config.Config) { c.Passkey.Origins = []string{"http://localhost:8080/login"} },
			`passkey.origins: "http://localhost:8080/login": must be an origin, scheme://host[:port] with nothing after`, "", nil},
		{"origins without an RP ID", func(c *config.Config) {
			c.PublicURL = "http://127.0.0.1:8080"
			c.Passkey.Origins = []string{"http://localhost:8080"}
		}, `passkey.origins: "http://localhost:8080": set passkey.rp_id as well; the public URL's host is an IP address, which cannot be an RP ID`, "", nil},
		{"user verification preferred", func(c *config.Config) { c.Passkey.UserVerification = "preferred" }, "", "localhost", []string{"http://localhost:8080"}},
		{"user verification unknown", func(c *config.Config) { c.Passkey.UserVerification = "always" },
			`passkey.user_verification: "always": must be one of required, preferred, discouraged`, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.change(&c)
			got := ""
			if err := c.Validate(); err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Fatalf("Validate() = %q, want %q", got, tt.wantErr)
			}
			if got != "" {
				return
			}
			if rp := c.PasskeyRPID(); rp != tt.wantRPID {
				t.Errorf("PasskeyRPID() = %q, want %q", rp, tt.wantRPID)
			}
			if o := c.PasskeyOrigins(); !slices.Equal(o, tt.wantOrigins) {
				t.Errorf("PasskeyOrigins() = %q, want %q", o, tt.wantOrigins)
			}
		})
	}
}
