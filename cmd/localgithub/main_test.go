package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/localgithub"
)

func TestListFlagTakesRepeatsAndCommaLists(t *testing.T) {
	var l listFlag
	for _, v := range []string{"acme/shop", "acme/platform, acme/web", ""} {
		if err := l.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.String(); got != "acme/shop,acme/platform,acme/web" {
		t.Errorf("list %q", got)
	}
}

func TestSecretFlagNeverShowsTokens(t *testing.T) {
	var tokens listFlag
	f := secretFlag{&tokens}
	if err := f.Set("ghp_secret1,ghp_secret2"); err != nil {
		t.Fatal(err)
	}
	if s := f.String(); strings.Contains(s, "ghp_") || len(tokens) != 2 {
		t.Errorf("String %q, tokens %d", s, len(tokens))
	}
}

func TestParseAppReadsPublicAndPrivateKeys(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*pem.Block{
		"private.pem": {Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)},
		"public.pem":  {Type: "PUBLIC KEY", Bytes: pub},
	}
	for name, block := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		appID, installationID, got, err := parseApp("12:34:" + path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if appID != 12 || installationID != 34 || !got.Equal(&key.PublicKey) {
			t.Errorf("%s: %d %d %v", name, appID, installationID, got.Equal(&key.PublicKey))
		}
	}
	for _, bad := range []string{"12:34", "x:34:" + filepath.Join(dir, "public.pem"), "12:34:" + filepath.Join(dir, "missing.pem")} {
		if _, _, _, err := parseApp(bad); err == nil {
			t.Errorf("parseApp(%q) accepted", bad)
		}
	}
}

func TestRunRequiresCredentials(t *testing.T) {
	if err := run([]string{"--repo", "acme/shop"}); err == nil || !strings.Contains(err.Error(), "no credentials") {
		t.Errorf("run without tokens: %v", err)
	}
	if err := run([]string{"--token", "t", "--repo", "acme"}); err == nil {
		t.Error("run accepted a malformed --repo")
	}
}

func TestBoardFlagsCreateProjectsAndIssueTypesOnce(t *testing.T) {
	s, err := localgithub.New(localgithub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 2 { // a restart with the same flags makes nothing twice
		if err := addBoards(s, log, listFlag{"acme/Nature park"}, listFlag{"monalisa/Mine"}, listFlag{"acme/Task", "acme/Feature"}); err != nil {
			t.Fatal(err)
		}
	}
	if fields, err := s.ProjectFields("acme", true, 1); err != nil || len(fields) != 2 {
		t.Errorf("acme's project 1: fields %v, %v", fields, err)
	}
	if _, err := s.ProjectFields("acme", true, 2); err == nil {
		t.Error("the project was made twice")
	}
	if _, err := s.ProjectFields("monalisa", false, 1); err != nil {
		t.Errorf("monalisa's project: %v", err)
	}
	for _, bad := range []listFlag{{"acme"}, {"/title"}} {
		if err := addBoards(s, log, bad, nil, nil); err == nil || !strings.Contains(err.Error(), "--project") {
			t.Errorf("--project %v: %v, want an error naming the flag", bad, err)
		}
	}
	if err := addBoards(s, log, nil, nil, listFlag{"Task"}); err == nil || !strings.Contains(err.Error(), "--issue-type") {
		t.Errorf("--issue-type Task: %v", err)
	}
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPublicKeyReadsEveryRSAEncodingAndRefusesOthers: an RSA key in any
// of its four PEM encodings yields its public key; an EC key, a corrupt
// block or no PEM at all is refused.
func TestPublicKeyReadsEveryRSAEncodingAndRefusesOthers(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	pkix, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	ecPKCS8, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPKIX, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecSEC1, _ := x509.MarshalECPrivateKey(ec)
	block := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"PKCS#1 private", block("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), ""},
		{"PKCS#8 private", block("PRIVATE KEY", pkcs8), ""},
		{"PKCS#1 public", block("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&key.PublicKey)), ""},
		{"PKIX public", block("PUBLIC KEY", pkix), ""},
		{"EC key in PKCS#8", block("PRIVATE KEY", ecPKCS8), "not an RSA key (PRIVATE KEY)"},
		{"EC public key", block("PUBLIC KEY", ecPKIX), "not an RSA key (PUBLIC KEY)"},
		{"EC private key", block("EC PRIVATE KEY", ecSEC1), "not an RSA key (EC PRIVATE KEY)"},
		{"certificate", block("CERTIFICATE", []byte{1, 2, 3}), "not an RSA key (CERTIFICATE)"},
		{"corrupt PKCS#1", block("RSA PRIVATE KEY", []byte("garbage")), "asn1"},
		{"corrupt PKCS#8", block("PRIVATE KEY", []byte("garbage")), "asn1"},
		{"corrupt PKIX", block("PUBLIC KEY", []byte("garbage")), "asn1"},
		{"not PEM", []byte("ssh-rsa AAAAB3NzaC1yc2E"), "no PEM block"},
		{"empty", nil, "no PEM block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := publicKey(tc.data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("publicKey = %v, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !got.Equal(&key.PublicKey) {
				t.Fatalf("publicKey = %v, %v; want the RSA key's public key", got, err)
			}
		})
	}
}

// TestParseAppNamesWhatIsWrong: each part of --app that is wrong is named
// in the error, with the flag.
func TestParseAppNamesWhatIsWrong(t *testing.T) {
	dir := t.TempDir()
	notKey := filepath.Join(dir, "not-a-key.pem")
	if err := os.WriteFile(notKey, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]string{
		"":                         "want APP_ID:INSTALLATION_ID:KEY_PEM_FILE",
		"12":                       "want APP_ID:INSTALLATION_ID:KEY_PEM_FILE",
		"12:34":                    "want APP_ID:INSTALLATION_ID:KEY_PEM_FILE",
		"twelve:34:" + notKey:      "--app app id",
		"12:thirty-four:" + notKey: "--app installation id",
		"12:-:" + notKey:           "--app installation id",
		"12:34:":                   "--app key",
		"12:34:" + notKey:          "--app key " + notKey + ": no PEM block",
	} {
		if _, _, _, err := parseApp(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseApp(%q) = %v, want an error with %q", spec, err, want)
		}
	}
}

// TestRunRefusesBadFlags: run stops before serving anything on each bad
// flag, saying which.
func TestRunRefusesBadFlags(t *testing.T) {
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := writePEM(t, dir, "app.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
	comments := filepath.Join(dir, "comments.txt")
	if err := os.WriteFile(comments, []byte("# tokens for the demo\n\n   \n# none yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--tokens", "t"}, "flag provided but not defined: -tokens"},
		{"rate limit not a number", []string{"--token", "t", "--rate-limit", "many"}, `invalid value "many" for flag -rate-limit`},
		{"missing token file", []string{"--token-file", missing}, "reading token file"},
		{"token file of comments only", []string{"--token-file", comments}, "no credentials"},
		{"empty token", []string{"--token", " , "}, "no credentials"},
		{"bad app", []string{"--app", "12:34"}, "--app"},
		{"app with a missing key", []string{"--app", "12:34:" + missing}, "--app key"},
		{"repo without a name", []string{"--token", "t", "--repo", "acme/"}, `--repo "acme/": want owner/name`},
		{"repo without an owner", []string{"--token", "t", "--repo", "/shop"}, `--repo "/shop"`},
		{"repo with a path", []string{"--app", "12:34:" + keyFile, "--repo", "acme/shop/issues"}, `--repo "acme/shop/issues"`},
		{"project without a title", []string{"--token", "t", "--project", "acme/"}, `--project "acme/": want OWNER/TITLE`},
		{"user project without an owner", []string{"--token", "t", "--user-project", "/Mine"}, `--user-project "/Mine"`},
		{"issue type without an org", []string{"--token", "t", "--issue-type", "/Bug"}, `--issue-type "/Bug"`},
		{"missing webhook secret", []string{"--token", "t", "--webhook-url", "http://127.0.0.1:1/hook", "--webhook-secret-file", missing}, "reading webhook secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(append(tc.args, "--addr", "127.0.0.1:0"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run(%q) = %v, want an error with %q", tc.args, err, tc.want)
			}
		})
	}
}

// TestRunNeverEchoesTokens: a usage error shows how many tokens were
// given, never the tokens.
func TestRunNeverEchoesTokens(t *testing.T) {
	fs := flag.NewFlagSet("localgithub", flag.ContinueOnError)
	var tokens listFlag
	fs.Var(secretFlag{&tokens}, "token", "")
	var usage strings.Builder
	fs.SetOutput(&usage)
	if err := fs.Parse([]string{"--token", "ghp_first", "--token", "ghp_second,ghp_third", "--token"}); err == nil {
		t.Fatal("a --token without a value was accepted")
	}
	if len(tokens) != 3 {
		t.Errorf("%d tokens taken, want 3", len(tokens))
	}
	if strings.Contains(usage.String(), "ghp_") {
		t.Errorf("the usage error shows a token:\n%s", usage.String())
	}
	if got := (secretFlag{&tokens}).String(); got != "(3 set)" {
		t.Errorf("String = %q, want (3 set)", got)
	}
	if got := (secretFlag{}).String(); got != "" {
		t.Errorf("String of the zero flag (its default, in usage) = %q, want empty", got)
	}
}
