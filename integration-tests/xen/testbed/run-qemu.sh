#!/usr/bin/env bash
# Watchdog around the nested-Xen QEMU:  run-qemu.sh OWNER_PID DEADLINE_SECONDS QEMU [ARGS...]
#
# The host JVM starts this under setsid, so QEMU and this script form one process group that the
# JVM can kill as a whole. This script exists for the cases where the JVM cannot clean up: if the
# owner (the JVM) dies, even by SIGKILL where no shutdown hook runs, or the hard deadline passes,
# QEMU is stopped here within a second. It also reaps QEMU itself (PID 1 here reaps orphans slowly).
set -euo pipefail

owner="$1"; deadline_s="$2"; shift 2
# Our stdout/stderr is a pipe to the JVM. When the JVM dies the pipe breaks, and a SIGPIPE on our next
# message would kill this script before it stops QEMU: ignore it, and never let a message fail us.
trap '' PIPE
say() { echo "run-qemu: $*" >&2 2>/dev/null || true; }
deadline=$(( $(date +%s) + deadline_s ))

"$@" &
qemu=$!

alive() {
  # A dead, unreaped QEMU still answers kill -0: look at its state instead.
  [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

stop_qemu() {
  local i
  kill -TERM "$qemu" 2>/dev/null || true
  for i in $(seq 50); do alive "$qemu" || break; sleep 0.1; done
  kill -KILL "$qemu" 2>/dev/null || true
  wait "$qemu" 2>/dev/null || true
}

trap 'say "signalled, stopping QEMU $qemu"; stop_qemu; exit 143' TERM INT HUP

while alive "$qemu"; do
  if ! kill -0 "$owner" 2>/dev/null; then
    say "owner process $owner is gone, stopping QEMU $qemu"
    stop_qemu; exit 137
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    say "hard deadline of ${deadline_s}s passed, stopping QEMU $qemu"
    stop_qemu; exit 124
  fi
  # Sleep in the background so a TERM is handled at once, not after the sleep.
  sleep 0.5 & wait $! || true
done
set +e
wait "$qemu"
exit $?
