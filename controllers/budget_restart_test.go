package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

// TestLeaseBudgetStore saves and loads a token's budget on its Lease, and
// merges a second process's save with the first's.
func TestLeaseBudgetStore(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	now := time.Now()
	store := &LeaseBudgetStore{Reader: k8sClient, Writer: k8sClient, Namespace: ns}
	key := tracker.BudgetStoreKey("https://api.github.com/ token:0123")
	if rec, err := store.Load(ctx, key); err != nil || len(rec.Writes) != 0 {
		t.Fatalf("before any save: %+v, %v", rec, err)
	}
	a := tracker.BudgetRecord{Writes: []time.Time{now.Add(-2 * time.Hour), now.Add(-time.Minute), now.Add(-time.Second)}, Pending: now}
	if err := store.Save(ctx, key, a); err != nil {
		t.Fatal(err)
	}
	b := tracker.BudgetRecord{Writes: []time.Time{now.Add(-30 * time.Second)}, BlockedUntil: now.Add(time.Minute), Secondary: true, Message: "secondary rate limit"}
	if err := store.Save(ctx, key, b); err != nil {
		t.Fatal(err)
	}
	rec, err := store.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Writes) != 3 || !rec.Secondary || rec.BlockedUntil.Before(b.BlockedUntil) {
		t.Errorf("loaded %+v: want the 3 writes of the last hour of both saves and the wait", rec)
	}
	var lease coordinationv1.Lease
	g := NewWithT(t)
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: BudgetLeasePrefix + key}, &lease)).To(Succeed())
	t.Logf("Lease %s: %s=%s", lease.Name, BudgetAnnotation, lease.Annotations[BudgetAnnotation])
}

// writesOf are the times GitHub received writes, in order.
func writesOf(reqs []localgithub.Request) []time.Time {
	var out []time.Time
	for _, r := range reqs {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			out = append(out, r.Time)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// TestBudgetSurvivesCrashLoop: the real manager is SIGKILLed 10 times in a
// minute while 200 items wait to be opened, and GitHub answers some creates
// 429 with Retry-After (the process that met it is killed as soon as it has
// recorded the window). Counted
// where the local GitHub receives them: no minute holds more than the 60
// writes of the budget, no hour more than its (lowered) hourly budget, and
// no request arrives inside an announced Retry-After window.
func TestBudgetSurvivesCrashLoop(t *testing.T) {
	g := eventually(t)
	const (
		items      = 200
		restarts   = 10
		perMinute  = 60
		perHour    = 100 // lowered from 500 so that the hour binds within the test
		retryAfter = 8 * time.Second
	)
	gh := githubServer(t)
	gh.Inject(localgithub.Fault{Method: http.MethodPost, Path: "/repos/*/*/issues", Kind: localgithub.SecondaryLimit, Status: http.StatusTooManyRequests,
		RetryAfter: retryAfter, Every: 15, Times: 3})
	ns := namespace(t)
	kubeconfig := managerKubeconfig(t)
	cj := quickWinJourney(t, ns, "shop", items, gh)
	ph := improvePhase(t, ns, cj.Name, 20*time.Second)
	args := []string{"--github-webhook-bind-address=", "--github-budget-namespace=" + ns, "--create-grace=3s", "--github-request-timeout=5s",
		fmt.Sprintf("--github-writes-per-minute=%d", perMinute), fmt.Sprintf("--github-writes-per-hour=%d", perHour)}

	limited := func() int {
		n := 0
		for _, r := range gh.Requests() {
			if r.Status == http.StatusTooManyRequests {
				n++
			}
		}
		return n
	}
	// A window counts as announced to a process once that process has
	// recorded it (the Lease holds it) or lived on. A process killed in
	// the milliseconds between GitHub's answer and that write cannot pass
	// the window on; such windows are reported, not counted.
	recorded := map[time.Time]bool{}
	classify := func(alive bool) {
		wait := savedWait(g, ns)
		for _, r := range gh.Requests() {
			if _, done := recorded[r.Time]; !done && r.Status == http.StatusTooManyRequests {
				recorded[r.Time] = alive || !wait.Before(r.Time.Add(retryAfter))
			}
		}
	}
	start := time.Now()
	killedAfterLimit := 0
	for range restarts {
		p := startManagerProcess(t, kubeconfig, args...)
		seen := limited()
		for life := time.Now(); time.Since(life) < 5*time.Second && limited() == seen; {
			time.Sleep(20 * time.Millisecond)
		}
		if limited() > seen {
			// Die as soon as the process has recorded the window: the
			// next one knows it only from the store.
			g.Eventually(func() bool { return savedWait(g, ns).After(time.Now()) }, 5*time.Second, 5*time.Millisecond).Should(BeTrue())
			killedAfterLimit++
		}
		p.kill()
		classify(false)
	}
	restartsTook := time.Since(start)
	last := startManagerProcess(t, kubeconfig, args...)
	// Run on until the hour's budget is spent: the last writes are as
	// many as it allows.
	// A process killed between reserving a write and GitHub's answer may
	// or may not have sent it: the budget counts it as spent. So the hour
	// is spent with at least perHour-restarts writes received; then no
	// more may come.
	g.Eventually(func() int { return len(writesOf(gh.Requests())) }, 5*time.Minute, time.Second).Should(BeNumerically(">=", perHour-restarts),
		func() string { return tail(last.logs.String(), 30) })
	g.Consistently(func() int { return len(writesOf(gh.Requests())) }, 15*time.Second, time.Second).Should(BeNumerically("<=", perHour))
	classify(true)

	reqs := gh.Requests()
	writes := writesOf(reqs)
	inside, lost := 0, 0
	var windows []string
	for _, r := range reqs {
		if r.Status != http.StatusTooManyRequests {
			continue
		}
		from, until := r.Time, r.Time.Add(retryAfter)
		if !recorded[r.Time] {
			lost++
			windows = append(windows, fmt.Sprintf("%.1fs–%.1fs (its process was killed before it could record it)", from.Sub(start).Seconds(), until.Sub(start).Seconds()))
			continue
		}
		windows = append(windows, fmt.Sprintf("%.1fs–%.1fs", from.Sub(start).Seconds(), until.Sub(start).Seconds()))
		for _, o := range reqs {
			if o.Time.After(from) && o.Time.Before(until) {
				inside++
				t.Logf("inside the window from %.1fs: %s %s at %.2fs", from.Sub(start).Seconds(), o.Method, o.Path, o.Time.Sub(start).Seconds())
			}
		}
	}
	opened := 0
	for _, it := range getPhase(g, ns, ph.Name).Status.Items {
		if it.State == cxv1.ItemOpen {
			opened++
		}
	}
	t.Logf("crash loop: %d restarts (SIGKILL) in %.1fs, %d of them right after a 429; %d writes received, at most %d in any minute (budget %d), %d in any hour (budget %d); Retry-After windows %v; %d requests inside the recorded ones; %d of %d items open",
		restarts, restartsTook.Seconds(), killedAfterLimit, len(writes), tracker.MostWithin(writes, time.Minute), perMinute, tracker.MostWithin(writes, time.Hour), perHour, windows, inside, opened, items)
	g.Expect(tracker.MostWithin(writes, time.Minute)).To(BeNumerically("<=", perMinute))
	g.Expect(tracker.MostWithin(writes, time.Hour)).To(BeNumerically("<=", perHour))
	g.Expect(len(windows)-lost).To(BeNumerically(">=", 1), "no Retry-After was recorded: the test proves nothing")
	g.Expect(inside).To(BeZero(), "requests inside an announced Retry-After window")
	g.Expect(killedAfterLimit).To(BeNumerically(">=", 1), "no process was killed inside a window")
}

// savedWait is the latest wait GitHub announced that a budget Lease of ns holds.
func savedWait(g Gomega, ns string) time.Time {
	var leases coordinationv1.LeaseList
	g.Expect(k8sClient.List(context.Background(), &leases, client.InNamespace(ns), client.MatchingLabels{budgetComponentLabel: budgetComponentValue})).To(Succeed())
	var latest time.Time
	for _, l := range leases.Items {
		var rec tracker.BudgetRecord
		if json.Unmarshal([]byte(l.Annotations[BudgetAnnotation]), &rec) == nil && rec.BlockedUntil.After(latest) {
			latest = rec.BlockedUntil
		}
	}
	return latest
}

// TestPausedLeaderSendsNoCreate: the leader is SIGSTOPped between writing
// an item's attempt and sending its create (GitHub's listing before the
// create is slow); the other replica takes the Lease, waits out the
// attempt's grace, and opens the item. Resumed, the old leader sends no
// create for it: GitHub holds exactly one issue per item.
func TestPausedLeaderSendsNoCreate(t *testing.T) {
	g := eventually(t)
	const items = 8 // one attempt caught before its create is enough; the others are tries
	gh := githubServer(t)
	// The listing that precedes each create takes long enough for the
	// pause to land between the attempt and the create.
	gh.Inject(localgithub.Fault{Method: http.MethodGet, Path: "/repos/*/*/issues", Kind: localgithub.Latency, Delay: 1500 * time.Millisecond, Times: -1})
	ns := namespace(t)
	kubeconfig := managerKubeconfig(t)
	cj := quickWinJourney(t, ns, "shop", items, gh)
	ph := improvePhase(t, ns, cj.Name, 20*time.Second)
	args := []string{"--leader-elect", "--leader-election-namespace=" + ns,
		"--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=500ms",
		"--github-webhook-bind-address=", "--create-grace=3s", "--github-request-timeout=10s"}
	a := startManagerProcess(t, kubeconfig, args...)
	b := startManagerProcess(t, kubeconfig, args...)
	g.Eventually(func() bool { return a.isLeader() != b.isLeader() }).Should(BeTrue())
	leader, follower := a, b
	if b.isLeader() {
		leader, follower = b, a
	}

	// Stop the leader as soon as an attempt is written. The shared view of
	// the repository is often fresh, so that the create follows its
	// attempt within milliseconds (the budget's and the Lease's reads in
	// between): a stop that lands after the create lets the leader go on,
	// and the next item's attempt is tried.
	var key, ghKey string
	var stopped time.Time
	tried := map[string]bool{}
	for key == "" {
		var next string
		g.Eventually(func() bool {
			for _, it := range getPhase(g, ns, ph.Name).Status.Items {
				if it.AttemptedAt != nil && it.Issue == 0 && !tried[it.Key] {
					next = it.Key
					return true
				}
			}
			return false
		}, 60*time.Second, 5*time.Millisecond).Should(BeTrue(), "no attempt caught before its create left, in %d tries", len(tried))
		g.Expect(leader.cmd.Process.Signal(syscall.SIGSTOP)).To(Succeed())
		stopped = time.Now()
		tried[next] = true
		ghKey = ns + "/" + cj.Name + "/" + next
		if len(issuesByKey(gh)[ghKey]) == 0 {
			key = next
			break
		}
		t.Logf("the create for %s left before the pause: the next item's attempt is tried", next)
		g.Expect(leader.cmd.Process.Signal(syscall.SIGCONT)).To(Succeed())
	}

	// The follower takes over, waits out the attempt's grace and opens it.
	g.Eventually(func() int { return len(issuesByKey(gh)[ghKey]) }, 60*time.Second, 50*time.Millisecond).Should(Equal(1),
		func() string { return tail(follower.logs.String(), 30) })
	g.Expect(follower.isLeader()).To(BeTrue())
	handover := time.Since(stopped)
	g.Expect(leader.cmd.Process.Signal(syscall.SIGCONT)).To(Succeed())
	resumed := time.Now()

	// The old leader goes on from where it stopped, finds its Lease taken
	// and exits; all the while it sends no create.
	select {
	case <-leader.done:
	case <-time.After(20 * time.Second):
		t.Log("the old leader has not exited 20s after SIGCONT")
	}
	g.Eventually(func(g Gomega) {
		got := getPhase(g, ns, ph.Name)
		g.Expect(got.Status.Items).To(HaveLen(items))
		for _, it := range got.Status.Items {
			g.Expect(it.State).To(Equal(cxv1.ItemOpen), "%s: %s", it.Key, it.Message)
		}
	}, 90*time.Second, 200*time.Millisecond).Should(Succeed())
	creates, createsAfterResume := 0, 0
	for _, r := range gh.Requests() {
		if r.Method == http.MethodPost && r.Status == http.StatusCreated && r.Path == "/repos/"+ghOwner+"/"+ghRepo+"/issues" {
			creates++
			if r.Time.After(resumed) {
				createsAfterResume++
			}
		}
	}
	byKey := issuesByKey(gh)
	duplicates := 0
	for _, is := range byKey {
		duplicates += len(is) - 1
	}
	t.Logf("failover: leader SIGSTOPped with the attempt for %s written and its create not sent; the new leader opened it %.1fs later (lease 4s, grace 3s); after SIGCONT GitHub received %d creates (the new leader's remaining items); in all %d creates for %d items, %d duplicates",
		key, handover.Seconds(), createsAfterResume, creates, items, duplicates)
	g.Expect(byKey[ghKey]).To(HaveLen(1), "the item the new leader opened has one issue")
	g.Expect(duplicates).To(BeZero())
	g.Expect(creates).To(Equal(items))
}
