package chart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

var (
	chartDir  = filepath.Join("..", "..", "charts", "cxloop")
	installer = filepath.Join("..", "..", "dist", "install.yaml")
	// kubeVersion is the Makefile's ENVTEST_K8S_VERSION when it runs the test.
	kubeVersion = "v" + envOr("ENVTEST_K8S_VERSION", "1.37.2")
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// render renders the chart as `helm template <release> charts/cxloop
// --namespace <namespace> --include-crds` does, values validated against
// values.schema.json.
func render(release, namespace string, values map[string]any) ([]*unstructured.Unstructured, error) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	cfg := action.NewConfiguration()
	cfg.Releases = storage.Init(driver.NewMemory())
	install := action.NewInstall(cfg)
	install.DryRunStrategy = action.DryRunClient
	install.Replace = true
	install.IncludeCRDs = true
	install.ReleaseName = release
	install.Namespace = namespace
	// Client-side rendering assumes Kubernetes 1.20; render for the version
	// the envtest API server runs.
	kv, err := common.ParseKubeVersion(kubeVersion)
	if err != nil {
		return nil, err
	}
	install.KubeVersion = kv
	if values == nil {
		values = map[string]any{}
	}
	rel, err := install.RunWithContext(context.Background(), ch, values)
	if err != nil {
		return nil, err
	}
	r, ok := rel.(*releasev1.Release)
	if !ok {
		return nil, fmt.Errorf("unexpected release type %T", rel)
	}
	return decodeAll(strings.NewReader(r.Manifest))
}

func mustRender(t *testing.T, release, namespace string, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	objs, err := render(release, namespace, values)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	return objs
}

// installerObjects reads what `make build-installer` wrote.
func installerObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(installer)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s is missing: run the chart tests with `make chart-test`, which runs `make build-installer` first", installer)
	}
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeAll(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", installer, err)
	}
	return objs
}

func decodeAll(r io.Reader) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var out []*unstructured.Unstructured
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if s := strings.TrimSpace(string(raw)); s == "" || s == "null" || s == "{}" {
			continue
		}
		// Unstructured's decoder keeps integers int64, as the API server does.
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
}

// id names an object as kubectl does: kind/namespace/name.
func id(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

func byID(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		m[id(o)] = o
	}
	return m
}

func ids(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, id(o))
	}
	sort.Strings(out)
	return out
}

// find returns the one object of a kind whose name ends in suffix.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, suffix string) *unstructured.Unstructured {
	t.Helper()
	if o := lookup(objs, kind, suffix); o != nil {
		return o
	}
	t.Fatalf("no %s named *%s among %v", kind, suffix, ids(objs))
	return nil
}

func lookup(objs []*unstructured.Unstructured, kind, suffix string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && strings.HasSuffix(o.GetName(), suffix) {
			return o
		}
	}
	return nil
}
