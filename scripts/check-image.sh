#!/usr/bin/env bash
# CI's check of the image `make image` built: it starts as a non-root user with no network,
# says its version, runs a scenario from a mounted directory, and runs the catalogue it carries.
set -euo pipefail
cd "$(dirname "$0")/.."
docker_cli=$(command -v /usr/bin/docker || command -v docker)
run() { "$docker_cli" run --rm --network none "$@"; }

version=$(run regsim:latest --version)
echo "check-image: $version"
[[ "$version" =~ ^regsim\ [0-9.]+\ \(commit\ [0-9a-f]{12},\ catalogue\ of\ [0-9]+\ scenarios\)$ ]] ||
  { echo "check-image: unexpected version line" >&2; exit 1; }
user=$("$docker_cli" image inspect -f '{{.Config.User}}' regsim:latest)
[[ "$user" == 65532:65532 ]] || { echo "check-image: runs as '$user', not 65532:65532" >&2; exit 1; }

# A user's own scenario directory, mounted read-only.
run -v "$PWD/scenarios:/scenarios:ro" regsim:latest run /scenarios/seed-001-private-project-image-denied.yaml \
  --format junit >target/image-seed-001.xml
grep -q '<testsuite' target/image-seed-001.xml
# The catalogue inside: every scenario as expected (exit 0).
run regsim:latest run /usr/share/regsim/scenarios >/dev/null
# diagnose with the catalogue it carries (its index in the user's home).
# (Read whole before grep: `grep -q` would close the pipe early and the docker CLI fail on it.)
diagnosis=$(run -v "$PWD/tests/diagnose:/logs:ro" regsim:latest diagnose /logs/seed-001.log)
grep -q "^Failure mode: " <<<"$diagnosis"
echo "check-image: ok"
