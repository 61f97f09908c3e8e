package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cxloop/cxloop/internal/metricsource"
)

// PrometheusCredentials reads Prometheus' credentials from a Secret of the
// manager's namespace at each query, so that a rotated Secret takes effect
// without a restart: key "token" (a bearer token), or keys "username" and
// "password" (basic auth).
func PrometheusCredentials(r client.Reader, namespace, name string) func(context.Context) (metricsource.Credentials, error) {
	return func(ctx context.Context) (metricsource.Credentials, error) {
		var s corev1.Secret
		if err := r.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &s); err != nil {
			return metricsource.Credentials{}, fmt.Errorf("secret %s/%s: %w", namespace, name, err)
		}
		switch {
		case len(s.Data["token"]) > 0:
			return metricsource.Credentials{BearerToken: string(s.Data["token"])}, nil
		case len(s.Data["username"]) > 0:
			return metricsource.Credentials{Username: string(s.Data["username"]), Password: string(s.Data["password"])}, nil
		}
		return metricsource.Credentials{}, fmt.Errorf("secret %s/%s has neither key \"token\" nor keys \"username\" and \"password\"", namespace, name)
	}
}
