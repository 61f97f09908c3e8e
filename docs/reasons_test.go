package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// sourceDirs are where cxloop emits conditions and Events. internal/localgithub
// is excluded: it plays GitHub in tests and its "reasons" are GitHub's. The
// bench harness (test/bench), whose baseline reconciler stands for the
// framework, not cxloop, is outside these folders.
var (
	sourceDirs  = []string{"../controllers", "../internal", "../cmd", "../api"}
	excludeDirs = []string{"../internal/localgithub"}
)

// camelCase is the shape Kubernetes requires of a condition reason
// (metav1.Condition validates ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$) and
// the convention for Event reasons; lower-case strings such as GitHub's
// "not_planned" are not reasons.
var camelCase = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// emitted collects what a file can emit: reasons and condition types.
type emitted struct {
	reasons, conditionTypes map[string]string // value -> where found
}

// scanFile finds reasons by pattern, not by a list, so that new ones are
// found too:
//   - constants and variables whose name contains "reason", given a string
//     value in a declaration or an assignment;
//   - `Reason: "..."` in composite literals (error types, metav1.Condition);
//   - string literals passed as the reason to an EventRecorder's Event or
//     Eventf, or to the conditions package's Set and Mark* helpers;
//   - constants named Condition* (condition types).
func scanFile(fset *token.FileSet, f *ast.File, out emitted) {
	add := func(m map[string]string, lit ast.Expr) {
		bl, ok := lit.(*ast.BasicLit)
		if !ok || bl.Kind != token.STRING {
			return
		}
		v, err := strconv.Unquote(bl.Value)
		if err != nil || !camelCase.MatchString(v) {
			return
		}
		if _, seen := m[v]; !seen {
			m[v] = fset.Position(bl.Pos()).String()
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			for i, name := range n.Names {
				if i >= len(n.Values) {
					break
				}
				switch {
				case isReasonName(name.Name):
					add(out.reasons, n.Values[i])
				case strings.HasPrefix(name.Name, "Condition"):
					add(out.conditionTypes, n.Values[i])
				}
			}
		case *ast.AssignStmt: // reason := "X", or r.reason = "X"
			for i, lhs := range n.Lhs {
				if i >= len(n.Rhs) {
					break
				}
				switch l := lhs.(type) {
				case *ast.Ident:
					if isReasonName(l.Name) {
						add(out.reasons, n.Rhs[i])
					}
				case *ast.SelectorExpr:
					if isReasonName(l.Sel.Name) {
						add(out.reasons, n.Rhs[i])
					}
				}
			}
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Reason" {
				add(out.reasons, n.Value)
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			// events.EventRecorder: Eventf(regarding, related, type, reason, action, note, ...);
			// record.EventRecorder: Event(object, type, reason, message).
			// conditions.Set(conds, gen, type, status, reason, msg);
			// conditions.Mark*(conds, gen, reason, msg).
			at := map[string]int{"Eventf": 3, "Event": 2, "AnnotatedEventf": 3, "Set": 4, "MarkReady": 2, "MarkReconciling": 2, "MarkStalled": 2}
			if i, ok := at[sel.Sel.Name]; ok && i < len(n.Args) {
				if sel.Sel.Name == "Eventf" && len(n.Args) < 6 {
					i = 2 // record.EventRecorder.Eventf(object, type, reason, format, ...)
				}
				add(out.reasons, n.Args[i])
			}
		}
		return true
	})
}

// isReasonName: ReasonX, reasonX, EventReasonX, reason, Reason.
func isReasonName(name string) bool {
	return strings.Contains(strings.ToLower(name), "reason")
}

func scan(t *testing.T) emitted {
	t.Helper()
	out := emitted{reasons: map[string]string{}, conditionTypes: map[string]string{}}
	fset := token.NewFileSet()
	for _, dir := range sourceDirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && slices.Contains(excludeDirs, path) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			scanFile(fset, f, out)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestTroubleshootingExplainsEveryReason: every reason the code can put in a
// condition or an Event, and every condition type, appears in
// docs/troubleshooting.md as `Reason` (in backticks, so that a word in
// prose does not count).
func TestTroubleshootingExplainsEveryReason(t *testing.T) {
	doc, err := os.ReadFile("troubleshooting.md")
	if err != nil {
		t.Fatal(err)
	}
	found := scan(t)
	if len(found.reasons) < 10 || len(found.conditionTypes) < 3 {
		t.Fatalf("the scan found too little (%d reasons, %d condition types): has the code moved?", len(found.reasons), len(found.conditionTypes))
	}
	for kind, m := range map[string]map[string]string{"reason": found.reasons, "condition type": found.conditionTypes} {
		var missing []string
		for v, where := range m {
			if !strings.Contains(string(doc), "`"+v+"`") {
				missing = append(missing, v+" ("+where+")")
			}
		}
		sort.Strings(missing)
		for _, m := range missing {
			t.Errorf("docs/troubleshooting.md does not explain the %s %s", kind, m)
		}
	}
	t.Logf("%d reasons and %d condition types found and documented", len(found.reasons), len(found.conditionTypes))
}

// TestScanFindsEveryPattern: the scan itself finds each way code names a reason.
func TestScanFindsEveryPattern(t *testing.T) {
	const src = `package x
const (
	ReasonDependencyCycle = "DependencyCycle"
	reasonLowerName       = "GitHubUnavailable"
	reasonGitHubState     = "not_planned"
	ConditionAtRisk       = "AtRisk"
)
var ReasonBudget = "WriteBudgetExhausted"
func f() {
	_ = &TrackerConfigError{Reason: "NoTracker", Message: "m"}
	_ = metav1.Condition{Type: "Ready", Reason: "LiteralCondition"}
	rec.Eventf(obj, nil, corev1.EventTypeWarning, "LiteralEvent", "Sync", "%s", msg)
	old.Eventf(obj, corev1.EventTypeNormal, "OldRecorder", "%s", msg)
	old.Event(obj, corev1.EventTypeNormal, "OldEvent", "m")
	conditions.MarkStalled(conds, gen, "LiteralStalled", msg)
	conditions.Set(conds, gen, cxv1.ConditionReady, metav1.ConditionFalse, "LiteralSet", msg)
	rec.Eventf(obj, nil, corev1.EventTypeWarning, reasonVar, "Sync", "%s", msg)
	reason := "AssignedReason"
	reason = "ReassignedReason"
	e.Reason = "FieldReason"
	stateReason := "completed"
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := emitted{reasons: map[string]string{}, conditionTypes: map[string]string{}}
	scanFile(fset, f, out)
	var got []string
	for r := range out.reasons {
		got = append(got, r)
	}
	sort.Strings(got)
	want := []string{"AssignedReason", "DependencyCycle", "FieldReason", "GitHubUnavailable", "LiteralCondition", "LiteralEvent", "LiteralSet",
		"LiteralStalled", "NoTracker", "OldEvent", "OldRecorder", "ReassignedReason", "WriteBudgetExhausted"}
	if !slices.Equal(got, want) {
		t.Errorf("reasons found:\n got %v\nwant %v", got, want)
	}
	if _, ok := out.conditionTypes["AtRisk"]; !ok || len(out.conditionTypes) != 1 {
		t.Errorf("condition types found: %v", out.conditionTypes)
	}
}

// TestReasonConstantsLiveInAPI: the reasons cxloop's reconcilers give
// are declared in api/v1alpha1, where clients can use them; controllers/
// declares none of its own.
func TestReasonConstantsLiveInAPI(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := filepath.Glob("../controllers/*.go")
	if err != nil {
		t.Fatal(err)
	}
	inAPI := 0
	for _, dir := range []string{"../controllers", "../api/v1alpha1"} {
		files, _ := filepath.Glob(dir + "/*.go")
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, s := range g.Specs {
					for _, name := range s.(*ast.ValueSpec).Names {
						if !strings.HasPrefix(name.Name, "Reason") {
							continue
						}
						if dir == "../controllers" {
							t.Errorf("%s declares reason %s: declare it in api/v1alpha1", fset.Position(name.Pos()), name.Name)
						} else {
							inAPI++
						}
					}
				}
			}
		}
	}
	if len(pkgs) == 0 || inAPI < 20 {
		t.Fatalf("found %d controller files and %d reasons in api/v1alpha1: has the code moved?", len(pkgs), inAPI)
	}
}
