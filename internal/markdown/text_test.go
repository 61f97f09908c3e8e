package markdown

import "testing"

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
