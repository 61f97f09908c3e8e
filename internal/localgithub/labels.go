package localgithub

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

var labelColor = regexp.MustCompile(`^[0-9a-fA-F]{6}$`)

// labelRequest is the body of creating or editing a label.
type labelRequest struct {
	Name        *string `json:"name"`
	NewName     *string `json:"new_name"`
	Color       *string `json:"color"`
	Description *string `json:"description"`
}

// listLabels serves GET /repos/{owner}/{repo}/labels.
func (s *Server) listLabels(w http.ResponseWriter, r *http.Request) {
	s.serveRead(w, r, func() (any, *apiError) {
		repo, e := s.repoLocked(r)
		if e != nil {
			return nil, e
		}
		l := s.linksLocked(r)
		page, perPage := pagination(r.URL.Query().Get("page"), r.URL.Query().Get("per_page"))
		out := []*labelJSON{}
		for _, lb := range pageOf(repo.Labels, page, perPage) {
			out = append(out, l.label(repo, lb))
		}
		setLinkHeader(w, r, l.api("repositories/%d/labels", repo.ID), page, perPage, len(repo.Labels))
		return out, nil
	})
}

// createLabel serves POST /repos/{owner}/{repo}/labels.
func (s *Server) createLabel(w http.ResponseWriter, r *http.Request) {
	var req labelRequest
	if e := decodeBody(r, &req); e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, e := s.repoLocked(r)
	if e != nil {
		writeError(w, e)
		return
	}
	var errs []validationError
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" {
		errs = append(errs, validationError{Resource: "Label", Code: "missing_field", Field: "name"})
	} else if repo.label(*req.Name) != nil {
		errs = append(errs, validationError{Resource: "Label", Code: "already_exists", Field: "name"})
	}
	if req.Color != nil && !labelColor.MatchString(*req.Color) {
		errs = append(errs, validationError{Resource: "Label", Code: "invalid", Field: "color"})
	}
	if len(errs) > 0 {
		writeError(w, validationFailed(docsCreateLabel, errs...))
		return
	}
	lb := &label{ID: s.world.newLabelID(), Name: *req.Name, Color: "ededed", Description: emptyToNil(req.Description)}
	if req.Color != nil {
		lb.Color = *req.Color
	}
	repo.Labels = append(repo.Labels, lb)
	s.saveLocked()
	l := s.linksLocked(r)
	w.Header().Set("Location", l.labelAPI(repo, lb.Name))
	writeJSON(w, r, http.StatusCreated, l.label(repo, lb))
}

func emptyToNil(p *string) *string {
	if p == nil || *p == "" {
		return nil
	}
	v := *p
	return &v
}

// labelLocked resolves the request's repository and label.
func (s *Server) labelLocked(r *http.Request) (*repository, *label, *apiError) {
	repo, e := s.repoLocked(r)
	if e != nil {
		return nil, nil, e
	}
	lb := repo.label(r.PathValue("name"))
	if lb == nil {
		return nil, nil, errNotFound
	}
	return repo, lb, nil
}

// getLabel serves GET /repos/{owner}/{repo}/labels/{name}.
func (s *Server) getLabel(w http.ResponseWriter, r *http.Request) {
	serveFound(s, w, r, s.labelLocked, links.label)
}

// editLabel serves PATCH /repos/{owner}/{repo}/labels/{name}.
func (s *Server) editLabel(w http.ResponseWriter, r *http.Request) {
	var req labelRequest
	if e := decodeBody(r, &req); e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, lb, e := s.labelLocked(r)
	if e != nil {
		writeError(w, e)
		return
	}
	newName := req.NewName
	if newName == nil {
		newName = req.Name
	}
	var errs []validationError
	if newName != nil {
		if strings.TrimSpace(*newName) == "" {
			errs = append(errs, validationError{Resource: "Label", Code: "missing_field", Field: "name"})
		} else if other := repo.label(*newName); other != nil && other != lb {
			errs = append(errs, validationError{Resource: "Label", Code: "already_exists", Field: "name"})
		}
	}
	if req.Color != nil && !labelColor.MatchString(*req.Color) {
		errs = append(errs, validationError{Resource: "Label", Code: "invalid", Field: "color"})
	}
	if len(errs) > 0 {
		writeError(w, validationFailed("https://docs.github.com/rest/reference/issues#update-a-label", errs...))
		return
	}
	if newName != nil {
		lb.Name = *newName
	}
	if req.Color != nil {
		lb.Color = *req.Color
	}
	if req.Description != nil {
		lb.Description = emptyToNil(req.Description)
	}
	s.saveLocked()
	writeJSON(w, r, http.StatusOK, s.linksLocked(r).label(repo, lb))
}

// deleteLabel serves DELETE /repos/{owner}/{repo}/labels/{name}; the label
// also leaves every issue that had it.
func (s *Server) deleteLabel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, lb, e := s.labelLocked(r)
	if e != nil {
		writeError(w, e)
		return
	}
	repo.Labels = slices.DeleteFunc(repo.Labels, func(x *label) bool { return x == lb })
	for _, is := range repo.Issues {
		is.LabelIDs = slices.DeleteFunc(is.LabelIDs, func(id int64) bool { return id == lb.ID })
	}
	s.saveLocked()
	writeNoContent(w)
}

// issueLabelsJSON renders an issue's labels.
func issueLabelsJSON(l links, repo *repository, is *issue) []*labelJSON {
	out := []*labelJSON{}
	for _, id := range is.LabelIDs {
		if lb := repo.labelByID(id); lb != nil {
			out = append(out, l.label(repo, lb))
		}
	}
	return out
}

// listIssueLabels serves GET .../issues/{number}/labels.
func (s *Server) listIssueLabels(w http.ResponseWriter, r *http.Request) {
	serveFound(s, w, r, s.issueLocked, issueLabelsJSON)
}

// decodeLabelNames reads the labels of an add or replace request, which
// GitHub accepts as {"labels": [...]} or as a bare array (go-github's form).
func decodeLabelNames(r *http.Request) (labelNames, *apiError) {
	raw, e := readBody(r)
	if e != nil || len(raw) == 0 {
		return nil, e
	}
	var names labelNames
	if raw[0] == '[' {
		if names.UnmarshalJSON(raw) != nil {
			return nil, errProblemsJSON
		}
		return names, nil
	}
	var wrapped struct {
		Labels labelNames `json:"labels"`
	}
	if json.Unmarshal(raw, &wrapped) != nil {
		return nil, errProblemsJSON
	}
	return wrapped.Labels, nil
}

// changeIssueLabels applies change to the issue's label ids and answers the
// issue's labels.
func (s *Server) changeIssueLabels(w http.ResponseWriter, r *http.Request, change func(repo *repository, is *issue) []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, is, e := s.issueLocked(r)
	if e != nil {
		writeError(w, e)
		return
	}
	events := s.setLabelsLocked(repo, is, change(repo, is))
	l := s.linksLocked(r)
	if len(events) > 0 {
		is.UpdatedAt = s.now()
		for _, ev := range events {
			s.emitLocked(l, repo, is, callerOf(r).user, ev)
		}
		s.saveLocked()
	}
	writeJSON(w, r, http.StatusOK, issueLabelsJSON(l, repo, is))
}

// addIssueLabels serves POST .../issues/{number}/labels; unknown labels are
// created on the fly, as GitHub does.
func (s *Server) addIssueLabels(w http.ResponseWriter, r *http.Request) {
	names, e := decodeLabelNames(r)
	if e != nil {
		writeError(w, e)
		return
	}
	s.changeIssueLabels(w, r, func(repo *repository, is *issue) []int64 {
		ids := slices.Clone(is.LabelIDs)
		for _, name := range names {
			if lb := s.world.ensureLabel(repo, name); !slices.Contains(ids, lb.ID) {
				ids = append(ids, lb.ID)
			}
		}
		return ids
	})
}

// replaceIssueLabels serves PUT .../issues/{number}/labels.
func (s *Server) replaceIssueLabels(w http.ResponseWriter, r *http.Request) {
	names, e := decodeLabelNames(r)
	if e != nil {
		writeError(w, e)
		return
	}
	s.changeIssueLabels(w, r, func(repo *repository, is *issue) []int64 {
		ids := []int64{}
		for _, name := range names {
			if lb := s.world.ensureLabel(repo, name); !slices.Contains(ids, lb.ID) {
				ids = append(ids, lb.ID)
			}
		}
		return ids
	})
}

// removeAllIssueLabels serves DELETE .../issues/{number}/labels.
func (s *Server) removeAllIssueLabels(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, is, e := s.issueLocked(r)
	if e != nil {
		writeError(w, e)
		return
	}
	events := s.setLabelsLocked(repo, is, []int64{})
	if len(events) > 0 {
		is.UpdatedAt = s.now()
		l := s.linksLocked(r)
		for _, ev := range events {
			s.emitLocked(l, repo, is, callerOf(r).user, ev)
		}
		s.saveLocked()
	}
	writeNoContent(w)
}

// removeIssueLabel serves DELETE .../issues/{number}/labels/{name}; it
// answers the remaining labels, or 404 Label does not exist.
func (s *Server) removeIssueLabel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	repo, is, e := s.issueLocked(r)
	if e == nil {
		if lb := repo.label(r.PathValue("name")); lb == nil || !is.hasLabel(lb.ID) {
			e = &apiError{status: http.StatusNotFound, Message: "Label does not exist",
				DocumentationURL: "https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue"}
		}
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	s.changeIssueLabels(w, r, func(repo *repository, is *issue) []int64 {
		lb := repo.label(r.PathValue("name"))
		return slices.DeleteFunc(slices.Clone(is.LabelIDs), func(id int64) bool { return lb != nil && id == lb.ID })
	})
}
