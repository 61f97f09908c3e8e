package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
)

// Result is one run of the benchmark, as written to JSON.
type Result struct {
	Date   string `json:"date"`
	Commit string `json:"commit"`
	Params Params `json:"params"`
	// Baseline is the minimal reconciler that only sets Ready.
	Baseline Side `json:"baseline"`
	// Kubernetes is cxloop's side of the API server.
	Kubernetes   KubernetesSide `json:"kubernetes"`
	GitHub       GitHubSide     `json:"github"`
	Idle         Idle           `json:"idleSync"`
	CloseWebhook Latency        `json:"closeToStatusWebhook"`
	ClosePolling Latency        `json:"closeToStatusPolling"`
	Manager      Manager        `json:"manager"`
	// StatusPage: 32 readers loading the page and its JSON at once.
	StatusPage *StatusPage `json:"statusPage,omitempty"`
}

type Params struct {
	// ReadyOnly: the run stopped once every object was Ready (the
	// Kubernetes side and memory alone).
	ReadyOnly                 bool    `json:"readyOnly,omitempty"`
	Journeys                  int     `json:"journeys"`
	TouchpointsPerJourney     int     `json:"touchpointsPerJourney"`
	Personas                  int     `json:"personas"`
	PhasesPerJourney          int     `json:"phasesPerJourney"`
	DiscoveryIssuesPerJourney int     `json:"discoveryIssuesPerJourney"`
	WritesPerMinute           int     `json:"githubWritesPerMinute"`
	WritesPerHour             int     `json:"githubWritesPerHour"`
	GitHubRateLimit           int     `json:"githubRateLimitPerHour"`
	SyncIntervalSeconds       float64 `json:"syncIntervalSeconds"`
	CPUs                      int     `json:"cpus"`
	// WorkersPerController: the same for cxloop and the baseline.
	WorkersPerController int `json:"workersPerController"`
	// ManagerMemoryLimitMiB is the container memory limit the manager ran
	// as if under: GOMEMLIMIT at 80% of it. 0: none.
	ManagerMemoryLimitMiB float64 `json:"managerMemoryLimitMiB,omitempty"`
	// Shards is how many managers shared the journeys (-shards); 0 or 1: one.
	Shards int `json:"shards,omitempty"`
}

// Side is what it takes one controller to bring every object to Ready.
type Side struct {
	ReadySeconds float64 `json:"readySeconds"`
	// ApplySeconds is how long the API server took to accept the creates.
	ApplySeconds        float64 `json:"applySeconds"`
	ReconcilesPerObject float64 `json:"reconcilesPerObject"`
	// WritesToReady: changes of each object until it was Ready (watch events).
	WritesToReady Counts `json:"writesToReady"`
	// APIWritesPerObject: write requests the API server counted on the
	// journeys and phases until all were Ready, per object (creates left out).
	APIWritesPerObject float64 `json:"apiWritesPerObject"`
}

type KubernetesSide struct {
	Side
	ReadyRatio      float64 `json:"readyRatio"`
	ReconcilesRatio float64 `json:"reconcilesRatio"`
	// APIWritesTotal and EventWrites over the whole run; WritesPerIssue is
	// object changes per issue opened.
	APIWritesTotal int `json:"apiWritesTotal"`
	// JourneyWritesToReady and PhaseWritesToReady split WritesToReady by kind.
	JourneyWritesToReady Counts  `json:"journeyWritesToReady"`
	PhaseWritesToReady   Counts  `json:"phaseWritesToReady"`
	EventWrites          int     `json:"eventWrites"`
	WritesPerIssue       float64 `json:"objectWritesPerIssue"`
	// JourneyWritesPerIssue is the part of WritesPerIssue on journeys.
	JourneyWritesPerIssue float64 `json:"journeyWritesPerIssue"`
	// PhaseWritesInRamp: status writes of the phases from the apply until
	// the ramp settled (every issue open, its webhooks delivered), of
	// which PhaseWritesToReady.Mean × phases to Ready.
	// PhaseWritesPerIssue is the rest per issue opened or closed in that
	// time: the attempt and the result of an issue, nothing while waiting.
	PhaseWritesInRamp   int     `json:"phaseWritesInRamp"`
	PhaseWritesPerIssue float64 `json:"phaseWritesPerIssue"`
	// WaitingWrites: phase writes while only waiting for the write budget
	// (RateLimited=WriteBudget before and after, items unchanged), and
	// the status fields they changed.
	WaitingWrites       int            `json:"phaseWritesWhileOnlyWaiting"`
	WaitingWritesFields map[string]int `json:"phaseWritesWhileOnlyWaitingFields,omitempty"`
	// PhaseWritesAfterReady sorts the phases' writes once Ready, over the
	// whole run: those that changed items, and the others by field.
	PhaseWritesAfterReady afterReadyWrites `json:"phaseWritesAfterReady"`
}

type Counts struct {
	Mean   float64 `json:"mean"`
	Median int     `json:"median"`
	Max    int     `json:"max"`
}

type GitHubSide struct {
	IssuesOpened int `json:"issuesOpened"`
	Writes       int `json:"writesDuringRamp"`
	// RampSeconds is from the first issue opened to the last;
	// FirstIssueSeconds from the apply to the first.
	RampSeconds       float64 `json:"rampSeconds"`
	FirstIssueSeconds float64 `json:"firstIssueSeconds"`
	OpenedPerMinute   float64 `json:"openedPerMinute"`
	BudgetShare       float64 `json:"budgetShare"`
	// After every journey and phase is Ready all the ramp's work is known
	// and waits for the budget alone (before, it waits for the apply):
	// the issues opened from then on, and their rate as a share of the
	// budget. The target is about this share.
	OpenedAfterReady      int     `json:"openedAfterReady"`
	AfterReadySeconds     float64 `json:"afterReadySeconds"`
	BudgetShareAfterReady float64 `json:"budgetShareAfterReady"`
	// MaxInAnyMinute is the most issues opened in any 60 seconds: never
	// more than the budget.
	MaxInAnyMinute     int `json:"maxOpenedInAnyMinute"`
	SecondaryLimits    int `json:"secondaryLimits"`
	PhasesHeldByBudget int `json:"phasesHeldByBudget"`
	// PhaseReconcilesInRamp: phase reconciles from apply to the last issue.
	PhaseReconcilesInRamp int     `json:"phaseReconcilesInRamp"`
	Requests              int     `json:"requests"`
	RequestsPerIssue      float64 `json:"requestsPerIssue"`
	// CostingRequestsPerIssue leaves out the 304s, which cost no rate limit.
	CostingRequestsPerIssue float64        `json:"costingRequestsPerIssue"`
	RequestsByAnswer        map[string]int `json:"requestsByAnswer"`
	// Listings: pages of issue listings (GET …/issues) from the apply
	// until the ramp settled, ListingsNotModified of them answered 304;
	// ListingsPerIssue per issue opened.
	Listings            int     `json:"issueListingsInRamp"`
	ListingsNotModified int     `json:"issueListingsInRampNotModified"`
	ListingsPerIssue    float64 `json:"issueListingsPerIssue"`
}

type Idle struct {
	Syncs            int     `json:"syncs"`
	Requests         int     `json:"requests"`
	RequestsPerSync  float64 `json:"requestsPerSync"`
	NotModified      int     `json:"notModified"`
	OK               int     `json:"ok"`
	CostingRateLimit int     `json:"costingRateLimit"`
	GitHubWrites     int     `json:"githubWrites"`
	KubernetesWrites int     `json:"kubernetesWrites"`
	// WritesByResource and ReconcilesByController say where idle work went.
	WritesByResource       map[string]int `json:"writesByResource,omitempty"`
	ReconcilesByController map[string]int `json:"reconcilesByController,omitempty"`
	RequestsByAnswer       map[string]int `json:"requestsByAnswer,omitempty"`
	// UnchangedObjectWrites: writes on the journeys and phases nothing
	// happened to (no issue of theirs closed), UnchangedObjects of them.
	UnchangedObjects      int `json:"unchangedObjects"`
	UnchangedObjectWrites int `json:"unchangedObjectWrites"`
	// Repositories tracked, and GitHub requests per repository per sync
	// interval while idle (the issue index's refreshes).
	Repositories                  int     `json:"repositories,omitempty"`
	RequestsPerRepositoryInterval float64 `json:"requestsPerRepositoryInterval,omitempty"`
}

type Latency struct {
	Closes        int     `json:"closes"`
	Missing       int     `json:"missing"`
	MedianSeconds float64 `json:"medianSeconds"`
	P99Seconds    float64 `json:"p99Seconds"`
	MaxSeconds    float64 `json:"maxSeconds"`
	DuringRamp    bool    `json:"duringRamp,omitempty"`
	// Delivery is the webhook's leg: close until the delivery is recorded
	// on the journey (the rest is cxloop's reconcile).
	Delivery *Latency `json:"delivery,omitempty"`

	keys []closeKey
}

type Manager struct {
	// PeakRSSMiB is the manager process's VmHWM over its life: cxloop's
	// manager alone, as it ships, in a process of its own.
	PeakRSSMiB float64 `json:"peakRSSMiB"`
	// PeakAnonRSSMiB is the peak of its anonymous resident memory, sampled
	// every 100ms: the RSS less the pages of the binary's code and data,
	// which a container's memory limit can reclaim.
	PeakAnonRSSMiB float64 `json:"peakAnonRSSMiB"`
	// RSSAtEndMiB and HeapInUseAtEndMiB are its resident set and Go heap
	// in use when the run ends.
	RSSAtEndMiB       float64 `json:"rssAtEndMiB"`
	HeapInUseAtEndMiB float64 `json:"heapInUseAtEndMiB"`
	// IndexIssues and IndexMiB: what the shared issue indexes hold at the
	// end, summed over repositories (cxloop_github_issue_index_*).
	IndexIssues                    int     `json:"indexIssues,omitempty"`
	IndexMiB                       float64 `json:"indexMiB,omitempty"`
	Reconciles                     int     `json:"reconciles"`
	AllocsPerReconcile             float64 `json:"allocsPerReconcile"`
	KiBPerReconcile                float64 `json:"kibPerReconcile"`
	SlowestPhaseReconcileSeconds   float64 `json:"slowestPhaseReconcileSeconds"`
	SlowestJourneyReconcileSeconds float64 `json:"slowestJourneyReconcileSeconds"`
	// ShardsPeakRSSMiB is the peak RSS of each shard's manager besides the
	// main one (-shards); the figures above are the main one's.
	ShardsPeakRSSMiB []float64 `json:"shardsPeakRSSMiB,omitempty"`
}

// minSteadySample is the fewest issues opened after Ready that say
// anything about the rate.
const minSteadySample = 30

// setShares works out the writes of the ramp as a share of the configured
// per-minute budget: writes per minute, from the first issue opened to the
// last, over the budget per minute.
func (g *GitHubSide) setShares(p Params) {
	if t := g.RampSeconds; t > 0 && g.Writes > 1 {
		g.BudgetShare = float64(g.Writes-1) / (float64(p.WritesPerMinute) * t / 60)
	}
	if t := g.AfterReadySeconds; t > 0 && g.OpenedAfterReady >= minSteadySample {
		g.BudgetShareAfterReady = float64(g.OpenedAfterReady) / (float64(p.WritesPerMinute) * t / 60)
	}
}

// target is one of issue #10's targets, checked against a result.
type target struct {
	name string
	// gitHubSide: measured only by a whole run, not with -ready-only.
	gitHubSide bool
	ok         func(r *Result) bool
}

var targets = []target{
	{"time to Ready <= 1.5x baseline", false, func(r *Result) bool { return r.Kubernetes.ReadyRatio <= 1.5 }},
	{"writes per object to Ready <= 3", false, func(r *Result) bool { return r.Kubernetes.WritesToReady.Max <= 3 }},
	// Issue #18: waiting costs nothing.
	{"phase status writes per issue opened <= 2 (beyond those to Ready)", true, func(r *Result) bool { return r.Kubernetes.PhaseWritesPerIssue <= 2 }},
	{"no phase status write while only waiting for the budget", true, func(r *Result) bool { return r.Kubernetes.WaitingWrites == 0 }},
	{"GitHub issue listings per issue opened <= 1.5 (ramp)", true, func(r *Result) bool { return r.GitHub.ListingsPerIssue <= 1.5 }},
	{"idle sync: 0 writes when nothing changed", true, func(r *Result) bool { return r.Idle.UnchangedObjectWrites == 0 && r.Idle.GitHubWrites == 0 }},
	{"idle sync: only 304s", true, func(r *Result) bool { return r.Idle.CostingRateLimit == 0 }},
	{"idle sync: <= 2 GitHub requests per repository per sync interval", true, func(r *Result) bool {
		return r.Idle.Repositories == 0 || r.Idle.RequestsPerRepositoryInterval <= 2
	}},
	{"issues opened >= 90% of budget (once all is Ready)", true, func(r *Result) bool { return r.GitHub.BudgetShareAfterReady >= 0.9 }},
	{"no minute over the budget", true, func(r *Result) bool { return r.GitHub.MaxInAnyMinute <= r.Params.WritesPerMinute }},
	{"0 secondary limits", true, func(r *Result) bool { return r.GitHub.SecondaryLimits == 0 }},
	{"close->status p99 <= 2s (webhook)", true, func(r *Result) bool { return r.CloseWebhook.Missing == 0 && r.CloseWebhook.P99Seconds <= 2 }},
	{"peak RSS <= 256 MiB", false, func(r *Result) bool { return r.Manager.PeakRSSMiB <= 256 }},
}

// printTable writes the short table of a result.
func printTable(w io.Writer, r *Result) {
	p := r.Params
	fmt.Fprintf(w, "\ncxloop bench %s (%s): %d journeys x %d touchpoints x %d personas, %d phases each; %d CPUs\n",
		r.Commit, r.Date, p.Journeys, p.TouchpointsPerJourney, p.Personas, p.PhasesPerJourney, p.CPUs)
	fmt.Fprintf(w, "GitHub write budget %d/min, %d/h (one token); sync interval %gs; %d Discovery issues per journey; %d workers per controller (both)\n\n",
		p.WritesPerMinute, p.WritesPerHour, p.SyncIntervalSeconds, p.DiscoveryIssuesPerJourney, p.WorkersPerController)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	k, b := r.Kubernetes, r.Baseline
	fmt.Fprintln(tw, "KUBERNETES SIDE\tbaseline\tcxloop\tratio")
	fmt.Fprintf(tw, "time from apply to all Ready\t%.1fs\t%.1fs\t%.2fx\n", b.ReadySeconds, k.ReadySeconds, k.ReadyRatio)
	fmt.Fprintf(tw, "  of which the API server accepting the apply\t%.1fs\t%.1fs\t\n", b.ApplySeconds, k.ApplySeconds)
	fmt.Fprintf(tw, "reconciles per object to Ready\t%.2f\t%.2f\t%.2fx\n", b.ReconcilesPerObject, k.ReconcilesPerObject, k.ReconcilesRatio)
	fmt.Fprintf(tw, "writes per object to Ready (mean/median/max)\t%.2f/%d/%d\t%.2f/%d/%d\t\n", b.WritesToReady.Mean, b.WritesToReady.Median, b.WritesToReady.Max,
		k.WritesToReady.Mean, k.WritesToReady.Median, k.WritesToReady.Max)
	fmt.Fprintf(tw, "  journeys / phases (max)\t\t%d / %d\t\n", k.JourneyWritesToReady.Max, k.PhaseWritesToReady.Max)
	fmt.Fprintf(tw, "API write requests per object to Ready\t%.2f\t%.2f\t\n", b.APIWritesPerObject, k.APIWritesPerObject)
	fmt.Fprintf(tw, "object writes per issue opened, of which on journeys (whole run)\t\t%.2f, %.2f\t\n", k.WritesPerIssue, k.JourneyWritesPerIssue)
	fmt.Fprintf(tw, "Event writes (whole run)\t\t%d\t\n", k.EventWrites)
	fmt.Fprintf(tw, "phase status writes in the ramp; beyond those to Ready, per issue opened or closed\t\t%d; %.2f\t\n", k.PhaseWritesInRamp, k.PhaseWritesPerIssue)
	fmt.Fprintf(tw, "phase status writes while only waiting for the budget\t\t%d\t\n", k.WaitingWrites)
	fmt.Fprintln(tw, "\t\t\t")
	g := r.GitHub
	fmt.Fprintln(tw, "GITHUB SIDE\t\tcxloop\t")
	fmt.Fprintf(tw, "issues opened / writes in the ramp (first issue after)\t\t%d / %d in %.1fs (%.1fs)\t\n", g.IssuesOpened, g.Writes, g.RampSeconds, g.FirstIssueSeconds)
	fmt.Fprintf(tw, "issues opened per minute; most in any 60s\t\t%.0f; %d (budget %d)\t\n", g.OpenedPerMinute, g.MaxInAnyMinute, p.WritesPerMinute)
	fmt.Fprintf(tw, "writes per minute as share of the budget, from the first issue\t\t%.0f%%\t\n", 100*g.BudgetShare)
	if g.BudgetShareAfterReady > 0 {
		fmt.Fprintf(tw, "  once every object is Ready (the budget the only limit)\t\t%.0f%% (%d issues in %.1fs)\t\n", 100*g.BudgetShareAfterReady, g.OpenedAfterReady, g.AfterReadySeconds)
	} else {
		fmt.Fprintf(tw, "  once every object is Ready (the budget the only limit)\t\ttoo few issues left (%d)\t\n", g.OpenedAfterReady)
	}
	fmt.Fprintf(tw, "phases held by the budget (RateLimited=WriteBudget)\t\t%d\t\n", g.PhasesHeldByBudget)
	fmt.Fprintf(tw, "phase reconciles during the ramp\t\t%d\t\n", g.PhaseReconcilesInRamp)
	fmt.Fprintf(tw, "secondary/primary limits hit (403/429)\t\t%d\t\n", g.SecondaryLimits)
	fmt.Fprintf(tw, "GitHub requests per issue opened, all / costing rate limit (whole run)\t\t%.2f / %.2f\t\n", g.RequestsPerIssue, g.CostingRequestsPerIssue)
	fmt.Fprintf(tw, "issue listings in the ramp (304 of them); per issue opened\t\t%d (%d); %.2f\t\n", g.Listings, g.ListingsNotModified, g.ListingsPerIssue)
	i := r.Idle
	fmt.Fprintf(tw, "idle sync: requests per sync (304 / 200 / other)\t\t%.2f (%d / %d / %d) over %d syncs\t\n", i.RequestsPerSync, i.NotModified, i.OK,
		i.Requests-i.NotModified-i.OK, i.Syncs)
	fmt.Fprintf(tw, "idle sync: GitHub requests per repository per sync interval (%d repositories)\t\t%.2f\t\n", i.Repositories, i.RequestsPerRepositoryInterval)
	fmt.Fprintf(tw, "idle sync: requests costing rate limit; GitHub writes\t\t%d; %d\t\n", i.CostingRateLimit, i.GitHubWrites)
	fmt.Fprintf(tw, "idle sync: Kubernetes writes, all / on the %d unchanged objects\t\t%d / %d\t\n", i.UnchangedObjects, i.KubernetesWrites, i.UnchangedObjectWrites)
	wh, po := r.CloseWebhook, r.ClosePolling
	ramp := ""
	if wh.DuringRamp {
		ramp = ", during the ramp"
	}
	fmt.Fprintf(tw, "close -> status, webhook: median / p99 (n%s)\t\t%.3fs / %.3fs (%d, %d missed)\t\n", ramp, wh.MedianSeconds, wh.P99Seconds, wh.Closes, wh.Missing)
	if d := wh.Delivery; d != nil {
		fmt.Fprintf(tw, "  of which close -> delivery recorded on the journey: median / p99 (n)\t\t%.3fs / %.3fs (%d)\t\n", d.MedianSeconds, d.P99Seconds, d.Closes)
	}
	fmt.Fprintf(tw, "close -> status, polling: median / p99 (n)\t\t%.1fs / %.1fs (%d, %d missed)\t\n", po.MedianSeconds, po.P99Seconds, po.Closes, po.Missing)
	fmt.Fprintln(tw, "\t\t\t")
	m := r.Manager
	fmt.Fprintln(tw, "MANAGER\t\tcxloop\t")
	limit := "no memory limit"
	if p.ManagerMemoryLimitMiB > 0 {
		limit = fmt.Sprintf("GOMEMLIMIT %.0f MiB: %.0f%% of a %.0f MiB limit", memoryLimitRatio*p.ManagerMemoryLimitMiB, 100*memoryLimitRatio, p.ManagerMemoryLimitMiB)
	}
	fmt.Fprintf(tw, "peak RSS (the manager process alone; %s)\t\t%.0f MiB\t\n", limit, m.PeakRSSMiB)
	if len(m.ShardsPeakRSSMiB) > 0 {
		fmt.Fprintf(tw, "  (the main shard's of %d managers; the other shards' peak RSS)\t\t%.0f MiB\t\n", r.Params.Shards, m.ShardsPeakRSSMiB)
	}
	fmt.Fprintf(tw, "  of which anonymous (less the binary's pages; sampled)\t\t%.0f MiB\t\n", m.PeakAnonRSSMiB)
	fmt.Fprintf(tw, "  at the end: RSS / Go heap in use\t\t%.0f MiB / %.0f MiB\t\n", m.RSSAtEndMiB, m.HeapInUseAtEndMiB)
	fmt.Fprintf(tw, "  shared issue indexes at the end: issues / size\t\t%d / %.1f MiB\t\n", m.IndexIssues, m.IndexMiB)
	fmt.Fprintf(tw, "allocations per reconcile\t\t%.0f (%.0f KiB)\t\n", m.AllocsPerReconcile, m.KiBPerReconcile)
	fmt.Fprintf(tw, "slowest reconcile: phase / journey (histogram bucket)\t\t<= %gs / <= %gs\t\n", m.SlowestPhaseReconcileSeconds, m.SlowestJourneyReconcileSeconds)
	if sp := r.StatusPage; sp != nil {
		fmt.Fprintf(tw, "status page: %d readers load / and its JSON at once: heap in use before -> peak (growth)\t\t%.0f -> %.0f MiB (+%.0f MiB)\t\n", sp.Readers, sp.HeapInUseBeforeMiB, sp.PeakHeapInUseMiB, sp.HeapGrowthMiB)
		fmt.Fprintf(tw, "  %d loads in %.1fs, %d answered busy (503); page %.1f MiB, JSON %.1f MiB\t\t\t\n", sp.Loads, sp.Seconds, sp.Busy, sp.PageMiB, sp.JSONMiB)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nTARGETS")
	wholeRun := !r.Params.ReadyOnly && r.GitHub.IssuesOpened > 0
	for _, t := range targets {
		mark := "met   "
		switch {
		case t.gitHubSide && !wholeRun:
			mark = "n/a   " // -ready-only: not measured
		case !t.ok(r):
			mark = "MISSED"
		}
		fmt.Fprintf(w, "  %s  %s\n", mark, t.name)
	}
}

func writeJSON(path string, r *Result) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

func readJSON(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(raw, &m)
}

// compare prints every number of two results side by side, with the change.
func compare(w io.Writer, a, b string) error {
	ra, err := readJSON(a)
	if err != nil {
		return err
	}
	rb, err := readJSON(b)
	if err != nil {
		return err
	}
	fa, fb := map[string]float64{}, map[string]float64{}
	flatten("", ra, fa)
	flatten("", rb, fb)
	var keys []string
	for k := range fa {
		keys = append(keys, k)
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%v\t%v\tchange\t\n", ra["commit"], rb["commit"])
	for _, k := range keys {
		va, oka := fa[k]
		vb, okb := fb[k]
		change := ""
		switch {
		case oka && okb && va != 0:
			change = fmt.Sprintf("%+.0f%%", 100*(vb-va)/math.Abs(va))
		case oka && okb && va == vb:
			change = "="
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", k, num(va, oka), num(vb, okb), change)
	}
	return tw.Flush()
}

func num(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func flatten(prefix string, v any, out map[string]float64) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			flatten(strings.TrimPrefix(prefix+"."+k, "."), e, out)
		}
	case float64:
		out[prefix] = x
	case bool:
		if x {
			out[prefix] = 1
		} else {
			out[prefix] = 0
		}
	}
}
