package controllers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNothingRefersUpIntoAReconcilerFile keeps the package's layering: a
// *_controller.go file holds a reconciler, its Reconcile and its steps'
// order; the files beside it (steps, conditions, status writes) hold what
// the steps share. A helper file refers to a reconciler file only through
// the reconciler's type (its receiver) and SetupWithManager (setup.go);
// the two reconciler files do not refer to each other.
func TestNothingRefersUpIntoAReconcilerFile(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	parsed := map[string]*ast.File{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed[name] = f
	}
	allowed := []string{"CustomerJourneyReconciler", "ImprovementPhaseReconciler", "SetupWithManager", "Reconcile"}
	// What each reconciler file declares: its package-level names, and
	// its methods by receiver type.
	declaredIn := map[string]string{}
	methodIn := map[string]string{} // "Type.method"
	for name, f := range parsed {
		if !strings.HasSuffix(name, "_controller.go") {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil {
				if !slices.Contains(allowed, fd.Name.Name) {
					methodIn[receiverType(fd)+"."+fd.Name.Name] = name
				}
				continue
			}
			for _, id := range declaredNames(d) {
				if !slices.Contains(allowed, id) {
					declaredIn[id] = name
				}
			}
		}
	}
	if len(declaredIn) == 0 || len(methodIn) == 0 {
		t.Fatal("no reconciler file declares anything: the test reads the wrong directory")
	}
	for name, f := range parsed {
		// Names that are not references to package-level declarations:
		// selected fields and methods, keys of literals, declared names.
		notRefs := map[*ast.Ident]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				notRefs[n.Sel] = true
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok {
					notRefs[id] = true
				}
			case *ast.FuncDecl:
				notRefs[n.Name] = true
			case *ast.Field:
				for _, id := range n.Names {
					notRefs[id] = true
				}
			}
			return true
		})
		upward := func(pos token.Pos, what, home string) {
			if home != name {
				t.Errorf("%s refers to %s of %s: move it beside what uses it", fset.Position(pos), what, home)
			}
		}
		for _, d := range f.Decls {
			fd, isFunc := d.(*ast.FuncDecl)
			recv, recvType := "", ""
			if isFunc && fd.Recv != nil && len(fd.Recv.List[0].Names) > 0 {
				recv, recvType = fd.Recv.List[0].Names[0].Name, receiverType(fd)
			}
			ast.Inspect(d, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					if x, ok := n.X.(*ast.Ident); ok && recv != "" && x.Name == recv {
						if home, found := methodIn[recvType+"."+n.Sel.Name]; found {
							upward(n.Sel.Pos(), recvType+"."+n.Sel.Name, home)
						}
					}
				case *ast.Ident:
					if home, found := declaredIn[n.Name]; found && !notRefs[n] {
						upward(n.Pos(), n.Name, home)
					}
				}
				return true
			})
		}
	}
}

// receiverType is the name of a method's receiver type.
func receiverType(fd *ast.FuncDecl) string {
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// declaredNames are the names a top-level declaration introduces (a
// method's name too).
func declaredNames(d ast.Decl) []string {
	switch d := d.(type) {
	case *ast.FuncDecl:
		return []string{d.Name.Name}
	case *ast.GenDecl:
		var out []string
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				out = append(out, s.Name.Name)
			case *ast.ValueSpec:
				for _, n := range s.Names {
					out = append(out, n.Name)
				}
			}
		}
		return out
	}
	return nil
}
