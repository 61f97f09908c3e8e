// Package markdown makes text taken from custom resources harmless in the
// GitHub Markdown cxloop writes (issue bodies, comments, the dashboard
// issue): one set of rules, in two shapes. Text keeps lines, for bodies;
// Line makes one line that may sit in a table cell or a link's text.
package markdown

import (
	"net/url"
	"strings"
	"unicode"
)

// zwj is the zero-width joiner put after an @ or a # so that GitHub neither
// pings anybody nor cross-references another issue; it is invisible when
// read.
const zwj = "\u200d"

// Text makes text harmless in an issue or a comment while keeping it
// readable: raw HTML is escaped (<, >, &), and @mentions and #references
// get an invisible zero-width joiner after the @ or # so that nobody is
// pinged and no other issue is cross-referenced. Line endings become \n;
// other control characters are dropped.
func Text(s string) string { return sanitise(s, false) }

// Line is Text for one line that may sit inside a table cell, a link's text
// or a heading: in addition the characters that end a cell, a link text or
// a code span are backslash-escaped (| [ ] ` \), line breaks and tabs
// become spaces, a # at the start is escaped so that the line never becomes
// a heading, and the ends are trimmed.
func Line(s string) string { return strings.TrimSpace(sanitise(s, true)) }

func sanitise(s string, line bool) string {
	// Control characters go first, so that none can separate an @ or a #
	// from what follows it.
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' || r == '\t' || !(r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u2028' || r == '\u2029') {
			rs = append(rs, r)
		}
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	blank := true // nothing but white space so far
	for i, r := range rs {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case line && (r == '|' || r == '[' || r == ']' || r == '`' || r == '\\'):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '#' && line && blank:
			b.WriteString(`\#`)
			if i+1 < len(rs) && isMentionRune(rs[i+1]) {
				b.WriteString(zwj)
			}
		case r == '@' || r == '#' || r == '＠' || r == '＃':
			b.WriteRune(r)
			if i+1 < len(rs) && isMentionRune(rs[i+1]) {
				b.WriteString(zwj)
			}
		case r == '\n' || r == '\t':
			if line {
				b.WriteByte(' ')
			} else {
				b.WriteRune(r)
			}
		default:
			b.WriteRune(r)
		}
		blank = blank && unicode.IsSpace(r) // as strings.TrimSpace sees it
	}
	return b.String()
}

func isMentionRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '/'
}

// URL returns u for a Markdown link if it is an absolute http(s) URL
// without credentials, with the characters that could end the link
// percent-encoded; otherwise "".
func URL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil {
		return ""
	}
	return urlEscaper.Replace(p.String())
}

var urlEscaper = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E", "`", "%60", "\"", "%22", "'", "%27", "[", "%5B", "]", "%5D", "|", "%7C")
