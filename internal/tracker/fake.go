package tracker

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Fake is an in-memory Tracker for controller tests. It keeps the contract of
// Client: one issue per key, all states listed, no-op updates and closes
// recorded as such. Set Err to make every call fail with it (e.g. a
// *RateLimitError).
type Fake struct {
	mu       sync.Mutex
	Err      error
	Label    string
	Now      func() time.Time
	issues   []Issue
	comments map[int][]string
	writes   int
}

var _ Tracker = (*Fake)(nil)

// NewFake returns an empty Fake.
func NewFake() *Fake { return &Fake{Label: defaultLabel, comments: map[int][]string{}} }

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fake) find(number int) (*Issue, error) {
	for i := range f.issues {
		if f.issues[i].Number == number {
			return &f.issues[i], nil
		}
	}
	return nil, &APIError{Reason: ReasonIssueNotFound, StatusCode: 404, Message: "Not Found"}
}

// EnsureIssue implements Tracker.
func (f *Fake) EnsureIssue(_ context.Context, req IssueRequest) (Issue, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return Issue{}, false, f.Err
	}
	if !ValidKey(req.Key) || req.Title == "" {
		return Issue{}, false, &APIError{Reason: ReasonInvalidRequest, Message: "bad key or empty title"}
	}
	for _, is := range f.issues {
		if is.Key == req.Key {
			return cachedIssue{Issue: is}.clone(), false, nil
		}
	}
	now := f.now()
	labels := append([]string{f.Label}, req.Labels...)
	is := Issue{Number: len(f.issues) + 1, Key: req.Key, Title: req.Title, Body: stripMarkers(composeBody(req.Body, req.Key)),
		State: "open", Labels: labels, CreatedAt: now, UpdatedAt: now}
	is.URL = fmt.Sprintf("https://github.com/fake/fake/issues/%d", is.Number)
	f.issues = append(f.issues, is)
	f.writes++
	return cachedIssue{Issue: is}.clone(), true, nil
}

// Issues implements Tracker.
func (f *Fake) Issues(context.Context) (map[string]Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return nil, f.Err
	}
	out := map[string]Issue{}
	for _, is := range f.issues {
		out[is.Key] = cachedIssue{Issue: is}.clone()
	}
	return out, nil
}

// UpdateIssue implements Tracker.
func (f *Fake) UpdateIssue(_ context.Context, number int, title, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	is, err := f.find(number)
	if err != nil {
		return err
	}
	if title == "" {
		title = is.Title
	}
	body = stripMarkers(body)
	if is.Title == title && is.Body == body {
		return nil
	}
	is.Title, is.Body, is.UpdatedAt = title, body, f.now()
	f.writes++
	return nil
}

// CloseIssue implements Tracker.
func (f *Fake) CloseIssue(ctx context.Context, number int, reason, comment string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	if reason != "completed" && reason != "not_planned" {
		return &APIError{Reason: ReasonInvalidRequest, Message: "bad close reason"}
	}
	is, err := f.find(number)
	if err != nil {
		return err
	}
	if is.State == "closed" && is.StateReason == reason {
		return nil
	}
	if comment != "" {
		f.comments[number] = append(f.comments[number], comment)
		f.writes++
	}
	now := f.now()
	is.State, is.StateReason, is.UpdatedAt, is.ClosedAt = "closed", reason, now, &now
	f.writes++
	return nil
}

// Comment implements Tracker.
func (f *Fake) Comment(_ context.Context, number int, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	if _, err := f.find(number); err != nil {
		return err
	}
	f.comments[number] = append(f.comments[number], text)
	f.writes++
	return nil
}

// EnsureLabel implements Tracker.
func (f *Fake) EnsureLabel(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Err
}

// SetState changes an issue as a product owner would ("open"/"closed", reason).
func (f *Fake) SetState(number int, state, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	is, err := f.find(number)
	if err != nil {
		return err
	}
	now := f.now()
	is.State, is.StateReason, is.UpdatedAt = state, reason, now
	is.ClosedAt = nil
	if state == "closed" {
		is.ClosedAt = &now
	}
	return nil
}

// All returns every issue, by number.
func (f *Fake) All() []Issue {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Issue, 0, len(f.issues))
	for _, is := range f.issues {
		out = append(out, cachedIssue{Issue: is}.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// Comments returns the comments of an issue, oldest first.
func (f *Fake) Comments(number int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.comments[number]...)
}

// Writes counts the writes a real Client would have sent.
func (f *Fake) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}
