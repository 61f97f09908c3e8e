package devenv

import (
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// TestNewSchemeKnowsKubernetesAndCxloop: the scheme holds cxloop's kinds
// and the built-in ones the controllers use, and each call makes its own.
func TestNewSchemeKnowsKubernetesAndCxloop(t *testing.T) {
	s := NewScheme()
	for _, tc := range []struct {
		obj   runtime.Object
		group string
		kind  string
	}{
		{&cxv1.CustomerJourney{}, "cx.cxloop.dev", "CustomerJourney"},
		{&cxv1.ImprovementPhase{}, "cx.cxloop.dev", "ImprovementPhase"},
		{&corev1.Secret{}, "", "Secret"},
		{&authnv1.TokenReview{}, "authentication.k8s.io", "TokenReview"},
	} {
		gvks, _, err := s.ObjectKinds(tc.obj)
		if err != nil || len(gvks) == 0 || gvks[0].Group != tc.group || gvks[0].Kind != tc.kind {
			t.Errorf("%T: %v, %v; want %s %s", tc.obj, gvks, err, tc.group, tc.kind)
		}
	}
	if NewScheme() == s {
		t.Error("two calls share one scheme")
	}
}

// TestStartAPIServerSaysWhereItLooked: without the binaries it fails at
// once, naming the directory it looked in ($KUBEBUILDER_ASSETS when none
// was given), even when the environment asks for an existing cluster.
func TestStartAPIServerSaysWhereItLooked(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "config", "crd", "bases"), 0o755); err != nil {
		t.Fatal(err)
	}
	assets := filepath.Join(t.TempDir(), "no-binaries")
	t.Setenv("KUBEBUILDER_ASSETS", assets)
	t.Setenv("USE_EXISTING_CLUSTER", "true")
	for _, tc := range []struct{ assets, want string }{
		{assets, "starting kube-apiserver and etcd from " + assets + ":"},
		{"", "starting kube-apiserver and etcd from $KUBEBUILDER_ASSETS:"},
	} {
		s, err := StartAPIServer(root, tc.assets, nil)
		if err == nil {
			_ = s.Stop()
			t.Fatalf("started an API server from %q", tc.assets)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %q, want it to say %q", err, tc.want)
		}
	}
}

// TestFindRootNeedsTheCRDDirectory: a config/crd/bases that is a file is
// no checkout; the search goes on upwards, and the error names the make
// target to run instead.
func TestFindRootNeedsTheCRDDirectory(t *testing.T) {
	root := t.TempDir()
	inner := filepath.Join(root, "vendor", "other")
	for _, d := range []string{filepath.Join(root, "config", "crd", "bases"), filepath.Join(inner, "config", "crd")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(inner, "config", "crd", "bases"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(inner)
	if got, err := FindRoot("demo"); err != nil || got != root {
		t.Errorf("FindRoot from below a file named bases = %q, %v; want %q", got, err, root)
	}
	t.Chdir(root)
	if got, err := FindRoot("demo"); err != nil || got != root {
		t.Errorf("FindRoot at the root = %q, %v", got, err)
	}
	t.Chdir(t.TempDir())
	if _, err := FindRoot("bench"); err == nil || !strings.Contains(err.Error(), "`make bench`") {
		t.Errorf("outside a checkout: %v, want an error naming make bench", err)
	}
}

func TestRandomHexSizes(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range []int{0, 1, 8, 16, 32} {
		for range 20 {
			s := RandomHex(n)
			b, err := hex.DecodeString(s)
			if err != nil || len(b) != n || s != strings.ToLower(s) {
				t.Fatalf("RandomHex(%d) = %q (%v)", n, s, err)
			}
			if n >= 8 && seen[s] {
				t.Fatalf("RandomHex(%d) repeated %q", n, s)
			}
			seen[s] = true
		}
	}
}

// TestShiftedClockTicksInRealTime: timers on a clock weeks in the past
// fire after their real duration; the zero clock is real time; a positive
// offset stands in the future.
func TestShiftedClockTicksInRealTime(t *testing.T) {
	var c ShiftedClock
	if d := time.Since(c.Now()); d < -time.Second || d > time.Second || c.Offset() != 0 {
		t.Errorf("the zero clock is %v from real time", d)
	}
	c.SetOffset(-30 * 24 * time.Hour)
	start := time.Now()
	select {
	case <-c.After(30 * time.Millisecond):
	case <-time.After(10 * time.Second):
		t.Fatal("a timer on the shifted clock did not fire")
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("a 30ms timer fired after %v", d)
	}
	c.SetOffset(time.Hour)
	if d := c.Now().Sub(time.Now()); d < time.Hour-time.Minute || d > time.Hour+time.Minute {
		t.Errorf("with an hour's offset the clock is %v ahead", d)
	}
	if s := c.Since(time.Now()); s < time.Hour-time.Minute || s > time.Hour+time.Minute {
		t.Errorf("Since(real now) = %v, want about an hour", s)
	}
}

func TestFreeAddrIsLoopbackWithAPort(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" || port == "0" || port == "" {
		t.Errorf("FreeAddr = %q (%v), want 127.0.0.1 with a port", addr, err)
	}
}

// TestSyncBufferWithoutMaxKeepsEverything: Max 0 bounds nothing.
func TestSyncBufferWithoutMaxKeepsEverything(t *testing.T) {
	var b SyncBuffer
	line := strings.Repeat("x", 1023) + "\n"
	for range 1024 {
		if n, err := b.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got := len(b.String()); got != 1<<20 {
		t.Errorf("%d bytes kept, want 1 MiB", got)
	}
	capped := SyncBuffer{Max: 10}
	_, _ = capped.Write([]byte("0123456789"))
	_, _ = capped.Write([]byte("a"))  // at Max: still kept
	_, _ = capped.Write([]byte("bc")) // past Max: dropped
	if got := capped.String(); got != "0123456789a" {
		t.Errorf("capped buffer %q, want 0123456789a", got)
	}
}
