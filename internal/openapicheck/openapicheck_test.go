package openapicheck

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

const specPath = "../../testdata/github/openapi/api.github.com.subset.json"

// validIssueTypes is an answer to GET /orgs/{org}/issue-types as the
// description has it.
const validIssueTypes = `[{"id":1,"node_id":"IT_1","name":"Task","description":null,"color":null,` +
	`"created_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-01T12:00:00Z","is_enabled":true}]`

// canned answers every request with status and body, recording the
// request body it was handed.
type canned struct {
	status int
	body   string
	got    []byte
	calls  int
}

func (c *canned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.calls++
	c.got, _ = io.ReadAll(r.Body)
	if c.status == http.StatusNotModified || c.body == "" {
		w.WriteHeader(c.status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(c.status)
	_, _ = io.WriteString(w, c.body)
}

func newValidator(t *testing.T, watch *regexp.Regexp) *Validator {
	t.Helper()
	v, err := New(specPath, watch)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// send runs one request through v in front of next.
func send(t *testing.T, v *Validator, next http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, reader)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	v.Wrap(next).ServeHTTP(rec, req)
	return rec
}

func TestValidatorChecksRequestsAndAnswers(t *testing.T) {
	for _, tc := range []struct {
		name           string
		method, target string
		body           string
		status         int
		answer         string
		op             string
		problem        string // a substring of the only problem; "" wants none
		answersCounted int
	}{
		{name: "valid issue types", method: "GET", target: "/orgs/acme/issue-types", status: 200, answer: validIssueTypes,
			op: "orgs/list-issue-types", answersCounted: 1},
		{name: "issue types answered with an object", method: "GET", target: "/orgs/acme/issue-types", status: 200, answer: `{"id":1}`,
			op: "orgs/list-issue-types", problem: "answer 200 to GET /orgs/acme/issue-types (orgs/list-issue-types)", answersCounted: 1},
		{name: "issue type lacking a required field", method: "GET", target: "/orgs/acme/issue-types", status: 200,
			answer: `[{"id":1,"node_id":"IT_1","description":null}]`, op: "orgs/list-issue-types", problem: "name", answersCounted: 1},
		{name: "issue type id of the wrong type", method: "GET", target: "/orgs/acme/issue-types", status: 200,
			answer: `[{"id":"one","node_id":"IT_1","name":"Task","description":null}]`, op: "orgs/list-issue-types", problem: "answer 200", answersCounted: 1},
		{name: "documented 404", method: "GET", target: "/orgs/acme/issue-types", status: 404,
			answer: `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`, op: "orgs/list-issue-types", answersCounted: 1},
		{name: "404 whose message is a number", method: "GET", target: "/orgs/acme/issue-types", status: 404,
			answer: `{"message":404}`, op: "orgs/list-issue-types", problem: "answer 404", answersCounted: 1},
		{name: "sub-issue id as a string", method: "POST", target: "/repos/acme/shop/issues/1/sub_issues", body: `{"sub_issue_id":"seven"}`,
			status: 404, answer: `{"message":"Not Found"}`, op: "issues/add-sub-issue", problem: `request POST /repos/acme/shop/issues/1/sub_issues (issues/add-sub-issue) body {"sub_issue_id":"seven"}`, answersCounted: 1},
		{name: "sub-issue without its id", method: "POST", target: "/repos/acme/shop/issues/1/sub_issues", body: `{"replace_parent":true}`,
			status: 404, answer: `{"message":"Not Found"}`, op: "issues/add-sub-issue", problem: "sub_issue_id", answersCounted: 1},
		{name: "valid sub-issue request", method: "POST", target: "/repos/acme/shop/issues/1/sub_issues", body: `{"sub_issue_id":7}`,
			status: 404, answer: `{"message":"Not Found"}`, op: "issues/add-sub-issue", answersCounted: 1},
		{name: "field of an undocumented data type", method: "POST", target: "/orgs/acme/projectsV2/1/fields", body: `{"name":"Phase","data_type":"colour"}`,
			status: 404, answer: `{"message":"Not Found"}`, op: "projects/add-field-for-org", problem: "request POST", answersCounted: 1},
		{name: "valid number field", method: "POST", target: "/orgs/acme/projectsV2/1/fields", body: `{"name":"Impact","data_type":"number"}`,
			status: 404, answer: `{"message":"Not Found"}`, op: "projects/add-field-for-org", answersCounted: 1},
		{name: "project number not an integer", method: "GET", target: "/orgs/acme/projectsV2/first", status: 404,
			answer: `{"message":"Not Found"}`, op: "projects/get-for-org", problem: "project_number", answersCounted: 1},
		{name: "not modified has no body to check", method: "GET", target: "/orgs/acme/issue-types", status: 304,
			op: "orgs/list-issue-types", answersCounted: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newValidator(t, BoardPaths)
			next := &canned{status: tc.status, body: tc.answer}
			rec := send(t, v, next, tc.method, tc.target, tc.body)
			if rec.Code != tc.status || rec.Body.String() != tc.answer {
				t.Errorf("client got %d %q, want the handler's %d %q", rec.Code, rec.Body, tc.status, tc.answer)
			}
			if next.calls != 1 || string(next.got) != tc.body {
				t.Errorf("handler called %d times with body %q, want once with %q", next.calls, next.got, tc.body)
			}
			problems := v.Problems()
			switch {
			case tc.problem == "" && len(problems) != 0:
				t.Errorf("problems %q, want none", problems)
			case tc.problem != "" && (len(problems) != 1 || !strings.Contains(problems[0], tc.problem)):
				t.Errorf("problems %q, want one containing %q", problems, tc.problem)
			}
			if reqs, answers := v.Validated(tc.op); reqs != 1 || answers != tc.answersCounted {
				t.Errorf("Validated(%s) = %d requests, %d answers; want 1, %d", tc.op, reqs, answers, tc.answersCounted)
			}
			if ops := v.Operations(); !slices.Equal(ops, []string{tc.op}) {
				t.Errorf("Operations() = %q, want [%s]", ops, tc.op)
			}
		})
	}
}

func TestValidatorReportsPathsTheDescriptionLacks(t *testing.T) {
	for _, tc := range []struct{ method, target string }{
		{"GET", "/nope"},
		{"GET", "/repos/acme/shop/pulls"},
		{"PUT", "/repos/acme/shop/issues/1/sub_issues"}, // a path it has, with a method it lacks
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			v := newValidator(t, regexp.MustCompile(`.`))
			next := &canned{status: 404, body: `{"message":"Not Found"}`}
			rec := send(t, v, next, tc.method, tc.target, "")
			if next.calls != 1 || rec.Code != 404 {
				t.Errorf("handler called %d times, client got %d; the request must still be served", next.calls, rec.Code)
			}
			problems := v.Problems()
			if len(problems) != 1 || !strings.Contains(problems[0], tc.method+" "+tc.target+": no operation in the OpenAPI description") {
				t.Errorf("problems %q", problems)
			}
			if ops := v.Operations(); len(ops) != 0 {
				t.Errorf("operations %q counted for an unknown path", ops)
			}
		})
	}
}

func TestValidatorLeavesUnwatchedPathsAlone(t *testing.T) {
	v := newValidator(t, BoardPaths)
	// Not a board path, and an answer no description would accept.
	next := &canned{status: 200, body: `"garbage"`}
	rec := send(t, v, next, "POST", "/repos/acme/shop/labels", `{"name":1}`)
	if rec.Code != 200 || rec.Body.String() != `"garbage"` || string(next.got) != `{"name":1}` {
		t.Errorf("passed through as %d %q with body %q", rec.Code, rec.Body, next.got)
	}
	if p, ops := v.Problems(), v.Operations(); len(p) != 0 || len(ops) != 0 {
		t.Errorf("an unwatched path was checked: problems %q, operations %q", p, ops)
	}
}

func TestBoardPaths(t *testing.T) {
	for path, want := range map[string]bool{
		"/orgs/acme/projectsV2":                           true,
		"/users/monalisa/projectsV2/1/items/5":            true,
		"/repos/acme/shop/issues/1/sub_issues":            true,
		"/repos/acme/shop/issues/1/sub_issue":             true,
		"/repos/acme/shop/issues/1/dependencies/blocking": true,
		"/orgs/acme/issue-types":                          true,
		"/repos/acme/shop/issues/12":                      true,
		"/repos/acme/shop/issues":                         false,
		"/repos/acme/shop/issues/12/comments":             false,
		"/repos/acme/shop/issues/12/labels":               false,
		"/repos/acme/shop/labels":                         false,
		"/rate_limit":                                     false,
		"/x/repos/acme/shop/issues/12":                    false,
	} {
		if got := BoardPaths.MatchString(path); got != want {
			t.Errorf("BoardPaths matches %s: %v, want %v", path, got, want)
		}
	}
}

func TestValidatorCountsByOperationAndKeepsProblemsApart(t *testing.T) {
	v := newValidator(t, BoardPaths)
	other := newValidator(t, BoardPaths)
	types := &canned{status: 200, body: validIssueTypes}
	for range 3 {
		send(t, v, types, "GET", "/orgs/acme/issue-types", "")
	}
	send(t, v, &canned{status: 404, body: `{"message":"Not Found"}`}, "GET", "/orgs/acme/projectsV2/2", "")
	send(t, v, &canned{status: 200, body: `[]`}, "GET", "/orgs/acme/projectsV2", "")
	send(t, other, &canned{status: 200, body: `{}`}, "GET", "/orgs/acme/issue-types", "")

	if got := v.Operations(); !slices.Equal(got, []string{"orgs/list-issue-types", "projects/get-for-org", "projects/list-for-org"}) {
		t.Errorf("Operations() = %q, want them sorted", got)
	}
	if reqs, answers := v.Validated("orgs/list-issue-types"); reqs != 3 || answers != 3 {
		t.Errorf("issue types validated %d/%d, want 3/3", reqs, answers)
	}
	if reqs, answers := v.Validated("issues/get"); reqs != 0 || answers != 0 {
		t.Errorf("an operation never sent counted %d/%d", reqs, answers)
	}
	if p := v.Problems(); len(p) != 0 {
		t.Errorf("problems %q, want none", p)
	}
	if p := other.Problems(); len(p) != 1 {
		t.Errorf("the other validator's problems %q, want its one", p)
	}
	// Problems hands out a copy.
	p := other.Problems()
	p[0] = "changed"
	if other.Problems()[0] == "changed" {
		t.Error("Problems returned the validator's own slice")
	}
}

func TestValidatorLetsADroppedAnswerThrough(t *testing.T) {
	v := newValidator(t, BoardPaths)
	validated := make(chan struct{})
	wrapped := v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijacking through the validator: %v", err)
			return
		}
		conn.Close()
	}))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(validated)
		wrapped.ServeHTTP(w, r)
	}))
	defer hs.Close()
	resp, err := hs.Client().Get(hs.URL + "/orgs/acme/issue-types")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer %d to a dropped request", resp.StatusCode)
	}
	// The client sees the connection close before the validator counts
	// the request: wait for it to be done.
	<-validated
	if reqs, answers := v.Validated("orgs/list-issue-types"); reqs != 1 || answers != 0 {
		t.Errorf("validated %d requests, %d answers; want the request only", reqs, answers)
	}
	if p := v.Problems(); len(p) != 0 {
		t.Errorf("problems %q for a dropped answer", p)
	}
}

func TestRecordingWriterKeepsTheFirstStatusAndTheBody(t *testing.T) {
	for _, tc := range []struct {
		name       string
		write      func(w http.ResponseWriter)
		wantStatus int
		wantBody   string
	}{
		{"write without a status is 200", func(w http.ResponseWriter) { _, _ = w.Write([]byte("ab")); _, _ = w.Write([]byte("c")) }, 200, "abc"},
		{"second status ignored", func(w http.ResponseWriter) { w.WriteHeader(201); w.WriteHeader(500); _, _ = w.Write([]byte("x")) }, 201, "x"},
		{"status without a body", func(w http.ResponseWriter) { w.WriteHeader(204) }, 204, ""},
		{"nothing written", func(http.ResponseWriter) {}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			under := httptest.NewRecorder()
			rec := &recordingWriter{ResponseWriter: under}
			tc.write(rec)
			if rec.status != tc.wantStatus || rec.body.String() != tc.wantBody {
				t.Errorf("recorded %d %q, want %d %q", rec.status, rec.body.String(), tc.wantStatus, tc.wantBody)
			}
			if under.Body.String() != tc.wantBody {
				t.Errorf("client got %q, want %q", under.Body.String(), tc.wantBody)
			}
			if tc.wantStatus != 0 && under.Code != tc.wantStatus {
				t.Errorf("client got status %d, want %d", under.Code, tc.wantStatus)
			}
			if rec.Unwrap() != http.ResponseWriter(under) {
				t.Error("Unwrap does not reach the underlying writer")
			}
		})
	}
}

func TestNewLoadsTheDescriptionOnce(t *testing.T) {
	if _, err := New("testdata/missing.json", BoardPaths); err == nil || !strings.Contains(err.Error(), "loading testdata/missing.json") {
		t.Errorf("New of a missing file: %v", err)
	}
	a := newValidator(t, BoardPaths)
	b := newValidator(t, regexp.MustCompile(`.`))
	if a.router != b.router {
		t.Error("the description was loaded twice")
	}
	if a.watch == b.watch {
		t.Error("validators share their watch expression")
	}
}

func TestRelaxItemContentTurnsOneOfIntoAnyOf(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	content := func(path string) *openapi3.Schema {
		t.Helper()
		mt := doc.Paths.Find(path).Post.Responses.Status(http.StatusCreated).Value.Content.Get("application/json")
		return mt.Schema.Value.Properties["content"].Value
	}
	paths := []string{"/orgs/{org}/projectsV2/{project_number}/items", "/users/{username}/projectsV2/{project_number}/items"}
	before := map[string]int{}
	for _, p := range paths {
		before[p] = len(content(p).OneOf)
		if before[p] < 2 || len(content(p).AnyOf) != 0 {
			t.Fatalf("%s: the description's content has oneOf %d, anyOf %d", p, before[p], len(content(p).AnyOf))
		}
	}
	relaxItemContent(doc)
	for _, p := range paths {
		if c := content(p); len(c.OneOf) != 0 || len(c.AnyOf) != before[p] {
			t.Errorf("%s: oneOf %d, anyOf %d after relaxing; want 0, %d", p, len(c.OneOf), len(c.AnyOf), before[p])
		}
	}
	// A description without those operations is left as it is.
	empty := &openapi3.T{Paths: openapi3.NewPaths()}
	relaxItemContent(empty)
	if empty.Paths.Len() != 0 {
		t.Error("relaxing an empty description added paths")
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"", 0, ""},
		{strings.Repeat("x", 401), 400, strings.Repeat("x", 400) + "…"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestLongAnswersAreTruncatedInProblems(t *testing.T) {
	v := newValidator(t, BoardPaths)
	long := `{"message":` + strings.Repeat(" ", 1000) + `5}`
	send(t, v, &canned{status: 404, body: long}, "GET", "/orgs/acme/issue-types", "")
	p := v.Problems()
	if len(p) != 1 || !strings.HasSuffix(p[0], "…") || strings.Contains(p[0], "5}") {
		t.Errorf("problems %q, want the answer cut at 400 characters", p)
	}
	if !bytes.Contains([]byte(p[0]), []byte("\n{\"message\":")) {
		t.Errorf("problem %q lacks the answer's beginning", p[0])
	}
}

// A client has its answer before the validator has checked it: the counts
// wait for the exchange to be done rather than miss it.
func TestValidatorCountsWaitForTheExchangesInFlight(t *testing.T) {
	v := newValidator(t, BoardPaths)
	release := make(chan struct{})
	hs := httptest.NewServer(v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(validIssueTypes)))
		_, _ = io.WriteString(w, validIssueTypes)
		http.NewResponseController(w).Flush()
		<-release // the answer is out; the handler is not done yet
	})))
	defer hs.Close()
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free() // before hs.Close, which waits for the handler
	resp, err := hs.Client().Get(hs.URL + "/orgs/acme/issue-types")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	counted := make(chan [2]int, 1)
	go func() {
		reqs, answers := v.Validated("orgs/list-issue-types")
		counted <- [2]int{reqs, answers}
	}()
	select {
	case got := <-counted:
		t.Fatalf("counted %v while the exchange was still being checked", got)
	case <-time.After(100 * time.Millisecond):
	}
	free()
	if got := <-counted; got != [2]int{1, 1} {
		t.Errorf("validated %d requests, %d answers; want 1 and 1", got[0], got[1])
	}
}
