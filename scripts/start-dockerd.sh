#!/usr/bin/env bash
# Starts Debian's dockerd (docker.io 20.10) the way regsim's real-daemon tests need it, unless one
# already answers. Idempotent; installs docker.io when missing. Fails loudly with the log tail.
set -euo pipefail

# --- ensure a local Docker daemon (Debian docker.io 20.10) is answering -----
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
DOCKER_SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
DOCKERD_WAIT=${DOCKERD_WAIT:-60}

docker_ping() {
  [[ "$(curl -fsS --max-time 2 --unix-socket "$DOCKER_SOCK" http://localhost/_ping 2>/dev/null)" == OK ]]
}

# true if a live (non-zombie) dockerd exists. PID 1 here reaps orphans only
# after ~1-2s, so a killed dockerd lingers as <defunct> and fools pgrep.
live_pid() {  # live_pid PID COMM -> true if PID is a non-zombie process named COMM
  [[ -n ${1:-} && "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]] &&
    [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]
}
dockerd_alive() {
  local p
  for p in $(pgrep -x dockerd || true); do live_pid "$p" dockerd && return 0; done
  return 1
}

if ! command -v dockerd >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
  echo "ci: installing docker.io curl" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io curl ca-certificates >/dev/null
fi

if docker_ping; then
  echo "ci: dockerd already answering on $DOCKER_SOCK" >&2
else
  if ! dockerd_alive; then
    echo "ci: starting dockerd (log: $DOCKERD_LOG)" >&2
    # Stale pid files from a killed daemon. dockerd kills its containerd child on
    # exit (pdeathsig), but if containerd.pid names a not-yet-reaped zombie,
    # dockerd thinks "containerd is still running" and dies after ~15s with
    # "failed to start containerd: timeout waiting for containerd to start".
    rm -f /var/run/docker.pid
    cpid_file=/var/run/docker/containerd/containerd.pid
    if [[ -f $cpid_file ]] && ! live_pid "$(cat "$cpid_file" 2>/dev/null)" containerd; then
      rm -f "$cpid_file"
    fi
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    setsid nohup dockerd --iptables=false --bridge=none --storage-driver=vfs \
      >>"$DOCKERD_LOG" 2>&1 </dev/null &
  else
    echo "ci: dockerd process exists but not answering yet; waiting" >&2
  fi
  start=$SECONDS
  until docker_ping; do
    alive=no; dockerd_alive && alive=yes
    # (2s grace: right after spawning, the child may still be exec'ing)
    if ((SECONDS - start >= DOCKERD_WAIT)) || { [[ $alive == no ]] && ((SECONDS - start >= 2)); }; then
      echo "ci: FATAL: dockerd not answering on $DOCKER_SOCK after $((SECONDS - start))s" \
           "(process alive: $alive); last log lines:" >&2
      tail -n 50 "$DOCKERD_LOG" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
  echo "ci: dockerd answering (waited ~$((SECONDS - start))s)" >&2
fi
# -----------------------------------------------------------------------------
