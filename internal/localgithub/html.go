package localgithub

import (
	"html/template"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The local GitHub's web view: what a person looking at github.com sees of
// the repository's issues (a parent's sub-issue progress, what blocks an
// issue, its type) and of a project's board. Its addresses are the
// html_url of the API's answers. It only reads, needs no token (the local
// GitHub is a test double bound to the machine; its issues are no
// secrets), and answers only the paths below: every other path goes on to
// the API, with its authentication.

var (
	issuePagePath  = regexp.MustCompile(`^/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+)/issues/([0-9]{1,9})$`)
	issueListPath  = regexp.MustCompile(`^/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+)/issues$`)
	boardPagePath  = regexp.MustCompile(`^/(orgs|users)/([A-Za-z0-9-]+)/projects/([0-9]{1,9})$`)
	apiFirstLevels = []string{"repos", "repositories", "orgs", "users", "app", "user", "rate_limit"}
)

// servePage answers a GET for a web page of the view, and reports whether
// the path was one.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if !s.ownHost(r.Host) {
		return false // another name for this address (DNS rebinding): the API's answer, which wants a token
	}
	p := r.URL.Path
	if m := boardPagePath.FindStringSubmatch(p); m != nil {
		n, _ := strconv.Atoi(m[3])
		s.boardPage(w, m[2], m[1] == "orgs", n)
		return true
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if slices.Contains(apiFirstLevels, first) {
		return false
	}
	// A page of a repository the local GitHub holds; any other path is the
	// API's (/repositories/{id}/issues after a rename, for one).
	if m := issuePagePath.FindStringSubmatch(p); m != nil && s.holds(m[1], m[2]) {
		n, _ := strconv.Atoi(m[3])
		s.issuePage(w, m[1], m[2], n)
		return true
	}
	if m := issueListPath.FindStringSubmatch(p); m != nil && s.holds(m[1], m[2]) {
		s.issueListPage(w, m[1], m[2])
		return true
	}
	return false
}

// ownHost: the request names the local GitHub by its own host, or as
// localhost on its port.
func (s *Server) ownHost(host string) bool {
	u, err := url.Parse(s.URL())
	if err != nil {
		return false
	}
	if strings.EqualFold(host, u.Host) {
		return true
	}
	h, port, err := net.SplitHostPort(host)
	return err == nil && port == u.Port() && (strings.EqualFold(h, "localhost") || net.ParseIP(h).IsLoopback())
}

func (s *Server) holds(owner, repo string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.world.repo(owner, repo) != nil
}

// progress is a parent's sub-issues as GitHub shows them: "2 of 4".
type progress struct{ Done, Total int }

func (p progress) Percent() int {
	if p.Total == 0 {
		return 0
	}
	return p.Done * 100 / p.Total
}

type pageIssue struct {
	Number       int
	Title, State string
}

type issuePageData struct {
	Repo      string
	Issue     Issue
	Type      string
	Parent    *pageIssue
	Sub       []pageIssue
	Progress  progress
	BlockedBy []pageIssue
}

func (s *Server) refsOf(owner, repo string, numbers []int) ([]pageIssue, progress) {
	return refsIn(issuesByNumber(s.Issues(owner, repo)), numbers)
}

func issuesByNumber(issues []Issue) map[int]Issue {
	byNumber := make(map[int]Issue, len(issues))
	for _, is := range issues {
		byNumber[is.Number] = is
	}
	return byNumber
}

// refsIn are the issues numbered, as a snapshot holds them, and how many of
// them are closed.
func refsIn(byNumber map[int]Issue, numbers []int) ([]pageIssue, progress) {
	var out []pageIssue
	var pr progress
	for _, n := range numbers {
		is := byNumber[n]
		out = append(out, pageIssue{n, is.Title, is.State})
		pr.Total++
		if is.State == "closed" {
			pr.Done++
		}
	}
	return out, pr
}

func (s *Server) issuePage(w http.ResponseWriter, owner, repo string, number int) {
	var data issuePageData
	found := false
	for _, is := range s.Issues(owner, repo) {
		if is.Number == number {
			data.Issue, found = is, true
		}
	}
	rel, err := s.Relations(owner, repo, number)
	if !found || err != nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	data.Repo, data.Type = owner+"/"+repo, rel.Type
	data.Sub, data.Progress = s.refsOf(owner, repo, rel.SubIssues)
	data.BlockedBy, _ = s.refsOf(owner, repo, rel.BlockedBy)
	if rel.Parent != 0 {
		refs, _ := s.refsOf(owner, repo, []int{rel.Parent})
		data.Parent = &refs[0]
	}
	renderPage(w, issueTemplate, data)
}

func (s *Server) issueListPage(w http.ResponseWriter, owner, repo string) {
	issues := s.Issues(owner, repo)
	slices.SortFunc(issues, func(a, b Issue) int { return b.Number - a.Number })
	renderPage(w, listTemplate, struct {
		Repo   string
		Issues []Issue
	}{owner + "/" + repo, issues})
}

type boardRow struct {
	Item   ProjectItem
	Values []string
	// Sub is the issue's sub-issue progress, when it has sub-issues.
	Sub *progress
}

func (s *Server) boardPage(w http.ResponseWriter, owner string, org bool, number int) {
	items, err := s.ProjectItems(owner, org, number)
	if err != nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	fields, _ := s.ProjectFields(owner, org, number)
	fields = slices.DeleteFunc(fields, func(f string) bool { return f == "Title" })
	s.mu.Lock()
	title := s.projectOfLocked(owner, org, number).Title
	s.mu.Unlock()
	var rows []boardRow
	snapshots := map[string]map[int]Issue{} // one per repository on the board
	for _, it := range items {
		row := boardRow{Item: it}
		for _, f := range fields {
			row.Values = append(row.Values, it.Values[f])
		}
		if o, r, ok := strings.Cut(it.Repo, "/"); ok {
			if rel, err := s.Relations(o, r, it.Number); err == nil && len(rel.SubIssues) > 0 {
				if snapshots[it.Repo] == nil {
					snapshots[it.Repo] = issuesByNumber(s.Issues(o, r))
				}
				_, pr := refsIn(snapshots[it.Repo], rel.SubIssues)
				row.Sub = &pr
			}
		}
		rows = append(rows, row)
	}
	renderPage(w, boardTemplate, struct {
		Title  string
		Fields []string
		Rows   []boardRow
	}{title, fields, rows})
}

func renderPage(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = t.Execute(w, data)
}

const pageStyle = `<style>body{font-family:sans-serif;max-width:70em;margin:1em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
.open{color:#1a7f37}.closed{color:#8250df}progress{width:8em}pre{white-space:pre-wrap;background:#f6f8fa;padding:.5em}</style>`

var (
	issueTemplate = template.Must(template.New("issue").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>{{.Issue.Title}} · #{{.Issue.Number}}</title>` + pageStyle + `</head><body>
<p><a href="../issues">{{.Repo}}</a></p>
<h1>{{.Issue.Title}} <span>#{{.Issue.Number}}</span></h1>
<p class="{{.Issue.State}}">{{.Issue.State}}{{with .Issue.StateReason}} ({{.}}){{end}}{{with .Type}} · type {{.}}{{end}}{{range .Issue.Labels}} · <code>{{.}}</code>{{end}}</p>
{{with .Parent}}<p>Parent issue: <a href="{{.Number}}">#{{.Number}} {{.Title}}</a></p>{{end}}
{{with .BlockedBy}}<p>Blocked by:{{range .}} <a href="{{.Number}}" class="{{.State}}">#{{.Number}} {{.Title}} ({{.State}})</a>{{end}}</p>{{end}}
{{if .Sub}}<h2>Sub-issues <progress max="{{.Progress.Total}}" value="{{.Progress.Done}}"></progress> {{.Progress.Done}} of {{.Progress.Total}} done ({{.Progress.Percent}}%)</h2>
<ul>{{range .Sub}}<li class="{{.State}}"><a href="{{.Number}}">#{{.Number}} {{.Title}}</a> ({{.State}})</li>{{end}}</ul>{{end}}
<pre>{{.Issue.Body}}</pre>
{{range .Issue.Comments}}<h3>Comment</h3><pre>{{.}}</pre>{{end}}
</body></html>`))

	listTemplate = template.Must(template.New("list").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>Issues · {{.Repo}}</title>` + pageStyle + `</head><body>
<h1>Issues of {{.Repo}}</h1>
<table><tr><th>#</th><th>Title</th><th>State</th><th>Labels</th></tr>
{{range .Issues}}<tr><td>{{.Number}}</td><td><a href="issues/{{.Number}}">{{.Title}}</a></td><td class="{{.State}}">{{.State}}</td><td>{{range .Labels}}<code>{{.}}</code> {{end}}</td></tr>
{{end}}</table></body></html>`))

	boardTemplate = template.Must(template.New("board").Parse(`<!doctype html><html><head><meta charset="utf-8"><title>{{.Title}}</title>` + pageStyle + `</head><body>
<h1>{{.Title}}</h1>
<table><tr><th>Issue</th><th>State</th><th>Sub-issues</th>{{range .Fields}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Item.Repo}}#{{.Item.Number}} {{.Item.Title}}</td><td class="{{.Item.State}}">{{.Item.State}}</td><td>{{with .Sub}}{{.Done}} of {{.Total}} done{{end}}</td>{{range .Values}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table></body></html>`))
)
