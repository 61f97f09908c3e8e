package tracker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// pagingClient is a Client whose repository answers every listing page
// with issues and the Link header link names (given the page, the API
// root and the URL of the page after it, with the same query); it returns the
// pages asked, in order: the page number, with " since" for a listing of
// what changed since a time.
func pagingClient(t *testing.T, issues func(page int) string, link func(page int, base, next string) string) (*Client, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var pages []string
	var base string
	c, _ := statusClient(t, "ghp_paging", nil, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/repos/o/r/issues" {
			t.Errorf("unexpected %s %s", r.Method, r.URL)
			http.NotFound(w, r)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		asked := strconv.Itoa(page)
		if r.URL.Query().Has("since") {
			asked += " since"
		}
		mu.Lock()
		pages = append(pages, asked)
		mu.Unlock()
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page+1))
		if l := link(page, base, base+"repos/o/r/issues?"+q.Encode()); l != "" {
			w.Header().Set("Link", l)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, issues(page))
	})
	base = c.base.String()
	return c, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), pages...)
	}
}

func issueJSON(number int, key string, pullRequest bool) string {
	body := strconv.Quote("text\n\n" + KeyMarker(key))
	pr := ""
	if pullRequest {
		pr = `,"pull_request":{"url":"https://api.github.com/repos/o/r/pulls/` + strconv.Itoa(number) + `"}`
	}
	return fmt.Sprintf(`{"number":%d,"title":"T%d","body":%s,"state":"open","labels":[{"name":"cxloop"}],"updated_at":"2026-01-0%dT00:00:00Z"%s}`, number, number, body, 1+number%9, pr)
}

// TestListingFollowsOnlyLinksOnTheAPIHost: a pagination link elsewhere
// (another host, another scheme, garbage) ends the listing with an error
// before anything is sent there, and the index stays unloaded.
func TestListingFollowsOnlyLinksOnTheAPIHost(t *testing.T) {
	for _, tc := range []struct {
		name string
		link func(base string) string
	}{
		{"another host", func(string) string { return `<https://evil.example/repos/o/r/issues?page=1>; rel="next"` }},
		{"another scheme", func(base string) string {
			return `<` + strings.Replace(base, "http://", "https://", 1) + `repos/o/r/issues?page=1>; rel="next"`
		}},
		{"a port of the same address", func(base string) string {
			return `<` + strings.TrimSuffix(base, "/") + `1/repos/o/r/issues?page=1>; rel="next"`
		}},
		{"unparsable", func(string) string { return `<http://[::1/repos?page=1>; rel="next"` }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, asked := pagingClient(t, func(int) string { return "[" + issueJSON(1, "a", false) + "]" }, func(page int, base, _ string) string {
				if page == 0 {
					return tc.link(base)
				}
				return ""
			})
			_, err := c.Issues(context.Background())
			var ae *APIError
			if Reason(err) != cxv1.ReasonInternalError || !errors.As(err, &ae) || !strings.Contains(ae.Message, "outside the API host") {
				t.Fatalf("Issues = %v; want InternalError about the link", err)
			}
			if got := asked(); len(got) != 1 {
				t.Errorf("pages asked %v, want the first only", got)
			}
			// Nothing was kept: the next caller lists again.
			_, _ = c.Issues(context.Background())
			if got := asked(); len(got) != 2 || got[1] != "0" {
				t.Errorf("pages asked %v; want the first page asked again", got)
			}
		})
	}
}

func TestListingStopsAfterMaxIndexPages(t *testing.T) {
	c, asked := pagingClient(t, func(int) string { return "[]" }, func(_ int, _, next string) string {
		return `<` + next + `>; rel="next"`
	})
	_, err := c.Issues(context.Background())
	if Reason(err) != cxv1.ReasonInternalError || !strings.Contains(err.Error(), fmt.Sprintf("more than %d pages", maxIndexPages)) {
		t.Fatalf("Issues over endless pages = %v", err)
	}
	if got := asked(); len(got) != maxIndexPages || got[len(got)-1] != strconv.Itoa(maxIndexPages-1) {
		t.Errorf("asked %d pages (last %s), want exactly %d", len(got), got[len(got)-1], maxIndexPages)
	}
}

// TestListingReadsEveryPageAndLeavesPullRequestsOut: the pages up to the
// last (a Link with other relations only) are read, then, as the listing
// took more than one page, what changed meanwhile; pull requests, which
// GitHub lists among issues, are not issues.
func TestListingReadsEveryPageAndLeavesPullRequestsOut(t *testing.T) {
	c, asked := pagingClient(t, func(page int) string {
		return "[" + issueJSON(2*page+1, "k"+strconv.Itoa(2*page+1), false) + "," + issueJSON(2*page+2, "pr"+strconv.Itoa(page), true) + "]"
	}, func(page int, base, next string) string {
		first := `<` + base + `repos/o/r/issues?page=0>; rel="first"`
		if page < 2 {
			return first + `, <` + next + `>; rel="next"`
		}
		return first + `, <` + base + `repos/o/r/issues?page=1>; rel="prev"`
	})
	got, err := c.Issues(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if pages := asked(); !slices.Equal(pages, []string{"0", "1", "2", "0 since", "1 since", "2 since"}) {
		t.Errorf("pages asked %v, want 0, 1 and 2, then the same since the newest", pages)
	}
	if len(got) != 3 {
		t.Errorf("issues %v, want k1, k3 and k5", slices.Collect(maps.Keys(got)))
	}
	for _, k := range []string{"k1", "k3", "k5"} {
		if _, ok := got[k]; !ok {
			t.Errorf("issue %s missing from %v", k, slices.Collect(maps.Keys(got)))
		}
	}
}
