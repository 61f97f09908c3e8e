package tracker

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

const (
	// maxBodyChars is GitHub's limit for issue and comment bodies.
	maxBodyChars = 65536
)

var (
	// markerRE reads only keys ValidKey accepts: a longer one is not cxloop's.
	markerRE = regexp.MustCompile(`<!--\s*cxloop:key=([A-Za-z0-9._:/-]{1,200})\s*-->`)
	keyRE    = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,200}$`)
	// lineEndingRE matches CRLF, and the CRs a stripped marker leaves before one.
	lineEndingRE = regexp.MustCompile(`\r+\n`)
)

// KeyMarker returns the hidden marker that identifies the issue of a piece of
// work: `<!-- cxloop:key=KEY -->`. It is invisible in the rendered issue.
func KeyMarker(key string) string { return "<!-- cxloop:key=" + key + " -->" }

// ValidKey reports whether key can be carried by a KeyMarker: 1 to 200
// characters out of A-Z a-z 0-9 . _ : / -.
func ValidKey(key string) bool { return keyRE.MatchString(key) }

// KeyFromBody returns the key of the first key marker in an issue body, or
// "" when it has none (not an issue cxloop opened). The key is a copy: a
// piece of the body would keep the whole body in memory, and the index
// keeps the keys of closed issues for years without their bodies.
func KeyFromBody(body string) string {
	m := markerRE.FindStringSubmatchIndex(body)
	if m == nil {
		return ""
	}
	return strings.Clone(body[m[2]:m[3]])
}

// stripMarkers removes every key marker and normalises line endings.
func stripMarkers(body string) string {
	body = markerRE.ReplaceAllString(body, "")
	// Removing a marker can join the text around it into another one
	// ("<!-- cxloop:key=<!-- cxloop:key=a -->b -->"). Stripping again until
	// none is left costs a pass per level, seconds for a body built for it;
	// instead what is left of the syntax is broken with an invisible
	// zero-width space, so that no key can be read from a stripped body.
	if markerRE.MatchString(body) {
		body = strings.ReplaceAll(body, "cxloop:key=", "cxloop:key\u200b=")
	}
	body = lineEndingRE.ReplaceAllString(body, "\n")
	return strings.TrimRight(body, " \t\r\n")
}

// composeBody returns body with exactly one marker for key at its end,
// shortened if needed so that the whole fits GitHub's body limit.
func composeBody(body, key string) string {
	body = stripMarkers(body)
	marker := KeyMarker(key)
	const ellipsis = "\n\n…(truncated)"
	limit := maxBodyChars - utf8.RuneCountInString(marker) - 2
	if utf8.RuneCountInString(body) > limit {
		r := []rune(body)
		body = string(r[:limit-utf8.RuneCountInString(ellipsis)]) + ellipsis
	}
	if body == "" {
		return marker
	}
	return body + "\n\n" + marker
}

func validateLabel(l string) error {
	if strings.TrimSpace(l) == "" || strings.Contains(l, ",") || utf8.RuneCountInString(l) > 50 {
		return fmt.Errorf("label %q must be 1 to 50 characters without commas", l)
	}
	return nil
}
