package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/openapicheck"
	"github.com/cxloop/cxloop/internal/tracker"
)

// specPath is GitHub's OpenAPI description (a subset), copied into the
// repository with its licence.
const specPath = "../../testdata/github/openapi/api.github.com.subset.json"

// boardEnv is a local GitHub reached through the OpenAPI validator, with an
// organisation project acme/1 beside the repository acme/journeys.
type boardEnv struct {
	*env
	spec    *openapicheck.Validator
	project tracker.ProjectRef
	apiURL  string
}

func newBoardEnv(t *testing.T) *boardEnv {
	t.Helper()
	clk := newClock()
	srv, err := localgithub.New(localgithub.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := openapicheck.New(specPath, openapicheck.BoardPaths)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(spec.Wrap(srv.Handler()))
	t.Cleanup(hs.Close)
	t.Cleanup(func() { _ = srv.Close() })
	srv.AddRepo(owner, repo)
	tok := fmt.Sprintf("ghp_%s_%d", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()), time.Now().UnixNano())
	srv.AddToken(tok)
	number := srv.AddProject(owner, true, "Nature park visit")
	e := &boardEnv{env: &env{t: t, srv: srv, clk: clk, token: tok}, spec: spec, project: tracker.ProjectRef{Owner: owner, Number: number}}
	t.Cleanup(func() {
		for _, p := range spec.Problems() {
			t.Errorf("OpenAPI: %s", p)
		}
	})
	e.apiURL = hs.URL + "/"
	return e
}

// client is a tracker reaching the local GitHub through the validator,
// with a write budget large enough for a test's burst of writes (the
// budget's own test lowers it).
func (e *boardEnv) client(mod ...func(*tracker.Config)) *tracker.Client {
	return e.env.client(append([]func(*tracker.Config){func(c *tracker.Config) {
		c.APIURL = e.apiURL
		c.WritesPerMinute, c.WritesPerHour = 600, 5000
	}}, mod...)...)
}

func (e *boardEnv) board(c *tracker.Client) *tracker.Board {
	e.t.Helper()
	b, err := c.Board(context.Background(), e.project)
	if err != nil {
		e.t.Fatalf("Board(%v): %v", e.project, err)
	}
	return b
}

// ensureFields creates cxloop's fields on board b, failing the test if it
// cannot.
func (e *boardEnv) ensureFields(b *tracker.Board) {
	e.t.Helper()
	if _, err := b.EnsureFields(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// wantEachFieldOnce checks that the project holds Title, Status and each
// of cxloop's fields exactly once.
func (e *boardEnv) wantEachFieldOnce() {
	e.t.Helper()
	names, _ := e.srv.ProjectFields(owner, true, e.project.Number)
	if len(names) != 2+len(tracker.BoardFields) {
		e.t.Errorf("fields = %v; want each of cxloop's exactly once", names)
	}
}

// openIssue opens an issue through the tracker and returns its number.
func (e *boardEnv) openIssue(c *tracker.Client, key string) int {
	e.t.Helper()
	is, _, err := c.EnsureIssue(context.Background(), req(key))
	if err != nil {
		e.t.Fatalf("EnsureIssue(%s): %v", key, err)
	}
	return is.Number
}

func (e *boardEnv) items() []localgithub.ProjectItem {
	e.t.Helper()
	items, err := e.srv.ProjectItems(e.project.Owner, true, e.project.Number)
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

// sent counts the requests since n whose method is method and whose path
// ends with suffix.
func (e *boardEnv) sent(n int, method, suffix string) int {
	count := 0
	for _, r := range e.requestsSince(n) {
		p, _, _ := strings.Cut(r.Path, "?")
		if r.Method == method && strings.HasSuffix(p, suffix) {
			count++
		}
	}
	return count
}

func TestBoardFieldsAreCreatedOnceAndPeoplesFieldsKept(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client()
	b := e.board(c)

	created, err := b.EnsureFields(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != len(tracker.BoardFields) {
		t.Errorf("created %v, want all %d of cxloop's fields", created, len(tracker.BoardFields))
	}
	names, _ := e.srv.ProjectFields(owner, true, e.project.Number)
	want := []string{"Title", "Status", "Phase", "Stage", "Persona", "Channel", "Department", "Impact", "Effort", "Quick win", "Outcome"}
	if !slices.Equal(names, want) {
		t.Errorf("fields = %v, want %v", names, want)
	}

	before := e.requestCount()
	created, err = b.EnsureFields(ctx)
	if err != nil || len(created) != 0 {
		t.Errorf("second EnsureFields = %v, %v; want nothing created", created, err)
	}
	if n := e.sent(before, http.MethodPost, "/fields"); n != 0 {
		t.Errorf("second EnsureFields sent %d POSTs, want 0", n)
	}
	names2, _ := e.srv.ProjectFields(owner, true, e.project.Number)
	if !slices.Equal(names2, want) {
		t.Errorf("fields after the second sync = %v", names2)
	}
}

func TestBoardUsesAFieldAPersonMadeWithCxloopsName(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client()
	n := e.openIssue(c, "park/parking-signs")
	// Through the API as a person would: a text Impact field.
	e.addPersonField(`{"name":"Impact","data_type":"text"}`)

	b := e.board(c)
	created, err := b.EnsureFields(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(created, tracker.FieldImpact) || len(created) != len(tracker.BoardFields)-1 {
		t.Errorf("created %v; want every field but the person's Impact", created)
	}
	item, err := b.AddItem(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	skipped, err := b.SetValues(ctx, item, map[string]string{tracker.FieldImpact: "4", tracker.FieldPhase: "Improve", tracker.FieldOutcome: "Delighted"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(skipped, []string{tracker.FieldOutcome}) {
		t.Errorf("skipped %v, want [Outcome] (no such option)", skipped)
	}
	got := e.items()[0].Values
	if got["Impact"] != "4" || got["Phase"] != "Improve" {
		t.Errorf("values = %v; want Impact 4 as the person's text field holds it, Phase Improve", got)
	}
}

func TestBoardSetsOnlyItsOwnFields(t *testing.T) {
	e, _, b, n := newBoardWithIssue(t, "park/website-tickets")
	ctx := context.Background()
	e.ensureFields(b)
	item, err := b.AddItem(ctx, n)
	if err != nil {
		t.Fatalf("AddItem: %v", err)
	}
	values := map[string]string{
		tracker.FieldPhase: "Improve", tracker.FieldStage: "planning", tracker.FieldPersona: "family",
		tracker.FieldChannel: "web", tracker.FieldDepartment: "Visitor Services", tracker.FieldImpact: "4",
		tracker.FieldEffort: "2", tracker.FieldQuickWin: "Yes",
	}
	if skipped, err := b.SetValues(ctx, item, values); err != nil || len(skipped) > 0 {
		t.Fatalf("SetValues = %v, %v", skipped, err)
	}
	// The team triages: its own Status, and a person's edit of a cxloop field.
	if err := e.srv.SetProjectItemValue(owner, true, e.project.Number, owner+"/"+repo, n, "Status", "In Progress"); err != nil {
		t.Fatal(err)
	}

	items, err := b.Items(ctx)
	if err != nil || len(items) != 1 {
		t.Fatalf("Items = %v, %v", items, err)
	}
	for name, v := range values {
		if items[0].Values[name] != v {
			t.Errorf("Items: %s = %q, want %q", name, items[0].Values[name], v)
		}
	}
	if _, ok := items[0].Values["Status"]; ok {
		t.Errorf("Items reports the team's Status: %v", items[0].Values)
	}
	before := e.requestCount()
	values[tracker.FieldOutcome] = "Improved"
	if _, err := b.SetValues(ctx, items[0], values); err != nil {
		t.Fatal(err)
	}
	if n := e.sent(before, http.MethodPatch, fmt.Sprintf("/items/%d", item.ID)); n != 1 {
		t.Errorf("sent %d PATCHes for one changed field, want 1", n)
	}
	items, _ = b.Items(ctx)
	before = e.requestCount()
	if _, err := b.SetValues(ctx, items[0], values); err != nil {
		t.Fatal(err)
	}
	if n := e.sent(before, http.MethodPatch, ""); n != 0 {
		t.Errorf("an unchanged sync sent %d PATCHes, want 0", n)
	}
	got := e.items()[0].Values
	if got["Status"] != "In Progress" {
		t.Errorf("the team's Status = %q after cxloop's syncs, want In Progress", got["Status"])
	}
	if got["Outcome"] != "Improved" || got["Impact"] != "4" || got["Quick win"] != "Yes" {
		t.Errorf("board values = %v", got)
	}
	if _, err := b.SetValues(ctx, items[0], map[string]string{"Status": "Done"}); tracker.Reason(err) != cxv1.ReasonInvalidRequest || !strings.Contains(err.Error(), "Status") {
		t.Errorf("setting the team's Status = %v; want InvalidRequest naming the field", err)
	}
	if got := e.items()[0].Values["Status"]; got != "In Progress" {
		t.Errorf("Status = %q", got)
	}
}

func TestBoardAddsAndUpdatesWithoutListing(t *testing.T) {
	e, _, b, n := newBoardWithIssue(t, "park/parking-signs")
	ctx := context.Background()
	e.ensureFields(b)
	before := e.requestCount()
	e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/orgs/acme/projectsV2/1/items", Kind: localgithub.DropResponseAfterCommit})
	if _, err := b.AddItem(ctx, n); err == nil {
		t.Fatal("AddItem succeeded although the answer was dropped")
	}
	item, err := b.AddItem(ctx, n)
	if err != nil || item.ID == 0 || item.IssueNumber != n {
		t.Fatalf("AddItem again = %+v, %v", item, err)
	}
	if got := e.items(); len(got) != 1 || got[0].ID != item.ID {
		t.Fatalf("board = %+v, want one item, %d", got, item.ID)
	}
	values := map[string]string{tracker.FieldPhase: "Improve", tracker.FieldImpact: "4", tracker.FieldQuickWin: "Yes"}
	if _, state, err := b.SetItemValues(ctx, item.ID, values); err != nil || state != tracker.ItemPresent {
		t.Fatalf("SetItemValues = %v, %v", state, err)
	}
	if got := e.items()[0].Values; got["Phase"] != "Improve" || got["Impact"] != "4" || got["Quick win"] != "Yes" {
		t.Errorf("values = %v", got)
	}
	if lists := e.sent(before, http.MethodGet, "/items"); lists != 0 {
		t.Errorf("listed the board %d times to add and update one item, want 0", lists)
	}

	// An update answered 404 while the item is still there (a write the
	// credentials may not make, a hiccup) is no removal.
	e.srv.Inject(localgithub.Fault{Method: http.MethodPatch, Path: fmt.Sprintf("/orgs/acme/projectsV2/1/items/%d", item.ID), Kind: localgithub.ServerError, Status: http.StatusNotFound})
	values[tracker.FieldEffort] = "2"
	var pe *tracker.PermissionError
	if _, state, err := b.SetItemValues(ctx, item.ID, values); !errors.As(err, &pe) || state == tracker.ItemRemoved {
		t.Errorf("SetItemValues answered 404 on an item still there = %v, %v; want a missing permission, not a removal", state, err)
	}

	// An issue that is not there: IssueNotFound, not a board to fix.
	if _, err := b.AddItem(ctx, n+1000); tracker.Reason(err) != cxv1.ReasonIssueNotFound {
		t.Errorf("AddItem of a missing issue = %v; want IssueNotFound", err)
	}

	// Taken off the board by a person: removed, and nothing is added back.
	if err := e.srv.RemoveProjectItem(owner, true, e.project.Number, owner+"/"+repo, n); err != nil {
		t.Fatal(err)
	}
	before = e.requestCount()
	values[tracker.FieldImpact] = "5"
	if _, state, err := b.SetItemValues(ctx, item.ID, values); err != nil || state != tracker.ItemRemoved {
		t.Fatalf("SetItemValues of a removed item = %v, %v; want ItemRemoved", state, err)
	}
	if posts := e.sent(before, http.MethodPost, "/items"); posts != 0 || len(e.items()) != 0 {
		t.Errorf("sent %d adds; board %+v", posts, e.items())
	}

	// The board itself gone (or out of the credentials' sight): that is
	// no item removed by a person.
	item, err = b.AddItem(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Inject(localgithub.Fault{Path: "/orgs/acme/projectsV2/1", Kind: localgithub.ServerError, Status: http.StatusNotFound, Times: 5})
	if _, state, err := b.SetItemValues(ctx, item.ID, values); tracker.Reason(err) != cxv1.ReasonProjectNotFound || state == tracker.ItemRemoved {
		t.Errorf("SetItemValues on a board that answers 404 = %v, %v; want ProjectNotFound", state, err)
	}
	e.srv.ClearFaults()
	e.srv.Inject(localgithub.Fault{Path: "/orgs/acme/projectsV2/1", Kind: localgithub.ServerError, Status: http.StatusNotFound, Times: 2})
	if _, err := b.AddItem(ctx, n); tracker.Reason(err) != cxv1.ReasonProjectNotFound {
		t.Errorf("AddItem on a board that answers 404 = %v; want ProjectNotFound", err)
	}
}

func TestSubIssueAndBlockedByAreLinkedOnceAfterDroppedAnswers(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client()
	discovery := e.openIssue(c, "parent/discovery")
	improve := e.openIssue(c, "parent/improve")
	win1 := e.openIssue(c, "improve/website")
	win2 := e.openIssue(c, "improve/signs")

	e.srv.Inject(localgithub.Fault{Method: "POST", Path: fmt.Sprintf("/repos/acme/journeys/issues/%d/sub_issues", improve), Kind: localgithub.DropResponseAfterCommit})
	e.srv.Inject(localgithub.Fault{Method: "POST", Path: fmt.Sprintf("/repos/acme/journeys/issues/%d/dependencies/blocked_by", improve), Kind: localgithub.DropResponseAfterCommit})
	before := e.requestCount()
	if err := c.EnsureSubIssue(ctx, improve, win1); err == nil {
		t.Fatal("EnsureSubIssue succeeded although the answer was dropped")
	}
	if err := c.EnsureBlockedBy(ctx, improve, discovery); err == nil {
		t.Fatal("EnsureBlockedBy succeeded although the answer was dropped")
	}
	for range 2 {
		for _, child := range []int{win1, win2} {
			if err := c.EnsureSubIssue(ctx, improve, child); err != nil {
				t.Fatalf("EnsureSubIssue(%d, %d): %v", improve, child, err)
			}
		}
		if err := c.EnsureBlockedBy(ctx, improve, discovery); err != nil {
			t.Fatalf("EnsureBlockedBy: %v", err)
		}
	}
	rel, err := e.srv.Relations(owner, repo, improve)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rel.SubIssues, []int{win1, win2}) || !slices.Equal(rel.BlockedBy, []int{discovery}) {
		t.Errorf("relations of #%d = %+v; want sub-issues [%d %d], blocked by [%d]", improve, rel, win1, win2, discovery)
	}
	if n := e.sent(before, http.MethodPost, "/sub_issues"); n != 2 {
		t.Errorf("sent %d POST sub_issues, want 2 (one per child)", n)
	}
	if n := e.sent(before, http.MethodPost, "/blocked_by"); n != 1 {
		t.Errorf("sent %d POST blocked_by, want 1", n)
	}

	if err := e.srv.CloseIssue(owner, repo, win1, ""); err != nil {
		t.Fatal(err)
	}
	p, err := c.SubIssueProgress(ctx, improve)
	if err != nil {
		t.Fatal(err)
	}
	if p != (tracker.SubIssuesSummary{Total: 2, Completed: 1, PercentCompleted: 50}) {
		t.Errorf("progress = %+v, want 1 of 2 done", p)
	}
}

func TestSubIssueWithAnotherParentIsLeftThere(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client()
	a := e.openIssue(c, "parent/a")
	b := e.openIssue(c, "parent/b")
	child := e.openIssue(c, "work/child")
	if err := c.EnsureSubIssue(ctx, a, child); err != nil {
		t.Fatal(err)
	}
	err := c.EnsureSubIssue(ctx, b, child)
	if tracker.Reason(err) != cxv1.ReasonValidationFailed {
		t.Errorf("EnsureSubIssue under a second parent = %v; want ValidationFailed", err)
	}
	if rel, _ := e.srv.Relations(owner, repo, child); rel.Parent != a {
		t.Errorf("parent = #%d, want #%d", rel.Parent, a)
	}
}

func TestIssueTypesAreSetWhenTheOrganisationDefinesThem(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client()
	n := e.openIssue(c, "discovery/gap")

	types, err := c.IssueTypes(ctx)
	if err != nil || len(types) != 0 {
		t.Fatalf("IssueTypes without types = %v, %v; want none", types, err)
	}
	e.srv.SetIssueTypes(owner, "Task", "Feature", "Bug")
	types, err = c.IssueTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ty := range types {
		names = append(names, ty.Name)
	}
	if !slices.Equal(names, []string{"Task", "Feature", "Bug"}) {
		t.Errorf("IssueTypes = %v", names)
	}
	if err := c.SetIssueType(ctx, n, "Feature"); err != nil {
		t.Fatal(err)
	}
	if rel, _ := e.srv.Relations(owner, repo, n); rel.Type != "Feature" {
		t.Errorf("type = %q, want Feature", rel.Type)
	}
	before := e.requestCount()
	if err := c.SetIssueType(ctx, n, "Feature"); err != nil {
		t.Fatal(err)
	}
	if p := e.sent(before, http.MethodPatch, ""); p != 0 {
		t.Errorf("setting the same type again sent %d PATCHes", p)
	}
	if err := c.SetIssueType(ctx, n, "Epic"); tracker.Reason(err) != cxv1.ReasonValidationFailed {
		t.Errorf("an undefined type = %v; want ValidationFailed", err)
	}
}

func TestBoardWithoutProjectPermission(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client()
	e.srv.DenyProjects(e.token, true)
	_, err := c.Board(ctx, e.project)
	var pe *tracker.PermissionError
	if !errors.As(err, &pe) {
		t.Fatalf("Board = %v; want a PermissionError", err)
	}
	if tracker.Reason(err) != cxv1.ReasonPermissionMissing {
		t.Errorf("Reason = %q", tracker.Reason(err))
	}
	for _, want := range []string{"spec.tracker.github.project", "project scope", "Projects: read and write", "acme/1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), e.token) {
		t.Error("the error carries the token")
	}
	// Issues still open.
	if n := e.openIssue(c, "park/still-tracked"); n == 0 {
		t.Error("no issue opened")
	}

	// A board found before the permission was lowered fails the same way.
	e.srv.DenyProjects(e.token, false)
	b := e.board(c)
	e.srv.DenyProjects(e.token, true)
	if _, err := b.EnsureFields(ctx); !errors.As(err, &pe) {
		t.Errorf("EnsureFields = %v; want a PermissionError", err)
	}
}

func TestBoardOfAUserAndAMissingProject(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client()
	number := e.srv.AddProject("monalisa", false, "My journeys")
	b, err := c.Board(ctx, tracker.ProjectRef{Owner: "monalisa", Number: number})
	if err != nil {
		t.Fatal(err)
	}
	n := e.openIssue(c, "park/user-board")
	if _, err := b.AddItem(ctx, n); err != nil {
		t.Fatalf("AddItem on a user's board: %v", err)
	}
	if items, _ := e.srv.ProjectItems("monalisa", false, number); len(items) != 1 {
		t.Errorf("user board items = %+v", items)
	}
	_, err = c.Board(ctx, tracker.ProjectRef{Owner: owner, Number: 99})
	if tracker.Reason(err) != cxv1.ReasonProjectNotFound || !strings.Contains(err.Error(), "spec.tracker.github.project") {
		t.Errorf("missing project = %v; want ProjectNotFound naming the field", err)
	}
}

func TestBoardWritesSpendTheWriteBudget(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client(func(cfg *tracker.Config) { cfg.WritesPerMinute = 4 })
	b := e.board(c)
	before := e.requestCount()
	_, err := b.EnsureFields(ctx)
	var rl *tracker.RateLimitError
	if !errors.As(err, &rl) || !rl.Budget {
		t.Fatalf("EnsureFields with 4 writes a minute = %v; want the write budget spent", err)
	}
	posts := e.sent(before, http.MethodPost, "/fields")
	if posts == 0 || posts > 4 {
		t.Errorf("sent %d field creations, want 1 to 4 within the budget", posts)
	}
	if d := c.WriteDelay("journey/nature-park"); d <= 0 {
		t.Errorf("WriteDelay = %v after the budget was spent by the board", d)
	}
	for range 30 {
		e.clk.Step(20 * time.Second)
		if _, err := b.EnsureFields(ctx); err == nil {
			break
		} else if !errors.As(err, &rl) {
			t.Fatal(err)
		}
	}
	e.wantEachFieldOnce()
}

// TestBoardExchangesValidateAgainstOpenAPI runs the whole board through the
// validator and checks that each operation cxloop uses was validated: its
// request bodies and the local GitHub's answers.
func TestBoardExchangesValidateAgainstOpenAPI(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client()
	e.srv.SetIssueTypes(owner, "Task", "Feature")
	parent := e.openIssue(c, "parent/improve")
	earlier := e.openIssue(c, "parent/discovery")
	win := e.openIssue(c, "improve/website")
	b := e.board(c)
	e.ensureFields(b)
	item, err := b.AddItem(ctx, win)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetValues(ctx, item, map[string]string{tracker.FieldPhase: "Improve", tracker.FieldImpact: "4.5", tracker.FieldStage: "planning"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Items(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureSubIssue(ctx, parent, win); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureBlockedBy(ctx, parent, earlier); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubIssueProgress(ctx, parent); err != nil {
		t.Fatal(err)
	}
	if _, err := c.IssueTypes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SetIssueType(ctx, win, "Feature"); err != nil {
		t.Fatal(err)
	}
	// Error answers validate too.
	if err := c.SetIssueType(ctx, win, "Epic"); err == nil {
		t.Error("an undefined type was accepted")
	}
	if err := c.EnsureSubIssue(ctx, earlier, win); err == nil {
		t.Error("a second parent was accepted")
	}

	for _, op := range []string{
		"projects/get-for-org", "projects/list-fields-for-org", "projects/add-field-for-org",
		"projects/list-items-for-org", "projects/add-item-for-org", "projects/update-item-for-org",
		"issues/list-sub-issues", "issues/add-sub-issue", "issues/list-dependencies-blocked-by",
		"issues/add-blocked-by-dependency", "orgs/list-issue-types", "issues/get", "issues/update",
	} {
		reqs, answers := e.spec.Validated(op)
		if reqs == 0 || answers == 0 {
			t.Errorf("%s: %d requests and %d answers validated, want some of each", op, reqs, answers)
		}
	}
	t.Logf("validated operations: %v", e.spec.Operations())
}

func TestBoardFieldCreatedOnceAfterADroppedAnswer(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client()
	b := e.board(c)
	// The third field's answer is lost after GitHub made it.
	e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/orgs/acme/projectsV2/1/fields", Kind: localgithub.DropResponseAfterCommit, Every: 3})
	if _, err := b.EnsureFields(ctx); err == nil {
		t.Fatal("EnsureFields succeeded although an answer was dropped")
	}
	e.srv.ClearFaults()
	e.ensureFields(b)
	e.wantEachFieldOnce()
}

func TestBoardListsEveryPageOfItems(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client(func(cfg *tracker.Config) { cfg.PageSize = 2 })
	b := e.board(c)
	e.ensureFields(b)
	var numbers []int
	for i := range 5 {
		numbers = append(numbers, e.openIssue(c, fmt.Sprintf("park/win-%d", i)))
	}
	items, err := b.Items(ctx)
	if err != nil || len(items) != 0 {
		t.Fatalf("empty board: %v, %v", items, err)
	}
	for _, n := range numbers {
		if _, err := b.AddItem(ctx, n); err != nil {
			t.Fatalf("AddItem(%d): %v", n, err)
		}
	}
	items, err = b.Items(ctx)
	if err != nil || len(items) != 5 {
		t.Fatalf("Items over pages of 2 = %d items, %v; want 5", len(items), err)
	}
	for _, n := range numbers {
		if !slices.ContainsFunc(items, func(it tracker.BoardItem) bool { return it.IssueNumber == n }) {
			t.Errorf("Items lacks #%d", n)
		}
	}
}

// TestBoardFindsItsItemWhenAnAddIsRefused: GitHub answers an add of an
// issue already on the board with its item; were it to refuse that add
// instead (422), the item is found by looking through the board, among
// the items of every repository the board holds, at most once an hour and
// through its first pages; a refusal of an issue that is not on the board
// stays a refusal.
func TestBoardFindsItsItemWhenAnAddIsRefused(t *testing.T) {
	e, c, b, n := newBoardWithIssue(t, "park/refused-add")
	ctx := context.Background()
	e.ensureFields(b)
	// Another repository's issue of the same number, on the same board.
	e.srv.AddRepo(owner, "signage")
	other := e.client(func(c *tracker.Config) { c.Repo = "signage" })
	on := e.openIssue(other, "park/other-repository")
	if on != n {
		t.Fatalf("the other repository's issue is #%d, want #%d as the journey's", on, n)
	}
	otherItem, err := e.board(other).AddItem(ctx, on)
	if err != nil {
		t.Fatal(err)
	}

	e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/orgs/acme/projectsV2/1/items", Kind: localgithub.DropResponseAfterCommit})
	if _, err := b.AddItem(ctx, n); err == nil {
		t.Fatal("AddItem succeeded although the answer was dropped")
	}
	var added int64
	for _, it := range e.items() {
		if it.ID != otherItem.ID {
			added = it.ID
		}
	}
	if added == 0 {
		t.Fatalf("board = %+v: the dropped add was not applied", e.items())
	}

	e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/orgs/acme/projectsV2/1/items", Kind: localgithub.ServerError, Status: http.StatusUnprocessableEntity, Times: -1})
	before := e.requestCount()
	item, err := b.AddItem(ctx, n)
	if err != nil || item.ID != added || item.IssueNumber != n {
		t.Fatalf("AddItem refused with 422 = %+v, %v; want the item %d already on the board", item, err, added)
	}
	if lists := e.sent(before, http.MethodGet, "/items"); lists != 1 {
		t.Errorf("listed the board %d times to find one item, want 1", lists)
	}

	// An issue that is not on the board: the refusal stands, and the
	// board is looked through once an hour at most.
	missing := e.openIssue(c, "park/refused-for-another-reason")
	for _, tc := range []struct {
		after time.Duration
		lists int
	}{{0, 0}, {time.Hour, 1}, {time.Minute, 0}} {
		e.clk.Step(tc.after)
		before = e.requestCount()
		var ae *tracker.APIError
		if item, err := b.AddItem(ctx, missing); !errors.As(err, &ae) || ae.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("AddItem of an issue off the board, refused, %v later = %+v, %v; want the 422", tc.after, item, err)
		}
		if lists := e.sent(before, http.MethodGet, "/items"); lists != tc.lists {
			t.Errorf("refused %v later: listed the board %d times, want %d", tc.after, lists, tc.lists)
		}
		if posts := e.sent(before, http.MethodPost, "/items"); posts != 1 {
			t.Errorf("sent %d adds, want 1", posts)
		}
	}
	if got := len(e.items()); got != 2 {
		t.Errorf("board holds %d items, want 2", got)
	}
}

// TestBoardLooksThroughItsFirstPagesOnly: the look for the item of a
// refused add stops at the page that holds it, and reads no more than 20
// pages of a board that does not.
func TestBoardLooksThroughItsFirstPagesOnly(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	c := e.client(func(c *tracker.Config) { c.PageSize = 1 })
	b := e.board(c)
	e.ensureFields(b)
	var numbers []int
	for i := range 22 {
		n := e.openIssue(c, fmt.Sprintf("park/item-%d", i))
		if i < 21 {
			if _, err := b.AddItem(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		numbers = append(numbers, n)
	}
	e.srv.Inject(localgithub.Fault{Method: "POST", Path: "/orgs/acme/projectsV2/1/items", Kind: localgithub.ServerError, Status: http.StatusUnprocessableEntity, Times: -1})
	before := e.requestCount()
	if item, err := b.AddItem(ctx, numbers[2]); err != nil || item.IssueNumber != numbers[2] {
		t.Fatalf("AddItem of the third item, refused = %+v, %v", item, err)
	}
	if lists := e.sent(before, http.MethodGet, "/items"); lists != 3 {
		t.Errorf("read %d pages to find the third item, want 3", lists)
	}
	e.clk.Step(time.Hour)
	before = e.requestCount()
	held, _ := tracker.ConditionalCacheStats()
	if _, err := b.AddItem(ctx, numbers[21]); err == nil {
		t.Fatal("AddItem of an issue off the board, refused, succeeded")
	}
	if lists := e.sent(before, http.MethodGet, "/items"); lists != 20 {
		t.Errorf("read %d pages of a board of 21 items, one a page, want 20", lists)
	}
	if now, _ := tracker.ConditionalCacheStats(); now != held {
		t.Errorf("the lookup's 20 pages left %d answers in the store of conditional answers, want none", now-held)
	}
}
