#!/usr/bin/env bash
# `make image`: the static binary (`make static`) and the catalogue in a FROM scratch image,
# built by the local dockerd with the classic builder (no BuildKit needed, Docker 20.10 works).
# Tags: regsim:latest and regsim:COMMIT.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/static/bin/regsim
test -x "$bin" || { echo "build-image: $bin is missing (make static)" >&2; exit 2; }
# A dynamically linked binary would not start in an image without a C library.
if readelf -l "$bin" | grep -q "Requesting program interpreter"; then
  echo "build-image: $bin is dynamically linked" >&2
  exit 2
fi

ctx=target/image-context
rm -rf "$ctx"
mkdir -p "$ctx/home"
# Without the release profile's debug info (line tables for backtraces): a fifth of the size.
strip -o "$ctx/regsim" "$bin"
cp -r scenarios "$ctx/scenarios"
cp scripts/image/Dockerfile "$ctx/Dockerfile"

# /bin/sh for the credential helpers a scenario installs (docker-credential-NAME programs the
# runner executes, written as sh scripts): Debian's busybox-static, unpacked, not installed.
busybox=target/image-busybox/bin/busybox
if [[ ! -x "$busybox" ]]; then
  rm -rf target/image-busybox && mkdir -p target/image-busybox
  (cd target/image-busybox && apt-get download busybox-static >/dev/null 2>&1 &&
    dpkg-deb -x busybox-static_*.deb . && rm -f busybox-static_*.deb)
fi
test -x "$busybox" || { echo "build-image: could not get Debian's busybox-static" >&2; exit 2; }
mkdir -p "$ctx/bin"
cp "$busybox" "$ctx/bin/sh"

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
docker_cli=$(command -v /usr/bin/docker || command -v docker)
DOCKER_BUILDKIT=0 "$docker_cli" build -q -t regsim:latest -t "regsim:$commit" "$ctx" >/dev/null
echo "build-image: regsim:latest (regsim:$commit), $(du -h "$ctx/regsim" | cut -f1) binary"
