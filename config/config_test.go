package config_test

import (
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/config"
)

// envFrom returns a lookup function over m, so tests never touch the process
// environment.
func envFrom(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// parseFlags returns a flag set defined by RegisterFlags and parsed from args.
func parseFlags(t *testing.T, args ...string) *flag.FlagSet {
	t.Helper()
	fs := flag.NewFlagSet("gatehouse", flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	config.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("Parse(%q) = %v", args, err)
	}
	return fs
}

// writeConfig writes content to gatehouse.yaml in a fresh working directory,
// so that error messages name the file as a user would see it.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	t.Chdir(t.TempDir())
	if err := os.WriteFile("gatehouse.yaml", []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return "gatehouse.yaml"
}

func boolPtr(b bool) *bool { return &b }

func TestDefault(t *testing.T) {
	c, err := config.Load("", nil, nil)
	if err != nil {
		t.Fatalf("Load(\"\", nil, nil) = %v, want no error", err)
	}
	if diff := cmp.Diff(config.Default(), *c); diff != "" {
		t.Errorf("Load with no layers differs from Default() (-want +got):\n%s", diff)
	}
	d := config.Default()
	if err := d.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v, want nil", err)
	}

	// The defaults that api.md and the issue fix, as Keys reports them.
	want := map[string]string{
		"listen":                          "127.0.0.1:8080",
		"public_url":                      "http://localhost:8080",
		"database_url":                    "sqlite://./gatehouse.db",
		"redis_url":                       "",
		"smtp_url":                        "",
		"mail_from":                       "Gatehouse <no-reply@localhost>",
		"secret_key":                      "",
		"data_dir":                        ".",
		"dev":                             "auto",
		"product_name":                    "Gatehouse",
		"log.level":                       "info",
		"log.format":                      "auto",
		"http.read_header_timeout":        "5s",
		"http.read_timeout":               "15s",
		"http.write_timeout":              "30s",
		"http.idle_timeout":               "2m",
		"http.shutdown_timeout":           "15s",
		"http.max_body_bytes":             "65536",
		"http.trusted_proxies":            "",
		"http.allowed_origins":            "",
		"password.argon2_memory_kib":      "19456",
		"password.argon2_iterations":      "2",
		"password.argon2_parallelism":     "1",
		"password.min_length":             "8",
		"password.max_length":             "256",
		"users.default_roles":             "user",
		"session.idle_timeout":            "2h",
		"session.absolute_timeout":        "24h",
		"session.remember_for":            "336h",
		"session.cookie_domain":           "",
		"token.access_ttl":                "15m",
		"token.refresh_ttl":               "720h",
		"audit.retention":                 "2160h",
		"ui.accent_color":                 "",
		"ui.logo_url":                     "",
		"token.algorithm":                 "EdDSA",
		"token.audience":                  "",
		"token.key_rotation":              "720h",
		"setup.link_ttl":                  "1h",
		"passkey.rp_id":                   "",
		"passkey.origins":                 "",
		"passkey.user_verification":       "required",
		"email.verification":              "optional",
		"email.verify_ttl":                "24h",
		"email.reset_ttl":                 "1h",
		"email.login":                     "true",
		"email.login_sign_up":             "true",
		"email.login_ttl":                 "15m",
		"password.hash_workers":           "0",
		"password.hash_queue":             "0",
		"rate_limit.login_per_account":    "10/15m",
		"rate_limit.login_per_ip":         "50/15m",
		"rate_limit.login_per_device":     "10/15m",
		"rate_limit.register_per_ip":      "30/1h",
		"rate_limit.mail_per_address":     "5/1h",
		"rate_limit.mail_per_ip":          "30/1h",
		"rate_limit.code_per_account":     "5/15m",
		"rate_limit.invalid_token_per_ip": "50/15m",
		"rate_limit.passkey_begin_per_ip": "60/1m",
		"metrics.enabled":                 "false",
		"metrics.listen":                  "",
		"session.reauth_window":           "10m",
		"oauth.providers_file":            "",
		"mfa.required_roles":              "",
		"mfa.issuer":                      "",
	}
	got := map[string]string{}
	for _, k := range config.Keys() {
		got[k.Path] = k.Default
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Keys() defaults differ (-want +got):\n%s", diff)
	}
}

func TestDefaultIsFresh(t *testing.T) {
	a := config.Default()
	a.Users.DefaultRoles[0] = "admin"
	if got := config.Default().Users.DefaultRoles[0]; got != "user" {
		t.Errorf("Default().Users.DefaultRoles[0] = %q after changing another Default(), want %q", got, "user")
	}
}

func TestFixedEnvNames(t *testing.T) {
	// api.md fixes these names; renaming one breaks deployments.
	want := map[string]string{
		"listen":       "GATEHOUSE_LISTEN",
		"public_url":   "GATEHOUSE_PUBLIC_URL",
		"database_url": "GATEHOUSE_DATABASE_URL",
		"redis_url":    "GATEHOUSE_REDIS_URL",
		"smtp_url":     "GATEHOUSE_SMTP_URL",
		"mail_from":    "GATEHOUSE_MAIL_FROM",
		"secret_key":   "GATEHOUSE_SECRET_KEY",
		"dev":          "GATEHOUSE_DEV",
	}
	for _, k := range config.Keys() {
		if name, ok := want[k.Path]; ok && k.Env != name {
			t.Errorf("Keys(): %s has Env %q, want %q", k.Path, k.Env, name)
		}
	}
}

func TestLoadPrecedence(t *testing.T) {
	file := `
listen: 127.0.0.1:7000
public_url: https://file.example.com
redis_url: redis://file:6379/0
log:
  level: debug
  format: json
users:
  default_roles: [user, editor]
session:
  idle_timeout: 30m
  remember_for:      # no value: keeps the default
`
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want func(c *config.Config)
	}{
		{
			name: "file only",
			want: func(c *config.Config) {
				c.Listen = "127.0.0.1:7000"
				c.PublicURL = "https://file.example.com"
				c.RedisURL = "redis://file:6379/0"
				c.Log = config.Log{Level: "debug", Format: "json"}
				c.Users.DefaultRoles = []string{"user", "editor"}
				c.Session.IdleTimeout = 30 * time.Minute
			},
		},
		{
			name: "env over file",
			env: map[string]string{
				"GATEHOUSE_PUBLIC_URL":    "https://env.example.com/",
				"GATEHOUSE_LOG_LEVEL":     "warn",
				"GATEHOUSE_REDIS_URL":     "", // set but empty clears the file's value
				"GATEHOUSE_DEFAULT_ROLES": "admin, user,",
				"GATEHOUSE_DEV":           "1",
			},
			want: func(c *config.Config) {
				c.Listen = "127.0.0.1:7000"
				c.PublicURL = "https://env.example.com"
				c.Log = config.Log{Level: "warn", Format: "json"}
				c.Users.DefaultRoles = []string{"admin", "user"}
				c.Session.IdleTimeout = 30 * time.Minute
				c.Dev = boolPtr(true)
			},
		},
		{
			name: "flags over env over file",
			env: map[string]string{
				"GATEHOUSE_LISTEN":    "nonsense", // a bad value a flag replaces is never seen
				"GATEHOUSE_LOG_LEVEL": "warn",
				"GATEHOUSE_DEV":       "true",
			},
			args: []string{"--listen", ":9090", "--log-level=error", "--dev=false"},
			want: func(c *config.Config) {
				c.Listen = ":9090"
				c.PublicURL = "https://file.example.com"
				c.RedisURL = "redis://file:6379/0"
				c.Log = config.Log{Level: "error", Format: "json"}
				c.Users.DefaultRoles = []string{"user", "editor"}
				c.Session.IdleTimeout = 30 * time.Minute
				c.Dev = boolPtr(false)
			},
		},
		{
			name: "flags not given do not override",
			env:  map[string]string{"GATEHOUSE_LOG_FORMAT": "text"},
			args: []string{"--dev"},
			want: func(c *config.Config) {
				c.Listen = "127.0.0.1:7000"
				c.PublicURL = "https://file.example.com"
				c.RedisURL = "redis://file:6379/0"
				c.Log = config.Log{Level: "debug", Format: "text"}
				c.Users.DefaultRoles = []string{"user", "editor"}
				c.Session.IdleTimeout = 30 * time.Minute
				c.Dev = boolPtr(true)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, file)
			got, err := config.Load(path, envFrom(tt.env), parseFlags(t, tt.args...))
			if err != nil {
				t.Fatalf("Load(%q) = %v, want no error", path, err)
			}
			want := config.Default()
			tt.want(&want)
			if diff := cmp.Diff(want, *got); diff != "" {
				t.Errorf("Load(%q) mismatch (-want +got):\n%s", path, diff)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string // written to gatehouse.yaml when not empty
		env  map[string]string
		args []string
		want string
	}{
		// The file: shape and names.
		{
			name: "unknown key",
			file: "# Gatehouse\n\npublic_url: http://localhost:8080\nlisen: :8080\n",
			want: `config file gatehouse.yaml: line 4: unknown key "lisen" (did you mean "listen"?)`,
		},
		{
			name: "unknown nested key",
			file: "http:\n  read_timout: 5s\n",
			want: `config file gatehouse.yaml: line 2: unknown key "http.read_timout" (did you mean "http.read_timeout"?)`,
		},
		{
			name: "key in the wrong section",
			file: "read_header_timeout: 5s\n",
			want: `config file gatehouse.yaml: line 1: unknown key "read_header_timeout" (did you mean "http.read_header_timeout"?)`,
		},
		{
			name: "unknown key with nothing close",
			file: "listen: :8080\nfrobnicate: yes\n",
			want: `config file gatehouse.yaml: line 2: unknown key "frobnicate"`,
		},
		{
			name: "mapping where a string is expected",
			file: "listen:\n  host: localhost\n",
			want: `config file gatehouse.yaml: line 2: listen: expected a string, got a mapping`,
		},
		{
			name: "list where a duration is expected",
			file: "token:\n  access_ttl: [15m]\n",
			want: `config file gatehouse.yaml: line 2: token.access_ttl: expected a duration, got a list`,
		},
		{
			name: "value where a list is expected",
			file: "http:\n  trusted_proxies: 10.0.0.0/8\n",
			want: `config file gatehouse.yaml: line 2: http.trusted_proxies: expected a list, got the value "10.0.0.0/8"`,
		},
		{
			name: "mapping inside a list",
			file: "users:\n  default_roles:\n    - user\n    - {name: admin}\n",
			want: `config file gatehouse.yaml: line 4: users.default_roles: expected a list of strings, got a mapping in it`,
		},
		{
			name: "value where a section is expected",
			file: "http: 5s\n",
			want: `config file gatehouse.yaml: line 1: http: expected a mapping of keys to values, got the value "5s"`,
		},
		{
			name: "file is not a mapping",
			file: "- listen\n",
			want: `config file gatehouse.yaml: line 1: expected a mapping of keys to values, got a list`,
		},
		{
			name: "duplicate key",
			file: "listen: :8080\nlog:\n  level: info\nlisten: :9090\n",
			want: `config file gatehouse.yaml: line 4: duplicate key "listen" (first on line 1)`,
		},
		{
			name: "YAML syntax",
			file: "listen: :8080\n  public_url: x\n",
			want: `config file gatehouse.yaml: line 2: mapping values are not allowed in this context`,
		},
		{
			name: "two documents",
			file: "listen: :8080\n---\nlisten: :9090\n",
			want: `config file gatehouse.yaml: line 2: only one YAML document is allowed`,
		},

		// Values that do not parse, from each source.
		{
			name: "invalid duration in file",
			file: "session:\n  idle_timeout: abc\n",
			want: `config file gatehouse.yaml: line 2: session.idle_timeout: invalid duration "abc"`,
		},
		{
			name: "duration without unit",
			file: "http:\n  read_timeout: 5\n",
			want: `config file gatehouse.yaml: line 2: http.read_timeout: invalid duration "5" (missing unit, e.g. "5s")`,
		},
		{
			name: "invalid integer in file",
			file: "http:\n  max_body_bytes: 64KiB\n",
			want: `config file gatehouse.yaml: line 2: http.max_body_bytes: invalid integer "64KiB"`,
		},
		{
			name: "invalid dev in env",
			env:  map[string]string{"GATEHOUSE_DEV": "maybe"},
			want: `GATEHOUSE_DEV: invalid value "maybe" (use true, false or auto)`,
		},
		{
			name: "invalid dev in flag",
			args: []string{"--dev=maybe"},
			want: `--dev: invalid value "maybe" (use true, false or auto)`,
		},

		// Values that parse but break a rule, reported where they were written.
		{
			name: "negative duration in file",
			file: "http:\n  read_timeout: -5s\n",
			want: `config file gatehouse.yaml: line 2: http.read_timeout: negative duration "-5s"`,
		},
		{
			name: "public URL scheme in env",
			env:  map[string]string{"GATEHOUSE_PUBLIC_URL": "ftp://x"},
			want: `GATEHOUSE_PUBLIC_URL: "ftp://x": must be an http or https URL`,
		},
		{
			name: "public URL with a query",
			env:  map[string]string{"GATEHOUSE_PUBLIC_URL": "https://auth.example.com/?a=1"},
			want: `GATEHOUSE_PUBLIC_URL: "https://auth.example.com/?a=1": must not have a query or fragment`,
		},
		{
			name: "public URL with a fragment",
			file: "public_url: https://auth.example.com#top\n",
			want: `config file gatehouse.yaml: line 1: public_url: "https://auth.example.com#top": must not have a query or fragment`,
		},
		{
			name: "public URL without a host",
			file: "public_url: /auth\n",
			want: `config file gatehouse.yaml: line 1: public_url: "/auth": must be an http or https URL`,
		},
		{
			name: "listen in flag",
			args: []string{"--listen", "nonsense"},
			want: `--listen: "nonsense": must be host:port`,
		},
		{
			name: "listen port out of range",
			env:  map[string]string{"GATEHOUSE_LISTEN": "localhost:99999"},
			want: `GATEHOUSE_LISTEN: "localhost:99999": port must be a number from 0 to 65535`,
		},
		{
			name: "flag beats a good file value but is bad itself",
			file: "listen: :8080\n",
			args: []string{"--listen=8080"},
			want: `--listen: "8080": must be host:port`,
		},
		{
			name: "database scheme, password hidden",
			env:  map[string]string{"GATEHOUSE_DATABASE_URL": "mysql://gh:hunter2@db/gatehouse"},
			want: `GATEHOUSE_DATABASE_URL: "mysql://gh:xxxxx@db/gatehouse": must be a sqlite:// or postgres:// URL`,
		},
		{
			name: "sqlite without a file",
			file: "database_url: sqlite://\n",
			want: `config file gatehouse.yaml: line 1: database_url: "sqlite://": must name a database file, e.g. sqlite://./gatehouse.db`,
		},
		{
			name: "redis scheme",
			env:  map[string]string{"GATEHOUSE_REDIS_URL": "http://:hunter2@cache:6379"},
			want: `GATEHOUSE_REDIS_URL: "http://:xxxxx@cache:6379": must be a redis:// or rediss:// URL with a host`,
		},
		{
			name: "smtp scheme",
			env:  map[string]string{"GATEHOUSE_SMTP_URL": "mail.example.com:587"},
			want: `GATEHOUSE_SMTP_URL: "mail.example.com:587": must be an smtp:// or smtps:// URL with a host`,
		},
		{
			name: "smtp tls mode",
			env:  map[string]string{"GATEHOUSE_SMTP_URL": "smtp://u:hunter2@mail.example.com:587?tls=always"},
			want: `GATEHOUSE_SMTP_URL: "smtp://u:xxxxx@mail.example.com:587?tls=always": tls must be one of starttls, implicit, none`,
		},
		{
			name: "smtp misspelt parameter",
			args: []string{"--smtp-url", "smtp://mail.example.com?tsl=none"},
			want: `--smtp-url: "smtp://mail.example.com?tsl=none": unknown parameter "tsl" (only tls is known)`,
		},
		{
			name: "smtps with starttls",
			file: "smtp_url: smtps://mail.example.com:465?tls=starttls\n",
			want: `config file gatehouse.yaml: line 1: smtp_url: "smtps://mail.example.com:465?tls=starttls": smtps:// always uses implicit TLS; use smtp:// with tls=starttls`,
		},
		{
			name: "mail from",
			env:  map[string]string{"GATEHOUSE_MAIL_FROM": "Gatehouse"},
			want: `GATEHOUSE_MAIL_FROM: "Gatehouse": must be one address, e.g. "Example <no-reply@example.com>"`,
		},
		{
			name: "short secret key is not repeated",
			env:  map[string]string{"GATEHOUSE_SECRET_KEY": "hunter2"},
			want: `GATEHOUSE_SECRET_KEY: must be at least 32 characters, got 7`,
		},
		{
			name: "empty data dir",
			env:  map[string]string{"GATEHOUSE_DATA_DIR": ""},
			want: `GATEHOUSE_DATA_DIR: must not be empty (use "." for the working directory)`,
		},
		{
			name: "product name with a line break",
			env:  map[string]string{"GATEHOUSE_PRODUCT_NAME": "Acme\r\nBcc: x@example.com"},
			want: `GATEHOUSE_PRODUCT_NAME: "Acme\r\nBcc: x@example.com": must not contain control characters`,
		},
		{
			name: "log level",
			args: []string{"--log-level", "verbose"},
			want: `--log-level: "verbose": must be one of debug, info, warn, error`,
		},
		{
			name: "log format",
			env:  map[string]string{"GATEHOUSE_LOG_FORMAT": "xml"},
			want: `GATEHOUSE_LOG_FORMAT: "xml": must be one of auto, text, json`,
		},
		{
			name: "zero read header timeout",
			file: "http:\n  read_header_timeout: 0s\n",
			want: `config file gatehouse.yaml: line 2: http.read_header_timeout: "0s": must be greater than 0`,
		},
		{
			name: "zero body cap",
			file: "http:\n  max_body_bytes: 0\n",
			want: `config file gatehouse.yaml: line 2: http.max_body_bytes: 0: must be from 1 to 1073741824`,
		},
		{
			name: "trusted proxy",
			file: "http:\n  trusted_proxies: [10.0.0.0/8, 10.0.0.0/33]\n",
			want: `config file gatehouse.yaml: line 2: http.trusted_proxies: "10.0.0.0/33": must be an IP address or CIDR prefix, e.g. 10.0.0.0/8`,
		},
		{
			name: "origin with a path",
			file: "http:\n  allowed_origins: [https://app.example.com/]\n",
			want: `config file gatehouse.yaml: line 2: http.allowed_origins: "https://app.example.com/": must be an origin, scheme://host[:port] with nothing after`,
		},
		{
			name: "wildcard origin",
			file: "http:\n  allowed_origins: ['*']\n",
			want: `config file gatehouse.yaml: line 2: http.allowed_origins: "*": must be an origin, scheme://host[:port] with nothing after`,
		},
		{
			name: "origin in capitals",
			file: "http:\n  allowed_origins: [https://App.example.com]\n",
			want: `config file gatehouse.yaml: line 2: http.allowed_origins: "https://App.example.com": must be lowercase, as browsers send it`,
		},
		{
			name: "origin with default port",
			file: "http:\n  allowed_origins: [https://app.example.com:443]\n",
			want: `config file gatehouse.yaml: line 2: http.allowed_origins: "https://app.example.com:443": must leave out the default port, as browsers do`,
		},
		{
			name: "argon2 parallelism",
			file: "password:\n  argon2_parallelism: 0\n",
			want: `config file gatehouse.yaml: line 2: password.argon2_parallelism: 0: must be from 1 to 255`,
		},
		{
			name: "argon2 memory below 8 KiB per lane",
			file: "password:\n  argon2_memory_kib: 16\n  argon2_parallelism: 4\n",
			want: `config file gatehouse.yaml: line 2: password.argon2_memory_kib: 16: must be from 32 to 4194304`,
		},
		{
			name: "min length above max length",
			file: "password:\n  min_length: 20\n  max_length: 16\n",
			want: `config file gatehouse.yaml: line 2: password.min_length: 20: must not be more than password.max_length (16)`,
		},
		{
			name: "max length",
			file: "password:\n  max_length: 1000000\n",
			want: `config file gatehouse.yaml: line 2: password.max_length: 1000000: must be from 64 to 4096`,
		},
		{
			name: "max length below NIST's 64",
			file: "password:\n  max_length: 32\n",
			want: `config file gatehouse.yaml: line 2: password.max_length: 32: must be from 64 to 4096`,
		},
		{
			name: "email verification",
			file: "email:\n  verification: sometimes\n",
			want: `config file gatehouse.yaml: line 2: email.verification: "sometimes": must be one of optional, required`,
		},
		{
			name: "default role",
			env:  map[string]string{"GATEHOUSE_DEFAULT_ROLES": "user,Admin"},
			want: `GATEHOUSE_DEFAULT_ROLES: "Admin": must be a role name of 1 to 64 lowercase letters, digits and _ - . :`,
		},
		{
			name: "zero session idle timeout",
			file: "session:\n  idle_timeout: 0s\n",
			want: `config file gatehouse.yaml: line 2: session.idle_timeout: "0s": must be greater than 0`,
		},
		{
			name: "cookie domain outside the public URL",
			env: map[string]string{
				"GATEHOUSE_PUBLIC_URL":    "https://auth.example.com",
				"GATEHOUSE_COOKIE_DOMAIN": "example.org",
			},
			want: `GATEHOUSE_COOKIE_DOMAIN: "example.org": does not contain the public URL's host "auth.example.com", so browsers would refuse the cookie`,
		},
		{
			name: "cookie domain with a scheme",
			env: map[string]string{
				"GATEHOUSE_PUBLIC_URL":    "https://auth.example.com",
				"GATEHOUSE_COOKIE_DOMAIN": "https://example.com",
			},
			want: `GATEHOUSE_COOKIE_DOMAIN: "https://example.com": must be a domain name, e.g. example.com`,
		},
		{
			name: "token algorithm",
			file: "token:\n  algorithm: HS256\n",
			want: `config file gatehouse.yaml: line 2: token.algorithm: "HS256": must be one of EdDSA, ES256`,
		},
		{
			name: "zero access token lifetime",
			file: "token:\n  access_ttl: 0s\n",
			want: `config file gatehouse.yaml: line 2: token.access_ttl: "0s": must be greater than 0`,
		},
		{
			name: "negative key rotation",
			file: "token:\n  key_rotation: -1h\n",
			want: `config file gatehouse.yaml: line 2: token.key_rotation: negative duration "-1h"`,
		},
		{
			name: "zero setup link lifetime",
			file: "setup:\n  link_ttl: 0s\n",
			want: `config file gatehouse.yaml: line 2: setup.link_ttl: "0s": must be greater than 0`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeConfig(t, tt.file)
			}
			c, err := config.Load(path, envFrom(tt.env), parseFlags(t, tt.args...))
			if err == nil {
				t.Fatalf("Load(%q) = %+v, want error %q", path, c, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Load(%q) error = %q, want %q", path, got, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Load(%q) error %q repeats a secret", path, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Load(%q) error %q is more than one line", path, err)
			}
		})
	}
}

func TestLoadFileMissing(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct {
		path string
		want string
	}{
		{"gatehouse.yaml", "config file gatehouse.yaml: file does not exist"},
		{"etc/gatehouse.yaml", "config file etc/gatehouse.yaml: file does not exist"},
		{".", "config file .: is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := config.Load(tt.path, nil, nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Load(%q) = %v, want %q", tt.path, err, tt.want)
			}
		})
	}
}

func TestLoadFileEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		file string
		want func(c *config.Config)
	}{
		{"empty file", "", func(c *config.Config) {}},
		{"only comments", "# nothing yet\n", func(c *config.Config) {}},
		{"null section", "http:\n", func(c *config.Config) {}},
		{"null value keeps default", "listen:\nusers:\n  default_roles: ~\n", func(c *config.Config) {}},
		{"empty string", "mail_from: Gatehouse <a@b.example>\ntoken:\n  audience: ''\n", func(c *config.Config) {
			c.MailFrom = "Gatehouse <a@b.example>"
		}},
		{"empty list", "users:\n  default_roles: []\n", func(c *config.Config) { c.Users.DefaultRoles = []string{} }},
		{"block list", "http:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 192.168.1.1\n    - ::1\n", func(c *config.Config) {
			c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.1", "::1"}
		}},
		{"anchor on an unknown key", "t: &t 10m\nsession:\n  idle_timeout: *t\n", nil},
		{"dev auto", "dev: auto\n", func(c *config.Config) {}},
		{"dev yes", "dev: yes\n", func(c *config.Config) { c.Dev = boolPtr(true) }},
		{"dev false", "dev: false\n", func(c *config.Config) { c.Dev = boolPtr(false) }},
		{"trailing slash trimmed", "public_url: https://example.com/auth/\n", func(c *config.Config) {
			c.PublicURL = "https://example.com/auth"
		}},
		{"sqlite in memory", "database_url: 'sqlite://:memory:'\n", func(c *config.Config) {
			c.DatabaseURL = "sqlite://:memory:"
		}},
		{"postgres", "database_url: postgresql://gh:pw@db:5432/gatehouse?sslmode=require\n", func(c *config.Config) {
			c.DatabaseURL = "postgresql://gh:pw@db:5432/gatehouse?sslmode=require"
		}},
		{"cookie domain", "public_url: https://auth.example.com\nsession:\n  cookie_domain: .example.com\n", func(c *config.Config) {
			c.PublicURL = "https://auth.example.com"
			c.Session.CookieDomain = ".example.com"
		}},
		{"key rotation off", "token:\n  key_rotation: 0s\n", func(c *config.Config) { c.Token.KeyRotation = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file)
			got, err := config.Load(path, nil, nil)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("Load(%q) = %v, want an error", path, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load(%q) = %v, want no error", path, err)
			}
			want := config.Default()
			tt.want(&want)
			if diff := cmp.Diff(want, *got); diff != "" {
				t.Errorf("Load(%q) mismatch (-want +got):\n%s", path, diff)
			}
		})
	}
}

func TestLoadAlias(t *testing.T) {
	path := writeConfig(t, "session:\n  idle_timeout: &t 10m\ntoken:\n  access_ttl: *t\n")
	c, err := config.Load(path, nil, nil)
	if err != nil {
		t.Fatalf("Load(%q) = %v, want no error", path, err)
	}
	if c.Token.AccessTTL != 10*time.Minute {
		t.Errorf("Load(%q).Token.AccessTTL = %v, want %v", path, c.Token.AccessTTL, 10*time.Minute)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *config.Config)
		want   string // "" for valid
	}{
		{"default", func(c *config.Config) {}, ""},
		{"negative read timeout", func(c *config.Config) { c.HTTP.ReadTimeout = -5 * time.Second }, `http.read_timeout: negative duration "-5s"`},
		{"zero write timeout means no limit", func(c *config.Config) { c.HTTP.WriteTimeout = 0 }, ""},
		{"trailing slash", func(c *config.Config) { c.PublicURL = "https://example.com/" }, `public_url: "https://example.com/": must not end with a slash`},
		{"user in public URL", func(c *config.Config) { c.PublicURL = "https://u:hunter2@example.com" }, `public_url: "https://u:xxxxx@example.com": must not contain a user name or password`},
		{"secret key of 32 characters", func(c *config.Config) { c.SecretKey = strings.Repeat("k", 32) }, ""},
		{"secret key counts characters", func(c *config.Config) { c.SecretKey = strings.Repeat("é", 31) }, "secret_key: must be at least 32 characters, got 31"},
		{"proxy with a zone", func(c *config.Config) { c.HTTP.TrustedProxies = []string{"fe80::1%eth0"} }, `http.trusted_proxies: "fe80::1%eth0": must be an IP address or CIDR prefix without a zone`},
		{"origin with a port", func(c *config.Config) { c.HTTP.AllowedOrigins = []string{"http://localhost:3000"} }, ""},
		{"empty role", func(c *config.Config) { c.Users.DefaultRoles = []string{""} }, `users.default_roles: "": must be a role name of 1 to 64 lowercase letters, digits and _ - . :`},
		{"ES256", func(c *config.Config) { c.Token.Algorithm = "ES256" }, ""},
		{"redis", func(c *config.Config) { c.RedisURL = "rediss://:pw@cache:6380/1" }, ""},
		{"smtp", func(c *config.Config) { c.SMTPURL = "smtp://u:pw@mail:587?tls=starttls" }, ""},
		{"smtps", func(c *config.Config) { c.SMTPURL = "smtps://u:pw@mail:465" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.change(&c)
			err := c.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDevMode(t *testing.T) {
	tests := []struct {
		publicURL string
		dev       *bool
		want      bool
	}{
		{"http://localhost:8080", nil, true},
		{"http://localhost", nil, true},
		{"http://LOCALHOST:8080/auth", nil, true},
		{"http://127.0.0.1:8080", nil, true},
		{"http://127.0.0.2", nil, true},
		{"http://[::1]:8080", nil, true},
		{"https://localhost:8443", nil, false},
		{"http://localhost.example.com", nil, false},
		{"http://auth.example.com", nil, false},
		{"https://auth.example.com", nil, false},
		{"http://10.0.0.1:8080", nil, false},
		{"http://localhost:8080", boolPtr(false), false},
		{"https://auth.example.com", boolPtr(true), true},
	}
	for _, tt := range tests {
		name := tt.publicURL
		if tt.dev != nil {
			name = fmt.Sprintf("%s dev=%v", name, *tt.dev)
		}
		t.Run(name, func(t *testing.T) {
			c := config.Default()
			c.PublicURL, c.Dev = tt.publicURL, tt.dev
			if got := c.DevMode(); got != tt.want {
				t.Errorf("DevMode() with public_url %q, dev %v = %v, want %v", tt.publicURL, tt.dev, got, tt.want)
			}
		})
	}
}

func TestDevModeFromEnv(t *testing.T) {
	tests := []struct {
		env  string
		want bool
	}{
		{"1", true},
		{"0", false},
		{"true", true},
		{"false", false},
		{"auto", true}, // the default public URL is http://localhost:8080
		{"", true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			c, err := config.Load("", envFrom(map[string]string{"GATEHOUSE_DEV": tt.env}), nil)
			if err != nil {
				t.Fatalf("Load with GATEHOUSE_DEV=%q = %v", tt.env, err)
			}
			if got := c.DevMode(); got != tt.want {
				t.Errorf("DevMode() with GATEHOUSE_DEV=%q = %v, want %v", tt.env, got, tt.want)
			}
		})
	}
}

func TestTokenAudience(t *testing.T) {
	c := config.Default()
	if got, want := c.TokenAudience(), "http://localhost:8080"; got != want {
		t.Errorf("TokenAudience() = %q, want %q", got, want)
	}
	c.Token.Audience = "notes-api"
	if got, want := c.TokenAudience(), "notes-api"; got != want {
		t.Errorf("TokenAudience() = %q, want %q", got, want)
	}
}

func TestTrustedProxyPrefixes(t *testing.T) {
	h := config.HTTP{TrustedProxies: []string{"10.1.2.3/8", "192.168.1.1", "::1", "bogus"}}
	var got []string
	for _, p := range h.TrustedProxyPrefixes() {
		got = append(got, p.String())
	}
	want := []string{"10.0.0.0/8", "192.168.1.1/32", "::1/128"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TrustedProxyPrefixes() mismatch (-want +got):\n%s", diff)
	}
}

func TestRedacted(t *testing.T) {
	secrets := []string{"hunter2", "s3cret-db", "r3dis-pw", "smtp-pw", "q-pass", "0123456789abcdef0123456789abcdef"}
	c := config.Default()
	c.SecretKey = "0123456789abcdef0123456789abcdef"
	c.DatabaseURL = "postgres://gh:s3cret-db@db:5432/gatehouse?sslmode=require&password=q-pass"
	c.RedisURL = "redis://:r3dis-pw@cache:6379/0"
	c.SMTPURL = "smtp://mailer:smtp-pw@mail.example.com:587?tls=starttls"
	c.Users.DefaultRoles = []string{"user"}
	orig := c

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", c)

	outputs := map[string]string{
		"String":      c.String(),
		"fmt %v":      fmt.Sprintf("%v", c),
		"fmt %+v ptr": fmt.Sprintf("%+v", &c),
		"slog":        logged.String(),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s output contains the secret %q:\n%s", name, s, out)
			}
		}
		for _, s := range []string{"postgres://gh:xxxxx@db:5432/gatehouse", "redis://:xxxxx@cache:6379/0", "smtp://mailer:xxxxx@mail.example.com:587?tls=starttls", "mail.example.com"} {
			if !strings.Contains(out, s) {
				t.Errorf("%s output lacks %q:\n%s", name, s, out)
			}
		}
	}

	r := c.Redacted()
	if r.SecretKey != "xxxxx" {
		t.Errorf("Redacted().SecretKey = %q, want %q", r.SecretKey, "xxxxx")
	}
	r.Users.DefaultRoles[0] = "changed"
	if diff := cmp.Diff(orig, c); diff != "" {
		t.Errorf("Redacted() changed its receiver (-before +after):\n%s", diff)
	}

	// An empty secret stays empty: it shows that the key will be generated.
	if got := config.Default().Redacted().SecretKey; got != "" {
		t.Errorf("Default().Redacted().SecretKey = %q, want empty", got)
	}
}

func TestStringRoundTrip(t *testing.T) {
	c := config.Default()
	c.Listen = ":9000"
	c.PublicURL = "https://auth.example.com"
	c.ProductName = "yes" // a string YAML would otherwise read as a boolean
	c.Dev = boolPtr(false)
	c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "::1"}
	c.HTTP.AllowedOrigins = []string{"https://app.example.com"}
	c.Session.RememberFor = 90 * time.Minute
	c.Users.DefaultRoles = []string{}
	c.Passkey.Origins = []string{"https://auth.example.com"}
	c.MFA.RequiredRoles = []string{"admin"}

	path := writeConfig(t, c.String())
	got, err := config.Load(path, nil, nil)
	if err != nil {
		t.Fatalf("Load(String()) = %v, want no error; file:\n%s", err, c.String())
	}
	if diff := cmp.Diff(c, *got); diff != "" {
		t.Errorf("Load(String()) mismatch (-want +got):\n%s", diff)
	}
}

func TestRegisterFlags(t *testing.T) {
	fs := flag.NewFlagSet("gatehouse", flag.ContinueOnError)
	config.RegisterFlags(fs)
	if fs.Lookup("config") == nil {
		t.Errorf("RegisterFlags did not define --config")
	}
	for _, k := range config.Keys() {
		if k.Flag == "" {
			continue
		}
		f := fs.Lookup(k.Flag)
		if f == nil {
			t.Errorf("RegisterFlags did not define --%s for %s", k.Flag, k.Path)
			continue
		}
		if f.Usage == "" {
			t.Errorf("--%s has no usage text", k.Flag)
		}
	}
	if f := fs.Lookup("secret-key"); f != nil {
		t.Errorf("RegisterFlags defined --secret-key; a secret on the command line shows in process listings")
	}

	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.PrintDefaults()
	for _, want := range []string{"-listen value", "(env GATEHOUSE_LISTEN)", "(default 127.0.0.1:8080)", "-config file", "-dev\n"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("PrintDefaults() lacks %q:\n%s", want, help.String())
		}
	}
}

func TestReferenceMentionsEveryKey(t *testing.T) {
	ref := config.Reference()
	for _, k := range config.Keys() {
		if !strings.Contains(ref, "| `"+k.Path+"` |") {
			t.Errorf("Reference() has no row for %s", k.Path)
		}
	}
}

// The example configuration in testdata must stay loadable.
func TestTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			if _, err := config.Load(path, nil, nil); err != nil {
				t.Errorf("Load(%q) = %v, want no error", path, err)
			}
		})
	}
}
