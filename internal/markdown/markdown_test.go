package markdown

import (
	"strings"
	"testing"
)

func TestTextBreaksMentionsAndHTMLKeepsLines(t *testing.T) {
	in := "Ask @alice and @org/team: <img src=x onerror=alert(1)> & see #12,\r\nmail a@b.c\x07\u0085"
	out := Text(in)
	for _, bad := range []string{"@alice", "@org", "<img", "#12", "\x07", "\r", "\u0085"} {
		if strings.Contains(out, bad) {
			t.Errorf("Text kept %q: %q", bad, out)
		}
	}
	if !strings.Contains(out, "&lt;img src=x onerror=alert(1)&gt; &amp; see") {
		t.Errorf("HTML not escaped: %q", out)
	}
	visible := strings.ReplaceAll(out, zwj, "")
	if !strings.Contains(visible, "Ask @alice and @org/team") || !strings.Contains(visible, "#12,\nmail") {
		t.Errorf("not readable, or the line break lost: %q", visible)
	}
	if strings.Contains(Text("a|b [c](d) `e`"), `\`) {
		t.Error("Text escaped table and link syntax, which a body keeps")
	}
}

func TestLineIsOneHarmlessLine(t *testing.T) {
	for in, want := range map[string]string{
		"Checkout | pay":                `Checkout \| pay`,
		"[link](javascript:x)":          `\[link\](javascript:x)`,
		"# heading":                     `\# heading`,
		"  \x01# heading":               `\# heading`,
		"#12 ticket":                    `\#` + zwj + `12 ticket`,
		"a\nb\tc\u2028d":                "a b cd",
		"code `x` and back\\":           "code \\`x\\` and back\\\\",
		"mail @bob":                     "mail @" + zwj + "bob",
		"  spaced  ":                    "spaced",
		"1 < 2 & 3 > 2":                 "1 &lt; 2 &amp; 3 &gt; 2",
		"not # a heading":               "not # a heading",
		strings.Repeat(" ", 3000):       "",
		"\n\t# x":                       `\# x`,
		"##":                            `\##`,
		"#tag":                          `\#` + zwj + "tag",
		"a #b":                          "a #" + zwj + "b",
		"@@user":                        "@@" + zwj + "user",
		"x\r\ny":                        "x y",
		"<details><summary>x</summary>": "&lt;details&gt;&lt;summary&gt;x&lt;/summary&gt;",
	} {
		if got := Line(in); got != want {
			t.Errorf("Line(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/a/b/issues/1":      "https://github.com/a/b/issues/1",
		"https://x.example/a)b(c":              "https://x.example/a%29b%28c",
		"javascript:alert(1)":                  "",
		"//evil.example/x":                     "",
		"https://user:pw@github.com/a/b":       "",
		"ftp://github.com/a":                   "",
		"https://github.com/a/b/issues/1 x":    "https://github.com/a/b/issues/1%20x",
		"  https://github.com/a  ":             "https://github.com/a",
		"HTTPS://github.com/a":                 "https://github.com/a",
		"http://":                              "",
		"https:///path":                        "",
		"https://user@github.com/":             "",
		"data:text/html,<script>":              "",
		"vbscript:x":                           "",
		"mailto:a@b.c":                         "",
		"/relative/path":                       "",
		"https://x.example/%zz":                "",
		"https://x.example/a'b\"c<d>e`f[g]h|i": "https://x.example/a%27b%22c%3Cd%3Ee%60f%5Bg%5Dh%7Ci",
	} {
		got := URL(in)
		if got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
		if strings.ContainsAny(got, "()<>\"' `[]|") {
			t.Errorf("URL(%q) = %q: a character that could end the link", in, got)
		}
	}
}

// FuzzLine: whatever a custom resource holds, a Line has no line break, no
// raw HTML, no unescaped cell or link syntax and no live mention.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"a|b", "# x", "@alice", "<b>x</b>", "[a](b)", "x\ny"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Line(s)
		if strings.ContainsAny(out, "\n\r<>") {
			t.Fatalf("Line(%q) = %q: a line break or raw HTML", s, out)
		}
		if strings.HasPrefix(out, "#") {
			t.Fatalf("Line(%q) = %q: a heading", s, out)
		}
		rs := []rune(out)
		for i, r := range rs {
			if (r == '|' || r == '[' || r == ']' || r == '`') && (i == 0 || rs[i-1] != '\\') {
				t.Fatalf("Line(%q) = %q: unescaped %q", s, out, r)
			}
			if (r == '@' || r == '#') && i+1 < len(rs) && isMentionRune(rs[i+1]) {
				t.Fatalf("Line(%q) = %q: a live mention or reference", s, out)
			}
		}
	})
}
