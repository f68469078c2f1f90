#!/usr/bin/env bash
# `make demo`: builds what is missing, brings up the local cluster "demo",
# installs the operator with Helm, applies config/samples/, waits for the
# registry, proves one login/push/pull, and prints how to use it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/cluster/lib.sh" demo
NSPACE=registry

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"; }
[ "$(id -u)" = 0 ] || die "make demo needs root: it creates a network namespace, cgroups and mounts (try: sudo make demo)"
need go "install Go 1.26 (https://go.dev/dl/)"
need ip "run hack/install-deps.sh (Debian package iproute2)"
"$HACK/install-deps.sh"
t0=$SECONDS

log "1/6 images into bin/images (a first run also builds every tool from the Go module proxy: about 40 min of a cold ~45 min demo on 2 cores)"
"$HACK/images/build.sh"
log "2/6 local cluster \"demo\" (hack/cluster/up.sh)"
"$HACK/cluster/up.sh" demo >/dev/null
bins
log "3/6 operator (Helm chart charts/registry-auth-operator)"
"$HACK/install-operator.sh" demo

log "4/6 sample registry (config/samples/ in namespace $NSPACE)"
kubectl get namespace "$NSPACE" >/dev/null 2>&1 || kubectl create namespace "$NSPACE" >/dev/null
kubectl -n "$NSPACE" apply -f "$REPO/config/samples/" >/dev/null
kubectl -n "$NSPACE" wait registryauth/demo --for=condition=Ready --timeout=5m >/dev/null ||
  { kubectl -n "$NSPACE" describe registryauth demo >&2; die "RegistryAuth demo did not become Ready"; }
url=$(kubectl -n "$NSPACE" get registryauth demo -o jsonpath='{.status.urls.node}')
incluster=$(kubectl -n "$NSPACE" get registryauth demo -o jsonpath='{.status.urls.inCluster}')
# Trust comes from the CA bundle ConfigMap (certificates only, no key).
cabundle=$(kubectl -n "$NSPACE" get registryauth demo -o jsonpath='{.status.caConfigMapName}')
host=${url#https://}
ca=$STATE/demo-ca.crt
kubectl -n "$NSPACE" get configmap "$cabundle" -o jsonpath='{.data.ca\.crt}' >"$ca"
# Printed commands say sudo only when this ran through sudo (a root shell
# may not have it); none of them prompts: passwords come from the Secrets.
SUDO=""; [ -n "${SUDO_USER:-}" ] && SUDO="sudo "
pw() { echo "kubectl -n $NSPACE get secret demo-$1 -o jsonpath='{.data.password}' | base64 -d"; }

log "5/6 login, push, pull with skopeo against $host"
work=$STATE/demo-client; mkdir -p "$work/certs.d/$host"; cp "$ca" "$work/certs.d/$host/ca.crt"
sk=(skopeo --command-timeout 60s)
kubectl -n "$NSPACE" get secret demo-admin -o jsonpath='{.data.password}' | base64 -d |
  "${sk[@]}" login --authfile "$work/auth.json" --cert-dir "$work/certs.d/$host" -u admin --password-stdin "$host" >/dev/null
"${sk[@]}" copy -q --dest-authfile "$work/auth.json" --dest-cert-dir "$work/certs.d/$host" \
  "oci-archive:$REPO/bin/images/pause.tar" "docker://$host/demo/pause:3.10"
kubectl -n "$NSPACE" get secret demo-reader -o jsonpath='{.data.password}' | base64 -d |
  "${sk[@]}" login --authfile "$work/reader.json" --cert-dir "$work/certs.d/$host" -u reader --password-stdin "$host" >/dev/null
rm -rf "$work/pulled"
"${sk[@]}" copy -q --src-authfile "$work/reader.json" --src-cert-dir "$work/certs.d/$host" \
  "docker://$host/demo/pause:3.10" "oci:$work/pulled"
log "pushed as admin, pulled as reader: $host/demo/pause:3.10 $(jq -r '.manifests[0].digest' "$work/pulled/index.json")"

log "6/6 done in $((SECONDS - t0))s"
cat <<MSG

  Registry "demo" is Ready. Its addresses:
    from Pods:             $incluster
    from the node and this machine (routed into the cluster): $url
  Users (config/samples/demo-users.yaml): admin / badmin (everything), reader / 123 (pull only)
  CA to trust: $ca (from ConfigMap $NSPACE/$cabundle, key ca.crt)

  Use it from this shell (kubectl and helm are the cluster's own builds):
    export KUBECONFIG=$KUBECONFIG_ADMIN PATH=$KUBE_BIN:$HELM_BIN:\$PATH
    kubectl -n $NSPACE get registryauth demo -o wide
    mkdir -p ~/.config/containers/certs.d/$host && cp $ca ~/.config/containers/certs.d/$host/ca.crt
    $(pw admin) | skopeo login -u admin --password-stdin $host
    skopeo copy oci-archive:$REPO/bin/images/pause.tar docker://$host/demo/pause:mine
    skopeo inspect docker://$host/demo/pause:mine

  With a Docker daemon on this machine (it must trust the CA):
    ${SUDO}mkdir -p /etc/docker/certs.d/$host && ${SUDO}cp $ca /etc/docker/certs.d/$host/ca.crt
    $(pw admin) | docker login -u admin --password-stdin $host
    docker pull $host/demo/pause:3.10
    docker tag $host/demo/pause:3.10 $host/demo/pause:copy && docker push $host/demo/pause:copy

  From Pods, pull with a dockerconfigjson Secret (nodes already trust the CA):
    kubectl -n $NSPACE create secret docker-registry demo-pull --docker-server=$host --docker-username=reader --docker-password=123
    kubectl -n $NSPACE run pause --image=$host/demo/pause:3.10 --overrides='{"spec":{"imagePullSecrets":[{"name":"demo-pull"}]}}'

  Tear it all down:  make demo-down
MSG
