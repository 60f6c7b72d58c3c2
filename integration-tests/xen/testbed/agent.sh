#!/bin/bash
# The testbed agent: runs as PID 1 of the nested dom0 (exec'd by the image's /init), from the job
# share that the host mounts at /run/testbed. It is not baked into the image, so changing it does not
# rebuild the cached image.
#
# Protocol (all files in the job share; the host writes, the agent answers):
#   boot.conf                  shell assignments: XENSTORED (path), SHARES ("tag:cache:/path ...":
#                              read-only 9p, each mounted at the same path as on the host, in order,
#                              with 9p cache mode 'loose' (immutable on the host) or 'none')
#   state/ready                written once xenstored and xenconsoled are up (content: dom0 uptime)
#   jobs/ID/command            a bash script; the host creates jobs/ID by rename, so it appears whole
#   jobs/ID/timeout            seconds before the agent kills the command (124 like timeout(1))
#   jobs/ID/stdout, stderr     the command's output, written as it runs
#   jobs/ID/exit               its exit status, written last (by rename) when it is done
#   shutdown                   when it appears, the agent powers dom0 (and so Xen and QEMU) off
# Console lines starting with XENOPS-TESTBED- are markers the host watches.
set -u
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
T=/run/testbed

say() { echo "XENOPS-TESTBED-$*"; }

power_off() {
  say "POWEROFF $*"
  sync
  # dom0 power-off makes Xen power the machine off through ACPI, so QEMU exits.
  busybox poweroff -f
  sleep 30
  echo o > /proc/sysrq-trigger
  sleep 1000000
}

fatal() {
  say "FATAL $*"
  echo "$*" > "$T/state/fatal.tmp" && mv "$T/state/fatal.tmp" "$T/state/fatal"
  power_off fatal
}

mkdir -p "$T/state"
XENSTORED=/usr/sbin/oxenstored
SHARES=""
# shellcheck disable=SC1091
[ -r "$T/boot.conf" ] && . "$T/boot.conf"

for share in $SHARES; do
  tag="${share%%:*}"; rest="${share#*:}"; cache="${rest%%:*}"; path="${rest#*:}"
  # A share inside an earlier one already has its mount point (read-only) there.
  [ -d "$path" ] || mkdir -p "$path"
  mount -t 9p -o "trans=virtio,version=9p2000.L,msize=524288,ro,cache=$cache" "$tag" "$path" \
    || fatal "cannot mount share $tag at $path"
done

# Debian's init script starts xenfs, xenstored (the one chosen here) and xenconsoled; xenconsoled
# logs each guest's console to /var/log/xen/console/guest-NAME.log for the tests to read.
mkdir -p /var/log/xen/console /var/lib/xen /run/xen
cat > /etc/default/xen <<EOF
XENSTORED=$XENSTORED
XENSTORED_ARGS=
XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"
EOF
say "XEN-START"
/etc/init.d/xen start > "$T/state/xen-start.log" 2>&1 || fatal "/etc/init.d/xen start failed: $(tail -n 5 "$T/state/xen-start.log")"
for _ in $(seq 100); do
  [ -S /run/xenstored/socket ] && xenstore-read domid >/dev/null 2>&1 && break
  sleep 0.1
done
[ -S /run/xenstored/socket ] || fatal "xenstored did not create /run/xenstored/socket"
xenstore-read domid >/dev/null 2>&1 || fatal "xenstore-read domid failed: xenstored does not answer"
pgrep -x xenconsoled >/dev/null || fatal "xenconsoled is not running"
xl info > "$T/state/xl-info.txt" 2>&1 || fatal "xl info failed: $(tail -n 5 "$T/state/xl-info.txt")"

read -r up _ < /proc/uptime
echo "$up" > "$T/state/ready.tmp" && mv "$T/state/ready.tmp" "$T/state/ready"
say "READY uptime=$up xenstored=$XENSTORED"

declare -A done_jobs=()
while :; do
  if [ -e "$T/shutdown" ]; then
    power_off requested
  fi
  ran=0
  for dir in "$T"/jobs/*/; do
    [ -f "${dir}command" ] || continue
    id="$(basename "$dir")"
    [ -n "${done_jobs[$id]:-}" ] && continue
    done_jobs[$id]=1
    ran=1
    secs=600
    [ -r "${dir}timeout" ] && read -r secs < "${dir}timeout"
    say "JOB-START $id"
    (cd "$dir" && exec timeout --kill-after=5 "$secs" bash ./command < /dev/null > stdout 2> stderr)
    rc=$?
    echo "$rc" > "${dir}exit.tmp" && mv "${dir}exit.tmp" "${dir}exit"
    say "JOB-END $id $rc"
  done
  # Orphans of finished jobs (e.g. daemons they left) are reaped by bash as they exit.
  [ "$ran" = 1 ] || sleep 0.1
done
