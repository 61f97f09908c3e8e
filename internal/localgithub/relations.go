package localgithub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file serves the relations between issues that GitHub added after
// the 2022 recordings: sub-issues (with their parent's progress), issue
// dependencies (blocked by / blocking) and the issue types organisations
// define. Paths, bodies and answers follow GitHub's OpenAPI description
// (testdata/github/openapi).

const (
	docsSubIssues    = "https://docs.github.com/rest/issues/sub-issues#add-sub-issue"
	docsDependencies = "https://docs.github.com/rest/issues/issue-dependencies#add-a-dependency-an-issue-is-blocked-by"
	docsIssueTypes   = "https://docs.github.com/rest/orgs/issue-types#list-issue-types-for-an-organization"

	// maxSubIssues is GitHub's limit of sub-issues per parent.
	maxSubIssues = 100
)

// issueType is an issue type an organisation defines.
type issueType struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Color       string    `json:"color,omitempty"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
}

type issueTypeJSON struct {
	ID          int64     `json:"id"`
	NodeID      string    `json:"node_id"`
	Name        string    `json:"name"`
	Description *string   `json:"description"`
	Color       *string   `json:"color"`
	CreatedAt   timestamp `json:"created_at"`
	UpdatedAt   timestamp `json:"updated_at"`
	IsEnabled   bool      `json:"is_enabled"`
}

func renderIssueType(t *issueType) *issueTypeJSON {
	out := &issueTypeJSON{ID: t.ID, NodeID: nodeID("IT_", t.ID), Name: t.Name, CreatedAt: ts(t.CreatedAt), UpdatedAt: ts(t.CreatedAt), IsEnabled: t.Enabled}
	if t.Description != "" {
		d := t.Description
		out.Description = &d
	}
	if t.Color != "" {
		c := t.Color
		out.Color = &c
	}
	return out
}

type subIssuesSummaryJSON struct {
	Total            int `json:"total"`
	Completed        int `json:"completed"`
	PercentCompleted int `json:"percent_completed"`
}

type issueDependenciesSummaryJSON struct {
	BlockedBy      int `json:"blocked_by"`
	Blocking       int `json:"blocking"`
	TotalBlockedBy int `json:"total_blocked_by"`
	TotalBlocking  int `json:"total_blocking"`
}

// issueByID finds an issue in any repository by its ID.
func (w *world) issueByID(id int64) (*repository, *issue) {
	for _, r := range w.Repos {
		if is := find(r.Issues, func(is *issue) bool { return is.ID == id }); is != nil {
			return r, is
		}
	}
	return nil, nil
}

// countIssues counts the issues of ids that exist (total) and those of
// them in state.
func (w *world) countIssues(ids []int64, state string) (total, inState int) {
	for _, id := range ids {
		if _, is := w.issueByID(id); is != nil {
			total++
			if is.State == state {
				inState++
			}
		}
	}
	return total, inState
}

// renderRelations fills in an issue's sub-issue progress, dependencies,
// parent and type.
func (w *world) renderRelations(l links, r *repository, is *issue, out *issueJSON) {
	sum := &subIssuesSummaryJSON{}
	sum.Total, sum.Completed = w.countIssues(is.SubIssueIDs, "closed")
	if sum.Total > 0 {
		sum.PercentCompleted = sum.Completed * 100 / sum.Total
	}
	out.SubIssuesSummary = sum
	deps := &issueDependenciesSummaryJSON{}
	deps.TotalBlockedBy, deps.BlockedBy = w.countIssues(is.BlockedBy, "open")
	deps.TotalBlocking, deps.Blocking = w.countIssues(is.Blocking, "open")
	out.IssueDependenciesSummary = deps
	if is.ParentID != 0 {
		if pr, parent := w.issueByID(is.ParentID); parent != nil {
			u := l.issueAPI(pr, parent.Number)
			out.ParentIssueURL = &u
		}
	}
	if is.TypeID != 0 {
		if t := w.issueTypeByID(is.TypeID); t != nil {
			out.Type = renderIssueType(t)
		}
	}
}

func (w *world) issueTypeByID(id int64) *issueType {
	for _, types := range w.IssueTypes {
		for _, t := range types {
			if t.ID == id {
				return t
			}
		}
	}
	return nil
}

// resolveIssueType reads the type of an issue request: a name, {"value":
// name} or null (no type). given reports whether the request named one.
// A name the repository owner does not define is a validation error.
func (w *world) resolveIssueType(repo *repository, raw json.RawMessage, doc string) (id int64, given bool, e *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, false, nil
	}
	if bytes.Equal(raw, []byte("null")) {
		return 0, true, nil
	}
	var name string
	if json.Unmarshal(raw, &name) != nil {
		var obj struct {
			Value *string `json:"value"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			return 0, false, validationFailed(doc, validationError{Resource: "Issue", Code: "invalid", Field: "type"})
		}
		if obj.Value == nil {
			return 0, true, nil
		}
		name = *obj.Value
	}
	for _, t := range w.IssueTypes[strings.ToLower(repo.Owner)] {
		if t.Enabled && strings.EqualFold(t.Name, name) {
			return t.ID, true, nil
		}
	}
	return 0, false, validationFailed(doc, validationError{Resource: "Issue", Code: "invalid", Field: "type",
		Message: fmt.Sprintf("Issue type %q does not exist for this repository", name)})
}

// relationRoutes registers the sub-issue and dependency endpoints under a
// repository prefix, and the organisation's issue types.
func (s *Server) relationRoutes(m *http.ServeMux, repo string) {
	m.HandleFunc("GET "+repo+"/issues/{number}/sub_issues", s.listSubIssues)
	m.HandleFunc("POST "+repo+"/issues/{number}/sub_issues", s.addSubIssue)
	m.HandleFunc("DELETE "+repo+"/issues/{number}/sub_issue", s.removeSubIssue)
	m.HandleFunc("PATCH "+repo+"/issues/{number}/sub_issues/priority", s.reprioritizeSubIssue)
	m.HandleFunc("GET "+repo+"/issues/{number}/dependencies/blocked_by", s.listBlockedBy)
	m.HandleFunc("POST "+repo+"/issues/{number}/dependencies/blocked_by", s.addBlockedBy)
	m.HandleFunc("DELETE "+repo+"/issues/{number}/dependencies/blocked_by/{issue_id}", s.removeBlockedBy)
	m.HandleFunc("GET "+repo+"/issues/{number}/dependencies/blocking", s.listBlocking)
}

// listIssuesByID answers a page of the issues with the given IDs.
func (s *Server) listIssuesByID(w http.ResponseWriter, r *http.Request, base string, ids func(*issue) []int64) {
	s.serveRead(w, r, func() (any, *apiError) {
		repo, is, e := s.issueLocked(r)
		if e != nil {
			return nil, e
		}
		l := s.linksLocked(r)
		var all []*issueJSON
		for _, id := range ids(is) {
			if rr, other := s.world.issueByID(id); other != nil {
				all = append(all, l.issue(rr, other))
			}
		}
		page, perPage := pagination(r.URL.Query().Get("page"), r.URL.Query().Get("per_page"))
		out := []*issueJSON{}
		out = append(out, pageOf(all, page, perPage)...)
		setLinkHeader(w, r, l.api("repositories/%d/issues/%d/%s", repo.ID, is.Number, base), page, perPage, len(all))
		return out, nil
	})
}

func (s *Server) listSubIssues(w http.ResponseWriter, r *http.Request) {
	s.listIssuesByID(w, r, "sub_issues", func(is *issue) []int64 { return is.SubIssueIDs })
}

func (s *Server) listBlockedBy(w http.ResponseWriter, r *http.Request) {
	s.listIssuesByID(w, r, "dependencies/blocked_by", func(is *issue) []int64 { return is.BlockedBy })
}

func (s *Server) listBlocking(w http.ResponseWriter, r *http.Request) {
	s.listIssuesByID(w, r, "dependencies/blocking", func(is *issue) []int64 { return is.Blocking })
}

// relation names what a request body's issue ID is for, as GitHub's 422
// answers name it.
type relation struct{ doc, resource, field string }

// rule is one of GitHub's rules for a relation: broken, it is refused with msg.
type rule struct {
	broken bool
	msg    string
}

// other finds the issue a request body names by id: missing is a 422
// naming the field, unknown a 404.
func (s *Server) other(rel relation, id *int64) (*issue, *apiError) {
	if id == nil {
		return nil, validationFailed(rel.doc, validationError{Resource: rel.resource, Code: "missing_field", Field: rel.field})
	}
	if _, is := s.world.issueByID(*id); is != nil {
		return is, nil
	}
	return nil, errNotFound
}

// check refuses the first rule broken.
func (rel relation) check(rules ...rule) *apiError {
	for _, r := range rules {
		if r.broken {
			return refused(rel.doc, rel.resource, rel.field, r.msg)
		}
	}
	return nil
}

// addSubIssue serves POST .../issues/{number}/sub_issues: the issue with
// sub_issue_id becomes the last sub-issue. As on GitHub, an issue already
// a sub-issue of this parent, or of another without replace_parent, is
// refused with 422.
func (s *Server) addSubIssue(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SubIssueID    *int64 `json:"sub_issue_id"`
		ReplaceParent bool   `json:"replace_parent"`
	}
	s.serveIssueWrite(w, r, &req, func(repo *repository, parent *issue) (int, any, *apiError) {
		rel := relation{docsSubIssues, "Issue", "sub_issue_id"}
		sub, e := s.other(rel, req.SubIssueID)
		if e == nil {
			e = rel.check(rule{sub == parent, "An issue cannot be a sub-issue of itself"},
				rule{sub.ParentID == parent.ID, "Issue may not contain duplicate sub-issues"},
				rule{sub.ParentID != 0 && !req.ReplaceParent, "Sub-issue may only have one parent"},
				rule{len(parent.SubIssueIDs) >= maxSubIssues, fmt.Sprintf("Parent may have at most %d sub-issues", maxSubIssues)})
		}
		if e != nil {
			return 0, nil, e
		}
		if sub.ParentID != 0 {
			if _, old := s.world.issueByID(sub.ParentID); old != nil {
				old.SubIssueIDs = without(old.SubIssueIDs, sub.ID)
			}
		}
		sub.ParentID = parent.ID
		parent.SubIssueIDs = append(parent.SubIssueIDs, sub.ID)
		parent.UpdatedAt = s.now()
		return http.StatusCreated, s.linksLocked(r).issue(repo, parent), nil
	})
}

// without returns ids without id.
func without(ids []int64, id int64) []int64 {
	return slices.DeleteFunc(ids, func(x int64) bool { return x == id })
}

// removeSubIssue serves DELETE .../issues/{number}/sub_issue.
func (s *Server) removeSubIssue(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SubIssueID *int64 `json:"sub_issue_id"`
	}
	s.serveIssueWrite(w, r, &req, func(_ *repository, parent *issue) (int, any, *apiError) {
		if req.SubIssueID == nil {
			return 0, nil, &apiError{status: http.StatusBadRequest, Message: "sub_issue_id is required", DocumentationURL: docsSubIssues}
		}
		subRepo, sub := s.world.issueByID(*req.SubIssueID)
		if sub == nil || sub.ParentID != parent.ID {
			return 0, nil, errNotFound
		}
		sub.ParentID = 0
		parent.SubIssueIDs = without(parent.SubIssueIDs, sub.ID)
		parent.UpdatedAt = s.now()
		return http.StatusOK, s.linksLocked(r).issue(subRepo, sub), nil
	})
}

// reprioritizeSubIssue serves PATCH .../issues/{number}/sub_issues/priority:
// the sub-issue moves just after after_id or just before before_id.
func (s *Server) reprioritizeSubIssue(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SubIssueID *int64 `json:"sub_issue_id"`
		AfterID    *int64 `json:"after_id"`
		BeforeID   *int64 `json:"before_id"`
	}
	s.serveIssueWrite(w, r, &req, func(repo *repository, parent *issue) (int, any, *apiError) {
		// GitHub answers this operation with a "Validation Error Simple":
		// its errors are strings, not objects.
		invalid := func(field string) (int, any, *apiError) {
			return 0, nil, &apiError{status: http.StatusUnprocessableEntity, Message: "Validation Failed", Errors: []string{field + " is invalid"},
				DocumentationURL: "https://docs.github.com/rest/issues/sub-issues#reprioritize-sub-issue"}
		}
		if req.SubIssueID == nil || !slices.Contains(parent.SubIssueIDs, *req.SubIssueID) {
			return invalid("sub_issue_id")
		}
		if (req.AfterID == nil) == (req.BeforeID == nil) {
			return invalid("after_id")
		}
		anchor, field := req.AfterID, "after_id"
		if req.BeforeID != nil {
			anchor, field = req.BeforeID, "before_id"
		}
		if *anchor == *req.SubIssueID || !slices.Contains(parent.SubIssueIDs, *anchor) {
			return invalid(field)
		}
		ids := without(slices.Clone(parent.SubIssueIDs), *req.SubIssueID)
		at := slices.Index(ids, *anchor)
		if req.AfterID != nil {
			at++
		}
		parent.SubIssueIDs = slices.Insert(ids, at, *req.SubIssueID)
		parent.UpdatedAt = s.now()
		return http.StatusOK, s.linksLocked(r).issue(repo, parent), nil
	})
}

// addBlockedBy serves POST .../issues/{number}/dependencies/blocked_by.
func (s *Server) addBlockedBy(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IssueID *int64 `json:"issue_id"`
	}
	s.serveIssueWrite(w, r, &req, func(repo *repository, is *issue) (int, any, *apiError) {
		rel := relation{docsDependencies, "IssueDependency", "issue_id"}
		blocker, e := s.other(rel, req.IssueID)
		if e == nil {
			e = rel.check(rule{blocker == is, "An issue cannot be blocked by itself"},
				rule{slices.Contains(is.BlockedBy, blocker.ID), "Issue is already blocked by this issue"},
				rule{slices.Contains(blocker.BlockedBy, is.ID), "Dependencies may not form a cycle"})
		}
		if e != nil {
			return 0, nil, e
		}
		is.BlockedBy = append(is.BlockedBy, blocker.ID)
		blocker.Blocking = append(blocker.Blocking, is.ID)
		is.UpdatedAt = s.now()
		return http.StatusCreated, s.linksLocked(r).issue(repo, is), nil
	})
}

// removeBlockedBy serves DELETE .../dependencies/blocked_by/{issue_id}.
func (s *Server) removeBlockedBy(w http.ResponseWriter, r *http.Request) {
	s.serveIssueWrite(w, r, nil, func(_ *repository, is *issue) (int, any, *apiError) {
		id, err := strconv.ParseInt(r.PathValue("issue_id"), 10, 64)
		if err != nil || !slices.Contains(is.BlockedBy, id) {
			return 0, nil, errNotFound
		}
		is.BlockedBy = without(is.BlockedBy, id)
		is.UpdatedAt = s.now()
		br, blocker := s.world.issueByID(id)
		if blocker == nil {
			// The blocker was deleted: its dangling ID is gone now (saved),
			// and there is no issue to answer with.
			return http.StatusNotFound, errNotFound, nil
		}
		blocker.Blocking = without(blocker.Blocking, is.ID)
		return http.StatusOK, s.linksLocked(r).issue(br, blocker), nil
	})
}

// listOrgIssueTypes serves GET /orgs/{org}/issue-types.
func (s *Server) listOrgIssueTypes(w http.ResponseWriter, r *http.Request) {
	s.serveRead(w, r, func() (any, *apiError) {
		org := strings.ToLower(r.PathValue("org"))
		types, ok := s.world.IssueTypes[org]
		if !ok && !s.isOrgLocked(org) {
			return nil, errNotFound
		}
		out := []*issueTypeJSON{}
		for _, t := range types {
			out = append(out, renderIssueType(t))
		}
		return out, nil
	})
}

// isOrgLocked reports whether login is known as an organisation: it owns
// a repository or an organisation project.
func (s *Server) isOrgLocked(login string) bool {
	for _, r := range s.world.Repos {
		if strings.EqualFold(r.Owner, login) {
			return true
		}
	}
	for _, p := range s.world.Projects {
		if p.OwnerType == "Organization" && strings.EqualFold(p.Owner, login) {
			return true
		}
	}
	return false
}

// SetIssueTypes defines org's issue types (enabled, in this order), as an
// organisation owner does in its settings. Types with a name org already
// has keep their ID; types not named are disabled.
func (s *Server) SetIssueTypes(org string, names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.world.IssueTypes == nil {
		s.world.IssueTypes = map[string][]*issueType{}
	}
	key := strings.ToLower(org)
	existing := s.world.IssueTypes[key]
	for _, t := range existing {
		t.Enabled = false
	}
	for _, name := range names {
		i := slices.IndexFunc(existing, func(t *issueType) bool { return strings.EqualFold(t.Name, name) })
		if i >= 0 {
			existing[i].Enabled = true
			continue
		}
		existing = append(existing, &issueType{ID: s.world.NextIssueTypeID, Name: name, Enabled: true, CreatedAt: s.now()})
		s.world.NextIssueTypeID++
	}
	s.world.IssueTypes[key] = existing
	s.saveLocked()
}

// IssueRelations is a snapshot of an issue's relations for test assertions.
type IssueRelations struct {
	// Parent is the number of the parent issue (0: none), in the same
	// repository; SubIssues the sub-issues' numbers in order; BlockedBy the
	// numbers of the issues it is blocked by.
	Parent    int
	SubIssues []int
	BlockedBy []int
	// Type is the issue type's name, or "".
	Type string
}

// Relations returns the relations of issue number of owner/repo.
func (s *Server) Relations(owner, repo string, number int) (IssueRelations, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, is, err := s.findIssueLocked(owner, repo, number)
	if err != nil {
		return IssueRelations{}, err
	}
	num := func(id int64) int {
		if _, o := s.world.issueByID(id); o != nil {
			return o.Number
		}
		return 0
	}
	out := IssueRelations{Parent: num(is.ParentID)}
	for _, id := range is.SubIssueIDs {
		out.SubIssues = append(out.SubIssues, num(id))
	}
	for _, id := range is.BlockedBy {
		out.BlockedBy = append(out.BlockedBy, num(id))
	}
	sort.Ints(out.BlockedBy)
	if t := s.world.issueTypeByID(is.TypeID); t != nil {
		out.Type = t.Name
	}
	return out, nil
}
