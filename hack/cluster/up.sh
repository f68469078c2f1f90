#!/usr/bin/env bash
# Brings up (or completes) the local single-node Kubernetes cluster NAME
# (demo or e2e): idempotent, every step skipped when already done.
#   hack/cluster/up.sh demo
# Needs root (network namespace, cgroups, mounts). Prints the kubeconfig.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
for f in machine netns pki config start addons; do source "$HERE/$f.sh"; done

[ "$(id -u)" = 0 ] || die "run as root: the cluster needs a network namespace, cgroups and mounts"
t0=$SECONDS
"$HACK/install-deps.sh"
log "binaries from ~/.cache/registry-auth-operator (built on first use: ~40 min on a fresh 2-core machine) ..."
bins
[ -f "$REPO/bin/images/pause.tar" ] || "$HACK/images/build.sh"

mkdir -p "$STATE" "$RUN" "$LOGS"
machine_prepare
netns_up
pki_up
config_up
start_containerd
images_import
start_control_plane
start_node
addons_up
log "cluster $CLUSTER up in $((SECONDS - t0))s: node $NODE_IP, Services $SERVICE_CIDR, Pods $CLUSTER_CIDR"
echo "$KUBECONFIG_ADMIN"
