#!/usr/bin/env bash
# Prepares this machine for podtui's tests on podman (the second engine). Idempotent:
#  - installs podman and catatonit with apt when they are missing (as root; rootless podman also needs uidmap,
#    slirp4netns and fuse-overlayfs, installed only when this runs as another user — who cannot install them),
#  - writes a podtui-local containers.conf (named by CONTAINERS_CONF, so the host's /etc/containers is left alone)
#    with the two settings podman needs in this sandbox: no default ulimits (podman asks for nofile/nproc above
#    the hard limits and the sandbox lacks CAP_SYS_RESOURCE) and runc (crun refuses the hybrid cgroup layout),
#  - starts `podman system service` on a socket of its own in the background when it does not answer, and waits,
#  - builds the offline test images (the same names as setup-docker.sh) with `podman import`, with a PATH:
#    podman's API, unlike dockerd, gives a container no PATH when its image has none.
# Prints `DOCKER_HOST=unix://…/podman.sock` on stdout (the last line): `export "$(bash scripts/setup-podman.sh)"`.
# PODTUI_PODMAN_DIR picks the directory of the socket, the config and the service's log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

if [ "$(id -u)" -eq 0 ]; then
  dir=${PODTUI_PODMAN_DIR:-/run/podtui-podman}
  ensure_packages podman:podman catatonit:catatonit busybox:busybox-static docker:docker.io
else
  dir=${PODTUI_PODMAN_DIR:-${XDG_RUNTIME_DIR:-/tmp}/podtui-podman-$(id -u)}
  ensure_packages podman:podman catatonit:catatonit busybox:busybox-static newuidmap:uidmap \
    slirp4netns:slirp4netns fuse-overlayfs:fuse-overlayfs
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd) # absolute: the service runs from / (below)
sock=$dir/podman.sock
export CONTAINERS_CONF=$dir/containers.conf
conf='[containers]
default_ulimits = []
[engine]
runtime = "runc"'
if [ "$(cat "$CONTAINERS_CONF" 2>/dev/null)" != "$conf" ]; then
  printf '%s\n' "$conf" >"$CONTAINERS_CONF"
  say "wrote $CONTAINERS_CONF"
fi

# The docker CLI (the tests' helper) speaks to podman's Docker-compatible socket as well.
podman_answers() { curl -fsS --max-time 2 --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; }
if ! podman_answers; then
  log=$dir/service.log
  say "starting podman system service on $sock in the background (log: $log)"
  rm -f "$sock"
  # The service reads CONTAINERS_CONF from its environment (exported above).
  # From /: the service's conmon processes start in its working directory, and a clone the service was started
  # from may be deleted while the service runs (then every container start fails: "Failed to get working directory").
  (cd / && exec setsid podman system service --time=0 "unix://$sock") >"$log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    podman_answers && break
    sleep 0.5
  done
  podman_answers || { tail -20 "$log" >&2 || true; die "podman system service did not answer within 60 s"; }
fi
say "podman $(podman version --format '{{.Server.Version}}' 2>/dev/null || podman --version) answers on $sock"

# Docker's default PATH, which dockerd gives every container and podman's API does not.
path_env='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
podman_image() {
  local ref=$1 root=$2 change=$3
  tar -C "$root" -c . | podman import --quiet --change "$path_env" --change "$change" - "$ref" >/dev/null
  say "built $ref on podman"
}
TEST_BUSYBOX=localhost/podtui-test/busybox:1
if ! podman image exists "$TEST_BUSYBOX"; then
  work=$(mktemp -d)
  busybox_rootfs "$work/rootfs"
  podman_image "$TEST_BUSYBOX" "$work/rootfs" 'CMD ["sh"]'
  rm -rf "$work"
fi
TEST_SEEDED=localhost/podtui-test/seeded:1
if ! podman image exists "$TEST_SEEDED"; then
  work=$(mktemp -d)
  busybox_rootfs "$work/rootfs"
  mkdir -p "$work/rootfs/var/log/nginx"
  ln -s /dev/stdout "$work/rootfs/var/log/nginx/access.log"
  ln -s /dev/stderr "$work/rootfs/var/log/nginx/error.log"
  podman_image "$TEST_SEEDED" "$work/rootfs" 'CMD ["sh"]'
  rm -rf "$work"
fi
TEST_HTTPD_ONLY=localhost/podtui-test/httpd-only:1
if ! podman image exists "$TEST_HTTPD_ONLY"; then
  work=$(mktemp -d)
  mkdir -p "$work/rootfs/www"
  cp "$(command -v busybox)" "$work/rootfs/httpd"
  echo "served without a shell" >"$work/rootfs/www/index.html"
  podman_image "$TEST_HTTPD_ONLY" "$work/rootfs" 'ENTRYPOINT ["/httpd", "-f", "-p", "8080", "-h", "/www"]'
  rm -rf "$work"
fi
say "podman test images ready: $TEST_BUSYBOX $TEST_SEEDED $TEST_HTTPD_ONLY"
echo "DOCKER_HOST=unix://$sock"
