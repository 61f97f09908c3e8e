package localgithub

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// signJWT makes a GitHub App JWT the way GitHub documents it.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(data)
	}
	unsigned := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims)
	digest := sha256.Sum256([]byte(unsigned))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestGitHubAppInstallationTokens(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	clock.SetTime(time.Now().Truncate(time.Second)) // ghinstallation signs with the real clock
	const appID, installationID = 4242, 777
	s := startServer(t, Options{Now: clock.Now})
	s.AddRepo("acme", "shop")
	s.AddApp(appID, installationID, &key.PublicKey)

	// The client cxloop uses for GitHub Apps.
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	itr, err := ghinstallation.New(http.DefaultTransport, appID, installationID, pemKey)
	if err != nil {
		t.Fatal(err)
	}
	itr.BaseURL = strings.TrimSuffix(s.URL(), "/")
	client := github.NewClient(&http.Client{Transport: itr})
	client.BaseURL = newClient(t, s, "").BaseURL
	issue, _, err := client.Issues.Create(context.Background(), "acme", "shop", &github.IssueRequest{Title: github.String("From the app")})
	if err != nil {
		t.Fatalf("create as installation: %v", err)
	}
	if got := issue.GetUser().GetLogin(); got != "app-4242[bot]" || issue.GetUser().GetType() != "Bot" {
		t.Errorf("author %q (%s), want the app's bot", got, issue.GetUser().GetType())
	}
	token, err := itr.Token(context.Background())
	if err != nil || !strings.HasPrefix(token, "ghs_") {
		t.Fatalf("installation token %q, %v", token, err)
	}

	now := clock.Now()
	valid := map[string]any{"iss": "4242", "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix()}
	post := func(jwt, installation string) response {
		return call(t, s, "POST", "/app/installations/"+installation+"/access_tokens", nil, "Authorization", "Bearer "+jwt)
	}
	r := post(signJWT(t, key, valid), "777")
	if r.Status != http.StatusCreated {
		t.Fatalf("access_tokens: %d %s", r.Status, r.Body)
	}
	var grant struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(r.Body, &grant); err != nil {
		t.Fatal(err)
	}
	if !grant.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("expires_at %v, want an hour from now", grant.ExpiresAt)
	}
	if got := call(t, s, "GET", "/repos/acme/shop", nil, "Authorization", "token "+grant.Token); got.Status != http.StatusOK {
		t.Errorf("using the installation token: %d", got.Status)
	}

	otherKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	numericIss := map[string]any{"iss": 4242, "iat": valid["iat"], "exp": valid["exp"]}
	for name, tc := range map[string]struct {
		jwt, installation string
		status            int
	}{
		"numeric iss":          {signJWT(t, key, numericIss), "777", http.StatusCreated},
		"wrong key":            {signJWT(t, otherKey, valid), "777", http.StatusUnauthorized},
		"unknown installation": {signJWT(t, key, valid), "778", http.StatusNotFound},
		"expired": {signJWT(t, key, map[string]any{"iss": "4242",
			"iat": now.Add(-20 * time.Minute).Unix(), "exp": now.Add(-10 * time.Minute).Unix()}), "777", http.StatusUnauthorized},
		"exp too far": {signJWT(t, key, map[string]any{"iss": "4242",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}), "777", http.StatusUnauthorized},
		"not a JWT":      {"garbage", "777", http.StatusUnauthorized},
		"personal token": {testToken, "777", http.StatusUnauthorized},
	} {
		if got := post(tc.jwt, tc.installation); got.Status != tc.status {
			t.Errorf("%s: %d %s, want %d", name, got.Status, got.Body, tc.status)
		}
	}
	// A JWT is not accepted outside /app.
	if got := call(t, s, "GET", "/repos/acme/shop", nil, "Authorization", "Bearer "+signJWT(t, key, valid)); got.Status != http.StatusUnauthorized {
		t.Errorf("JWT on /repos: %d", got.Status)
	}

	clock.Step(61 * time.Minute)
	r = call(t, s, "GET", "/repos/acme/shop", nil, "Authorization", "token "+grant.Token)
	if r.Status != http.StatusUnauthorized || r.JSON(t).(map[string]any)["message"] != "Bad credentials" {
		t.Errorf("expired installation token: %d %s", r.Status, r.Body)
	}
}

func TestDataFileSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	dataFile := filepath.Join(dir, "github.json")
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}

	first := startServer(t, Options{DataFile: dataFile})
	first.AddRepo("acme", "shop")
	first.AddApp(1, 2, &key.PublicKey)
	client := newClient(t, first, testToken)
	ctx := context.Background()
	if _, _, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{
		Title: github.String("Checkout is slow"), Labels: &[]string{"cx", "bug"}, Assignees: &[]string{"hubot"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.Issues.CreateComment(ctx, "acme", "shop", 1, &github.IssueComment{Body: github.String("Seen on mobile too")}); err != nil {
		t.Fatal(err)
	}
	if err := first.CloseIssue("acme", "shop", 1, "not_planned"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r := call(t, first, "POST", "/app/installations/2/access_tokens", nil, "Authorization",
		"Bearer "+signJWT(t, key, map[string]any{"iss": 1, "iat": now.Unix() - 30, "exp": now.Unix() + 300}))
	var grant struct{ Token string }
	if err := json.Unmarshal(r.Body, &grant); err != nil || grant.Token == "" {
		t.Fatalf("installation token: %d %s", r.Status, r.Body)
	}
	before := first.Issues("acme", "shop")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(dataFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), testToken) || strings.Contains(string(data), grant.Token) {
		t.Error("data file holds a token")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data directory holds %d files, want only the data file (no temporaries)", len(entries))
	}

	second := startServer(t, Options{DataFile: dataFile})
	after := second.Issues("acme", "shop")
	if len(after) != 1 || len(before) != 1 {
		t.Fatalf("issues before %+v, after %+v", before, after)
	}
	b, a := before[0], after[0]
	if a.Title != b.Title || a.State != "closed" || a.StateReason != "not_planned" || a.ClosedAt == nil ||
		strings.Join(a.Labels, ",") != "cx,bug" || strings.Join(a.Assignees, ",") != "hubot" ||
		len(a.Comments) != 1 || a.Comments[0] != "Seen on mobile too" || !a.CreatedAt.Equal(b.CreatedAt) {
		t.Errorf("after restart %+v, before %+v", a, b)
	}
	// Numbering continues, and the issued installation token still works.
	issue, _, err := newClient(t, second, testToken).Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("next")})
	if err != nil || issue.GetNumber() != 2 {
		t.Errorf("create after restart: #%d %v", issue.GetNumber(), err)
	}
	if r := call(t, second, "GET", "/repos/acme/shop", nil, "Authorization", "token "+grant.Token); r.Status != http.StatusOK {
		t.Errorf("installation token after restart: %d", r.Status)
	}

	if err := os.WriteFile(dataFile, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{DataFile: dataFile}); err == nil {
		t.Error("New accepted a corrupt data file")
	}
}
