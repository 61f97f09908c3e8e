package redact

import "testing"

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://user:pass@prometheus.example:9090/api", "https://***@prometheus.example:9090/api"},
		{"https://token@ghe.example/api/v3/", "https://***@ghe.example/api/v3/"},
		{"http://prometheus:9090", "http://prometheus:9090"},
		{"", ""},
		{"http://user:p%zz@host", "http://***@host"}, // does not parse: redacted as text
		{"HTTPS://U:P@prom:9090", "https://***@prom:9090"},
		{"git+ssh://git:pw@github.com/a", "git+ssh://***@github.com/a"},
		{"https://u:p@host/path?q=1#frag", "https://***@host/path?q=1#frag"},
		{"https://u:p%40ss@host/", "https://***@host/"},
		{"https://host/p?mail=a@b.c", "https://host/p?mail=a@b.c"},
		{"not a url at all", "not a url at all"},
		// User info with white space does not parse, and free text would stop at the space.
		{"http://u:pa ss@prom:9090/x", "http://***@prom:9090/x"},
		{"https://to ken@ghe.example/api/v3/", "https://***@ghe.example/api/v3/"},
		{"http://u:p\tw@host", "http://***@host"},
		// A token may hold "/", "?" or "#": the user info cannot be told from
		// the path, and everything up to the last @ goes.
		{"http://user:ab/cd@prom:9090", "http://***@prom:9090"},
		{"https://x:a?b#c@prom/q", "https://***@prom/q"},
		{"http://u:p@h/%zz?x=https://a:b@c", "http://***@c"},
		{"http://ho st/p?mail=a@b.c", "http://***@b.c"}, // more than the user info, never less
		{"http://ho st/p", "http://ho st/p"},
	} {
		if got := URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`Prometheus at https://cx:s3cret@prom:9090 cannot be reached: Get "https://cx:***@prom:9090/api/v1/query": dial tcp`,
			`Prometheus at https://***@prom:9090 cannot be reached: Get "https://***@prom:9090/api/v1/query": dial tcp`},
		{"mail someone@example.com", "mail someone@example.com"},
		{"no urls here", "no urls here"},
		// Go's HTTP client quotes the URL, often twice: every one loses its user info.
		{`Post "https://u:s3cret@a/x": dial; retry https://v:t0ken@b/ and 'http://w:pw@c'`,
			`Post "https://***@a/x": dial; retry https://***@b/ and 'http://***@c'`},
		{"<https://tok@host>", "<https://***@host>"},
		{"https://host/p?mail=a@b.c and user@example.com", "https://host/p?mail=a@b.c and user@example.com"},
		{"HTTP://U:P@H", "HTTP://***@H"},
		// A password may hold an @: all of the user info goes, up to the last.
		{"http://us@er:p@ss@host/", "http://***@host/"},
		{`dial "https://a:b@c@prom:9090/q" failed`, `dial "https://***@prom:9090/q" failed`},
		{"", ""},
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
