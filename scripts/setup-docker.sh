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
say "test images ready: $TEST_BUSYBOX $TEST_SEEDED"
