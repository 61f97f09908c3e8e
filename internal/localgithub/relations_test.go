package localgithub

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// newIssues makes acme/journeys (if need be) with n issues titled "Issue 1"
// to "Issue n", and returns their ids and numbers.
func newIssues(t *testing.T, s *Server, n int) []idOnly {
	t.Helper()
	s.AddRepo("acme", "journeys")
	var out []idOnly
	for i := range n {
		r := call(t, s, "POST", "/repos/acme/journeys/issues", map[string]any{"title": fmt.Sprintf("Issue %d", i+1)})
		expectStatus(t, r, 201, "create issue")
		out = append(out, decode[idOnly](t, r))
	}
	return out
}

func issuePath(number int, rest string) string {
	return fmt.Sprintf("/repos/acme/journeys/issues/%d%s", number, rest)
}

// numbersOf lists the numbers of the issues a list endpoint answers.
func numbersOf(t *testing.T, s *Server, path string) []int {
	t.Helper()
	r := call(t, s, "GET", path, nil)
	expectStatus(t, r, 200, "GET "+path)
	var out []int
	for _, is := range decode[[]idOnly](t, r) {
		out = append(out, is.Number)
	}
	return out
}

func relationsOf(t *testing.T, s *Server, number int) IssueRelations {
	t.Helper()
	rel, err := s.Relations("acme", "journeys", number)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func TestAddSubIssueRefuses(t *testing.T) {
	s := startServer(t, Options{})
	is := newIssues(t, s, 4)
	parent, child, other := is[0], is[1], is[2]
	expectStatus(t, call(t, s, "POST", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID}), 201, "add child")
	s.AddRepo("acme", "quiet")
	s.SetIssuesDisabled("acme", "quiet", true)
	if err := s.DeleteIssue("acme", "journeys", is[3].Number); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		path        string
		body        any
		status      int
		field, code string
		msg         string
	}{
		{"no sub_issue_id", issuePath(parent.Number, "/sub_issues"), map[string]any{}, 422, "sub_issue_id", "missing_field", ""},
		{"no body", issuePath(parent.Number, "/sub_issues"), nil, 422, "sub_issue_id", "missing_field", ""},
		{"itself", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": parent.ID}, 422, "sub_issue_id", "custom", "sub-issue of itself"},
		{"the same child again", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID}, 422, "sub_issue_id", "custom", "duplicate sub-issues"},
		{"the same child again, replacing", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID, "replace_parent": true}, 422, "sub_issue_id", "custom", "duplicate sub-issues"},
		{"a child of another parent", issuePath(other.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID}, 422, "sub_issue_id", "custom", "only have one parent"},
		{"an unknown issue", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID + 1000}, 404, "", "", "Not Found"},
		{"an unknown parent", issuePath(99, "/sub_issues"), map[string]any{"sub_issue_id": other.ID}, 404, "", "", "Not Found"},
		{"a deleted parent", issuePath(is[3].Number, "/sub_issues"), map[string]any{"sub_issue_id": other.ID}, 410, "", "", "This issue was deleted"},
		{"a repository without issues", "/repos/acme/quiet/issues/1/sub_issues", map[string]any{"sub_issue_id": other.ID}, 410, "", "", "Issues are disabled"},
		{"an id that is text", issuePath(parent.Number, "/sub_issues"), `{"sub_issue_id":"12"}`, 400, "", "", "Problems parsing JSON"},
		{"malformed JSON", issuePath(parent.Number, "/sub_issues"), `{"sub_issue_id":`, 400, "", "", "Problems parsing JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, call(t, s, "POST", tc.path, tc.body), tc.status, tc.field, tc.code, tc.msg)
		})
	}
	if rel := relationsOf(t, s, parent.Number); !slices.Equal(rel.SubIssues, []int{child.Number}) {
		t.Errorf("sub-issues %v after refusals, want only #%d", rel.SubIssues, child.Number)
	}
	if rel := relationsOf(t, s, other.Number); len(rel.SubIssues) != 0 || rel.Parent != 0 {
		t.Errorf("the other issue gained relations: %+v", rel)
	}
}

func TestReplaceParentMovesTheSubIssue(t *testing.T) {
	s := startServer(t, Options{})
	is := newIssues(t, s, 4)
	first, second, a, b := is[0], is[1], is[2], is[3]
	for _, child := range []idOnly{a, b} {
		expectStatus(t, call(t, s, "POST", issuePath(first.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID}), 201, "add to first")
	}
	r := call(t, s, "POST", issuePath(second.Number, "/sub_issues"), map[string]any{"sub_issue_id": a.ID, "replace_parent": true})
	expectStatus(t, r, 201, "move to second")
	if got := decode[idOnly](t, r); got.Number != second.Number {
		t.Errorf("the answer is #%d, want the new parent #%d", got.Number, second.Number)
	}
	if rel := relationsOf(t, s, first.Number); !slices.Equal(rel.SubIssues, []int{b.Number}) {
		t.Errorf("old parent's sub-issues %v, want only #%d", rel.SubIssues, b.Number)
	}
	if rel := relationsOf(t, s, second.Number); !slices.Equal(rel.SubIssues, []int{a.Number}) {
		t.Errorf("new parent's sub-issues %v", rel.SubIssues)
	}
	if rel := relationsOf(t, s, a.Number); rel.Parent != second.Number {
		t.Errorf("moved issue's parent #%d, want #%d", rel.Parent, second.Number)
	}
	if got := numbersOf(t, s, issuePath(first.Number, "/sub_issues")); !slices.Equal(got, []int{b.Number}) {
		t.Errorf("old parent lists %v", got)
	}
}

func TestSubIssueLimit(t *testing.T) {
	s := startServer(t, Options{})
	is := newIssues(t, s, maxSubIssues+2)
	parent := is[0]
	for _, child := range is[1 : maxSubIssues+1] {
		expectStatus(t, call(t, s, "POST", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID}), 201, "add")
	}
	last := is[maxSubIssues+1]
	expectError(t, call(t, s, "POST", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": last.ID}),
		422, "sub_issue_id", "custom", fmt.Sprintf("at most %d sub-issues", maxSubIssues))
	if rel := relationsOf(t, s, last.Number); rel.Parent != 0 {
		t.Errorf("the refused issue has parent #%d", rel.Parent)
	}
	if rel := relationsOf(t, s, parent.Number); len(rel.SubIssues) != maxSubIssues {
		t.Errorf("%d sub-issues", len(rel.SubIssues))
	}
}

func TestSubIssueProgressAndPages(t *testing.T) {
	s := startServer(t, Options{})
	is := newIssues(t, s, 4)
	parent := is[0]
	for _, child := range is[1:] {
		expectStatus(t, call(t, s, "POST", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID}), 201, "add")
	}
	type summary struct {
		Total     int `json:"total"`
		Completed int `json:"completed"`
		Percent   int `json:"percent_completed"`
	}
	progress := func() summary {
		t.Helper()
		return decode[struct {
			S summary `json:"sub_issues_summary"`
		}](t, call(t, s, "GET", issuePath(parent.Number, ""), nil)).S
	}
	if got := progress(); got != (summary{3, 0, 0}) {
		t.Errorf("before closing any: %+v", got)
	}
	if err := s.CloseIssue("acme", "journeys", is[1].Number, "not_planned"); err != nil {
		t.Fatal(err)
	}
	if got := progress(); got != (summary{3, 1, 33}) {
		t.Errorf("one of three closed: %+v, want 33 percent (rounded down)", got)
	}
	for _, child := range is[2:] {
		expectStatus(t, call(t, s, "PATCH", issuePath(child.Number, ""), map[string]any{"state": "closed"}), 200, "close")
	}
	if got := progress(); got != (summary{3, 3, 100}) {
		t.Errorf("all closed: %+v", got)
	}
	if err := s.ReopenIssue("acme", "journeys", is[3].Number); err != nil {
		t.Fatal(err)
	}
	if got := progress(); got != (summary{3, 2, 66}) {
		t.Errorf("after reopening one: %+v", got)
	}
	// A deleted sub-issue no longer counts nor lists.
	if err := s.DeleteIssue("acme", "journeys", is[3].Number); err != nil {
		t.Fatal(err)
	}
	if got := progress(); got != (summary{2, 2, 100}) {
		t.Errorf("after deleting one: %+v", got)
	}
	// An issue without sub-issues has an empty summary, not none.
	if got := decode[struct {
		S *summary `json:"sub_issues_summary"`
	}](t, call(t, s, "GET", issuePath(is[1].Number, ""), nil)).S; got == nil || *got != (summary{}) {
		t.Errorf("a leaf's summary %+v", got)
	}

	// Pages of one, with Link headers in GitHub's /repositories form.
	r := call(t, s, "GET", issuePath(parent.Number, "/sub_issues?per_page=1"), nil)
	rels := parseLink(t, r.Header.Get("Link"))
	if len(decode[[]idOnly](t, r)) != 1 || rels["next"].Get("page") != "2" || rels["last"].Get("page") != "2" ||
		rels["next"].Get("_path") != fmt.Sprintf("/repositories/ID/issues/%d/sub_issues", parent.Number) {
		t.Errorf("first page Link %q", r.Header.Get("Link"))
	}
	if got := numbersOf(t, s, issuePath(parent.Number, "/sub_issues?per_page=1&page=2")); !slices.Equal(got, []int{is[2].Number}) {
		t.Errorf("second page %v", got)
	}
	if got := numbersOf(t, s, issuePath(parent.Number, "/sub_issues?page=3")); len(got) != 0 {
		t.Errorf("a page past the end %v", got)
	}
}

func TestReprioritizeSubIssue(t *testing.T) {
	s := startServer(t, Options{})
	is := newIssues(t, s, 5)
	parent, a, b, c, stranger := is[0], is[1], is[2], is[3], is[4]
	for _, child := range []idOnly{a, b, c} {
		expectStatus(t, call(t, s, "POST", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID}), 201, "add")
	}
	path := issuePath(parent.Number, "/sub_issues/priority")
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no sub-issue", map[string]any{"after_id": a.ID}, "sub_issue_id"},
		{"not a sub-issue", map[string]any{"sub_issue_id": stranger.ID, "after_id": a.ID}, "sub_issue_id"},
		{"no anchor", map[string]any{"sub_issue_id": a.ID}, "after_id"},
		{"two anchors", map[string]any{"sub_issue_id": a.ID, "after_id": b.ID, "before_id": c.ID}, "after_id"},
		{"after itself", map[string]any{"sub_issue_id": a.ID, "after_id": a.ID}, "after_id"},
		{"before itself", map[string]any{"sub_issue_id": a.ID, "before_id": a.ID}, "before_id"},
		{"after a stranger", map[string]any{"sub_issue_id": a.ID, "after_id": stranger.ID}, "after_id"},
		{"before a stranger", map[string]any{"sub_issue_id": a.ID, "before_id": stranger.ID}, "before_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// GitHub's "Validation Error Simple": errors are strings.
			r := call(t, s, "PATCH", path, tc.body)
			expectStatus(t, r, 422, tc.name)
			got := decode[struct {
				Message string   `json:"message"`
				Errors  []string `json:"errors"`
			}](t, r)
			if got.Message != "Validation Failed" || !slices.Equal(got.Errors, []string{tc.field + " is invalid"}) {
				t.Errorf("answer %+v, want the simple validation error naming %s", got, tc.field)
			}
		})
	}
	order := func() []int { return relationsOf(t, s, parent.Number).SubIssues }
	if got := order(); !slices.Equal(got, []int{a.Number, b.Number, c.Number}) {
		t.Fatalf("refusals changed the order: %v", got)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want []idOnly
	}{
		{"first after the last", map[string]any{"sub_issue_id": a.ID, "after_id": c.ID}, []idOnly{b, c, a}},
		{"last before the first", map[string]any{"sub_issue_id": a.ID, "before_id": b.ID}, []idOnly{a, b, c}},
		{"after its predecessor stays", map[string]any{"sub_issue_id": b.ID, "after_id": a.ID}, []idOnly{a, b, c}},
		{"middle before the first", map[string]any{"sub_issue_id": b.ID, "before_id": a.ID}, []idOnly{b, a, c}},
		{"first after the middle", map[string]any{"sub_issue_id": b.ID, "after_id": a.ID}, []idOnly{a, b, c}},
	} {
		r := call(t, s, "PATCH", path, tc.body)
		expectStatus(t, r, 200, tc.name)
		var want []int
		for _, w := range tc.want {
			want = append(want, w.Number)
		}
		if got := order(); !slices.Equal(got, want) {
			t.Errorf("%s: order %v, want %v", tc.name, got, want)
		}
		if got := numbersOf(t, s, issuePath(parent.Number, "/sub_issues")); !slices.Equal(got, want) {
			t.Errorf("%s: listed %v, want %v", tc.name, got, want)
		}
	}
}

func TestRemoveSubIssue(t *testing.T) {
	s := startServer(t, Options{})
	is := newIssues(t, s, 3)
	parent, child, stranger := is[0], is[1], is[2]
	expectStatus(t, call(t, s, "POST", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID}), 201, "add")
	path := issuePath(parent.Number, "/sub_issue")
	expectError(t, call(t, s, "DELETE", path, map[string]any{}), 400, "", "", "sub_issue_id is required")
	expectError(t, call(t, s, "DELETE", path, map[string]any{"sub_issue_id": stranger.ID}), 404, "", "", "Not Found")
	expectError(t, call(t, s, "DELETE", path, map[string]any{"sub_issue_id": child.ID + 1000}), 404, "", "", "Not Found")
	expectError(t, call(t, s, "DELETE", issuePath(stranger.Number, "/sub_issue"), map[string]any{"sub_issue_id": child.ID}), 404, "", "", "Not Found")
	expectError(t, call(t, s, "DELETE", path, "{"), 400, "", "", "Problems parsing JSON")

	r := call(t, s, "DELETE", path, map[string]any{"sub_issue_id": child.ID})
	expectStatus(t, r, 200, "remove")
	if got := decode[idOnly](t, r); got.ID != child.ID {
		t.Errorf("answered #%d, want the removed sub-issue #%d", got.Number, child.Number)
	}
	if strings.Contains(string(r.Body), "parent_issue_url") {
		t.Errorf("the removed sub-issue still names a parent: %s", r.Body)
	}
	if rel := relationsOf(t, s, parent.Number); len(rel.SubIssues) != 0 {
		t.Errorf("sub-issues after removal %v", rel.SubIssues)
	}
	expectError(t, call(t, s, "DELETE", path, map[string]any{"sub_issue_id": child.ID}), 404, "", "", "Not Found")
	// Free again: another parent may take it without replace_parent.
	expectStatus(t, call(t, s, "POST", issuePath(stranger.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID}), 201, "re-parent")
}

func TestSubIssueFromAnotherRepository(t *testing.T) {
	s := startServer(t, Options{})
	is := newIssues(t, s, 1)
	s.AddRepo("acme", "site")
	other := decode[idOnly](t, call(t, s, "POST", "/repos/acme/site/issues", map[string]any{"title": "Elsewhere"}))
	expectStatus(t, call(t, s, "POST", issuePath(is[0].Number, "/sub_issues"), map[string]any{"sub_issue_id": other.ID}), 201, "add")
	r := call(t, s, "GET", issuePath(is[0].Number, "/sub_issues"), nil)
	subs := decode[[]struct {
		Title         string `json:"title"`
		RepositoryURL string `json:"repository_url"`
	}](t, r)
	if len(subs) != 1 || subs[0].Title != "Elsewhere" || subs[0].RepositoryURL != s.URL()+"repos/acme/site" {
		t.Errorf("sub-issues %+v", subs)
	}
	child := call(t, s, "GET", "/repos/acme/site/issues/1", nil)
	if !strings.Contains(string(child.Body), fmt.Sprintf(`"parent_issue_url":"%srepos/acme/journeys/issues/%d"`, s.URL(), is[0].Number)) {
		t.Errorf("the sub-issue's parent_issue_url: %s", child.Body)
	}
}

// newBlockedPair makes issues a, b and c, with a blocked by b.
func newBlockedPair(t *testing.T) (s *Server, a, b, c idOnly) {
	t.Helper()
	s = startServer(t, Options{})
	is := newIssues(t, s, 3)
	a, b, c = is[0], is[1], is[2]
	expectStatus(t, call(t, s, "POST", issuePath(a.Number, "/dependencies/blocked_by"), map[string]any{"issue_id": b.ID}), 201, "a blocked by b")
	return s, a, b, c
}

func TestBlockedByRefuses(t *testing.T) {
	s, a, b, c := newBlockedPair(t)
	for _, tc := range []struct {
		name        string
		number      int
		body        any
		status      int
		field, code string
		msg         string
	}{
		{"no issue_id", a.Number, map[string]any{}, 422, "issue_id", "missing_field", ""},
		{"itself", a.Number, map[string]any{"issue_id": a.ID}, 422, "issue_id", "custom", "blocked by itself"},
		{"twice", a.Number, map[string]any{"issue_id": b.ID}, 422, "issue_id", "custom", "already blocked by this issue"},
		{"a cycle", b.Number, map[string]any{"issue_id": a.ID}, 422, "issue_id", "custom", "may not form a cycle"},
		{"an unknown blocker", a.Number, map[string]any{"issue_id": c.ID + 1000}, 404, "", "", "Not Found"},
		{"an unknown issue", 99, map[string]any{"issue_id": c.ID}, 404, "", "", "Not Found"},
		{"an id that is text", a.Number, `{"issue_id":"3"}`, 400, "", "", "Problems parsing JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, call(t, s, "POST", issuePath(tc.number, "/dependencies/blocked_by"), tc.body), tc.status, tc.field, tc.code, tc.msg)
		})
	}
	if rel := relationsOf(t, s, a.Number); !slices.Equal(rel.BlockedBy, []int{b.Number}) {
		t.Errorf("a blocked by %v", rel.BlockedBy)
	}
	if rel := relationsOf(t, s, b.Number); len(rel.BlockedBy) != 0 {
		t.Errorf("b blocked by %v", rel.BlockedBy)
	}
}

func TestDependencySummariesCountOpenIssues(t *testing.T) {
	s := startServer(t, Options{})
	is := newIssues(t, s, 4)
	blocked, x, y, z := is[0], is[1], is[2], is[3]
	for _, blocker := range []idOnly{z, x, y} {
		r := call(t, s, "POST", issuePath(blocked.Number, "/dependencies/blocked_by"), map[string]any{"issue_id": blocker.ID})
		expectStatus(t, r, 201, "add blocker")
		if got := decode[idOnly](t, r); got.ID != blocked.ID {
			t.Errorf("answered #%d, want the blocked issue", got.Number)
		}
	}
	if err := s.CloseIssue("acme", "journeys", x.Number, ""); err != nil {
		t.Fatal(err)
	}
	type deps struct {
		BlockedBy      int `json:"blocked_by"`
		Blocking       int `json:"blocking"`
		TotalBlockedBy int `json:"total_blocked_by"`
		TotalBlocking  int `json:"total_blocking"`
	}
	summary := func(number int) deps {
		t.Helper()
		return decode[struct {
			D deps `json:"issue_dependencies_summary"`
		}](t, call(t, s, "GET", issuePath(number, ""), nil)).D
	}
	if got := summary(blocked.Number); got != (deps{BlockedBy: 2, TotalBlockedBy: 3}) {
		t.Errorf("blocked issue %+v, want 2 open of 3 blockers", got)
	}
	if got := summary(x.Number); got != (deps{Blocking: 1, TotalBlocking: 1}) {
		t.Errorf("closed blocker %+v: it blocks an open issue", got)
	}
	if got := numbersOf(t, s, issuePath(blocked.Number, "/dependencies/blocked_by")); !slices.Equal(got, []int{z.Number, x.Number, y.Number}) {
		t.Errorf("blocked by %v, want the order they were added", got)
	}
	if err := s.CloseIssue("acme", "journeys", blocked.Number, ""); err != nil {
		t.Fatal(err)
	}
	if got := summary(y.Number); got != (deps{Blocking: 0, TotalBlocking: 1}) {
		t.Errorf("blocker of a closed issue %+v", got)
	}
	if got := numbersOf(t, s, issuePath(y.Number, "/dependencies/blocking")); !slices.Equal(got, []int{blocked.Number}) {
		t.Errorf("y blocking %v", got)
	}
	if rel := relationsOf(t, s, blocked.Number); !slices.Equal(rel.BlockedBy, []int{x.Number, y.Number, z.Number}) {
		t.Errorf("Relations lists blockers %v, want them by number", rel.BlockedBy)
	}
}

func TestRemoveBlockedBy(t *testing.T) {
	s, a, b, c := newBlockedPair(t)
	for _, path := range []string{
		issuePath(a.Number, fmt.Sprintf("/dependencies/blocked_by/%d", c.ID)),     // not a blocker
		issuePath(a.Number, "/dependencies/blocked_by/b"),                         // not a number
		issuePath(b.Number, fmt.Sprintf("/dependencies/blocked_by/%d", a.ID)),     // the other way round
		issuePath(99, fmt.Sprintf("/dependencies/blocked_by/%d", b.ID)),           // unknown issue
		issuePath(a.Number, fmt.Sprintf("/dependencies/blocked_by/%d", b.Number)), // a number, not an id
	} {
		expectError(t, call(t, s, "DELETE", path, nil), 404, "", "", "Not Found")
	}
	r := call(t, s, "DELETE", issuePath(a.Number, fmt.Sprintf("/dependencies/blocked_by/%d", b.ID)), nil)
	expectStatus(t, r, 200, "remove")
	if got := decode[idOnly](t, r); got.ID != b.ID {
		t.Errorf("answered #%d, want the former blocker #%d", got.Number, b.Number)
	}
	if got := numbersOf(t, s, issuePath(b.Number, "/dependencies/blocking")); len(got) != 0 {
		t.Errorf("b still blocking %v", got)
	}
	if got := numbersOf(t, s, issuePath(a.Number, "/dependencies/blocked_by")); len(got) != 0 {
		t.Errorf("a still blocked by %v", got)
	}
	// With the dependency gone the other direction is no cycle.
	expectStatus(t, call(t, s, "POST", issuePath(b.Number, "/dependencies/blocked_by"), map[string]any{"issue_id": a.ID}), 201, "b blocked by a")
}

func TestIssueTypes(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "journeys")
	s.SetIssueTypes("ACME", "Task", "Bug", "Feature")
	type typeJSON struct {
		ID      int64   `json:"id"`
		Name    string  `json:"name"`
		Enabled bool    `json:"is_enabled"`
		Color   *string `json:"color"`
		NodeID  string  `json:"node_id"`
	}
	first := decode[[]typeJSON](t, call(t, s, "GET", "/orgs/acme/issue-types", nil))
	// Redefining keeps the ids of names kept (in any case), disables the
	// others, and adds the new.
	s.SetIssueTypes("acme", "feature", "Epic", "Task")
	second := decode[[]typeJSON](t, call(t, s, "GET", "/orgs/Acme/issue-types", nil))
	if len(first) != 3 || len(second) != 4 {
		t.Fatalf("types %+v then %+v", first, second)
	}
	for i, want := range []struct {
		name    string
		id      int64
		enabled bool
	}{{"Task", first[0].ID, true}, {"Bug", first[1].ID, false}, {"Feature", first[2].ID, true}, {"Epic", 0, true}} {
		got := second[i]
		if got.Name != want.name || got.Enabled != want.enabled || (want.id != 0 && got.ID != want.id) || got.Color != nil || !strings.HasPrefix(got.NodeID, "IT_") {
			t.Errorf("type %d = %+v, want %s enabled %v id %d", i, got, want.name, want.enabled, want.id)
		}
	}
	if second[3].ID == first[0].ID || second[3].ID == first[1].ID || second[3].ID == first[2].ID {
		t.Errorf("Epic reused id %d", second[3].ID)
	}

	for _, tc := range []struct {
		name   string
		typ    any
		status int
		want   string // the type after
	}{
		{"a name in other case", "task", 201, "Task"},
		{"a value object", map[string]any{"value": "Epic"}, 201, "Epic"},
		{"a disabled type", "Bug", 422, ""},
		{"an undefined type", "Chore", 422, ""},
		{"a number", 3, 422, ""},
		{"null", nil, 201, ""},
		{"a null value", map[string]any{"value": nil}, 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "POST", "/repos/acme/journeys/issues", map[string]any{"title": tc.name, "type": tc.typ})
			if tc.status == 422 {
				expectError(t, r, 422, "type", "invalid", "")
				return
			}
			expectStatus(t, r, tc.status, "create")
			rel := relationsOf(t, s, decode[idOnly](t, r).Number)
			if rel.Type != tc.want {
				t.Errorf("type %q, want %q", rel.Type, tc.want)
			}
		})
	}
	if n := len(s.Issues("acme", "journeys")); n != 4 {
		t.Errorf("%d issues, want the 4 accepted", n)
	}

	// Editing: absent keeps the type, an unknown one is refused and keeps it.
	expectStatus(t, call(t, s, "PATCH", "/repos/acme/journeys/issues/1", map[string]any{"title": "Renamed"}), 200, "edit title")
	expectError(t, call(t, s, "PATCH", "/repos/acme/journeys/issues/1", map[string]any{"type": "Chore", "title": "Not applied"}), 422, "type", "invalid", `"Chore" does not exist`)
	if rel := relationsOf(t, s, 1); rel.Type != "Task" || s.Issues("acme", "journeys")[0].Title != "Renamed" {
		t.Errorf("after edits: type %q, title %q", rel.Type, s.Issues("acme", "journeys")[0].Title)
	}
	issue := decode[struct {
		Type *typeJSON `json:"type"`
	}](t, call(t, s, "GET", "/repos/acme/journeys/issues/1", nil))
	if issue.Type == nil || issue.Type.ID != first[0].ID || issue.Type.Name != "Task" {
		t.Errorf("the issue's type %+v", issue.Type)
	}
	if got := decode[struct {
		Type *typeJSON `json:"type"`
	}](t, call(t, s, "GET", "/repos/acme/journeys/issues/3", nil)); got.Type != nil {
		t.Errorf("an issue without a type renders %+v", got.Type)
	}
}

func TestIssueTypesOfOwners(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "journeys")
	s.AddProject("parks", true, "Board")
	s.AddProject("monalisa", false, "Mine")
	for _, tc := range []struct {
		org    string
		status int
	}{
		{"acme", 200},     // owns a repository, defines no types
		{"parks", 200},    // owns an organisation project
		{"monalisa", 404}, // only a user's project
		{"nobody", 404},
	} {
		r := call(t, s, "GET", "/orgs/"+tc.org+"/issue-types", nil)
		if r.Status != tc.status || (tc.status == 200 && string(r.Body) != "[]") {
			t.Errorf("%s: %d %s, want %d", tc.org, r.Status, r.Body, tc.status)
		}
	}
	// A repository whose owner defines no types refuses every type.
	expectError(t, call(t, s, "POST", "/repos/acme/journeys/issues", map[string]any{"title": "x", "type": "Task"}), 422, "type", "invalid", "")
	// Types belong to their organisation.
	s.SetIssueTypes("parks", "Task")
	expectError(t, call(t, s, "POST", "/repos/acme/journeys/issues", map[string]any{"title": "x", "type": "Task"}), 422, "type", "invalid", "")
}

func TestRelationsOfUnknownIssues(t *testing.T) {
	s := startServer(t, Options{})
	newIssues(t, s, 1)
	for _, tc := range []struct {
		owner, repo string
		number      int
	}{{"acme", "nope", 1}, {"acme", "journeys", 2}} {
		if _, err := s.Relations(tc.owner, tc.repo, tc.number); !errors.Is(err, ErrNotFound) {
			t.Errorf("Relations(%s/%s#%d): %v, want ErrNotFound", tc.owner, tc.repo, tc.number, err)
		}
	}
	for _, path := range []string{"/sub_issues", "/dependencies/blocked_by", "/dependencies/blocking"} {
		expectError(t, call(t, s, "GET", issuePath(2, path), nil), 404, "", "", "Not Found")
	}
}
