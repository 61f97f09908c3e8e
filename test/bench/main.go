// Command bench measures what cxloop costs at hundreds of journeys, side by
// side with what controller-runtime itself allows on the same machine: it
// starts a local kube-apiserver and etcd (envtest) and a local GitHub,
// applies N journeys of 140 touchpoints with their four phases at once,
// first to a reconciler that only sets Ready (the baseline), then to
// cxloop, and reports times as ratios to the baseline, writes and requests
// as counts. Run it with `make bench`; see README.md, "Performance".
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/cxloop/cxloop/internal/devenv"
)

func main() {
	o := options{Progress: os.Stderr}
	var out, compareWith string
	flag.IntVar(&o.Journeys, "journeys", 200, "journeys to apply (up to 1000), each with 140 touchpoints, 4 personas and 4 phases")
	flag.IntVar(&o.Gaps, "discovery-issues", 1, "Discovery issues per journey (touchpoints without owner)")
	flag.IntVar(&o.WritesPerMinute, "github-writes-per-minute", 120, "cxloop's GitHub write budget per minute (the local GitHub has no content limits of its own)")
	flag.IntVar(&o.WritesPerHour, "github-writes-per-hour", 2000, "cxloop's GitHub write budget per hour")
	flag.IntVar(&o.RateLimit, "github-rate-limit", 15000, "the local GitHub's primary rate limit per token and hour (GitHub: 5000 for a user, up to 15000 for an app in an Enterprise Cloud org)")
	flag.DurationVar(&o.SyncInterval, "sync-interval", 20*time.Second, "every phase's spec.syncInterval (polling)")
	flag.IntVar(&o.Closes, "closes", 100, "issues closed on GitHub to time close -> status, with webhooks and again with polling")
	flag.DurationVar(&o.Timeout, "timeout", 20*time.Minute, "bound on the whole run")
	flag.StringVar(&out, "out", "", "JSON result file (default bench/results/<date>-<commit>-n<journeys>.json)")
	flag.StringVar(&compareWith, "compare", "", "instead of running, compare two JSON results: -compare old.json,new.json")
	printOnly := flag.String("print", "", "instead of running, print the table of a JSON result")
	flag.BoolVar(&o.Verbose, "v", false, "show the manager's logs")
	flag.BoolVar(&o.SharedRepo, "shared-repo", false, "every journey tracks one repository, as organisations do (default: a repository per journey)")
	flag.IntVar(&o.History, "history", 0, "closed cxloop issues of earlier years (about 2 KB each) in each repository before the run")
	flag.IntVar(&o.Shards, "shards", 1, "managers that share the journeys (sharding by the label sharding.cxloop.dev/key, journeys dealt in turn): the main one and shard1..shardN-1; above 1 needs -ready-only")
	flag.BoolVar(&o.ReadyOnly, "ready-only", false, "stop once every object is Ready: the Kubernetes side and memory only (quick at -journeys=1000)")
	flag.IntVar(&o.MemProfileRate, "pprof-memprofilerate", 0, "with -pprof, the manager samples its heap every N bytes allocated (GODEBUG=memprofilerate=N; e.g. 16384 to tell a few KB per journey apart); 0: Go's 512 KiB")
	flag.StringVar(&o.PprofAddr, "pprof", "", "the manager serves net/http/pprof at this address (e.g. 127.0.0.1:6060), to profile it: go tool pprof http://127.0.0.1:6060/debug/pprof/heap")
	memLimit := flag.String("manager-memory-limit", "256Mi", "the manager's container memory limit, as the Helm chart's default resources.limits.memory: the manager gets GOMEMLIMIT at 80% of it, as it sets itself under a cgroup limit; 0 for none")
	flag.Parse()
	if q, err := resource.ParseQuantity(*memLimit); err != nil {
		fail(fmt.Errorf("-manager-memory-limit: %w", err))
	} else {
		o.ManagerMemoryLimit = q.Value()
	}

	if *printOnly != "" {
		raw, err := os.ReadFile(*printOnly)
		if err != nil {
			fail(err)
		}
		var r Result
		if err := json.Unmarshal(raw, &r); err != nil {
			fail(err)
		}
		r.GitHub.setShares(r.Params)
		printTable(os.Stdout, &r)
		return
	}
	if compareWith != "" {
		a, b, ok := strings.Cut(compareWith, ",")
		if !ok {
			fail(fmt.Errorf("-compare wants two files: old.json,new.json"))
		}
		if err := compare(os.Stdout, a, b); err != nil {
			fail(err)
		}
		return
	}
	if o.Journeys < 1 || o.Journeys > 1000 {
		fail(fmt.Errorf("-journeys must be 1 to 1000"))
	}
	if o.Shards < 1 || o.Shards > 8 {
		fail(fmt.Errorf("-shards must be 1 to 8"))
	}
	if o.Shards > 1 && !o.ReadyOnly {
		// The closes, the idle sync and the status page are measured on one
		// manager's webhook, metrics and page.
		fail(fmt.Errorf("-shards=%d needs -ready-only", o.Shards))
	}
	o.Assets = os.Getenv("KUBEBUILDER_ASSETS")
	if o.Assets == "" {
		fail(fmt.Errorf("KUBEBUILDER_ASSETS is not set: run the benchmark with `make bench`, which prepares kube-apiserver and etcd"))
	}
	root, err := devenv.FindRoot("bench")
	if err != nil {
		fail(err)
	}
	o.Root = root
	measured := commit(root) // the code built, before anything changes during the run
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, o)
	if err != nil {
		fail(err)
	}
	res.Date = time.Now().UTC().Format(time.RFC3339)
	res.Commit = measured
	printTable(os.Stdout, res)
	if out == "" {
		out = filepath.Join(root, "bench", "results", fmt.Sprintf("%s-%s-n%d.json", time.Now().UTC().Format("2006-01-02"), res.Commit, o.Journeys))
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		fail(err)
	}
	if err := writeJSON(out, res); err != nil {
		fail(err)
	}
	fmt.Printf("\nwritten to %s\n", out)
}

// commit names the code measured: the short commit, "-dirty" with changes.
func commit(root string) string {
	raw, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(raw))
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--", "api", "cmd", "controllers", "internal").Output(); err == nil && len(st) > 0 {
		c += "-dirty"
	}
	return c
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
