# Sourced: what the clusters change on the machine itself, recorded by the
# first cluster up and put back by the last one down.
#  - sysctls the kubelet sets machine-wide (vm.overcommit_memory, kernel.panic,
#    kernel.panic_on_oops);
#  - paths some component hard-codes: the kubelet's device-plugin socket
#    (/var/lib/kubelet/device-plugins), CNI's result cache (/var/lib/cni), the
#    kubelet's log links (/var/log/containers), containerd shim sockets
#    (/run/containerd/s), mount(8)'s utab (/run/mount);
#  - the bind mount `ip netns add` puts on /run/netns.
MACHINE=/run/registry-auth-operator/machine
SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops)
SHARED_PATHS=(/var/lib/kubelet /var/lib/cni /var/log/containers /run/containerd /run/mount)

machine_prepare() {
  if [ ! -d "$MACHINE" ]; then
    mkdir -p "$MACHINE"
    sysctl "${SYSCTLS[@]}" | sed 's/ = /=/' >"$MACHINE/sysctl.conf"
    local p
    for p in "${SHARED_PATHS[@]}"; do [ -e "$p" ] || echo "$p"; done >"$MACHINE/created"
    mountpoint -q /run/netns || echo /run/netns >"$MACHINE/netns-mount"
  fi
  # cgroup v1: the kubelet wants its cgroup root in every hierarchy; a new
  # cpuset cgroup starts with no CPUs or memory nodes, so inherit them.
  local h
  for h in /sys/fs/cgroup/*/; do
    [ -e "$h/cgroup.procs" ] || continue
    mkdir -p "$h$CGROUP_ROOT"
    if [ -e "$h/cpuset.cpus" ]; then
      cat "$h/cpuset.cpus" >"$h$CGROUP_ROOT/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h$CGROUP_ROOT/cpuset.mems"
    fi
  done
}

# machine_restore: only when no cluster of ours runs a kubelet any more.
machine_restore() {
  [ -d "$MACHINE" ] || return 0
  local other p
  for other in /run/registry-auth-operator/*/kubelet.pid; do
    [ -e "$other" ] && return 0
  done
  sysctl -q -p "$MACHINE/sysctl.conf" >/dev/null
  while read -r p; do [ -n "$p" ] && rm -rf "$p"; done <"$MACHINE/created"
  if [ -f "$MACHINE/netns-mount" ] && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
    umount /run/netns 2>/dev/null || true
  fi
  rm -rf "$MACHINE"
  log "machine settings restored (${SYSCTLS[*]}, shared paths)"
}
