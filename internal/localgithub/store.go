package localgithub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// world is everything the server remembers about GitHub: repositories with
// their labels, issues and comments, and the installation tokens it issued.
// It is what DataFile holds. All access goes through Server.mu.
type world struct {
	NextRepoID    int64 `json:"next_repo_id"`
	NextIssueID   int64 `json:"next_issue_id"`
	NextLabelID   int64 `json:"next_label_id"`
	NextCommentID int64 `json:"next_comment_id"`

	Repos []*repository `json:"repos"`

	// Projects are the Projects (v2) of organisations and users; IssueTypes
	// the issue types organisations define, by lower-cased login.
	Projects        []*project              `json:"projects,omitempty"`
	IssueTypes      map[string][]*issueType `json:"issue_types,omitempty"`
	NextProjectID   int64                   `json:"next_project_id"`
	NextFieldID     int64                   `json:"next_field_id"`
	NextItemID      int64                   `json:"next_item_id"`
	NextIssueTypeID int64                   `json:"next_issue_type_id"`

	// InstallationTokens maps the SHA-256 of an issued installation token to
	// its grant, so that a restarted demo keeps accepting tokens a GitHub App
	// client has cached without the tokens themselves being written to disk.
	InstallationTokens map[string]installationGrant `json:"installation_tokens,omitempty"`
}

// installationGrant is an installation access token issued to a GitHub App.
type installationGrant struct {
	AppID          int64     `json:"app_id"`
	InstallationID int64     `json:"installation_id"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// repository is a GitHub repository with its issue tracker.
type repository struct {
	ID             int64     `json:"id"`
	Owner          string    `json:"owner"`
	Name           string    `json:"name"`
	IssuesDisabled bool      `json:"issues_disabled,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	NextNumber     int       `json:"next_number"`
	Labels         []*label  `json:"labels"`
	Issues         []*issue  `json:"issues"`
	// Deleted holds the numbers of issues deleted from this repository;
	// GitHub answers 410 Gone for them.
	Deleted []int `json:"deleted,omitempty"`
	// Moved maps the numbers of issues transferred away to where they went.
	Moved map[int]issueRef `json:"moved,omitempty"`
	// FormerNames are the owner/name the repository had before it was
	// renamed or transferred; GitHub redirects them to the repository's ID.
	FormerNames []string `json:"former_names,omitempty"`
}

// issueRef names an issue by repository and number.
type issueRef struct {
	Owner  string `json:"owner"`
	Repo   string `json:"repo"`
	Number int    `json:"number"`
}

// label is a repository label.
type label struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Color       string  `json:"color"`
	Description *string `json:"description"`
	Default     bool    `json:"default"`
}

// issue is an issue in a repository.
type issue struct {
	ID               int64      `json:"id"`
	Number           int        `json:"number"`
	Title            string     `json:"title"`
	Body             *string    `json:"body"`
	State            string     `json:"state"`
	StateReason      string     `json:"state_reason,omitempty"`
	Author           user       `json:"author"`
	LabelIDs         []int64    `json:"label_ids"`
	Assignees        []string   `json:"assignees"`
	Comments         []*comment `json:"comments"`
	Locked           bool       `json:"locked"`
	ActiveLockReason string     `json:"active_lock_reason,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	ClosedAt         *time.Time `json:"closed_at"`
	ClosedBy         *user      `json:"closed_by,omitempty"`
	// ParentID is the ID of the issue this one is a sub-issue of (0: none);
	// SubIssueIDs are its own sub-issues' IDs in their order; BlockedBy the
	// IDs of the issues it is blocked by and Blocking of those it blocks
	// (kept both ways so that rendering an issue never scans the others);
	// TypeID its issue type (0: none).
	ParentID    int64   `json:"parent_id,omitempty"`
	SubIssueIDs []int64 `json:"sub_issue_ids,omitempty"`
	BlockedBy   []int64 `json:"blocked_by,omitempty"`
	Blocking    []int64 `json:"blocking,omitempty"`
	TypeID      int64   `json:"type_id,omitempty"`
}

// comment is an issue comment.
type comment struct {
	ID        int64     `json:"id"`
	Body      string    `json:"body"`
	Author    user      `json:"author"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// user is a GitHub account acting on the server.
type user struct {
	Login string `json:"login"`
	ID    int64  `json:"id"`
	Type  string `json:"type"` // User, Bot or Organization
}

// defaultLabels are the labels GitHub gives every new repository.
var defaultLabels = []struct{ name, color, description string }{
	{"bug", "d73a4a", "Something isn't working"},
	{"documentation", "0075ca", "Improvements or additions to documentation"},
	{"duplicate", "cfd3d7", "This issue or pull request already exists"},
	{"enhancement", "a2eeef", "New feature or request"},
	{"good first issue", "7057ff", "Good for newcomers"},
	{"help wanted", "008672", "Extra attention is needed"},
	{"invalid", "e4e669", "This doesn't seem right"},
	{"question", "d876e3", "Further information is requested"},
	{"wontfix", "ffffff", "This will not be worked on"},
}

// newWorld returns an empty world whose identifiers start at values of
// GitHub's magnitude, so that clients storing them in int32 would notice.
func newWorld() *world {
	return &world{
		NextRepoID:         515435940,
		NextIssueID:        1308968677,
		NextLabelID:        4341276760,
		NextCommentID:      1188999000,
		NextProjectID:      3000001,
		NextFieldID:        120000001,
		NextItemID:         70000001,
		NextIssueTypeID:    4000001,
		InstallationTokens: map[string]installationGrant{},
	}
}

// repo finds a repository by owner and name, ignoring case as GitHub does.
func (w *world) repo(owner, name string) *repository {
	for _, r := range w.Repos {
		if strings.EqualFold(r.Owner, owner) && strings.EqualFold(r.Name, name) {
			return r
		}
	}
	return nil
}

// formerRepo finds a repository by a name it had before a rename or transfer.
func (w *world) formerRepo(owner, name string) *repository {
	for _, r := range w.Repos {
		for _, f := range r.FormerNames {
			if strings.EqualFold(f, owner+"/"+name) {
				return r
			}
		}
	}
	return nil
}

// repoByID finds a repository by its id.
func (w *world) repoByID(id int64) *repository {
	return find(w.Repos, func(r *repository) bool { return r.ID == id })
}

// addRepo creates a repository with GitHub's default labels.
func (w *world) addRepo(owner, name string, now time.Time) *repository {
	r := &repository{ID: w.NextRepoID, Owner: owner, Name: name, CreatedAt: now, NextNumber: 1}
	w.NextRepoID++
	for _, d := range defaultLabels {
		desc := d.description
		r.Labels = append(r.Labels, &label{ID: w.newLabelID(), Name: d.name, Color: d.color, Description: &desc, Default: true})
	}
	w.Repos = append(w.Repos, r)
	return r
}

func (w *world) newLabelID() int64 {
	id := w.NextLabelID
	w.NextLabelID++
	return id
}

func (w *world) newIssueID() int64 {
	id := w.NextIssueID
	w.NextIssueID++
	return id
}

func (w *world) newCommentID() int64 {
	id := w.NextCommentID
	w.NextCommentID++
	return id
}

// issue finds an issue by number.
func (r *repository) issue(number int) *issue {
	return find(r.Issues, func(is *issue) bool { return is.Number == number })
}

// removeIssue takes an issue out of the repository.
func (r *repository) removeIssue(number int) {
	r.Issues = slices.DeleteFunc(r.Issues, func(is *issue) bool { return is.Number == number })
}

// wasDeleted reports whether the issue number belonged to a deleted issue.
func (r *repository) wasDeleted(number int) bool {
	return slices.Contains(r.Deleted, number)
}

// label finds a label by name, ignoring case as GitHub does.
func (r *repository) label(name string) *label {
	return find(r.Labels, func(l *label) bool { return strings.EqualFold(l.Name, name) })
}

// labelByID finds a label by id.
func (r *repository) labelByID(id int64) *label {
	return find(r.Labels, func(l *label) bool { return l.ID == id })
}

// ensureLabel returns the label with the name, creating it with GitHub's
// default colour when the repository does not have it yet.
func (w *world) ensureLabel(r *repository, name string) *label {
	if l := r.label(name); l != nil {
		return l
	}
	l := &label{ID: w.newLabelID(), Name: name, Color: "ededed"}
	r.Labels = append(r.Labels, l)
	return l
}

// hasLabel reports whether the issue carries the label.
func (is *issue) hasLabel(id int64) bool {
	return slices.Contains(is.LabelIDs, id)
}

// loadWorld reads a data file; a missing file yields an empty world.
func loadWorld(path string) (*world, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newWorld(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading data file: %w", err)
	}
	w := newWorld()
	if err := json.Unmarshal(data, w); err != nil {
		return nil, fmt.Errorf("parsing data file %s: %w", path, err)
	}
	if w.InstallationTokens == nil {
		w.InstallationTokens = map[string]installationGrant{}
	}
	return w, nil
}

// saveWorld writes the world to path atomically: it writes a temporary file
// in the same directory, syncs it and renames it over path.
func saveWorld(path string, w *world) error {
	data, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding data file: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing data file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing data file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing data file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing data file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing data file: %w", err)
	}
	return nil
}
