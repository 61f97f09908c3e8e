package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goTestJSON runs `go test -json` on a module of its own holding the given
// test file, and returns what go test printed.
func goTestJSON(t *testing.T, testFile string) []byte {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"go.mod":         "module example.com/sample\n\ngo 1.22\n",
		"sample_test.go": testFile,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "test", "-json", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	out, _ := cmd.Output() // go test exits 1 when a test fails; the events tell.
	return out
}

func TestReportCountsSkippedAndFailedTests(t *testing.T) {
	events := goTestJSON(t, `package sample

import "testing"

func TestPasses(t *testing.T) { t.Log("quiet when it passes") }

func TestSkips(t *testing.T) { t.Skip("no browser on this machine") }

func TestFails(t *testing.T) { t.Error("the answer was wrong") }

func TestSubtests(t *testing.T) {
	t.Run("passes", func(t *testing.T) {})
	t.Run("skips", func(t *testing.T) { t.Skip("no Prometheus") })
}
`)
	var out bytes.Buffer
	s, err := report(bytes.NewReader(events), &out)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Logf("report:\n%s", text)
	if s.Passed != 3 || s.Failed != 1 || s.Skipped != 2 {
		t.Errorf("passed %d, failed %d, skipped %d; want 3 (TestPasses, TestSubtests/passes, TestSubtests), 1, 2", s.Passed, s.Failed, s.Skipped)
	}
	if s.ok() {
		t.Error("a run with a failed and skipped tests is reported ok")
	}
	for _, want := range []string{"no browser on this machine", "no Prometheus", "the answer was wrong",
		"skipped: example.com/sample TestSkips", "skipped: example.com/sample TestSubtests/skips",
		"failed: example.com/sample TestFails", "failed package: example.com/sample",
		"tests: 3 passed, 1 failed, 2 skipped"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(text, "quiet when it passes") {
		t.Error("the report prints the output of a test that passed")
	}
}

func TestReportPassesARunWithoutSkips(t *testing.T) {
	events := goTestJSON(t, `package sample

import "testing"

func TestPasses(t *testing.T) { t.Log("quiet when it passes") }
`)
	var out bytes.Buffer
	s, err := report(bytes.NewReader(events), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !s.ok() || s.Passed != 1 {
		t.Errorf("summary %+v, want 1 passed and ok\n%s", s, out.String())
	}
	if !strings.Contains(out.String(), "ok  \texample.com/sample") || !strings.Contains(out.String(), "tests: 1 passed, 0 failed, 0 skipped") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestReportFailsAPackageThatDoesNotBuild(t *testing.T) {
	events := goTestJSON(t, "package sample\n\nfunc broken() int { return \"not a number\" }\n")
	var out bytes.Buffer
	s, err := report(bytes.NewReader(events), &out)
	if err != nil {
		t.Fatal(err)
	}
	if s.ok() {
		t.Errorf("a package that does not build is reported ok:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "not a number") {
		t.Errorf("the report lacks the compiler's message:\n%s", out.String())
	}
}
