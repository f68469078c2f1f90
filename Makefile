# registry-auth-operator — see README.md. Every tool is built from the Go module
# proxy by hack/build-tools.sh and cached outside the repo.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
export CGO_ENABLED ?= 0

BUILD_TOOLS := hack/build-tools.sh
CONTROLLER_GEN = $(shell $(BUILD_TOOLS) controller-gen)/controller-gen
ENVTEST_ASSETS = $(shell $(BUILD_TOOLS) envtest)

.PHONY: all
all: build

##@ Development

.PHONY: manifests
manifests: ## Generate the CRD and RBAC manifests (config/, and the chart's copies).
	$(CONTROLLER_GEN) rbac:roleName=registry-auth-operator crd paths="./..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	@if [ -x hack/sync-chart.sh ]; then hack/sync-chart.sh; fi

.PHONY: generate
generate: ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt vet
fmt:
	go fmt ./...
vet:
	go vet ./...

.PHONY: build
build: ## Build the operator binary (also the auth server) into bin/.
	go build -trimpath -o bin/registry-auth-operator .

##@ Tests

.PHONY: test
test: test-unit test-envtest test-dataplane test-e2e ## Run every test.

.PHONY: test-unit
test-unit: ## Unit and golden tests (no servers); go.mod/go.sum must be tidy.
	go mod tidy -diff
	go test -count=1 ./api/... ./internal/...

.PHONY: test-envtest
test-envtest: ## Controller tests against a real kube-apiserver + etcd (and cert-manager's controllers).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" \
	CERT_MANAGER_CONTROLLER="$$($(BUILD_TOOLS) cert-manager)/cert-manager-controller" \
	CERT_MANAGER_CRDS="$$(go list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager)/deploy/crds" \
	go test -count=1 -timeout 20m ./controllers/...

.PHONY: test-dataplane
test-dataplane: ## Token servers (ours, docker_auth) with the real registry and real clients (nothing may be skipped).
	REGISTRY_BIN="$$($(BUILD_TOOLS) registry)/registry" DOCKER_AUTH_BIN="$$($(BUILD_TOOLS) docker_auth)/auth_server" \
	VERSITYGW_BIN="$$($(BUILD_TOOLS) versitygw)/versitygw" \
	DATAPLANE_STRICT=1 go test -count=1 -timeout 30m ./test/dataplane/...

.PHONY: test-chart
test-chart: ## Chart vs code (RBAC markers, CRDs, kustomize, schema) and the image builder.
	@# The tools are built here, not inside the tests: a cold build of kubectl
	@# and helm took most of go test's 10-minute default on a busy 2-core machine.
	$(BUILD_TOOLS) helm controller-gen kubectl >/dev/null
	go test -count=1 -timeout 20m ./test/chart/... ./hack/...

.PHONY: test-e2e
test-e2e: test-chart ## End-to-end on the local e2e cluster: built, brought up, tested, torn down.
	hack/e2e.sh

##@ Local cluster and demo (docs/local-cluster.md)

CLUSTER ?= demo

.PHONY: images
images: ## Build the image archives into bin/images (operator, registry:3, pause, coredns, e2e probe).
	hack/images/build.sh

.PHONY: cluster-up
cluster-up: images ## Bring up the local single-node cluster (CLUSTER=demo|e2e).
	hack/cluster/up.sh $(CLUSTER)

.PHONY: cluster-down
cluster-down: ## Tear the local cluster down, leaving nothing behind (CLUSTER=demo|e2e).
	hack/cluster/down.sh $(CLUSTER)

.PHONY: demo
demo: ## Build, bring up the demo cluster, install the operator and the sample registry, print how to use it.
	hack/demo.sh

.PHONY: demo-down
demo-down: ## Remove everything make demo created.
	hack/cluster/down.sh demo

.PHONY: bench
bench: ## Benchmarks (not part of make test); figures go to docs/benchmarks.md.
	REGISTRY_BIN="$$($(BUILD_TOOLS) registry)/registry" DATAPLANE_STRICT=1 go test -count=1 -timeout 30m -run '^$$' -bench '^BenchmarkTokenEndpoint$$' ./test/dataplane/
	REGISTRY_BIN="$$($(BUILD_TOOLS) registry)/registry" DATAPLANE_STRICT=1 go test -count=1 -timeout 30m -run '^$$' -bench '^BenchmarkProxyOverhead$$' -benchtime 10x ./test/dataplane/

.PHONY: bench-scale
bench-scale: build ## The operator at scale on envtest (N=100/500/1000, noise, restart, SIGKILLs; not part of make test). BENCH_SCALE_ARGS adds flags, e.g. -n 100.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go run ./hack/benchscale -operator bin/registry-auth-operator $(BENCH_SCALE_ARGS)

.PHONY: bench-providers
bench-providers: ## Token endpoints of builtin and docker_auth side by side (docs/benchmarks.md).
	REGISTRY_BIN="$$($(BUILD_TOOLS) registry)/registry" DOCKER_AUTH_BIN="$$($(BUILD_TOOLS) docker_auth)/auth_server" \
	VERSITYGW_BIN="$$($(BUILD_TOOLS) versitygw)/versitygw" \
	DATAPLANE_STRICT=1 go test -count=1 -timeout 30m -run '^$$' -bench '^BenchmarkTokenProviders$$' -benchtime 1x ./test/dataplane/

.PHONY: help
help:
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
