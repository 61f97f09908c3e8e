package localgithub

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file serves Projects (v2) of organisations and users over REST:
// projects, their fields (single-select, number, text, and the built-in
// Title and Status), items (issues added to a project) and the items'
// field values. Paths, bodies and answers follow GitHub's OpenAPI
// description (testdata/github/openapi).

const (
	docsProjectFields = "https://docs.github.com/rest/projects/fields#add-a-field-to-an-organization-owned-project"
	docsProjectItems  = "https://docs.github.com/rest/projects/items#add-item-to-organization-owned-project"
	docsUpdateItem    = "https://docs.github.com/rest/projects/items#update-project-item-for-organization"

	// maxProjectFields is GitHub's limit of fields per project.
	maxProjectFields = 50
)

// project is a Project (v2) owned by an organisation or a user.
type project struct {
	ID        int64           `json:"id"`
	Number    int             `json:"number"`
	Owner     string          `json:"owner"`
	OwnerType string          `json:"owner_type"` // Organization or User
	Title     string          `json:"title"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Fields    []*projectField `json:"fields"`
	Items     []*projectItem  `json:"items"`
}

// projectField is a field of a project.
type projectField struct {
	ID        int64          `json:"id"`
	Name      string         `json:"name"`
	DataType  string         `json:"data_type"` // title, text, number, date, single_select
	Options   []*fieldOption `json:"options,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// fieldOption is an option of a single-select field.
type fieldOption struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description"`
}

// projectItem is an issue on a project, with its field values by field ID.
type projectItem struct {
	ID        int64                 `json:"id"`
	IssueID   int64                 `json:"issue_id"`
	Creator   user                  `json:"creator"`
	CreatedAt time.Time             `json:"created_at"`
	UpdatedAt time.Time             `json:"updated_at"`
	Values    map[int64]*fieldValue `json:"values,omitempty"`
}

// fieldValue is the value of one field of an item: Text for text and
// date fields, Number for number fields, Option (an option ID) for
// single-select fields.
type fieldValue struct {
	Text   *string  `json:"text,omitempty"`
	Number *float64 `json:"number,omitempty"`
	Option string   `json:"option,omitempty"`
}

func (p *project) field(id int64) *projectField {
	return find(p.Fields, func(f *projectField) bool { return f.ID == id })
}

func (p *project) fieldNamed(name string) *projectField {
	return find(p.Fields, func(f *projectField) bool { return strings.EqualFold(f.Name, name) })
}

func (p *project) item(id int64) *projectItem {
	return find(p.Items, func(it *projectItem) bool { return it.ID == id })
}

func (f *projectField) option(id string) *fieldOption {
	return find(f.Options, func(o *fieldOption) bool { return o.ID == id })
}

// projectRoutes registers the Projects (v2) endpoints of organisations and
// users.
func (s *Server) projectRoutes(m *http.ServeMux) {
	for _, prefix := range []string{"/orgs/{login}/projectsV2", "/users/{login}/projectsV2"} {
		m.HandleFunc("GET "+prefix, s.listProjects)
		m.HandleFunc("GET "+prefix+"/{project_number}", s.getProject)
		m.HandleFunc("GET "+prefix+"/{project_number}/fields", s.listProjectFields)
		m.HandleFunc("POST "+prefix+"/{project_number}/fields", s.addProjectField)
		m.HandleFunc("GET "+prefix+"/{project_number}/fields/{field_id}", s.getProjectField)
		m.HandleFunc("GET "+prefix+"/{project_number}/items", s.listProjectItems)
		m.HandleFunc("POST "+prefix+"/{project_number}/items", s.addProjectItem)
		m.HandleFunc("GET "+prefix+"/{project_number}/items/{item_id}", s.getProjectItem)
		m.HandleFunc("PATCH "+prefix+"/{project_number}/items/{item_id}", s.updateProjectItem)
		m.HandleFunc("DELETE "+prefix+"/{project_number}/items/{item_id}", s.deleteProjectItem)
	}
	m.HandleFunc("GET /orgs/{org}/issue-types", s.listOrgIssueTypes)
}

// ownerTypeOf tells from the request path whose projects it asks for.
func ownerTypeOf(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/users/") {
		return "User"
	}
	return "Organization"
}

// projectLocked resolves the request's project. A caller denied project
// access (DenyProjects) is answered 403, as GitHub answers a token without
// the project scope or an App without the Projects permission.
func (s *Server) projectLocked(r *http.Request) (*project, *apiError) {
	if s.projectsDenied[callerOf(r).key] {
		return nil, &apiError{status: http.StatusForbidden, Message: "Resource not accessible by personal access token", DocumentationURL: docsREST}
	}
	number, err := strconv.Atoi(r.PathValue("project_number"))
	if err != nil {
		return nil, errNotFound
	}
	kind, login := ownerTypeOf(r), r.PathValue("login")
	for _, p := range s.world.Projects {
		if p.Number == number && p.OwnerType == kind && strings.EqualFold(p.Owner, login) {
			return p, nil
		}
	}
	return nil, errNotFound
}

// itemLocked resolves the request's project and the item its path names.
func (s *Server) itemLocked(r *http.Request) (*project, *projectItem, *apiError) {
	p, e := s.projectLocked(r)
	if e != nil {
		return nil, nil, e
	}
	id, _ := strconv.ParseInt(r.PathValue("item_id"), 10, 64)
	it := p.item(id)
	if it == nil {
		return nil, nil, errNotFound
	}
	return p, it, nil
}

// serveProjectWrite is serveWrite on the project the path names.
func (s *Server) serveProjectWrite(w http.ResponseWriter, r *http.Request, req any, write func(p *project) (int, any, *apiError)) {
	s.serveWrite(w, r, req, func() (int, any, *apiError) {
		p, e := s.projectLocked(r)
		if e != nil {
			return 0, nil, e
		}
		return write(p)
	})
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) {
	s.serveRead(w, r, func() (any, *apiError) {
		if s.projectsDenied[callerOf(r).key] {
			return nil, &apiError{status: http.StatusForbidden, Message: "Resource not accessible by personal access token", DocumentationURL: docsREST}
		}
		l := s.linksLocked(r)
		out := []*projectJSON{}
		for _, p := range s.world.Projects {
			if p.OwnerType == ownerTypeOf(r) && strings.EqualFold(p.Owner, r.PathValue("login")) {
				out = append(out, l.project(p))
			}
		}
		return out, nil
	})
}

// serveProjectRead is serveRead on the project the path names.
func (s *Server) serveProjectRead(w http.ResponseWriter, r *http.Request, read func(p *project, l links) (any, *apiError)) {
	s.serveRead(w, r, func() (any, *apiError) {
		p, e := s.projectLocked(r)
		if e != nil {
			return nil, e
		}
		return read(p, s.linksLocked(r))
	})
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request) {
	s.serveProjectRead(w, r, func(p *project, l links) (any, *apiError) { return l.project(p), nil })
}

func (s *Server) listProjectFields(w http.ResponseWriter, r *http.Request) {
	s.serveProjectRead(w, r, func(p *project, l links) (any, *apiError) {
		out := []*projectFieldJSON{}
		for _, f := range p.Fields {
			out = append(out, l.projectField(p, f))
		}
		return out, nil
	})
}

func (s *Server) getProjectField(w http.ResponseWriter, r *http.Request) {
	s.serveProjectRead(w, r, func(p *project, l links) (any, *apiError) {
		id, _ := strconv.ParseInt(r.PathValue("field_id"), 10, 64)
		f := p.field(id)
		if f == nil {
			return nil, errNotFound
		}
		return l.projectField(p, f), nil
	})
}

// addProjectField serves POST .../fields: a text, number, date or
// single-select field. A name the project already has is refused (422),
// as on GitHub.
func (s *Server) addProjectField(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     *string `json:"name"`
		DataType string  `json:"data_type"`
		Options  []struct {
			Name        string `json:"name"`
			Color       string `json:"color"`
			Description string `json:"description"`
		} `json:"single_select_options"`
	}
	s.serveProjectWrite(w, r, &req, func(p *project) (int, any, *apiError) {
		invalid := func(field, msg string) (int, any, *apiError) {
			return 0, nil, validationFailed(docsProjectFields, validationError{Resource: "ProjectV2Field", Code: "invalid", Field: field, Message: msg})
		}
		switch {
		case req.Name == nil || strings.TrimSpace(*req.Name) == "":
			return 0, nil, validationFailed(docsProjectFields, validationError{Resource: "ProjectV2Field", Code: "missing_field", Field: "name"})
		case p.fieldNamed(*req.Name) != nil:
			return invalid("name", "Name has already been taken")
		case len(p.Fields) >= maxProjectFields:
			return invalid("name", fmt.Sprintf("Projects may have at most %d fields", maxProjectFields))
		}
		switch req.DataType {
		case "text", "number", "date":
			if len(req.Options) > 0 {
				return invalid("single_select_options", "Options are for single_select fields only")
			}
		case "single_select":
			if len(req.Options) == 0 {
				return invalid("single_select_options", "A single_select field needs options")
			}
		default:
			return invalid("data_type", "")
		}
		now := s.now()
		f := &projectField{ID: s.world.NextFieldID, Name: *req.Name, DataType: req.DataType, CreatedAt: now, UpdatedAt: now}
		s.world.NextFieldID++
		for i, o := range req.Options {
			color := o.Color
			if color == "" {
				color = "GRAY"
			}
			f.Options = append(f.Options, &fieldOption{ID: fmt.Sprintf("%08x", uint32(f.ID)*31+uint32(i)), Name: o.Name, Color: color, Description: o.Description})
		}
		p.Fields = append(p.Fields, f)
		p.UpdatedAt = now
		return http.StatusCreated, s.linksLocked(r).projectField(p, f), nil
	})
}

// listProjectItems serves GET .../items: the items, oldest first, each
// with the title and the values of the fields named in the fields query
// parameter (IDs, comma-separated or repeated). Pages are cursor-based,
// as on GitHub: Link rel="next" carries after=<cursor>.
func (s *Server) listProjectItems(w http.ResponseWriter, r *http.Request) {
	s.serveRead(w, r, func() (any, *apiError) {
		p, e := s.projectLocked(r)
		if e != nil {
			return nil, e
		}
		q := r.URL.Query()
		fields := requestedFields(q["fields"])
		_, perPage := pagination("1", q.Get("per_page"))
		start := 0
		if after := q.Get("after"); after != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(after, "c"))
			if err != nil || n < 0 {
				return nil, validationFailed(docsProjectItems, validationError{Resource: "ProjectV2Item", Code: "invalid", Field: "after"})
			}
			start = n
		}
		l := s.linksLocked(r)
		out := []*projectItemJSON{}
		end := min(start+perPage, len(p.Items))
		for i := start; i < end; i++ {
			out = append(out, l.projectItem(p, p.Items[i], fields, false))
		}
		if end < len(p.Items) {
			next := l.api("%s", strings.TrimPrefix(r.URL.Path, "/"))
			v := r.URL.Query()
			v.Set("after", "c"+strconv.Itoa(end))
			w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, next, v.Encode()))
		}
		return out, nil
	})
}

// requestedFields reads the fields query parameter.
func requestedFields(values []string) []int64 {
	var ids []int64
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func (s *Server) getProjectItem(w http.ResponseWriter, r *http.Request) {
	fields := requestedFields(r.URL.Query()["fields"])
	serveFound(s, w, r, s.itemLocked, func(l links, p *project, it *projectItem) *projectItemJSON {
		return l.projectItem(p, it, fields, false)
	})
}

// addProjectItem serves POST .../items: the issue named by id or by
// owner, repo and number joins the project. An issue already on it is
// answered with its item, as GitHub does.
func (s *Server) addProjectItem(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Type   string  `json:"type"`
		ID     *int64  `json:"id"`
		Owner  *string `json:"owner"`
		Repo   *string `json:"repo"`
		Number *int    `json:"number"`
	}
	s.serveProjectWrite(w, r, &req, func(p *project) (int, any, *apiError) {
		if req.Type != "Issue" {
			return 0, nil, validationFailed(docsProjectItems, validationError{Resource: "ProjectV2Item", Code: "invalid", Field: "type"})
		}
		var is *issue
		switch {
		case req.ID != nil:
			_, is = s.world.issueByID(*req.ID)
		case req.Owner != nil && req.Repo != nil && req.Number != nil:
			if repo := s.world.repo(*req.Owner, *req.Repo); repo != nil {
				is = repo.issue(*req.Number)
			}
		default:
			return 0, nil, validationFailed(docsProjectItems, validationError{Resource: "ProjectV2Item", Code: "missing_field", Field: "id"})
		}
		if is == nil {
			return 0, nil, errNotFound
		}
		l := s.linksLocked(r)
		if it := find(p.Items, func(it *projectItem) bool { return it.IssueID == is.ID }); it != nil {
			return http.StatusCreated, l.projectItem(p, it, nil, true), nil
		}
		now := s.now()
		it := &projectItem{ID: s.world.NextItemID, IssueID: is.ID, Creator: callerOf(r).user, CreatedAt: now, UpdatedAt: now}
		s.world.NextItemID++
		p.Items = append(p.Items, it)
		p.UpdatedAt = now
		return http.StatusCreated, l.projectItem(p, it, nil, true), nil
	})
}

// updateProjectItem serves PATCH .../items/{item_id}: sets the values of
// the fields given (null clears one).
func (s *Server) updateProjectItem(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Fields *[]struct {
			ID    *int64          `json:"id"`
			Value json.RawMessage `json:"value"`
		} `json:"fields"`
	}
	s.serveWrite(w, r, &req, func() (int, any, *apiError) {
		p, it, e := s.itemLocked(r)
		if e != nil {
			return 0, nil, e
		}
		if req.Fields == nil {
			return 0, nil, validationFailed(docsUpdateItem, validationError{Resource: "ProjectV2Item", Code: "missing_field", Field: "fields"})
		}
		// Validate every value before changing any.
		values := map[int64]*fieldValue{}
		var fieldIDs []int64
		for i, fv := range *req.Fields {
			var f *projectField
			if fv.ID != nil {
				f = p.field(*fv.ID)
			}
			if f == nil {
				return 0, nil, validationFailed(docsUpdateItem, validationError{Resource: "ProjectV2Item", Code: "invalid", Field: fmt.Sprintf("fields[%d].id", i)})
			}
			v, ok := parseFieldValue(f, fv.Value)
			if !ok {
				return 0, nil, validationFailed(docsUpdateItem, validationError{Resource: "ProjectV2Item", Code: "invalid", Field: fmt.Sprintf("fields[%d].value", i),
					Message: fmt.Sprintf("Invalid value for %s field %q", f.DataType, f.Name)})
			}
			values[f.ID] = v
			fieldIDs = append(fieldIDs, f.ID)
		}
		if it.Values == nil {
			it.Values = map[int64]*fieldValue{}
		}
		for fid, v := range values {
			if v == nil {
				delete(it.Values, fid)
			} else {
				it.Values[fid] = v
			}
		}
		it.UpdatedAt = s.now()
		return http.StatusOK, s.linksLocked(r).projectItem(p, it, fieldIDs, false), nil
	})
}

// parseFieldValue reads a value for field f: a string for text and date
// fields, a number for number fields, an option ID for single-select
// fields, or null (nil, true) to clear it.
func parseFieldValue(f *projectField, raw json.RawMessage) (*fieldValue, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	switch f.DataType {
	case "text", "date":
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		if f.DataType == "date" {
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				return nil, false
			}
		}
		return &fieldValue{Text: &s}, true
	case "number":
		var n float64
		if json.Unmarshal(raw, &n) != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, false
		}
		return &fieldValue{Number: &n}, true
	case "single_select":
		var id string
		if json.Unmarshal(raw, &id) != nil || f.option(id) == nil {
			return nil, false
		}
		return &fieldValue{Option: id}, true
	}
	return nil, false // title and other built-in fields are not set this way
}

// deleteProjectItem serves DELETE .../items/{item_id}.
func (s *Server) deleteProjectItem(w http.ResponseWriter, r *http.Request) {
	s.serveWrite(w, r, nil, func() (int, any, *apiError) {
		p, it, e := s.itemLocked(r)
		if e != nil {
			return 0, nil, e
		}
		p.Items = slices.DeleteFunc(p.Items, func(x *projectItem) bool { return x == it })
		p.UpdatedAt = s.now()
		return http.StatusNoContent, nil, nil
	})
}

// ---------------------------------------------------------------------------
// Rendering.

type projectJSON struct {
	ID                 int64      `json:"id"`
	NodeID             string     `json:"node_id"`
	Owner              *userJSON  `json:"owner"`
	Creator            *userJSON  `json:"creator"`
	Title              string     `json:"title"`
	Description        *string    `json:"description"`
	Public             bool       `json:"public"`
	ClosedAt           *timestamp `json:"closed_at"`
	CreatedAt          timestamp  `json:"created_at"`
	UpdatedAt          timestamp  `json:"updated_at"`
	Number             int        `json:"number"`
	ShortDescription   *string    `json:"short_description"`
	DeletedAt          *timestamp `json:"deleted_at"`
	DeletedBy          *userJSON  `json:"deleted_by"`
	State              string     `json:"state"`
	LatestStatusUpdate any        `json:"latest_status_update"`
	IsTemplate         bool       `json:"is_template"`
}

func (l links) projectAPI(p *project) string {
	kind := "orgs"
	if p.OwnerType == "User" {
		kind = "users"
	}
	return l.api("%s/%s/projectsV2/%d", kind, p.Owner, p.Number)
}

func (l links) project(p *project) *projectJSON {
	owner := userNamed(p.Owner)
	owner.Type = p.OwnerType
	return &projectJSON{
		ID:        p.ID,
		NodeID:    nodeID("PVT_", p.ID),
		Owner:     l.user(owner),
		Creator:   l.user(personUser),
		Title:     p.Title,
		CreatedAt: ts(p.CreatedAt),
		UpdatedAt: ts(p.UpdatedAt),
		Number:    p.Number,
		State:     "open",
	}
}

type richText struct {
	Raw  string `json:"raw"`
	HTML string `json:"html"`
}

func rich(s string) richText { return richText{Raw: s, HTML: html.EscapeString(s)} }

type fieldOptionJSON struct {
	ID          string   `json:"id"`
	Name        richText `json:"name"`
	Description richText `json:"description"`
	Color       string   `json:"color"`
}

type projectFieldJSON struct {
	ID         int64              `json:"id"`
	NodeID     string             `json:"node_id"`
	ProjectURL string             `json:"project_url"`
	Name       string             `json:"name"`
	DataType   string             `json:"data_type"`
	Options    []*fieldOptionJSON `json:"options,omitempty"`
	CreatedAt  timestamp          `json:"created_at"`
	UpdatedAt  timestamp          `json:"updated_at"`
}

func renderOption(o *fieldOption) *fieldOptionJSON {
	return &fieldOptionJSON{ID: o.ID, Name: rich(o.Name), Description: rich(o.Description), Color: o.Color}
}

func (l links) projectField(p *project, f *projectField) *projectFieldJSON {
	out := &projectFieldJSON{
		ID:         f.ID,
		NodeID:     nodeID("PVTF_", f.ID),
		ProjectURL: l.projectAPI(p),
		Name:       f.Name,
		DataType:   f.DataType,
		CreatedAt:  ts(f.CreatedAt),
		UpdatedAt:  ts(f.UpdatedAt),
	}
	for _, o := range f.Options {
		out.Options = append(out.Options, renderOption(o))
	}
	return out
}

type itemFieldJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	DataType string `json:"data_type"`
	Value    any    `json:"value"`
}

type projectItemJSON struct {
	ID          int64            `json:"id"`
	NodeID      string           `json:"node_id"`
	ProjectURL  string           `json:"project_url"`
	Content     any              `json:"content"`
	ContentType string           `json:"content_type"`
	Creator     *userJSON        `json:"creator"`
	CreatedAt   timestamp        `json:"created_at"`
	UpdatedAt   timestamp        `json:"updated_at"`
	ArchivedAt  *timestamp       `json:"archived_at"`
	ItemURL     string           `json:"item_url"`
	Fields      []*itemFieldJSON `json:"fields,omitempty"`
}

// projectItem renders an item with the title and the values of fieldIDs;
// created is the answer to adding it, which carries no field values.
func (l links) projectItem(p *project, it *projectItem, fieldIDs []int64, created bool) *projectItemJSON {
	out := &projectItemJSON{
		ID:          it.ID,
		NodeID:      nodeID("PVTI_", it.ID),
		ProjectURL:  l.projectAPI(p),
		ContentType: "Issue",
		Creator:     l.user(it.Creator),
		CreatedAt:   ts(it.CreatedAt),
		UpdatedAt:   ts(it.UpdatedAt),
		ItemURL:     fmt.Sprintf("%s/items/%d", l.projectAPI(p), it.ID),
	}
	var repo *repository
	var is *issue
	if l.w != nil {
		repo, is = l.w.issueByID(it.IssueID)
	}
	if is != nil {
		out.Content = l.issue(repo, is)
	}
	if created {
		return out
	}
	out.Fields = []*itemFieldJSON{}
	if is != nil {
		var reason *string
		if is.StateReason != "" {
			r := is.StateReason
			reason = &r
		}
		out.Fields = append(out.Fields, &itemFieldJSON{ID: titleFieldID(p), Name: "Title", DataType: "title", Value: map[string]any{
			"raw": is.Title, "html": html.EscapeString(is.Title), "number": is.Number, "url": l.issueHTML(repo, is.Number),
			"issue_id": is.ID, "state": is.State, "state_reason": reason,
		}})
	}
	for _, id := range fieldIDs {
		f := p.field(id)
		if f == nil || f.DataType == "title" {
			continue
		}
		out.Fields = append(out.Fields, &itemFieldJSON{ID: f.ID, Name: f.Name, DataType: f.DataType, Value: renderFieldValue(f, it.Values[f.ID])})
	}
	return out
}

func titleFieldID(p *project) int64 {
	for _, f := range p.Fields {
		if f.DataType == "title" {
			return f.ID
		}
	}
	return 0
}

func renderFieldValue(f *projectField, v *fieldValue) any {
	if v == nil {
		return nil
	}
	switch {
	case v.Text != nil:
		return *v.Text
	case v.Number != nil:
		return *v.Number
	case v.Option != "":
		if o := f.option(v.Option); o != nil {
			return renderOption(o)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Direct methods, as a person acts in the web UI.

// AddProject creates a Project (v2) titled title for owner, an
// organisation (org true) or a user, with GitHub's built-in Title field
// and a Status field (Todo, In Progress, Done). It returns the project's
// number. Adding a project the owner has by that title returns its number.
func (s *Server) AddProject(owner string, org bool, title string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	kind := "User"
	if org {
		kind = "Organization"
	}
	number := 1
	for _, p := range s.world.Projects {
		if p.OwnerType == kind && strings.EqualFold(p.Owner, owner) {
			if p.Title == title {
				return p.Number
			}
			number = max(number, p.Number+1)
		}
	}
	now := s.now()
	p := &project{ID: s.world.NextProjectID, Number: number, Owner: owner, OwnerType: kind, Title: title, CreatedAt: now, UpdatedAt: now}
	s.world.NextProjectID++
	newField := func(name, dataType string, options ...string) {
		f := &projectField{ID: s.world.NextFieldID, Name: name, DataType: dataType, CreatedAt: now, UpdatedAt: now}
		s.world.NextFieldID++
		for i, o := range options {
			f.Options = append(f.Options, &fieldOption{ID: fmt.Sprintf("%08x", uint32(f.ID)*31+uint32(i)), Name: o, Color: "GRAY"})
		}
		p.Fields = append(p.Fields, f)
	}
	newField("Title", "title")
	newField("Status", "single_select", "Todo", "In Progress", "Done")
	s.world.Projects = append(s.world.Projects, p)
	s.saveLocked()
	return number
}

// DenyProjects makes the projects of every owner answer 403 to token (or
// answer again, with deny false), as GitHub does for a classic token
// without the project scope or an App without the Projects permission.
func (s *Server) DenyProjects(token string, deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.projectsDenied == nil {
		s.projectsDenied = map[string]bool{}
	}
	if deny {
		s.projectsDenied[tokenKey(token)] = true
	} else {
		delete(s.projectsDenied, tokenKey(token))
	}
}

// ProjectItem is a snapshot of a project item for test assertions.
type ProjectItem struct {
	ID int64
	// Repo is owner/name of the item's issue; Number its number.
	Repo   string
	Number int
	Title  string
	State  string
	// Values are the item's field values by field name: text, the number
	// formatted with %g, or the option's name.
	Values map[string]string
}

// ProjectItems returns the items of owner's project number, oldest first.
func (s *Server) ProjectItems(owner string, org bool, number int) ([]ProjectItem, error) {
	var out []ProjectItem
	err := s.onProject(owner, org, number, func(p *project) error {
		for _, it := range p.Items {
			snap := ProjectItem{ID: it.ID, Values: map[string]string{}}
			if repo, is := s.world.issueByID(it.IssueID); is != nil {
				snap.Repo, snap.Number, snap.Title, snap.State = repo.Owner+"/"+repo.Name, is.Number, is.Title, is.State
			}
			for fid, v := range it.Values {
				f := p.field(fid)
				if f == nil {
					continue
				}
				switch {
				case v.Text != nil:
					snap.Values[f.Name] = *v.Text
				case v.Number != nil:
					snap.Values[f.Name] = strconv.FormatFloat(*v.Number, 'g', -1, 64)
				case v.Option != "":
					if o := f.option(v.Option); o != nil {
						snap.Values[f.Name] = o.Name
					}
				}
			}
			out = append(out, snap)
		}
		return nil
	})
	return out, err
}

// ProjectFields returns the names of the fields of owner's project number,
// in order.
func (s *Server) ProjectFields(owner string, org bool, number int) ([]string, error) {
	var out []string
	err := s.onProject(owner, org, number, func(p *project) error {
		for _, f := range p.Fields {
			out = append(out, f.Name)
		}
		return nil
	})
	return out, err
}

// SetProjectItemValue sets a field of the item of issue owner/repo#n on a
// project, as a person does on the board: value is text, a number or an
// option's name.
func (s *Server) SetProjectItemValue(projectOwner string, org bool, number int, repoFullName string, issueNumber int, field, value string) error {
	return s.onProject(projectOwner, org, number, func(p *project) error {
		it := s.itemOfIssueLocked(p, repoFullName, issueNumber)
		f := p.fieldNamed(field)
		if it == nil || f == nil {
			return ErrNotFound
		}
		var v *fieldValue
		switch f.DataType {
		case "number":
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return fmt.Errorf("localgithub: %q is not a number", value)
			}
			v = &fieldValue{Number: &n}
		case "single_select":
			i := slices.IndexFunc(f.Options, func(o *fieldOption) bool { return strings.EqualFold(o.Name, value) })
			if i < 0 {
				return fmt.Errorf("localgithub: field %s has no option %q", field, value)
			}
			v = &fieldValue{Option: f.Options[i].ID}
		default:
			v = &fieldValue{Text: &value}
		}
		if it.Values == nil {
			it.Values = map[int64]*fieldValue{}
		}
		it.Values[f.ID] = v
		it.UpdatedAt = s.now()
		s.saveLocked()
		return nil
	})
}

// RemoveProjectItem takes the item of issue repoFullName#issueNumber off a
// project, as a person does on the board.
func (s *Server) RemoveProjectItem(projectOwner string, org bool, number int, repoFullName string, issueNumber int) error {
	return s.onProject(projectOwner, org, number, func(p *project) error {
		it := s.itemOfIssueLocked(p, repoFullName, issueNumber)
		if it == nil {
			return ErrNotFound
		}
		p.Items = slices.DeleteFunc(p.Items, func(x *projectItem) bool { return x == it })
		s.saveLocked()
		return nil
	})
}

// onProject runs fn on owner's project number under the server's lock, or
// returns ErrNotFound when there is no such project.
func (s *Server) onProject(owner string, org bool, number int, fn func(p *project) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projectOfLocked(owner, org, number)
	if p == nil {
		return ErrNotFound
	}
	return fn(p)
}

func (s *Server) projectOfLocked(owner string, org bool, number int) *project {
	kind := "User"
	if org {
		kind = "Organization"
	}
	for _, p := range s.world.Projects {
		if p.Number == number && p.OwnerType == kind && strings.EqualFold(p.Owner, owner) {
			return p
		}
	}
	return nil
}

func (s *Server) itemOfIssueLocked(p *project, repoFullName string, number int) *projectItem {
	o, n, _ := strings.Cut(repoFullName, "/")
	repo := s.world.repo(o, n)
	if repo == nil {
		return nil
	}
	is := repo.issue(number)
	if is == nil {
		return nil
	}
	for _, it := range p.Items {
		if it.IssueID == is.ID {
			return it
		}
	}
	return nil
}
