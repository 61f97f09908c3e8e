package controllers

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

// reconcileCounts counts one manager's reconciles per object.
type reconcileCounts struct {
	mu       sync.Mutex
	journeys map[client.ObjectKey]int
	phases   map[client.ObjectKey]int
}

func (c *reconcileCounts) count(m map[client.ObjectKey]int) func(client.ObjectKey) {
	return func(k client.ObjectKey) {
		c.mu.Lock()
		defer c.mu.Unlock()
		m[k]++
	}
}

func (c *reconcileCounts) journey(ns, name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.journeys[client.ObjectKey{Namespace: ns, Name: name}]
}

func (c *reconcileCounts) phase(ns, name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.phases[client.ObjectKey{Namespace: ns, Name: name}]
}

// startShard runs cxloop's two reconcilers in a manager of their own that
// watches the journeys selector matches, as --watch-label-selector does.
func startShard(t *testing.T, selector string) *reconcileCounts {
	t.Helper()
	counts := &reconcileCounts{journeys: map[client.ObjectKey]int{}, phases: map[client.ObjectKey]int{}}
	opts := CacheOptions()
	sel, err := WatchLabelSelector(&opts, selector)
	if err != nil {
		t.Fatal(err)
	}
	startManagerWithCache(t, opts, func(mgr ctrl.Manager) error {
		shard := &Shard{Selector: sel, Cache: mgr.GetClient(), APIReader: mgr.GetAPIReader()}
		trackers := localTrackers(mgr)
		if err := (&CustomerJourneyReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("cxloop"), Clock: clock.RealClock{}, Trackers: trackers,
			CreateGrace: 2 * time.Second, Shard: shard, reconciled: counts.count(counts.journeys)}).SetupWithManager(mgr, controller.Options{}); err != nil {
			return err
		}
		return (&ImprovementPhaseReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("cxloop"), Clock: clock.RealClock{}, Trackers: trackers,
			CreateGrace: 2 * time.Second, Shard: shard, reconciled: counts.count(counts.phases)}).SetupWithManager(mgr, controller.Options{})
	})
	return counts
}

func inShard(cj *cxv1.CustomerJourney, shard string) *cxv1.CustomerJourney {
	if shard != "" {
		cj.Labels = map[string]string{ShardLabel: shard}
	}
	return cj
}

// slowCreates makes every issue creation take 200ms and drops the answer
// of one in four after GitHub made the issue, so that a ramp lasts long
// enough to move a journey in the middle of it, with attempts in doubt.
func slowCreates(gh *localgithub.Server) {
	issues := "/repos/*/*/issues"
	gh.Inject(localgithub.Fault{Method: http.MethodPost, Path: issues, Kind: localgithub.Latency, Delay: 200 * time.Millisecond, Every: 1, Times: -1})
	gh.Inject(localgithub.Fault{Method: http.MethodPost, Path: issues, Kind: localgithub.DropResponseAfterCommit, Every: 4, Times: -1})
}

// duplicatesOf counts the issues beyond the first of each cxloop key of
// the journey.
func duplicatesOf(gh *localgithub.Server, ns, journey string) (issues, duplicates int) {
	for key, list := range issuesByKey(gh) {
		if strings.Contains(key, ns+"/"+journey+"/") {
			issues++
			duplicates += len(list) - 1
		}
	}
	return issues, duplicates
}

func relabel(g Gomega, ns, name, shard string) {
	var value any // null removes the label: the main shard's
	if shard != "" {
		value = shard
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{ShardLabel: value}}})
	g.Expect(k8sClient.Patch(context.Background(), &cxv1.CustomerJourney{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}, client.RawPatch("application/merge-patch+json", patch))).To(Succeed())
}

// moveMidRamp creates journey name in shard1 with n quick wins, and its
// improve phase; once the phase has atMove issues open, it relabels the
// journey for the main shard. It returns how many were open at the move.
func moveMidRamp(t *testing.T, g Gomega, gh *localgithub.Server, ns, name string, n, atMove int) int32 {
	t.Helper()
	slowCreates(gh)
	g.Expect(k8sClient.Create(context.Background(), inShard(newQuickWinJourney(t, ns, name, n, gh), "shard1"))).To(Succeed())
	improvePhase(t, ns, name, time.Hour)
	g.Eventually(func(g Gomega) {
		g.Expect(getPhase(g, ns, name+"-improve").Status.Progress.Open).To(BeNumerically(">=", atMove))
	}).Should(Succeed())
	openAtMove := getPhase(g, ns, name+"-improve").Status.Progress.Open
	relabel(g, ns, name, "")
	return openAtMove
}

// expectAllIssued expects phase name to have n issues open, one for each
// of its items.
func expectAllIssued(g Gomega, ns, name string, n int32) {
	ph := getPhase(g, ns, name)
	g.Expect(ph.Status.Progress.Open).To(Equal(n))
	for _, it := range ph.Status.Items {
		g.Expect(it.Issue).NotTo(BeZero(), it.Key)
	}
}

// TestShardsReconcileEachJourneyOnce: two managers on one API server, the
// main one (journeys without the shard label) and shard1. Each journey and
// each of its phases is reconciled by exactly one of them, counted per
// object; a phase created before its journey is the main shard's until its
// journey appears in shard1, then shard1's alone. A journey relabelled in
// the middle of its ramp moves to the other manager with its phase, and
// GitHub ends with one issue per item.
func TestShardsReconcileEachJourneyOnce(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh := githubServer(t)
	ns := namespace(t)
	main := startShard(t, "!"+ShardLabel)
	shard1 := startShard(t, ShardLabel+"=shard1")

	g.Expect(k8sClient.Create(ctx, inShard(newQuickWinJourney(t, ns, "kiosk", 3, gh), ""))).To(Succeed())
	g.Expect(k8sClient.Create(ctx, inShard(newQuickWinJourney(t, ns, "shop", 3, gh), "shard1"))).To(Succeed())
	improvePhase(t, ns, "kiosk", time.Hour)
	improvePhase(t, ns, "shop", time.Hour)

	// A phase applied before its journey: the main shard says the journey is missing.
	improvePhase(t, ns, "app", time.Hour)
	g.Eventually(func(g Gomega) {
		g.Expect(conditionIs(getPhase(g, ns, "app-improve").Status.Conditions, cxv1.ConditionReconciling, "True", cxv1.ReasonJourneyNotFound)).To(BeTrue())
	}).Should(Succeed())
	orphanReconciles := main.phase(ns, "app-improve")
	g.Expect(orphanReconciles).To(BeNumerically(">", 0))
	g.Expect(shard1.phase(ns, "app-improve")).To(BeZero())
	g.Expect(k8sClient.Create(ctx, inShard(newQuickWinJourney(t, ns, "app", 3, gh), "shard1"))).To(Succeed())

	for _, j := range []string{"kiosk", "shop", "app"} {
		g.Eventually(func(g Gomega) {
			g.Expect(getPhase(g, ns, j+"-improve").Status.Progress.Open).To(Equal(int32(3)))
		}).Should(Succeed(), j)
	}
	owner := map[string]*reconcileCounts{"kiosk": main, "shop": shard1, "app": shard1}
	for j, own := range owner {
		other := main
		if own == main {
			other = shard1
		}
		// The phase may open its issues before the journey's own first
		// reconcile: the main shard's journey worker starts on every
		// unlabelled journey the earlier tests left in the API server.
		g.Eventually(func() int { return own.journey(ns, j) }).Should(BeNumerically(">", 0), "journey %s reconciled by its shard", j)
		g.Expect(other.journey(ns, j)).To(BeZero(), "journey %s reconciled by the other shard", j)
		g.Expect(own.phase(ns, j+"-improve")).To(BeNumerically(">", 0), "phase of %s reconciled by its shard", j)
		if j != "app" {
			g.Expect(other.phase(ns, j+"-improve")).To(BeZero(), "phase of %s reconciled by the other shard", j)
		}
		t.Logf("%s: journey reconciled %d×/%d× (main/shard1), its phase %d×/%d×", j, main.journey(ns, j), shard1.journey(ns, j), main.phase(ns, j+"-improve"), shard1.phase(ns, j+"-improve"))
	}
	g.Expect(main.phase(ns, "app-improve")).To(Equal(orphanReconciles), "once its journey exists, the phase is shard1's alone")

	// Move: a journey of shard1 relabelled for the main shard in the middle of its ramp.
	openAtMove := moveMidRamp(t, g, gh, ns, "park", 12, 2)
	moved := time.Now()
	g.Eventually(func(g Gomega) { expectAllIssued(g, ns, "park-improve", 12) }).Should(Succeed())
	issues, duplicates := duplicatesOf(gh, ns, "park")
	t.Logf("move: journey park relabelled from shard1 to main with %d of 12 issues open; all 12 open %.1fs later; GitHub holds %d issues for it, %d duplicates",
		openAtMove, time.Since(moved).Seconds(), issues, duplicates)
	g.Expect(issues).To(Equal(12))
	g.Expect(duplicates).To(BeZero())
	g.Expect(main.journey(ns, "park")).To(BeNumerically(">", 0))
	g.Expect(main.phase(ns, "park-improve")).To(BeNumerically(">", 0))

	// From now on only the main shard reconciles it: a change of the map
	// reaches the main shard's journey and phase, and not shard1's.
	oldJourney, oldPhase := shard1.journey(ns, "park"), shard1.phase(ns, "park-improve")
	newJourney, newPhase := main.journey(ns, "park"), main.phase(ns, "park-improve")
	g.Eventually(func() error {
		var cj cxv1.CustomerJourney
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "park"}, &cj); err != nil {
			return err
		}
		cj.Spec.Description = "The park's online shop."
		return k8sClient.Update(ctx, &cj)
	}).Should(Succeed())
	g.Eventually(func() bool {
		return main.journey(ns, "park") > newJourney && main.phase(ns, "park-improve") > newPhase
	}).Should(BeTrue())
	g.Expect(shard1.journey(ns, "park")).To(Equal(oldJourney))
	g.Expect(shard1.phase(ns, "park-improve")).To(Equal(oldPhase))
	for _, j := range []string{"kiosk", "shop", "app"} {
		_, d := duplicatesOf(gh, ns, j)
		g.Expect(d).To(BeZero(), j)
	}
}

// TestShardProcessesShareTheBudget: two manager processes, the main one
// and shard1, each with its own leader election Lease, on one API server
// and one GitHub token. A journey relabelled from shard1 to the main shard
// in the middle of its ramp ends with one issue per item (each process
// keeps its own issue index: only the attempts in the phase's status and
// the key markers on GitHub stand between them), and the token's write
// budget is one Lease holding the writes of both.
func TestShardProcessesShareTheBudget(t *testing.T) {
	g := eventually(t)
	ctx := context.Background()
	gh := githubServer(t)
	ns := namespace(t)
	kubeconfig := managerKubeconfig(t)
	shardArgs := func(selector, id string) []string {
		return []string{"--leader-elect", "--leader-election-namespace=" + ns, "--leader-election-id=" + id,
			"--watch-label-selector=" + selector, "--watch-namespaces=" + ns, "--github-webhook-bind-address=",
			"--github-writes-per-minute=600", "--github-writes-per-hour=36000", "--create-grace=3s"}
	}
	main := startManagerProcess(t, kubeconfig, shardArgs("!"+ShardLabel, LeaderElectionID)...)
	shard1 := startManagerProcess(t, kubeconfig, shardArgs(ShardLabel+"=shard1", LeaderElectionID+"-shard1")...)
	g.Eventually(func() bool { return main.isLeader() && shard1.isLeader() }).Should(BeTrue(), "both lead their shard; logs:\n%s\n---\n%s", tail(main.logs.String(), 20), tail(shard1.logs.String(), 20))

	openAtMove := moveMidRamp(t, g, gh, ns, "park", 16, 3)
	g.Eventually(func(g Gomega) { expectAllIssued(g, ns, "park-improve", 16) }, 90*time.Second).Should(Succeed(), "logs:\n%s\n---\n%s", tail(main.logs.String(), 20), tail(shard1.logs.String(), 20))
	issues, duplicates := duplicatesOf(gh, ns, "park")
	writes := 0
	for _, r := range gh.Requests() {
		if r.Method != http.MethodGet && strings.HasPrefix(r.Path, "/repos/"+ghOwner+"/"+ghRepo+"/issues") {
			writes++
		}
	}
	var leases coordinationv1.LeaseList
	g.Expect(k8sClient.List(ctx, &leases, client.InNamespace(ns))).To(Succeed())
	var budgets []tracker.BudgetRecord
	for _, l := range leases.Items {
		if strings.HasPrefix(l.Name, BudgetLeasePrefix) {
			var rec tracker.BudgetRecord
			g.Expect(json.Unmarshal([]byte(l.Annotations[BudgetAnnotation]), &rec)).To(Succeed())
			budgets = append(budgets, rec)
		}
	}
	g.Expect(budgets).To(HaveLen(1), "one budget for the token, whichever shard writes")
	t.Logf("two shard processes: moved with %d of 16 open; GitHub holds %d issues, %d duplicates; %d writes reached GitHub, the shared budget Lease records %d",
		openAtMove, issues, duplicates, writes, len(budgets[0].Writes))
	g.Expect(issues).To(Equal(16))
	g.Expect(duplicates).To(BeZero())
	g.Expect(len(budgets[0].Writes)).To(BeNumerically(">=", writes), "the budget holds the writes of both shards")
}
