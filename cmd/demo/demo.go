package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/controllers"
	"github.com/cxloop/cxloop/internal/devenv"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// options configure one run of the demo.
type options struct {
	// StatusAddr is where the status page is served; a free port is used
	// when it is taken. Empty turns the status page off.
	StatusAddr string
	// Keep keeps everything running after the story until ctx ends.
	Keep bool
	// Timeout bounds the whole story; StepTimeout each of its steps.
	Timeout, StepTimeout time.Duration
	// Root is the repository root, with config/crd/bases and config/samples;
	// found from the working directory upwards when empty.
	Root string
	// Assets is the directory of kube-apiserver and etcd; $KUBEBUILDER_ASSETS when empty.
	Assets string
	// MaxOpenQuickWins is the Improve phase's maxOpenIssues in the demo, low
	// enough to show the pacing.
	MaxOpenQuickWins int32
	// SyncInterval is every phase's polling interval; webhooks bring
	// GitHub's changes sooner.
	SyncInterval time.Duration
	// Verbose shows cxloop's logs on standard error.
	Verbose bool
}

const (
	namespace   = "nature-park"
	ghOwner     = "nature-park"
	ghRepo      = "visitor-experience"
	journeyName = "nature-park-visit"
	secretName  = "github-credentials"
)

// demo is one run's state.
type demo struct {
	project int // the board's number
	o       options
	out     io.Writer
	c       client.Client
	gh      *localgithub.Server
	token   string
	logs    *logTail
	sim     *devenv.ShiftedClock
	// measured: a local Prometheus holds the website's CSAT history.
	measured bool
}

// storySpan is how much simulated time the story covers: it starts this long
// ago and ends today, so the journey's history and the phases' burn-ups have
// weeks to show.
const storySpan = 9 * 7 * 24 * time.Hour

// advance moves the demo's simulated clock, shared by cxloop and the local
// GitHub, forward by d (weeks pass between a product owner's actions), but
// never past real time.
func (dm *demo) advance(d time.Duration) {
	dm.sim.SetOffset(min(0, dm.sim.Offset()+d))
}

// run tells the story of the improvement loop on the nature-park sample,
// writing it to out. With o.Keep it then stays up until ctx ends.
func run(ctx context.Context, out io.Writer, o options) error {
	d := defaultOptions()
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = d.StepTimeout
	}
	if o.MaxOpenQuickWins <= 0 {
		o.MaxOpenQuickWins = d.MaxOpenQuickWins
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = d.SyncInterval
	}
	if o.Assets == "" {
		o.Assets = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if o.Assets == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set: the demo needs a local kube-apiserver and etcd; run it with `make demo`, which prepares them")
	}
	if o.Root == "" {
		root, err := devenv.FindRoot("demo")
		if err != nil {
			return err
		}
		o.Root = root
	}
	journey, phases, err := readSamples(o.Root)
	if err != nil {
		return err
	}

	// Only errors are logged, into a tail shown if the demo fails.
	logs := &logTail{max: 15}
	var logOut io.Writer = logs
	level := zapcore.ErrorLevel
	if o.Verbose {
		logOut, level = io.MultiWriter(logs, os.Stderr), zapcore.InfoLevel
	}
	logger := zap.New(zap.WriteTo(logOut), zap.Level(level), zap.ConsoleEncoder(), zap.StacktraceLevel(zapcore.PanicLevel))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)

	story, cancelStory := context.WithTimeout(ctx, o.Timeout)
	defer cancelStory()
	dm := &demo{o: o, out: out, logs: logs, sim: &devenv.ShiftedClock{}}
	dm.advance(-storySpan)
	dm.say("cxloop demo: the nature-park journey, from map to improvements, on your machine")
	dm.say("")

	// 1. A real API server.
	start := time.Now()
	api, err := devenv.StartAPIServer(o.Root, o.Assets, nil)
	if err != nil {
		return err
	}
	defer func() { _ = api.Stop() }()
	env, cfg, scheme := api.Env, api.Config, api.Scheme
	cfg.WarningHandler = rest.NoWarnings{}
	if dm.c, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	dm.step("Kubernetes: a local kube-apiserver and etcd are up (%.1fs), with cxloop's CRDs installed.", time.Since(start).Seconds())

	// 2. A local GitHub, and cxloop.
	token := "ghp_demo" + devenv.RandomHex(16)
	webhookSecret := devenv.RandomHex(16)
	gh, err := localgithub.New(localgithub.Options{Now: dm.sim.Now, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		return err
	}
	if err := gh.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer func() { _ = gh.Close() }()
	gh.AddRepo(ghOwner, ghRepo)
	gh.AddToken(token)
	dm.gh, dm.token = gh, token
	dm.step("GitHub: a local GitHub at %s with the repository %s/%s.", gh.URL(), ghOwner, ghRepo)

	// 3. A local Prometheus with weeks of the website's CSAT.
	measures, promURL, stopProm, err := dm.startPrometheus()
	if err != nil {
		dm.step("(Prometheus: %v — the demo goes on without measures; `make demo` installs it.)", err)
	} else {
		defer stopProm()
		dm.measured = true
		dm.step("Prometheus: a local Prometheus at %s, with the web survey's CSAT at website-home from two weeks", promURL)
		dm.step("before the story until today, backfilled with promtool tsdb create-blocks-from openmetrics.")
	}

	webhookAddr, err := devenv.FreeAddr()
	if err != nil {
		return err
	}
	statusAddr := ""
	if o.StatusAddr != "" {
		var moved bool
		if statusAddr, moved, err = addrOrFree(o.StatusAddr); err != nil {
			return err
		}
		if moved {
			dm.step("(%s is taken: the status page uses %s instead.)", o.StatusAddr, statusAddr)
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return err
	}
	mgrCtx, stopMgr := context.WithCancel(context.Background())
	if err := controllers.Setup(mgrCtx, mgr, controllers.Options{
		GitHubWebhookAddr:    webhookAddr,
		GitHubWebhookSecrets: func() [][]byte { return [][]byte{[]byte(webhookSecret)} },
		StatusPageAddr:       statusAddr,
		Clock:                dm.sim,
		Metrics:              measures,
		// The demo's local GitHub is on loopback: listed, as an admin
		// lists a GitHub Enterprise Server in --github-allowed-hosts.
		GitHubAllowedHosts: []string{githubHost(dm.gh.URL())},
	}); err != nil {
		stopMgr()
		return fmt.Errorf("setting up cxloop: %w", err)
	}
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	defer func() {
		stopMgr()
		<-mgrDone
	}()
	webhookURL := "http://" + webhookAddr + controllers.WebhookPath
	gh.SetWebhook(webhookURL, webhookSecret)
	dm.step("cxloop: the manager runs; GitHub sends signed issue webhooks to %s.", webhookURL)
	if statusAddr != "" {
		dm.step("Status page for leadership: http://%s/", statusAddr)
	}

	if err := dm.story(story, journey, phases); err != nil {
		// What cxloop logged up to now, before shutting down adds to it.
		if tail := logs.String(); !o.Verbose && tail != "" {
			fmt.Fprintf(out, "\ncxloop's last error logs:\n%s", tail)
		}
		if story.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("the demo did not finish within %s: %w", o.Timeout, err)
		}
		return err
	}
	select {
	case err := <-mgrDone:
		return fmt.Errorf("the cxloop manager stopped: %v", err)
	default:
	}
	if !o.Keep {
		dm.say("")
		dm.say("To explore the status page, the local GitHub and kubectl afterwards, keep it running:")
		dm.say("   make demo DEMO_ARGS=--keep")
		return nil
	}
	return dm.keep(ctx, env, statusAddr, token, mgrDone)
}

// story applies the sample and plays the product owner, narrating.
func (dm *demo) story(ctx context.Context, cj *cxv1.CustomerJourney, phases []*cxv1.ImprovementPhase) error {
	c := dm.c
	mostOpenQuickWins := dm.watchOpen(ctx, "phase:improve")

	// The map.
	dm.title("1. The map")
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return err
	}
	// The label is the Secret's opt-in: cxloop uses no other Secret as GitHub credentials.
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: secretName,
		Labels: map[string]string{tracker.CredentialsLabel: tracker.CredentialsLabelValue}}, StringData: map[string]string{"token": dm.token}}
	if err := c.Create(ctx, secret); err != nil {
		return err
	}
	cj.Namespace = namespace
	cj.Spec.Tracker.GitHub.APIURL = dm.gh.URL()
	// The product owner's board: a Project of the organisation's.
	dm.project = dm.gh.AddProject(ghOwner, true, "Nature park: visitor experience")
	cj.Spec.Tracker.GitHub.Project = cxv1.GitHubProject{Owner: ghOwner, Number: int32(dm.project)}
	// Each phase as a parent issue whose sub-issues are its work.
	cj.Spec.Tracker.GitHub.ParentIssues = ptr.To(true)
	if dm.measured {
		measure(cj)
	}
	if err := c.Create(ctx, cj); err != nil {
		return fmt.Errorf("creating the sample journey: %w", err)
	}
	dm.step("The platform engineer applies config/samples: namespace %s, Secret %s (the GitHub token),", namespace, secretName)
	dm.step("CustomerJourney %s (tracked in %s/%s) and its four ImprovementPhases.", journeyName, ghOwner, ghRepo)
	if dm.measured {
		dm.step("Touchpoint website-home declares a measure: csat, avg(cx_touchpoint_csat{touchpoint=\"website-home\"}), target 4, HigherIsBetter.")
	}
	dm.step("(The demo's clock starts %d weeks ago, on %s, and jumps ahead between the product owner's", int(storySpan/(7*day)), dm.date())
	dm.step("actions, so that the status page has weeks of history and burn-up to show at the end.)")
	for _, ph := range phases {
		ph.Namespace = namespace
		ph.Spec.SyncInterval = &metav1.Duration{Duration: dm.o.SyncInterval}
		if ph.Spec.Type == cxv1.PhaseImprove {
			if ph.Spec.Limits == nil {
				ph.Spec.Limits = &cxv1.PhaseLimits{}
			}
			ph.Spec.Limits.MaxOpenIssues = dm.o.MaxOpenQuickWins
		}
		if err := c.Create(ctx, ph); err != nil {
			return fmt.Errorf("creating phase %s: %w", ph.Name, err)
		}
	}
	var scored *cxv1.CustomerJourney
	if err := dm.waitFor(ctx, "cxloop scores the journey", func() (bool, string, error) {
		j, err := dm.journey(ctx)
		if err != nil {
			return false, "", err
		}
		scored = j
		return j.Status.ObservedGeneration == j.Generation && j.Status.HealthScore != nil && j.Status.Summary != nil, "not scored yet", nil
	}); err != nil {
		return err
	}
	s := scored.Status.Summary
	healthBefore := *scored.Status.HealthScore
	dm.step("cxloop scored it: health %d/100; %d touchpoints on %d channels over %d stages, %d personas;", healthBefore, s.Touchpoints, s.Channels, s.Stages, s.Personas)
	dm.step("%d pain points, %d of them quick wins; %d moments of truth, %d top tasks.", s.PainPoints, s.QuickWins, s.MomentsOfTruth, s.TopTasks)
	dm.step("The map has %d gaps:", len(scored.Status.Gaps))
	for _, g := range scored.Status.Gaps {
		dm.step("  - %s", g.Message)
	}

	// Discovery.
	dm.title("2. Discovery: one GitHub issue per gap of the map")
	gaps := len(scored.Status.Gaps)
	var discovery *cxv1.ImprovementPhase
	if err := dm.waitFor(ctx, "Discovery opens one issue per gap, and its parent issue", func() (bool, string, error) {
		ph, err := dm.phase(ctx, "nature-park-discovery")
		if err != nil {
			return false, "", err
		}
		discovery = ph
		// The product owner starts once the phase's parent is there too:
		// the write budget may give the phase's issues their turns first.
		hasParent := ph.Status.Parent != nil && ph.Status.Parent.Issue != 0
		return ph.Status.State == cxv1.PhaseActive && len(ph.Status.Items) == gaps && countState(ph, cxv1.ItemOpen) == gaps && allNumbered(ph, cxv1.ItemOpen) && hasParent,
			fmt.Sprintf("Discovery is %q with %d of %d issues open, parent issue opened: %t", ph.Status.State, countState(ph, cxv1.ItemOpen), gaps, hasParent), nil
	}); err != nil {
		return err
	}
	dm.step("Discovery is active and opened %d issues, assigned to the product owner:", countState(discovery, cxv1.ItemOpen))
	for _, it := range discovery.Status.Items {
		dm.issue(int(it.Issue))
	}
	dm.step("Improve, Perfection and Personalization wait (Pending) until Discovery completes.")

	// The product owner works on the gaps.
	dm.title("3. The product owner fills the gaps")
	first := discovery.Status.Items[0]
	dm.later(6 * day)
	if err := dm.gh.CloseIssue(ghOwner, ghRepo, int(first.Issue), "completed"); err != nil {
		return err
	}
	closedAt := time.Now()
	dm.step("On GitHub, the product owner closes #%d (%q).", first.Issue, first.Title)
	if err := dm.waitFor(ctx, fmt.Sprintf("cxloop sees #%d closed", first.Issue), func() (bool, string, error) {
		ph, err := dm.phase(ctx, "nature-park-discovery")
		if err != nil {
			return false, "", err
		}
		discovery = ph
		return itemByKey(ph, first.Key).State == cxv1.ItemClosed, "still " + string(itemByKey(ph, first.Key).State), nil
	}); err != nil {
		return err
	}
	how := dm.howSeen(int(first.Issue))
	dm.step("%s %.1fs later: Discovery %s, still %s:", strings.ToUpper(how[:1])+how[1:], time.Since(closedAt).Seconds(), discovery.Status.Progress.Summary, discovery.Status.State)
	dm.step("closing an issue is not enough while the gap is still in the map.")

	restaurant, parking := "", ""
	dm.later(5 * day)
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		j, err := dm.journey(ctx)
		if err != nil {
			return err
		}
		restaurant, parking = fixMap(j)
		return c.Update(ctx, j)
	}); err != nil {
		return fmt.Errorf("updating the map: %w", err)
	}
	dm.step("The product owner updates the map (kubectl edit journey %s):", journeyName)
	dm.step("  - %s", restaurant)
	dm.step("  - %s", parking)
	if err := dm.waitFor(ctx, "Discovery completes", func() (bool, string, error) {
		ph, err := dm.phase(ctx, "nature-park-discovery")
		if err != nil {
			return false, "", err
		}
		discovery = ph
		return ph.Status.State == cxv1.PhaseCompleted, fmt.Sprintf("Discovery is %q at %s", ph.Status.State, ph.Status.Progress.Summary), nil
	}); err != nil {
		return err
	}
	for _, it := range discovery.Status.Items[1:] {
		if is, ok := dm.ghIssue(int(it.Issue)); ok && is.State == "closed" {
			dm.step("cxloop sees the gap gone from the map and closes #%d itself (as %s).", it.Issue, is.StateReason)
		}
	}
	dm.step("Discovery completed: %s.", discovery.Status.Progress.Summary)

	// Improve.
	dm.title("4. Improve: the quick wins (impact >= 4, effort <= 2), best first")
	var improve *cxv1.ImprovementPhase
	limit := int(dm.o.MaxOpenQuickWins)
	if err := dm.waitFor(ctx, "Improve opens the quick wins", func() (bool, string, error) {
		ph, err := dm.phase(ctx, "nature-park-improve")
		if err != nil {
			return false, "", err
		}
		improve = ph
		want := min(limit, len(ph.Status.Items))
		return ph.Status.State == cxv1.PhaseActive && want > 0 && countState(ph, cxv1.ItemOpen) == want && allNumbered(ph, cxv1.ItemOpen),
			fmt.Sprintf("Improve is %q with %d issues open", ph.Status.State, countState(ph, cxv1.ItemOpen)), nil
	}); err != nil {
		return err
	}
	dm.step("Improve started and found %d quick wins. maxOpenIssues is %d, so it opened %d issues:", len(improve.Status.Items), limit, countState(improve, cxv1.ItemOpen))
	for _, it := range improve.Status.Items {
		if it.State == cxv1.ItemOpen {
			dm.issue(int(it.Issue))
		}
	}
	for _, it := range improve.Status.Items {
		if it.State == cxv1.ItemPlanned {
			dm.step("  planned, waits for a free slot: %s", it.Title)
		}
	}

	dm.title("5. The product owner closes the quick wins on GitHub")
	for n := 0; ; n++ {
		var next *cxv1.PhaseItem
		for i := range improve.Status.Items {
			if it := &improve.Status.Items[i]; it.State == cxv1.ItemOpen && (next == nil || it.Issue < next.Issue) {
				next = it
			}
		}
		if next == nil {
			break
		}
		before := openKeys(improve)
		dm.later(quickWinPace[n%len(quickWinPace)])
		if err := dm.gh.CloseIssue(ghOwner, ghRepo, int(next.Issue), "completed"); err != nil {
			return err
		}
		closedAt := time.Now()
		var seen time.Duration
		key := next.Key
		if err := dm.waitFor(ctx, fmt.Sprintf("cxloop sees quick win #%d closed", next.Issue), func() (bool, string, error) {
			ph, err := dm.phase(ctx, "nature-park-improve")
			if err != nil {
				return false, "", err
			}
			improve = ph
			if seen == 0 && itemByKey(ph, key).State == cxv1.ItemClosed {
				seen = time.Since(closedAt)
			}
			remaining := countState(ph, cxv1.ItemOpen) + countState(ph, cxv1.ItemPlanned)
			return itemByKey(ph, key).State == cxv1.ItemClosed && countState(ph, cxv1.ItemOpen) == min(limit, remaining) && allNumbered(ph, cxv1.ItemOpen),
				fmt.Sprintf("#%d is %s; %d open", next.Issue, itemByKey(ph, key).State, countState(ph, cxv1.ItemOpen)), nil
		}); err != nil {
			return err
		}
		line := fmt.Sprintf("closed #%d; %s %.1fs later", next.Issue, dm.howSeen(int(next.Issue)), seen.Seconds())
		for _, it := range improve.Status.Items {
			if it.State == cxv1.ItemOpen && !before[it.Key] {
				line += fmt.Sprintf(" and opened the next one: #%d %s", it.Issue, it.Title)
			}
		}
		dm.step("%s", line)
		if n == 1 {
			if err := dm.parentProgress(ctx, "nature-park-improve", 2); err != nil {
				return err
			}
		}
	}
	var perfection *cxv1.ImprovementPhase
	if err := dm.waitFor(ctx, "Improve completes and Perfection starts", func() (bool, string, error) {
		ph, err := dm.phase(ctx, "nature-park-improve")
		if err != nil {
			return false, "", err
		}
		improve = ph
		if perfection, err = dm.phase(ctx, "nature-park-perfection"); err != nil {
			return false, "", err
		}
		want := min(int(cmp.Or(ptr.Deref(perfection.Spec.Limits, cxv1.PhaseLimits{}).MaxOpenIssues, 10)), len(perfection.Status.Items))
		return ph.Status.State == cxv1.PhaseCompleted && perfection.Status.State == cxv1.PhaseActive && countState(perfection, cxv1.ItemOpen) == want && allNumbered(perfection, cxv1.ItemOpen),
			fmt.Sprintf("Improve is %q at %s, Perfection is %q", ph.Status.State, ph.Status.Progress.Summary, perfection.Status.State), nil
	}); err != nil {
		return err
	}
	dm.step("Improve completed: %s. At most %d quick-win issues were open at any moment (maxOpenIssues %d).", improve.Status.Progress.Summary, mostOpenQuickWins(), limit)
	if dm.measured {
		if err := dm.verifiedOutcome(ctx); err != nil {
			return err
		}
	}

	dm.title("6. Perfection: the long-term improvements")
	dm.step("Perfection is active and opened %d issues for the bigger work (%d more planned):", countState(perfection, cxv1.ItemOpen), countState(perfection, cxv1.ItemPlanned))
	for _, it := range perfection.Status.Items {
		if it.State == cxv1.ItemOpen {
			dm.step("  #%-3d %s", it.Issue, it.Title)
		}
	}

	if err := dm.perfectionPace(ctx); err != nil {
		return err
	}

	var final *cxv1.CustomerJourney
	if err := dm.waitFor(ctx, "the journey shows Perfection as its active phase", func() (bool, string, error) {
		j, err := dm.journey(ctx)
		if err != nil {
			return false, "", err
		}
		final = j
		return j.Status.ActivePhase == "nature-park-perfection" && j.Status.HealthScore != nil, "active phase " + j.Status.ActivePhase, nil
	}); err != nil {
		return err
	}

	dm.title(fmt.Sprintf("Where things stand (kubectl get cx -n %s)", namespace))
	var list cxv1.ImprovementPhaseList
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return err
	}
	slices.SortFunc(list.Items, func(a, b cxv1.ImprovementPhase) int { return a.Spec.Type.Order() - b.Spec.Type.Order() })
	tw := tabwriter.NewWriter(dm.out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tTYPE\tSTATE\tPROGRESS\tSCHEDULE\tFORECAST")
	for _, ph := range list.Items {
		schedule, forecast := "-", "-"
		if f := ph.Status.Forecast; f != nil {
			schedule, forecast = string(f.Schedule), orDash(f.ProjectedCompletion)
		}
		progress := orDash(ph.Status.Progress.Summary)
		if ph.Status.State == cxv1.PhasePending {
			progress = "not started"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", ph.Name, ph.Spec.Type, orDash(string(ph.Status.State)), progress, schedule, forecast)
	}
	_ = tw.Flush()
	dm.say("")
	dm.step("Journey health: %d -> %d (the solved quick wins no longer count against it).", healthBefore, *final.Status.HealthScore)
	var trend []string
	for _, h := range final.Status.History {
		trend = append(trend, fmt.Sprintf("%d (%s)", h.HealthScore, h.Time.UTC().Format("01-02")))
	}
	dm.step("Health over time, %d recorded changes in status.history: %s.", len(trend), strings.Join(trend, " -> "))
	var phaseIssues int
	var others []string
	counts := map[string]int{}
	parents := 0
	for _, is := range dm.gh.Issues(ghOwner, ghRepo) {
		if isParent(is) {
			parents++
			counts[tracker.KeyFromBody(is.Body)]++
			continue
		}
		if slices.ContainsFunc(is.Labels, func(l string) bool { return strings.HasPrefix(l, "phase:") }) {
			phaseIssues++
			counts[tracker.KeyFromBody(is.Body)]++
		} else {
			others = append(others, fmt.Sprintf("#%d %q", is.Number, is.Title))
		}
	}
	dups := 0
	for _, n := range counts {
		dups += n - 1
	}
	delivered, total := 0, 0
	waitCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = dm.gh.WaitForDeliveries(waitCtx) // what GitHub still has on its way
	cancel()
	for _, dl := range dm.gh.Deliveries() {
		total++
		if dl.Delivered {
			delivered++
		}
	}
	dm.step("GitHub: %d phase issues opened under %d parent issues, %d duplicates; %d of %d signed webhooks accepted by cxloop.", phaseIssues, parents, dups, delivered, total)
	if err := dm.printBoard(ctx); err != nil {
		return err
	}
	if len(others) > 0 {
		dm.step("Also on GitHub, for leadership: %s (the journey's dashboard, edited in place).", strings.Join(others, ", "))
	}
	return nil
}

// printBoard shows the product owner's board as they would group and sort
// it on GitHub: by Phase, then by Impact, highest first.
func (dm *demo) printBoard(ctx context.Context) error {
	// The board follows the issues within the write budget: wait until it
	// holds every phase issue with its Phase.
	var items []localgithub.ProjectItem
	if err := dm.waitFor(ctx, "every phase issue on the board with its fields", func() (bool, string, error) {
		var err error
		if items, err = dm.gh.ProjectItems(ghOwner, true, dm.project); err != nil {
			return false, "", err
		}
		phased := map[int]bool{}
		for _, it := range items {
			phased[it.Number] = it.Values["Phase"] != ""
		}
		var missing []string
		for _, is := range dm.gh.Issues(ghOwner, ghRepo) {
			if slices.ContainsFunc(is.Labels, func(l string) bool { return strings.HasPrefix(l, "phase:") }) && !phased[is.Number] {
				missing = append(missing, fmt.Sprintf("#%d", is.Number))
			}
		}
		// and every parent holds its phase's issues.
		for _, name := range []string{"nature-park-discovery", "nature-park-improve", "nature-park-perfection", "nature-park-personalization"} {
			ph, err := dm.phase(ctx, name)
			if err != nil {
				return false, "", err
			}
			if ph.Status.Parent == nil || ph.Status.Parent.Issue == 0 {
				continue
			}
			opened := openedItems(ph)
			if _, total := dm.subIssuesDone(int(ph.Status.Parent.Issue)); total != opened {
				missing = append(missing, fmt.Sprintf("%d of %d sub-issues of #%d", opened-total, opened, ph.Status.Parent.Issue))
			}
		}
		return len(missing) == 0, fmt.Sprintf("not on the board with their fields yet: %s", strings.Join(missing, ", ")), nil
	}); err != nil {
		return err
	}
	impact := func(it localgithub.ProjectItem) float64 {
		n, _ := strconv.ParseFloat(it.Values["Impact"], 64)
		return n
	}
	slices.SortStableFunc(items, func(a, b localgithub.ProjectItem) int {
		if c := cxv1.PhaseType(a.Values["Phase"]).Order() - cxv1.PhaseType(b.Values["Phase"]).Order(); c != 0 {
			return c
		}
		return cmp.Compare(impact(b), impact(a))
	})
	dm.title(fmt.Sprintf("The product owner's board (GitHub Project %s/%d, grouped by Phase, sorted by Impact)", ghOwner, dm.project))
	tw := tabwriter.NewWriter(dm.out, 0, 4, 2, ' ', 0)
	phase := ""
	for _, it := range items {
		if p := it.Values["Phase"]; p != phase {
			phase = p
			fmt.Fprintf(tw, "  %s\t\t\t\t\t\t\n", orDash(phase))
		}
		if is, ok := dm.ghIssue(it.Number); ok && isParent(is) {
			// A phase's parent issue: GitHub shows its sub-issues' progress.
			done, total := dm.subIssuesDone(it.Number)
			progress := fmt.Sprintf("%d of %d sub-issues done", done, total)
			if rel, err := dm.gh.Relations(ghOwner, ghRepo, it.Number); err == nil && total == 0 && len(rel.BlockedBy) > 0 {
				progress = fmt.Sprintf("waits, blocked by #%d", rel.BlockedBy[0])
			}
			fmt.Fprintf(tw, "    #%d\t%s\t%s\t%s\t\t\t\n", it.Number, truncate(it.Title, 48), it.State, progress)
			continue
		}
		fmt.Fprintf(tw, "    #%d\t%s\t%s\timpact %s\teffort %s\t%s\t%s\n", it.Number, truncate(it.Title, 48), it.State,
			orDash(it.Values["Impact"]), orDash(it.Values["Effort"]), orDash(it.Values["Stage"]), orDash(it.Values["Outcome"]))
	}
	_ = tw.Flush()
	dm.step("%d issues on the board; cxloop keeps its fields (Phase, Stage, Persona, Channel, Impact, Effort, Quick win, Outcome),", len(items))
	dm.step("the team keeps Status and the order.")
	return nil
}

// openedItems counts the phase's items that have an issue to be a sub-issue.
func openedItems(ph *cxv1.ImprovementPhase) int {
	n := 0
	for _, it := range ph.Status.Items {
		if it.Issue != 0 && it.State != cxv1.ItemObsolete {
			n++
		}
	}
	return n
}

// isParent: the issue is a phase's parent issue (its key is the phase's).
func isParent(is localgithub.Issue) bool {
	return strings.Contains(tracker.KeyFromBody(is.Body), "/"+workitem.PhaseParentKey(""))
}

// parentProgress waits until the phase's parent issue holds all its
// issues as sub-issues with done of them closed, and says so as GitHub
// shows it on the parent.
func (dm *demo) parentProgress(ctx context.Context, phase string, done int) error {
	var parent localgithub.Issue
	var closed, total int
	if err := dm.waitFor(ctx, fmt.Sprintf("the parent issue of %s shows its sub-issues", phase), func() (bool, string, error) {
		ph, err := dm.phase(ctx, phase)
		if err != nil {
			return false, "", err
		}
		if ph.Status.Parent == nil || ph.Status.Parent.Issue == 0 {
			return false, "no parent issue yet", nil
		}
		parent, _ = dm.ghIssue(int(ph.Status.Parent.Issue))
		closed, total = dm.subIssuesDone(parent.Number)
		return total == openedItems(ph) && closed == done, fmt.Sprintf("%d of %d sub-issues closed", closed, total), nil
	}); err != nil {
		return err
	}
	dm.step("GitHub shows the parent issue #%d %q at %d of %d done (its sub-issues are the phase's issues).", parent.Number, parent.Title, closed, total)
	return nil
}

// subIssuesDone counts the closed sub-issues of issue number, as GitHub
// shows them on it.
func (dm *demo) subIssuesDone(number int) (done, total int) {
	rel, err := dm.gh.Relations(ghOwner, ghRepo, number)
	if err != nil {
		return 0, 0
	}
	for _, n := range rel.SubIssues {
		if is, ok := dm.ghIssue(n); ok && is.State == "closed" {
			done++
		}
	}
	return done, len(rel.SubIssues)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

const day = 24 * time.Hour

// quickWinPace is how long the product owner takes for each quick win.
var quickWinPace = []time.Duration{9 * day, 8 * day, 10 * day, 9 * day}

// later moves the simulated clock forward by d and says so.
func (dm *demo) later(d time.Duration) {
	dm.advance(d)
	dm.step("… %d days later, on %s:", int(d/day), dm.date())
}

func (dm *demo) date() string { return dm.sim.Now().UTC().Format(time.DateOnly) }

// perfectionPace plays two more weeks of Perfection: the product owner
// closes two of its issues, a week apart; then it is today, and the board
// asks for Perfection three weeks from now. At its pace that is too soon:
// cxloop marks the phase AtRisk.
func (dm *demo) perfectionPace(ctx context.Context) error {
	dm.title("7. Weeks later: is Perfection on track?")
	for i := 0; i < 2; i++ {
		ph, err := dm.phase(ctx, "nature-park-perfection")
		if err != nil {
			return err
		}
		var next *cxv1.PhaseItem
		for j := range ph.Status.Items {
			if it := &ph.Status.Items[j]; it.State == cxv1.ItemOpen && (next == nil || it.Issue < next.Issue) {
				next = it
			}
		}
		if next == nil {
			return errors.New("perfection has no open issue to close")
		}
		dm.later(7 * day)
		if err := dm.gh.CloseIssue(ghOwner, ghRepo, int(next.Issue), "completed"); err != nil {
			return err
		}
		key := next.Key
		if err := dm.waitFor(ctx, fmt.Sprintf("cxloop sees Perfection's #%d closed", next.Issue), func() (bool, string, error) {
			ph, err := dm.phase(ctx, "nature-park-perfection")
			if err != nil {
				return false, "", err
			}
			return itemByKey(ph, key).State == cxv1.ItemClosed, "still " + string(itemByKey(ph, key).State), nil
		}); err != nil {
			return err
		}
		dm.step("The product owner closed #%d %s.", next.Issue, next.Title)
	}
	dm.advance(storySpan) // today
	deadline := dm.sim.Now().UTC().AddDate(0, 0, 21).Format(time.DateOnly)
	dm.step("Today, %s, the park management board sets Perfection a deadline three weeks away: %s.", dm.date(), deadline)
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ph, err := dm.phase(ctx, "nature-park-perfection")
		if err != nil {
			return err
		}
		ph.Spec.Deadline = deadline
		return dm.c.Update(ctx, ph)
	}); err != nil {
		return fmt.Errorf("setting Perfection's deadline: %w", err)
	}
	var fc *cxv1.PhaseForecast
	if err := dm.waitFor(ctx, "cxloop forecasts Perfection against its deadline", func() (bool, string, error) {
		ph, err := dm.phase(ctx, "nature-park-perfection")
		if err != nil {
			return false, "", err
		}
		fc = ph.Status.Forecast
		if fc == nil {
			return false, "no forecast yet", nil
		}
		return ph.Status.ObservedGeneration == ph.Generation && (fc.Schedule == cxv1.ScheduleAtRisk || fc.Schedule == cxv1.ScheduleOnTrack), string(fc.Schedule) + ": " + fc.Message, nil
	}); err != nil {
		return err
	}
	dm.step("cxloop's forecast (status.forecast): %s — %s.", fc.Schedule, fc.Message)
	if fc.Schedule == cxv1.ScheduleAtRisk {
		dm.step("The phase is marked at risk in kubectl get cx, on the status page and in the dashboard issue.")
	}
	return nil
}

// keep stays up until ctx ends, saying where to look.
func (dm *demo) keep(ctx context.Context, env *envtest.Environment, statusAddr, token string, mgrDone <-chan error) error {
	dir, err := os.MkdirTemp("", "cxloop-demo-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	user, err := env.AddUser(envtest.User{Name: "demo", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	raw, err := user.KubeConfig()
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, raw, 0o600); err != nil {
		return err
	}
	dm.title("cxloop keeps running; press Ctrl-C to stop")
	if statusAddr != "" {
		dm.step("Status page:   http://%s/", statusAddr)
		dm.step("               http://%s/journeys/%s/%s (health over time, burn-ups, forecasts)", statusAddr, namespace, journeyName)
		dm.step("               http://%s/api/v1/journeys (the same as JSON)", statusAddr)
	}
	dm.step("Local GitHub:  %s%s/%s/issues (the issues, each parent with its sub-issues' progress)", dm.gh.URL(), ghOwner, ghRepo)
	dm.step("               %sorgs/%s/projects/%d (the product owner's board)", dm.gh.URL(), ghOwner, dm.project)
	dm.step("               %srepos/%s/%s/issues?state=all (the API; local-only token for curl: -H 'Authorization: Bearer %s')", dm.gh.URL(), ghOwner, ghRepo, token)
	dm.step("kubectl:       KUBECONFIG=%s %s get cx -n %s", kubeconfig, filepath.Join(dm.o.Assets, "kubectl"), namespace)
	select {
	case <-ctx.Done():
		dm.say("Stopping.")
		return nil
	case err := <-mgrDone:
		return fmt.Errorf("the cxloop manager stopped: %v", err)
	}
}

// fixMap plays the product owner: the partner restaurant gets an owner and
// the parking-signs pain point is sized. It says what changed.
func fixMap(j *cxv1.CustomerJourney) (restaurant, parking string) {
	for si := range j.Spec.Stages {
		for ti := range j.Spec.Stages[si].Touchpoints {
			tp := &j.Spec.Stages[si].Touchpoints[ti]
			if tp.Name == "nearby-restaurant" {
				tp.Owner = "Partnerships"
				restaurant = "the nearby restaurant (visit stage) is owned by Partnerships from now on;"
			}
			for pi := range tp.PainPoints {
				if pp := &tp.PainPoints[pi]; pp.ID == "parking-signs" {
					pp.Effort = 3
					parking = fmt.Sprintf("the parking-signs pain point (%q) is sized: impact %d, effort 3.", pp.Summary, cmp.Or(pp.Impact, 3))
				}
			}
		}
	}
	return restaurant, parking
}

// issue prints one GitHub issue as the server holds it.
func (dm *demo) issue(number int) {
	if is, ok := dm.ghIssue(number); ok {
		dm.step("  #%-3d %s", is.Number, is.Title)
		dm.step("        labels: %s", strings.Join(is.Labels, ", "))
		return
	}
	dm.step("  #%-3d (not found on GitHub)", number)
}

func (dm *demo) ghIssue(number int) (localgithub.Issue, bool) {
	for _, is := range dm.gh.Issues(ghOwner, ghRepo) {
		if is.Number == number {
			return is, true
		}
	}
	return localgithub.Issue{}, false
}

// howSeen says how cxloop learnt that an issue was closed: through the
// signed webhook if GitHub delivered one, else by polling.
func (dm *demo) howSeen(number int) string {
	// cxloop may act on a delivery before GitHub has read its answer.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = dm.gh.WaitForDeliveries(ctx)
	cancel()
	for _, d := range dm.gh.Deliveries() {
		n := fmt.Sprintf(`"number":%d`, number)
		if d.Action == "closed" && d.Delivered && (bytes.Contains(d.Payload, []byte(n+",")) || bytes.Contains(d.Payload, []byte(n+"}"))) {
			return "the webhook told cxloop"
		}
	}
	return "cxloop's poll saw it"
}

// watchOpen samples GitHub's open issues with a label until ctx ends and
// reports the most seen open at once.
func (dm *demo) watchOpen(ctx context.Context, label string) func() int {
	var most atomic.Int64
	go func() {
		for ctx.Err() == nil {
			n := int64(0)
			for _, is := range dm.gh.Issues(ghOwner, ghRepo) {
				if is.State == "open" && slices.Contains(is.Labels, label) && !isParent(is) {
					n++
				}
			}
			if n > most.Load() {
				most.Store(n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() int { return int(most.Load()) }
}

// waitFor polls cond until it holds, failing after the step timeout or when
// ctx ends with a message that says what did not happen.
func (dm *demo) waitFor(ctx context.Context, what string, cond func() (done bool, now string, err error)) error {
	ctx, cancel := context.WithTimeout(ctx, dm.o.StepTimeout)
	defer cancel()
	last := "nothing observed yet"
	for {
		done, now, err := cond()
		switch {
		case err == nil && done:
			return nil
		case err != nil:
			last = err.Error()
		case now != "":
			last = now
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waited in vain for: %s (last seen: %s): %w", what, last, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (dm *demo) journey(ctx context.Context) (*cxv1.CustomerJourney, error) {
	var j cxv1.CustomerJourney
	err := dm.c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: journeyName}, &j)
	return &j, err
}

func (dm *demo) phase(ctx context.Context, name string) (*cxv1.ImprovementPhase, error) {
	var ph cxv1.ImprovementPhase
	err := dm.c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &ph)
	return &ph, err
}

func (dm *demo) say(s string) { fmt.Fprintln(dm.out, s) }

func (dm *demo) title(s string) { fmt.Fprintf(dm.out, "\n%s\n", s) }

func (dm *demo) step(format string, args ...any) {
	fmt.Fprintf(dm.out, "   "+format+"\n", args...)
}

func countState(ph *cxv1.ImprovementPhase, s cxv1.ItemState) int {
	n := 0
	for _, it := range ph.Status.Items {
		if it.State == s {
			n++
		}
	}
	return n
}

// allNumbered reports whether every item in state s has its issue number.
func allNumbered(ph *cxv1.ImprovementPhase, s cxv1.ItemState) bool {
	for _, it := range ph.Status.Items {
		if it.State == s && it.Issue == 0 {
			return false
		}
	}
	return true
}

func itemByKey(ph *cxv1.ImprovementPhase, key string) cxv1.PhaseItem {
	for _, it := range ph.Status.Items {
		if it.Key == key {
			return it
		}
	}
	return cxv1.PhaseItem{State: "missing"}
}

func openKeys(ph *cxv1.ImprovementPhase) map[string]bool {
	out := map[string]bool{}
	for _, it := range ph.Status.Items {
		if it.State == cxv1.ItemOpen {
			out[it.Key] = true
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readSamples reads the nature-park journey and its phases from config/samples.
func readSamples(root string) (*cxv1.CustomerJourney, []*cxv1.ImprovementPhase, error) {
	dir := filepath.Join(root, "config", "samples")
	raw, err := os.ReadFile(filepath.Join(dir, "cx_v1alpha1_customerjourney.yaml"))
	if err != nil {
		return nil, nil, err
	}
	var cj cxv1.CustomerJourney
	if err := yaml.UnmarshalStrict(raw, &cj); err != nil {
		return nil, nil, fmt.Errorf("reading the sample journey: %w", err)
	}
	if cj.Spec.Tracker == nil || cj.Spec.Tracker.GitHub == nil {
		return nil, nil, errors.New("the sample journey has no GitHub tracker")
	}
	raw, err = os.ReadFile(filepath.Join(dir, "cx_v1alpha1_improvementphases.yaml"))
	if err != nil {
		return nil, nil, err
	}
	var phases []*cxv1.ImprovementPhase
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var p cxv1.ImprovementPhase
		if err := yaml.UnmarshalStrict([]byte(doc), &p); err != nil {
			return nil, nil, fmt.Errorf("reading the sample phases: %w", err)
		}
		phases = append(phases, &p)
	}
	if len(phases) != 4 {
		return nil, nil, fmt.Errorf("expected the four sample phases, found %d", len(phases))
	}
	return &cj, phases, nil
}

// addrOrFree checks that addr can be listened on and returns it with its
// port resolved; when it is taken, it returns a free port on 127.0.0.1
// instead, and says it moved.
func addrOrFree(addr string) (string, bool, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		free, err := devenv.FreeAddr()
		return free, err == nil, err
	}
	defer ln.Close()
	return ln.Addr().String(), false, nil
}

// logTail keeps the last lines written to it.
type logTail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		l.lines = append(l.lines, string(line))
	}
	if len(l.lines) > l.max {
		l.lines = l.lines[len(l.lines)-l.max:]
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return ""
	}
	return strings.Join(l.lines, "\n") + "\n"
}

// githubHost is the host:port of an API URL.
func githubHost(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil {
		return ""
	}
	return u.Host
}
