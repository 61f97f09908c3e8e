package localgithub_test

import (
	"context"
	"fmt"
	"net/url"

	"github.com/google/go-github/v60/github"

	"github.com/cxloop/cxloop/internal/localgithub"
)

// Point go-github at a local server instead of api.github.com.
func Example() {
	s, err := localgithub.New(localgithub.Options{})
	if err != nil {
		panic(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer s.Close()
	s.AddToken("ghp_example")
	s.AddRepo("acme", "shop")

	client := github.NewClient(nil).WithAuthToken("ghp_example")
	base, _ := url.Parse(s.URL())
	client.BaseURL, client.UploadURL = base, base

	issue, _, err := client.Issues.Create(context.Background(), "acme", "shop",
		&github.IssueRequest{Title: github.String("Checkout is slow")})
	if err != nil {
		panic(err)
	}
	if err := s.CloseIssue("acme", "shop", issue.GetNumber(), "completed"); err != nil {
		panic(err)
	}
	got := s.Issues("acme", "shop")[0]
	fmt.Println(got.Number, got.Title, got.State, got.StateReason)
	// Output: 1 Checkout is slow closed completed
}
