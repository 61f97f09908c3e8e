package redact

import (
	"strings"
	"testing"
)

// TestURLForms: the user info goes whatever the scheme or its case, and
// whatever the URL holds after the host.
func TestURLForms(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"HTTPS://U:P@prom:9090", "https://***@prom:9090"},
		{"git+ssh://git:pw@github.com/a", "git+ssh://***@github.com/a"},
		{"https://u:p@host/path?q=1#frag", "https://***@host/path?q=1#frag"},
		{"https://u:p%40ss@host/", "https://***@host/"},
		{"https://host/p?mail=a@b.c", "https://host/p?mail=a@b.c"},
		{"not a url at all", "not a url at all"},
	} {
		if got := URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestTextRedactsEveryURL: errors of Go's HTTP client quote the URL, often
// twice; every one loses its user info, the rest of the text stays.
func TestTextRedactsEveryURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`Post "https://u:s3cret@a/x": dial; retry https://v:t0ken@b/ and 'http://w:pw@c'`,
			`Post "https://***@a/x": dial; retry https://***@b/ and 'http://***@c'`},
		{"<https://tok@host>", "<https://***@host>"},
		{"https://host/p?mail=a@b.c and user@example.com", "https://host/p?mail=a@b.c and user@example.com"},
		{"HTTP://U:P@H", "HTTP://***@H"},
		{"", ""},
	} {
		got := Text(tc.in)
		if got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
		for _, secret := range []string{"s3cret", "t0ken", ":pw@"} {
			if strings.Contains(got, secret) {
				t.Errorf("Text(%q) keeps %q", tc.in, secret)
			}
		}
	}
}
