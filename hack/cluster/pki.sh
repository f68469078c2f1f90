# Sourced: the cluster's CA, component certificates, service-account keys and
# kubeconfigs (openssl). Generated once; teardown removes them with $STATE.

_cert() { # NAME CN [O] [SANS]
  local n=$1 cn=$2 o=${3:-} san=${4:-} subj
  [ -f "$PKI/$n.crt" ] && return 0
  subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o/CN=$cn"
  openssl genrsa -out "$PKI/$n.key" 2048 2>/dev/null
  openssl req -new -key "$PKI/$n.key" -subj "$subj" -out "$PKI/$n.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [ -z "$san" ] || echo "subjectAltName=$san"
  } >"$PKI/$n.ext"
  openssl x509 -req -in "$PKI/$n.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -extfile "$PKI/$n.ext" -out "$PKI/$n.crt" 2>/dev/null
  rm -f "$PKI/$n.csr" "$PKI/$n.ext"
}

_kubeconfig() { # NAME: a kubeconfig for the client cert NAME
  cat >"$STATE/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: $NODE
  cluster: {certificate-authority: $PKI/ca.crt, server: https://$NODE_IP:6443}
users:
- name: $1
  user: {client-certificate: $PKI/$1.crt, client-key: $PKI/$1.key}
contexts:
- name: $NODE
  context: {cluster: $NODE, user: $1}
current-context: $NODE
KC
}

pki_up() {
  mkdir -p "$PKI"; chmod 700 "$PKI"
  if [ ! -f "$PKI/ca.crt" ]; then
    openssl genrsa -out "$PKI/ca.key" 2048 2>/dev/null
    openssl req -x509 -new -nodes -key "$PKI/ca.key" -subj "/CN=$NODE-ca" -days 3650 -out "$PKI/ca.crt"
  fi
  local dns=kubernetes,kubernetes.default,kubernetes.default.svc,kubernetes.default.svc.$CLUSTER_DOMAIN
  _cert apiserver kube-apiserver "" "IP:$NODE_IP,IP:$APISERVER_SVC_IP,IP:127.0.0.1,DNS:localhost,DNS:${dns//,/,DNS:}"
  _cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  _cert admin admin system:masters
  _cert controller-manager system:kube-controller-manager
  _cert scheduler system:kube-scheduler
  _cert kube-proxy system:kube-proxy
  _cert kubelet "system:node:$NODE" system:nodes "IP:$NODE_IP,DNS:$NODE"
  if [ ! -f "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  local n; for n in admin controller-manager scheduler kube-proxy kubelet; do _kubeconfig $n; done
}
