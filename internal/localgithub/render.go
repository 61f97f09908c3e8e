package localgithub

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// This file renders the stored model as the JSON documents GitHub's REST API
// and webhooks send. Field order and null-ness follow recorded GitHub
// answers (testdata/github).

// links builds the URLs the server hands out. GitHub uses api.github.com for
// the API and github.com for pages; the local server serves both from one
// base URL.
type links struct {
	base string // with trailing slash
	// w, when set, lets issues render what depends on other issues: their
	// sub-issue progress, dependencies and parent, and their type.
	w *world
}

func (l links) api(format string, args ...any) string {
	return l.base + strings.TrimPrefix(fmt.Sprintf(format, args...), "/")
}

func (l links) repoAPI(r *repository) string {
	return l.api("repos/%s/%s", r.Owner, r.Name)
}

func (l links) repoHTML(r *repository) string {
	return l.api("%s/%s", r.Owner, r.Name)
}

func (l links) issueAPI(r *repository, number int) string {
	return fmt.Sprintf("%s/issues/%d", l.repoAPI(r), number)
}

func (l links) issueHTML(r *repository, number int) string {
	return fmt.Sprintf("%s/issues/%d", l.repoHTML(r), number)
}

func (l links) labelAPI(r *repository, name string) string {
	return l.repoAPI(r) + "/labels/" + url.PathEscape(name)
}

func nodeID(prefix string, id int64) string {
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s%d", prefix, id)))
}

// timestamp is a time rendered the way GitHub does: RFC 3339 in UTC with
// second precision.
type timestamp time.Time

func (t timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(time.RFC3339) + `"`), nil
}

func ts(t time.Time) timestamp { return timestamp(t) }

func tsPtr(t *time.Time) *timestamp {
	if t == nil {
		return nil
	}
	v := timestamp(*t)
	return &v
}

type userJSON struct {
	Login             string `json:"login"`
	ID                int64  `json:"id"`
	NodeID            string `json:"node_id"`
	AvatarURL         string `json:"avatar_url"`
	GravatarID        string `json:"gravatar_id"`
	URL               string `json:"url"`
	HTMLURL           string `json:"html_url"`
	FollowersURL      string `json:"followers_url"`
	FollowingURL      string `json:"following_url"`
	GistsURL          string `json:"gists_url"`
	StarredURL        string `json:"starred_url"`
	SubscriptionsURL  string `json:"subscriptions_url"`
	OrganizationsURL  string `json:"organizations_url"`
	ReposURL          string `json:"repos_url"`
	EventsURL         string `json:"events_url"`
	ReceivedEventsURL string `json:"received_events_url"`
	Type              string `json:"type"`
	SiteAdmin         bool   `json:"site_admin"`
}

func (l links) user(u user) *userJSON {
	api := l.api("users/%s", u.Login)
	return &userJSON{
		Login:             u.Login,
		ID:                u.ID,
		NodeID:            nodeID("U_", u.ID),
		AvatarURL:         fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", u.ID),
		GravatarID:        "",
		URL:               api,
		HTMLURL:           l.api("%s", u.Login),
		FollowersURL:      api + "/followers",
		FollowingURL:      api + "/following{/other_user}",
		GistsURL:          api + "/gists{/gist_id}",
		StarredURL:        api + "/starred{/owner}{/repo}",
		SubscriptionsURL:  api + "/subscriptions",
		OrganizationsURL:  api + "/orgs",
		ReposURL:          api + "/repos",
		EventsURL:         api + "/events{/privacy}",
		ReceivedEventsURL: api + "/received_events",
		Type:              u.Type,
		SiteAdmin:         false,
	}
}

type labelJSON struct {
	ID          int64   `json:"id"`
	NodeID      string  `json:"node_id"`
	URL         string  `json:"url"`
	Name        string  `json:"name"`
	Color       string  `json:"color"`
	Default     bool    `json:"default"`
	Description *string `json:"description"`
}

func (l links) label(r *repository, lb *label) *labelJSON {
	return &labelJSON{
		ID:          lb.ID,
		NodeID:      nodeID("LA_", lb.ID),
		URL:         l.labelAPI(r, lb.Name),
		Name:        lb.Name,
		Color:       lb.Color,
		Default:     lb.Default,
		Description: lb.Description,
	}
}

type reactionsJSON struct {
	URL        string `json:"url"`
	TotalCount int    `json:"total_count"`
	PlusOne    int    `json:"+1"`
	MinusOne   int    `json:"-1"`
	Laugh      int    `json:"laugh"`
	Hooray     int    `json:"hooray"`
	Confused   int    `json:"confused"`
	Heart      int    `json:"heart"`
	Rocket     int    `json:"rocket"`
	Eyes       int    `json:"eyes"`
}

type issueJSON struct {
	URL                   string         `json:"url"`
	RepositoryURL         string         `json:"repository_url"`
	LabelsURL             string         `json:"labels_url"`
	CommentsURL           string         `json:"comments_url"`
	EventsURL             string         `json:"events_url"`
	HTMLURL               string         `json:"html_url"`
	ID                    int64          `json:"id"`
	NodeID                string         `json:"node_id"`
	Number                int            `json:"number"`
	Title                 string         `json:"title"`
	User                  *userJSON      `json:"user"`
	Labels                []*labelJSON   `json:"labels"`
	State                 string         `json:"state"`
	Locked                bool           `json:"locked"`
	Assignee              *userJSON      `json:"assignee"`
	Assignees             []*userJSON    `json:"assignees"`
	Milestone             any            `json:"milestone"`
	Comments              int            `json:"comments"`
	CreatedAt             timestamp      `json:"created_at"`
	UpdatedAt             timestamp      `json:"updated_at"`
	ClosedAt              *timestamp     `json:"closed_at"`
	AuthorAssociation     string         `json:"author_association"`
	ActiveLockReason      *string        `json:"active_lock_reason"`
	Body                  *string        `json:"body"`
	ClosedBy              *userJSON      `json:"closed_by"`
	Reactions             *reactionsJSON `json:"reactions"`
	TimelineURL           string         `json:"timeline_url"`
	PerformedViaGitHubApp any            `json:"performed_via_github_app"`
	StateReason           *string        `json:"state_reason"`
	// The fields of sub-issues, issue dependencies and issue types, which
	// the 2022 recordings predate.
	Type                     *issueTypeJSON                `json:"type,omitempty"`
	ParentIssueURL           *string                       `json:"parent_issue_url,omitempty"`
	SubIssuesSummary         *subIssuesSummaryJSON         `json:"sub_issues_summary,omitempty"`
	IssueDependenciesSummary *issueDependenciesSummaryJSON `json:"issue_dependencies_summary,omitempty"`
}

func (l links) issue(r *repository, is *issue) *issueJSON {
	api := l.issueAPI(r, is.Number)
	out := &issueJSON{
		URL:               api,
		RepositoryURL:     l.repoAPI(r),
		LabelsURL:         api + "/labels{/name}",
		CommentsURL:       api + "/comments",
		EventsURL:         api + "/events",
		HTMLURL:           l.issueHTML(r, is.Number),
		ID:                is.ID,
		NodeID:            nodeID("I_", is.ID),
		Number:            is.Number,
		Title:             is.Title,
		User:              l.user(is.Author),
		Labels:            []*labelJSON{},
		State:             is.State,
		Locked:            is.Locked,
		Assignees:         []*userJSON{},
		Comments:          len(is.Comments),
		CreatedAt:         ts(is.CreatedAt),
		UpdatedAt:         ts(is.UpdatedAt),
		ClosedAt:          tsPtr(is.ClosedAt),
		AuthorAssociation: "MEMBER",
		Body:              is.Body,
		Reactions:         &reactionsJSON{URL: api + "/reactions"},
		TimelineURL:       api + "/timeline",
	}
	for _, id := range is.LabelIDs {
		if lb := r.labelByID(id); lb != nil {
			out.Labels = append(out.Labels, l.label(r, lb))
		}
	}
	for _, login := range is.Assignees {
		out.Assignees = append(out.Assignees, l.user(userNamed(login)))
	}
	if len(out.Assignees) > 0 {
		out.Assignee = out.Assignees[0]
	}
	if is.ActiveLockReason != "" {
		reason := is.ActiveLockReason
		out.ActiveLockReason = &reason
	}
	if is.ClosedBy != nil {
		out.ClosedBy = l.user(*is.ClosedBy)
	}
	if is.StateReason != "" {
		reason := is.StateReason
		out.StateReason = &reason
	}
	if l.w != nil {
		l.w.renderRelations(l, r, is, out)
	}
	return out
}

type commentJSON struct {
	URL                   string         `json:"url"`
	HTMLURL               string         `json:"html_url"`
	IssueURL              string         `json:"issue_url"`
	ID                    int64          `json:"id"`
	NodeID                string         `json:"node_id"`
	User                  *userJSON      `json:"user"`
	CreatedAt             timestamp      `json:"created_at"`
	UpdatedAt             timestamp      `json:"updated_at"`
	AuthorAssociation     string         `json:"author_association"`
	Body                  string         `json:"body"`
	Reactions             *reactionsJSON `json:"reactions"`
	PerformedViaGitHubApp any            `json:"performed_via_github_app"`
}

func (l links) comment(r *repository, is *issue, c *comment) *commentJSON {
	api := l.repoAPI(r) + fmt.Sprintf("/issues/comments/%d", c.ID)
	return &commentJSON{
		URL:               api,
		HTMLURL:           fmt.Sprintf("%s#issuecomment-%d", l.issueHTML(r, is.Number), c.ID),
		IssueURL:          l.issueAPI(r, is.Number),
		ID:                c.ID,
		NodeID:            nodeID("IC_", c.ID),
		User:              l.user(c.Author),
		CreatedAt:         ts(c.CreatedAt),
		UpdatedAt:         ts(c.UpdatedAt),
		AuthorAssociation: "MEMBER",
		Body:              c.Body,
		Reactions:         &reactionsJSON{URL: api + "/reactions"},
	}
}

type repositoryJSON struct {
	ID                       int64     `json:"id"`
	NodeID                   string    `json:"node_id"`
	Name                     string    `json:"name"`
	FullName                 string    `json:"full_name"`
	Private                  bool      `json:"private"`
	Owner                    *userJSON `json:"owner"`
	HTMLURL                  string    `json:"html_url"`
	Description              *string   `json:"description"`
	Fork                     bool      `json:"fork"`
	URL                      string    `json:"url"`
	ForksURL                 string    `json:"forks_url"`
	KeysURL                  string    `json:"keys_url"`
	CollaboratorsURL         string    `json:"collaborators_url"`
	TeamsURL                 string    `json:"teams_url"`
	HooksURL                 string    `json:"hooks_url"`
	IssueEventsURL           string    `json:"issue_events_url"`
	EventsURL                string    `json:"events_url"`
	AssigneesURL             string    `json:"assignees_url"`
	BranchesURL              string    `json:"branches_url"`
	TagsURL                  string    `json:"tags_url"`
	BlobsURL                 string    `json:"blobs_url"`
	GitTagsURL               string    `json:"git_tags_url"`
	GitRefsURL               string    `json:"git_refs_url"`
	TreesURL                 string    `json:"trees_url"`
	StatusesURL              string    `json:"statuses_url"`
	LanguagesURL             string    `json:"languages_url"`
	StargazersURL            string    `json:"stargazers_url"`
	ContributorsURL          string    `json:"contributors_url"`
	SubscribersURL           string    `json:"subscribers_url"`
	SubscriptionURL          string    `json:"subscription_url"`
	CommitsURL               string    `json:"commits_url"`
	GitCommitsURL            string    `json:"git_commits_url"`
	CommentsURL              string    `json:"comments_url"`
	IssueCommentURL          string    `json:"issue_comment_url"`
	ContentsURL              string    `json:"contents_url"`
	CompareURL               string    `json:"compare_url"`
	MergesURL                string    `json:"merges_url"`
	ArchiveURL               string    `json:"archive_url"`
	DownloadsURL             string    `json:"downloads_url"`
	IssuesURL                string    `json:"issues_url"`
	PullsURL                 string    `json:"pulls_url"`
	MilestonesURL            string    `json:"milestones_url"`
	NotificationsURL         string    `json:"notifications_url"`
	LabelsURL                string    `json:"labels_url"`
	ReleasesURL              string    `json:"releases_url"`
	DeploymentsURL           string    `json:"deployments_url"`
	CreatedAt                timestamp `json:"created_at"`
	UpdatedAt                timestamp `json:"updated_at"`
	PushedAt                 timestamp `json:"pushed_at"`
	GitURL                   string    `json:"git_url"`
	SSHURL                   string    `json:"ssh_url"`
	CloneURL                 string    `json:"clone_url"`
	SVNURL                   string    `json:"svn_url"`
	Homepage                 *string   `json:"homepage"`
	Size                     int       `json:"size"`
	StargazersCount          int       `json:"stargazers_count"`
	WatchersCount            int       `json:"watchers_count"`
	Language                 *string   `json:"language"`
	HasIssues                bool      `json:"has_issues"`
	HasProjects              bool      `json:"has_projects"`
	HasDownloads             bool      `json:"has_downloads"`
	HasWiki                  bool      `json:"has_wiki"`
	HasPages                 bool      `json:"has_pages"`
	ForksCount               int       `json:"forks_count"`
	MirrorURL                *string   `json:"mirror_url"`
	Archived                 bool      `json:"archived"`
	Disabled                 bool      `json:"disabled"`
	OpenIssuesCount          int       `json:"open_issues_count"`
	License                  any       `json:"license"`
	Forks                    int       `json:"forks"`
	OpenIssues               int       `json:"open_issues"`
	Watchers                 int       `json:"watchers"`
	DefaultBranch            string    `json:"default_branch"`
	IsTemplate               bool      `json:"is_template"`
	Topics                   []string  `json:"topics"`
	Visibility               string    `json:"visibility"`
	WebCommitSignoffRequired bool      `json:"web_commit_signoff_required"`
	CustomProperties         struct{}  `json:"custom_properties"`
}

func (l links) repository(r *repository) *repositoryJSON {
	api := l.repoAPI(r)
	html := l.repoHTML(r)
	open := 0
	for _, is := range r.Issues {
		if is.State == "open" {
			open++
		}
	}
	host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(l.base, "http://"), "https://"), "/")
	return &repositoryJSON{
		ID:                       r.ID,
		NodeID:                   nodeID("R_", r.ID),
		Name:                     r.Name,
		FullName:                 r.Owner + "/" + r.Name,
		Owner:                    l.user(userNamed(r.Owner)),
		HTMLURL:                  html,
		URL:                      api,
		ForksURL:                 api + "/forks",
		KeysURL:                  api + "/keys{/key_id}",
		CollaboratorsURL:         api + "/collaborators{/collaborator}",
		TeamsURL:                 api + "/teams",
		HooksURL:                 api + "/hooks",
		IssueEventsURL:           api + "/issues/events{/number}",
		EventsURL:                api + "/events",
		AssigneesURL:             api + "/assignees{/user}",
		BranchesURL:              api + "/branches{/branch}",
		TagsURL:                  api + "/tags",
		BlobsURL:                 api + "/git/blobs{/sha}",
		GitTagsURL:               api + "/git/tags{/sha}",
		GitRefsURL:               api + "/git/refs{/sha}",
		TreesURL:                 api + "/git/trees{/sha}",
		StatusesURL:              api + "/statuses/{sha}",
		LanguagesURL:             api + "/languages",
		StargazersURL:            api + "/stargazers",
		ContributorsURL:          api + "/contributors",
		SubscribersURL:           api + "/subscribers",
		SubscriptionURL:          api + "/subscription",
		CommitsURL:               api + "/commits{/sha}",
		GitCommitsURL:            api + "/git/commits{/sha}",
		CommentsURL:              api + "/comments{/number}",
		IssueCommentURL:          api + "/issues/comments{/number}",
		ContentsURL:              api + "/contents/{+path}",
		CompareURL:               api + "/compare/{base}...{head}",
		MergesURL:                api + "/merges",
		ArchiveURL:               api + "/{archive_format}{/ref}",
		DownloadsURL:             api + "/downloads",
		IssuesURL:                api + "/issues{/number}",
		PullsURL:                 api + "/pulls{/number}",
		MilestonesURL:            api + "/milestones{/number}",
		NotificationsURL:         api + "/notifications{?since,all,participating}",
		LabelsURL:                api + "/labels{/name}",
		ReleasesURL:              api + "/releases{/id}",
		DeploymentsURL:           api + "/deployments",
		CreatedAt:                ts(r.CreatedAt),
		UpdatedAt:                ts(r.CreatedAt),
		PushedAt:                 ts(r.CreatedAt),
		GitURL:                   "git://" + host + "/" + r.Owner + "/" + r.Name + ".git",
		SSHURL:                   "git@" + strings.Split(host, ":")[0] + ":" + r.Owner + "/" + r.Name + ".git",
		CloneURL:                 html + ".git",
		SVNURL:                   html,
		HasIssues:                !r.IssuesDisabled,
		HasProjects:              true,
		HasDownloads:             true,
		HasWiki:                  true,
		OpenIssuesCount:          open,
		OpenIssues:               open,
		DefaultBranch:            "main",
		Topics:                   []string{},
		Visibility:               "public",
		WebCommitSignoffRequired: false,
	}
}

// userNamed returns the account for a login. Identifiers are derived from
// the login so that the same login always renders the same user.
func userNamed(login string) user {
	switch login {
	case tokenUser.Login:
		return tokenUser
	case personUser.Login:
		return personUser
	}
	// FNV-1a keeps ids stable across restarts without storing a registry.
	var h uint32 = 2166136261
	for i := 0; i < len(login); i++ {
		h ^= uint32(login[i])
		h *= 16777619
	}
	return user{Login: login, ID: 1000 + int64(h%1_000_000_000), Type: "User"}
}

var (
	// tokenUser is the account personal access tokens added with AddToken
	// act as. Its id matches GitHub's rate-limit message "for user ID 1".
	tokenUser = user{Login: "octocat", ID: 1, Type: "User"}
	// personUser is the person acting through the Server's direct methods
	// (CloseIssue, ReopenIssue, ...), as someone clicking in the web UI.
	personUser = user{Login: "monalisa", ID: 2, Type: "User"}
)

// appUser is the bot account installation tokens of a GitHub App act as.
func appUser(appID int64) user {
	return user{Login: fmt.Sprintf("app-%d[bot]", appID), ID: 100000 + appID, Type: "Bot"}
}
