package localgithub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	docsCreateIssue = "https://docs.github.com/rest/issues/issues#create-an-issue"
	docsUpdateIssue = "https://docs.github.com/rest/issues/issues#update-an-issue"
	docsCreateLabel = "https://docs.github.com/rest/reference/issues#create-a-label"
	docsComment     = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"

	maxTitleLength = 256
	maxBodyLength  = 65536
)

// routes registers the REST endpoints. Every list endpoint is served under
// /repos/{owner}/{repo} and /repositories/{id}, the form GitHub's Link
// headers point at.
func (s *Server) routes() {
	m := http.NewServeMux()
	for _, prefix := range []string{"/repos/{owner}/{repo}", "/repositories/{id}"} {
		m.HandleFunc("GET "+prefix, s.getRepo)
		m.HandleFunc("GET "+prefix+"/issues", s.listIssues)
		m.HandleFunc("GET "+prefix+"/labels", s.listLabels)
		m.HandleFunc("GET "+prefix+"/issues/{number}/comments", s.listComments)
		m.HandleFunc("GET "+prefix+"/issues/{number}/labels", s.listIssueLabels)
	}
	for _, repo := range []string{"/repos/{owner}/{repo}", "/repositories/{id}"} {
		s.writeRoutes(m, repo)
		s.relationRoutes(m, repo)
	}
	s.projectRoutes(m)
	m.HandleFunc("GET /rate_limit", s.getRateLimit)
	m.HandleFunc("GET /user", s.getAuthenticatedUser)
	m.HandleFunc("GET /app", s.getAuthenticatedApp)
	m.HandleFunc("POST /app/installations/{installation_id}/access_tokens", s.createInstallationToken)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeError(w, errNotFound) })
	s.mux = m
}

// writeRoutes registers the issue endpoints that GitHub serves only under
// a repository's name and, for a renamed one, under its ID (where the
// old name redirects).
func (s *Server) writeRoutes(m *http.ServeMux, repo string) {
	m.HandleFunc("POST "+repo+"/issues", s.createIssue)
	m.HandleFunc("GET "+repo+"/issues/{number}", s.getIssue)
	m.HandleFunc("PATCH "+repo+"/issues/{number}", s.editIssue)
	m.HandleFunc("POST "+repo+"/issues/{number}/comments", s.createComment)
	m.HandleFunc("POST "+repo+"/issues/{number}/labels", s.addIssueLabels)
	m.HandleFunc("PUT "+repo+"/issues/{number}/labels", s.replaceIssueLabels)
	m.HandleFunc("DELETE "+repo+"/issues/{number}/labels", s.removeAllIssueLabels)
	m.HandleFunc("DELETE "+repo+"/issues/{number}/labels/{name}", s.removeIssueLabel)
	m.HandleFunc("PUT "+repo+"/issues/{number}/lock", s.lockIssue)
	m.HandleFunc("DELETE "+repo+"/issues/{number}/lock", s.unlockIssue)
	m.HandleFunc("POST "+repo+"/labels", s.createLabel)
	m.HandleFunc("GET "+repo+"/labels/{name}", s.getLabel)
	m.HandleFunc("PATCH "+repo+"/labels/{name}", s.editLabel)
	m.HandleFunc("DELETE "+repo+"/labels/{name}", s.deleteLabel)
}

// repoLocked resolves the request's repository.
func (s *Server) repoLocked(r *http.Request) (*repository, *apiError) {
	var repo *repository
	if id := r.PathValue("id"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, errNotFound
		}
		repo = s.world.repoByID(n)
	} else {
		repo = s.world.repo(r.PathValue("owner"), r.PathValue("repo"))
	}
	if repo == nil {
		return nil, errNotFound
	}
	return repo, nil
}

// issueLocked resolves the request's repository and issue. Deleted issues
// answer 410 Gone and transferred ones 301 to where they went, as on GitHub.
func (s *Server) issueLocked(r *http.Request) (*repository, *issue, *apiError) {
	repo, e := s.repoLocked(r)
	if e != nil {
		return nil, nil, e
	}
	if repo.IssuesDisabled {
		return nil, nil, errIssuesDisabled
	}
	number, err := strconv.Atoi(r.PathValue("number"))
	if err != nil {
		return nil, nil, errNotFound
	}
	if is := repo.issue(number); is != nil {
		return repo, is, nil
	}
	if repo.wasDeleted(number) {
		return nil, nil, errIssueDeleted
	}
	if to, ok := repo.Moved[number]; ok {
		if target := s.world.repo(to.Owner, to.Repo); target != nil {
			l := s.linksLocked(r)
			newURL := l.issueAPI(target, to.Number)
			_, rest, _ := strings.Cut(r.URL.Path, "/issues/"+r.PathValue("number"))
			return nil, nil, &apiError{status: http.StatusMovedPermanently, Message: "Moved Permanently",
				DocumentationURL: docsREST, location: newURL + rest}
		}
	}
	return nil, nil, errNotFound
}

// readBody reads a request body (at most 10 MiB), trimmed of white space.
func readBody(r *http.Request) ([]byte, *apiError) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		return nil, errProblemsJSON
	}
	return bytes.TrimSpace(data), nil
}

// decodeBody decodes a JSON request body into v; an empty body leaves v
// alone.
func decodeBody(r *http.Request, v any) *apiError {
	data, e := readBody(r)
	if e != nil || len(data) == 0 {
		return e
	}
	if json.Unmarshal(data, v) != nil {
		return errProblemsJSON
	}
	return nil
}

// labelNames is a list of label names that also accepts GitHub's
// [{"name": ...}] form.
type labelNames []string

func (n *labelNames) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := make(labelNames, 0, len(raw))
	for _, item := range raw {
		var name string
		if json.Unmarshal(item, &name) == nil {
			out = append(out, name)
			continue
		}
		var obj struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(item, &obj); err != nil {
			return err
		}
		out = append(out, obj.Name)
	}
	*n = out
	return nil
}

// issueRequest is the body of creating or editing an issue.
type issueRequest struct {
	Title       *string     `json:"title"`
	Body        *string     `json:"body"`
	State       *string     `json:"state"`
	StateReason *string     `json:"state_reason"`
	Labels      *labelNames `json:"labels"`
	Assignee    *string     `json:"assignee"`
	Assignees   *[]string   `json:"assignees"`
	// Type is the issue type's name, {"value": name} or null.
	Type json.RawMessage `json:"type"`
}

// validate checks the fields GitHub validates.
func (req *issueRequest) validate(creating bool, doc string) *apiError {
	var errs []validationError
	if req.Title != nil || creating {
		switch {
		case req.Title == nil || strings.TrimSpace(*req.Title) == "":
			errs = append(errs, validationError{Resource: "Issue", Code: "missing_field", Field: "title"})
		case utf8.RuneCountInString(*req.Title) > maxTitleLength:
			errs = append(errs, validationError{Resource: "Issue", Code: "custom", Field: "title",
				Message: fmt.Sprintf("title is too long (maximum is %d characters)", maxTitleLength)})
		}
	}
	if req.Body != nil && utf8.RuneCountInString(*req.Body) > maxBodyLength {
		errs = append(errs, validationError{Resource: "Issue", Code: "custom", Field: "body",
			Message: fmt.Sprintf("body is too long (maximum is %d characters)", maxBodyLength)})
	}
	if req.State != nil && *req.State != "open" && *req.State != "closed" {
		errs = append(errs, validationError{Resource: "Issue", Code: "invalid", Field: "state"})
	}
	if req.StateReason != nil {
		switch *req.StateReason {
		case "completed", "not_planned", "reopened":
		default:
			errs = append(errs, validationError{Resource: "Issue", Code: "invalid", Field: "state_reason"})
		}
	}
	if len(errs) > 0 {
		return validationFailed(doc, errs...)
	}
	return nil
}

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request) {
	s.serveRead(w, r, func() (any, *apiError) {
		repo, e := s.repoLocked(r)
		if e != nil {
			return nil, e
		}
		return s.linksLocked(r).repository(repo), nil
	})
}

func (s *Server) createIssue(w http.ResponseWriter, r *http.Request) {
	var req issueRequest
	if e := decodeBody(r, &req); e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, e := s.repoLocked(r)
	if e == nil && repo.IssuesDisabled {
		e = errIssuesDisabled
	}
	if e == nil {
		e = req.validate(true, docsCreateIssue)
	}
	var typeID int64
	if e == nil {
		typeID, _, e = s.world.resolveIssueType(repo, req.Type, docsCreateIssue)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	sender := callerOf(r).user
	now := s.now()
	is := &issue{
		ID:        s.world.newIssueID(),
		Number:    repo.NextNumber,
		Title:     *req.Title,
		Body:      req.Body,
		State:     "open",
		Author:    sender,
		LabelIDs:  []int64{},
		Assignees: []string{},
		Comments:  []*comment{},
		CreatedAt: now,
		UpdatedAt: now,
		TypeID:    typeID,
	}
	if req.Body != nil && *req.Body == "" {
		is.Body = nil
	}
	repo.NextNumber++
	if req.Labels != nil {
		for _, name := range *req.Labels {
			if lb := s.world.ensureLabel(repo, name); !is.hasLabel(lb.ID) {
				is.LabelIDs = append(is.LabelIDs, lb.ID)
			}
		}
	}
	is.Assignees = requestedAssignees(req, nil)
	repo.Issues = append(repo.Issues, is)
	l := s.linksLocked(r)
	s.emitLocked(l, repo, is, sender, event{action: "opened"})
	s.saveLocked()
	w.Header().Set("Location", l.issueAPI(repo, is.Number))
	writeJSON(w, r, http.StatusCreated, l.issue(repo, is))
}

// requestedAssignees returns the assignees a request asks for, or current
// when it does not mention them.
func requestedAssignees(req issueRequest, current []string) []string {
	var out []string
	switch {
	case req.Assignees != nil:
		out = *req.Assignees
	case req.Assignee != nil:
		if *req.Assignee != "" {
			out = []string{*req.Assignee}
		}
	default:
		return current
	}
	uniq := []string{}
	for _, a := range out {
		if a != "" && !slices.ContainsFunc(uniq, func(b string) bool { return strings.EqualFold(a, b) }) {
			uniq = append(uniq, a)
		}
	}
	return uniq
}

func (s *Server) getIssue(w http.ResponseWriter, r *http.Request) {
	serveFound(s, w, r, s.issueLocked, links.issue)
}

// serveRead answers a GET with what read builds under the server's lock.
func (s *Server) serveRead(w http.ResponseWriter, r *http.Request, read func() (any, *apiError)) {
	s.mu.Lock()
	out, e := read()
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, r, http.StatusOK, out)
}

// serveFound is serveRead on the pair find locates from the request (a
// repository and its issue, a project and its item, ...), answered with
// what render makes of it.
func serveFound[A, B, T any](s *Server, w http.ResponseWriter, r *http.Request, find func(*http.Request) (A, B, *apiError), render func(l links, a A, b B) T) {
	s.serveRead(w, r, func() (any, *apiError) {
		a, b, e := find(r)
		if e != nil {
			return nil, e
		}
		return render(s.linksLocked(r), a, b), nil
	})
}

// serveWrite answers a write: the JSON body decoded into req (when req is
// not nil), then write under the server's lock. A write that succeeds is
// saved and answered with its status; one that fails changes nothing.
func (s *Server) serveWrite(w http.ResponseWriter, r *http.Request, req any, write func() (int, any, *apiError)) {
	if req != nil {
		if e := decodeBody(r, req); e != nil {
			writeError(w, e)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, out, e := write()
	if e != nil {
		writeError(w, e)
		return
	}
	s.saveLocked()
	if status == http.StatusNoContent {
		writeNoContent(w)
		return
	}
	writeJSON(w, r, status, out)
}

// serveIssueWrite is serveWrite on the issue the path names.
func (s *Server) serveIssueWrite(w http.ResponseWriter, r *http.Request, req any, write func(repo *repository, is *issue) (int, any, *apiError)) {
	s.serveWrite(w, r, req, func() (int, any, *apiError) {
		repo, is, e := s.issueLocked(r)
		if e != nil {
			return 0, nil, e
		}
		return write(repo, is)
	})
}

// find returns the first of xs that match accepts, or nil.
func find[T any](xs []*T, match func(*T) bool) *T {
	if i := slices.IndexFunc(xs, match); i >= 0 {
		return xs[i]
	}
	return nil
}

func (s *Server) editIssue(w http.ResponseWriter, r *http.Request) {
	var req issueRequest
	if e := decodeBody(r, &req); e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, is, e := s.issueLocked(r)
	if e == nil {
		e = req.validate(false, docsUpdateIssue)
	}
	var typeID int64
	var typeGiven bool
	if e == nil {
		typeID, typeGiven, e = s.world.resolveIssueType(repo, req.Type, docsUpdateIssue)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	sender := callerOf(r).user
	l := s.linksLocked(r)
	if typeGiven && typeID != is.TypeID {
		is.TypeID = typeID
		is.UpdatedAt = s.now()
	}
	s.applyEditLocked(l, repo, is, req, sender)
	s.saveLocked()
	writeJSON(w, r, http.StatusOK, l.issue(repo, is))
}

// applyEditLocked changes an issue as PATCH does and emits the webhooks
// GitHub sends for each kind of change.
func (s *Server) applyEditLocked(l links, repo *repository, is *issue, req issueRequest, sender user) {
	now := s.now()
	var events []event

	changes := map[string]any{}
	if req.Title != nil && *req.Title != is.Title {
		changes["title"] = map[string]string{"from": is.Title}
		is.Title = *req.Title
	}
	if req.Body != nil {
		newBody := req.Body
		if *newBody == "" {
			newBody = nil
		}
		if derefOr(newBody, "") != derefOr(is.Body, "") {
			changes["body"] = map[string]string{"from": derefOr(is.Body, "")}
			is.Body = newBody
		}
	}
	if len(changes) > 0 {
		events = append(events, event{action: "edited", changes: changes})
	}

	if req.State != nil && *req.State != is.State {
		if *req.State == "closed" {
			reason := "completed"
			if req.StateReason != nil && *req.StateReason != "reopened" {
				reason = *req.StateReason
			}
			closeIssue(is, reason, sender, now)
			events = append(events, event{action: "closed"})
		} else {
			reopenIssue(is)
			events = append(events, event{action: "reopened"})
		}
	} else if req.StateReason != nil && is.State == "closed" && *req.StateReason != "reopened" && *req.StateReason != is.StateReason {
		is.StateReason = *req.StateReason
		events = append(events, event{action: "edited", changes: map[string]any{}})
	}

	if req.Labels != nil {
		var ids []int64
		for _, name := range *req.Labels {
			lb := s.world.ensureLabel(repo, name)
			if !slices.Contains(ids, lb.ID) {
				ids = append(ids, lb.ID)
			}
		}
		events = append(events, s.setLabelsLocked(repo, is, ids)...)
	}

	if req.Assignees != nil || req.Assignee != nil {
		next := requestedAssignees(req, is.Assignees)
		for _, a := range is.Assignees {
			if !slices.Contains(next, a) {
				events = append(events, event{action: "unassigned", assignee: a})
			}
		}
		for _, a := range next {
			if !slices.Contains(is.Assignees, a) {
				events = append(events, event{action: "assigned", assignee: a})
			}
		}
		is.Assignees = next
	}

	if len(events) > 0 {
		is.UpdatedAt = now
	}
	for _, ev := range events {
		s.emitLocked(l, repo, is, sender, ev)
	}
}

// setLabelsLocked replaces an issue's labels and returns the labeled and
// unlabeled events for the difference.
func (s *Server) setLabelsLocked(repo *repository, is *issue, ids []int64) []event {
	var events []event
	for _, id := range is.LabelIDs {
		if !slices.Contains(ids, id) {
			if lb := repo.labelByID(id); lb != nil {
				events = append(events, event{action: "unlabeled", label: lb})
			}
		}
	}
	for _, id := range ids {
		if !is.hasLabel(id) {
			if lb := repo.labelByID(id); lb != nil {
				events = append(events, event{action: "labeled", label: lb})
			}
		}
	}
	if ids == nil {
		ids = []int64{}
	}
	is.LabelIDs = ids
	return events
}

func closeIssue(is *issue, reason string, by user, now time.Time) {
	if reason == "" {
		reason = "completed"
	}
	is.State = "closed"
	is.StateReason = reason
	closedAt := now
	is.ClosedAt = &closedAt
	is.ClosedBy = &by
}

func reopenIssue(is *issue) {
	is.State = "open"
	is.StateReason = "reopened"
	is.ClosedAt = nil
	is.ClosedBy = nil
}

func derefOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// listIssues serves GET /repos/{owner}/{repo}/issues and its
// /repositories/{id} form.
func (s *Server) listIssues(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.serveRead(w, r, func() (any, *apiError) {
		repo, e := s.repoLocked(r)
		if e == nil && repo.IssuesDisabled {
			e = errIssuesDisabled
		}
		if e != nil {
			return nil, e
		}
		state := q.Get("state")
		if state == "" {
			state = "open"
		}
		if state != "open" && state != "closed" && state != "all" {
			return nil, validationFailed("https://docs.github.com/rest/issues/issues#list-repository-issues",
				validationError{Resource: "Issue", Code: "invalid", Field: "state"})
		}
		var wantLabels []string
		if v := q.Get("labels"); v != "" {
			for _, name := range strings.Split(v, ",") {
				if name = strings.TrimSpace(name); name != "" {
					wantLabels = append(wantLabels, name)
				}
			}
		}
		var since time.Time
		if v := q.Get("since"); v != "" {
			since, _ = time.Parse(time.RFC3339, v)
		}
		assignee, creator := q.Get("assignee"), q.Get("creator")

		var matched []*issue
		for _, is := range repo.Issues {
			if state != "all" && is.State != state {
				continue
			}
			if !since.IsZero() && is.UpdatedAt.Before(since) {
				continue
			}
			if creator != "" && !strings.EqualFold(is.Author.Login, creator) {
				continue
			}
			if !matchesAssignee(is, assignee) || !hasAllLabels(repo, is, wantLabels) {
				continue
			}
			matched = append(matched, is)
		}
		sortIssues(matched, q.Get("sort"), q.Get("direction"))
		l := s.linksLocked(r)
		page, perPage := pagination(q.Get("page"), q.Get("per_page"))
		out := []*issueJSON{}
		for _, is := range pageOf(matched, page, perPage) {
			out = append(out, l.issue(repo, is))
		}
		setLinkHeader(w, r, l.api("repositories/%d/issues", repo.ID), page, perPage, len(matched))
		return out, nil
	})
}

func matchesAssignee(is *issue, assignee string) bool {
	switch assignee {
	case "", "*":
		return assignee == "" || len(is.Assignees) > 0
	case "none":
		return len(is.Assignees) == 0
	}
	return slices.ContainsFunc(is.Assignees, func(a string) bool { return strings.EqualFold(a, assignee) })
}

func hasAllLabels(repo *repository, is *issue, names []string) bool {
	for _, name := range names {
		lb := repo.label(name)
		if lb == nil || !is.hasLabel(lb.ID) {
			return false
		}
	}
	return true
}

// sortIssues orders issues as GitHub does: by created (default), updated or
// comments, descending unless direction is asc; ties by number.
func sortIssues(issues []*issue, by, direction string) {
	asc := direction == "asc"
	key := func(is *issue) int64 {
		switch by {
		case "updated":
			return is.UpdatedAt.UnixNano()
		case "comments":
			return int64(len(is.Comments))
		}
		return is.CreatedAt.UnixNano()
	}
	sort.SliceStable(issues, func(i, j int) bool {
		a, b := issues[i], issues[j]
		ka, kb := key(a), key(b)
		if ka == kb {
			ka, kb = int64(a.Number), int64(b.Number)
		}
		if asc {
			return ka < kb
		}
		return ka > kb
	})
}

// pagination reads page and per_page: per_page defaults to 30 and is at
// most 100, pages start at 1.
func pagination(pageParam, perPageParam string) (page, perPage int) {
	page, err := strconv.Atoi(pageParam)
	if err != nil || page < 1 {
		page = 1
	}
	perPage, err = strconv.Atoi(perPageParam)
	if err != nil || perPage < 1 {
		perPage = 30
	}
	return page, min(perPage, 100)
}

func pageOf[T any](items []T, page, perPage int) []T {
	start := (page - 1) * perPage
	if start >= len(items) {
		return nil
	}
	return items[start:min(start+perPage, len(items))]
}

// setLinkHeader writes GitHub's Link header: rel prev, next, last and first
// as they apply, pointing at base with the request's query and page=N.
func setLinkHeader(w http.ResponseWriter, r *http.Request, base string, page, perPage, total int) {
	last := max(1, (total+perPage-1)/perPage)
	if page == 1 && last == 1 {
		return
	}
	var kept []string
	for _, part := range strings.Split(r.URL.RawQuery, "&") {
		if part != "" && !strings.HasPrefix(part, "page=") {
			kept = append(kept, part)
		}
	}
	link := func(n int, rel string) string {
		return fmt.Sprintf(`<%s?%s>; rel="%s"`, base, strings.Join(append(slices.Clone(kept), "page="+strconv.Itoa(n)), "&"), rel)
	}
	var rels []string
	if page > 1 {
		rels = append(rels, link(min(page-1, last), "prev"))
	}
	if page < last {
		rels = append(rels, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		rels = append(rels, link(1, "first"))
	}
	w.Header().Set("Link", strings.Join(rels, ", "))
}

// listComments serves GET .../issues/{number}/comments.
func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	s.serveRead(w, r, func() (any, *apiError) {
		repo, is, e := s.issueLocked(r)
		if e != nil {
			return nil, e
		}
		var since time.Time
		if v := r.URL.Query().Get("since"); v != "" {
			since, _ = time.Parse(time.RFC3339, v)
		}
		var matched []*comment
		for _, c := range is.Comments {
			if since.IsZero() || !c.UpdatedAt.Before(since) {
				matched = append(matched, c)
			}
		}
		l := s.linksLocked(r)
		page, perPage := pagination(r.URL.Query().Get("page"), r.URL.Query().Get("per_page"))
		out := []*commentJSON{}
		for _, c := range pageOf(matched, page, perPage) {
			out = append(out, l.comment(repo, is, c))
		}
		setLinkHeader(w, r, l.api("repositories/%d/issues/%d/comments", repo.ID, is.Number), page, perPage, len(matched))
		return out, nil
	})
}

// createComment serves POST .../issues/{number}/comments.
func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Body *string `json:"body"`
	}
	if e := decodeBody(r, &req); e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, is, e := s.issueLocked(r)
	if e == nil && (req.Body == nil || strings.TrimSpace(*req.Body) == "") {
		e = validationFailed(docsComment, validationError{Resource: "IssueComment", Code: "missing_field", Field: "body"})
	}
	if e == nil && utf8.RuneCountInString(*req.Body) > maxBodyLength {
		e = validationFailed(docsComment, validationError{Resource: "IssueComment", Code: "custom", Field: "body",
			Message: fmt.Sprintf("body is too long (maximum is %d characters)", maxBodyLength)})
	}
	if e != nil {
		writeError(w, e)
		return
	}
	now := s.now()
	c := &comment{ID: s.world.newCommentID(), Body: *req.Body, Author: callerOf(r).user, CreatedAt: now, UpdatedAt: now}
	is.Comments = append(is.Comments, c)
	is.UpdatedAt = now
	s.saveLocked()
	l := s.linksLocked(r)
	out := l.comment(repo, is, c)
	w.Header().Set("Location", out.URL)
	writeJSON(w, r, http.StatusCreated, out)
}

// lockIssue serves PUT .../issues/{number}/lock.
func (s *Server) lockIssue(w http.ResponseWriter, r *http.Request) {
	var req struct {
		LockReason string `json:"lock_reason"`
	}
	// The recorded client sends an empty form-encoded body; only a JSON
	// body is decoded.
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if e := decodeBody(r, &req); e != nil {
			writeError(w, e)
			return
		}
	}
	switch req.LockReason {
	case "", "off-topic", "too heated", "resolved", "spam":
	default:
		writeError(w, validationFailed("https://docs.github.com/rest/issues/issues#lock-an-issue",
			validationError{Resource: "Issue", Code: "invalid", Field: "lock_reason"}))
		return
	}
	s.setLock(w, r, true, req.LockReason)
}

// unlockIssue serves DELETE .../issues/{number}/lock.
func (s *Server) unlockIssue(w http.ResponseWriter, r *http.Request) {
	s.setLock(w, r, false, "")
}

func (s *Server) setLock(w http.ResponseWriter, r *http.Request, locked bool, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, is, e := s.issueLocked(r)
	if e != nil {
		writeError(w, e)
		return
	}
	if is.Locked != locked || is.ActiveLockReason != reason {
		is.Locked = locked
		is.ActiveLockReason = reason
		is.UpdatedAt = s.now()
		action := "unlocked"
		if locked {
			action = "locked"
		}
		s.emitLocked(s.linksLocked(r), repo, is, callerOf(r).user, event{action: action})
		s.saveLocked()
	}
	writeNoContent(w)
}

// Issue is a snapshot of an issue for test assertions.
type Issue struct {
	ID          int64
	Number      int
	Title       string
	Body        string
	State       string // open or closed
	StateReason string // completed, not_planned, reopened or empty
	Labels      []string
	Assignees   []string
	// Comments are the comment bodies, oldest first.
	Comments  []string
	Locked    bool
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  *time.Time
	HTMLURL   string
}

// Issues returns a snapshot of the repository's issues by number. Deleted
// issues are gone; transferred ones are listed under their new repository.
func (s *Server) Issues(owner, repo string) []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.world.repo(owner, repo)
	if r == nil {
		return nil
	}
	l := s.linksLocked(nil)
	out := make([]Issue, 0, len(r.Issues))
	for _, is := range r.Issues {
		snap := Issue{
			ID:          is.ID,
			Number:      is.Number,
			Title:       is.Title,
			Body:        derefOr(is.Body, ""),
			State:       is.State,
			StateReason: is.StateReason,
			Labels:      []string{},
			Assignees:   slices.Clone(is.Assignees),
			Comments:    []string{},
			Locked:      is.Locked,
			CreatedAt:   is.CreatedAt,
			UpdatedAt:   is.UpdatedAt,
			HTMLURL:     l.issueHTML(r, is.Number),
		}
		for _, id := range is.LabelIDs {
			if lb := r.labelByID(id); lb != nil {
				snap.Labels = append(snap.Labels, lb.Name)
			}
		}
		for _, c := range is.Comments {
			snap.Comments = append(snap.Comments, c.Body)
		}
		if is.ClosedAt != nil {
			t := *is.ClosedAt
			snap.ClosedAt = &t
		}
		out = append(out, snap)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// findIssueLocked finds an issue for the direct methods.
func (s *Server) findIssueLocked(owner, repo string, number int) (*repository, *issue, error) {
	r := s.world.repo(owner, repo)
	if r == nil {
		return nil, nil, fmt.Errorf("repository %s/%s: %w", owner, repo, ErrNotFound)
	}
	is := r.issue(number)
	if is == nil {
		return nil, nil, fmt.Errorf("issue %s/%s#%d: %w", owner, repo, number, ErrNotFound)
	}
	return r, is, nil
}

// CloseIssue closes an issue as a person would in the web UI, with
// state_reason completed (the default for "") or not_planned, and sends the
// closed webhook.
func (s *Server) CloseIssue(owner, repo string, number int, reason string) error {
	switch reason {
	case "", "completed", "not_planned":
	default:
		return fmt.Errorf("localgithub: invalid close reason %q", reason)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, is, err := s.findIssueLocked(owner, repo, number)
	if err != nil {
		return err
	}
	if is.State == "closed" {
		return nil
	}
	now := s.now()
	closeIssue(is, reason, personUser, now)
	is.UpdatedAt = now
	s.emitLocked(s.linksLocked(nil), r, is, personUser, event{action: "closed"})
	s.saveLocked()
	return nil
}

// ReopenIssue reopens an issue as a person would and sends the reopened
// webhook.
func (s *Server) ReopenIssue(owner, repo string, number int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, is, err := s.findIssueLocked(owner, repo, number)
	if err != nil {
		return err
	}
	if is.State == "open" {
		return nil
	}
	reopenIssue(is)
	is.UpdatedAt = s.now()
	s.emitLocked(s.linksLocked(nil), r, is, personUser, event{action: "reopened"})
	s.saveLocked()
	return nil
}

// DeleteIssue deletes an issue as a person would; the API then answers 410
// Gone for it. It sends the deleted webhook.
func (s *Server) DeleteIssue(owner, repo string, number int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, is, err := s.findIssueLocked(owner, repo, number)
	if err != nil {
		return err
	}
	s.emitLocked(s.linksLocked(nil), r, is, personUser, event{action: "deleted"})
	r.removeIssue(number)
	r.Deleted = append(r.Deleted, number)
	s.saveLocked()
	return nil
}

// TransferIssue moves an issue to another repository as a person would. It
// gets a new number there; labels the target has (by name) are kept. The
// API answers 301 for the old location. It sends the transferred webhook
// for the old repository and the opened webhook for the new one.
func (s *Server) TransferIssue(owner, repo string, number int, toOwner, toRepo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	from, is, err := s.findIssueLocked(owner, repo, number)
	if err != nil {
		return err
	}
	to := s.world.repo(toOwner, toRepo)
	if to == nil {
		return fmt.Errorf("repository %s/%s: %w", toOwner, toRepo, ErrNotFound)
	}
	if to == from {
		return errors.New("localgithub: cannot transfer an issue to its own repository")
	}
	l := s.linksLocked(nil)
	oldJSON := l.issue(from, is)

	moved := *is
	moved.ID = s.world.newIssueID()
	moved.Number = to.NextNumber
	moved.UpdatedAt = s.now()
	moved.LabelIDs = []int64{}
	for _, id := range is.LabelIDs {
		if lb := from.labelByID(id); lb != nil {
			if target := to.label(lb.Name); target != nil {
				moved.LabelIDs = append(moved.LabelIDs, target.ID)
			}
		}
	}
	to.NextNumber++
	to.Issues = append(to.Issues, &moved)
	from.removeIssue(number)
	if from.Moved == nil {
		from.Moved = map[int]issueRef{}
	}
	from.Moved[number] = issueRef{Owner: to.Owner, Repo: to.Name, Number: moved.Number}

	s.emitPayloadLocked("transferred", issuesEvent{
		Action: "transferred",
		Issue:  oldJSON,
		Changes: map[string]any{
			"new_issue":      l.issue(to, &moved),
			"new_repository": l.repository(to),
		},
		Repository: l.repository(from),
		Sender:     l.user(personUser),
	})
	s.emitLocked(l, to, &moved, personUser, event{action: "opened"})
	s.saveLocked()
	return nil
}

// getAuthenticatedUser serves GET /user: the account a personal access
// token acts as. An installation token has no user: GitHub answers 403
// "Resource not accessible by integration".
func (s *Server) getAuthenticatedUser(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	if c.user.Type == "Bot" {
		writeError(w, &apiError{status: http.StatusForbidden, Message: "Resource not accessible by integration", DocumentationURL: docsREST})
		return
	}
	s.mu.Lock()
	l := s.linksLocked(r)
	s.mu.Unlock()
	writeJSON(w, r, http.StatusOK, l.user(c.user))
}

// getAuthenticatedApp serves GET /app to a GitHub App's JWT: the app, with
// the slug whose bot ("<slug>[bot]") writes its installations' comments.
func (s *Server) getAuthenticatedApp(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	if c.app == 0 {
		writeError(w, &apiError{status: http.StatusUnauthorized, Message: "A JSON web token could not be decoded", DocumentationURL: docsREST})
		return
	}
	bot := appUser(c.app)
	slug := strings.TrimSuffix(bot.Login, "[bot]")
	writeJSON(w, r, http.StatusOK, map[string]any{"id": c.app, "slug": slug, "name": slug, "node_id": fmt.Sprintf("A_%d", c.app)})
}

// Comment adds a comment as a person would in the web UI (the account
// "monalisa"), not as the token's account.
func (s *Server) Comment(owner, repo string, number int, body string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, is, err := s.findIssueLocked(owner, repo, number)
	if err != nil {
		return err
	}
	now := s.now()
	is.Comments = append(is.Comments, &comment{ID: s.world.newCommentID(), Body: body, Author: personUser, CreatedAt: now, UpdatedAt: now})
	is.UpdatedAt = now
	s.saveLocked()
	return nil
}

// AddHistory adds n closed issues to owner/repo, as a repository holds after
// years of work: each labelled with labels, titled and with a body of about
// bodyBytes (which may carry a key marker made by body(i)), closed as
// completed at times before now, oldest first. No webhook is sent. It
// returns the number of the first.
func (s *Server) AddHistory(owner, repo string, n int, labels []string, body func(i int) string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.world.repo(owner, repo)
	if r == nil {
		return 0, ErrNotFound
	}
	var ids []int64
	for _, name := range labels {
		ids = append(ids, s.world.ensureLabel(r, name).ID)
	}
	first := r.NextNumber
	start := s.now().Add(-time.Duration(n+1) * time.Hour)
	for i := range n {
		created := start.Add(time.Duration(i) * time.Hour)
		closed := created.Add(30 * time.Minute)
		b := body(i)
		is := &issue{
			ID: s.world.newIssueID(), Number: r.NextNumber, Title: fmt.Sprintf("Earlier work %d", i+1), Body: &b,
			State: "closed", StateReason: "completed", Author: tokenUser, LabelIDs: append([]int64(nil), ids...),
			Assignees: []string{}, Comments: []*comment{}, CreatedAt: created, UpdatedAt: closed, ClosedAt: &closed,
		}
		r.NextNumber++
		r.Issues = append(r.Issues, is)
	}
	s.saveLocked()
	return first, nil
}
