// Package devenv is cxloop's kit for developers, shared by the controller
// tests, the demo and the benchmark: finding the checkout, starting a local
// API server with cxloop's CRDs, a clock shifted into the past, free ports,
// a buffer safe to read while written, throwaway secrets.
package devenv

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
)

// FindRoot finds the repository root (the folder with config/crd/bases)
// from the working directory upwards; target names the make target to run
// instead, for the error.
func FindRoot(target string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "config", "crd", "bases")); err == nil && st.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("config/crd/bases not found: run this from the cxloop repository (`make " + target + "`)")
		}
		dir = parent
	}
}

// RandomHex is n random bytes in hex: a throwaway token or secret.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
