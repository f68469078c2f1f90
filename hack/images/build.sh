#!/usr/bin/env bash
# Builds every image archive into bin/images (see hack/images/main.go): the
# registry and CoreDNS binaries come from hack/build-tools.sh's cache.
#   hack/images/build.sh [IMAGE...]
set -euo pipefail
HACK=$(cd "$(dirname "$0")/.." && pwd)
cd "$HACK/.."
registry=$("$HACK/build-tools.sh" registry)/registry
coredns=$("$HACK/build-tools.sh" coredns)/coredns
# docker_auth is a test fixture from beside the checkout (checked against its
# SHA256SUMS): without it the docker_auth image is not built, and the e2e test
# of that provider fails; in CI its absence fails the build right here.
docker_auth=()
if d=$("$HACK/build-tools.sh" docker_auth); then
  docker_auth=(-docker-auth-bin "$d/auth_server")
elif [ "${CI:-}" = true ]; then
  echo "[images] docker_auth test fixture missing or corrupt (CI=true)" >&2; exit 1
else
  echo "[images] skipping the docker_auth image: no ../shared/thirdparty/docker_auth" >&2
fi
s=$SECONDS
CGO_ENABLED=0 go run ./hack/images -out bin/images -registry-bin "$registry" -coredns-bin "$coredns" "${docker_auth[@]}" "$@"
echo "[images] built in $((SECONDS - s))s" >&2
