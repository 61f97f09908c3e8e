package redact

import "testing"

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://user:pass@prometheus.example:9090/api", "https://***@prometheus.example:9090/api"},
		{"https://token@ghe.example/api/v3/", "https://***@ghe.example/api/v3/"},
		{"http://prometheus:9090", "http://prometheus:9090"},
		{"", ""},
		{"http://user:p%zz@host", "http://***@host"}, // does not parse: redacted as text
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
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
