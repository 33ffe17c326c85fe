#!/usr/bin/env bash
# Prepares this machine for podtui's Docker tests. Idempotent:
#  - installs docker.io, busybox-static and tmux with apt when they are missing (as root),
#  - starts dockerd in the background when no engine answers, and waits for it,
#  - builds the offline test images with `docker import` (explicit non-latest tags: no pull is ever attempted).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

ensure_packages docker:docker.io dockerd:docker.io busybox:busybox-static tmux:tmux
ensure_engine

# Test images. Bump the tag when the recipe changes.
TEST_BUSYBOX=localhost/podtui-test/busybox:1
if ! image_exists "$TEST_BUSYBOX"; then
  build_busybox_image "$TEST_BUSYBOX"
fi
# Like the real nginx image, files at /var/log/nginx (access.log -> /dev/stdout): an emptyDir mounted there must
# start empty, not with these files copied up.
TEST_SEEDED=localhost/podtui-test/seeded:1
if ! image_exists "$TEST_SEEDED"; then
  work=$(mktemp -d)
  busybox_rootfs "$work/rootfs"
  mkdir -p "$work/rootfs/var/log/nginx"
  ln -s /dev/stdout "$work/rootfs/var/log/nginx/access.log"
  ln -s /dev/stderr "$work/rootfs/var/log/nginx/error.log"
  import_rootfs "$work/rootfs" "$TEST_SEEDED" 'CMD ["sh"]'
  rm -rf "$work"
  say "built $TEST_SEEDED"
fi
# An image with no shell and no tools at all: one static HTTP server (busybox's httpd under its own name) and a
# page. Probes must pass against it without running anything inside it.
TEST_HTTPD_ONLY=localhost/podtui-test/httpd-only:1
if ! image_exists "$TEST_HTTPD_ONLY"; then
  work=$(mktemp -d)
  mkdir -p "$work/rootfs/www"
  cp "$(command -v busybox)" "$work/rootfs/httpd"
  echo "served without a shell" > "$work/rootfs/www/index.html"
  import_rootfs "$work/rootfs" "$TEST_HTTPD_ONLY" 'ENTRYPOINT ["/httpd", "-f", "-p", "8080", "-h", "/www"]'
  rm -rf "$work"
  say "built $TEST_HTTPD_ONLY"
fi
# A real gRPC health server for the gRPC probe test runs on the host, from PyPI's grpcio.
if ! python3 -c 'import grpc, grpc_health.v1.health' >/dev/null 2>&1; then
  say "installing grpcio and grpcio-health-checking for the gRPC probe test"
  python3 -m pip install --quiet --root-user-action=ignore grpcio grpcio-health-checking >/dev/null 2>&1 \
    || python3 -m pip install --quiet --user grpcio grpcio-health-checking
fi
say "test images ready: $TEST_BUSYBOX $TEST_SEEDED $TEST_HTTPD_ONLY"
