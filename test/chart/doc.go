// Package chart tests charts/cxloop with Helm as a Go library: it renders the
// chart like `helm template`, compares the result with `make
// build-installer`'s dist/install.yaml, checks what each value changes, and
// applies what it renders to a real API server (envtest).
//
// It is a module of its own so that Helm's many dependencies stay out of the
// operator's go.mod. Run it with `make chart-test` (part of `make test`).
package chart
