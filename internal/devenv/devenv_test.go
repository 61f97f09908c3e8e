package devenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindRootWalksUp(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "cmd", "demo")
	for _, d := range []string{filepath.Join(root, "config", "crd", "bases"), deep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(deep)
	got, err := FindRoot("demo")
	if err != nil || got != root {
		t.Fatalf("FindRoot = %q, %v; want %q", got, err, root)
	}
	t.Chdir(t.TempDir())
	if _, err := FindRoot("demo"); err == nil {
		t.Fatal("found a root outside any checkout")
	}
}

func TestRandomHex(t *testing.T) {
	a, b := RandomHex(16), RandomHex(16)
	if len(a) != 32 || a == b {
		t.Fatalf("RandomHex: %q, %q", a, b)
	}
}
