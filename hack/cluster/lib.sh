# Sourced by the hack/cluster scripts: one local single-node cluster, named
# by $1 (demo or e2e), with everything it owns derived from the name.
# Two clusters can run side by side: each has its own network namespace,
# address block, state directories and cgroup root.
set -euo pipefail

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$HACK/.." && pwd)

CLUSTER=${1:-${CLUSTER:-demo}}
case $CLUSTER in
# Addresses come from 198.18.0.0/15 (RFC 2544, benchmarking): never routed
# anywhere, so nothing here can clash with a real network.
demo) NET=198.18 ;;
e2e) NET=198.19 ;;
*) echo "cluster name must be demo or e2e, not '$CLUSTER'" >&2; exit 2 ;;
esac

K8S_VERSION=v1.37.2
NODE=rao-$CLUSTER               # node name, netns name, host-side veth
NETNS=$NODE
HOST_IP=$NET.0.1                # host end of the veth (the user's shell)
NODE_IP=$NET.0.2                # node end, inside the netns
SERVICE_CIDR=$NET.4.0/22
APISERVER_SVC_IP=$NET.4.1
DNS_IP=$NET.4.10
CLUSTER_CIDR=$NET.64.0/18       # kube-proxy: traffic from outside it is masqueraded
POD_SUBNET=$NET.64.0/24         # the node's share, handed out by host-local IPAM
CLUSTER_DOMAIN=cluster.local

# Persistent state (PKI, etcd, images, volumes) and runtime state (sockets).
STATE=${RAO_STATE_DIR:-/var/lib/registry-auth-operator}/$CLUSTER
RUN=/run/registry-auth-operator/$CLUSTER
LOGS=$STATE/logs
PKI=$STATE/pki
KUBECONFIG_ADMIN=$STATE/admin.kubeconfig
CONTAINERD_SOCK=$RUN/containerd.sock
# containerd reads registry trust from here (CRI config_path) and the
# node-trust agent writes it: a directory the cluster owns, not /etc.
CERTS_D=$STATE/certs.d
CGROUP_ROOT=/$NODE
CNI_NETWORK=$NODE
PV_DIR=$STATE/volumes
# Workload identity (docs/workload-identity.md): the kubelet runs our
# credential provider (installed by the node-trust agent) for one registry
# address with one token audience. Both are read when the kubelet starts, so
# they are fixed here: the registry that pulls with workload identity pins
# this ClusterIP (spec.expose.service.clusterIP) and trusts this audience.
CREDENTIAL_PROVIDER_DIR=$STATE/credential-providers
CREDENTIAL_PROVIDER_NAME=registry-auth-credential-provider
IDENTITY_REGISTRY_IP=$NET.7.250
IDENTITY_AUDIENCE=$NODE.registry

NS=(nsenter "--net=/var/run/netns/$NETNS")

log() { printf '[%s %s] %s\n' "$CLUSTER" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Binary directories, built from the Go module proxy on first use.
tooldir() { "$HACK/build-tools.sh" "$1"; }
KUBE_BIN=${KUBE_BIN:-}
bins() {
  [ -n "$KUBE_BIN" ] && return 0
  KUBE_BIN=$(tooldir kube)
  ETCD_BIN=$(tooldir etcd)
  CONTAINERD_BIN=$(tooldir containerd)
  HELM_BIN=$(tooldir helm)
  mkdir -p "$STATE"
  declare -p KUBE_BIN ETCD_BIN CONTAINERD_BIN HELM_BIN | sed 's/^declare -- //' >"$STATE/bins.env"
}

# kubectl and helm keep their caches in the cluster's state, not in ~/.kube.
kubectl() { "${KUBE_BIN:?call bins first}/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" --cache-dir "$STATE/kube-cache" "$@"; }
helm() {
  HELM_CACHE_HOME=$STATE/helm/cache HELM_CONFIG_HOME=$STATE/helm/config HELM_DATA_HOME=$STATE/helm/data \
    KUBECACHEDIR=$STATE/kube-cache \
    "${HELM_BIN:?call bins first}/helm" --kubeconfig "$KUBECONFIG_ADMIN" "$@"
}
# ctr warns about cgroup v1 on every call; the rest of its stderr matters.
ctr() {
  "${CONTAINERD_BIN:?call bins first}/ctr" --address "$CONTAINERD_SOCK" --namespace k8s.io "$@" \
    2> >(grep -v 'support for cgroup v1 is deprecated' >&2)
}

# Daemons run detached (setsid) inside the netns; their PIDs go to
# $RUN/NAME.pid and are the only processes teardown ever signals.
start_daemon() {
  local name=$1; shift
  if running "$name"; then return 0; fi
  mkdir -p "$LOGS" "$RUN"
  setsid "${NS[@]}" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  log "started $name (pid $!)"
}

# running NAME: its recorded PID is alive and still runs a binary of ours.
running() {
  local pidf=$RUN/$1.pid pid
  [ -f "$pidf" ] || return 1
  pid=$(cat "$pidf")
  [ -d "/proc/$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$1"
}

stop_daemon() {
  local name=$1 pid i
  running "$name" || { rm -f "$RUN/$name.pid"; return 0; }
  pid=$(cat "$RUN/$name.pid")
  kill "$pid" 2>/dev/null || true
  for i in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.2; done
  if [ -d "/proc/$pid" ]; then log "$name ignored SIGTERM, killing"; kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$RUN/$name.pid"
  log "stopped $name"
}

# wait_for SECONDS WHAT CMD...: poll CMD every second.
wait_for() {
  local secs=$1 what=$2 i; shift 2
  for i in $(seq "$secs"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  die "timed out after ${secs}s waiting for $what (logs: $LOGS)"
}
