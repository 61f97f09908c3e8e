package tracker

import (
	"net/http"
	"net/url"
	"testing"
)

// TestRedirectsStayOnTheAPIOrigin: the HTTP clients (the App's JWT one
// included) follow a redirect only to the API's own scheme and host.
func TestRedirectsStayOnTheAPIOrigin(t *testing.T) {
	base, _ := url.Parse("https://ghe.example.com/api/v3/")
	check := sameOrigin(base)
	for target, ok := range map[string]bool{
		"https://ghe.example.com/api/v3/repositories/1/issues": true,
		"http://ghe.example.com/api/v3/repositories/1/issues":  false, // downgrade
		"https://evil.example.com/api/v3/":                     false,
		"https://ghe.example.com:8443/api/v3/":                 false,
	} {
		u, _ := url.Parse(target)
		if err := check(&http.Request{URL: u}, []*http.Request{{}}); (err == nil) != ok {
			t.Errorf("redirect to %s: err %v, want allowed %v", target, err, ok)
		}
	}
}
