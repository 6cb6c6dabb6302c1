package web

import (
	"net/url"
	"strings"
)

// safeReturnTo returns raw when it is a safe place to send the browser after
// sign-in, or "" when it is not: a same-origin path ("/dashboard?tab=2"), or
// an absolute http(s) URL on the public origin or a configured allowed origin.
//
// Everything else is refused, including the tricks that turn a "path" into
// another site (OWASP Unvalidated Redirects; RFC 9700 §4.11): protocol-relative
// "//evil.example" and "/\evil.example" (browsers read a backslash as a slash),
// "https:evil.example", user-info "https://evil.example@host", javascript: and
// data: URLs, and control characters, which browsers strip ("/%09/evil.example"
// becomes "//evil.example") or which would split a header ("%0d%0a"). Encoded
// forms are decoded repeatedly and checked as well.
func (s *Server) safeReturnTo(raw string) string {
	if raw == "" || len(raw) > 2048 {
		return ""
	}
	decoded := raw
	for range 3 {
		d, err := url.PathUnescape(decoded)
		if err != nil {
			return ""
		}
		if d == decoded {
			break
		}
		decoded = d
	}
	for _, v := range []string{raw, decoded} {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 || c == 0x7f || c == '\\' {
				return ""
			}
		}
	}
	if strings.HasPrefix(raw, "/") {
		if strings.HasPrefix(raw, "//") || strings.HasPrefix(decoded, "//") {
			return ""
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
			return ""
		}
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	origin := strings.ToLower(u.Scheme + "://" + u.Host)
	if origin == s.origin {
		return u.String()
	}
	for _, o := range s.cfg.AllowedOrigins {
		if origin == strings.ToLower(o) {
			return u.String()
		}
	}
	return ""
}
