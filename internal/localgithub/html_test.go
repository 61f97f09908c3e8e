package localgithub

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// page GETs a page of the web view as a browser does: no token.
func page(t *testing.T, s *Server, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(s.URL(), "/") + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// statusWithoutToken is the status a request without credentials gets.
func statusWithoutToken(t *testing.T, s *Server, method, path string) int {
	t.Helper()
	req, _ := http.NewRequest(method, strings.TrimSuffix(s.URL(), "/")+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestWebViewShowsProgressAndBoard: the issue page of a parent shows its
// sub-issues' progress and what blocks it, at the issue's html_url; the
// project page shows the board with its fields and each parent's progress.
func TestWebViewShowsProgressAndBoard(t *testing.T) {
	s := startServer(t, Options{})
	issues := newIssues(t, s, 5) // #1 the parent, #2-#4 its sub-issues, #5 blocks #1
	parent := issues[0]
	for _, sub := range issues[1:4] {
		expectStatus(t, call(t, s, "POST", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": sub.ID}), 201, "add sub-issue")
	}
	expectStatus(t, call(t, s, "POST", issuePath(parent.Number, "/dependencies/blocked_by"), map[string]any{"issue_id": issues[4].ID}), 201, "blocked by")
	for _, done := range issues[1:3] {
		if err := s.CloseIssue("acme", "journeys", done.Number, "completed"); err != nil {
			t.Fatal(err)
		}
	}
	// A hostile title is shown as text, never as markup.
	expectStatus(t, call(t, s, "PATCH", issuePath(issues[3].Number, ""), map[string]any{"title": `<script>alert(1)</script>`}), 200, "retitle")

	r := call(t, s, "GET", issuePath(parent.Number, ""), nil)
	htmlURL, _ := r.JSON(t).(map[string]any)["html_url"].(string)
	if !strings.HasPrefix(htmlURL, strings.TrimSuffix(s.URL(), "/")) {
		t.Fatalf("html_url %q is not on the local GitHub", htmlURL)
	}
	status, body, header := page(t, s, strings.TrimPrefix(htmlURL, strings.TrimSuffix(s.URL(), "/")))
	if status != http.StatusOK || !strings.HasPrefix(header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s", htmlURL, status, header.Get("Content-Type"))
	}
	for _, want := range []string{"<h1>Issue 1 <span>#1</span></h1>", "2 of 3 done (66%)", `<progress max="3" value="2">`, "Blocked by:", "#5 Issue 5 (open)",
		"&lt;script&gt;alert(1)&lt;/script&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("the parent's page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Errorf("a title was rendered as markup")
	}
	if _, sub, _ := page(t, s, "/acme/journeys/issues/2"); !strings.Contains(sub, "Parent issue: <a href=\"1\">#1 Issue 1</a>") {
		t.Errorf("a sub-issue's page does not link its parent:\n%s", sub)
	}
	if _, list, _ := page(t, s, "/acme/journeys/issues"); !strings.Contains(list, `<a href="issues/5">Issue 5</a>`) {
		t.Errorf("the issue list lacks issue 5:\n%s", list)
	}

	// The board: the parent and a sub-issue with a field value.
	project := s.AddProject("acme", true, "Journeys board")
	for _, is := range issues[:2] {
		expectStatus(t, call(t, s, "POST", "/orgs/acme/projectsV2/1/items", map[string]any{"type": "Issue", "id": is.ID}), 201, "add item")
	}
	expectStatus(t, call(t, s, "POST", "/orgs/acme/projectsV2/1/fields", map[string]any{"name": "Impact", "data_type": "number"}), 201, "add field")
	if err := s.SetProjectItemValue("acme", true, project, "acme/journeys", issues[1].Number, "Impact", "5"); err != nil {
		t.Fatal(err)
	}
	status, board, _ := page(t, s, "/orgs/acme/projects/1")
	if status != http.StatusOK {
		t.Fatalf("board page: %d", status)
	}
	for _, want := range []string{"<h1>Journeys board</h1>", "<th>Impact</th>", "acme/journeys#1 Issue 1", "<td>2 of 3 done</td>", "<td>5</td>"} {
		if !strings.Contains(board, want) {
			t.Errorf("the board page lacks %q:\n%s", want, board)
		}
	}

	// Not in the request log: a person's browsing is no API traffic.
	for _, r := range s.Requests() {
		if !strings.HasPrefix(r.Path, "/repos/") && !strings.HasPrefix(r.Path, "/orgs/acme/projectsV2") {
			t.Errorf("a page request was logged: %s %s", r.Method, r.Path)
		}
	}
	// Another host name for the address (DNS rebinding) gets the API's answer.
	req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(s.URL(), "/")+"/acme/journeys/issues/1", nil)
	req.Host = "attacker.example:80"
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a page under a foreign Host: %d, want 401 (the API's)", resp.StatusCode)
	}

	// Only reads, only these pages: the API still wants its token.
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/acme/journeys/issues/99", http.StatusNotFound},
		{"GET", "/orgs/acme/projects/7", http.StatusNotFound},
		{"GET", "/repos/acme/journeys/issues/1", http.StatusUnauthorized},
		{"POST", "/acme/journeys/issues/1", http.StatusUnauthorized},
	} {
		if got := statusWithoutToken(t, s, tc.method, tc.path); got != tc.want {
			t.Errorf("%s %s without a token: %d, want %d", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestOwnHost: pages answer the local GitHub's own host and localhost on
// its port, nothing else (a DNS-rebinding name for the same address).
func TestOwnHost(t *testing.T) {
	s := startServer(t, Options{})
	u := strings.TrimPrefix(strings.TrimSuffix(s.URL(), "/"), "http://")
	_, port, _ := strings.Cut(u, ":")
	for host, want := range map[string]bool{
		u:                            true,
		"localhost:" + port:          true,
		"LOCALHOST:" + port:          true,
		"[::1]:" + port:              true,
		"127.0.0.2:" + port:          true, // loopback all the same
		"localhost:1":                false,
		"attacker.example:" + port:   false,
		"attacker.example":           false,
		"10.0.0.1:" + port:           false,
		"":                           false,
		"127.0.0.1.attacker.example": false,
	} {
		if got := s.ownHost(host); got != want {
			t.Errorf("ownHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestPagePathsLeaveTheAPIAlone: paths that look like pages but are the
// API's, or name a repository the local GitHub does not hold, go on to
// the API and its authentication.
func TestPagePathsLeaveTheAPIAlone(t *testing.T) {
	s := startServer(t, Options{})
	newIssues(t, s, 1)
	want := map[string]int{
		"GET /repositories/1/issues":           http.StatusUnauthorized, // a renamed repository's listing
		"GET /repos/acme/issues":               http.StatusUnauthorized, // owner "repos": the API's
		"GET /nobody/nothing/issues":           http.StatusUnauthorized, // no such repository
		"GET /nobody/nothing/issues/1":         http.StatusUnauthorized,
		"GET /acme/journeys/issues/1/comments": http.StatusUnauthorized,
		"PUT /acme/journeys/issues":            http.StatusUnauthorized,
		"HEAD /acme/journeys/issues/1":         http.StatusOK,
		"GET /acme/journeys/issues":            http.StatusOK,
		"GET /users/acme/projects/1":           http.StatusNotFound, // a page, of no project
	}
	for req, status := range want {
		method, path, _ := strings.Cut(req, " ")
		if got := statusWithoutToken(t, s, method, path); got != status {
			t.Errorf("%s: %d, want %d", req, got, status)
		}
	}
}
