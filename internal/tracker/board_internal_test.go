package tracker

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestIssueTypesAnswers(t *testing.T) {
	base := time.Unix(1_900_000_000, 0)
	reset := strconv.FormatInt(base.Add(10*time.Minute).Unix(), 10)
	for _, tc := range []struct {
		name    string
		status  int
		headers map[string]string
		body    string
		want    []IssueType
		reason  string
	}{
		{"defined", 200, nil, `[{"id":1,"name":"Task"},{"id":2,"name":"Bug","color":"red"}]`, []IssueType{{1, "Task"}, {2, "Bug"}}, ""},
		{"none defined", 200, nil, `[]`, nil, ""},
		{"a user's repository", 404, nil, `{"message":"Not Found"}`, nil, ""},
		{"no permission", 403, nil, `{"message":"Resource not accessible by integration"}`, nil, cxv1.ReasonPermissionMissing},
		{"rate limited", 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, `{"message":"API rate limit exceeded"}`, nil, cxv1.ReasonRateLimited},
		{"bad credentials", 401, nil, `{"message":"Bad credentials"}`, nil, cxv1.ReasonBadCredentials},
		{"server error", 500, nil, `{}`, nil, cxv1.ReasonServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var path string
			c, calls := statusClient(t, "ghp_types", clocktesting.NewFakeClock(base).Now, func(w http.ResponseWriter, r *http.Request) {
				path = r.URL.Path
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			types, err := c.IssueTypes(context.Background())
			if Reason(err) != tc.reason || !slices.Equal(types, tc.want) {
				t.Fatalf("IssueTypes = %v, %v; want %v and reason %q", types, err, tc.want, tc.reason)
			}
			if path != "/orgs/o/issue-types" || *calls != 1 {
				t.Errorf("asked %q %d times, want /orgs/o/issue-types once", path, *calls)
			}
			var pe *PermissionError
			if isPE := errors.As(err, &pe); isPE != (tc.reason == cxv1.ReasonPermissionMissing) {
				t.Errorf("PermissionError %v for %v", isPE, err)
			} else if isPE && (pe.Field != "spec.tracker.github.owner" || pe.Permission != PermissionIssueTypes || pe.Resource != "the issue types of o") {
				t.Errorf("PermissionError = %+v", pe)
			}
		})
	}
}

// boardServer answers a project o/1 whose fields and items pages are
// given; items pages are served in turn, each with a Link to the next.
func boardServer(t *testing.T, fields string, items ...string) (*Board, *[]string) {
	t.Helper()
	var asked []string
	var c *Client
	c, _ = statusClient(t, "ghp_board", nil, func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RequestURI())
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/orgs/o/projectsV2/1":
			_, _ = io.WriteString(w, `{"id":99}`)
		case "/orgs/o/projectsV2/1/fields":
			_, _ = io.WriteString(w, fields)
		case "/orgs/o/projectsV2/1/items":
			page, _ := strconv.Atoi(r.URL.Query().Get("page"))
			if page+1 < len(items) {
				w.Header().Set("Link", `<`+c.base.String()+`orgs/o/projectsV2/1/items?page=`+strconv.Itoa(page+1)+`>; rel="next"`)
			}
			_, _ = io.WriteString(w, items[page])
		default:
			http.NotFound(w, r)
		}
	})
	b, err := c.Board(context.Background(), ProjectRef{Owner: "o", Number: 1})
	if err != nil {
		t.Fatal(err)
	}
	return b, &asked
}

const boardServerFields = `[
 {"id":10,"name":"Phase","data_type":"single_select","options":[{"id":"p1","name":{"raw":"Discovery"}},{"id":"p2","name":{"raw":"Improve"}}]},
 {"id":11,"name":"impact","data_type":"number"},
 {"id":12,"name":"Stage","data_type":"text"},
 {"id":13,"name":"Status","data_type":"single_select","options":[{"id":"s1","name":{"raw":"Done"}}]},
 {"id":1,"name":"Title","data_type":"title"}
]`

// TestBoardItemsReadsOnlyIssuesAndCxloopsFields: draft issues, pull
// requests and items without content are left out; only cxloop's fields
// are asked for and read, whatever form their values take.
func TestBoardItemsReadsOnlyIssuesAndCxloopsFields(t *testing.T) {
	b, asked := boardServer(t, boardServerFields,
		`[{"id":1,"content_type":"Issue","content":{"id":501,"number":5,"repository_url":"https://api.github.com/repos/o/r"},"fields":[
		   {"id":10,"value":{"id":"p2","name":{"raw":"Improve","html":"Improve"}}},
		   {"id":11,"value":4.5},
		   {"id":12,"value":"arrival"},
		   {"id":13,"value":{"id":"s1","name":{"raw":"Done"}}},
		   {"id":1,"value":{"raw":"A title"}}]},
		  {"id":2,"content_type":"DraftIssue","content":{"id":502}},
		  {"id":3,"content_type":"PullRequest","content":{"id":503,"number":6}}]`,
		`[{"id":4,"content_type":"Issue","content":null},
		  {"id":5,"content_type":"Issue","content":{"id":505,"number":8},"fields":[
		   {"id":10,"value":{"id":"p1"}},
		   {"id":11,"value":null},
		   {"id":12,"value":["not","text"]},
		   {"id":77,"value":"a field the board never listed"}]}]`)
	items, err := b.Items(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Fatalf("items = %+v, want the two issues", items)
	}
	first, second := items[0], items[1]
	if first.ID != 1 || first.IssueID != 501 || first.IssueNumber != 5 || first.RepositoryURL != "https://api.github.com/repos/o/r" {
		t.Errorf("first item = %+v", first)
	}
	if want := map[string]string{"Phase": "Improve", "impact": "4.5", "Stage": "arrival"}; !maps.Equal(first.Values, want) {
		t.Errorf("first values = %v, want %v", first.Values, want)
	}
	if want := map[string]string{"Phase": "Discovery"}; second.IssueNumber != 8 || !maps.Equal(second.Values, want) {
		t.Errorf("second item = %+v, want #8 with %v", second, want)
	}
	if len(*asked) != 4 {
		t.Fatalf("asked %v, want the project, its fields and two pages of items", *asked)
	}
	if got := (*asked)[2]; got != "/orgs/o/projectsV2/1/items?fields=10%2C11%2C12&per_page=100" {
		t.Errorf("first items request = %q; want only cxloop's field IDs, sorted", got)
	}
}

func TestBoardItemsWithoutCxloopsFieldsAsksForNone(t *testing.T) {
	b, asked := boardServer(t, `[{"id":13,"name":"Status","data_type":"single_select"}]`, `[]`)
	items, err := b.Items(context.Background())
	if err != nil || len(items) != 0 {
		t.Fatalf("Items = %v, %v", items, err)
	}
	if got := (*asked)[len(*asked)-1]; got != "/orgs/o/projectsV2/1/items?per_page=100" {
		t.Errorf("items request = %q, want no fields parameter", got)
	}
}

func TestBoardMalformedAnswersAreErrors(t *testing.T) {
	for _, tc := range []struct {
		name, fields, items string
		op                  func(*Board) error
	}{
		{"fields not a list", `{"id":1}`, `[]`, func(b *Board) error { _, err := b.Fields(context.Background()); return err }},
		{"fields cut short", `[{"id":1,"name":`, `[]`, func(b *Board) error { _, err := b.Fields(context.Background()); return err }},
		{"items cut short", `[]`, `[{"id":1`, func(b *Board) error { _, err := b.Items(context.Background()); return err }},
		{"item id not a number", `[]`, `[{"id":"one","content_type":"Issue"}]`, func(b *Board) error { _, err := b.Items(context.Background()); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := boardServer(t, tc.fields, tc.items)
			if err := tc.op(b); err == nil {
				t.Error("a malformed answer was accepted")
			}
		})
	}
}

func TestValueText(t *testing.T) {
	f := BoardField{Name: "Phase", DataType: "single_select", Options: map[string]string{"Discovery": "p1", "Improve": "p2"}}
	for _, tc := range []struct {
		name string
		v    any
		want string
		ok   bool
	}{
		{"text", "arrival", "arrival", true},
		{"empty text", "", "", true},
		{"whole number", float64(4), "4", true},
		{"fraction", 2.5, "2.5", true},
		{"negative", -0.25, "-0.25", true},
		{"large", 1e21, "1e+21", true},
		{"option by name", map[string]any{"id": "p1", "name": map[string]any{"raw": "Improve"}}, "Improve", true},
		{"option by id", map[string]any{"id": "p2"}, "Improve", true},
		{"option name not text", map[string]any{"id": "p1", "name": map[string]any{"raw": 7.0}}, "Discovery", true},
		{"unknown option id", map[string]any{"id": "zz"}, "", false},
		{"option without id", map[string]any{"color": "RED"}, "", false},
		{"bool", true, "", false},
		{"list", []any{"a"}, "", false},
		{"nil", nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := valueText(f, tc.v)
			if got != tc.want || ok != tc.ok {
				t.Errorf("valueText(%v) = %q, %v; want %q, %v", tc.v, got, ok, tc.want, tc.ok)
			}
		})
	}
}
