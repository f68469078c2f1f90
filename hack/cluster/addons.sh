# Sourced: the locally built images, cluster DNS and the static PersistentVolume.

# images_import: every archive of bin/images whose manifest the node does not
# hold under that name yet (tags like registry:3 stay, content changes),
# pinned so the kubelet never collects it: it could not pull it back.
images_import() {
  local tar ref want have
  for tar in "$REPO"/bin/images/*.tar; do
    ref=$(cat "${tar%.tar}.ref")
    want=$(tar -xOf "$tar" index.json | jq -r '.manifests[0].digest')
    have=$(ctr images ls "name==$ref" 2>/dev/null | awk 'NR == 2 {print $3}')
    if [ "$want" != "$have" ]; then
      ctr images import "$tar" >/dev/null
    fi
    ctr images label "$ref" io.cri-containerd.pinned=pinned >/dev/null
  done
  log "images on the node: $(cat "$REPO"/bin/images/*.ref | tr '\n' ' ')"
}

render() { # FILE: substitute the cluster's values into a manifest
  sed -e "s|@DNS_IP@|$DNS_IP|g" -e "s|@CLUSTER_DOMAIN@|$CLUSTER_DOMAIN|g" \
    -e "s|@IMAGE@|$(cat "$REPO/bin/images/coredns.ref")|g" -e "s|@PV_DIR@|$PV_DIR|g" \
    -e "s|@IDENTITY_AUDIENCE@|$IDENTITY_AUDIENCE|g" "$1"
}

addons_up() {
  wait_for 60 "the default ServiceAccount" kubectl get serviceaccount default
  render "$HACK/cluster/manifests/coredns.yaml" | kubectl apply -f - >/dev/null
  render "$HACK/cluster/manifests/local-pv.yaml" | kubectl apply -f - >/dev/null
  render "$HACK/cluster/manifests/node-audience.yaml" | kubectl apply -f - >/dev/null
  # Retain keeps the data of a deleted claim; make the volume claimable again.
  if [ "$(kubectl get pv local-registry-data -o jsonpath='{.status.phase}')" = Released ]; then
    kubectl patch pv local-registry-data --type json -p '[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null
  fi
  mkdir -p "$PV_DIR/local-registry-data"
  # The registry's user is the image's business: let any uid write the volume.
  chmod 0777 "$PV_DIR/local-registry-data"
  kubectl -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null
  log "cluster DNS ready at $DNS_IP"
}
