package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"

	"github.com/cxloop/cxloop/internal/localgithub"
	"github.com/cxloop/cxloop/internal/tracker"
)

// addPersonField makes a field on the board through the API, as a person
// would in the web UI; body is the request's JSON.
func (e *boardEnv) addPersonField(body string) {
	e.t.Helper()
	reqHTTP, _ := http.NewRequest(http.MethodPost, e.apiURL+"orgs/acme/projectsV2/1/fields", strings.NewReader(body))
	reqHTTP.Header.Set("Authorization", "Bearer "+e.token)
	reqHTTP.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(reqHTTP)
	if err != nil {
		e.t.Fatalf("creating the person's field %s: %v", body, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("creating the person's field %s: %s", body, resp.Status)
	}
}

// newBoardWithIssue is a board env, a client, an issue key opened through
// it and the board found.
func newBoardWithIssue(t *testing.T, key string) (*boardEnv, *tracker.Client, *tracker.Board, int) {
	t.Helper()
	e := newBoardEnv(t)
	c := e.client()
	n := e.openIssue(c, key)
	return e, c, e.board(c), n
}

func TestBoardRefusesAnIncompleteProject(t *testing.T) {
	e := newBoardEnv(t)
	c := e.client()
	for _, ref := range []tracker.ProjectRef{{Owner: "", Number: 1}, {Owner: owner, Number: 0}, {Owner: owner, Number: -3}} {
		before := e.requestCount()
		b, err := c.Board(context.Background(), ref)
		if b != nil || tracker.Reason(err) != cxv1.ReasonInvalidRequest || !strings.Contains(err.Error(), "spec.tracker.github.project") {
			t.Errorf("Board(%+v) = %v, %v; want InvalidRequest naming the field", ref, b, err)
		}
		if n := e.requestCount() - before; n != 0 {
			t.Errorf("Board(%+v) sent %d requests, want 0", ref, n)
		}
	}
}

// TestBoardLookupAsksTheUserOnlyAfterANotFound: a project is looked for
// among the organisation's, then the user's; only a 404 moves on, and a
// 403 that is a rate limit is a rate limit, not a missing permission.
func TestBoardLookupAsksTheUserOnlyAfterANotFound(t *testing.T) {
	for _, tc := range []struct {
		name      string
		number    int
		fault     *localgithub.Fault
		reason    string
		userAsked bool
	}{
		{"found among the organisation's", 1, nil, "", false},
		{"missing everywhere", 42, nil, cxv1.ReasonProjectNotFound, true},
		{"server error", 1, &localgithub.Fault{Path: "/orgs/acme/projectsV2/1", Kind: localgithub.ServerError, Status: 502}, cxv1.ReasonServerError, false},
		{"secondary limit", 1, &localgithub.Fault{Path: "/orgs/acme/projectsV2/1", Kind: localgithub.SecondaryLimit, RetryAfter: 30 * time.Second}, cxv1.ReasonRateLimited, false},
		{"secondary limit 429", 1, &localgithub.Fault{Path: "/orgs/acme/projectsV2/1", Kind: localgithub.SecondaryLimit, Status: 429}, cxv1.ReasonRateLimited, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newBoardEnv(t)
			c := e.client()
			if tc.fault != nil {
				e.srv.Inject(*tc.fault)
			}
			b, err := c.Board(context.Background(), tracker.ProjectRef{Owner: owner, Number: tc.number})
			if got := tracker.Reason(err); got != tc.reason {
				t.Fatalf("Board = %v, %v; want reason %q", b, err, tc.reason)
			}
			var pe *tracker.PermissionError
			if errors.As(err, &pe) {
				t.Errorf("a %s was taken for a missing permission: %v", tc.name, err)
			}
			if err == nil && b.Ref() != (tracker.ProjectRef{Owner: owner, Number: tc.number}) {
				t.Errorf("Ref = %+v", b.Ref())
			}
			if asked := e.sent(0, http.MethodGet, "/users/acme/projectsV2/"+strconv.Itoa(tc.number)) > 0; asked != tc.userAsked {
				t.Errorf("user's projects asked: %v, want %v", asked, tc.userAsked)
			}
		})
	}
}

// TestBoardOperationsTypeTheirFailures: every call of a found board turns a
// refused request into a typed error: a 403 into the permission it lacks,
// a rate limit into a RateLimitError, a 5xx into ServerError.
func TestBoardOperationsTypeTheirFailures(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		fault  *localgithub.Fault
		deny   bool
		op     func(b *tracker.Board, issue int) error
		reason string
		// posts is the number of item POSTs the operation may send.
		posts int
	}{
		{"fields denied", nil, true, func(b *tracker.Board, _ int) error { _, err := b.Fields(ctx); return err }, cxv1.ReasonPermissionMissing, 0},
		{"fields failing", &localgithub.Fault{Method: "GET", Path: "/orgs/acme/projectsV2/1/fields", Kind: localgithub.ServerError}, false,
			func(b *tracker.Board, _ int) error { _, err := b.Fields(ctx); return err }, cxv1.ReasonServerError, 0},
		{"items denied", nil, true, func(b *tracker.Board, _ int) error { _, err := b.Items(ctx); return err }, cxv1.ReasonPermissionMissing, 0},
		{"items limited", &localgithub.Fault{Method: "GET", Path: "/orgs/acme/projectsV2/1/items", Kind: localgithub.SecondaryLimit}, false,
			func(b *tracker.Board, _ int) error { _, err := b.Items(ctx); return err }, cxv1.ReasonRateLimited, 0},
		{"adding an item failing", &localgithub.Fault{Method: "POST", Path: "/orgs/acme/projectsV2/1/items", Kind: localgithub.ServerError, Status: 503}, false,
			func(b *tracker.Board, n int) error { _, err := b.AddItem(ctx, n); return err }, cxv1.ReasonServerError, 1},
		{"adding an item limited", &localgithub.Fault{Method: "POST", Path: "/orgs/acme/projectsV2/1/items", Kind: localgithub.SecondaryLimit}, false,
			func(b *tracker.Board, n int) error { _, err := b.AddItem(ctx, n); return err }, cxv1.ReasonRateLimited, 1},
		{"adding a missing issue", nil, false,
			func(b *tracker.Board, n int) error { _, err := b.AddItem(ctx, n+1000); return err }, cxv1.ReasonIssueNotFound, 1},
		{"creating a field limited", &localgithub.Fault{Method: "POST", Path: "/orgs/acme/projectsV2/1/fields", Kind: localgithub.SecondaryLimit, Status: 429}, false,
			func(b *tracker.Board, _ int) error { _, err := b.EnsureFields(ctx); return err }, cxv1.ReasonRateLimited, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, b, n := newBoardWithIssue(t, "park/board-failure")
			if tc.deny {
				e.srv.DenyProjects(e.token, true)
			}
			if tc.fault != nil {
				e.srv.Inject(*tc.fault)
			}
			before := e.requestCount()
			err := tc.op(b, n)
			if got := tracker.Reason(err); got != tc.reason {
				t.Fatalf("err = %v (Reason %q), want %q", err, got, tc.reason)
			}
			var pe *tracker.PermissionError
			if isPE := errors.As(err, &pe); isPE != (tc.reason == cxv1.ReasonPermissionMissing) {
				t.Errorf("PermissionError %v for %v", isPE, err)
			} else if isPE && (pe.Resource != "project acme/1" || pe.Permission != tracker.PermissionProjects) {
				t.Errorf("PermissionError = %+v", pe)
			}
			if posts := e.sent(before, http.MethodPost, "/items"); posts != tc.posts {
				t.Errorf("sent %d item POSTs, want %d", posts, tc.posts)
			}
			if items := e.items(); len(items) != 0 {
				t.Errorf("board items = %+v after a failure, want none", items)
			}
		})
	}
}

// TestBoardSetValuesSendsOnlyWhatTheFieldsCanHold: one PATCH with what
// differs; a value the field cannot hold is skipped and named.
func TestBoardSetValuesSendsOnlyWhatTheFieldsCanHold(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// have are the values the item already holds, set before.
		have    map[string]string
		set     map[string]string
		skipped []string
		patches int
		want    map[string]string
	}{
		{"nothing to set", nil, map[string]string{}, nil, 0, map[string]string{}},
		{"option named in other case", nil, map[string]string{tracker.FieldPhase: "improve", tracker.FieldQuickWin: "YES"}, nil, 1,
			map[string]string{"Phase": "Improve", "Quick win": "Yes"}},
		{"option the field lacks", nil, map[string]string{tracker.FieldChannel: "carrier-pigeon", tracker.FieldStage: "arrival"}, []string{tracker.FieldChannel}, 1,
			map[string]string{"Stage": "arrival"}},
		{"not a number", nil, map[string]string{tracker.FieldImpact: "four", tracker.FieldEffort: "1e400"}, []string{tracker.FieldEffort, tracker.FieldImpact}, 0,
			map[string]string{}},
		{"not a finite number", nil, map[string]string{tracker.FieldImpact: "NaN", tracker.FieldEffort: "-Infinity", tracker.FieldStage: "arrival"},
			[]string{tracker.FieldEffort, tracker.FieldImpact}, 1, map[string]string{"Stage": "arrival"}},
		{"a number written otherwise is unchanged", map[string]string{tracker.FieldImpact: "4"}, map[string]string{tracker.FieldImpact: "4.0"}, nil, 0,
			map[string]string{"Impact": "4"}},
		{"a changed number", map[string]string{tracker.FieldImpact: "4"}, map[string]string{tracker.FieldImpact: "2.5"}, nil, 1,
			map[string]string{"Impact": "2.5"}},
		{"same text", map[string]string{tracker.FieldStage: "arrival"}, map[string]string{tracker.FieldStage: "arrival"}, nil, 0,
			map[string]string{"Stage": "arrival"}},
		{"changed text and option", map[string]string{tracker.FieldStage: "arrival", tracker.FieldOutcome: "Unchanged"},
			map[string]string{tracker.FieldStage: "parking", tracker.FieldOutcome: "Improved"}, nil, 1,
			map[string]string{"Stage": "parking", "Outcome": "Improved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, b, n := newBoardWithIssue(t, "park/values")
			e.ensureFields(b)
			item, err := b.AddItem(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.have) > 0 {
				if _, err := b.SetValues(ctx, item, tc.have); err != nil {
					t.Fatal(err)
				}
				items, err := b.Items(ctx)
				if err != nil || len(items) != 1 {
					t.Fatalf("Items = %v, %v", items, err)
				}
				item = items[0]
			}
			before := e.requestCount()
			skipped, err := b.SetValues(ctx, item, tc.set)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(skipped, tc.skipped) {
				t.Errorf("skipped %v, want %v", skipped, tc.skipped)
			}
			if got := e.sent(before, http.MethodPatch, ""); got != tc.patches {
				t.Errorf("sent %d PATCHes, want %d", got, tc.patches)
			}
			if got := e.requestCount() - before; got != tc.patches {
				t.Errorf("sent %d requests, want only the %d PATCHes (fields are cached)", got, tc.patches)
			}
			got := e.items()[0].Values
			delete(got, "Status")
			if len(got) != len(tc.want) {
				t.Errorf("board values = %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("board %s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

// TestBoardSkipsFieldsItCannotFill: fields of cxloop's names that the board
// lacks, or that a person made with a type cxloop does not write, are
// skipped; the rest are set in the same request.
func TestBoardSkipsFieldsItCannotFill(t *testing.T) {
	e, _, b, n := newBoardWithIssue(t, "park/person-fields")
	ctx := context.Background()
	e.addPersonField(`{"name":"stage","data_type":"date"}`)
	e.addPersonField(`{"name":"Effort","data_type":"single_select","single_select_options":[{"name":"S","color":"GREEN"},{"name":"L","color":"RED"}]}`)
	e.addPersonField(`{"name":"Persona","data_type":"number"}`)
	item, err := b.AddItem(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	// No EnsureFields: of cxloop's fields, only the person's exist.
	skipped, err := b.SetValues(ctx, item, map[string]string{
		tracker.FieldStage: "2027-01-01", tracker.FieldEffort: "l", tracker.FieldPersona: "family",
		tracker.FieldImpact: "3", tracker.FieldPhase: "Improve",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{tracker.FieldImpact, tracker.FieldPersona, tracker.FieldPhase, tracker.FieldStage}; !slices.Equal(skipped, want) {
		t.Errorf("skipped %v, want %v", skipped, want)
	}
	if got := e.items()[0].Values; got["Effort"] != "L" || got["stage"] != "" || got["Persona"] != "" {
		t.Errorf("board values = %v; want the person's Effort set to L, nothing else", got)
	}
	items, err := b.Items(ctx)
	if err != nil || len(items) != 1 || items[0].Values["Effort"] != "L" {
		t.Fatalf("Items = %+v, %v; want Effort L read back", items, err)
	}
	// The person's fields keep their names and types.
	created, err := b.EnsureFields(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(created, tracker.FieldStage) || slices.Contains(created, tracker.FieldEffort) || len(created) != len(tracker.BoardFields)-3 {
		t.Errorf("created %v; want every field but the person's three", created)
	}
	names, _ := e.srv.ProjectFields(owner, true, e.project.Number)
	if !slices.Contains(names, "stage") || slices.Contains(names, "Stage") {
		t.Errorf("fields = %v; want the person's lower-case stage kept, no second Stage", names)
	}
}

func TestRelationsOfMissingIssuesSendNoWrite(t *testing.T) {
	e, c, _, n := newBoardWithIssue(t, "parent/real")
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		op   func() error
	}{
		{"sub-issue that does not exist", func() error { return c.EnsureSubIssue(ctx, n, n+500) }},
		{"blocker that does not exist", func() error { return c.EnsureBlockedBy(ctx, n, n+500) }},
		{"type of an issue that does not exist", func() error { return c.SetIssueType(ctx, n+500, "Task") }},
		{"progress of an issue that does not exist", func() error { _, err := c.SubIssueProgress(ctx, n+500); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.requestCount()
			if err := tc.op(); tracker.Reason(err) != cxv1.ReasonIssueNotFound {
				t.Errorf("err = %v, want IssueNotFound", err)
			}
			for _, m := range []string{http.MethodPost, http.MethodPatch} {
				if got := e.sent(before, m, ""); got != 0 {
					t.Errorf("sent %d %s", got, m)
				}
			}
		})
	}
	if p, err := c.SubIssueProgress(ctx, n); err != nil || p != (tracker.SubIssuesSummary{}) {
		t.Errorf("progress of an issue without sub-issues = %+v, %v; want zero", p, err)
	}
}

// TestBoardFullOfFields: GitHub refuses a field beyond a project's limit
// (50); the fields made before stay, the refusal is ValidationFailed, and
// a later sync makes nothing twice.
func TestBoardFullOfFields(t *testing.T) {
	e := newBoardEnv(t)
	ctx := context.Background()
	b := e.board(e.client())
	// Title and Status, and 45 of the team's: room for three more.
	for i := range 45 {
		e.addPersonField(fmt.Sprintf(`{"name":"Team field %d","data_type":"text"}`, i))
	}
	created, err := b.EnsureFields(ctx)
	if tracker.Reason(err) != cxv1.ReasonValidationFailed {
		t.Fatalf("EnsureFields on a full board = %v, %v; want ValidationFailed", created, err)
	}
	if want := []string{tracker.FieldPhase, tracker.FieldStage, tracker.FieldPersona}; !slices.Equal(created, want) {
		t.Errorf("created %v, want %v", created, want)
	}
	before := e.requestCount()
	created, err = b.EnsureFields(ctx)
	if tracker.Reason(err) != cxv1.ReasonValidationFailed || len(created) != 0 {
		t.Errorf("second EnsureFields = %v, %v", created, err)
	}
	if posts := e.sent(before, http.MethodPost, "/fields"); posts != 1 {
		t.Errorf("second EnsureFields sent %d field creations, want only the one that does not fit", posts)
	}
	if names, _ := e.srv.ProjectFields(owner, true, e.project.Number); len(names) != 50 {
		t.Errorf("%d fields, want the limit of 50", len(names))
	}
}
