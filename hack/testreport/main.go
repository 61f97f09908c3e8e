// Command testreport reads `go test -json` on its standard input and prints
// what `go test` prints without -v: a line per package, and the output of
// the tests that failed or were skipped. It ends with the count of tests
// passed, failed and skipped, and exits 1 when any test failed or was
// skipped, or a package failed: `make test` runs every test, so a skipped
// one is a missing tool (Chromium, Prometheus, Node) or a forgotten switch.
//
//	go test -json ./... | go run ./hack/testreport
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	s, err := report(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if !s.ok() {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// summary counts what happened to the tests and packages of one run.
type summary struct {
	Passed, Failed, Skipped int
	// SkippedTests and FailedTests are "package TestName", sorted.
	SkippedTests, FailedTests []string
	// FailedPackages are the packages that failed, also those that did not build.
	FailedPackages []string
}

func (s summary) ok() bool {
	return s.Failed == 0 && s.Skipped == 0 && len(s.FailedPackages) == 0
}

// report reads the events from r, writes the human report to w and returns
// the counts. Subtests count as tests.
func report(r io.Reader, w io.Writer) (summary, error) {
	var s summary
	// output holds each test's lines, and each package's own lines under
	// the test name "", until they are known to be worth printing.
	output := map[string]map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Not an event: go test's own messages (a build failure) pass through.
			fmt.Fprintln(w, string(line))
			continue
		}
		if e.Package != "" && output[e.Package] == nil {
			output[e.Package] = map[string][]string{}
		}
		switch e.Action {
		case "build-output":
			// The compiler's messages (events of their own, without a package).
			fmt.Fprint(w, e.Output)
		case "output":
			output[e.Package][e.Test] = append(output[e.Package][e.Test], e.Output)
		case "pass":
			if e.Test != "" {
				s.Passed++
				delete(output[e.Package], e.Test)
				continue
			}
			// A package that passed: only go test's "ok" line.
			for _, l := range output[e.Package][""] {
				if strings.HasPrefix(l, "ok ") {
					fmt.Fprint(w, l)
				}
			}
			delete(output, e.Package)
		case "skip":
			if e.Test == "" {
				// A package without tests.
				delete(output, e.Package)
				continue
			}
			s.Skipped++
			s.SkippedTests = append(s.SkippedTests, e.Package+" "+e.Test)
			fmt.Fprint(w, strings.Join(output[e.Package][e.Test], ""))
			delete(output[e.Package], e.Test)
		case "fail":
			if e.Test != "" {
				s.Failed++
				s.FailedTests = append(s.FailedTests, e.Package+" "+e.Test)
				fmt.Fprint(w, strings.Join(output[e.Package][e.Test], ""))
				delete(output[e.Package], e.Test)
				continue
			}
			s.FailedPackages = append(s.FailedPackages, e.Package)
			fmt.Fprint(w, strings.Join(output[e.Package][""], ""))
			delete(output, e.Package)
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	sort.Strings(s.SkippedTests)
	sort.Strings(s.FailedTests)
	sort.Strings(s.FailedPackages)
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped\n", s.Passed, s.Failed, s.Skipped)
	for _, t := range s.SkippedTests {
		fmt.Fprintf(w, "skipped: %s\n", t)
	}
	for _, t := range s.FailedTests {
		fmt.Fprintf(w, "failed: %s\n", t)
	}
	for _, p := range s.FailedPackages {
		fmt.Fprintf(w, "failed package: %s\n", p)
	}
	return s, nil
}
