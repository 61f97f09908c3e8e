package docs

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// TestModelListsEveryField: docs/model.md lists every field of both CRDs by
// its path (`spec.stages[].touchpoints[].channel`), so that a field added to
// the API fails the build until it is documented.
func TestModelListsEveryField(t *testing.T) {
	doc, err := os.ReadFile("model.md")
	if err != nil {
		t.Fatal(err)
	}
	crds, err := filepath.Glob(filepath.Join("..", "config", "crd", "bases", "*.yaml"))
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	total := 0
	for _, path := range crds {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &crd); err != nil {
			t.Fatal(err)
		}
		for _, v := range crd.Spec.Versions {
			var paths []string
			fieldPaths(v.Schema.OpenAPIV3Schema, "", &paths)
			sort.Strings(paths)
			for _, p := range paths {
				total++
				if !strings.Contains(string(doc), "`"+p+"`") {
					t.Errorf("docs/model.md does not list %s field `%s`", crd.Spec.Names.Kind, p)
				}
			}
		}
	}
	if total < 50 {
		t.Errorf("only %d fields found: has the schema moved?", total)
	}
}

// fieldPaths lists spec and status fields; a condition's own fields are
// metav1.Condition's and are not repeated.
func fieldPaths(s *apiextensionsv1.JSONSchemaProps, prefix string, out *[]string) {
	if s == nil {
		return
	}
	if s.Type == "array" && s.Items != nil {
		fieldPaths(s.Items.Schema, prefix+"[]", out)
		return
	}
	for name, p := range s.Properties {
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		if prefix == "" && name != "spec" && name != "status" {
			continue
		}
		if prefix != "" {
			*out = append(*out, path)
		}
		if path == "status.conditions" {
			continue
		}
		fieldPaths(&p, path, out)
	}
}
