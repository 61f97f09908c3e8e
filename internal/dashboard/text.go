package dashboard

import (
	"net/url"
	"strings"
)

// zwj is the zero-width joiner put after an @ or a # so that GitHub neither
// pings anybody nor cross-references another issue; it is invisible when read.
const zwj = "\u200d"

// safeText makes one line of text taken from a custom resource harmless in
// GitHub Markdown, including inside a table cell and a link's text: raw HTML
// is escaped (<, >, &), @mentions and #references are broken with a
// zero-width joiner, the characters that end a cell, a link text or a code
// span are backslash-escaped (| [ ] ` \), line breaks become spaces and other
// control characters are dropped. A # at the start is escaped so the text
// never becomes a heading.
func safeText(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '|', r == '[', r == ']', r == '`', r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '#' && b.Len() == 0:
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
			b.WriteByte(' ')
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r == '\u2028', r == '\u2029':
			// control characters dropped
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

func isMentionRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '/'
}

// mermaidKeywords start a token in Mermaid's journey grammar (which matches
// them case-insensitively, as prefixes, before a task name): a task or a
// section named after one would break the diagram.
var mermaidKeywords = []string{"journey", "title", "section", "acctitle", "accdescr"}

// mermaidTask makes a name safe as a Mermaid journey title, section or task.
func mermaidTask(s string) string { return mermaidText(s, false) }

// mermaidText makes a name safe in a Mermaid journey diagram: the characters
// of its syntax (: ; # %% and, for an actor, the comma) and line breaks become
// spaces, characters that could pass for HTML or end the code fence (< > & `
// ") are dropped, spaces are collapsed, and a name that starts with a keyword
// of the grammar is prefixed with "· ". An empty name becomes "unnamed".
func mermaidText(s string, actor bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == ':', r == ';', r == '#', r == '\n', r == '\r', r == '\t':
			b.WriteByte(' ')
		case r == ',' && actor:
			b.WriteByte(' ')
		case r == '<', r == '>', r == '&', r == '`', r == '"':
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r == '\u2028', r == '\u2029':
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	for strings.Contains(out, "%%") {
		out = strings.ReplaceAll(out, "%%", "%")
	}
	out = strings.Join(strings.Fields(out), " ")
	if out == "" {
		return "unnamed"
	}
	low := strings.ToLower(out)
	for _, k := range mermaidKeywords {
		if strings.HasPrefix(low, k) {
			return "· " + out
		}
	}
	return out
}

// safeURL returns u for a Markdown link if it is an absolute http(s) URL,
// with the characters that could end the link percent-encoded, or "".
func safeURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil {
		return ""
	}
	return urlEscaper.Replace(p.String())
}

var urlEscaper = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E", "`", "%60", "\"", "%22", "'", "%27", "[", "%5B", "]", "%5D", "|", "%7C")
