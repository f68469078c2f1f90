#!/usr/bin/env bash
# Builds the binaries the project needs from the Go module proxy, once, into a
# cache outside the repository keyed by version; prints the directory of each.
#   hack/build-tools.sh envtest            -> kube-apiserver, etcd (for envtest)
#   hack/build-tools.sh kube etcd registry containerd coredns helm controller-gen cert-manager
#   hack/build-tools.sh versitygw          -> an S3-compatible server (data-plane tests of the s3 driver)
#   hack/build-tools.sh docker_auth        -> the prebuilt test fixture, checked (not built)
# Wrapper modules live in hack/tools/<name>; their go.sum pins every dependency.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${RAO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/registry-auth-operator}
export CGO_ENABLED=0 GOFLAGS=-mod=mod

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
REGISTRY_VERSION=v3.1.2
CONTAINERD_VERSION=v2.4.2
COREDNS_VERSION=v1.14.7
HELM_VERSION=v3.22.0
CONTROLLER_GEN_VERSION=v0.23.0
CERT_MANAGER_VERSION=v1.21.2
VERSITYGW_VERSION=v1.8.0

log() { printf '[build-tools] %s\n' "$*" >&2; }

# build DIR OUT PKG [LDFLAGS] [TAGS]: go build PKG inside wrapper module DIR.
build() {
  local dir=$1 out=$2 pkg=$3 ldflags=${4:-} tags=${5:-}
  [ -x "$out" ] && return 0
  mkdir -p "$(dirname "$out")"
  # One build per binary at a time: parallel test runs share the cache.
  exec {lock}>"$out.lock"
  flock "$lock"
  if [ -x "$out" ]; then exec {lock}>&-; return 0; fi
  local s=$SECONDS
  log "building $(basename "$out") ($pkg) ..."
  (cd "$HERE/tools/$dir" && go build -trimpath -tags "$tags" -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg")
  mv "$out.tmp" "$out"
  exec {lock}>&-
  log "built $(basename "$out") in $((SECONDS - s))s"
}

kube_ldflags() {
  local v=$K8S_VERSION minor; minor=${v#v1.}; minor=${minor%%.*}
  local f="" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f="$f -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  echo "$f"
}

# helm_ldflags: what helm's own Makefile sets. Without them `helm version`
# says v0.0.0-like and `helm template` (no cluster) assumes Kubernetes v1.20,
# so a chart's kubeVersion constraint (ours: >=1.30) fails. The Kubernetes
# version is derived, as helm does, from the client-go it is built with
# (v0.X.Y -> 1.X).
helm_ldflags() {
  local cg; cg=$(cd "$HERE/tools/helm" && go list -m -f '{{.Version}}' k8s.io/client-go)
  cg=${cg#v0.}
  local minor=${cg%%.*} p
  local f="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    f="$f -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$minor"
  done
  echo "$f"
}

tool() {
  local d
  case $1 in
  kube-apiserver|kubelet|kube-controller-manager|kube-scheduler|kube-proxy|kubectl)
    d=$CACHE/k8s/$K8S_VERSION; build kube "$d/$1" "k8s.io/kubernetes/cmd/$1" "$(kube_ldflags)" ;;
  kube)
    for c in kube-apiserver kubectl kubelet kube-controller-manager kube-scheduler kube-proxy; do tool $c >/dev/null; done
    d=$CACHE/k8s/$K8S_VERSION ;;
  etcd)
    d=$CACHE/etcd/$ETCD_VERSION; build etcd "$d/etcd" go.etcd.io/etcd/server/v3 ;;
  envtest)
    # envtest wants kube-apiserver and etcd side by side in KUBEBUILDER_ASSETS.
    tool kube-apiserver >/dev/null; tool etcd >/dev/null
    d=$CACHE/envtest/$K8S_VERSION; mkdir -p "$d"
    ln -sfn "$CACHE/k8s/$K8S_VERSION/kube-apiserver" "$d/kube-apiserver"
    ln -sfn "$CACHE/etcd/$ETCD_VERSION/etcd" "$d/etcd" ;;
  registry)
    d=$CACHE/registry/$REGISTRY_VERSION; build registry "$d/registry" github.com/distribution/distribution/v3/cmd/registry ;;
  containerd)
    d=$CACHE/containerd/$CONTAINERD_VERSION
    for c in containerd containerd-shim-runc-v2 ctr; do
      build containerd "$d/$c" "github.com/containerd/containerd/v2/cmd/$c" "" no_btrfs,no_devmapper,no_zfs
    done ;;
  coredns)
    d=$CACHE/coredns/$COREDNS_VERSION; build coredns "$d/coredns" github.com/coredns/coredns ;;
  helm)
    # "-k8s" keys the cache: builds without the version ldflags (which
    # reported Kubernetes v1.20 to kubeVersion checks) are not reused.
    d=$CACHE/helm/$HELM_VERSION-k8s; build helm "$d/helm" helm.sh/helm/v3/cmd/helm "$(helm_ldflags)" ;;
  cert-manager)
    # cert-manager's controllers (its cmd module is not on the proxy): see hack/tools/cert-manager.
    d=$CACHE/cert-manager/$CERT_MANAGER_VERSION; build cert-manager "$d/cert-manager-controller" . ;;
  versitygw)
    # S3-compatible gateway (posix backend on a temp dir) for the s3 storage tests.
    d=$CACHE/versitygw/$VERSITYGW_VERSION; build versitygw "$d/versitygw" github.com/versity/versitygw/cmd/versitygw ;;
  controller-gen)
    d=$CACHE/controller-gen/$CONTROLLER_GEN_VERSION; build controller-gen "$d/controller-gen" sigs.k8s.io/controller-tools/cmd/controller-gen ;;
  docker_auth)
    # Not on the module proxy: a prebuilt third-party binary beside the
    # checkout (../shared/thirdparty/docker_auth, or DOCKER_AUTH_DIR), used by
    # tests only. Checked against its SHA256SUMS, never built or vendored.
    d=${DOCKER_AUTH_DIR:-}
    if [ -z "$d" ]; then
      local up=$HERE/..
      for _ in 1 2 3; do
        up=$(cd "$up/.." && pwd)
        [ -f "$up/shared/thirdparty/docker_auth/SHA256SUMS" ] && { d=$up/shared/thirdparty/docker_auth; break; }
      done
    fi
    [ -n "$d" ] && [ -f "$d/SHA256SUMS" ] || { log "docker_auth: ../shared/thirdparty/docker_auth not found (set DOCKER_AUTH_DIR)"; return 1; }
    (cd "$d" && sha256sum --quiet -c SHA256SUMS) >&2 || { log "docker_auth: $d/auth_server does not match its SHA256SUMS"; return 1; } ;;
  *) log "unknown tool $1"; return 2 ;;
  esac
  echo "$d"
}

[ $# -gt 0 ] || { echo "usage: $0 TOOL..." >&2; exit 2; }
mkdir -p "$CACHE"
for t in "$@"; do tool "$t"; done
