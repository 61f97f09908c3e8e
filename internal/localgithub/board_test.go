package localgithub

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/openapicheck"
)

// specPath is GitHub's OpenAPI description (a subset), copied into the
// repository with its licence.
const specPath = "../../testdata/github/openapi/api.github.com.subset.json"

// startValidatedServer serves a Server behind an OpenAPI validator that
// checks every request to and answer of the board's endpoints; the test
// fails on any mismatch.
func startValidatedServer(t *testing.T) (*Server, *openapicheck.Validator) {
	t.Helper()
	v, err := openapicheck.New(specPath, openapicheck.BoardPaths)
	if err != nil {
		t.Fatal(err)
	}
	hs, serve := v.Serve(t)
	s := newServer(t, Options{BaseURL: hs.URL})
	serve(s.Handler())
	return s, v
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
	return v
}

func expectStatus(t *testing.T, r response, want int, what string) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, want, r.Body)
	}
}

type idOnly struct {
	ID     int64 `json:"id"`
	Number int   `json:"number"`
}

func TestProjectsAnswerAsTheOpenAPIDescriptionSays(t *testing.T) {
	s, v := startValidatedServer(t)
	s.AddRepo("acme", "journeys")
	n := s.AddProject("acme", true, "Nature park visit")
	base := fmt.Sprintf("/orgs/acme/projectsV2/%d", n)

	expectStatus(t, call(t, s, "GET", "/orgs/acme/projectsV2", nil), 200, "list projects")
	expectStatus(t, call(t, s, "GET", base, nil), 200, "get project")
	expectStatus(t, call(t, s, "GET", "/orgs/acme/projectsV2/9", nil), 404, "missing project")

	phase := decode[struct {
		ID      int64 `json:"id"`
		Options []struct {
			ID   string               `json:"id"`
			Name struct{ Raw string } `json:"name"`
		} `json:"options"`
	}](t, call(t, s, "POST", base+"/fields", map[string]any{"name": "Phase", "data_type": "single_select",
		"single_select_options": []map[string]string{{"name": "Discovery", "color": "BLUE"}, {"name": "Improve", "color": "GREEN"}}}))
	if len(phase.Options) != 2 || phase.Options[1].Name.Raw != "Improve" {
		t.Fatalf("Phase options = %+v", phase.Options)
	}
	impact := decode[idOnly](t, call(t, s, "POST", base+"/fields", map[string]any{"name": "Impact", "data_type": "number"}))
	stage := decode[idOnly](t, call(t, s, "POST", base+"/fields", map[string]any{"name": "Stage", "data_type": "text"}))
	dup := call(t, s, "POST", base+"/fields", map[string]any{"name": "stage", "data_type": "text"})
	expectStatus(t, dup, 422, "a second field named stage")
	expectStatus(t, call(t, s, "GET", fmt.Sprintf("%s/fields/%d", base, impact.ID), nil), 200, "get field")
	fields := decode[[]struct{ Name string }](t, call(t, s, "GET", base+"/fields", nil))
	if len(fields) != 5 {
		t.Errorf("fields = %+v, want Title, Status, Phase, Impact, Stage", fields)
	}

	var issues []idOnly
	for i := range 3 {
		issues = append(issues, decode[idOnly](t, call(t, s, "POST", "/repos/acme/journeys/issues", map[string]any{"title": fmt.Sprintf("Quick win %d", i+1)})))
	}
	first := decode[idOnly](t, call(t, s, "POST", base+"/items", map[string]any{"type": "Issue", "id": issues[0].ID}))
	again := call(t, s, "POST", base+"/items", map[string]any{"type": "Issue", "owner": "acme", "repo": "journeys", "number": issues[0].Number})
	expectStatus(t, again, 201, "adding the same issue again")
	if decode[idOnly](t, again).ID != first.ID {
		t.Error("adding an issue twice made a second item")
	}
	second := decode[idOnly](t, call(t, s, "POST", base+"/items", map[string]any{"type": "Issue", "owner": "acme", "repo": "journeys", "number": issues[1].Number}))
	decode[idOnly](t, call(t, s, "POST", base+"/items", map[string]any{"type": "Issue", "id": issues[2].ID}))

	patch := call(t, s, "PATCH", fmt.Sprintf("%s/items/%d", base, first.ID), map[string]any{"fields": []map[string]any{
		{"id": phase.ID, "value": phase.Options[1].ID}, {"id": impact.ID, "value": 4.5}, {"id": stage.ID, "value": "planning"}}})
	expectStatus(t, patch, 200, "set values")
	expectStatus(t, call(t, s, "PATCH", fmt.Sprintf("%s/items/%d", base, first.ID), map[string]any{"fields": []map[string]any{{"id": phase.ID, "value": "nope"}}}), 422, "unknown option")
	expectStatus(t, call(t, s, "PATCH", fmt.Sprintf("%s/items/%d", base, second.ID), map[string]any{"fields": []map[string]any{{"id": stage.ID, "value": nil}}}), 200, "clear a value")
	one := call(t, s, "GET", fmt.Sprintf("%s/items/%d?fields=%d,%d,%d", base, first.ID, phase.ID, impact.ID, stage.ID), nil)
	expectStatus(t, one, 200, "get item")
	if !strings.Contains(string(one.Body), `"raw":"Improve"`) || !strings.Contains(string(one.Body), `"value":4.5`) || !strings.Contains(string(one.Body), `"value":"planning"`) {
		t.Errorf("item values missing: %s", one.Body)
	}
	items, _ := s.ProjectItems("acme", true, n)
	if got := items[0].Values; got["Phase"] != "Improve" || got["Impact"] != "4.5" || got["Stage"] != "planning" {
		t.Errorf("stored values = %v", got)
	}

	// Cursor pages: two items, then the third behind Link rel="next".
	page := call(t, s, "GET", base+"/items?per_page=2", nil)
	expectStatus(t, page, 200, "first page")
	link := page.Header.Get("Link")
	if len(decode[[]idOnly](t, page)) != 2 || !strings.Contains(link, `rel="next"`) {
		t.Fatalf("first page: %d items, Link %q", len(decode[[]idOnly](t, page)), link)
	}
	next := link[strings.Index(link, "<")+1 : strings.Index(link, ">")]
	rest := call(t, s, "GET", strings.TrimPrefix(next, strings.TrimSuffix(s.URL(), "/")), nil)
	if got := decode[[]idOnly](t, rest); len(got) != 1 || rest.Header.Get("Link") != "" {
		t.Errorf("second page = %+v, Link %q", got, rest.Header.Get("Link"))
	}

	expectStatus(t, call(t, s, "DELETE", fmt.Sprintf("%s/items/%d", base, second.ID), nil), 204, "delete item")
	expectStatus(t, call(t, s, "GET", fmt.Sprintf("%s/items/%d", base, second.ID), nil), 404, "deleted item")

	// A user's project, and a token without project access.
	un := s.AddProject("monalisa", false, "Mine")
	expectStatus(t, call(t, s, "GET", fmt.Sprintf("/users/monalisa/projectsV2/%d", un), nil), 200, "user project")
	expectStatus(t, call(t, s, "GET", fmt.Sprintf("/orgs/monalisa/projectsV2/%d", un), nil), 404, "a user's project under /orgs")
	s.DenyProjects(testToken, true)
	expectStatus(t, call(t, s, "GET", base, nil), 403, "project without permission")
	expectStatus(t, call(t, s, "GET", base+"/fields", nil), 403, "fields without permission")

	for _, op := range []string{"projects/list-for-org", "projects/get-for-org", "projects/add-field-for-org", "projects/get-field-for-org",
		"projects/list-fields-for-org", "projects/add-item-for-org", "projects/update-item-for-org", "projects/get-org-item",
		"projects/list-items-for-org", "projects/delete-item-for-org", "projects/get-for-user"} {
		if reqs, answers := v.Validated(op); reqs == 0 || answers == 0 {
			t.Errorf("%s: %d requests, %d answers validated", op, reqs, answers)
		}
	}
}

func TestSubIssuesDependenciesAndTypesAnswerAsTheOpenAPIDescriptionSays(t *testing.T) {
	s, v := startValidatedServer(t)
	s.AddRepo("acme", "journeys")
	s.SetIssueTypes("acme", "Task", "Feature")
	var is []idOnly
	for i := range 4 {
		is = append(is, decode[idOnly](t, call(t, s, "POST", "/repos/acme/journeys/issues", map[string]any{"title": fmt.Sprintf("Issue %d", i+1), "type": "Task"})))
	}
	parent, a, b, earlier := is[0], is[1], is[2], is[3]
	subs := fmt.Sprintf("/repos/acme/journeys/issues/%d/sub_issues", parent.Number)
	expectStatus(t, call(t, s, "POST", subs, map[string]any{"sub_issue_id": a.ID}), 201, "add sub-issue")
	expectStatus(t, call(t, s, "POST", subs, map[string]any{"sub_issue_id": b.ID}), 201, "add sub-issue")
	expectStatus(t, call(t, s, "POST", subs, map[string]any{"sub_issue_id": a.ID}), 422, "the same sub-issue again")
	expectStatus(t, call(t, s, "POST", fmt.Sprintf("/repos/acme/journeys/issues/%d/sub_issues", earlier.Number), map[string]any{"sub_issue_id": a.ID}), 422, "a second parent")
	expectStatus(t, call(t, s, "PATCH", subs+"/priority", map[string]any{"sub_issue_id": b.ID, "before_id": a.ID}), 200, "reprioritise")
	order := decode[[]idOnly](t, call(t, s, "GET", subs, nil))
	if len(order) != 2 || order[0].ID != b.ID || order[1].ID != a.ID {
		t.Errorf("sub-issues after reprioritising = %+v, want b then a", order)
	}
	if err := s.CloseIssue("acme", "journeys", a.Number, ""); err != nil {
		t.Fatal(err)
	}
	p := decode[struct {
		Summary struct {
			Total, Completed int
			Percent          int `json:"percent_completed"`
		} `json:"sub_issues_summary"`
		Type struct{ Name string } `json:"type"`
	}](t, call(t, s, "GET", fmt.Sprintf("/repos/acme/journeys/issues/%d", parent.Number), nil))
	if p.Summary.Total != 2 || p.Summary.Completed != 1 || p.Summary.Percent != 50 || p.Type.Name != "Task" {
		t.Errorf("parent = %+v; want 1 of 2 sub-issues done, type Task", p)
	}
	child := call(t, s, "GET", fmt.Sprintf("/repos/acme/journeys/issues/%d", b.Number), nil)
	if !strings.Contains(string(child.Body), fmt.Sprintf(`"parent_issue_url":"%srepos/acme/journeys/issues/%d"`, s.URL(), parent.Number)) {
		t.Errorf("sub-issue lacks its parent_issue_url: %s", child.Body)
	}
	expectStatus(t, call(t, s, "DELETE", fmt.Sprintf("/repos/acme/journeys/issues/%d/sub_issue", parent.Number), map[string]any{"sub_issue_id": b.ID}), 200, "remove sub-issue")
	if rel, _ := s.Relations("acme", "journeys", parent.Number); !slices.Equal(rel.SubIssues, []int{a.Number}) {
		t.Errorf("sub-issues after removal = %v", rel.SubIssues)
	}

	deps := fmt.Sprintf("/repos/acme/journeys/issues/%d/dependencies", parent.Number)
	expectStatus(t, call(t, s, "POST", deps+"/blocked_by", map[string]any{"issue_id": earlier.ID}), 201, "add blocked-by")
	expectStatus(t, call(t, s, "POST", deps+"/blocked_by", map[string]any{"issue_id": earlier.ID}), 422, "the same dependency again")
	if got := decode[[]idOnly](t, call(t, s, "GET", deps+"/blocked_by", nil)); len(got) != 1 || got[0].ID != earlier.ID {
		t.Errorf("blocked by = %+v", got)
	}
	blocking := decode[[]idOnly](t, call(t, s, "GET", fmt.Sprintf("/repos/acme/journeys/issues/%d/dependencies/blocking", earlier.Number), nil))
	if len(blocking) != 1 || blocking[0].ID != parent.ID {
		t.Errorf("blocking = %+v", blocking)
	}
	summary := decode[struct {
		Deps struct {
			BlockedBy int `json:"blocked_by"`
			Total     int `json:"total_blocked_by"`
		} `json:"issue_dependencies_summary"`
	}](t, call(t, s, "GET", fmt.Sprintf("/repos/acme/journeys/issues/%d", parent.Number), nil))
	if summary.Deps.BlockedBy != 1 || summary.Deps.Total != 1 {
		t.Errorf("dependencies summary = %+v", summary.Deps)
	}
	expectStatus(t, call(t, s, "DELETE", fmt.Sprintf("%s/blocked_by/%d", deps, earlier.ID), nil), 200, "remove blocked-by")

	types := decode[[]struct{ Name string }](t, call(t, s, "GET", "/orgs/acme/issue-types", nil))
	if len(types) != 2 || types[1].Name != "Feature" {
		t.Errorf("issue types = %+v", types)
	}
	expectStatus(t, call(t, s, "GET", "/orgs/nobody/issue-types", nil), 404, "unknown organisation")
	expectStatus(t, call(t, s, "PATCH", fmt.Sprintf("/repos/acme/journeys/issues/%d", a.Number), map[string]any{"type": map[string]any{"value": "Feature"}}), 200, "set a type")
	expectStatus(t, call(t, s, "PATCH", fmt.Sprintf("/repos/acme/journeys/issues/%d", a.Number), map[string]any{"type": "Epic"}), 422, "an undefined type")
	if rel, _ := s.Relations("acme", "journeys", a.Number); rel.Type != "Feature" {
		t.Errorf("type = %q", rel.Type)
	}
	expectStatus(t, call(t, s, "PATCH", fmt.Sprintf("/repos/acme/journeys/issues/%d", a.Number), map[string]any{"type": nil}), 200, "clear the type")
	if rel, _ := s.Relations("acme", "journeys", a.Number); rel.Type != "" {
		t.Errorf("type after clearing = %q", rel.Type)
	}

	for _, op := range []string{"issues/add-sub-issue", "issues/list-sub-issues", "issues/reprioritize-sub-issue", "issues/remove-sub-issue",
		"issues/add-blocked-by-dependency", "issues/list-dependencies-blocked-by", "issues/list-dependencies-blocking",
		"issues/remove-dependency-blocked-by", "orgs/list-issue-types", "issues/get", "issues/update"} {
		if reqs, answers := v.Validated(op); reqs == 0 || answers == 0 {
			t.Errorf("%s: %d requests, %d answers validated", op, reqs, answers)
		}
	}
}

func TestBoardSurvivesARestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "github.json")
	s, err := New(Options{DataFile: file})
	if err != nil {
		t.Fatal(err)
	}
	s.AddRepo("acme", "journeys")
	s.SetIssueTypes("acme", "Task")
	n := s.AddProject("acme", true, "Board")
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	s.AddToken(testToken)
	parent := decode[idOnly](t, call(t, s, "POST", "/repos/acme/journeys/issues", map[string]any{"title": "Improve", "type": "Task"}))
	child := decode[idOnly](t, call(t, s, "POST", "/repos/acme/journeys/issues", map[string]any{"title": "Signs"}))
	call(t, s, "POST", fmt.Sprintf("/repos/acme/journeys/issues/%d/sub_issues", parent.Number), map[string]any{"sub_issue_id": child.ID})
	call(t, s, "POST", fmt.Sprintf("/orgs/acme/projectsV2/%d/items", n), map[string]any{"type": "Issue", "id": child.ID})
	if err := s.SetProjectItemValue("acme", true, n, "acme/journeys", child.Number, "Status", "Done"); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()

	again, err := New(Options{DataFile: file})
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := again.Relations("acme", "journeys", parent.Number)
	items, _ := again.ProjectItems("acme", true, n)
	if !slices.Equal(rel.SubIssues, []int{child.Number}) || rel.Type != "Task" || len(items) != 1 || items[0].Values["Status"] != "Done" {
		t.Errorf("after a restart: relations %+v, items %+v", rel, items)
	}
	if again.AddProject("acme", true, "Board") != n {
		t.Error("adding the board again after a restart made another")
	}
}
