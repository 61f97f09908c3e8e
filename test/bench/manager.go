package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/cxloop/cxloop/controllers"
	"github.com/cxloop/cxloop/internal/devenv"
)

// managerProcess is cxloop's manager as it ships (cmd/main.go built into a
// binary) run against the benchmark's API server in a process of its own,
// so that its memory is measured without the benchmark's API clients, local
// GitHub and baseline, and its figures are read from its /metrics.
type managerProcess struct {
	cmd        *exec.Cmd
	metricsURL string
	logPath    string
	// exited is closed when the process ends; stopping says stop ended it.
	exited   chan struct{}
	stopping atomic.Bool
	// workers is closed once both controllers run their workers: their
	// caches have synced.
	workers chan struct{}

	mu sync.Mutex
	// peakAnon is the highest anonymous resident memory sampled (RssAnon):
	// the part of the RSS a container's memory limit cannot reclaim, unlike
	// the pages of the binary's code (RssFile).
	peakAnon float64
}

// memoryLimitRatio is the share of its container's memory limit the manager
// sets as GOMEMLIMIT (memlimit.WithRatio in cmd/main.go).
const memoryLimitRatio = 0.8

// managerArgs configure one run of the manager.
type managerArgs struct {
	Binary, Kubeconfig, Dir string
	WebhookAddr             string
	WebhookSecret           string
	WritesPerMinute         int
	WritesPerHour           int
	// GitHubHost is the local GitHub's host:port, the manager's
	// --github-allowed-hosts.
	GitHubHost string
	// PprofAddr serves net/http/pprof in the manager; "" turns it off.
	PprofAddr string
	// MemProfileRate is the manager's GODEBUG=memprofilerate (0: Go's).
	MemProfileRate int
	// StatusPageAddr serves the status page, in token mode; "" turns it off.
	StatusPageAddr string
	// MemoryLimit is the container memory limit in bytes the manager runs
	// as if under (0: none). There is no cgroup here, so the benchmark
	// sets GOMEMLIMIT as the manager does from a cgroup's limit.
	MemoryLimit int64
	// Logs also receives the manager's log lines (-v); nil keeps them in
	// Dir/manager.log only.
	Logs io.Writer
	// Args are more flags (a shard's --watch-label-selector).
	Args []string
}

// buildManager builds cmd/main.go into dir.
func buildManager(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "manager")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd: %w\n%s", err, out)
	}
	return bin, nil
}

// managerKubeconfig writes a kubeconfig for the API server, as an
// administrator.
func managerKubeconfig(env *envtest.Environment, dir string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "cxloop-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", err
	}
	raw, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, raw, 0o600)
}

// startManagerProcess starts the manager; it runs until stop. onExit is called if
// it ends before stop, with the last lines of its log.
func startManagerProcess(a managerArgs, onExit func(error)) (*managerProcess, error) {
	metricsAddr, err := devenv.FreeAddr()
	if err != nil {
		return nil, err
	}
	secretFile := filepath.Join(a.Dir, "webhook-secret")
	if err := os.WriteFile(secretFile, []byte(a.WebhookSecret), 0o600); err != nil {
		return nil, err
	}
	pprof := a.PprofAddr
	if pprof == "" {
		pprof = "0"
	}
	p := &managerProcess{metricsURL: "http://" + metricsAddr + "/metrics", logPath: filepath.Join(a.Dir, "manager.log"),
		exited: make(chan struct{}), workers: make(chan struct{})}
	p.cmd = exec.Command(a.Binary,
		"--metrics-bind-address="+metricsAddr, "--metrics-secure=false",
		"--health-probe-bind-address=0", "--status-page-bind-address="+a.StatusPageAddr, "--status-page-auth=token", "--pprof-bind-address="+pprof,
		"--github-webhook-bind-address="+a.WebhookAddr, "--github-webhook-secret-file="+secretFile,
		"--github-writes-per-minute="+strconv.Itoa(a.WritesPerMinute), "--github-writes-per-hour="+strconv.Itoa(a.WritesPerHour),
		"--github-allowed-hosts="+a.GitHubHost,
		"--max-concurrent-reconciles="+strconv.Itoa(controllers.DefaultWorkers),
		"--leader-elect=false", "--zap-log-level=info")
	p.cmd.Args = append(p.cmd.Args, a.Args...)
	p.cmd.Env = append(os.Environ(), "KUBECONFIG="+a.Kubeconfig)
	if a.MemProfileRate > 0 {
		godebug := "memprofilerate=" + strconv.Itoa(a.MemProfileRate)
		if inherited := os.Getenv("GODEBUG"); inherited != "" {
			godebug = inherited + "," + godebug
		}
		p.cmd.Env = append(p.cmd.Env, "GODEBUG="+godebug)
	}
	if a.MemoryLimit > 0 {
		p.cmd.Env = append(p.cmd.Env, "GOMEMLIMIT="+strconv.FormatInt(int64(float64(a.MemoryLimit)*memoryLimitRatio), 10))
	} else {
		p.cmd.Env = append(p.cmd.Env, "AUTOMEMLIMIT=off") // no limit, even in a cgroup that has one
	}
	// The manager dies with the benchmark, however the benchmark ends.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	out, err := p.cmd.StderrPipe()
	if err != nil {
		_ = logFile.Close()
		return nil, err
	}
	p.cmd.Stdout = logFile
	if err := p.cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, err
	}
	var logs sync.WaitGroup
	logs.Go(func() { p.readLogs(out, logFile, a.Logs) })
	go p.sampleAnon()
	go func() {
		logs.Wait() // Wait closes the pipe: read it to the end first
		err := p.cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
		if onExit != nil && !p.stopping.Load() {
			onExit(fmt.Errorf("the manager exited (%v); the end of %s:\n%s", err, p.logPath, tailFile(p.logPath, 20)))
		}
	}()
	return p, nil
}

// readLogs copies the manager's log to its file (and to also, if set) and
// notes when both controllers have started their workers.
func (p *managerProcess) readLogs(r io.Reader, file, also io.Writer) {
	// Whatever stops the scanner (a line over 1 MiB), the rest is read,
	// so that the manager never blocks writing its log.
	defer func() { _, _ = io.Copy(file, r) }()
	started := map[string]bool{}
	workers := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		_, _ = file.Write(append(line, '\n'))
		if also != nil {
			_, _ = also.Write(append(line, '\n'))
		}
		if workers {
			continue
		}
		var entry struct {
			Msg        string `json:"msg"`
			Controller string `json:"controller"`
		}
		if json.Unmarshal(line, &entry) == nil && entry.Msg == "Starting workers" {
			started[entry.Controller] = true
			if started["customerjourney"] && started["improvementphase"] {
				workers = true
				close(p.workers)
			}
		}
	}
}

// waitForWorkers waits until both controllers run, their caches synced.
func (p *managerProcess) waitForWorkers(ctx context.Context) error {
	select {
	case <-p.workers:
		return nil
	case <-p.exited:
		return errors.New("the manager exited before its controllers started")
	case <-ctx.Done():
		return fmt.Errorf("waiting for the manager's controllers to start: %w", ctx.Err())
	}
}

// stop ends the manager as Kubernetes would: SIGTERM, then SIGKILL after
// a grace period.
func (p *managerProcess) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.stopping.Store(true)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// metrics scrapes the manager's /metrics.
func (p *managerProcess) metrics(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metricsURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping the manager's metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping the manager's metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing the manager's metrics: %w", err)
	}
	return mfs, nil
}

// reconcileCounts reads the manager's reconcile counters and the longest
// reconcile seen, by controller.
func (p *managerProcess) reconcileCounts(ctx context.Context) (map[string]int, map[string]float64, error) {
	mfs, err := p.metrics(ctx)
	if err != nil {
		return nil, nil, err
	}
	total, slowest := reconcileFigures(mfs)
	return total, slowest, nil
}

// sampleAnon notes the peak of RssAnon every 100ms until the process ends;
// the kernel keeps no peak of it as it does of the whole RSS (VmHWM).
func (p *managerProcess) sampleAnon() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.exited:
			return
		case <-t.C:
		}
		anon := p.procStatus("RssAnon")
		p.mu.Lock()
		p.peakAnon = max(p.peakAnon, anon)
		p.mu.Unlock()
	}
}

func (p *managerProcess) peakAnonMiB() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peakAnon
}

// procStatus reads a figure of /proc/<pid>/status in MiB (VmHWM, VmRSS).
func (p *managerProcess) procStatus(field string) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	return statusMiB(string(raw), field)
}

func statusMiB(status, field string) float64 {
	for _, line := range strings.Split(status, "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// counterValue sums a counter or gauge over its series.
func counterValue(mfs map[string]*dto.MetricFamily, name string) float64 {
	mf := mfs[name]
	if mf == nil {
		return 0
	}
	v := 0.0
	for _, m := range mf.GetMetric() {
		switch {
		case m.GetCounter() != nil:
			v += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			v += m.GetGauge().GetValue()
		case m.GetUntyped() != nil:
			v += m.GetUntyped().GetValue()
		}
	}
	return v
}

func tailFile(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
