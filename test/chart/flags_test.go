package chart

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestManagerAcceptsWhatItIsGiven: the manager binary, built from this
// commit, parses every argument the installer and the chart pass it (with
// defaults, and with every option that adds one): a flag the chart names
// but the manager does not define is a pod that crash-loops at start.
func TestManagerAcceptsWhatItIsGiven(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "manager")
	build := exec.Command("go", "build", "-o", bin, "./cmd")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the manager: %v\n%s", err, out)
	}
	cases := map[string][]string{
		"installer":      args(t, installerObjects(t)),
		"chart defaults": args(t, mustRender(t, "cxloop", "cxloop-system", nil)),
		"chart, every option": args(t, mustRender(t, "cxloop", "cxloop-system", map[string]any{
			"watchNamespaces": []any{"team-a", "team-b"},
			"statusPage":      map[string]any{"auth": map[string]any{"mode": "proxy", "proxy": map[string]any{"trustedCIDRs": []any{"10.0.0.0/8"}}}},
			"github":          map[string]any{"allowedHosts": []any{"ghe.example.com"}},
			"metrics":         map[string]any{"secure": false},
			"sharding":        map[string]any{"shards": []any{"shard1"}},
		})),
		"chart, a shard": containerArgs(t, find(t, mustRender(t, "cxloop", "cxloop-system", map[string]any{
			"sharding": map[string]any{"shards": []any{"shard1"}},
		}), "Deployment", "controller-manager-shard1")),
	}
	for name, a := range cases {
		if len(a) == 0 {
			t.Errorf("%s: no arguments found", name)
			continue
		}
		// -h after the arguments: the manager parses them all, then prints
		// its usage and exits 0 without starting; an unknown flag exits 2
		// before it gets there.
		cmd := exec.Command(bin, append(a, "-h")...)
		cmd.Env = append(os.Environ(), "POD_NAMESPACE=cxloop-system")
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), "flag provided but not defined") {
			t.Errorf("%s: the manager refuses %q: %v\n%s", name, a, err, lastLines(string(out), 3))
		} else {
			t.Logf("%s: %d arguments accepted", name, len(a))
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
