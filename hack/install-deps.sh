#!/usr/bin/env bash
# Installs the Debian packages the tests and the local cluster need, when missing.
# Go binaries (kube-apiserver, etcd, registry, ...) are built on demand by
# hack/build-tools.sh from the Go module proxy and cached outside the repo.
set -euo pipefail
# package -> command that proves it is installed
declare -A PKGS=(
  [skopeo]=skopeo
  [docker.io]=dockerd
  [docker-registry]=docker-registry
  [apache2-utils]=htpasswd
  [iproute2]=ip
  [iptables]=iptables
  [conntrack]=conntrack
  [runc]=runc
  [containernetworking-plugins]=/usr/lib/cni/bridge
  [curl]=curl
  [jq]=jq
  [openssl]=openssl
  [util-linux]=nsenter
  [procps]=sysctl
  [ca-certificates]=/etc/ssl/certs/ca-certificates.crt
)
missing=()
for p in "${!PKGS[@]}"; do
  c=${PKGS[$p]}
  if [[ $c == /* ]]; then [ -e "$c" ] || missing+=("$p"); else command -v "$c" >/dev/null 2>&1 || missing+=("$p"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install-deps] installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's docker-registry package starts a system service on install; the tests
# start their own registries, so keep the packaged one from holding :5000.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  systemctl stop docker-registry || true
fi
echo "[install-deps] ok" >&2
