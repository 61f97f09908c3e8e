package tracker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// TestConfirmIssue: found only for cxloop's labelled issue of the client's
// repository; gone (not an error) when GitHub says it is deleted or not
// found; an error for anything else.
func TestConfirmIssue(t *testing.T) {
	issue := func(number int, htmlURL string, labels ...string) string {
		var ls []string
		for _, l := range labels {
			ls = append(ls, `{"name":"`+l+`"}`)
		}
		return `{"number":` + strconv.Itoa(number) + `,"html_url":"` + htmlURL + `","title":"T","state":"open","body":"b\n\n` + KeyMarker("k") + `","labels":[` + strings.Join(ls, ",") + `]}`
	}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		found  bool
		reason string
	}{
		{"cxloop's issue", 200, issue(5, "https://github.com/o/r/issues/5", "bug", "cxloop"), true, ""},
		{"the repository named otherwise in case", 200, issue(5, "https://github.com/O/R/issues/5", "cxloop"), true, ""},
		{"label removed", 200, issue(5, "https://github.com/o/r/issues/5", "bug"), false, ""},
		{"transferred", 200, issue(5, "https://github.com/elsewhere/r/issues/5", "cxloop"), false, ""},
		{"another number", 200, issue(6, "https://github.com/o/r/issues/6", "cxloop"), false, ""},
		{"a pull request's page", 200, issue(5, "https://github.com/o/r/pull/5", "cxloop"), false, ""},
		{"no page", 200, issue(5, "", "cxloop"), false, ""},
		{"not found", 404, `{"message":"Not Found"}`, false, ""},
		{"deleted", 410, `{"message":"This issue was deleted"}`, false, ""},
		{"issues disabled", 410, `{"message":"Issues are disabled for this repo"}`, false, cxv1.ReasonIssuesDisabled},
		{"server error", 502, `{}`, false, cxv1.ReasonServerError},
		{"bad credentials", 401, `{"message":"Bad credentials"}`, false, cxv1.ReasonBadCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, calls := statusClient(t, "ghp_confirm", nil, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || r.URL.Path != "/repos/o/r/issues/5" {
					t.Errorf("unexpected %s %s", r.Method, r.URL)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			is, found, err := c.ConfirmIssue(context.Background(), 5)
			if found != tc.found || Reason(err) != tc.reason {
				t.Fatalf("ConfirmIssue = %+v, %v, %v; want found %v, reason %q", is, found, err, tc.found, tc.reason)
			}
			if found && (is.Number != 5 || is.Key != "k" || is.Body != "b") {
				t.Errorf("issue %+v", is)
			}
			if !found && is.Number != 0 {
				t.Errorf("an issue not found is %+v", is)
			}
			if *calls != 1 {
				t.Errorf("%d requests, want 1", *calls)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"   ", 0, false},
		{"0", 0, true},
		{" 30 ", 30 * time.Second, true},
		{"-5", 0, true},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999999", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Sunday, 02-May-27 12:00:00 GMT", 24 * time.Hour, true},
		{now.Add(time.Minute).Format(time.RFC3339), 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNewRefusesIncompleteCredentials(t *testing.T) {
	rsaPEM := []byte(testKeyPEM(t))
	block, _ := pem.Decode(rsaPEM)
	rsaKey, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPKCS8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})
	for _, tc := range []struct {
		name string
		cred Credentials
		key  string // "" for accepted
	}{
		{"token", Credentials{Token: "ghp_x"}, ""},
		{"App with a PKCS#1 key", Credentials{AppID: 1, InstallationID: 2, PrivateKey: rsaPEM}, ""},
		{"App with a PKCS#8 key", Credentials{AppID: 1, InstallationID: 2, PrivateKey: rsaPKCS8}, ""},
		{"nothing", Credentials{}, SecretKeyToken},
		{"token and App", Credentials{Token: "ghp_x", AppID: 1}, ""},
		{"token and a key", Credentials{Token: "ghp_x", PrivateKey: rsaPEM}, ""},
		{"App without its ID", Credentials{InstallationID: 2, PrivateKey: rsaPEM}, SecretKeyAppID},
		{"negative App ID", Credentials{AppID: -1, InstallationID: 2, PrivateKey: rsaPEM}, SecretKeyAppID},
		{"App without installation", Credentials{AppID: 1, PrivateKey: rsaPEM}, SecretKeyInstallationID},
		{"App without a key", Credentials{AppID: 1, InstallationID: 2}, SecretKeyPrivateKey},
		{"an EC key", Credentials{AppID: 1, InstallationID: 2, PrivateKey: ecPEM}, SecretKeyPrivateKey},
		{"a key cut short", Credentials{AppID: 1, InstallationID: 2, PrivateKey: rsaPEM[:len(rsaPEM)/2]}, SecretKeyPrivateKey},
		{"a certificate's block", Credentials{AppID: 1, InstallationID: 2, PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")})}, SecretKeyPrivateKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Owner: "o", Repo: "r", APIURL: "https://api.github.com/", Credentials: tc.cred})
			mixed := tc.cred.Token != "" && (tc.cred.AppID != 0 || len(tc.cred.PrivateKey) > 0)
			var ce *CredentialsError
			switch {
			case mixed:
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), "both a token and GitHub App credentials") {
					t.Errorf("New = %v; want both kinds refused", err)
				}
			case tc.key == "":
				if err != nil {
					t.Errorf("New = %v", err)
				}
			case !errors.As(err, &ce) || ce.Key != tc.key || Reason(err) != cxv1.ReasonInvalidCredentials || !NotCreated(err):
				t.Errorf("New = %v; want a CredentialsError for %q", err, tc.key)
			}
			if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error %q carries the key", err)
			}
		})
	}
}

// TestWriteDueBeforeItIsSentIsDropped: a create whose WithSendBy deadline
// passed is not sent; it fails as provably not created.
func TestWriteDueBeforeItIsSentIsDropped(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sendBy time.Duration // from now
		sent   bool
	}{
		{"deadline passed", -time.Second, false},
		{"deadline now", 0, false},
		{"deadline ahead", time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGitHub(t)
			c := fakeClient(t, f, nil)
			ctx := WithSendBy(context.Background(), time.Now().Add(tc.sendBy))
			_, created, err := c.EnsureIssue(ctx, IssueRequest{Key: "due", Title: "T"})
			if tc.sent {
				if err != nil || !created || f.count() != 1 {
					t.Fatalf("EnsureIssue = %v, %v; %d issues", created, err, f.count())
				}
				return
			}
			if !SendByPassed(err) || !NotCreated(err) || created || f.count() != 0 {
				t.Fatalf("EnsureIssue = %v, %v (SendByPassed %v, NotCreated %v); %d issues", created, err, SendByPassed(err), NotCreated(err), f.count())
			}
			if !strings.Contains(err.Error(), "the write was not sent") {
				t.Errorf("error %q", err)
			}
			for _, l := range f.logged() {
				if strings.HasPrefix(l, "POST ") {
					t.Errorf("sent %s", l)
				}
			}
		})
	}
	if SendByPassed(errors.New("x")) || SendByPassed(nil) {
		t.Error("SendByPassed of other errors")
	}
}
