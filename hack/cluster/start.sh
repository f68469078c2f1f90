# Sourced: start each component inside the netns, once (start_daemon skips
# what is already running), in dependency order.

start_containerd() {
  # containerd finds containerd-shim-runc-v2 on PATH.
  PATH=$CONTAINERD_BIN:$PATH start_daemon containerd "$CONTAINERD_BIN/containerd" --config "$STATE/etc/containerd.toml"
  wait_for 30 containerd ctr version
}

start_control_plane() {
  start_daemon etcd "$ETCD_BIN/etcd" --name "$NODE" --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$NODE=http://127.0.0.1:2380" --listen-metrics-urls=
  start_daemon kube-apiserver "$KUBE_BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
    --advertise-address="$NODE_IP" --bind-address="$NODE_IP" --secure-port=6443 \
    --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true \
    --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction
  wait_for 90 "the API server" kubectl get --raw /readyz
  start_daemon kube-controller-manager "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials=true --leader-elect=false \
    --service-cluster-ip-range="$SERVICE_CIDR" --bind-address=127.0.0.1
  start_daemon kube-scheduler "$KUBE_BIN/kube-scheduler" --kubeconfig="$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE/scheduler.kubeconfig" --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1
}

start_node() {
  start_daemon kubelet "$KUBE_BIN/kubelet" --config="$STATE/etc/kubelet.yaml" \
    --kubeconfig="$STATE/kubelet.kubeconfig" --hostname-override="$NODE" --node-ip="$NODE_IP" \
    --root-dir="$STATE/kubelet" \
    --image-credential-provider-config="$STATE/etc/credential-providers.yaml" \
    --image-credential-provider-bin-dir="$CREDENTIAL_PROVIDER_DIR"
  start_daemon kube-proxy "$KUBE_BIN/kube-proxy" --config="$STATE/etc/kube-proxy.yaml"
  wait_for 120 "node $NODE to be Ready" node_ready
}

node_ready() {
  [ "$(kubectl get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
