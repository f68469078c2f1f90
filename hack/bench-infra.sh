#!/usr/bin/env bash
# Measures the install-and-run figures of docs/benchmarks.md ("Build, cluster
# and e2e") and prints them as Markdown rows. Uses the e2e cluster (torn
# down at the end); the demo cluster is left alone.
#   hack/bench-infra.sh          warm: caches as they are
#   hack/bench-infra.sh --cold   also rebuild every tool with empty Go build
#                                and tool caches (~30 min on 2 cores)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/cluster/lib.sh" e2e
[ "$(id -u)" = 0 ] || die "run as root"

row() { printf '| %s | %s |\n' "$1" "$2"; }
secs() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
timed() { local s=$SECONDS; "$@" >/dev/null 2>&1; echo $((SECONDS - s)); }

echo "| what | figure |"
echo "|---|---|"
if [ "${1:-}" = --cold ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for t in kube-apiserver kubelet kube-controller-manager kube-scheduler kube-proxy kubectl etcd containerd registry coredns helm; do
    row "cold build: $t (empty Go build cache)" \
      "$(RAO_CACHE=$tmp/cache GOCACHE=$tmp/gocache timed "$HACK/build-tools.sh" "$t") s"
    GOCACHE=$tmp/gocache go clean -cache
  done
fi
row "warm: every tool already cached (\`hack/build-tools.sh kube etcd containerd coredns helm registry\`)" \
  "$(timed "$HACK/build-tools.sh" kube etcd containerd coredns helm registry) s"
row "images: build all five archives (warm Go build cache)" "$(timed "$HACK/images/build.sh") s"

"$HACK/cluster/down.sh" e2e >/dev/null 2>&1
row "cluster bring-up from built binaries (netns, PKI, containerd, images, control plane, node Ready, CoreDNS)" \
  "$(timed "$HACK/cluster/up.sh" e2e) s"
row "cluster bring-up again (idempotent, all running)" "$(timed "$HACK/cluster/up.sh" e2e) s"
bins
rss=0
for p in "$RUN"/*.pid; do rss=$((rss + $(awk '/VmRSS/ {print $2}' "/proc/$(cat "$p")/status"))); done
row "memory of the cluster's daemons (RSS, idle)" "$((rss / 1024)) MiB"
row "helm install to operator and node-trust agent ready" "$(timed "$HACK/install-operator.sh" e2e) s"

kubectl create namespace bench >/dev/null
t0=$(date +%s%N)
kubectl -n bench apply -f "$REPO/config/samples/" >/dev/null
answering=""
for _ in $(seq 600); do
  url=$(kubectl -n bench get registryauth demo -o jsonpath='{.status.urls.node}')
  if [ -n "$url" ] && [ "$(curl -sk -o /dev/null -w '%{http_code}' "$url/v2/")" = 401 ]; then
    answering=$(secs "$t0"); break
  fi
  sleep 0.2
done
kubectl -n bench wait registryauth/demo --for=condition=Ready --timeout=5m >/dev/null
ready=$(secs "$t0")
row "\`kubectl apply -f config/samples/\` to the registry answering 401 at status.urls.node" "$answering s"
row "\`kubectl apply -f config/samples/\` to condition Ready observed" "$ready s"

row "teardown (\`hack/cluster/down.sh e2e\`, nothing left running)" "$(timed "$HACK/cluster/down.sh" e2e) s"
