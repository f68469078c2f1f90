#!/usr/bin/env bash
# Tears the local cluster NAME down completely and idempotently: pods are
# deleted through the API first (so the kubelet unwinds their networking),
# then daemons are stopped by recorded PID, and every mount, cgroup, netns,
# file and directory the cluster created is removed.
#   hack/cluster/down.sh demo
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/netns.sh"
source "$HERE/machine.sh"

[ "$(id -u)" = 0 ] || die "run as root"
# The binaries up.sh used (never build anything to tear down).
if [ -f "$STATE/bins.env" ]; then source "$STATE/bins.env"; else KUBE_BIN=/nonexistent CONTAINERD_BIN=/nonexistent; fi

# 1. Pods away through the API, with nothing left to recreate them.
if running kube-apiserver; then
  stop_daemon kube-controller-manager
  stop_daemon kube-scheduler
  if running kubelet; then
    kubectl delete pods --all --all-namespaces --grace-period=1 --wait=false >/dev/null 2>&1 || true
    # Stopped sandboxes are unwound (CNI DEL, netns gone); their containers
    # stay listed until the kubelet's next GC, which we do not wait for.
    for _ in $(seq 60); do
      ctr tasks ls 2>/dev/null | awk 'NR > 1 && $3 == "RUNNING"' | grep -q . || break
      sleep 1
    done
  fi
fi

# 2. Remember the pod network namespaces containerd knows, then stop the node.
podns=()
if running containerd; then
  for c in $(ctr containers ls -q 2>/dev/null); do
    p=$(ctr containers info "$c" 2>/dev/null | jq -r '.Spec.linux.namespaces[]? | select(.type=="network") | .path // empty' || true)
    [ -n "$p" ] && podns+=("$p")
  done
fi
stop_daemon kube-proxy
stop_daemon kubelet
if running containerd; then
  for t in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
  sleep 1
  for t in $(ctr tasks ls -q 2>/dev/null); do ctr tasks rm -f "$t" >/dev/null 2>&1 || true; done
  for c in $(ctr containers ls -q 2>/dev/null); do ctr containers rm "$c" >/dev/null 2>&1 || true; done
fi
for d in containerd kube-apiserver etcd; do stop_daemon "$d"; done
for d in "$RUN"/*.pid; do [ -e "$d" ] && stop_daemon "$(basename "$d" .pid)"; done

# 3. Mounts under the cluster's directories (deepest first), pod netns.
for dir in "$STATE" "$RUN"; do
  awk -v d="$dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
done
for p in "${podns[@]}"; do
  umount "$p" 2>/dev/null || true
  rm -f "$p"
done

# 4. cgroups (deepest first; only empty ones can go), shared directories'
#    entries that name this cluster, the netns, machine settings.
for h in /sys/fs/cgroup/*/; do
  [ -d "$h$CGROUP_ROOT" ] && find "$h$CGROUP_ROOT" -depth -type d -exec rmdir {} \; 2>/dev/null || true
done
find /var/log/containers -maxdepth 1 -type l -lname "$STATE/*" -delete 2>/dev/null || true
rm -f /var/lib/cni/results/"$CNI_NETWORK"-* 2>/dev/null || true
for d in /var/log/containers /var/lib/cni/results /var/lib/cni /run/containerd/s /run/containerd; do
  rmdir "$d" 2>/dev/null || true
done
netns_down
machine_restore

rm -rf "$STATE" "$RUN"
rmdir /run/registry-auth-operator "$(dirname "$STATE")" 2>/dev/null || true
log "cluster $CLUSTER is down"
