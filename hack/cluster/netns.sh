# Sourced: the cluster's private network namespace and the veth that joins it
# to the machine, so the user's shell reaches the API server, Services and
# Pods by plain routing (no nsenter needed), while nothing leaves the netns:
# the host does not forward (ip_forward stays as it is) and no NAT is added.

netns_up() {
  if [ ! -e "/var/run/netns/$NETNS" ]; then
    ip netns add "$NETNS"
    log "created netns $NETNS"
  fi
  if ! ip link show "$NODE" >/dev/null 2>&1; then
    ip link add "$NODE" type veth peer name node0 netns "$NETNS"
  fi
  ip addr replace "$HOST_IP/24" dev "$NODE"
  ip link set "$NODE" up
  "${NS[@]}" ip link set lo up
  "${NS[@]}" ip addr replace "$NODE_IP/24" dev node0
  "${NS[@]}" ip link set node0 up
  # A default route is how the kubelet and kube-proxy find the node IP.
  "${NS[@]}" ip route replace default via "$HOST_IP" dev node0
  "${NS[@]}" sysctl -qw net.ipv4.ip_forward=1
  "${NS[@]}" sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
  # From the host: Services and Pods live behind the node.
  ip route replace "$SERVICE_CIDR" via "$NODE_IP" dev "$NODE"
  ip route replace "$CLUSTER_CIDR" via "$NODE_IP" dev "$NODE"
}

# Deleting the netns destroys node0, hence its peer and the host routes.
netns_down() {
  ip link del "$NODE" 2>/dev/null || true
  if [ -e "/var/run/netns/$NETNS" ]; then
    ip netns del "$NETNS"
    log "deleted netns $NETNS"
  fi
}
