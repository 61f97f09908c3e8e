package localgithub

import (
	"fmt"
	"strings"
	"testing"
)

// TestEveryBoardAnswerMatchesTheOpenAPIDescription sends, in order, a
// request to each board operation for organisations and users, with the
// error answers GitHub documents (403, 404, 410, 422) as well as the
// successful ones. The validator in front of the server fails the test on
// any request or answer the description does not allow; each row also
// checks its status and that its operation was the one validated.
func TestEveryBoardAnswerMatchesTheOpenAPIDescription(t *testing.T) {
	s, v := startValidatedServer(t)
	s.AddRepo("acme", "journeys")
	s.SetIssueTypes("acme", "Task", "Feature")
	org := s.AddProject("acme", true, "Board")
	user := s.AddProject("monalisa", false, "Mine")

	// vars fill the {name} placeholders of paths and bodies.
	vars := map[string]string{"org": fmt.Sprint(org), "user": fmt.Sprint(user)}
	for i := 1; i <= 5; i++ {
		is := decode[idOnly](t, call(t, s, "POST", "/repos/acme/journeys/issues", map[string]any{"title": fmt.Sprintf("Issue %d", i), "type": "Task"}))
		vars[fmt.Sprintf("issue%d", i)] = fmt.Sprint(is.ID)
	}
	expand := func(s string) string {
		for k, val := range vars {
			s = strings.ReplaceAll(s, "{"+k+"}", val)
		}
		return s
	}
	saveID := func(name string) func(response) {
		return func(r response) { vars[name] = fmt.Sprint(decode[idOnly](t, r).ID) }
	}
	users := "/users/monalisa/projectsV2/{user}"
	orgs := "/orgs/acme/projectsV2/{org}"
	issue := "/repos/acme/journeys/issues/"

	for _, tc := range []struct {
		method, path, body string
		status             int
		op                 string
		before             func()
		after              func(response)
		header             []string
	}{
		{method: "GET", path: "/users/monalisa/projectsV2", status: 200, op: "projects/list-for-user"},
		{method: "GET", path: users, status: 200, op: "projects/get-for-user"},
		{method: "GET", path: "/users/monalisa/projectsV2/9", status: 404, op: "projects/get-for-user"},
		{method: "POST", path: users + "/fields", body: `{"name":"Size","data_type":"number"}`, status: 201, op: "projects/add-field-for-user", after: saveID("size")},
		{method: "POST", path: users + "/fields", body: `{"name":"size","data_type":"text"}`, status: 422, op: "projects/add-field-for-user"},
		{method: "POST", path: users + "/fields", body: `{"name":"Due","data_type":"date"}`, status: 201, op: "projects/add-field-for-user", after: saveID("due")},
		{method: "POST", path: users + "/fields", body: `{"name":"Phase","data_type":"single_select","single_select_options":[{"name":"Discover","color":"BLUE","description":"first"},{"name":"Improve"}]}`,
			status: 201, op: "projects/add-field-for-user", after: func(r response) {
				f := decode[boardField](t, r)
				vars["phase"], vars["improve"] = fmt.Sprint(f.ID), f.Options[1].ID
			}},
		{method: "GET", path: users + "/fields", status: 200, op: "projects/list-fields-for-user"},
		{method: "GET", path: users + "/fields/{phase}", status: 200, op: "projects/get-field-for-user"},
		{method: "GET", path: users + "/fields/999999", status: 404, op: "projects/get-field-for-user"},
		{method: "POST", path: users + "/items", body: `{"type":"Issue","id":{issue1}}`, status: 201, op: "projects/add-item-for-user", after: saveID("item")},
		{method: "POST", path: users + "/items", body: `{"type":"Issue","owner":"acme","repo":"journeys","number":1}`, status: 201, op: "projects/add-item-for-user"},
		{method: "POST", path: users + "/items", body: `{"type":"Issue","id":{issue2}}`, status: 201, op: "projects/add-item-for-user"},
		{method: "POST", path: users + "/items", body: `{"type":"Issue","id":1}`, status: 404, op: "projects/add-item-for-user"},
		{method: "PATCH", path: users + "/items/{item}", body: `{"fields":[{"id":{size},"value":3},{"id":{due},"value":"2026-05-01"},{"id":{phase},"value":"{improve}"}]}`,
			status: 200, op: "projects/update-item-for-user"},
		{method: "PATCH", path: users + "/items/{item}", body: `{"fields":[{"id":{size},"value":"big"}]}`, status: 422, op: "projects/update-item-for-user"},
		{method: "PATCH", path: users + "/items/999999", body: `{"fields":[]}`, status: 404, op: "projects/update-item-for-user"},
		{method: "GET", path: users + "/items?per_page=1&fields={size},{due},{phase}", status: 200, op: "projects/list-items-for-user"},
		{method: "GET", path: users + "/items?after=c1", status: 200, op: "projects/list-items-for-user"},
		{method: "GET", path: users + "/items/{item}?fields={phase}", status: 200, op: "projects/get-user-item"},
		{method: "GET", path: users + "/items/999999", status: 404, op: "projects/get-user-item"},
		{method: "DELETE", path: users + "/items/{item}", status: 204, op: "projects/delete-item-for-user"},
		{method: "DELETE", path: users + "/items/{item}", status: 404, op: "projects/delete-item-for-user"},

		{method: "GET", path: "/orgs/acme/projectsV2", status: 200, op: "projects/list-for-org"},
		{method: "GET", path: orgs + "/items", status: 200, op: "projects/list-items-for-org"},
		{method: "GET", path: orgs + "/items/{item}", status: 404, op: "projects/get-org-item"},
		{method: "DELETE", path: orgs + "/items/1", status: 404, op: "projects/delete-item-for-org"},
		{method: "GET", path: orgs, status: 403, op: "projects/get-for-org", before: func() { s.DenyProjects(testToken, true) }},
		{method: "GET", path: "/orgs/acme/projectsV2", status: 403, op: "projects/list-for-org"},
		{method: "POST", path: orgs + "/items", body: `{"type":"Issue","id":{issue1}}`, status: 403, op: "projects/add-item-for-org"},
		{method: "GET", path: orgs + "/fields", status: 200, op: "projects/list-fields-for-org", before: func() { s.DenyProjects(testToken, false) }},

		{method: "POST", path: issue + "1/sub_issues", body: `{"sub_issue_id":{issue2}}`, status: 201, op: "issues/add-sub-issue"},
		{method: "POST", path: issue + "1/sub_issues", body: `{"sub_issue_id":{issue3}}`, status: 201, op: "issues/add-sub-issue"},
		{method: "POST", path: issue + "1/sub_issues", body: `{"sub_issue_id":{issue2}}`, status: 422, op: "issues/add-sub-issue"},
		{method: "POST", path: issue + "1/sub_issues", body: `{"sub_issue_id":1}`, status: 404, op: "issues/add-sub-issue"},
		{method: "GET", path: issue + "1/sub_issues?per_page=1", status: 200, op: "issues/list-sub-issues"},
		{method: "GET", path: issue + "99/sub_issues", status: 404, op: "issues/list-sub-issues"},
		{method: "PATCH", path: issue + "1/sub_issues/priority", body: `{"sub_issue_id":{issue2},"after_id":{issue3}}`, status: 200, op: "issues/reprioritize-sub-issue"},
		{method: "DELETE", path: issue + "1/sub_issue", body: `{"sub_issue_id":{issue4}}`, status: 404, op: "issues/remove-sub-issue"},
		{method: "DELETE", path: issue + "1/sub_issue", body: `{"sub_issue_id":{issue3}}`, status: 200, op: "issues/remove-sub-issue"},

		{method: "POST", path: issue + "1/dependencies/blocked_by", body: `{"issue_id":{issue4}}`, status: 201, op: "issues/add-blocked-by-dependency"},
		{method: "POST", path: issue + "1/dependencies/blocked_by", body: `{"issue_id":{issue4}}`, status: 422, op: "issues/add-blocked-by-dependency"},
		{method: "POST", path: issue + "4/dependencies/blocked_by", body: `{"issue_id":{issue1}}`, status: 422, op: "issues/add-blocked-by-dependency"},
		{method: "POST", path: issue + "1/dependencies/blocked_by", body: `{"issue_id":1}`, status: 404, op: "issues/add-blocked-by-dependency"},
		{method: "GET", path: issue + "1/dependencies/blocked_by", status: 200, op: "issues/list-dependencies-blocked-by"},
		{method: "GET", path: issue + "4/dependencies/blocking?per_page=1&page=1", status: 200, op: "issues/list-dependencies-blocking"},
		{method: "GET", path: issue + "99/dependencies/blocking", status: 404, op: "issues/list-dependencies-blocking"},
		{method: "DELETE", path: issue + "1/dependencies/blocked_by/{issue4}", status: 200, op: "issues/remove-dependency-blocked-by"},
		{method: "DELETE", path: issue + "1/dependencies/blocked_by/{issue4}", status: 404, op: "issues/remove-dependency-blocked-by"},

		{method: "GET", path: "/orgs/acme/issue-types", status: 200, op: "orgs/list-issue-types"},
		{method: "GET", path: "/orgs/nobody/issue-types", status: 404, op: "orgs/list-issue-types"},
		{method: "GET", path: issue + "1", status: 200, op: "issues/get", after: func(r response) { vars["etag"] = r.Header.Get("ETag") }},
		{method: "GET", path: issue + "1", status: 304, op: "issues/get", header: []string{"If-None-Match", "{etag}"}},
		{method: "GET", path: issue + "99", status: 404, op: "issues/get"},
		{method: "GET", path: issue + "5", status: 410, op: "issues/get", before: func() {
			if err := s.DeleteIssue("acme", "journeys", 5); err != nil {
				t.Fatal(err)
			}
		}},
		{method: "PATCH", path: issue + "2", body: `{"type":"Feature","state":"closed","state_reason":"not_planned"}`, status: 200, op: "issues/update"},
		{method: "PATCH", path: issue + "2", body: `{"type":"Epic"}`, status: 422, op: "issues/update"},
		{method: "PATCH", path: issue + "2", body: `{"type":null}`, status: 200, op: "issues/update"},
		{method: "PATCH", path: issue + "2", body: `{"state":"open"}`, status: 200, op: "issues/update"},
		{method: "PATCH", path: issue + "99", body: `{"state":"open"}`, status: 404, op: "issues/update"},
	} {
		name := tc.method + " " + tc.path + " " + fmt.Sprint(tc.status)
		if tc.before != nil {
			tc.before()
		}
		wantReqs, wantAnswers := v.Validated(tc.op)
		wantReqs++
		if tc.status != 304 {
			wantAnswers++
		}
		var body any
		if tc.body != "" {
			body = expand(tc.body)
		}
		header := make([]string, len(tc.header))
		for i, h := range tc.header {
			header[i] = expand(h)
		}
		r := call(t, s, tc.method, expand(tc.path), body, header...)
		if r.Status != tc.status {
			t.Errorf("%s: status %d: %s", name, r.Status, r.Body)
			continue
		}
		if reqs, answers := v.Validated(tc.op); reqs != wantReqs || answers != wantAnswers {
			t.Errorf("%s: %s validated %d requests and %d answers, want %d and %d", name, tc.op, reqs, answers, wantReqs, wantAnswers)
		}
		if tc.after != nil {
			tc.after(r)
		}
	}
}
