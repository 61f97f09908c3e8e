package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/controllers"
	"github.com/cxloop/cxloop/internal/devenv"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

// options configure one run of the benchmark.
type options struct {
	Journeys        int
	Gaps            int // Discovery issues per journey
	WritesPerMinute int
	WritesPerHour   int
	RateLimit       int // the local GitHub's primary limit per token and hour
	SyncInterval    time.Duration
	Closes          int
	Timeout         time.Duration
	Root, Assets    string
	Verbose         bool
	// SharedRepo puts every journey in one repository.
	SharedRepo bool
	// History is the closed cxloop issues of earlier years each repository
	// holds before the run.
	History int
	// ReadyOnly stops after every object is Ready: the Kubernetes side
	// and the manager's memory only.
	ReadyOnly bool
	// PprofAddr serves the manager's net/http/pprof; "" turns it off.
	PprofAddr string
	// MemProfileRate samples the manager's heap every N bytes allocated
	// (GODEBUG=memprofilerate); 0 keeps Go's 512 KiB.
	MemProfileRate int
	// Shards is how many managers share the journeys (sharding): the main
	// one and shard1..shardN-1, journeys dealt to them in turn.
	Shards int
	// ManagerMemoryLimit is the manager's container memory limit in bytes
	// (0: none); it runs with GOMEMLIMIT at 80% of it, as in a cluster.
	ManagerMemoryLimit int64
	Progress           io.Writer
}

type bench struct {
	o      options
	cfg    *rest.Config
	c      client.WithWatch
	rc     rest.Interface
	gh     *localgithub.Server
	count  *ghCounter
	apiURL string
	token  string
	scheme *kruntime.Scheme
	// applied is how long the last apply took the API server to accept.
	applied time.Duration
	// managerBin is cmd/main.go built; kubeconfig lets it reach the API
	// server; dir holds them and the manager's log.
	managerBin, kubeconfig, dir string
}

// managerLogs is where the manager's log lines go besides its file: the
// benchmark's stderr with -v.
func (b *bench) managerLogs() io.Writer {
	if b.o.Verbose {
		return os.Stderr
	}
	return nil
}

func (b *bench) say(format string, args ...any) {
	fmt.Fprintf(b.o.Progress, "bench: "+format+"\n", args...)
}

// run measures the baseline and cxloop on the same machine, API server and
// local GitHub, one after the other.
func run(ctx context.Context, o options) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	level := zapcore.Level(10) // silent
	if o.Verbose {
		level = zapcore.ErrorLevel
	}
	logger := zap.New(zap.WriteTo(os.Stderr), zap.Level(level), zap.StacktraceLevel(zapcore.PanicLevel))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)

	var err error
	b := &bench{o: o, token: "ghp_bench" + devenv.RandomHex(16)}
	b.scheme = devenv.NewScheme()

	if b.dir, err = os.MkdirTemp("", "cxloop-bench-"); err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(b.dir) }()
	b.say("building the manager (cmd/main.go)")
	if b.managerBin, err = buildManager(ctx, o.Root, b.dir); err != nil {
		return nil, err
	}

	start := time.Now()
	api, err := devenv.StartAPIServer(o.Root, o.Assets, b.scheme)
	if err != nil {
		return nil, err
	}
	defer func() { _ = api.Stop() }()
	env, cfg := api.Env, api.Config
	cfg.WarningHandler = rest.NoWarnings{}
	b.cfg = cfg
	if b.c, err = client.NewWithWatch(cfg, client.Options{Scheme: b.scheme}); err != nil {
		return nil, err
	}
	rcCfg := rest.CopyConfig(cfg)
	rcCfg.GroupVersion = &schema.GroupVersion{}
	rcCfg.NegotiatedSerializer = clientgoscheme.Codecs.WithoutConversion()
	if b.rc, err = rest.RESTClientFor(rcCfg); err != nil {
		return nil, err
	}
	b.say("API server up in %.1fs", time.Since(start).Seconds())
	if b.kubeconfig, err = managerKubeconfig(env, b.dir); err != nil {
		return nil, err
	}

	if err := b.startGitHub(); err != nil {
		return nil, err
	}
	defer func() { _ = b.gh.Close() }()

	res := &Result{Params: Params{ReadyOnly: o.ReadyOnly, Journeys: o.Journeys, TouchpointsPerJourney: touchpointsPerJourney, Personas: len(personaNames),
		PhasesPerJourney: len(phaseTypes), DiscoveryIssuesPerJourney: o.Gaps, WritesPerMinute: o.WritesPerMinute, WritesPerHour: o.WritesPerHour,
		GitHubRateLimit: o.RateLimit, SyncIntervalSeconds: o.SyncInterval.Seconds(), CPUs: runtime.NumCPU(),
		WorkersPerController: controllers.DefaultWorkers, ManagerMemoryLimitMiB: float64(o.ManagerMemoryLimit) / (1 << 20), Shards: o.Shards}}

	if res.Baseline, err = b.baseline(ctx); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	if err := b.cxloop(ctx, res); err != nil {
		return nil, fmt.Errorf("cxloop: %w", err)
	}
	res.Kubernetes.ReadyRatio = res.Kubernetes.ReadySeconds / res.Baseline.ReadySeconds
	res.Kubernetes.ReconcilesRatio = res.Kubernetes.ReconcilesPerObject / res.Baseline.ReconcilesPerObject
	return res, nil
}

// startGitHub serves a local GitHub behind a request counter.
func (b *bench) startGitHub() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	b.apiURL = "http://" + ln.Addr().String() + "/"
	gh, err := localgithub.New(localgithub.Options{BaseURL: b.apiURL, RateLimit: b.o.RateLimit,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	b.gh = gh
	b.count = &ghCounter{next: gh.Handler(), byCode: map[string]int{}}
	srv := &http.Server{Handler: b.count, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	gh.AddToken(b.token)
	return nil
}

// apply creates the namespaces and Secrets (not timed), then every journey
// and phase at once, as `kubectl apply -f` of a directory would; it returns
// when the last create was accepted.
func (b *bench) apply(ctx context.Context, js []benchJourney) (time.Time, error) {
	for _, ns := range namespacesOf(js) {
		if err := b.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return time.Time{}, err
		}
		if err := b.c.Create(ctx, tokenSecret(ns, b.token)); err != nil {
			return time.Time{}, err
		}
	}
	var objs []client.Object
	for _, j := range js {
		objs = append(objs, customerJourney(j, b.apiURL, b.o.Gaps))
		for _, ph := range improvementPhases(j, metav1.Duration{Duration: b.o.SyncInterval}) {
			objs = append(objs, ph)
		}
	}
	start := time.Now()
	work := make(chan client.Object)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if err := b.c.Create(ctx, o); err != nil {
					select {
					case errs <- fmt.Errorf("creating %s: %w", o.GetName(), err):
					default:
					}
				}
			}
		}()
	}
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return time.Time{}, err
	default:
	}
	b.applied = time.Since(start)
	return start, nil
}

func objectKeys(js []benchJourney) []string {
	var keys []string
	for _, j := range js {
		keys = append(keys, "journey/"+j.Namespace+"/"+j.Name)
		for _, t := range phaseTypes {
			keys = append(keys, "phase/"+j.Namespace+"/"+j.phaseName(t))
		}
	}
	return keys
}

// newManager is a manager as cmd/main.go makes it (the client is not
// throttled on the client side; the API server's fairness applies).
func (b *bench) newManager() (ctrl.Manager, error) {
	cfg := rest.CopyConfig(b.cfg)
	cfg.QPS, cfg.Burst = -1, 0 // as ctrl.GetConfig leaves it
	return ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 b.scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
}

// startManager starts mgr; should it stop on its own, failed is called
// with why (a benchmark must not wait for a manager that is gone).
func startManager(ctx context.Context, mgr ctrl.Manager, failed context.CancelCauseFunc) (stop func() error) {
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		err := mgr.Start(mctx)
		if mctx.Err() == nil {
			failed(fmt.Errorf("the manager stopped on its own: %v", err))
		}
		done <- err
	}()
	return func() error {
		cancel()
		return <-done
	}
}

// baseline runs the N journeys and their phases through a reconciler that
// only sets Ready, then deletes them.
func (b *bench) baseline(ctx context.Context) (Side, error) {
	ctx, failed := context.WithCancelCause(ctx)
	defer failed(nil)
	js := layout("base-", b.o.Journeys, b.sharedRepo())
	keys := objectKeys(js)
	obs, stopObs := b.observe(ctx, readyCondition)
	defer stopObs()

	mgr, err := b.newManager()
	if err != nil {
		return Side{}, err
	}
	// As many workers as cxloop's controllers have.
	if err := setupBaseline(mgr, controller.Options{MaxConcurrentReconciles: controllers.DefaultWorkers}); err != nil {
		return Side{}, err
	}
	stop := startManager(ctx, mgr, failed)
	// Let the manager's caches sync before the clock starts, as for cxloop.
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		_ = stop()
		return Side{}, errors.New("baseline caches did not sync")
	}
	recBefore, _ := reconcileCounts()
	writesBefore, err := apiWrites(ctx, b.rc)
	if err != nil {
		_ = stop()
		return Side{}, err
	}
	b.say("baseline: applying %d journeys and %d phases", len(js), len(js)*len(phaseTypes))
	start, err := b.apply(ctx, js)
	if err != nil {
		_ = stop()
		return Side{}, err
	}
	last, err := obs.waitReady(ctx, keys)
	if err != nil {
		_ = stop()
		return Side{}, fmt.Errorf("waiting for Ready: %w", err)
	}
	recAfter, _ := reconcileCounts()
	writesAfter, _ := apiWrites(ctx, b.rc)
	_, _, perObj := obs.readiness(keys)
	_ = stop()

	n := float64(len(keys))
	side := Side{
		ReadySeconds:        last.Sub(start).Seconds(),
		ApplySeconds:        b.applied.Seconds(),
		ReconcilesPerObject: float64(recAfter["baseline-journey"]+recAfter["baseline-phase"]-recBefore["baseline-journey"]-recBefore["baseline-phase"]) / n,
		WritesToReady:       quantiles(perObj),
		APIWritesPerObject:  float64(sumWhere(diffMap(writesBefore, writesAfter), []string{"customerjourneys", "improvementphases"}, "POST")) / n,
	}
	b.say("baseline: every object Ready after %.1fs", side.ReadySeconds)

	// Out of cxloop's way.
	for _, ns := range namespacesOf(js) {
		if err := b.c.DeleteAllOf(ctx, &cxv1.ImprovementPhase{}, client.InNamespace(ns)); err != nil {
			return side, err
		}
		if err := b.c.DeleteAllOf(ctx, &cxv1.CustomerJourney{}, client.InNamespace(ns)); err != nil {
			return side, err
		}
	}
	for ctx.Err() == nil {
		var l cxv1.ImprovementPhaseList
		var lj cxv1.CustomerJourneyList
		if err := b.c.List(ctx, &l, client.Limit(1)); err != nil {
			return side, err
		}
		if err := b.c.List(ctx, &lj, client.Limit(1)); err != nil {
			return side, err
		}
		if len(l.Items) == 0 && len(lj.Items) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return side, ctx.Err()
}

// cxloop runs the same load through cxloop and measures both sides.
func (b *bench) cxloop(ctx context.Context, res *Result) (err error) {
	js := layout("", b.o.Journeys, b.sharedRepo())
	for i := range js {
		if b.o.Shards > 1 && i%b.o.Shards != 0 {
			js[i].Shard = fmt.Sprintf("shard%d", i%b.o.Shards)
		}
	}
	keys := objectKeys(js)
	for _, j := range js {
		b.gh.AddRepo(ghOwner, j.Repo)
	}
	if b.o.History > 0 {
		for _, repo := range reposOf(js) {
			if _, err := b.gh.AddHistory(ghOwner, repo, b.o.History, []string{"cxloop", "phase:improve"}, historyBody(js)); err != nil {
				return err
			}
		}
		b.say("cxloop: %d closed cxloop issues of earlier years in each of %d repositories", b.o.History, len(reposOf(js)))
	}
	obs, stopObs := b.observe(ctx, cxloopReady)
	defer stopObs()

	webhookAddr, err := devenv.FreeAddr()
	if err != nil {
		return err
	}
	webhookSecret := devenv.RandomHex(16)
	pageAddr, err := devenv.FreeAddr()
	if err != nil {
		return err
	}
	// The manager ending early ends the run, with its last logs as the cause.
	ctx, cancelRun := context.WithCancelCause(ctx)
	defer cancelRun(nil)
	defer func() {
		if cause := context.Cause(ctx); err != nil && ctx.Err() != nil && cause != ctx.Err() {
			err = fmt.Errorf("%w: %w", err, cause)
		}
	}()
	mp, err := startManagerProcess(managerArgs{Binary: b.managerBin, Kubeconfig: b.kubeconfig, Dir: b.dir,
		WebhookAddr: webhookAddr, WebhookSecret: webhookSecret, WritesPerMinute: b.o.WritesPerMinute, WritesPerHour: b.o.WritesPerHour,
		GitHubHost: strings.TrimSuffix(strings.TrimPrefix(b.apiURL, "http://"), "/"),
		PprofAddr:  b.o.PprofAddr, MemProfileRate: b.o.MemProfileRate, MemoryLimit: b.o.ManagerMemoryLimit, Logs: b.managerLogs(), StatusPageAddr: pageAddr,
		Args: b.shardArgs(0)}, cancelRun)
	if err != nil {
		return err
	}
	defer mp.stop()
	if err := mp.waitForWorkers(ctx); err != nil {
		return fmt.Errorf("%w: %v", err, context.Cause(ctx))
	}
	managers := []*managerProcess{mp}
	for s := 1; s < b.o.Shards; s++ {
		dir := filepath.Join(b.dir, fmt.Sprintf("shard%d", s))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		sp, err := startManagerProcess(managerArgs{Binary: b.managerBin, Kubeconfig: b.kubeconfig, Dir: dir,
			WritesPerMinute: b.o.WritesPerMinute, WritesPerHour: b.o.WritesPerHour,
			GitHubHost:  strings.TrimSuffix(strings.TrimPrefix(b.apiURL, "http://"), "/"),
			MemoryLimit: b.o.ManagerMemoryLimit, Logs: b.managerLogs(), Args: b.shardArgs(s)}, cancelRun)
		if err != nil {
			return err
		}
		defer sp.stop()
		if err := sp.waitForWorkers(ctx); err != nil {
			return fmt.Errorf("shard%d: %w: %v", s, err, context.Cause(ctx))
		}
		managers = append(managers, sp)
	}
	b.gh.SetWebhook("http://"+webhookAddr+controllers.WebhookPath, webhookSecret)

	recBefore, err := allReconciles(ctx, managers)
	if err != nil {
		return err
	}
	writesBefore, err := apiWrites(ctx, b.rc)
	if err != nil {
		return err
	}
	ghBefore := b.count.snapshot()

	// 1. Apply; every journey and phase Ready with its plan.
	b.say("cxloop: applying %d journeys and %d phases", len(js), len(js)*len(phaseTypes))
	start, err := b.apply(ctx, js)
	if err != nil {
		return err
	}
	last, err := obs.waitReady(ctx, keys)
	if err != nil {
		n, _, _ := obs.readiness(keys)
		return fmt.Errorf("waiting for Ready (%d of %d): %w", n, len(keys), err)
	}
	recReady, err := allReconciles(ctx, managers)
	if err != nil {
		return err
	}
	writesReady, _ := apiWrites(ctx, b.rc)
	_, _, perObj := obs.readiness(keys)
	var journeyKeys, phaseKeys []string
	for _, key := range keys {
		if strings.HasPrefix(key, "journey/") {
			journeyKeys = append(journeyKeys, key)
		} else {
			phaseKeys = append(phaseKeys, key)
		}
	}
	if b.o.Verbose {
		for trail, n := range obs.longTrails(2) {
			b.say("%d objects took more than 2 writes to Ready: %s", n, trail)
		}
	}
	_, _, jw := obs.readiness(journeyKeys)
	_, _, pw := obs.readiness(phaseKeys)
	n := float64(len(keys))
	k := &res.Kubernetes
	k.JourneyWritesToReady, k.PhaseWritesToReady = quantiles(jw), quantiles(pw)
	k.ReadySeconds = last.Sub(start).Seconds()
	k.ApplySeconds = b.applied.Seconds()
	k.ReconcilesPerObject = float64(recReady["customerjourney"]+recReady["improvementphase"]-recBefore["customerjourney"]-recBefore["improvementphase"]) / n
	k.WritesToReady = quantiles(perObj)
	k.APIWritesPerObject = float64(sumWhere(diffMap(writesBefore, writesReady), []string{"customerjourneys", "improvementphases"}, "POST")) / n
	b.say("cxloop: every object Ready after %.1fs (%d issues opened so far)", k.ReadySeconds, b.count.snapshot().Creates-ghBefore.Creates)

	if b.o.Shards > 1 {
		// Each shard's status page shows its own journeys: no page to load.
		res.Manager.ShardsPeakRSSMiB = nil
		for _, sp := range managers[1:] {
			res.Manager.ShardsPeakRSSMiB = append(res.Manager.ShardsPeakRSSMiB, sp.procStatus("VmHWM"))
		}
		return b.finishManager(ctx, res, mp)
	}

	// The status page: 32 readers at once, every object Ready.
	b.say("cxloop: %d readers load the status page and its JSON at once", pageReaders)
	sp, err := b.pageLoads(ctx, mp, "http://"+pageAddr)
	if err != nil {
		return fmt.Errorf("loading the status page: %w", err)
	}
	res.StatusPage = &sp
	b.say("cxloop: status page: heap in use %.0f -> peak %.0f MiB (%d of %d loads busy)", sp.HeapInUseBeforeMiB, sp.PeakHeapInUseMiB, sp.Busy, sp.Loads)

	if b.o.ReadyOnly {
		return b.finishManager(ctx, res, mp)
	}

	// 2. Issues closed while the ramp still opens issues: webhooks.
	expected := b.o.Journeys * b.o.Gaps
	closes := min(b.o.Closes, expected/2)
	// Enough issues open to close, while the ramp still opens more.
	for b.count.snapshot().Creates-ghBefore.Creates < closes && ctx.Err() == nil {
		time.Sleep(250 * time.Millisecond)
	}
	wh, err := b.closeIssues(ctx, obs, js, closes, "webhook")
	if err != nil {
		return err
	}
	res.CloseWebhook = wh
	res.CloseWebhook.DuringRamp = b.count.snapshot().Creates-ghBefore.Creates < expected

	// 3. The ramp ends when every Discovery issue is open.
	for b.count.snapshot().Creates-ghBefore.Creates < expected && ctx.Err() == nil {
		time.Sleep(250 * time.Millisecond)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("waiting for %d issues, %d opened: %w", expected, b.count.snapshot().Creates-ghBefore.Creates, err)
	}
	rampEnd := time.Now()
	recRamp, _, err := mp.reconcileCounts(ctx)
	if err != nil {
		return err
	}
	res.GitHub.PhaseReconcilesInRamp = recRamp["improvementphase"] - recBefore["improvementphase"]
	g := &res.GitHub
	creates := b.count.createTimes()[ghBefore.Creates:]
	g.IssuesOpened = len(creates)
	g.RampSeconds = creates[len(creates)-1].Sub(creates[0]).Seconds()
	g.FirstIssueSeconds = creates[0].Sub(start).Seconds()
	g.MaxInAnyMinute = tracker.MostWithin(creates, time.Minute)
	ghRamp := ghBefore.diff(b.count.snapshot())
	g.Writes = ghRamp.where(func(m string, _ int) bool { return isWrite(m) })
	g.OpenedPerMinute = float64(g.IssuesOpened-1) / (g.RampSeconds / 60)
	for _, c := range creates {
		if c.After(last) {
			g.OpenedAfterReady++
		}
	}
	g.AfterReadySeconds = creates[len(creates)-1].Sub(last).Seconds()
	g.setShares(res.Params)
	g.SecondaryLimits = ghRamp.where(func(_ string, s int) bool { return s == http.StatusForbidden || s == http.StatusTooManyRequests })
	g.PhasesHeldByBudget = obs.budgetHeld()
	b.say("cxloop: ramp over: %d issues (%d writes) in %.1fs", g.IssuesOpened, g.Writes, g.RampSeconds)
	if b.o.Verbose {
		b.say("status fields changed so far, by kind and field: %v", obs.statusChangeCounts())
	}

	// 4. Idle: nothing changes on either side for a sync interval and a bit,
	// once GitHub has delivered every webhook of the ramp.
	dctx, cancelDeliveries := context.WithTimeout(ctx, 2*time.Minute)
	err = b.gh.WaitForDeliveries(dctx)
	cancelDeliveries()
	if err != nil {
		return fmt.Errorf("waiting for GitHub's webhook deliveries: %w", err)
	}
	// Idle means the ramp's changes have all been seen: every repository's
	// view refreshed once since. While webhooks arrive a view serves a
	// polling phase for up to six sync intervals, at most two minutes
	// (internal/tracker), so the first refresh after the ramp answers 200
	// with cxloop's own last creates; it comes with a phase's next sync, up
	// to a jittered interval later. The ramp's figures are taken there.
	settle := min(6*b.o.SyncInterval, 2*time.Minute) + 2*b.o.SyncInterval
	b.say("cxloop: settling for %s", settle)
	if err := sleep(ctx, settle); err != nil {
		return err
	}
	b.rampFigures(res, obs, ghBefore.diff(b.count.snapshot()), obs.writeCounts(), phaseKeys, len(wh.keys))
	// Every tracker.OpenRecheck each repository lists its open issues
	// whole, a net for lost deliveries: the first such listing after the
	// ramp answers 200 (the ramp opened issues). It belongs to neither
	// the ramp nor the idle window, which starts once it is past (the
	// indexes were loaded before every object was Ready). Before, the
	// window ended about when it came due: a6f7e96's run caught 3
	// repositories' rechecks, d0b48b5's, settling 20 s longer, 87.
	if recheck := time.Until(last.Add(tracker.OpenRecheck + 2*b.o.SyncInterval)); recheck > 0 {
		before := b.count.snapshot()
		b.say("cxloop: waiting %s more, past each repository's ten-minute listing of its open issues", recheck.Round(time.Second))
		if err := sleep(ctx, recheck); err != nil {
			return err
		}
		rechecks := before.diff(b.count.snapshot())
		b.say("cxloop: meanwhile %d GitHub requests, %d of them issue listings (%d answered 304)", rechecks.total(), rechecks.Listings, rechecks.ListingsNotModified)
	}
	idleRec0, _, err := mp.reconcileCounts(ctx)
	if err != nil {
		return err
	}
	idleGH0 := b.count.snapshot()
	idleAPI0, _ := apiWrites(ctx, b.rc)
	idleObj0 := obs.writeCounts()
	// Three sync intervals: a rate per interval, not the edges of one.
	window := 3*b.o.SyncInterval + 2*time.Second
	b.say("cxloop: idle for %s", window)
	if err := sleep(ctx, window); err != nil {
		return err
	}
	idleRec1, _, err := mp.reconcileCounts(ctx)
	if err != nil {
		return err
	}
	idleGH := idleGH0.diff(b.count.snapshot())
	idleAPI1, _ := apiWrites(ctx, b.rc)
	// The journeys whose issues were closed, and their phases, changed: their
	// history and forecast move on. The others are the idle ones.
	touched := map[string]bool{}
	for _, k := range wh.keys {
		j := k.journey
		touched["journey/"+k.ns+"/"+j] = true
		for _, t := range phaseTypes {
			touched["phase/"+k.ns+"/"+benchJourney{Name: j}.phaseName(t)] = true
		}
	}
	untouchedWrites, untouched := 0, 0
	for _, key := range keys {
		if !touched[key] {
			untouched++
			untouchedWrites += obs.writeCounts()[key] - idleObj0[key]
		}
	}
	syncs := idleRec1["improvementphase"] - idleRec0["improvementphase"] + idleRec1["customerjourney"] - idleRec0["customerjourney"]
	res.Idle = Idle{
		Syncs:                  syncs,
		Requests:               idleGH.total(),
		NotModified:            idleGH.where(func(_ string, s int) bool { return s == http.StatusNotModified }),
		OK:                     idleGH.where(func(_ string, s int) bool { return s == http.StatusOK }),
		CostingRateLimit:       idleGH.where(func(_ string, s int) bool { return s != http.StatusNotModified }),
		GitHubWrites:           idleGH.where(func(m string, _ int) bool { return isWrite(m) }),
		KubernetesWrites:       sumWhere(diffMap(idleAPI0, idleAPI1), []string{"customerjourneys", "improvementphases", "events"}),
		WritesByResource:       diffMap(idleAPI0, idleAPI1),
		ReconcilesByController: diffMap(idleRec0, idleRec1),
		RequestsByAnswer:       idleGH.ByCode,
		UnchangedObjects:       untouched,
		UnchangedObjectWrites:  untouchedWrites,
	}
	if syncs > 0 {
		res.Idle.RequestsPerSync = float64(idleGH.total()) / float64(syncs)
	}
	res.Idle.Repositories = len(js)
	if b.o.SharedRepo {
		res.Idle.Repositories = 1
	}
	res.Idle.RequestsPerRepositoryInterval = float64(idleGH.total()) / float64(res.Idle.Repositories) / (window.Seconds() / b.o.SyncInterval.Seconds())
	_ = rampEnd

	// 5. Webhooks off: polling.
	b.gh.SetWebhook("", "")
	poll, err := b.closeIssues(ctx, obs, js, closes, "polling")
	if err != nil {
		return err
	}
	res.ClosePolling = poll

	// Whole run.
	total := ghBefore.diff(b.count.snapshot())
	g.Requests = total.total()
	g.RequestsByAnswer = total.ByCode
	if g.IssuesOpened > 0 {
		g.RequestsPerIssue = float64(total.total()) / float64(g.IssuesOpened)
		g.CostingRequestsPerIssue = float64(total.where(func(_ string, s int) bool { return s != http.StatusNotModified })) / float64(g.IssuesOpened)
	}
	if err := b.finishManager(ctx, res, mp); err != nil {
		return err
	}
	writesEnd, _ := apiWrites(ctx, b.rc)
	all := diffMap(writesBefore, writesEnd)
	k.APIWritesTotal = sumWhere(all, []string{"customerjourneys", "improvementphases"}, "POST")
	k.EventWrites = sumWhere(all, []string{"events"})
	k.WritesPerIssue = float64(obs.writesOf(keys)) / float64(max(1, g.IssuesOpened))
	k.JourneyWritesPerIssue = float64(obs.writesOf(journeyKeys)) / float64(max(1, g.IssuesOpened))
	return nil
}

// rampFigures are issue #18's figures of the ramp, from the apply until
// it settled: the phases' status writes beyond those to Ready per issue
// opened or closed, their writes while only waiting, and the issue
// listings per issue opened.
func (b *bench) rampFigures(res *Result, obs *observer, gh ghCounts, writes map[string]int, phaseKeys []string, closed int) {
	k, g := &res.Kubernetes, &res.GitHub
	_, _, toReady := obs.readiness(phaseKeys)
	beyond := 0
	for _, key := range phaseKeys {
		k.PhaseWritesInRamp += writes[key]
		beyond += writes[key]
	}
	for _, w := range toReady {
		beyond -= w
	}
	k.PhaseWritesPerIssue = float64(beyond) / float64(max(1, g.IssuesOpened+closed))
	k.WaitingWrites, k.WaitingWritesFields = obs.waiting()
	k.PhaseWritesAfterReady = obs.phaseWritesAfterReady()
	g.Listings, g.ListingsNotModified = gh.Listings, gh.ListingsNotModified
	g.ListingsPerIssue = float64(gh.Listings) / float64(max(1, g.IssuesOpened))
}

// closeIssues closes n open Discovery issues on GitHub, one every 50ms over
// different journeys, and measures how long until each shows in its
// phase's status.
func (b *bench) closeIssues(ctx context.Context, obs *observer, js []benchJourney, n int, how string) (Latency, error) {
	var keys []closeKey
	b.say("cxloop: closing %d issues on GitHub (%s)", n, how)
	// Spread over journeys: the first open issue of each, then the next.
	for round := 0; round < b.o.Gaps && len(keys) < n; round++ {
		for _, j := range js {
			if len(keys) == n {
				break
			}
			var open []localgithub.Issue
			for _, is := range b.gh.Issues(ghOwner, j.Repo) {
				// With -shared-repo the repository holds every journey's issues.
				if is.State == "open" && hasLabel(is.Labels, "phase:discovery") && strings.HasPrefix(tracker.KeyFromBody(is.Body), j.Namespace+"/"+j.Name+"/") {
					open = append(open, is)
				}
			}
			if len(open) == 0 {
				continue
			}
			is := open[0]
			k := closeKey{j.Namespace, j.Name, j.phaseName(cxv1.PhaseDiscovery), is.Number}
			obs.expectClose(k, time.Now())
			if err := b.gh.CloseIssue(ghOwner, j.Repo, is.Number, "completed"); err != nil {
				return Latency{}, err
			}
			keys = append(keys, k)
			time.Sleep(50 * time.Millisecond)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 3*b.o.SyncInterval+time.Minute)
	defer cancel()
	lat, missing, noticed := obs.waitCloses(wctx, keys)
	l := latencyOf(lat, missing)
	l.keys = keys
	if len(noticed) > 0 {
		d := latencyOf(noticed, 0)
		l.Delivery = &d
	}
	return l, nil
}

func hasLabel(labels []string, l string) bool {
	for _, x := range labels {
		if x == l {
			return true
		}
	}
	return false
}

func latencyOf(d []time.Duration, missing int) Latency {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	l := Latency{Closes: len(d) + missing, Missing: missing}
	if len(d) > 0 {
		l.MedianSeconds = d[len(d)/2].Seconds()
		l.P99Seconds = d[min(len(d)-1, (len(d)*99+99)/100-1)].Seconds()
		l.MaxSeconds = d[len(d)-1].Seconds()
	}
	return l
}

func quantiles(sorted []int) Counts {
	if len(sorted) == 0 {
		return Counts{}
	}
	sum := 0
	for _, v := range sorted {
		sum += v
	}
	return Counts{Mean: float64(sum) / float64(len(sorted)), Median: sorted[len(sorted)/2], Max: sorted[len(sorted)-1]}
}

// finishManager records the manager's figures since its start, from its
// /metrics and from /proc.
func (b *bench) finishManager(ctx context.Context, res *Result, mp *managerProcess) error {
	mfs, err := mp.metrics(ctx)
	if err != nil {
		return err
	}
	recEnd, slowest := reconcileFigures(mfs)
	reconciles := max(1, recEnd["customerjourney"]+recEnd["improvementphase"])
	m := &res.Manager
	m.PeakRSSMiB = mp.procStatus("VmHWM")
	m.PeakAnonRSSMiB = mp.peakAnonMiB()
	m.RSSAtEndMiB = mp.procStatus("VmRSS")
	m.HeapInUseAtEndMiB = counterValue(mfs, "go_memstats_heap_inuse_bytes") / (1 << 20)
	m.IndexIssues = int(counterValue(mfs, "cxloop_github_issue_index_issues"))
	m.IndexMiB = counterValue(mfs, "cxloop_github_issue_index_bytes") / (1 << 20)
	m.Reconciles = reconciles
	m.AllocsPerReconcile = counterValue(mfs, "go_memstats_mallocs_total") / float64(reconciles)
	m.KiBPerReconcile = counterValue(mfs, "go_memstats_alloc_bytes_total") / 1024 / float64(reconciles)
	m.SlowestPhaseReconcileSeconds = slowest["improvementphase"]
	m.SlowestJourneyReconcileSeconds = slowest["customerjourney"]
	return nil
}

// shardArgs are the flags of manager s of -shards: the main one (0) takes
// the journeys without the shard label, shard s those labelled shard<s>.
func (b *bench) shardArgs(s int) []string {
	switch {
	case b.o.Shards <= 1:
		return nil
	case s == 0:
		return []string{"--watch-label-selector=!" + controllers.ShardLabel}
	}
	return []string{fmt.Sprintf("--watch-label-selector=%s=shard%d", controllers.ShardLabel, s), "--github-webhook-bind-address=", "--status-page-bind-address="}
}

// allReconciles sums the reconciles of every manager, by controller.
func allReconciles(ctx context.Context, managers []*managerProcess) (map[string]int, error) {
	sum := map[string]int{}
	for _, m := range managers {
		counts, _, err := m.reconcileCounts(ctx)
		if err != nil {
			return nil, err
		}
		for k, v := range counts {
			sum[k] += v
		}
	}
	return sum, nil
}

// observe starts watching the cluster's journeys and phases, ready when
// ready says so, until ctx ends or the returned stop is called.
func (b *bench) observe(ctx context.Context, ready func(client.Object) bool) (*observer, context.CancelFunc) {
	obs := newObserver(b.c, ready)
	octx, stop := context.WithCancel(ctx)
	obs.run(octx)
	return obs, stop
}

// sharedRepo is the repository every journey tracks with -shared-repo.
func (b *bench) sharedRepo() string {
	if b.o.SharedRepo {
		return "journeys"
	}
	return ""
}

// reposOf lists the repositories of the journeys, each once.
func reposOf(js []benchJourney) []string {
	return distinct(js, func(j benchJourney) string { return j.Repo })
}

// distinct lists what field gives for each of the journeys, each value
// once, in the journeys' order.
func distinct(js []benchJourney, field func(benchJourney) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, j := range js {
		if v := field(j); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// sleep waits d, or until ctx ends (then its error).
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
