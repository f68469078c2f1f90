#!/usr/bin/env bash
# Installs (or upgrades) the operator with its Helm chart on the local cluster
# NAME, using the image built into bin/images, and waits until it runs.
#   hack/install-operator.sh demo
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/cluster/lib.sh"
bins
image=$(cat "$REPO/bin/images/operator.ref")
log "helm install: operator $image, node trust into $CERTS_D"
helm upgrade --install registry-auth-operator \
  "$REPO/charts/registry-auth-operator" --namespace registry-auth-system --create-namespace \
  --set image.repository="${image%:*}" --set image.tag="${image##*:}" \
  --set nodeTrust.hostDir="$CERTS_D" --wait --timeout 5m >/dev/null
kubectl -n registry-auth-system rollout status deployment/registry-auth-operator --timeout=2m >/dev/null
kubectl -n registry-auth-system rollout status daemonset/registry-auth-operator-node-trust --timeout=2m >/dev/null
log "operator running"
