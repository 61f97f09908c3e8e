package localgithub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	clocktesting "k8s.io/utils/clock/testing"
)

// newShop starts a server on a clock that stands still, with the
// repository acme/shop and a go-github client.
func newShop(t *testing.T) (*Server, *clocktesting.FakeClock, *github.Client, context.Context) {
	t.Helper()
	clock := newFakeClock()
	s := startServer(t, Options{Now: clock.Now})
	s.AddRepo("acme", "shop")
	return s, clock, newClient(t, s, testToken), context.Background()
}

// ghStatus is the status and message of a go-github error.
func ghStatus(t *testing.T, err error) (int, *github.ErrorResponse) {
	t.Helper()
	var e *github.ErrorResponse
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v, want *github.ErrorResponse", err, err)
	}
	return e.Response.StatusCode, e
}

func TestCreateIssueValidation(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	long := func(n int, r string) string { return strings.Repeat(r, n) }
	for _, tc := range []struct {
		name   string
		body   any
		status int
		fields []string // the fields of a 422's errors, in order
	}{
		{"title of 256 characters of two bytes", map[string]any{"title": long(maxTitleLength, "é")}, 201, nil},
		{"title of 257 characters", map[string]any{"title": long(maxTitleLength+1, "é")}, 422, []string{"title"}},
		{"white-space title", map[string]any{"title": " \t\n"}, 422, []string{"title"}},
		{"no title", map[string]any{"body": "x"}, 422, []string{"title"}},
		{"null title", `{"title": null}`, 422, []string{"title"}},
		{"body at the limit", map[string]any{"title": "t", "body": long(maxBodyLength, "ü")}, 201, nil},
		{"body past the limit", map[string]any{"title": "t", "body": long(maxBodyLength+1, "a")}, 422, []string{"body"}},
		{"state merged", map[string]any{"title": "t", "state": "merged"}, 422, []string{"state"}},
		{"state reason done", map[string]any{"title": "t", "state_reason": "done"}, 422, []string{"state_reason"}},
		{"every error at once", map[string]any{"title": "", "body": long(maxBodyLength+1, "a"), "state": "x", "state_reason": "y"}, 422,
			[]string{"title", "body", "state", "state_reason"}},
		{"labels not a list", `{"title": "t", "labels": "bug"}`, 400, nil},
		{"labels of numbers", `{"title": "t", "labels": [1]}`, 400, nil},
		{"title a number", `{"title": 5}`, 400, nil},
		{"truncated JSON", `{"title": "t"`, 400, nil},
		{"trailing garbage", `{"title": "t"} x`, 400, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.Issues("acme", "shop"))
			r := call(t, s, "POST", "/repos/acme/shop/issues", tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.Status, tc.status, r.Body)
			}
			after := len(s.Issues("acme", "shop"))
			if created := after - before; (tc.status == 201) != (created == 1) || created > 1 {
				t.Errorf("%d issues created", created)
			}
			if tc.status == 400 && decode[apiErrorBody](t, r).Message != "Problems parsing JSON" {
				t.Errorf("400 message %s", r.Body)
			}
			if tc.status != 422 {
				return
			}
			var fields []string
			for _, e := range decode[apiErrorBody](t, r).Errors {
				fields = append(fields, e.Field)
				if e.Resource != "Issue" {
					t.Errorf("error resource %q", e.Resource)
				}
			}
			if !slices.Equal(fields, tc.fields) {
				t.Errorf("422 fields %v, want %v", fields, tc.fields)
			}
		})
	}
}

func TestOversizedRequestBodyIsRefused(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	// A valid JSON document past the 10 MiB read limit is cut and so
	// malformed: it is refused without creating anything.
	huge := `{"title": "t", "body": "` + strings.Repeat("a", 10<<20) + `"}`
	expectError(t, call(t, s, "POST", "/repos/acme/shop/issues", huge), 400, "", "", "Problems parsing JSON")
	if n := len(s.Issues("acme", "shop")); n != 0 {
		t.Errorf("%d issues after an oversized request", n)
	}
	// Leading and trailing white space is no problem.
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", "\n\t {\"title\": \"t\"}  \n"), 201, "padded JSON")
}

func TestEditIssueStateAndReasons(t *testing.T) {
	s, clock, client, ctx := newShop(t)
	if _, _, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("t"), Body: github.String("")}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := client.Issues.Get(ctx, "acme", "shop", 1); got.Body != nil {
		t.Errorf("an empty body is %q, want null", got.GetBody())
	}
	prev := "open"
	for _, tc := range []struct {
		name       string
		req        *github.IssueRequest
		state      string
		reason     string
		wantClosed bool
	}{
		{"close without a reason is completed", &github.IssueRequest{State: github.String("closed")}, "closed", "completed", true},
		{"a reason alone changes a closed issue's reason", &github.IssueRequest{StateReason: github.String("not_planned")}, "closed", "not_planned", true},
		{"reopen", &github.IssueRequest{State: github.String("open")}, "open", "reopened", false},
		{"a reason alone leaves an open issue", &github.IssueRequest{StateReason: github.String("not_planned")}, "open", "reopened", false},
		{"closing as reopened is completed", &github.IssueRequest{State: github.String("closed"), StateReason: github.String("reopened")}, "closed", "completed", true},
		{"reopened as a reason keeps a closed issue's reason", &github.IssueRequest{StateReason: github.String("reopened")}, "closed", "completed", true},
		{"reopen again", &github.IssueRequest{State: github.String("open"), StateReason: github.String("not_planned")}, "open", "reopened", false},
		{"close as not planned", &github.IssueRequest{State: github.String("closed"), StateReason: github.String("not_planned")}, "closed", "not_planned", true},
	} {
		clock.Step(time.Minute)
		got, _, err := client.Issues.Edit(ctx, "acme", "shop", 1, tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.GetState() != tc.state || got.GetStateReason() != tc.reason || (got.ClosedAt != nil) != tc.wantClosed || (got.ClosedBy != nil) != tc.wantClosed {
			t.Errorf("%s: state %q reason %q closed_at %v closed_by %v", tc.name, got.GetState(), got.GetStateReason(), got.ClosedAt, got.ClosedBy)
		}
		// Closing stamps closed_at now; a closed issue's new reason keeps it.
		if prev == "open" && tc.wantClosed && !got.GetClosedAt().Time.Equal(clock.Now()) {
			t.Errorf("%s: closed_at %v, want now %v", tc.name, got.ClosedAt, clock.Now())
		}
		if prev == "closed" && tc.wantClosed && got.GetClosedAt().Time.Equal(clock.Now()) {
			t.Errorf("%s: closed_at moved to now", tc.name)
		}
		prev = got.GetState()
	}

	// A PATCH that changes nothing leaves updated_at alone.
	before := s.Issues("acme", "shop")[0].UpdatedAt
	clock.Step(time.Hour)
	if _, _, err := client.Issues.Edit(ctx, "acme", "shop", 1, &github.IssueRequest{Title: github.String("t"), State: github.String("closed")}); err != nil {
		t.Fatal(err)
	}
	if after := s.Issues("acme", "shop")[0].UpdatedAt; !after.Equal(before) {
		t.Errorf("a no-op edit moved updated_at from %v to %v", before, after)
	}
	// Refused edits change nothing.
	_, _, err := client.Issues.Edit(ctx, "acme", "shop", 1, &github.IssueRequest{Title: github.String("new"), State: github.String("merged")})
	if code, _ := ghStatus(t, err); code != http.StatusUnprocessableEntity {
		t.Errorf("invalid state: %d", code)
	}
	_, _, err = client.Issues.Edit(ctx, "acme", "shop", 1, &github.IssueRequest{Title: github.String("")})
	if code, _ := ghStatus(t, err); code != http.StatusUnprocessableEntity {
		t.Errorf("empty title: %d", code)
	}
	if is := s.Issues("acme", "shop")[0]; is.Title != "t" || is.State != "closed" {
		t.Errorf("after refused edits %+v", is)
	}
	// The body can be emptied back to null.
	call(t, s, "PATCH", "/repos/acme/shop/issues/1", map[string]any{"body": "some"})
	if got := decode[map[string]any](t, call(t, s, "PATCH", "/repos/acme/shop/issues/1", map[string]any{"body": ""})); got["body"] != nil {
		t.Errorf("emptied body %v, want null", got["body"])
	}
}

func TestAssignees(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	for _, tc := range []struct {
		name   string
		create map[string]any
		edit   map[string]any
		want   []string
	}{
		{"duplicates in any case are merged", map[string]any{"assignees": []string{"hubot", "HUBOT", "", "monalisa"}}, nil, []string{"hubot", "monalisa"}},
		{"assignee alone", map[string]any{"assignee": "hubot"}, nil, []string{"hubot"}},
		{"assignees win over assignee", map[string]any{"assignee": "hubot", "assignees": []string{"monalisa"}}, nil, []string{"monalisa"}},
		{"empty assignee", map[string]any{"assignee": ""}, nil, []string{}},
		{"edit without assignees keeps them", map[string]any{"assignees": []string{"hubot"}}, map[string]any{"title": "x"}, []string{"hubot"}},
		{"edit with an empty list clears them", map[string]any{"assignees": []string{"hubot"}}, map[string]any{"assignees": []string{}}, []string{}},
		{"edit with an empty assignee clears them", map[string]any{"assignees": []string{"hubot"}}, map[string]any{"assignee": ""}, []string{}},
		{"edit replaces them", map[string]any{"assignees": []string{"hubot"}}, map[string]any{"assignees": []string{"monalisa", "octocat"}}, []string{"monalisa", "octocat"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"title": tc.name}
			for k, v := range tc.create {
				body[k] = v
			}
			r := call(t, s, "POST", "/repos/acme/shop/issues", body)
			expectStatus(t, r, 201, "create")
			number := decode[idOnly](t, r).Number
			if tc.edit != nil {
				r = call(t, s, "PATCH", fmt.Sprintf("/repos/acme/shop/issues/%d", number), tc.edit)
				expectStatus(t, r, 200, "edit")
			}
			got := decode[struct {
				Assignee  *struct{ Login string }  `json:"assignee"`
				Assignees []struct{ Login string } `json:"assignees"`
			}](t, r)
			logins := []string{}
			for _, a := range got.Assignees {
				logins = append(logins, a.Login)
			}
			if !slices.Equal(logins, tc.want) {
				t.Errorf("assignees %v, want %v", logins, tc.want)
			}
			if (got.Assignee == nil) != (len(tc.want) == 0) || (got.Assignee != nil && got.Assignee.Login != tc.want[0]) {
				t.Errorf("assignee %+v, want the first of %v", got.Assignee, tc.want)
			}
		})
	}
}

func TestListIssueFilters(t *testing.T) {
	s, clock, client, ctx := newShop(t)
	for i, assignees := range [][]string{{"hubot"}, nil, {"Monalisa", "hubot"}, nil} {
		clock.Step(time.Minute)
		if _, _, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String(fmt.Sprint("issue ", i+1)), Assignees: &assignees}); err != nil {
			t.Fatal(err)
		}
	}
	// #2 gets two comments, #4 one; #3 is written by a person.
	for _, n := range []int{2, 2, 4} {
		if err := s.Comment("acme", "shop", n, "note"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		query string
		want  []int
	}{
		{"assignee=*", []int{3, 1}},
		{"assignee=none", []int{4, 2}},
		{"assignee=monalisa", []int{3}},
		{"assignee=HUBOT", []int{3, 1}},
		{"assignee=nobody", nil},
		{"creator=octocat", []int{4, 3, 2, 1}},
		{"creator=monalisa", nil},
		{"sort=comments", []int{2, 4, 3, 1}},
		{"sort=comments&direction=asc", []int{1, 3, 4, 2}},
		{"sort=created&direction=asc", []int{1, 2, 3, 4}},
		{"sort=bogus", []int{4, 3, 2, 1}},
		{"direction=sideways", []int{4, 3, 2, 1}},
		{"since=not-a-time", []int{4, 3, 2, 1}},
		{"since=2030-01-01T00:00:00Z", nil},
		{"labels=,%20,", []int{4, 3, 2, 1}},
		{"state=all&assignee=none&sort=comments", []int{2, 4}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := call(t, s, "GET", "/repos/acme/shop/issues?"+tc.query, nil)
			expectStatus(t, r, 200, tc.query)
			var got []int
			for _, is := range decode[[]idOnly](t, r) {
				got = append(got, is.Number)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("numbers %v, want %v", got, tc.want)
			}
		})
	}
	expectError(t, call(t, s, "GET", "/repos/acme/shop/issues?state=merged", nil), 422, "state", "invalid", "")
	if r := call(t, s, "GET", "/repositories/999/issues", nil); r.Status != 404 {
		t.Errorf("an unknown repository id: %d", r.Status)
	}
	if r := call(t, s, "GET", "/repositories/abc/issues", nil); r.Status != 404 {
		t.Errorf("a repository id that is not a number: %d", r.Status)
	}
}

func TestLinkHeaderRels(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	for i := range 5 {
		expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": fmt.Sprint(i)}), 201, "create")
	}
	for _, tc := range []struct {
		query string
		items int
		rels  map[string]string // rel: page
	}{
		{"per_page=2", 2, map[string]string{"next": "2", "last": "3"}},
		{"per_page=2&page=2", 2, map[string]string{"prev": "1", "next": "3", "last": "3", "first": "1"}},
		{"per_page=2&page=3", 1, map[string]string{"prev": "2", "first": "1"}},
		{"per_page=2&page=9", 0, map[string]string{"prev": "3", "first": "1"}},
		{"per_page=5", 5, map[string]string{}},
		{"per_page=5&page=2", 0, map[string]string{"prev": "1", "first": "1"}},
		{"page=0&per_page=4", 4, map[string]string{"next": "2", "last": "2"}},
		{"page=x&per_page=4", 4, map[string]string{"next": "2", "last": "2"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := call(t, s, "GET", "/repos/acme/shop/issues?state=all&"+tc.query, nil)
			expectStatus(t, r, 200, tc.query)
			if n := len(decode[[]idOnly](t, r)); n != tc.items {
				t.Errorf("%d items, want %d", n, tc.items)
			}
			rels := parseLink(t, r.Header.Get("Link"))
			if len(rels) != len(tc.rels) {
				t.Errorf("Link %q, want rels %v", r.Header.Get("Link"), tc.rels)
			}
			for rel, page := range tc.rels {
				q := rels[rel]
				if q == nil || q.Get("page") != page || q.Get("state") != "all" || q["page"] == nil || len(q["page"]) != 1 ||
					q.Get("_path") != "/repositories/ID/issues" {
					t.Errorf("rel %s = %v, want page %s with the other parameters kept", rel, q, page)
				}
			}
		})
	}
}

func TestComments(t *testing.T) {
	clock := newFakeClock()
	s := startServer(t, Options{Now: clock.Now})
	s.AddRepo("acme", "shop")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t"}), 201, "create")
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"no body", map[string]any{}, 422, "missing_field"},
		{"white-space body", map[string]any{"body": "  \n"}, 422, "missing_field"},
		{"body past the limit", map[string]any{"body": strings.Repeat("x", maxBodyLength+1)}, 422, "custom"},
		{"body a number", `{"body": 1}`, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, call(t, s, "POST", "/repos/acme/shop/issues/1/comments", tc.body), tc.status, "body", tc.code, "")
		})
	}
	expectError(t, call(t, s, "POST", "/repos/acme/shop/issues/2/comments", map[string]any{"body": "x"}), 404, "", "", "Not Found")
	if got := s.Issues("acme", "shop")[0].Comments; len(got) != 0 {
		t.Fatalf("refused comments stored: %v", got)
	}

	var times []time.Time
	for i := range 4 {
		clock.Step(time.Minute)
		times = append(times, clock.Now())
		r := call(t, s, "POST", "/repos/acme/shop/issues/1/comments", map[string]any{"body": fmt.Sprint("comment ", i+1)})
		expectStatus(t, r, 201, "comment")
		c := decode[struct {
			ID       int64  `json:"id"`
			URL      string `json:"url"`
			IssueURL string `json:"issue_url"`
		}](t, r)
		if r.Header.Get("Location") != c.URL || c.URL != fmt.Sprintf("%srepos/acme/shop/issues/comments/%d", s.URL(), c.ID) ||
			c.IssueURL != s.URL()+"repos/acme/shop/issues/1" {
			t.Errorf("Location %q, url %q, issue_url %q", r.Header.Get("Location"), c.URL, c.IssueURL)
		}
	}
	if is := s.Issues("acme", "shop")[0]; !is.UpdatedAt.Equal(times[3]) {
		t.Errorf("a comment did not touch the issue: updated_at %v", is.UpdatedAt)
	}
	bodies := func(query string) []string {
		t.Helper()
		var out []string
		for _, c := range decode[[]struct{ Body string }](t, call(t, s, "GET", "/repos/acme/shop/issues/1/comments"+query, nil)) {
			out = append(out, c.Body)
		}
		return out
	}
	for query, want := range map[string][]string{
		"": {"comment 1", "comment 2", "comment 3", "comment 4"},
		"?since=" + times[2].Format(time.RFC3339): {"comment 3", "comment 4"},
		"?since=garbage":     {"comment 1", "comment 2", "comment 3", "comment 4"},
		"?per_page=3&page=2": {"comment 4"},
		"?per_page=1&page=4": {"comment 4"},
		"?per_page=1&page=5": nil,
	} {
		if got := bodies(query); !slices.Equal(got, want) {
			t.Errorf("comments%s = %v, want %v", query, got, want)
		}
	}
	r := call(t, s, "GET", "/repos/acme/shop/issues/1/comments?per_page=3", nil)
	if rels := parseLink(t, r.Header.Get("Link")); rels["next"].Get("_path") != "/repositories/ID/issues/1/comments" || rels["last"].Get("page") != "2" {
		t.Errorf("comments Link %q", r.Header.Get("Link"))
	}
}

func TestLockReasons(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t"}), 201, "create")
	type lockState struct {
		Locked bool    `json:"locked"`
		Reason *string `json:"active_lock_reason"`
	}
	state := func() lockState {
		return decode[lockState](t, call(t, s, "GET", "/repos/acme/shop/issues/1", nil))
	}
	for _, tc := range []struct {
		body   any
		status int
		reason string // "" for null
	}{
		{map[string]any{"lock_reason": "too heated"}, 204, "too heated"},
		{map[string]any{"lock_reason": "spam"}, 204, "spam"},
		{map[string]any{"lock_reason": "rude"}, 422, "spam"},
		{map[string]any{"lock_reason": "Spam"}, 422, "spam"},
		{`{"lock_reason": 1}`, 400, "spam"},
		{map[string]any{}, 204, ""},
	} {
		r := call(t, s, "PUT", "/repos/acme/shop/issues/1/lock", tc.body)
		if r.Status != tc.status {
			t.Errorf("lock %v: %d, want %d", tc.body, r.Status, tc.status)
		}
		got := state()
		if !got.Locked || (tc.reason == "") != (got.Reason == nil) || (got.Reason != nil && *got.Reason != tc.reason) {
			t.Errorf("after lock %v: %+v, want locked with reason %q", tc.body, got, tc.reason)
		}
	}
	// Without a JSON content type the body is not read.
	expectStatus(t, call(t, s, "PUT", "/repos/acme/shop/issues/1/lock", `{"lock_reason": "rude"}`, "Content-Type", "application/x-www-form-urlencoded"), 204, "form body")
	for range 2 {
		r := call(t, s, "DELETE", "/repos/acme/shop/issues/1/lock", nil)
		if r.Status != 204 || len(r.Body) != 0 {
			t.Errorf("unlock: %d %q", r.Status, r.Body)
		}
		if got := state(); got.Locked || got.Reason != nil {
			t.Errorf("after unlock %+v", got)
		}
	}
	expectError(t, call(t, s, "PUT", "/repos/acme/shop/issues/9/lock", nil), 404, "", "", "Not Found")
}

func TestLabelValidation(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/labels", map[string]any{"name": "cx", "color": "00FF00", "description": "journeys"}), 201, "create cx")
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		status int
		fields []string
		codes  []string
	}{
		{"no name", "POST", "/repos/acme/shop/labels", map[string]any{"color": "ffffff"}, 422, []string{"name"}, []string{"missing_field"}},
		{"a taken name in other case", "POST", "/repos/acme/shop/labels", map[string]any{"name": "CX"}, 422, []string{"name"}, []string{"already_exists"}},
		{"a default label", "POST", "/repos/acme/shop/labels", map[string]any{"name": "Bug"}, 422, []string{"name"}, []string{"already_exists"}},
		{"a colour with a hash", "POST", "/repos/acme/shop/labels", map[string]any{"name": "x", "color": "#ffffff"}, 422, []string{"color"}, []string{"invalid"}},
		{"a short colour", "POST", "/repos/acme/shop/labels", map[string]any{"name": "x", "color": "fff"}, 422, []string{"color"}, []string{"invalid"}},
		{"a colour not hex", "POST", "/repos/acme/shop/labels", map[string]any{"name": "x", "color": "gggggg"}, 422, []string{"color"}, []string{"invalid"}},
		{"two errors", "POST", "/repos/acme/shop/labels", map[string]any{"name": "", "color": "red"}, 422, []string{"name", "color"}, []string{"missing_field", "invalid"}},
		{"rename to a taken name", "PATCH", "/repos/acme/shop/labels/cx", map[string]any{"new_name": "bug"}, 422, []string{"name"}, []string{"already_exists"}},
		{"rename to blank", "PATCH", "/repos/acme/shop/labels/cx", map[string]any{"new_name": " "}, 422, []string{"name"}, []string{"missing_field"}},
		{"edit to a bad colour", "PATCH", "/repos/acme/shop/labels/cx", map[string]any{"color": "zzzzzz"}, 422, []string{"color"}, []string{"invalid"}},
		{"edit an unknown label", "PATCH", "/repos/acme/shop/labels/nope", map[string]any{"color": "ffffff"}, 404, nil, nil},
		{"delete an unknown label", "DELETE", "/repos/acme/shop/labels/nope", nil, 404, nil, nil},
		{"a label of an unknown repository", "POST", "/repos/acme/nope/labels", map[string]any{"name": "x"}, 404, nil, nil},
		{"malformed JSON", "POST", "/repos/acme/shop/labels", `{"name":`, 400, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, tc.path, tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			var fields, codes []string
			for _, e := range decode[apiErrorBody](t, r).Errors {
				fields, codes = append(fields, e.Field), append(codes, e.Code)
			}
			if !slices.Equal(fields, tc.fields) || !slices.Equal(codes, tc.codes) {
				t.Errorf("errors on %v with codes %v, want %v %v", fields, codes, tc.fields, tc.codes)
			}
		})
	}
	got := decode[struct {
		Name        string  `json:"name"`
		Color       string  `json:"color"`
		Description *string `json:"description"`
	}](t, call(t, s, "GET", "/repos/acme/shop/labels/CX", nil))
	if got.Name != "cx" || got.Color != "00FF00" || got.Description == nil || *got.Description != "journeys" {
		t.Errorf("cx after refusals: %+v", got)
	}
}

func TestEditAndDeleteLabels(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t", "labels": []string{"cx", "bug"}}), 201, "create")

	// new_name wins over name; an empty description becomes null; the
	// issue shows the label by its new name.
	r := call(t, s, "PATCH", "/repos/acme/shop/labels/cx", map[string]any{"new_name": "cx journey", "name": "ignored", "color": "abcdef", "description": ""})
	expectStatus(t, r, 200, "rename")
	if got := decode[map[string]any](t, r); got["name"] != "cx journey" || got["color"] != "abcdef" || got["description"] != nil ||
		got["url"] != s.URL()+"repos/acme/shop/labels/cx%20journey" {
		t.Errorf("renamed label %v", got)
	}
	if is := s.Issues("acme", "shop")[0]; !slices.Equal(is.Labels, []string{"cx journey", "bug"}) {
		t.Errorf("issue labels %v", is.Labels)
	}
	expectStatus(t, call(t, s, "GET", "/repos/acme/shop/labels/cx", nil), 404, "the old name")
	// Renaming to its own name in other case is allowed.
	expectStatus(t, call(t, s, "PATCH", "/repos/acme/shop/labels/cx%20journey", map[string]any{"name": "CX Journey"}), 200, "recase")

	r = call(t, s, "DELETE", "/repos/acme/shop/labels/cx%20journey", nil)
	if r.Status != 204 || len(r.Body) != 0 {
		t.Errorf("delete: %d %q", r.Status, r.Body)
	}
	if is := s.Issues("acme", "shop")[0]; !slices.Equal(is.Labels, []string{"bug"}) {
		t.Errorf("issue labels after deleting the label %v", is.Labels)
	}
	var names []string
	for _, l := range decode[[]struct{ Name string }](t, call(t, s, "GET", "/repos/acme/shop/labels?per_page=100", nil)) {
		names = append(names, l.Name)
	}
	if slices.Contains(names, "CX Journey") || !slices.Contains(names, "bug") {
		t.Errorf("labels after delete %v", names)
	}
}

func TestIssueLabelEndpoints(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t", "labels": []any{"bug", map[string]string{"name": "cx"}, "BUG"}}), 201, "create")
	labels := func() []string { return s.Issues("acme", "shop")[0].Labels }
	if got := labels(); !slices.Equal(got, []string{"bug", "cx"}) {
		t.Fatalf("created with %v, want bug and cx once each", got)
	}
	names := func(r response) []string {
		t.Helper()
		var out []string
		for _, l := range decode[[]struct{ Name string }](t, r) {
			out = append(out, l.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		status int
		want   []string // the issue's labels after
	}{
		{"add as a bare list", "POST", "/labels", []string{"cx", "new one"}, 200, []string{"bug", "cx", "new one"}},
		{"add wrapped, as objects", "POST", "/labels", map[string]any{"labels": []map[string]string{{"name": "Wrapped"}}}, 200, []string{"bug", "cx", "new one", "Wrapped"}},
		{"add nothing", "POST", "/labels", nil, 200, []string{"bug", "cx", "new one", "Wrapped"}},
		{"add a number", "POST", "/labels", `[1]`, 400, []string{"bug", "cx", "new one", "Wrapped"}},
		{"add malformed", "POST", "/labels", `{"labels":`, 400, []string{"bug", "cx", "new one", "Wrapped"}},
		{"remove one by another case", "DELETE", "/labels/WRAPPED", nil, 200, []string{"bug", "cx", "new one"}},
		{"remove one with a space", "DELETE", "/labels/new%20one", nil, 200, []string{"bug", "cx"}},
		{"remove one it lacks", "DELETE", "/labels/enhancement", nil, 404, []string{"bug", "cx"}},
		{"remove one the repository lacks", "DELETE", "/labels/nope", nil, 404, []string{"bug", "cx"}},
		{"replace", "PUT", "/labels", map[string]any{"labels": []string{"cx", "documentation", "cx"}}, 200, []string{"cx", "documentation"}},
		{"replace with none", "PUT", "/labels", []string{}, 200, []string{}},
		{"replace again", "PUT", "/labels", []string{"bug"}, 200, []string{"bug"}},
		{"remove all", "DELETE", "/labels", nil, 204, []string{}},
		{"remove all again", "DELETE", "/labels", nil, 204, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, "/repos/acme/shop/issues/1"+tc.path, tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if tc.status == 404 && decode[apiErrorBody](t, r).Message != "Label does not exist" {
				t.Errorf("404 %s", r.Body)
			}
			got := labels()
			if !slices.Equal(got, tc.want) {
				t.Errorf("labels %v, want %v", got, tc.want)
			}
			if tc.status == 200 && !slices.Equal(names(r), tc.want) && !(len(tc.want) == 0 && len(names(r)) == 0) {
				t.Errorf("answered %v, want %v", names(r), tc.want)
			}
		})
	}
	// Labels made on the fly take GitHub's default colour.
	if got := decode[map[string]any](t, call(t, s, "GET", "/repos/acme/shop/labels/new%20one", nil)); got["color"] != "ededed" || got["default"] != false {
		t.Errorf("label made on the fly %v", got)
	}
	expectError(t, call(t, s, "GET", "/repos/acme/shop/issues/7/labels", nil), 404, "", "", "Not Found")
}

func TestConditionalRequestForms(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	expectStatus(t, call(t, s, "POST", "/repos/acme/shop/issues", map[string]any{"title": "t"}), 201, "create")
	etag := call(t, s, "GET", "/repos/acme/shop/issues/1", nil).Header.Get("ETag")
	for _, tc := range []struct {
		method, header string
		status         int
	}{
		{"GET", etag, 304},
		{"GET", "W/" + etag, 304},
		{"GET", `"other", ` + etag, 304},
		{"GET", `"other",W/` + etag + ` `, 304},
		{"GET", "*", 304},
		{"GET", `"other"`, 200},
		{"GET", strings.Trim(etag, `"`), 200}, // unquoted is another tag
		{"HEAD", etag, 304},
		{"HEAD", `"other"`, 200},
		{"PATCH", etag, 200},
	} {
		t.Run(tc.method+" "+tc.header, func(t *testing.T) {
			var body any
			if tc.method == "PATCH" {
				body = map[string]any{}
			}
			r := call(t, s, tc.method, "/repos/acme/shop/issues/1", body, "If-None-Match", tc.header)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d", r.Status, tc.status)
			}
			if (tc.status == 304 || tc.method == "HEAD") && len(r.Body) != 0 {
				t.Errorf("%d to %s has a body %q", r.Status, tc.method, r.Body)
			}
			if r.Header.Get("ETag") != etag {
				t.Errorf("ETag %q, want %q", r.Header.Get("ETag"), etag)
			}
			if tc.status == 304 && r.Header.Get("Content-Type") != "" {
				t.Errorf("304 with Content-Type %q", r.Header.Get("Content-Type"))
			}
			if tc.status == 200 && (r.Header.Get("Cache-Control") != "private, max-age=60, s-maxage=60" || !strings.Contains(r.Header.Get("Vary"), "Authorization")) {
				t.Errorf("caching headers %q %q", r.Header.Get("Cache-Control"), r.Header.Get("Vary"))
			}
		})
	}
	// Error answers carry no ETag and are never 304.
	r := call(t, s, "GET", "/repos/acme/shop/issues/2", nil, "If-None-Match", "*")
	if r.Status != 404 || r.Header.Get("ETag") != "" {
		t.Errorf("unknown issue with If-None-Match *: %d, ETag %q", r.Status, r.Header.Get("ETag"))
	}
}
