package tracker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/google/go-github/v60/github"
)

// This file is the product owner's board: a GitHub Project (v2) that
// cxloop adds its issues to and keeps its own fields on, and the relations
// GitHub shows between issues (sub-issues with progress, blocked-by
// dependencies, issue types). go-github v60 predates these endpoints; they
// are called through its client (NewRequest, Do) with typed structs, so
// every request goes through the same transport as issue creation: the
// write budget, rate limits, conditional GETs and the API-host check.
//
// Every write is idempotent: a field, sub-issue link or dependency that
// exists (made by an earlier attempt whose answer was lost, or by a
// person) is looked for first and adopted, never made twice; an add to
// the board needs no look, since GitHub answers the add of an issue that
// is there already with its item (AddItem looks only if it refuses).

// The board fields cxloop keeps. It creates them when missing, never
// renames or deletes them, and sets only these.
const (
	FieldPhase      = "Phase"
	FieldStage      = "Stage"
	FieldPersona    = "Persona"
	FieldChannel    = "Channel"
	FieldDepartment = "Department"
	FieldImpact     = "Impact"
	FieldEffort     = "Effort"
	FieldQuickWin   = "Quick win"
	FieldOutcome    = "Outcome"
)

// BoardFieldSpec is a field cxloop keeps on a board: its name, its data
// type (text, number or single_select) and a single-select's options.
type BoardFieldSpec struct {
	Name     string
	DataType string
	Options  []string
}

// BoardFields are the fields cxloop keeps, in the order it creates them.
var BoardFields = []BoardFieldSpec{
	{Name: FieldPhase, DataType: "single_select", Options: []string{"Discovery", "Improve", "Perfection", "Personalization"}},
	{Name: FieldStage, DataType: "text"},
	{Name: FieldPersona, DataType: "text"},
	{Name: FieldChannel, DataType: "single_select", Options: []string{"web", "mobile-app", "email", "phone", "chat", "social", "store", "print", "tv", "radio", "event", "in-person", "partner", "signage", "mail", "self-service", "other"}},
	{Name: FieldDepartment, DataType: "text"},
	{Name: FieldImpact, DataType: "number"},
	{Name: FieldEffort, DataType: "number"},
	{Name: FieldQuickWin, DataType: "single_select", Options: []string{"Yes", "No"}},
	{Name: FieldOutcome, DataType: "single_select", Options: []string{"Improved", "Unchanged", "Worse"}},
}

// isBoardField reports whether name is one of cxloop's fields.
func isBoardField(name string) bool {
	return slices.ContainsFunc(BoardFields, func(f BoardFieldSpec) bool { return strings.EqualFold(f.Name, name) })
}

// PermissionError is a 403 answer to a board request that is not a rate
// limit: the credentials lack Permission for Resource. Its Reason is
// PermissionMissing.
type PermissionError struct {
	// Field is the spec field that names the resource.
	Field string
	// Resource is what was refused, for example "project acme/3".
	Resource string
	// Permission is what the credentials need, for classic tokens and
	// GitHub Apps.
	Permission string
	// Status is GitHub's answer: 403, or 404 to a write on what the
	// credentials can read (0 means 403).
	Status int
}

func (e *PermissionError) Error() string {
	status := e.Status
	if status == 0 {
		status = http.StatusForbidden
	}
	return fmt.Sprintf("GitHub %d %s: the credentials may not use %s (%s): %s", status, cxv1.ReasonPermissionMissing, e.Resource, e.Field, e.Permission)
}

// Unwrap lets Reason, NotCreated and errors.As see an *APIError.
func (e *PermissionError) Unwrap() error {
	return &APIError{Reason: cxv1.ReasonPermissionMissing, StatusCode: http.StatusForbidden, Message: e.Error()}
}

// Permissions the board's calls need.
const (
	PermissionProjects   = "a classic token needs the project scope; a GitHub App needs the organisation permission Projects: read and write (for a user's project, a classic token)"
	PermissionIssueTypes = "a classic token needs the read:org scope; a GitHub App needs the organisation permission Issue types: read"
)

// do sends one request of the board's through the Client's transport and
// decodes the answer into out (nil: none). path is relative to the API
// root, or absolute (a Link header's next page).
func (c *Client) do(ctx context.Context, method, path string, body, out any) (*github.Response, error) {
	req, err := c.gh.NewRequest(method, path, body)
	if err != nil {
		return nil, &APIError{Reason: cxv1.ReasonInvalidRequest, Message: err.Error()}
	}
	return c.gh.Do(ctx, req, out)
}

// ---------------------------------------------------------------------------
// Sub-issues, dependencies and issue types, in the Client's repository.

// relatedIssue is the part of an issue answer the relations need.
type relatedIssue struct {
	ID     int64 `json:"id"`
	Number int   `json:"number"`
	Type   *struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"type"`
	SubIssuesSummary *SubIssuesSummary `json:"sub_issues_summary"`
}

// SubIssuesSummary is GitHub's progress of a parent issue's sub-issues.
type SubIssuesSummary struct {
	Total            int `json:"total"`
	Completed        int `json:"completed"`
	PercentCompleted int `json:"percent_completed"`
}

func (c *Client) getRelated(ctx context.Context, number int) (*relatedIssue, error) {
	var is relatedIssue
	if _, err := c.do(ctx, http.MethodGet, fmt.Sprintf("%s/issues/%d", c.repoPath(), number), nil, &is); err != nil {
		return nil, c.mapError(err, opIssue)
	}
	return &is, nil
}

// listRelated lists the issues under path (sub-issues, blocked-by), all
// pages.
func (c *Client) listRelated(ctx context.Context, path string) ([]relatedIssue, error) {
	var all []relatedIssue
	next := path + "?per_page=" + strconv.Itoa(c.perPage)
	for pages := 1; next != ""; pages++ {
		var page []relatedIssue
		resp, err := c.do(ctx, http.MethodGet, next, nil, &page)
		if err != nil {
			return nil, c.mapError(err, opIssue)
		}
		all = append(all, page...)
		if next, err = nextBoardPage(resp, pages, "related issues"); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// maxBoardPages bounds one listing of a project's fields or items, or of
// an issue's sub-issues or dependencies (100 per page): a Link header that
// leads back to itself must not cost requests without end.
const maxBoardPages = 500

// nextBoardPage is the next page of a listing of which pages were read,
// "" after the last.
func nextBoardPage(resp *github.Response, pages int, what string) (string, error) {
	next := nextLink(resp.Header.Get("Link"))
	if next != "" && pages >= maxBoardPages {
		return "", &APIError{Reason: cxv1.ReasonInternalError, Message: fmt.Sprintf("more than %d pages of %s", maxBoardPages, what)}
	}
	return next, nil
}

func containsIssue(list []relatedIssue, id int64) bool {
	return slices.ContainsFunc(list, func(r relatedIssue) bool { return r.ID == id })
}

// SubIssueProgress is GitHub's progress of parent's sub-issues.
func (c *Client) SubIssueProgress(ctx context.Context, parent int) (SubIssuesSummary, error) {
	is, err := c.getRelated(ctx, parent)
	if err != nil || is.SubIssuesSummary == nil {
		return SubIssuesSummary{}, err
	}
	return *is.SubIssuesSummary, nil
}

// EnsureSubIssue makes issue child a sub-issue of issue parent, unless it
// is one already: added before an answer was lost, or by a person. An
// answer that it is one already counts as success. A child that a person
// gave another parent is left there (ValidationFailed).
func (c *Client) EnsureSubIssue(ctx context.Context, parent, child int) error {
	return c.ensureRelated(ctx, fmt.Sprintf("%s/issues/%d/sub_issues", c.repoPath(), parent), child, "sub_issue_id")
}

// EnsureBlockedBy records that issue number is blocked by issue blocker,
// unless it is already.
func (c *Client) EnsureBlockedBy(ctx context.Context, number, blocker int) error {
	return c.ensureRelated(ctx, fmt.Sprintf("%s/issues/%d/dependencies/blocked_by", c.repoPath(), number), blocker, "issue_id")
}

// ensureRelated adds issue number to path, the list of an issue's
// sub-issues or blockers, by posting its ID as field idField, unless it is
// listed there already. An answer 422 counts as success when it is listed
// after it: added meanwhile (another worker, a retry GitHub finished late).
func (c *Client) ensureRelated(ctx context.Context, path string, number int, idField string) error {
	other, err := c.getRelated(ctx, number)
	if err != nil {
		return err
	}
	id := other.ID
	listed, err := c.listRelated(ctx, path)
	if err != nil {
		return err
	}
	if containsIssue(listed, id) {
		return nil
	}
	_, err = c.do(ctx, http.MethodPost, path, map[string]int64{idField: id}, nil)
	if err == nil {
		return nil
	}
	mapped := c.mapError(err, opIssue)
	var ae *APIError
	if errors.As(mapped, &ae) && ae.StatusCode == http.StatusUnprocessableEntity {
		if listed, lerr := c.listRelated(ctx, path); lerr == nil && containsIssue(listed, id) {
			return nil
		}
	}
	return mapped
}

// IssueType is an issue type an organisation defines.
type IssueType struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// IssueTypes lists the issue types of the organisation that owns the
// Client's repository. A repository owned by a user, or an organisation
// without types, has none (nil, nil): cxloop then keeps to labels.
func (c *Client) IssueTypes(ctx context.Context) ([]IssueType, error) {
	var types []IssueType
	_, err := c.do(ctx, http.MethodGet, "orgs/"+url.PathEscape(c.cfg.Owner)+"/issue-types", nil, &types)
	if err != nil {
		mapped := c.mapError(err, opRepo)
		var ae *APIError
		if errors.As(mapped, &ae) {
			switch ae.StatusCode {
			case http.StatusNotFound:
				return nil, nil
			case http.StatusForbidden:
				return nil, &PermissionError{Field: "spec.tracker.github.owner", Resource: "the issue types of " + c.cfg.Owner, Permission: PermissionIssueTypes}
			}
		}
		return nil, mapped
	}
	return types, nil
}

// SetIssueType gives issue number the type typeName (which IssueTypes
// lists), unless it has it already.
func (c *Client) SetIssueType(ctx context.Context, number int, typeName string) error {
	is, err := c.getRelated(ctx, number)
	if err != nil {
		return err
	}
	if is.Type != nil && strings.EqualFold(is.Type.Name, typeName) {
		return nil
	}
	_, err = c.do(ctx, http.MethodPatch, fmt.Sprintf("%s/issues/%d", c.repoPath(), number), &struct {
		Type string `json:"type"`
	}{typeName}, nil)
	return c.mapError(err, opIssue)
}

// ---------------------------------------------------------------------------
// The board.

// ProjectRef names a Project (v2): its owner (an organisation or a user)
// and number.
type ProjectRef struct {
	Owner  string
	Number int
}

func (r ProjectRef) String() string { return fmt.Sprintf("project %s/%d", r.Owner, r.Number) }

// projectField is GitHub's answer for a project field.
type projectField struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	DataType string `json:"data_type"`
	Options  []struct {
		ID   string `json:"id"`
		Name struct {
			Raw string `json:"raw"`
		} `json:"name"`
	} `json:"options"`
}

// BoardField is a field of a board.
type BoardField struct {
	ID       int64
	Name     string
	DataType string
	// Options maps a single-select's option names to their IDs.
	Options map[string]string
}

func (f BoardField) optionID(name string) (string, bool) {
	for n, id := range f.Options {
		if strings.EqualFold(n, name) {
			return id, true
		}
	}
	return "", false
}

// BoardItem is an issue on the board with the values of cxloop's fields.
type BoardItem struct {
	ID int64
	// IssueID and IssueNumber identify the item's issue; RepositoryURL is
	// the API URL of its repository.
	IssueID       int64
	IssueNumber   int
	RepositoryURL string
	// Values are cxloop's fields' values by field name: text, a number as
	// strconv formats it ('g'), or an option's name.
	Values map[string]string
}

// ItemState says what became of an item: SetItemValues found it, or a
// person removed it.
type ItemState int

const (
	// ItemPresent: the item is on the board.
	ItemPresent ItemState = iota + 1
	// ItemRemoved: the caller had added the issue once and it is no longer
	// on the board: a person removed it, and it stays removed.
	ItemRemoved
)

// Board is a Project (v2) as cxloop uses it: it adds the Client's issues
// to it and keeps its own fields there.
type Board struct {
	c    *Client
	ref  ProjectRef
	path string // orgs/{owner}/projectsV2/{n} or users/…
	id   int64

	mu     sync.Mutex
	fields map[string]BoardField // by lower-cased name
	// lookedUp is when an add refused with 422 last had the board listed
	// for its item (lookupEvery).
	lookedUp time.Time
}

// An add refused (422) has the board listed for the issue's item at most
// once per lookupEvery per board, and no further than lookupPages pages
// (the first 2,000 items): a board that refuses every add (one at
// GitHub's item limit) costs a journey at most that an hour.
const (
	lookupEvery = time.Hour
	lookupPages = 20
)

// Board finds the project ref among the organisation's projects, then the
// user's. It does not change the project.
func (c *Client) Board(ctx context.Context, ref ProjectRef) (*Board, error) {
	if ref.Owner == "" || ref.Number <= 0 {
		return nil, &APIError{Reason: cxv1.ReasonInvalidRequest, Message: "spec.tracker.github.project needs an owner and a number above 0"}
	}
	for _, kind := range []string{"orgs", "users"} {
		path := fmt.Sprintf("%s/%s/projectsV2/%d", kind, url.PathEscape(ref.Owner), ref.Number)
		var p struct {
			ID int64 `json:"id"`
		}
		_, err := c.do(ctx, http.MethodGet, path, nil, &p)
		if err == nil {
			return &Board{c: c, ref: ref, path: path, id: p.ID}, nil
		}
		if err := c.boardError(err, ref); !isStatus(err, http.StatusNotFound) {
			return nil, err
		}
	}
	return nil, projectNotFound(ref)
}

func projectNotFound(ref ProjectRef) *APIError {
	return &APIError{Reason: cxv1.ReasonProjectNotFound, StatusCode: http.StatusNotFound,
		Message: fmt.Sprintf("no organisation or user has %s, or the credentials cannot see it: check spec.tracker.github.project (%s)", ref, PermissionProjects)}
}

func isStatus(err error, code int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == code
}

// boardError types an error of a project request: a 403 that is not a
// rate limit is a PermissionError naming the permission.
func (c *Client) boardError(err error, ref ProjectRef) error {
	mapped := c.mapError(err, opRepo)
	var ae *APIError
	if errors.As(mapped, &ae) && ae.StatusCode == http.StatusForbidden && ae.Reason == cxv1.ReasonForbidden {
		return &PermissionError{Field: "spec.tracker.github.project", Resource: ref.String(), Permission: PermissionProjects}
	}
	return mapped
}

// Ref is the project the board is.
func (b *Board) Ref() ProjectRef { return b.ref }

// Fields lists the board's fields by name.
func (b *Board) Fields(ctx context.Context) (map[string]BoardField, error) {
	var all []projectField
	next := b.path + "/fields?per_page=" + strconv.Itoa(b.c.perPage)
	for pages := 1; next != ""; pages++ {
		var page []projectField
		resp, err := b.c.do(ctx, http.MethodGet, next, nil, &page)
		if err != nil {
			return nil, b.c.boardError(err, b.ref)
		}
		all = append(all, page...)
		if next, err = nextBoardPage(resp, pages, "project fields"); err != nil {
			return nil, err
		}
	}
	out := make(map[string]BoardField, len(all))
	for _, f := range all {
		bf := BoardField{ID: f.ID, Name: f.Name, DataType: f.DataType}
		if len(f.Options) > 0 {
			bf.Options = map[string]string{}
			for _, o := range f.Options {
				bf.Options[o.Name.Raw] = o.ID
			}
		}
		out[strings.ToLower(f.Name)] = bf
	}
	b.mu.Lock()
	b.fields = out
	b.mu.Unlock()
	return out, nil
}

// fieldOption is a single-select option in a request to create a field.
type fieldOption struct {
	Name  string `json:"name"`
	Color string `json:"color"`
}

// createFieldRequest is the body of creating a field.
type createFieldRequest struct {
	Name                string        `json:"name"`
	DataType            string        `json:"data_type"`
	SingleSelectOptions []fieldOption `json:"single_select_options,omitempty"`
}

// EnsureFields creates those of cxloop's fields the board lacks and
// returns their names. A field a person made with one of the names is
// used as it is, whatever its type: nothing is renamed or deleted.
func (b *Board) EnsureFields(ctx context.Context) (created []string, err error) {
	have, err := b.Fields(ctx)
	if err != nil {
		return nil, err
	}
	for _, spec := range BoardFields {
		if _, ok := have[strings.ToLower(spec.Name)]; ok {
			continue
		}
		body := createFieldRequest{Name: spec.Name, DataType: spec.DataType}
		for _, o := range spec.Options {
			body.SingleSelectOptions = append(body.SingleSelectOptions, fieldOption{Name: o, Color: "GRAY"})
		}
		var f projectField
		if _, err := b.c.do(ctx, http.MethodPost, b.path+"/fields", &body, &f); err != nil {
			err = b.c.boardError(err, b.ref)
			if isStatus(err, http.StatusUnprocessableEntity) {
				// Created by an attempt whose answer was lost, or by a person
				// meanwhile: look again.
				if again, lerr := b.Fields(ctx); lerr == nil {
					if _, ok := again[strings.ToLower(spec.Name)]; ok {
						have = again
						continue
					}
				}
			}
			return created, err
		}
		created = append(created, spec.Name)
	}
	if len(created) > 0 {
		_, err = b.Fields(ctx)
	}
	return created, err
}

// cachedFields returns the fields last listed, listing them if never.
func (b *Board) cachedFields(ctx context.Context) (map[string]BoardField, error) {
	b.mu.Lock()
	f := b.fields
	b.mu.Unlock()
	if f != nil {
		return f, nil
	}
	return b.Fields(ctx)
}

// projectItem is GitHub's answer for an item.
type projectItem struct {
	ID          int64  `json:"id"`
	ContentType string `json:"content_type"`
	Content     *struct {
		ID            int64  `json:"id"`
		Number        int    `json:"number"`
		RepositoryURL string `json:"repository_url"`
	} `json:"content"`
	Fields []struct {
		ID       int64 `json:"id"`
		Name     string
		DataType string `json:"data_type"`
		Value    any    `json:"value"`
	} `json:"fields"`
}

// Items lists the board's items with the values of cxloop's fields, every
// page. The controllers do not list a board (AddItem and SetItemValues need
// no listing, and a board shared for years holds thousands of items): it
// reads what a board holds for checks and tools.
func (b *Board) Items(ctx context.Context) ([]BoardItem, error) {
	var out []BoardItem
	err := b.walkItems(ctx, 0, func(item BoardItem) bool {
		out = append(out, item)
		return true
	})
	return out, err
}

// walkItems hands each issue item of the board to visit, page by page,
// until visit says stop or maxPages pages were read (0: every page).
func (b *Board) walkItems(ctx context.Context, maxPages int, visit func(BoardItem) bool) error {
	fields, err := b.cachedFields(ctx)
	if err != nil {
		return err
	}
	byID := map[int64]BoardField{}
	var ids []string
	for _, f := range fields {
		if isBoardField(f.Name) {
			byID[f.ID] = f
			ids = append(ids, strconv.FormatInt(f.ID, 10))
		}
	}
	slices.Sort(ids)
	q := url.Values{"per_page": {strconv.Itoa(b.c.perPage)}}
	if len(ids) > 0 {
		q.Set("fields", strings.Join(ids, ","))
	}
	next := b.path + "/items?" + q.Encode()
	// A walk's pages are read an hour apart at least (AddItem's lookup):
	// kept, they would push out of the store the answers asked at each sync.
	ctx = context.WithValue(ctx, skipETagCache{}, true)
	for pages := 1; next != "" && (maxPages == 0 || pages <= maxPages); pages++ {
		var page []projectItem
		resp, err := b.c.do(ctx, http.MethodGet, next, nil, &page)
		if err != nil {
			return b.c.boardError(err, b.ref)
		}
		for _, it := range page {
			if it.ContentType != "Issue" || it.Content == nil {
				continue
			}
			item := BoardItem{ID: it.ID, IssueID: it.Content.ID, IssueNumber: it.Content.Number, RepositoryURL: it.Content.RepositoryURL, Values: map[string]string{}}
			for _, fv := range it.Fields {
				f, ok := byID[fv.ID]
				if !ok || fv.Value == nil {
					continue
				}
				if s, ok := valueText(f, fv.Value); ok {
					item.Values[f.Name] = s
				}
			}
			if !visit(item) {
				return nil
			}
		}
		if next, err = nextBoardPage(resp, pages, "project items"); err != nil {
			return err
		}
	}
	return nil
}

// valueText turns an answered field value into BoardItem.Values' form.
func valueText(f BoardField, v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case map[string]any: // a single-select option: {id, name: {raw, html}, ...}
		if name, ok := x["name"].(map[string]any); ok {
			if raw, ok := name["raw"].(string); ok {
				return raw, true
			}
		}
		if id, ok := x["id"].(string); ok {
			for n, oid := range f.Options {
				if oid == id {
					return n, true
				}
			}
		}
	}
	return "", false
}

// addItemRequest is the body of adding an issue to a project.
type addItemRequest struct {
	Type   string `json:"type"`
	Owner  string `json:"owner"`
	Repo   string `json:"repo"`
	Number int    `json:"number"`
}

// AddItem puts issue number of the Client's repository on the board and
// returns its item, without listing the board first: GitHub answers an
// add of an issue already on the board with the item it has, so an add
// whose answer was lost is found by the next add, not repeated. Should it
// refuse that add instead (422), the board is looked through for the item
// (itemOf), and the refusal returned when the issue is not found there.
// (Only the caller knows whether it added the issue before and a person
// took it off since: it asks SetItemValues, not AddItem, for an item it
// added.)
func (b *Board) AddItem(ctx context.Context, number int) (BoardItem, error) {
	var it projectItem
	_, err := b.c.do(ctx, http.MethodPost, b.path+"/items", &addItemRequest{Type: "Issue", Owner: b.c.cfg.Owner, Repo: b.c.cfg.Repo, Number: number}, &it)
	if err != nil {
		mapped := b.c.boardError(err, b.ref)
		if isStatus(mapped, http.StatusUnprocessableEntity) {
			return b.itemOf(ctx, number, mapped)
		}
		if !isStatus(mapped, http.StatusNotFound) {
			return BoardItem{}, mapped
		}
		// The board, the issue, or a write the credentials may not make:
		// each is asked in turn.
		if err := b.answers(ctx); err != nil {
			return BoardItem{}, err
		}
		if _, err := b.c.getRelated(ctx, number); err != nil {
			return BoardItem{}, err
		}
		return BoardItem{}, b.writeRefused()
	}
	item := BoardItem{ID: it.ID, IssueNumber: number, Values: map[string]string{}}
	if it.Content != nil {
		item.IssueID, item.RepositoryURL = it.Content.ID, it.Content.RepositoryURL
	}
	return item, nil
}

// itemOf looks for issue number of the Client's repository among the
// board's items, after an add was refused: GitHub may refuse the add of an
// issue already on the board rather than answer its item. refused is
// returned when the issue is not among the first lookupPages pages (the
// refusal was for another reason), or when the board was looked through
// less than lookupEvery ago; why the board could not be read, when it
// could not.
func (b *Board) itemOf(ctx context.Context, number int, refused error) (BoardItem, error) {
	now := b.c.cfg.Now()
	b.mu.Lock()
	recent := !b.lookedUp.IsZero() && now.Sub(b.lookedUp) < lookupEvery
	if !recent {
		b.lookedUp = now
	}
	b.mu.Unlock()
	if recent {
		return BoardItem{}, refused
	}
	repoPath := strings.ToLower("/repos/" + b.c.cfg.Owner + "/" + b.c.cfg.Repo)
	var found *BoardItem
	err := b.walkItems(ctx, lookupPages, func(item BoardItem) bool {
		if item.IssueNumber == number && strings.HasSuffix(strings.ToLower(item.RepositoryURL), repoPath) {
			found = &item
			return false
		}
		return true
	})
	switch {
	case err != nil:
		return BoardItem{}, err
	case found != nil:
		return *found, nil
	}
	return BoardItem{}, refused
}

// SetItemValues sets cxloop's fields of the item itemID, which the caller
// added to the board, to values (all of them: what the item holds now is
// not listed), and says ItemRemoved, sending nothing more, when the item
// is no longer on the board: a person took it off. A removal is for good,
// so a 404 to the update is not taken for one on its own: GitHub answers
// 404 for an item that is gone, for a project that is (or that the
// credentials no longer see), and may for a write the credentials may
// not make. The item is read, then the board: a removal is an item that
// reads 404 on a board that reads 200.
func (b *Board) SetItemValues(ctx context.Context, itemID int64, values map[string]string) (skipped []string, state ItemState, err error) {
	skipped, err = b.SetValues(ctx, BoardItem{ID: itemID}, values)
	if err == nil {
		return skipped, ItemPresent, nil
	}
	if !isStatus(err, http.StatusNotFound) {
		return skipped, 0, err
	}
	if _, rerr := b.c.do(ctx, http.MethodGet, fmt.Sprintf("%s/items/%d", b.path, itemID), nil, nil); rerr == nil {
		return skipped, 0, b.writeRefused() // the item is there
	} else if rerr := b.c.boardError(rerr, b.ref); !isStatus(rerr, http.StatusNotFound) {
		return skipped, 0, rerr
	}
	if err := b.answers(ctx); err != nil {
		return skipped, 0, err
	}
	return skipped, ItemRemoved, nil
}

// writeRefused is a 404 to a write on a board, and on an item and issue,
// that the credentials can read: GitHub hides what they may not change.
func (b *Board) writeRefused() error {
	return &PermissionError{Field: "spec.tracker.github.project", Resource: b.ref.String(), Permission: PermissionProjects, Status: http.StatusNotFound}
}

// answers asks for the board itself: nil when it answers, ProjectNotFound
// when it is gone (or out of the credentials' sight), or why it could not
// be asked.
func (b *Board) answers(ctx context.Context) error {
	_, err := b.c.do(ctx, http.MethodGet, b.path, nil, nil)
	if err == nil {
		return nil
	}
	if err := b.c.boardError(err, b.ref); !isStatus(err, http.StatusNotFound) {
		return err
	}
	return projectNotFound(b.ref)
}

// fieldValueUpdate is one field of an item update; Value is a string
// (text, an option ID) or a number.
type fieldValueUpdate struct {
	ID    int64 `json:"id"`
	Value any   `json:"value"`
}

type updateItemRequest struct {
	Fields []fieldValueUpdate `json:"fields"`
}

// SetValues sets cxloop's fields of item to values (by field name: text,
// a number, or an option's name), in one request, sending only what
// differs from item.Values (as Items returned it; empty sends every value). Names
// that are not cxloop's fields are refused. A value the board's field
// cannot hold (a person's field of another type, an option it lacks) is
// skipped and named in skipped.
func (b *Board) SetValues(ctx context.Context, item BoardItem, values map[string]string) (skipped []string, err error) {
	for name := range values {
		if !isBoardField(name) {
			return nil, &APIError{Reason: cxv1.ReasonInvalidRequest, Message: fmt.Sprintf("%q is not one of cxloop's board fields: cxloop changes only its own", name)}
		}
	}
	fields, err := b.cachedFields(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	var updates []fieldValueUpdate
	for _, name := range names {
		want := values[name]
		f, ok := fields[strings.ToLower(name)]
		if !ok {
			skipped = append(skipped, name)
			continue
		}
		if have, ok := item.Values[f.Name]; ok && have == want {
			continue
		}
		switch f.DataType {
		case "text":
			updates = append(updates, fieldValueUpdate{ID: f.ID, Value: want})
		case "number":
			n, err := strconv.ParseFloat(want, 64)
			if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
				skipped = append(skipped, name)
				continue
			}
			if have, ok := item.Values[f.Name]; ok {
				if h, err := strconv.ParseFloat(have, 64); err == nil && h == n {
					continue
				}
			}
			updates = append(updates, fieldValueUpdate{ID: f.ID, Value: n})
		case "single_select":
			id, ok := f.optionID(want)
			if !ok {
				skipped = append(skipped, name)
				continue
			}
			updates = append(updates, fieldValueUpdate{ID: f.ID, Value: id})
		default:
			skipped = append(skipped, name)
		}
	}
	if len(updates) == 0 {
		return skipped, nil
	}
	_, err = b.c.do(ctx, http.MethodPatch, fmt.Sprintf("%s/items/%d", b.path, item.ID), &updateItemRequest{Fields: updates}, nil)
	if err != nil {
		return skipped, b.c.boardError(err, b.ref)
	}
	return skipped, nil
}
