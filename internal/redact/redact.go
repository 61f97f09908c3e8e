// Package redact hides the user info of URLs (https://user:pass@host) in
// whatever cxloop shows: conditions, Events, logs and the status page.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// URL shows a URL without its user info: https://user:pass@host/ becomes
// https://***@host/. Unlike url.URL.Redacted, the user name goes too: it
// is often a token. Text that does not parse as a URL goes through Text.
func URL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return unparsed(s)
	}
	if u.User == nil {
		return s
	}
	u.User = nil
	out := u.String()
	if i := strings.Index(out, "//"); i >= 0 {
		return out[:i+2] + "***@" + out[i+2:]
	}
	return out
}

// unparsed redacts the user info of a single URL that does not parse: one
// whose user info holds white space, a stray escape, or a "/", "?" or "#"
// (a base64 token), which Text, made for free text, would stop at. As the
// user info cannot be told from the rest, everything between the scheme's
// "//" and the last @ goes: more than the user info at times, never less.
func unparsed(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return Text(s)
	}
	at := strings.LastIndex(s, "@")
	if at < i+3 {
		return Text(s)
	}
	return s[:i+3] + "***@" + s[at+1:]
}

// userInfo matches the user info of a URL in free text: scheme://user[:pass]@,
// up to the authority's last @ (a password may hold one: us@er:p@ss@host).
var userInfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s"'<>]+@`)

// Text redacts the user info of every URL in s, such as the one Go's
// HTTP client leaves in its errors (user:***@host).
func Text(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return userInfo.ReplaceAllString(s, "${1}***@")
}
