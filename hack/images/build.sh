#!/usr/bin/env bash
# Builds every image archive into bin/images (see hack/images/main.go): the
# registry and CoreDNS binaries come from hack/build-tools.sh's cache.
#   hack/images/build.sh [IMAGE...]
set -euo pipefail
HACK=$(cd "$(dirname "$0")/.." && pwd)
cd "$HACK/.."
registry=$("$HACK/build-tools.sh" registry)/registry
coredns=$("$HACK/build-tools.sh" coredns)/coredns
s=$SECONDS
CGO_ENABLED=0 go run ./hack/images -out bin/images -registry-bin "$registry" -coredns-bin "$coredns" "$@"
echo "[images] built in $((SECONDS - s))s" >&2
