package tracker

import (
	"context"
	"testing"
)

func TestFakeKeepsTheContract(t *testing.T) {
	f := NewFake()
	ctx := context.Background()
	a, created, err := f.EnsureIssue(ctx, IssueRequest{Key: "k", Title: "T", Body: "b"})
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if b, created, _ := f.EnsureIssue(ctx, IssueRequest{Key: "k", Title: "T"}); created || b.Number != a.Number {
		t.Fatal("second EnsureIssue created again")
	}
	w := f.Writes()
	_ = f.UpdateIssue(ctx, a.Number, "T", "b")
	_ = f.CloseIssue(ctx, a.Number, "completed", "done")
	_ = f.CloseIssue(ctx, a.Number, "completed", "done")
	if f.Writes()-w != 2 || len(f.Comments(a.Number)) != 1 || f.All()[0].State != "closed" {
		t.Fatalf("writes %d comments %v", f.Writes()-w, f.Comments(a.Number))
	}
	f.Err = &RateLimitError{}
	if _, err := f.Issues(ctx); Reason(err) != ReasonRateLimited {
		t.Fatal(err)
	}
}
