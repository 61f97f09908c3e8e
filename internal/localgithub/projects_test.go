package localgithub

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// apiErrorBody is a GitHub error answer.
type apiErrorBody struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
	Errors           []struct {
		Resource string `json:"resource"`
		Code     string `json:"code"`
		Field    string `json:"field"`
		Message  string `json:"message"`
	} `json:"errors"`
}

// expectError checks an error answer: its status, and for a 422 its one
// error's field and code (and that its message holds msg).
func expectError(t *testing.T, r response, status int, field, code, msg string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	e := decode[apiErrorBody](t, r)
	if status != 422 {
		if msg != "" && !strings.Contains(e.Message, msg) {
			t.Errorf("message %q, want it to hold %q", e.Message, msg)
		}
		return
	}
	if e.Message != "Validation Failed" || len(e.Errors) != 1 || e.Errors[0].Field != field || e.Errors[0].Code != code ||
		!strings.Contains(e.Errors[0].Message, msg) {
		t.Errorf("errors %+v (message %q), want one on field %q with code %q holding %q", e.Errors, e.Message, field, code, msg)
	}
	if e.DocumentationURL == "" {
		t.Error("422 without documentation_url")
	}
}

// testBoard is an organisation project with issues to put on it.
type testBoard struct {
	s      *Server
	number int
	base   string // /orgs/acme/projectsV2/{number}
	fields map[string]boardField
	issues []idOnly // #1, #2, #3 of acme/journeys
}

type boardField struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	DataType string `json:"data_type"`
	Options  []struct {
		ID   string `json:"id"`
		Name struct {
			Raw  string `json:"raw"`
			HTML string `json:"html"`
		} `json:"name"`
		Color string `json:"color"`
	} `json:"options"`
}

// newTestBoard makes acme's project "Board" with Stage (text), Impact
// (number) and Due (date) fields besides Title and Status, and three
// issues in acme/journeys, none of them on the board yet.
func newTestBoard(t *testing.T, s *Server) *testBoard {
	t.Helper()
	s.AddRepo("acme", "journeys")
	b := &testBoard{s: s, number: s.AddProject("acme", true, "Board")}
	b.base = fmt.Sprintf("/orgs/acme/projectsV2/%d", b.number)
	for name, dataType := range map[string]string{"Stage": "text", "Impact": "number", "Due": "date"} {
		expectStatus(t, call(t, s, "POST", b.base+"/fields", map[string]any{"name": name, "data_type": dataType}), 201, "add "+name)
	}
	b.fields = map[string]boardField{}
	for _, f := range decode[[]boardField](t, call(t, s, "GET", b.base+"/fields", nil)) {
		b.fields[f.Name] = f
	}
	for i := range 3 {
		b.issues = append(b.issues, decode[idOnly](t, call(t, s, "POST", "/repos/acme/journeys/issues", map[string]any{"title": fmt.Sprintf("Journey step %d", i+1)})))
	}
	return b
}

// add puts issue i on the board and returns the item's id.
func (b *testBoard) add(t *testing.T, i int) int64 {
	t.Helper()
	r := call(t, b.s, "POST", b.base+"/items", map[string]any{"type": "Issue", "id": b.issues[i].ID})
	expectStatus(t, r, 201, "add item")
	return decode[idOnly](t, r).ID
}

// option is the id of the Status option named name.
func (b *testBoard) option(t *testing.T, name string) string {
	t.Helper()
	for _, o := range b.fields["Status"].Options {
		if o.Name.Raw == name {
			return o.ID
		}
	}
	t.Fatalf("Status has no option %q", name)
	return ""
}

func (b *testBoard) values(t *testing.T) []map[string]string {
	t.Helper()
	items, err := b.s.ProjectItems("acme", true, b.number)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, it := range items {
		out = append(out, it.Values)
	}
	return out
}

// itemField is a field value of a project item.
type itemField struct {
	Name     string `json:"name"`
	DataType string `json:"data_type"`
	Value    any    `json:"value"`
}

// itemFields decodes an item's field values and lists their names.
func itemFields(t *testing.T, r response) ([]itemField, []string) {
	t.Helper()
	fields := decode[struct {
		Fields []itemField `json:"fields"`
	}](t, r).Fields
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
	}
	return fields, names
}

func TestAddProjectFieldRefusesInvalidFields(t *testing.T) {
	s := startServer(t, Options{})
	b := newTestBoard(t, s)
	before, _ := s.ProjectFields("acme", true, b.number)
	for _, tc := range []struct {
		name        string
		body        any
		status      int
		field, code string
		msg         string
	}{
		{"no name", map[string]any{"data_type": "text"}, 422, "name", "missing_field", ""},
		{"blank name", map[string]any{"name": "  ", "data_type": "text"}, 422, "name", "missing_field", ""},
		{"a built-in field's name in other case", map[string]any{"name": "STATUS", "data_type": "text"}, 422, "name", "invalid", "already been taken"},
		{"a taken name", map[string]any{"name": "impact", "data_type": "number"}, 422, "name", "invalid", "already been taken"},
		{"unknown data type", map[string]any{"name": "Colour", "data_type": "colour"}, 422, "data_type", "invalid", ""},
		{"no data type", map[string]any{"name": "Colour"}, 422, "data_type", "invalid", ""},
		{"a title field", map[string]any{"name": "Other title", "data_type": "title"}, 422, "data_type", "invalid", ""},
		{"options on a text field", map[string]any{"name": "Notes", "data_type": "text", "single_select_options": []map[string]string{{"name": "A"}}},
			422, "single_select_options", "invalid", "single_select fields only"},
		{"single select without options", map[string]any{"name": "Phase", "data_type": "single_select"}, 422, "single_select_options", "invalid", "needs options"},
		{"malformed JSON", `{"name": "Phase", `, 400, "", "", "Problems parsing JSON"},
		{"an array", `[{"name": "Phase"}]`, 400, "", "", "Problems parsing JSON"},
		{"name of the wrong type", `{"name": 7, "data_type": "text"}`, 400, "", "", "Problems parsing JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, call(t, s, "POST", b.base+"/fields", tc.body), tc.status, tc.field, tc.code, tc.msg)
		})
	}
	if after, _ := s.ProjectFields("acme", true, b.number); !slices.Equal(before, after) {
		t.Errorf("refused fields changed the project: %v, then %v", before, after)
	}
}

func TestProjectFieldLimit(t *testing.T) {
	s := startServer(t, Options{})
	b := newTestBoard(t, s)
	have, _ := s.ProjectFields("acme", true, b.number)
	for i := len(have); i < maxProjectFields; i++ {
		expectStatus(t, call(t, s, "POST", b.base+"/fields", map[string]any{"name": fmt.Sprintf("F%d", i), "data_type": "text"}), 201, fmt.Sprintf("field %d", i+1))
	}
	expectError(t, call(t, s, "POST", b.base+"/fields", map[string]any{"name": "One too many", "data_type": "text"}),
		422, "name", "invalid", fmt.Sprintf("at most %d fields", maxProjectFields))
	if got, _ := s.ProjectFields("acme", true, b.number); len(got) != maxProjectFields || got[len(got)-1] != fmt.Sprintf("F%d", maxProjectFields-1) {
		t.Errorf("%d fields, last %q", len(got), got[len(got)-1])
	}
}

func TestSingleSelectFieldOptions(t *testing.T) {
	s := startServer(t, Options{})
	b := newTestBoard(t, s)
	r := call(t, s, "POST", b.base+"/fields", map[string]any{"name": "Phase", "data_type": "single_select", "single_select_options": []map[string]string{
		{"name": "<Discover>", "color": "BLUE", "description": "Find & map"}, {"name": "Improve"}}})
	expectStatus(t, r, 201, "add Phase")
	var f struct {
		boardField
		ProjectURL string `json:"project_url"`
		NodeID     string `json:"node_id"`
	}
	if err := json.Unmarshal(r.Body, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Options) != 2 || f.Options[0].ID == f.Options[1].ID {
		t.Fatalf("options %+v, want two with distinct ids", f.Options)
	}
	if o := f.Options[0]; o.Name.Raw != "<Discover>" || o.Name.HTML != "&lt;Discover&gt;" || o.Color != "BLUE" {
		t.Errorf("first option %+v, want its name escaped in html and its colour kept", o)
	}
	if !strings.Contains(string(r.Body), `"description":{"raw":"Find \u0026 map","html":"Find \u0026amp; map"}`) {
		t.Errorf("description not rendered as rich text: %s", r.Body)
	}
	if f.Options[1].Color != "GRAY" {
		t.Errorf("an option without colour is %q, want GRAY", f.Options[1].Color)
	}
	if f.ProjectURL != s.URL()+strings.TrimPrefix(b.base, "/") || !strings.HasPrefix(f.NodeID, "PVTF_") {
		t.Errorf("project_url %q node_id %q", f.ProjectURL, f.NodeID)
	}
	// The new field is listed and can be read alone.
	got := decode[boardField](t, call(t, s, "GET", fmt.Sprintf("%s/fields/%d", b.base, f.ID), nil))
	if got.Name != "Phase" || got.DataType != "single_select" || len(got.Options) != 2 {
		t.Errorf("GET field = %+v", got)
	}
	for _, path := range []string{fmt.Sprintf("%s/fields/%d", b.base, f.ID+1000), b.base + "/fields/abc"} {
		expectError(t, call(t, s, "GET", path, nil), 404, "", "", "Not Found")
	}
}

func TestAddProjectItemRefusesWhatIsNotAnIssue(t *testing.T) {
	s := startServer(t, Options{})
	b := newTestBoard(t, s)
	for _, tc := range []struct {
		name        string
		body        any
		status      int
		field, code string
	}{
		{"a pull request", map[string]any{"type": "PullRequest", "id": b.issues[0].ID}, 422, "type", "invalid"},
		{"no type", map[string]any{"id": b.issues[0].ID}, 422, "type", "invalid"},
		{"neither id nor number", map[string]any{"type": "Issue"}, 422, "id", "missing_field"},
		{"a number without its repository", map[string]any{"type": "Issue", "owner": "acme", "number": 1}, 422, "id", "missing_field"},
		{"an unknown id", map[string]any{"type": "Issue", "id": b.issues[2].ID + 1000}, 404, "", ""},
		{"an unknown repository", map[string]any{"type": "Issue", "owner": "acme", "repo": "nope", "number": 1}, 404, "", ""},
		{"an unknown number", map[string]any{"type": "Issue", "owner": "acme", "repo": "journeys", "number": 99}, 404, "", ""},
		{"an id that is a string", `{"type": "Issue", "id": "1"}`, 400, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, call(t, s, "POST", b.base+"/items", tc.body), tc.status, tc.field, tc.code, "")
		})
	}
	if items, _ := s.ProjectItems("acme", true, b.number); len(items) != 0 {
		t.Errorf("refused items were added: %+v", items)
	}
	// An unknown project refuses a valid item too.
	expectError(t, call(t, s, "POST", "/orgs/acme/projectsV2/77/items", map[string]any{"type": "Issue", "id": b.issues[0].ID}), 404, "", "", "Not Found")
}

func TestAddedItemNamesItsIssue(t *testing.T) {
	s := startServer(t, Options{})
	b := newTestBoard(t, s)
	r := call(t, s, "POST", b.base+"/items", map[string]any{"type": "Issue", "owner": "ACME", "repo": "Journeys", "number": 2})
	expectStatus(t, r, 201, "add by name in other case")
	item := decode[struct {
		ID          int64  `json:"id"`
		ContentType string `json:"content_type"`
		ItemURL     string `json:"item_url"`
		Content     struct {
			ID     int64  `json:"id"`
			Number int    `json:"number"`
			Title  string `json:"title"`
		} `json:"content"`
		Creator struct{ Login string } `json:"creator"`
		Fields  []any                  `json:"fields"`
	}](t, r)
	if item.ContentType != "Issue" || item.Content.ID != b.issues[1].ID || item.Content.Title != "Journey step 2" || item.Creator.Login != "octocat" {
		t.Errorf("item %+v", item)
	}
	if want := fmt.Sprintf("%s%s/items/%d", s.URL(), strings.TrimPrefix(b.base, "/"), item.ID); item.ItemURL != want {
		t.Errorf("item_url %q, want %q", item.ItemURL, want)
	}
	if item.Fields != nil {
		t.Errorf("the answer to adding carries field values: %v", item.Fields)
	}
	items, _ := s.ProjectItems("acme", true, b.number)
	if len(items) != 1 || items[0].Repo != "acme/journeys" || items[0].Number != 2 || items[0].State != "open" {
		t.Errorf("stored items %+v", items)
	}
}

func TestUpdateProjectItemValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		field  string // "" for an unknown field id
		value  string // raw JSON
		status int
		errAt  string // the 422's field
		stored string // the value after, "" for none
	}{
		{"text", "Stage", `"planning"`, 200, "", "planning"},
		{"text given a number", "Stage", `5`, 422, "fields[0].value", ""},
		{"empty text", "Stage", `""`, 200, "", ""},
		{"number", "Impact", `4.5`, 200, "", "4.5"},
		{"negative number", "Impact", `-2`, 200, "", "-2"},
		{"number given as text", "Impact", `"4.5"`, 422, "fields[0].value", ""},
		{"number out of float range", "Impact", `1e400`, 422, "fields[0].value", ""},
		{"date", "Due", `"2026-03-01"`, 200, "", "2026-03-01"},
		{"date in another layout", "Due", `"01/03/2026"`, 422, "fields[0].value", ""},
		{"date that does not exist", "Due", `"2026-02-30"`, 422, "fields[0].value", ""},
		{"date with a time", "Due", `"2026-03-01T10:00:00Z"`, 422, "fields[0].value", ""},
		{"option by id", "Status", `"<Done>"`, 200, "", "Done"},
		{"option by name", "Status", `"Done"`, 422, "fields[0].value", ""},
		{"option of the wrong type", "Status", `3`, 422, "fields[0].value", ""},
		{"the title field", "Title", `"New title"`, 422, "fields[0].value", ""},
		{"an unknown field", "", `"x"`, 422, "fields[0].id", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, Options{})
			b := newTestBoard(t, s)
			item := b.add(t, 0)
			id := int64(999999)
			if tc.field != "" {
				id = b.fields[tc.field].ID
			}
			value := strings.ReplaceAll(tc.value, "<Done>", b.option(t, "Done"))
			r := call(t, s, "PATCH", fmt.Sprintf("%s/items/%d", b.base, item), fmt.Sprintf(`{"fields":[{"id":%d,"value":%s}]}`, id, value))
			if tc.status == 422 {
				expectError(t, r, 422, tc.errAt, "invalid", "")
			} else {
				expectStatus(t, r, tc.status, "PATCH")
			}
			got := b.values(t)[0][tc.field]
			if got != tc.stored {
				t.Errorf("stored %q, want %q", got, tc.stored)
			}
			if tc.status == 200 && tc.stored == "" {
				if _, ok := b.values(t)[0][tc.field]; !ok {
					t.Errorf("an empty text was not stored")
				}
			}
		})
	}
}

func TestUpdateProjectItemIsAllOrNothing(t *testing.T) {
	s := startServer(t, Options{})
	b := newTestBoard(t, s)
	item := b.add(t, 0)
	path := fmt.Sprintf("%s/items/%d", b.base, item)
	stage, impact := b.fields["Stage"].ID, b.fields["Impact"].ID

	expectStatus(t, call(t, s, "PATCH", path, map[string]any{"fields": []map[string]any{{"id": stage, "value": "before"}}}), 200, "set Stage")
	expectError(t, call(t, s, "PATCH", path, map[string]any{"fields": []map[string]any{
		{"id": stage, "value": "after"}, {"id": impact, "value": "lots"}}}), 422, "fields[1].value", "invalid", `number field "Impact"`)
	if got := b.values(t)[0]; got["Stage"] != "before" || got["Impact"] != "" {
		t.Errorf("after a refused update the values are %v; want Stage unchanged and no Impact", got)
	}

	// Several values at once, and the answer carries them after the title.
	r := call(t, s, "PATCH", path, map[string]any{"fields": []map[string]any{{"id": impact, "value": 3}, {"id": stage, "value": "after"}}})
	expectStatus(t, r, 200, "set two values")
	fields, names := itemFields(t, r)
	if !slices.Equal(names, []string{"Title", "Impact", "Stage"}) || fields[1].Value != 3.0 || fields[2].Value != "after" {
		t.Errorf("answer fields %+v, want Title, Impact 3, Stage after", fields)
	}

	// null clears; an empty list changes nothing; no list at all is refused.
	expectStatus(t, call(t, s, "PATCH", path, `{"fields":[{"id":`+fmt.Sprint(stage)+`,"value":null}]}`), 200, "clear Stage")
	expectStatus(t, call(t, s, "PATCH", path, map[string]any{"fields": []any{}}), 200, "no values")
	expectError(t, call(t, s, "PATCH", path, map[string]any{}), 422, "fields", "missing_field", "")
	expectError(t, call(t, s, "PATCH", path, `{"fields":[{"value":"x"}]}`), 422, "fields[0].id", "invalid", "")
	expectError(t, call(t, s, "PATCH", path, `{"fields":{"id":1}}`), 400, "", "", "Problems parsing JSON")
	if got := b.values(t)[0]; len(got) != 1 || got["Impact"] != "3" {
		t.Errorf("values %v, want only Impact 3", got)
	}
	expectError(t, call(t, s, "PATCH", fmt.Sprintf("%s/items/%d", b.base, item+1000), map[string]any{"fields": []any{}}), 404, "", "", "Not Found")
}

func TestProjectItemCursorPages(t *testing.T) {
	s := startServer(t, Options{})
	b := newTestBoard(t, s)
	for i := range 3 {
		b.add(t, i)
	}
	for i := range 2 {
		is := decode[idOnly](t, call(t, s, "POST", "/repos/acme/journeys/issues", map[string]any{"title": fmt.Sprint("More ", i)}))
		expectStatus(t, call(t, s, "POST", b.base+"/items", map[string]any{"type": "Issue", "id": is.ID}), 201, "add")
	}
	stage := b.fields["Stage"].ID

	// Follow rel="next" from the first page: 2, 2, 1, keeping the other
	// parameters and moving the cursor.
	var sizes []int
	var numbers []int
	next := fmt.Sprintf("%s/items?per_page=2&fields=%d", b.base, stage)
	for page := 0; next != ""; page++ {
		if page > 5 {
			t.Fatal("the pages do not end")
		}
		r := call(t, s, "GET", next, nil)
		expectStatus(t, r, 200, "page")
		items := decode[[]struct {
			Content struct{ Number int } `json:"content"`
			Fields  []struct{ Name string }
		}](t, r)
		sizes = append(sizes, len(items))
		for _, it := range items {
			numbers = append(numbers, it.Content.Number)
			if len(it.Fields) != 2 || it.Fields[1].Name != "Stage" {
				t.Errorf("item fields %+v, want Title and the requested Stage", it.Fields)
			}
		}
		next = ""
		if rels := parseLink(t, r.Header.Get("Link")); rels["next"] != nil {
			q := rels["next"]
			if q.Get("per_page") != "2" || q.Get("fields") != fmt.Sprint(stage) || q.Get("after") != fmt.Sprintf("c%d", 2*(page+1)) {
				t.Errorf("next link query %v", q)
			}
			path := q.Get("_path")
			q.Del("_path")
			next = path + "?" + q.Encode()
		}
	}
	if !slices.Equal(sizes, []int{2, 2, 1}) || !slices.Equal(numbers, []int{1, 2, 3, 4, 5}) {
		t.Errorf("pages %v, numbers %v; want 2, 2, 1 pages of items 1 to 5", sizes, numbers)
	}

	for _, tc := range []struct {
		query string
		want  int // items, or -1 for a 422
	}{
		{"after=c5", 0},
		{"after=c99", 0},
		{"after=c3&per_page=1", 1},
		{"per_page=0", 5},
		{"per_page=-3", 5},
		{"per_page=many", 5},
		{"after=c-1", -1},
		{"after=cursor", -1},
		{"after=1.5", -1},
	} {
		r := call(t, s, "GET", b.base+"/items?"+tc.query, nil)
		if tc.want < 0 {
			expectError(t, r, 422, "after", "invalid", "")
			continue
		}
		expectStatus(t, r, 200, tc.query)
		if got := len(decode[[]idOnly](t, r)); got != tc.want {
			t.Errorf("%s: %d items, want %d", tc.query, got, tc.want)
		}
	}
}

func TestProjectItemFieldsParameter(t *testing.T) {
	s := startServer(t, Options{})
	b := newTestBoard(t, s)
	item := b.add(t, 0)
	stage, impact, title := b.fields["Stage"].ID, b.fields["Impact"].ID, b.fields["Title"].ID
	if err := s.SetProjectItemValue("acme", true, b.number, "acme/journeys", 1, "Stage", "ready"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"Title"}},
		{fmt.Sprintf("fields=%d,%d", stage, impact), []string{"Title", "Stage", "Impact"}},
		{fmt.Sprintf("fields=%d&fields=%d", impact, stage), []string{"Title", "Impact", "Stage"}},
		{fmt.Sprintf("fields=%d,+%d+", stage, title), []string{"Title", "Stage"}}, // the title once only
		{fmt.Sprintf("fields=abc,%d,424242", stage), []string{"Title", "Stage"}},  // ids it lacks are left out
	} {
		r := call(t, s, "GET", fmt.Sprintf("%s/items/%d?%s", b.base, item, tc.query), nil)
		expectStatus(t, r, 200, tc.query)
		fields, names := itemFields(t, r)
		for _, f := range fields {
			if f.Name == "Stage" && f.Value != "ready" {
				t.Errorf("%s: Stage = %v", tc.query, f.Value)
			}
			if f.Name == "Impact" && f.Value != nil {
				t.Errorf("%s: an unset Impact = %v, want null", tc.query, f.Value)
			}
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("%q: fields %v, want %v", tc.query, names, tc.want)
		}
	}
}

func TestProjectItemTitleFollowsItsIssue(t *testing.T) {
	s := startServer(t, Options{})
	b := newTestBoard(t, s)
	item := b.add(t, 1)
	expectStatus(t, call(t, s, "PATCH", "/repos/acme/journeys/issues/2", map[string]any{"title": "Renamed <step>", "state": "closed", "state_reason": "not_planned"}), 200, "edit issue")
	r := call(t, s, "GET", fmt.Sprintf("%s/items/%d", b.base, item), nil)
	title := decode[struct {
		Fields []struct {
			ID    int64          `json:"id"`
			Value map[string]any `json:"value"`
		} `json:"fields"`
	}](t, r).Fields[0]
	v := title.Value
	if title.ID != b.fields["Title"].ID || v["raw"] != "Renamed <step>" || v["html"] != "Renamed &lt;step&gt;" || v["state"] != "closed" ||
		v["state_reason"] != "not_planned" || v["number"] != 2.0 || v["url"] != s.URL()+"acme/journeys/issues/2" {
		t.Errorf("title field %+v", title)
	}
}

func TestDeleteProjectItem(t *testing.T) {
	s := startServer(t, Options{})
	b := newTestBoard(t, s)
	first, second := b.add(t, 0), b.add(t, 1)
	other := s.AddProject("acme", true, "Other")
	for _, tc := range []struct {
		name string
		path string
	}{
		{"an unknown item", fmt.Sprintf("%s/items/%d", b.base, second+1000)},
		{"an item id that is not a number", b.base + "/items/first"},
		{"the item under another project", fmt.Sprintf("/orgs/acme/projectsV2/%d/items/%d", other, first)},
		{"under a user of that name", fmt.Sprintf("/users/acme/projectsV2/%d/items/%d", b.number, first)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, call(t, s, "DELETE", tc.path, nil), 404, "", "", "Not Found")
		})
	}
	r := call(t, s, "DELETE", fmt.Sprintf("%s/items/%d", b.base, first), nil)
	if r.Status != 204 || len(r.Body) != 0 {
		t.Errorf("delete: %d %q, want 204 without a body", r.Status, r.Body)
	}
	expectError(t, call(t, s, "DELETE", fmt.Sprintf("%s/items/%d", b.base, first), nil), 404, "", "", "Not Found")
	items, _ := s.ProjectItems("acme", true, b.number)
	if len(items) != 1 || items[0].ID != second {
		t.Errorf("items after deleting the first: %+v", items)
	}
	// The issue itself stays, and can join the board again as a new item.
	if len(s.Issues("acme", "journeys")) != 3 {
		t.Error("deleting an item deleted its issue")
	}
	if again := b.add(t, 0); again == first {
		t.Error("the issue came back as its deleted item")
	}
}

func TestProjectsOfOrganisationsAndUsersAreApart(t *testing.T) {
	s := startServer(t, Options{})
	org1 := s.AddProject("acme", true, "Roadmap")
	org2 := s.AddProject("acme", true, "Board")
	user1 := s.AddProject("acme", false, "Personal")
	if org1 != 1 || org2 != 2 || user1 != 1 {
		t.Errorf("numbers: org %d, %d; user %d; want 1, 2 and 1", org1, org2, user1)
	}
	if again := s.AddProject("acme", true, "Board"); again != org2 {
		t.Errorf("adding Board again gave %d, want %d", again, org2)
	}
	if s.AddProject("acme", true, "board") == org2 {
		t.Error("titles are told apart by case, but board and Board got one project")
	}
	titles := func(path string) []string {
		t.Helper()
		var out []string
		for _, p := range decode[[]struct{ Title string }](t, call(t, s, "GET", path, nil)) {
			out = append(out, p.Title)
		}
		return out
	}
	if got := titles("/orgs/ACME/projectsV2"); !slices.Equal(got, []string{"Roadmap", "Board", "board"}) {
		t.Errorf("org projects %v", got)
	}
	if got := titles("/users/acme/projectsV2"); !slices.Equal(got, []string{"Personal"}) {
		t.Errorf("user projects %v", got)
	}
	if got := titles("/orgs/nobody/projectsV2"); len(got) != 0 {
		t.Errorf("an unknown owner's projects %v, want none", got)
	}
	p := decode[struct {
		Number int    `json:"number"`
		Title  string `json:"title"`
		State  string `json:"state"`
		NodeID string `json:"node_id"`
		Owner  struct {
			Login string `json:"login"`
			Type  string `json:"type"`
		} `json:"owner"`
	}](t, call(t, s, "GET", "/users/acme/projectsV2/1", nil))
	if p.Title != "Personal" || p.Owner.Login != "acme" || p.Owner.Type != "User" || p.State != "open" || !strings.HasPrefix(p.NodeID, "PVT_") {
		t.Errorf("user project %+v", p)
	}
	if o := decode[struct{ Owner struct{ Type string } }](t, call(t, s, "GET", "/orgs/acme/projectsV2/1", nil)).Owner; o.Type != "Organization" {
		t.Errorf("org project owner type %q", o.Type)
	}
	for _, path := range []string{"/orgs/acme/projectsV2/0", "/orgs/acme/projectsV2/one", "/users/acme/projectsV2/2", "/orgs/acme/projectsV2/1e0"} {
		expectError(t, call(t, s, "GET", path, nil), 404, "", "", "Not Found")
	}
}

func TestDenyProjectsAppliesToOneTokenUntilLifted(t *testing.T) {
	const other = "ghp_othertoken0000000000000000000000000"
	s := startServer(t, Options{})
	s.AddToken(other)
	b := newTestBoard(t, s)
	s.DenyProjects(testToken, true)
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/orgs/acme/projectsV2", nil},
		{"GET", b.base, nil},
		{"GET", b.base + "/items", nil},
		{"POST", b.base + "/items", map[string]any{"type": "Issue", "id": b.issues[0].ID}},
		{"POST", b.base + "/fields", map[string]any{"name": "X", "data_type": "text"}},
		{"DELETE", b.base + "/items/1", nil},
	} {
		expectError(t, call(t, s, tc.method, tc.path, tc.body), 403, "", "", "Resource not accessible by personal access token")
	}
	if items, _ := s.ProjectItems("acme", true, b.number); len(items) != 0 {
		t.Errorf("a denied token added items: %+v", items)
	}
	// Another token, and the issues, are not affected.
	expectStatus(t, call(t, s, "GET", b.base, nil, "Authorization", "token "+other), 200, "another token")
	expectStatus(t, call(t, s, "GET", "/repos/acme/journeys/issues/1", nil), 200, "an issue with the denied token")
	s.DenyProjects(testToken, false)
	expectStatus(t, call(t, s, "GET", b.base, nil), 200, "after lifting the denial")
}

func TestProjectDirectMethods(t *testing.T) {
	s := startServer(t, Options{})
	b := newTestBoard(t, s)
	b.add(t, 0)

	for _, tc := range []struct {
		name         string
		owner        string
		org          bool
		number       int
		repo         string
		issue        int
		field, value string
		notFound     bool // else another error
	}{
		{"unknown project", "acme", true, 99, "acme/journeys", 1, "Stage", "x", true},
		{"a user's project of that number", "acme", false, b.number, "acme/journeys", 1, "Stage", "x", true},
		{"unknown field", "acme", true, b.number, "acme/journeys", 1, "Colour", "x", true},
		{"issue not on the board", "acme", true, b.number, "acme/journeys", 2, "Stage", "x", true},
		{"unknown repository", "acme", true, b.number, "acme/nope", 1, "Stage", "x", true},
		{"a repository without owner", "acme", true, b.number, "journeys", 1, "Stage", "x", true},
		{"not a number", "acme", true, b.number, "acme/journeys", 1, "Impact", "four", false},
		{"not an option", "acme", true, b.number, "acme/journeys", 1, "Status", "Blocked", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.SetProjectItemValue(tc.owner, tc.org, tc.number, tc.repo, tc.issue, tc.field, tc.value)
			if err == nil || errors.Is(err, ErrNotFound) != tc.notFound {
				t.Errorf("error %v; want ErrNotFound: %v", err, tc.notFound)
			}
		})
	}
	if got := b.values(t)[0]; len(got) != 0 {
		t.Errorf("failed settings stored %v", got)
	}

	for field, value := range map[string]string{"Status": "in progress", "Impact": "2.50", "Due": "2026-04-01", "Stage": "any text"} {
		if err := s.SetProjectItemValue("acme", true, b.number, "acme/journeys", 1, field, value); err != nil {
			t.Errorf("%s = %q: %v", field, value, err)
		}
	}
	want := map[string]string{"Status": "In Progress", "Impact": "2.5", "Due": "2026-04-01", "Stage": "any text"}
	if got := b.values(t)[0]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("values %v, want %v", got, want)
	}
	// The API shows what the direct method set.
	r := call(t, s, "GET", fmt.Sprintf("%s/items?fields=%d", b.base, b.fields["Status"].ID), nil)
	if !strings.Contains(string(r.Body), `"name":{"raw":"In Progress","html":"In Progress"}`) {
		t.Errorf("the Status option is not in the listing: %s", r.Body)
	}

	if err := s.RemoveProjectItem("acme", true, b.number, "acme/journeys", 2); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing an issue not on the board: %v", err)
	}
	if err := s.RemoveProjectItem("acme", true, 42, "acme/journeys", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing from an unknown project: %v", err)
	}
	if err := s.RemoveProjectItem("acme", true, b.number, "acme/journeys", 1); err != nil {
		t.Fatal(err)
	}
	if items, _ := s.ProjectItems("acme", true, b.number); len(items) != 0 {
		t.Errorf("items after removal: %+v", items)
	}
	if _, err := s.ProjectItems("acme", false, b.number); !errors.Is(err, ErrNotFound) {
		t.Errorf("ProjectItems of an unknown project: %v", err)
	}
	if _, err := s.ProjectFields("nobody", true, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("ProjectFields of an unknown project: %v", err)
	}
}
