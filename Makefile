# cxloop Makefile — the targets a kubebuilder user expects.

IMG ?= ghcr.io/cxloop/cxloop:latest
# Kubernetes version of the envtest control plane (kube-apiserver built from
# the Go module proxy, etcd from Debian); see hack/envtest.sh.
ENVTEST_K8S_VERSION ?= 1.37.2

GOBIN ?= $(shell go env GOPATH)/bin
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

CONTAINER_TOOL ?= docker

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRDs and RBAC from the Go markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./..." output:crd:artifacts:config=config/crd/bases
	@# The Helm chart installs the same CRDs and manager rules.
	rm -f charts/cxloop/files/crds/*.yaml
	cp config/crd/bases/*.yaml charts/cxloop/files/crds/
	cp config/rbac/role.yaml charts/cxloop/files/rbac/manager-role.yaml

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: envtest
envtest: ## Prepare kube-apiserver, etcd and kubectl for the controller tests (offline; cached by version).
	@ENVTEST_K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/envtest.sh >/dev/null

.PHONY: lint
lint: kube-api-linter ## Run kube-api-linter on the API types (configured in .golangci.yml).
	$(KUBE_API_LINTER) run ./api/...

.PHONY: test-deps
test-deps: ## Install from Debian what the tests run for real when missing: etcd, Chromium, Node and npm, Prometheus (hack/test-deps.sh).
	@hack/test-deps.sh etcd chromium node prometheus

# The tests that need Chromium, Prometheus or Mermaid's parser fail rather
# than skip when it is missing, and hack/testreport fails the run when any
# test skipped.
TEST_REQUIRE = CXLOOP_REQUIRE_MERMAID=1 CXLOOP_REQUIRE_BROWSER=1 CXLOOP_REQUIRE_PROMETHEUS=1

# client-go's cache mutation detector: the tests panic if anything changes
# an object in an informer cache, which the code reading the cache without
# a copy (client.UnsafeDisableDeepCopy: the status page, the webhook, the
# shard check, Secret events, a phase's journey) must never do.
TEST_DETECT = KUBE_CACHE_MUTATION_DETECTOR=true

.PHONY: test
test: manifests generate fmt vet lint test-deps envtest mermaid-deps ## Run all tests, none skipped; controller tests talk to a real kube-apiserver and etcd, the dashboard's diagrams go through Mermaid's parser, the measures through Prometheus, the status page through Chromium.
	KUBEBUILDER_ASSETS="$$(ENVTEST_K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/envtest.sh)" $(TEST_REQUIRE) $(TEST_DETECT) \
		go test -json ./... -count=1 -timeout 30m -coverprofile cover.out | go run ./hack/testreport
	$(MAKE) -s fuzz
	$(MAKE) -s chart-test

# FUZZ_TARGETS are package:target pairs; go test fuzzes one target per run.
FUZZ_TARGETS = ./internal/journey:FuzzAnalytics ./internal/ghwebhook:FuzzServeHTTP ./internal/tracker:FuzzKeyMarker ./internal/review:FuzzSchedule ./internal/markdown:FuzzLine
FUZZTIME ?= 5s

.PHONY: fuzz
fuzz: ## Fuzz the journey analytics, the webhook parser, the issue-body key marker and the review schedule, FUZZTIME each; a failing input lands in the package's testdata/fuzz.
	@for t in $(FUZZ_TARGETS); do \
		pkg="$${t%%:*}"; target="$${t##*:}"; \
		echo "fuzz: $$target in $$pkg for $(FUZZTIME)"; \
		hack/fuzz.sh "$$pkg" "$$target" $(FUZZTIME) || exit 1; \
	done

.PHONY: chart-test
chart-test: build-installer envtest ## Render charts/cxloop with Helm (Go library), compare it with dist/install.yaml and apply both to a real API server.
	cd test/chart && go vet ./...
	cd test/chart && KUBEBUILDER_ASSETS="$$(ENVTEST_K8S_VERSION=$(ENVTEST_K8S_VERSION) $(CURDIR)/hack/envtest.sh)" ENVTEST_K8S_VERSION=$(ENVTEST_K8S_VERSION) \
		go test -json ./... -count=1 -timeout 10m | (cd $(CURDIR) && go run ./hack/testreport)

.PHONY: mermaid-deps
mermaid-deps: hack/mermaid/node_modules/.package-lock.json ## Install Mermaid's parser (pinned in hack/mermaid/package-lock.json) for the dashboard's test.

hack/mermaid/node_modules/.package-lock.json: hack/mermaid/package.json hack/mermaid/package-lock.json
	@command -v npm >/dev/null || { echo "mermaid-deps: npm is needed (apt-get install -y nodejs npm)"; exit 1; }
	cd hack/mermaid && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

.PHONY: mermaid-check
mermaid-check: mermaid-deps ## Parse every Mermaid block of the dashboard with Mermaid's own parser.
	CXLOOP_REQUIRE_MERMAID=1 go test ./internal/dashboard/ -count=1 -run '^TestMermaidBlocksParse$$' -v

BENCH_ARGS ?=

.PHONY: bench
bench: envtest ## Run the benchmarks: the journey analytics at 140 touchpoints, what one write of such a journey costs the API server and one webhook delivery the manager, then cxloop at 200 journeys against a minimal reconciler (BENCH_ARGS=-journeys=1000).
	go test ./internal/... -run '^$$' -bench . -benchmem
	KUBEBUILDER_ASSETS="$$(ENVTEST_K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/envtest.sh)" go test ./controllers -run '^$$' -bench 'JourneyWrites|WebhookDelivery' -benchmem -benchtime 100x -timeout 30m
	KUBEBUILDER_ASSETS="$$(ENVTEST_K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/envtest.sh)" go run ./test/bench $(BENCH_ARGS)

.PHONY: bench-compare
bench-compare: ## Compare two benchmark results: make bench-compare OLD=bench/results/a.json NEW=bench/results/b.json
	@test -n "$(OLD)" -a -n "$(NEW)" || { echo "usage: make bench-compare OLD=old.json NEW=new.json"; exit 1; }
	go run ./test/bench -compare $(OLD),$(NEW)

.PHONY: verify
verify: controller-gen ## Regenerate code and manifests and fail if that changed anything.
	@before="$$($(TREE_DIGEST))"; \
	$(MAKE) -s manifests generate fmt >/dev/null; \
	if [ "$$before" != "$$($(TREE_DIGEST))" ]; then \
		echo "verify: 'make manifests generate fmt' changed files; commit the regenerated files:"; \
		git status --porcelain -- api config controllers internal cmd charts; exit 1; fi; \
	echo "verify: generated code and manifests are up to date"

# TREE_DIGEST fingerprints the files generation and formatting may touch.
TREE_DIGEST = git ls-files -co --exclude-standard -- api config controllers internal cmd charts | sort | xargs sha256sum | sha256sum

.PHONY: demo-deps
demo-deps: ## Install from Debian what the demo runs when missing: etcd, and Prometheus for the verified outcome.
	@hack/test-deps.sh etcd prometheus

.PHONY: demo
demo: demo-deps envtest ## Run cxloop on the nature-park sample against a local API server and a local GitHub (DEMO_ARGS=--keep keeps it up).
	KUBEBUILDER_ASSETS="$$(ENVTEST_K8S_VERSION=$(ENVTEST_K8S_VERSION) hack/envtest.sh)" go run ./cmd/demo $(DEMO_ARGS)

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	go build -o bin/manager ./cmd

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster in your kubeconfig.
	go run ./cmd

.PHONY: docker-build
docker-build: ## Build the manager image.
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the manager image.
	$(CONTAINER_TOOL) push $(IMG)

.PHONY: build-installer
build-installer: manifests generate kustomize ## Write dist/install.yaml: the CRDs and everything needed to deploy.
	mkdir -p dist
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default > dist/install.yaml

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize ## Install the CRDs into the cluster in your kubeconfig.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Remove the CRDs from the cluster.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the manager to the cluster in your kubeconfig.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the manager from the cluster.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

KUBECTL ?= kubectl
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
KUBE_API_LINTER ?= $(LOCALBIN)/golangci-lint-kube-api-linter-$(KUBE_API_LINTER_VERSION)

KUSTOMIZE_VERSION ?= v5.8.2
CONTROLLER_TOOLS_VERSION ?= v0.23.0
# kube-api-linter has no releases: a pseudo-version, pinned with golangci-lint
# and every other dependency in hack/tools/go.mod and go.sum.
KUBE_API_LINTER_VERSION ?= $(shell cd hack/tools && go list -m -f '{{.Version}}' sigs.k8s.io/kube-api-linter)

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Install kustomize into bin/.
$(KUSTOMIZE): | $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into bin/.
$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: kube-api-linter
kube-api-linter: $(KUBE_API_LINTER) ## Build golangci-lint with kube-api-linter into bin/ (from hack/tools/go.mod).
$(KUBE_API_LINTER): hack/tools/go.mod hack/tools/go.sum | $(LOCALBIN)
	@echo "Building sigs.k8s.io/kube-api-linter/cmd/golangci-lint-kube-api-linter@$(KUBE_API_LINTER_VERSION)"
	cd hack/tools && go build -trimpath -o $@ sigs.k8s.io/kube-api-linter/cmd/golangci-lint-kube-api-linter

# go-install-tool installs a pinned Go tool into bin/ under a versioned name.
define go-install-tool
@[ -f "$(1)" ] || { \
set -e; \
echo "Installing $(2)@$(3)"; \
GOBIN=$(LOCALBIN) go install $(2)@$(3); \
pkg=$(2); mv "$(LOCALBIN)/$$(basename $${pkg%/v[0-9]*})" "$(1)"; \
}
endef
