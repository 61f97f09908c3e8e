// Command localgithub runs the local GitHub-compatible server for demos:
// point cxloop's GitHub base URL at it instead of api.github.com.
//
//	localgithub --addr 127.0.0.1:8090 --data /tmp/github.json \
//	    --token-file tokens.txt --repo acme/shop \
//	    --webhook-url http://127.0.0.1:9443/webhooks/github --webhook-secret-file secret.txt
//
// Tokens are never printed.
package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/cxloop/cxloop/internal/localgithub"
)

// listFlag collects a repeatable flag whose values may also be comma lists.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}

// secretFlag is a repeatable flag whose values must not be echoed, not even
// in usage errors.
type secretFlag struct{ values *listFlag }

func (s secretFlag) String() string {
	if s.values == nil || len(*s.values) == 0 {
		return ""
	}
	return fmt.Sprintf("(%d set)", len(*s.values))
}

func (s secretFlag) Set(v string) error { return s.values.Set(v) }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "localgithub:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("localgithub", flag.ContinueOnError)
	var tokens, repos, apps, projects, userProjects, issueTypes listFlag
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	dataFile := fs.String("data", "", "file to keep state in across restarts (optional)")
	fs.Var(secretFlag{&tokens}, "token", "accepted personal access token (repeatable or comma list)")
	tokenFile := fs.String("token-file", "", "file with accepted tokens, one per line (keeps them out of ps)")
	fs.Var(&repos, "repo", "repository owner/name to create (repeatable or comma list)")
	fs.Var(&projects, "project", "organisation Project (v2) as ORG/TITLE (no commas) to create, with Title and Status fields, unless it exists (repeatable)")
	fs.Var(&userProjects, "user-project", "user's Project (v2) as LOGIN/TITLE (no commas) to create unless it exists (repeatable)")
	fs.Var(&issueTypes, "issue-type", "issue type an organisation defines, as ORG/NAME (repeatable or comma list)")
	fs.Var(&apps, "app", "GitHub App as APP_ID:INSTALLATION_ID:KEY_PEM_FILE (public or private key; repeatable)")
	webhookURL := fs.String("webhook-url", "", "URL to deliver signed issues webhooks to")
	webhookSecretFile := fs.String("webhook-secret-file", "", "file holding the webhook secret")
	rateLimit := fs.Int("rate-limit", 5000, "primary rate-limit budget per hour and token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tokenFile != "" {
		data, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("reading token file: %w", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				tokens = append(tokens, line)
			}
		}
	}
	if len(tokens) == 0 && len(apps) == 0 {
		return errors.New("no credentials: give --token, --token-file or --app")
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := localgithub.New(localgithub.Options{RateLimit: *rateLimit, DataFile: *dataFile, Logger: log})
	if err != nil {
		return err
	}
	for _, t := range tokens {
		s.AddToken(t)
	}
	for _, spec := range apps {
		appID, installationID, key, err := parseApp(spec)
		if err != nil {
			return err
		}
		s.AddApp(appID, installationID, key)
	}
	for _, full := range repos {
		owner, name, ok := strings.Cut(full, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("--repo %q: want owner/name", full)
		}
		s.AddRepo(owner, name)
	}
	if err := addBoards(s, log, projects, userProjects, issueTypes); err != nil {
		return err
	}
	if *webhookURL != "" {
		secret := ""
		if *webhookSecretFile != "" {
			data, err := os.ReadFile(*webhookSecretFile)
			if err != nil {
				return fmt.Errorf("reading webhook secret: %w", err)
			}
			secret = strings.TrimSpace(string(data))
		}
		if secret == "" {
			log.Warn("webhooks are signed with an empty secret; give --webhook-secret-file")
		}
		s.SetWebhook(*webhookURL, secret)
	}

	if err := s.Start(*addr); err != nil {
		return err
	}
	log.Info("local GitHub serving", "url", s.URL(), "tokens", len(tokens), "apps", len(apps),
		"repos", strings.Join(repos, ","), "data", *dataFile, "webhook", *webhookURL)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	log.Info("shutting down")
	return s.Close()
}

// parseApp reads APP_ID:INSTALLATION_ID:KEY_PEM_FILE.
func parseApp(spec string) (appID, installationID int64, key *rsa.PublicKey, err error) {
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) != 3 {
		return 0, 0, nil, fmt.Errorf("--app %q: want APP_ID:INSTALLATION_ID:KEY_PEM_FILE", spec)
	}
	if appID, err = strconv.ParseInt(parts[0], 10, 64); err != nil {
		return 0, 0, nil, fmt.Errorf("--app app id: %w", err)
	}
	if installationID, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return 0, 0, nil, fmt.Errorf("--app installation id: %w", err)
	}
	data, err := os.ReadFile(parts[2])
	if err != nil {
		return 0, 0, nil, fmt.Errorf("--app key: %w", err)
	}
	key, err = publicKey(data)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("--app key %s: %w", parts[2], err)
	}
	return appID, installationID, key, nil
}

// publicKey extracts an RSA public key from a PEM public or private key.
func publicKey(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		return &k.PublicKey, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return &rk.PublicKey, nil
		}
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
	}
	return nil, fmt.Errorf("not an RSA key (%s)", block.Type)
}

// addBoards creates the projects and issue types the flags name.
func addBoards(s *localgithub.Server, log *slog.Logger, projects, userProjects, issueTypes listFlag) error {
	for _, set := range []struct {
		flag string
		list listFlag
		org  bool
	}{{"--project", projects, true}, {"--user-project", userProjects, false}} {
		for _, spec := range set.list {
			owner, title, ok := strings.Cut(spec, "/")
			if !ok || owner == "" || title == "" {
				return fmt.Errorf("%s %q: want OWNER/TITLE", set.flag, spec)
			}
			n := s.AddProject(owner, set.org, title)
			log.Info("project", "owner", owner, "number", n, "title", title)
		}
	}
	types := map[string][]string{}
	var orgs []string
	for _, spec := range issueTypes {
		org, name, ok := strings.Cut(spec, "/")
		if !ok || org == "" || name == "" {
			return fmt.Errorf("--issue-type %q: want ORG/NAME", spec)
		}
		if _, seen := types[org]; !seen {
			orgs = append(orgs, org)
		}
		types[org] = append(types[org], name)
	}
	for _, org := range orgs {
		s.SetIssueTypes(org, types[org]...)
	}
	return nil
}
