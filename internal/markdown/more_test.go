package markdown

import (
	"strings"
	"testing"
)

func TestTextKeepsBodies(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"line one\nline two\ttabbed", "line one\nline two\ttabbed"},
		{"a|b [c](d) `e` \\", "a|b [c](d) `e` \\"},
		{"# a heading in a body is kept", "# a heading in a body is kept"},
		{"cc @team and ＠team, see #7 and ＃7", "cc @" + zwj + "team and ＠" + zwj + "team, see #" + zwj + "7 and ＃" + zwj + "7"},
		{"a lone @ or # stays as it is: @ # x@", "a lone @ or # stays as it is: @ # x@"},
		{"@\x00alice", "@" + zwj + "alice"},
		{"<!-- hidden -->", "&lt;!-- hidden --&gt;"},
		{"&amp; already", "&amp;amp; already"},
		{"", ""},
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLineHeadingsAndMentions(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"\n\t# x", `\# x`},
		{"##", `\##`},
		{"#tag", `\#` + zwj + "tag"},
		{"a #b", "a #" + zwj + "b"},
		{"@@user", "@@" + zwj + "user"},
		{"x\r\ny", "x y"},
		{"<details><summary>x</summary>", "&lt;details&gt;&lt;summary&gt;x&lt;/summary&gt;"},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestURLHostile: only absolute http(s) URLs without credentials are
// linked, and nothing in them can end the link.
func TestURLHostile(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  https://github.com/a  ", "https://github.com/a"},
		{"HTTPS://github.com/a", "https://github.com/a"},
		{"http://", ""},
		{"https:///path", ""},
		{"https://user@github.com/", ""},
		{"data:text/html,<script>", ""},
		{"vbscript:x", ""},
		{"mailto:a@b.c", ""},
		{"/relative/path", ""},
		{"https://x.example/a'b\"c<d>e`f[g]h|i", "https://x.example/a%27b%22c%3Cd%3Ee%60f%5Bg%5Dh%7Ci"},
		{"https://x.example/%zz", ""},
	} {
		got := URL(tc.in)
		if got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.ContainsAny(got, "()<>\"' `[]|") {
			t.Errorf("URL(%q) = %q: a character that could end the link", tc.in, got)
		}
	}
}
