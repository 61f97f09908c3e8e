// Package promtest runs a real Prometheus (Debian's prometheus package) on
// history backfilled with promtool from an OpenMetrics file, for the tests
// and the demo: they place a quick win's open and close inside weeks of
// real series on an injected clock.
package promtest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/devenv"
)

// Sample is one value at one time.
type Sample struct {
	At    time.Time
	Value float64
}

// Series is one time series of a gauge.
type Series struct {
	// Name is the metric name, such as cx_touchpoint_csat.
	Name string
	// Labels of the series.
	Labels map[string]string
	// Samples in time order.
	Samples []Sample
}

// Every samples f from start to end (inclusive) at each step.
func Every(start, end time.Time, step time.Duration, f func(time.Time) float64) []Sample {
	var out []Sample
	for t := start; !t.After(end); t = t.Add(step) {
		out = append(out, Sample{At: t, Value: f(t)})
	}
	return out
}

// BasicAuthUser and BasicAuthPassword are the only credentials a Prometheus
// started with Options.BasicAuth accepts; the web config holds their bcrypt
// hash (computed once with golang.org/x/crypto/bcrypt, cost 10).
const (
	BasicAuthUser     = "cxloop"
	BasicAuthPassword = "cxloop-prometheus-test"
	basicAuthHash     = "$2a$10$a.PIInz96kU3EoWJFJQ.tufQOE4ifz9iC8MAu963c9TPdtdi7EQgG"
)

// Options of a Prometheus.
type Options struct {
	// Series are backfilled before Prometheus starts.
	Series []Series
	// BasicAuth makes Prometheus require BasicAuthUser and BasicAuthPassword.
	BasicAuth bool
}

// Server is a running Prometheus.
type Server struct {
	// URL is its base URL, http://127.0.0.1:port.
	URL string

	bin, dir, addr string
	args           []string
	logs           *devenv.SyncBuffer
	mu             sync.Mutex
	cmd            *exec.Cmd
	done           chan struct{}
}

// EnvRequire makes a missing prometheus a failure instead of a skip.
const EnvRequire = "CXLOOP_REQUIRE_PROMETHEUS"

// Binaries finds prometheus and promtool.
func Binaries() (prometheus, promtool string, err error) {
	if prometheus, err = exec.LookPath("prometheus"); err != nil {
		return "", "", errors.New("prometheus is not installed (apt-get install prometheus)")
	}
	if promtool, err = exec.LookPath("promtool"); err != nil {
		return "", "", errors.New("promtool is not installed (apt-get install prometheus)")
	}
	return prometheus, promtool, nil
}

// Start runs a Prometheus for the test, stopped when it ends. Without
// prometheus installed the test is skipped, unless CXLOOP_REQUIRE_PROMETHEUS
// is set: then it fails.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if _, _, err := Binaries(); err != nil {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("%v, and %s is set", err, EnvRequire)
		}
		t.Skipf("skipping the test against a real Prometheus: %v; make test sets %s=1 so that it cannot skip there", err, EnvRequire)
	}
	s, err := Launch(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Launch backfills o.Series into dir and starts Prometheus on a free port
// of 127.0.0.1.
func Launch(dir string, o Options) (*Server, error) {
	bin, promtool, err := Binaries()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	if len(o.Series) > 0 {
		input := filepath.Join(dir, "history.om")
		if err := os.WriteFile(input, OpenMetrics(o.Series), 0o644); err != nil {
			return nil, err
		}
		cmd := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
			// Weeks of history in a few blocks, not hundreds of 2h ones: far
			// faster to write and to open.
			"--max-block-duration=1000h", input, data)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("promtool create-blocks-from openmetrics: %v: %s", err, out)
		}
	}
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, []byte("global:\n  scrape_interval: 1h\nscrape_configs: []\n"), 0o644); err != nil {
		return nil, err
	}
	addr, err := devenv.FreeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{
		"--config.file=" + config,
		"--storage.tsdb.path=" + data,
		// Backfilled history is weeks old: keep it.
		"--storage.tsdb.retention.time=100y",
		"--web.listen-address=" + addr,
		"--log.level=warn",
	}
	if o.BasicAuth {
		web := filepath.Join(dir, "web.yml")
		if err := os.WriteFile(web, []byte("basic_auth_users:\n  "+BasicAuthUser+": "+basicAuthHash+"\n"), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--web.config.file="+web)
	}
	s := &Server{URL: "http://" + addr, bin: bin, dir: dir, addr: addr, args: args, logs: &devenv.SyncBuffer{Max: 1 << 20}}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.done = cmd, make(chan struct{})
	done := s.done
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("prometheus exited: %s", s.logs.String())
		default:
		}
		// With basic auth, /-/ready answers 401: that too means it serves.
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return fmt.Errorf("prometheus did not get ready in 60s: %s", s.logs.String())
}

// Stop stops Prometheus and waits for it to exit.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart starts a stopped Prometheus again, on the same address and data.
func (s *Server) Restart() error { return s.start() }

// OpenMetrics writes the series as an OpenMetrics text file: one gauge
// family per metric name, each series' samples in time order, timestamps
// in seconds.
func OpenMetrics(series []Series) []byte {
	byName := map[string][]Series{}
	var names []string
	for _, s := range series {
		if _, ok := byName[s.Name]; !ok {
			names = append(names, s.Name)
		}
		byName[s.Name] = append(byName[s.Name], s)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, name := range names {
		fmt.Fprintf(&b, "# TYPE %s gauge\n", name)
		for _, s := range byName[name] {
			labels := labelText(s.Labels)
			for _, smp := range s.Samples {
				if math.IsNaN(smp.Value) {
					continue
				}
				fmt.Fprintf(&b, "%s%s %s %s\n", name, labels, strconv.FormatFloat(smp.Value, 'g', -1, 64), strconv.FormatFloat(float64(smp.At.UnixMilli())/1000, 'f', -1, 64))
			}
		}
	}
	b.WriteString("# EOF\n")
	return b.Bytes()
}

func labelText(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(l[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}
