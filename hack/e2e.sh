#!/usr/bin/env bash
# `make test-e2e`: builds the images, brings up the local cluster "e2e"
# (separate from "demo": own netns, addresses and state), runs test/e2e
# against it and tears it down, also on failure. E2E_KEEP=1 keeps the
# cluster for debugging (tear down with: make cluster-down CLUSTER=e2e).
# E2E_RUN=<regexp> runs only the matching tests (go test -run), for development.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/cluster/lib.sh" e2e
[ "$(id -u)" = 0 ] || die "the e2e tests need root: they run a cluster in a network namespace"

"$HACK/install-deps.sh"
"$HACK/images/build.sh"
teardown() {
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    log "E2E_KEEP=1: cluster kept; KUBECONFIG=$KUBECONFIG_ADMIN"
  else
    "$HACK/cluster/down.sh" e2e
  fi
}
trap teardown EXIT
# A run that was killed (no EXIT trap) leaves its cluster behind; the tests
# start from a fresh one, so take it down first unless it was kept on purpose.
if [ -d "$STATE" ] && [ "${E2E_KEEP:-0}" != 1 ]; then
  log "an earlier e2e cluster is still here: tearing it down for a fresh start"
  "$HACK/cluster/down.sh" e2e
fi
s=$SECONDS
"$HACK/cluster/up.sh" e2e >/dev/null
log "cluster up in $((SECONDS - s))s"
bins

export E2E_KUBECONFIG=$KUBECONFIG_ADMIN E2E_NETNS=$NETNS E2E_CERTS_D=$CERTS_D \
  E2E_CREDENTIAL_PROVIDER_DIR=$CREDENTIAL_PROVIDER_DIR E2E_IDENTITY_IP=$IDENTITY_REGISTRY_IP E2E_IDENTITY_AUDIENCE=$IDENTITY_AUDIENCE \
  E2E_IMAGES=$REPO/bin/images E2E_KUBECTL=$KUBE_BIN/kubectl E2E_HELM=$HELM_BIN/helm \
  E2E_TIMINGS=$REPO/bin/e2e-timings.txt E2E_KUBE_CACHE=$STATE/kube-cache KUBECACHEDIR=$STATE/kube-cache \
  HELM_CACHE_HOME=$STATE/helm/cache HELM_CONFIG_HOME=$STATE/helm/config HELM_DATA_HOME=$STATE/helm/data
rm -f "$E2E_TIMINGS"
cd "$REPO"
status=0
go test -count=1 -timeout 45m -v ${E2E_RUN:+-run "$E2E_RUN"} ./test/e2e/ 2>&1 | tee "$REPO/bin/e2e.log" || status=$?
[ -f "$E2E_TIMINGS" ] && { log "timings:"; cat "$E2E_TIMINGS" >&2; }
exit "$status"
