package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
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
