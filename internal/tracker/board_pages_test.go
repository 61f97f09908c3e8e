package tracker_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cxloop/cxloop/internal/tracker"
)

// A board listing whose Link header leads back to itself ends after a
// bounded number of pages with an error, for each listing that pages.
func TestBoardListingsEndOnALinkLoop(t *testing.T) {
	var requests atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/orgs/o/projectsV2/1" {
			fmt.Fprint(w, `{"id": 1, "number": 1}`)
			return
		}
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, srv.URL, r.URL.Path, r.URL.RawQuery))
		fmt.Fprint(w, `[]`)
	}))
	defer srv.Close()
	c, err := tracker.New(tracker.Config{Owner: "o", Repo: "r", APIURL: srv.URL, Credentials: tracker.Credentials{Token: "ghp_looping00000000000000000000000000"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	board, err := c.Board(ctx, tracker.ProjectRef{Owner: "o", Number: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, list := range map[string]func() error{
		"fields": func() error { _, err := board.Fields(ctx); return err },
		"items":  func() error { _, err := board.Items(ctx); return err },
	} {
		t.Run(name, func(t *testing.T) {
			requests.Store(0)
			err := list()
			if err == nil || !strings.Contains(err.Error(), "more than 500 pages") {
				t.Errorf("err = %v, want the page bound", err)
			}
			if n := requests.Load(); n != 500 {
				t.Errorf("%d requests, want 500", n)
			}
		})
	}
}
