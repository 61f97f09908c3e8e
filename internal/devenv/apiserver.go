package devenv

import (
	"fmt"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	cxv1 "github.com/cxloop/cxloop/api/v1alpha1"
)

// NewScheme is a scheme with Kubernetes' built-in kinds and cxloop's.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = cxv1.AddToScheme(s)
	return s
}

// APIServer is a local kube-apiserver and etcd (controller-runtime's
// envtest) with cxloop's CRDs installed: what the controller tests, the
// demo and the benchmark run against.
type APIServer struct {
	// Env is the running environment: its control plane's kubectl, and
	// AddUser for a kubeconfig of a user of its own.
	Env *envtest.Environment
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// Scheme holds the kinds the API server was started with.
	Scheme *runtime.Scheme
}

// StartAPIServer starts kube-apiserver and etcd from the binaries in assets
// (hack/envtest.sh prepares them; "": $KUBEBUILDER_ASSETS) and installs the
// CRDs of the checkout at root (config/crd/bases). A nil scheme is
// NewScheme(). It never uses an existing cluster. Stop it with Stop.
func StartAPIServer(root, assets string, scheme *runtime.Scheme) (*APIServer, error) {
	if scheme == nil {
		scheme = NewScheme()
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
		UseExistingCluster:    ptr.To(false),
		Scheme:                scheme,
	}
	cfg, err := env.Start()
	if err != nil {
		where := assets
		if where == "" {
			where = "$KUBEBUILDER_ASSETS"
		}
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", where, err)
	}
	return &APIServer{Env: env, Config: cfg, Scheme: scheme}, nil
}

// Stop stops kube-apiserver and etcd.
func (s *APIServer) Stop() error { return s.Env.Stop() }
