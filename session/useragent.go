package session

import "strings"

// DescribeUserAgent turns a User-Agent header into a short name people
// recognise on their list of devices, such as "Chrome 156 on Linux" or
// "Safari on iPhone". It knows the common browsers and systems and falls back
// to "Unknown device" (or the client's own product token for non-browsers).
func DescribeUserAgent(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	browser := ""
	for _, b := range []struct{ token, name string }{
		// Order matters: Edge and Opera say Chrome too, Chrome says Safari.
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"}, {"HeadlessChrome/", "Headless Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
		{"Version/", "Safari"},
	} {
		if i := strings.Index(ua, b.token); i >= 0 {
			browser = b.name
			if v := majorVersion(ua[i+len(b.token):]); v != "" && b.name != "Safari" {
				browser += " " + v
			}
			break
		}
	}
	system := ""
	for _, s := range []struct{ token, name string }{
		{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"CrOS", "ChromeOS"},
		{"Windows", "Windows"}, {"Macintosh", "macOS"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "Browser on " + system
	}
	// A non-browser client, such as curl/8.5.0 or an SDK: its product token.
	token, _, _ := strings.Cut(ua, " ")
	if len(token) > 40 {
		token = token[:40]
	}
	return token
}

func majorVersion(s string) string {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	return s[:end]
}
