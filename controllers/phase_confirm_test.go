package controllers

import (
	"context"
	"testing"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
	"github.com/cxloop/cxloop/internal/tracker"
	"github.com/cxloop/cxloop/internal/workitem"
)

// TestConfirmMissingAsksGitHubBeforeAnItemIsGone: a view of the repository
// older than the phase's record (it lacks every issue) loses nothing: the
// issues GitHub still has are added, and only those GitHub says are gone
// (deleted, transferred) or a webhook reported stay missing; items without
// an issue, and Obsolete ones, cost no request.
func TestConfirmMissingAsksGitHubBeforeAnItemIsGone(t *testing.T) {
	ctx := context.Background()
	gh := githubServer(t)
	tr, err := tracker.New(tracker.Config{Owner: ghOwner, Repo: ghRepo, APIURL: gh.URL(), Credentials: tracker.Credentials{Token: ghToken}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	pc := workitem.Phase{Namespace: "shop", Journey: "checkout"}
	open := func(item string) int64 {
		is, _, err := tr.EnsureIssue(ctx, tracker.IssueRequest{Key: workitem.TrackerKey(pc.Namespace, pc.Journey, item), Title: item})
		if err != nil {
			t.Fatal(err)
		}
		return int64(is.Number)
	}
	kept, deleted, moved, reported := open("kept"), open("deleted"), open("moved"), open("reported")
	if err := gh.DeleteIssue(ghOwner, ghRepo, int(deleted)); err != nil {
		t.Fatal(err)
	}
	gh.AddRepo(ghOwner, "elsewhere")
	if err := gh.TransferIssue(ghOwner, ghRepo, int(moved), ghOwner, "elsewhere"); err != nil {
		t.Fatal(err)
	}
	ph := &cxv1.ImprovementPhase{Status: cxv1.ImprovementPhaseStatus{Items: []cxv1.PhaseItem{
		{Key: "kept", Issue: kept, State: cxv1.ItemOpen},
		{Key: "deleted", Issue: deleted, State: cxv1.ItemOpen},
		{Key: "moved", Issue: moved, State: cxv1.ItemOpen},
		{Key: "reported", Issue: reported, State: cxv1.ItemOpen},
		{Key: "planned", State: cxv1.ItemPlanned},
		{Key: "obsolete", Issue: 99, State: cxv1.ItemObsolete},
	}}}
	vanished := map[string]string{vanishedKey(workitem.TrackerKey(pc.Namespace, pc.Journey, "reported"), reported): "deleted on GitHub"}
	issues := map[string]tracker.Issue{} // a view from before any of them was opened
	before := len(gh.Requests())
	if err := confirmMissing(ctx, tr, ph, pc, issues, vanished); err != nil {
		t.Fatal(err)
	}
	if is, ok := issues[workitem.TrackerKey(pc.Namespace, pc.Journey, "kept")]; !ok || int64(is.Number) != kept {
		t.Errorf("the issue GitHub still has is not in the view: %v", issues)
	}
	if len(issues) != 1 {
		t.Errorf("view after confirming: %d issues, want only the kept one: %v", len(issues), issues)
	}
	// One GET each for kept, deleted and moved (the transfer's redirect
	// followed); none for the reported, planned and obsolete items.
	asked := map[string]int{}
	for _, r := range gh.Requests()[before:] {
		asked[r.Method+" "+r.Path]++
	}
	repo := "/repos/" + ghOwner + "/" + ghRepo + "/issues/"
	for _, n := range []int64{kept, deleted, moved} {
		if got := asked["GET "+repo+itoa(int(n))]; got != 1 {
			t.Errorf("issue #%d asked %d times, want once (requests %v)", n, got, asked)
		}
	}
	for path := range asked {
		if path == "GET "+repo+itoa(int(reported)) || path == "GET "+repo+"99" || path[:4] != "GET " {
			t.Errorf("%s: no request was needed", path)
		}
	}
}
