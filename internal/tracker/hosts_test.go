package tracker_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cxloop/cxloop/internal/tracker"
)

func TestCheckAPIURL(t *testing.T) {
	def := []string{"api.github.com"}
	for _, tc := range []struct {
		name, url     string
		allowed       []string
		secretAllowed []string
		wantErr       string // "" when allowed
	}{
		{"the default API", "", def, nil, ""},
		{"api.github.com", "https://api.github.com/", def, nil, ""},
		{"api.github.com on its port", "https://api.github.com:443/", def, nil, ""},
		{"another port of an allowed host", "https://api.github.com:8443/", def, nil, "not among the GitHub API hosts"},
		{"a host not listed", "https://evil.example/api/v3/", def, nil, "host evil.example is not among"},
		{"a look-alike host", "https://api.github.com.evil.example/", def, nil, "not among"},
		{"GHE listed", "https://ghe.example.com/api/v3/", []string{"api.github.com", "ghe.example.com"}, nil, ""},
		{"http to a remote host", "http://ghe.example.com/api/v3/", []string{"ghe.example.com"}, nil, "https only"},
		{"loopback not listed", "http://127.0.0.1:8080/", def, nil, "host 127.0.0.1:8080 is not among"},
		{"loopback listed with its port", "http://127.0.0.1:8080/", []string{"127.0.0.1:8080"}, nil, ""},
		{"loopback listed, another port", "http://127.0.0.1:9090/", []string{"127.0.0.1:8080"}, nil, "not among"},
		{"localhost over http", "http://localhost:8080/", []string{"localhost:8080"}, nil, ""},
		{"::1 over http", "http://[::1]:8080/", []string{"[::1]:8080"}, nil, ""},
		{"user info", "https://x:tok@api.github.com/", def, nil, "carries user info"},
		{"not a URL", "api.github.com", def, nil, "not an http(s) URL"},
		{"the Secret narrows", "https://ghe.example.com/", []string{"api.github.com", "ghe.example.com"}, []string{"api.github.com"}, `key "allowedHosts"`},
		{"the Secret agrees", "https://api.github.com/", def, []string{"api.github.com"}, ""},
		{"the Secret cannot widen", "https://ghe.example.com/", def, []string{"ghe.example.com"}, "--github-allowed-hosts"},
		{"an empty allowedHosts allows nothing", "https://api.github.com/", def, []string{}, `key "allowedHosts"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tracker.CheckAPIURL(tc.url, tc.allowed, tc.secretAllowed)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one saying %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "tok@") {
				t.Errorf("user info in %q", err)
			}
		})
	}
}

func TestParseAllowedHosts(t *testing.T) {
	got, err := tracker.ParseAllowedHosts(" API.github.com, ghe.example.com:8443,,127.0.0.1:9000 ,[::1]:80")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"api.github.com", "ghe.example.com:8443", "127.0.0.1:9000", "[::1]:80"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"https://api.github.com", "*.github.com", "user@host", "host:port", "host:99999", "api.github.com/api"} {
		if _, err := tracker.ParseAllowedHosts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCheckCredentialsSecret(t *testing.T) {
	labelled := map[string]string{tracker.CredentialsLabel: tracker.CredentialsLabelValue}
	for _, tc := range []struct {
		name    string
		secret  corev1.Secret
		wantErr string
	}{
		{"opted in", corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "gh", Labels: labelled}}, ""},
		{"no label", corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "gh"}}, "Secret ns/gh does not carry the label cx.cxloop.dev/credentials=github"},
		{"another value", corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "gh", Labels: map[string]string{tracker.CredentialsLabel: "gitlab"}}}, "does not carry the label"},
		{"a service-account token", corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sa", Labels: labelled}, Type: corev1.SecretTypeServiceAccountToken},
			"Secret ns/sa is of type kubernetes.io/service-account-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tracker.CheckCredentialsSecret(&tc.secret)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	sa := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sa"}, Type: corev1.SecretTypeServiceAccountToken, Data: map[string][]byte{"token": []byte("eyJ")}}
	if _, err := tracker.CredentialsFromSecret(sa); err == nil {
		t.Error("CredentialsFromSecret accepted a service-account token")
	}
}

// TestCredentialsDoNotFollowRedirects: a redirect to another host (or a
// link in an answer) is not followed with the credentials: the other host
// receives nothing.
func TestCredentialsDoNotFollowRedirects(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer api.Close()
	c, err := tracker.New(tracker.Config{Owner: "o", Repo: "r", APIURL: api.URL, Credentials: tracker.Credentials{Token: "ghp_redirected000000000000000000000000"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Issues(context.Background())
	if err == nil {
		t.Errorf("err = %v, want a refusal", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the host redirected to received %d requests", n)
	}
}

func TestNewRefusesUnsafeAPIURLs(t *testing.T) {
	for _, u := range []string{"http://github.example.com/api/v3/", "https://x:tok@api.github.com/"} {
		_, err := tracker.New(tracker.Config{Owner: "o", Repo: "r", APIURL: u, Credentials: tracker.Credentials{Token: "ghp_x"}})
		if err == nil {
			t.Errorf("%s accepted", u)
		} else if strings.Contains(err.Error(), "tok@") {
			t.Errorf("user info in %v", err)
		}
	}
}
