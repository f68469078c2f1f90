# Sourced: configuration files of containerd, the CNI network, the kubelet and
# kube-proxy, written under $STATE/etc from the cluster's variables.

config_up() {
  local etc=$STATE/etc
  mkdir -p "$etc" "$STATE/cni/net.d" "$CERTS_D" "$PV_DIR" "$STATE/pod-logs"
  # containerd v2. Everything it would put in /var/lib, /opt or /etc by
  # default points into the cluster's own directories instead.
  cat >"$etc/containerd.toml" <<EOT
version = 3
root = "$STATE/containerd"
state = "$RUN/containerd"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins.'io.containerd.internal.v1.opt']
  path = "$STATE/containerd-opt"
[plugins.'io.containerd.nri.v1.nri']
  disable = true
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$(cat "$REPO/bin/images/pause.ref")"
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = "$CERTS_D"
[plugins.'io.containerd.cri.v1.runtime']
  # This machine lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
        Root = "$RUN/runc"
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$STATE/cni/net.d"
EOT
  cat >"$STATE/cni/net.d/10-$CNI_NETWORK.conflist" <<EOT
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$STATE/cni/ipam",
              "ranges": [[{"subnet": "$POD_SUBNET"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOT
  credential_provider_config "$etc"
  # cgroup v1 on this machine; pods go under $CGROUP_ROOT so two clusters
  # never share a kubepods hierarchy.
  cat >"$etc/kubelet.yaml" <<EOT
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
clusterDomain: $CLUSTER_DOMAIN
clusterDNS: [$DNS_IP]
# No upstream resolver inside the netns: pods resolve cluster names only.
resolvConf: ""
failSwapOn: false
podLogsDir: $STATE/pod-logs
evictionHard: {memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%"}
# Locally imported images cannot be pulled again: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
# Flex volume plugins: default /usr/libexec/kubernetes/..., the machine's.
volumePluginDir: $STATE/kubelet-plugins
EOT
  cat >"$etc/kube-proxy.yaml" <<EOT
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $CLUSTER_CIDR
hostnameOverride: $NODE
clientConnection: {kubeconfig: $STATE/kube-proxy.kubeconfig}
# nf_conntrack_max is machine-wide: leave it alone.
conntrack: {maxPerCore: 0}
EOT
}

# credential_provider_config ETC: the kubelet's CredentialProviderConfig and
# a placeholder provider. The kubelet refuses to start when the named
# executable is missing, and the node-trust agent installs the real one only
# once the cluster runs: until then the placeholder answers every request
# with an error (the kubelet then pulls without its credentials).
credential_provider_config() {
  mkdir -p "$CREDENTIAL_PROVIDER_DIR"
  local bin=$CREDENTIAL_PROVIDER_DIR/$CREDENTIAL_PROVIDER_NAME
  if [ ! -e "$bin" ]; then
    printf '#!/bin/sh\necho "credential provider not installed yet (the node-trust agent installs it)" >&2\nexit 1\n' >"$bin"
    chmod 0755 "$bin"
  fi
  cat >"$1/credential-providers.yaml" <<EOT
apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
- name: $CREDENTIAL_PROVIDER_NAME
  args: [credential-provider]
  apiVersion: credentialprovider.kubelet.k8s.io/v1
  matchImages: ["$IDENTITY_REGISTRY_IP:5000"]
  defaultCacheDuration: 1m
  tokenAttributes:
    serviceAccountTokenAudience: $IDENTITY_AUDIENCE
    # The credential is the token itself: cached as long as the token lives.
    cacheType: Token
    requireServiceAccount: true
EOT
}
