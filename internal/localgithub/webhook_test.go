package localgithub

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestSignDocumentedVector(t *testing.T) {
	// https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
	got := Sign([]byte("It's a Secret to Everybody"), []byte("Hello, World!"))
	want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if Sign([]byte("another secret"), []byte("Hello, World!")) == want {
		t.Error("signature does not depend on the secret")
	}
}

// webhookShape are the comparison rules against octokit's examples: keys
// GitHub documents as nullable may be null in ours where the example has a
// value.
var webhookShape = shapeOptions{nullable: map[string]bool{
	"milestone": true, "assignee": true, "description": true, "homepage": true,
	"language": true, "closed_at": true, "body": true, "license": true,
	"mirror_url": true, "active_lock_reason": true, "closed_by": true,
}}

// webhookExample loads octokit's example payload for an action.
func webhookExample(t *testing.T, action string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "github", "webhooks", "issues."+action+".json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	// Not sent by the local server: draft belongs to pull requests and
	// installation to GitHub App webhooks.
	delete(v, "installation")
	if issue, ok := v["issue"].(map[string]any); ok {
		delete(issue, "draft")
	}
	if changes, ok := v["changes"].(map[string]any); ok {
		if issue, ok := changes["new_issue"].(map[string]any); ok {
			delete(issue, "draft")
		}
	}
	return v
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIssueWebhooks(t *testing.T) {
	receiver := &hookReceiver{failNext: 1} // the first attempt fails and is retried
	hookServer := httptest.NewServer(receiver)
	defer hookServer.Close()

	s := startServer(t, Options{})
	s.hooks.retryDelay = 10 // nanoseconds: keep the retry quick
	s.AddRepo("acme", "shop")
	s.AddRepo("acme", "platform")
	const secret = "s3cret"
	s.SetWebhook(hookServer.URL, secret)
	client := newClient(t, s, testToken)
	ctx := context.Background()

	issue, _, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("Checkout is slow")})
	if err != nil {
		t.Fatal(err)
	}
	n := issue.GetNumber()
	mustEdit := func(req *github.IssueRequest) {
		t.Helper()
		if _, _, err := client.Issues.Edit(ctx, "acme", "shop", n, req); err != nil {
			t.Fatal(err)
		}
	}
	mustEdit(&github.IssueRequest{Title: github.String("Checkout p95 is 4s")})
	if _, _, err := client.Issues.AddLabelsToIssue(ctx, "acme", "shop", n, []string{"cx"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Issues.RemoveLabelForIssue(ctx, "acme", "shop", n, "cx"); err != nil {
		t.Fatal(err)
	}
	mustEdit(&github.IssueRequest{Assignees: &[]string{"hubot"}})
	mustEdit(&github.IssueRequest{State: github.String("closed"), StateReason: github.String("not_planned")})
	if err := s.ReopenIssue("acme", "shop", n); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseIssue("acme", "shop", n, "completed"); err != nil {
		t.Fatal(err)
	}
	if err := s.TransferIssue("acme", "shop", n, "acme", "platform"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIssue("acme", "platform", 1); err != nil {
		t.Fatal(err)
	}
	waitDeliveries(t, s)

	wantActions := []string{"opened", "edited", "labeled", "unlabeled", "assigned", "closed", "reopened", "closed", "transferred", "opened", "deleted"}
	hooks := receiver.hooks()
	if len(hooks) != len(wantActions) {
		t.Fatalf("received %d webhooks, want %d", len(hooks), len(wantActions))
	}
	seen := map[string]bool{}
	for i, h := range hooks {
		if got := h.Header.Get("X-GitHub-Event"); got != "issues" {
			t.Errorf("hook %d: X-GitHub-Event %q", i, got)
		}
		id := h.Header.Get("X-GitHub-Delivery")
		if !uuidPattern.MatchString(id) || seen[id] {
			t.Errorf("hook %d: X-GitHub-Delivery %q not a fresh UUID", i, id)
		}
		seen[id] = true
		if err := github.ValidateSignature(h.Header.Get("X-Hub-Signature-256"), h.Body, []byte(secret)); err != nil {
			t.Errorf("hook %d: signature: %v", i, err)
		}
		parsed, err := github.ParseWebHook("issues", h.Body)
		if err != nil {
			t.Fatalf("hook %d: %v", i, err)
		}
		ev := parsed.(*github.IssuesEvent)
		if ev.GetAction() != wantActions[i] {
			t.Errorf("hook %d: action %q, want %q", i, ev.GetAction(), wantActions[i])
		}
		if ev.GetRepo().GetFullName() == "" || ev.GetSender().GetLogin() == "" || ev.GetIssue().GetNumber() == 0 {
			t.Errorf("hook %d: incomplete payload %s", i, h.Body)
		}
		var payload map[string]any
		if err := json.Unmarshal(h.Body, &payload); err != nil {
			t.Fatal(err)
		}
		if example := webhookExample(t, ev.GetAction()); example != nil {
			for _, p := range compareShape(ev.GetAction(), example, payload, webhookShape) {
				t.Errorf("hook %d: %s", i, p)
			}
		}
		switch i {
		case 1:
			if ev.GetChanges().GetTitle().GetFrom() != "Checkout is slow" {
				t.Errorf("edited changes %s", h.Body)
			}
		case 2:
			if ev.GetLabel().GetName() != "cx" {
				t.Errorf("labeled label %v", ev.GetLabel())
			}
		case 4:
			if ev.GetAssignee().GetLogin() != "hubot" {
				t.Errorf("assigned assignee %v", ev.GetAssignee())
			}
		case 5:
			if ev.GetIssue().GetStateReason() != "not_planned" || ev.GetIssue().GetClosedAt().IsZero() {
				t.Errorf("closed issue %s", h.Body)
			}
		case 8:
			var transferred struct {
				Changes struct {
					NewIssue      github.Issue      `json:"new_issue"`
					NewRepository github.Repository `json:"new_repository"`
				} `json:"changes"`
			}
			if err := json.Unmarshal(h.Body, &transferred); err != nil {
				t.Fatal(err)
			}
			if transferred.Changes.NewRepository.GetFullName() != "acme/platform" || transferred.Changes.NewIssue.GetNumber() != 1 {
				t.Errorf("transferred changes %s", h.Body)
			}
		}
	}

	deliveries := s.Deliveries()
	if len(deliveries) != len(wantActions) {
		t.Fatalf("Deliveries() has %d entries", len(deliveries))
	}
	if d := deliveries[0]; d.Attempts != 2 || !d.Delivered || !d.Done || d.StatusCode != http.StatusNoContent {
		t.Errorf("first delivery %+v, want delivered on the second attempt", d)
	}
	for i, d := range deliveries {
		if d.Action != wantActions[i] || d.Signature != Sign([]byte(secret), d.Payload) {
			t.Errorf("delivery %d: %s %s", i, d.Action, d.Signature)
		}
	}
}

func TestIssueMovesAndDeletionsAnswerLikeGitHub(t *testing.T) {
	s := startServer(t, Options{})
	s.AddRepo("acme", "shop")
	s.AddRepo("acme", "platform")
	client := newClient(t, s, testToken)
	ctx := context.Background()
	for _, title := range []string{"one", "two"} {
		if _, _, err := client.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String(title)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.TransferIssue("acme", "shop", 1, "acme", "platform"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIssue("acme", "shop", 2); err != nil {
		t.Fatal(err)
	}
	if got := s.Issues("acme", "shop"); len(got) != 0 {
		t.Errorf("shop still has %+v", got)
	}
	moved := s.Issues("acme", "platform")
	if len(moved) != 1 || moved[0].Title != "one" || moved[0].Number != 1 {
		t.Fatalf("platform has %+v", moved)
	}

	r := call(t, s, "GET", "/repos/acme/shop/issues/1", nil)
	if r.Status != http.StatusMovedPermanently || r.Header.Get("Location") != s.URL()+"repos/acme/platform/issues/1" {
		t.Errorf("transferred issue: %d Location %q", r.Status, r.Header.Get("Location"))
	}
	// go-github (through net/http) follows the redirect.
	got, _, err := client.Issues.Get(ctx, "acme", "shop", 1)
	if err != nil || got.GetTitle() != "one" || got.GetRepositoryURL() != s.URL()+"repos/acme/platform" {
		t.Errorf("following the move: %v %v", got, err)
	}

	r = call(t, s, "GET", "/repos/acme/shop/issues/2", nil)
	if r.Status != http.StatusGone || r.JSON(t).(map[string]any)["message"] != "This issue was deleted" {
		t.Errorf("deleted issue: %d %s", r.Status, r.Body)
	}
	if err := s.CloseIssue("acme", "shop", 2, ""); err == nil {
		t.Error("closing a deleted issue succeeded")
	}
}
