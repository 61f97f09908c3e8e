package localgithub

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// Writes go through serveWrite: the body decoded, the lock held, the
// change made and saved only when it succeeds, and answered.

// TestRefusedWritesChangeNothing: a write GitHub refuses leaves the world
// as it was, in memory and in the data file.
func TestRefusedWritesChangeNothing(t *testing.T) {
	s, data := savingServer(t)
	issues := newIssues(t, s, 3)
	parent, child, other := issues[0], issues[1], issues[2]
	expectStatus(t, call(t, s, "POST", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID}), 201, "link")
	saved, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	before := []IssueRelations{relationsOf(t, s, parent.Number), relationsOf(t, s, child.Number), relationsOf(t, s, other.Number)}

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"a second parent without replace_parent", "POST", issuePath(other.Number, "/sub_issues"), map[string]any{"sub_issue_id": child.ID}, 422},
		{"a sub-issue of itself", "POST", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": parent.ID}, 422},
		{"an unknown sub-issue", "POST", issuePath(parent.Number, "/sub_issues"), map[string]any{"sub_issue_id": 999999}, 404},
		{"blocked by itself", "POST", issuePath(other.Number, "/dependencies/blocked_by"), map[string]any{"issue_id": other.ID}, 422},
		{"no issue_id", "POST", issuePath(other.Number, "/dependencies/blocked_by"), map[string]any{}, 422},
		{"a body that is no JSON", "POST", issuePath(other.Number, "/dependencies/blocked_by"), "{", 400},
		{"removing a sub-issue of another parent", "DELETE", issuePath(other.Number, "/sub_issue"), map[string]any{"sub_issue_id": child.ID}, 404},
		{"a dependency that is not there", "DELETE", issuePath(other.Number, "/dependencies/blocked_by/1"), nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, tc.path, tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			after := []IssueRelations{relationsOf(t, s, parent.Number), relationsOf(t, s, child.Number), relationsOf(t, s, other.Number)}
			if !reflect.DeepEqual(before, after) {
				t.Errorf("relations changed by a refused write:\nbefore %+v\nafter  %+v", before, after)
			}
			if now, _ := os.ReadFile(data); string(now) != string(saved) {
				t.Errorf("the data file was written by a refused write")
			}
		})
	}
}

// savingServer is a server that saves its world to a data file.
func savingServer(t *testing.T) (*Server, string) {
	data := filepath.Join(t.TempDir(), "github.json")
	return startServer(t, Options{DataFile: data}), data
}

// TestReprioritizeAnswersSimpleValidationErrors: GitHub answers this one
// operation's 422 with errors as strings ("Validation Error Simple").
func TestReprioritizeAnswersSimpleValidationErrors(t *testing.T) {
	s := startServer(t, Options{})
	issues := newIssues(t, s, 2)
	r := call(t, s, "PATCH", issuePath(issues[0].Number, "/sub_issues/priority"), map[string]any{"sub_issue_id": issues[1].ID, "after_id": 1})
	expectStatus(t, r, 422, "reprioritize a stranger")
	var body struct {
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("errors are not strings: %v: %s", err, r.Body)
	}
	if body.Message != "Validation Failed" || len(body.Errors) != 1 || body.Errors[0] != "sub_issue_id is invalid" {
		t.Errorf("answer %+v", body)
	}
}

// TestRemovingADanglingBlockerIsSaved: a blocker deleted since leaves its
// ID behind; removing it takes the ID away (and saves that) and answers
// 404, there being no issue to answer with.
func TestRemovingADanglingBlockerIsSaved(t *testing.T) {
	s := startServer(t, Options{})
	issues := newIssues(t, s, 2)
	blocked, blocker := issues[0], issues[1]
	expectStatus(t, call(t, s, "POST", issuePath(blocked.Number, "/dependencies/blocked_by"), map[string]any{"issue_id": blocker.ID}), 201, "blocked by")
	if err := s.DeleteIssue("acme", "journeys", blocker.Number); err != nil {
		t.Fatal(err)
	}
	r := call(t, s, "DELETE", issuePath(blocked.Number, "/dependencies/blocked_by/"+itoa(blocker.ID)), nil)
	expectStatus(t, r, 404, "remove the deleted blocker")
	if got := decode[map[string]any](t, r)["message"]; got != "Not Found" {
		t.Errorf("answer %s", r.Body)
	}
	s.mu.Lock()
	left := s.world.Repos[0].issue(blocked.Number).BlockedBy
	s.mu.Unlock()
	if len(left) != 0 {
		t.Errorf("the dangling blocker is still there: %v", left)
	}
	expectStatus(t, call(t, s, "DELETE", issuePath(blocked.Number, "/dependencies/blocked_by/"+itoa(blocker.ID)), nil), 404, "again")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestFind: the first match, or nil.
func TestFind(t *testing.T) {
	a, b, c := &label{ID: 1, Name: "a"}, &label{ID: 2, Name: "b"}, &label{ID: 3, Name: "b"}
	xs := []*label{a, b, c}
	if got := find(xs, func(l *label) bool { return l.Name == "b" }); got != b {
		t.Errorf("find b: %+v, want the first b", got)
	}
	if got := find(xs, func(l *label) bool { return l.ID == 9 }); got != nil {
		t.Errorf("find 9: %+v, want nil", got)
	}
	if got := find[label](nil, func(*label) bool { return true }); got != nil {
		t.Errorf("find in nothing: %+v", got)
	}
}
