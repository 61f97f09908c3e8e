package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/controllers"
	"github.com/cxloop/cxloop/internal/pageauth"
)

// runMainEnv, when set, makes the test binary run main with the JSON list
// of arguments it holds instead of the tests: main exits the process, so
// it is tested in a process of its own.
const runMainEnv = "CXLOOP_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if args := os.Getenv(runMainEnv); args != "" {
		var list []string
		if err := json.Unmarshal([]byte(args), &list); err != nil {
			panic(err)
		}
		os.Args = append([]string{"manager"}, list...)
		main()
		os.Exit(0) // main returns only after the manager stopped
	}
	os.Exit(m.Run())
}

// runManager runs main with args in a process of its own, with no
// cluster to reach (no kubeconfig, not in a pod), and returns its exit
// code and standard error.
func runManager(t *testing.T, args ...string) (int, string) {
	t.Helper()
	list, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	home := t.TempDir()
	cmd.Env = []string{runMainEnv + "=" + string(list), "HOME=" + home, "KUBECONFIG=" + filepath.Join(home, "no-kubeconfig"), "PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("manager %q still running after a minute:\n%s", args, stderr.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running manager %q: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// noCluster is what main says when the flags passed and it looks for the
// cluster, which these tests never give it.
const noCluster = "unable to get kubeconfig"

// TestMainRefusesBadFlagsBeforeReachingTheCluster: each flag that is
// validated at start stops the manager with exit code 1 and a message
// that names what is wrong, before any connection to the API server.
func TestMainRefusesBadFlagsBeforeReachingTheCluster(t *testing.T) {
	shard := controllers.ShardLabel + "=shard1"
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown auth mode", []string{"--status-page-auth=oidc"}, []string{"configuring the status page", `\"oidc\" is not one of token, proxy, none`}},
		{"proxy mode without the proxy's addresses", []string{"--status-page-auth=proxy"}, []string{"configuring the status page", "proxy mode needs the proxy's addresses"}},
		{"proxy mode with a host name for a CIDR", []string{"--status-page-auth=proxy", "--status-page-proxy-trusted-cidrs=oauth2-proxy.auth"}, []string{"--status-page-proxy-trusted-cidrs", "is not a CIDR"}},
		{"trusted CIDRs outside proxy mode", []string{"--status-page-auth=token", "--status-page-proxy-trusted-cidrs=10.0.0.0/8"}, []string{"--status-page-proxy-trusted-cidrs is for --status-page-auth=proxy, not token"}},
		{"trusted CIDRs with no auth at all", []string{"--status-page-auth=none", "--status-page-proxy-trusted-cidrs=10.0.0.0/8"}, []string{"not none"}},
		{"allowed host with a scheme", []string{"--github-allowed-hosts=https://github.example.com"}, []string{"--github-allowed-hosts", "is not a host[:port]"}},
		{"allowed host with a wildcard", []string{"--github-allowed-hosts=api.github.com,*.example.com"}, []string{"--github-allowed-hosts"}},
		{"allowed host with port 0", []string{"--github-allowed-hosts=ghe.example.com:0"}, []string{"invalid port"}},
		{"namespace that is no DNS label", []string{"--watch-namespaces=team-a,Team_B"}, []string{"configuring the watched namespaces", "--watch-namespaces", "Team_B"}},
		{"label selector that does not parse", []string{"--watch-label-selector=shard in (a"}, []string{"configuring the watched journeys", "is not a label selector"}},
		{"a shard electing the main manager's Lease", []string{"--leader-elect", "--watch-label-selector=" + shard}, []string{"a shard needs a --leader-election-id of its own", "shard1"}},
		{"a shard naming the main manager's Lease outright", []string{"--leader-elect", "--watch-label-selector=" + shard, "--leader-election-id=" + controllers.LeaderElectionID}, []string{"a shard needs a --leader-election-id of its own"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runManager(t, append(tc.args, "--health-probe-bind-address=0")...)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, noCluster) {
				t.Errorf("went on to look for the cluster:\n%s", out)
			}
		})
	}
}

// TestMainAcceptsValidFlags: valid combinations pass validation and the
// manager goes on to look for its cluster (which fails here, on purpose).
func TestMainAcceptsValidFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"defaults", nil},
		{"proxy mode with its addresses", []string{"--status-page-auth=proxy", "--status-page-proxy-trusted-cidrs=10.0.0.0/8, fd00::/8"}},
		{"no auth, for demos", []string{"--status-page-auth=none"}},
		{"a GitHub Enterprise Server and local hosts", []string{"--github-allowed-hosts=ghe.example.com:8443, 127.0.0.1:8090,[::1]:9000"}},
		{"namespaces, repeated and spaced", []string{"--watch-namespaces= team-a ,team-b,team-a,"}},
		// The main manager takes the unlabelled journeys: its selector
		// matches no label at all, so it keeps the default Lease.
		{"the main manager of shards keeps the default Lease", []string{"--leader-elect", "--leader-election-namespace=cxloop-system", "--watch-label-selector=!" + controllers.ShardLabel}},
		{"a shard with a Lease of its own", []string{"--leader-elect", "--leader-election-namespace=cxloop-system", "--watch-label-selector=" + controllers.ShardLabel + "=shard1", "--leader-election-id=cxloop-shard1"}},
		{"a shard without leader election", []string{"--watch-label-selector=" + controllers.ShardLabel + "=shard1"}},
		{"an empty selector", []string{"--leader-elect", "--watch-label-selector="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runManager(t, append(tc.args, "--health-probe-bind-address=0")...)
			if code != 1 || !strings.Contains(out, noCluster) {
				t.Errorf("exit code %d, want 1 from looking for the cluster (%q):\n%s", code, noCluster, out)
			}
		})
	}
}

// TestMainRefusesMalformedFlagValues: the flag package itself refuses
// values of the wrong type and flags that do not exist, with exit code 2.
func TestMainRefusesMalformedFlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-concurrent-reconciles=four"}, `invalid value "four" for flag -max-concurrent-reconciles`},
		{[]string{"--github-request-timeout=30"}, `invalid value "30" for flag -github-request-timeout`},
		{[]string{"--leader-elect-lease-duration=soon"}, `invalid value "soon" for flag -leader-elect-lease-duration`},
		{[]string{"--github-writes-per-hour=1e3"}, `invalid value "1e3" for flag -github-writes-per-hour`},
		{[]string{"--leader-elect=maybe"}, `invalid boolean value "maybe" for -leader-elect`},
		{[]string{"--watch-namespace=team-a"}, "flag provided but not defined: -watch-namespace"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			code, out := runManager(t, tc.args...)
			if code != 2 || !strings.Contains(out, tc.want) {
				t.Errorf("exit code %d, want 2 and %q:\n%s", code, tc.want, out)
			}
		})
	}
}

func TestStatusPageAuth(t *testing.T) {
	proxyNets := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.0/24")}
	for _, tc := range []struct {
		name, mode, cidrs string
		wantMode          pageauth.Mode
		wantTrusted       []netip.Prefix
		wantErr           string
	}{
		{"token", "token", "", pageauth.ModeToken, nil, ""},
		{"none", "none", "", pageauth.ModeNone, nil, ""},
		{"proxy, CIDRs masked", "proxy", "10.1.2.3/8,192.168.1.7/24", pageauth.ModeProxy, proxyNets, ""},
		{"proxy without CIDRs", "proxy", "", "", nil, "--status-page-proxy-trusted-cidrs"},
		{"proxy with only commas", "proxy", " , ", "", nil, "proxy mode needs"},
		{"proxy with a bare address", "proxy", "10.0.0.1", "", nil, "is not a CIDR"},
		{"token with CIDRs", "token", "10.0.0.0/8", "", nil, "is for --status-page-auth=proxy, not token"},
		{"none with CIDRs", "none", "10.0.0.0/8", "", nil, "is for --status-page-auth=proxy, not none"},
		{"mode in capitals", "Proxy", "10.0.0.0/8", "", nil, "--status-page-auth"},
		{"empty mode", "", "", "", nil, "--status-page-auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := statusPageAuth(tc.mode, "X-User", "X-Groups", tc.cidrs)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Mode != tc.wantMode || !slices.Equal(a.ProxyTrusted, tc.wantTrusted) {
				t.Errorf("mode %q, trusted %v; want %q, %v", a.Mode, a.ProxyTrusted, tc.wantMode, tc.wantTrusted)
			}
			if a.ProxyUserHeader != "X-User" || a.ProxyGroupsHeader != "X-Groups" {
				t.Errorf("headers %q, %q; want the flags' X-User, X-Groups", a.ProxyUserHeader, a.ProxyGroupsHeader)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func secretStrings(f func() [][]byte) []string {
	var out []string
	for _, s := range f() {
		out = append(out, string(s))
	}
	return out
}

// TestWebhookSecrets: the webhook's secrets come from the files when given
// (the Secret's name is then ignored), from nowhere without an address.
// No manager is needed for any of these: the Secret's watch is refused
// before it would use one.
func TestWebhookSecrets(t *testing.T) {
	dir := t.TempDir()
	current := writeFile(t, dir, "secret", "s3cret")
	previous := writeFile(t, dir, "previous", "old-s3cret")
	missing := filepath.Join(dir, "missing")
	t.Setenv("POD_NAMESPACE", "")
	for _, tc := range []struct {
		name, addr, secret, file, previousFile string
		want                                   []string
		wantNil                                bool
		wantErr                                string
	}{
		{name: "webhook off", addr: "", secret: "gh-webhook", file: current, wantNil: true},
		{name: "webhook off ignores a missing file", addr: "", file: missing, wantNil: true},
		{name: "no secret configured", addr: ":9443", wantNil: true},
		{name: "file", addr: ":9443", file: current, want: []string{"s3cret"}},
		{name: "file and previous file", addr: ":9443", file: current, previousFile: previous, want: []string{"s3cret", "old-s3cret"}},
		{name: "previous file not there (yet)", addr: ":9443", file: current, previousFile: missing, want: []string{"s3cret"}},
		{name: "file wins over the Secret", addr: ":9443", secret: "gh-webhook", file: current, want: []string{"s3cret"}},
		{name: "missing file", addr: ":9443", file: missing, wantErr: "reading the webhook secret"},
		{name: "Secret outside a pod", addr: ":9443", secret: "gh-webhook", wantErr: "needs a namespace (POD_NAMESPACE)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := webhookSecrets(context.Background(), nil, tc.addr, tc.secret, tc.file, tc.previousFile)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tc.wantNil:
				if got != nil {
					t.Fatalf("secrets %q, want none configured (nil)", secretStrings(got))
				}
			case got == nil:
				t.Fatal("no secrets")
			default:
				if s := secretStrings(got); !slices.Equal(s, tc.want) {
					t.Fatalf("secrets %q, want %q", s, tc.want)
				}
			}
		})
	}
}
