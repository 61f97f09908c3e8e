package dashboard

import "strings"

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
