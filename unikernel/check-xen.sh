#!/usr/bin/env bash
# Boots the images under real Xen as PVH and PV domUs and drives the line protocol
# through the Xen console ring: input through xenconsoled's pty, output read from
# xenconsoled's log. Xen 4.17 runs nested in QEMU TCG from the integration-tests/xen
# testbed image (built or reused by that module's build-image.sh).
#
#   check-xen.sh [target-dir]
#
# Takes minutes (dom0 boots in 30 s to 3 min depending on host load), so check.sh runs
# it only when XENOPS_UNIKERNEL_XEN=1. Exits non-zero on any failure.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(cd "${1:-$here/target}" && pwd) || { echo "check-xen.sh: no target dir ${1:-}" >&2; exit 2; }
testbed=$here/../integration-tests/xen/testbed
deadline_s=${XENOPS_UNIKERNEL_XEN_TIMEOUT:-1200}

die() { echo "check-xen.sh: $*" >&2; exit 2; }
[[ -x $testbed/build-image.sh && -f $testbed/agent.sh ]] || die "testbed recipe not found in $testbed"
[[ -f $out/images/hello/kernel.elf && -f $out/test-images/crash/kernel.elf && -f $out/test-images/xenstore-probe/kernel.elf ]] || die "images missing under $out: run build.sh first"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"

image=$("$testbed/build-image.sh" | tail -n 1) || die "no testbed image (build-image.sh failed)"
[[ -f $image/xen && -f $image/vmlinuz && -f $image/initrd.cpio ]] || die "incomplete testbed image $image"

work=$(mktemp -d "${TMPDIR:-/tmp}/xenops-unikernel-xen.XXXXXX")
qemu_pid=
cleanup() {
    if [[ -n $qemu_pid ]]; then
        kill -KILL "$qemu_pid" 2>/dev/null
        wait "$qemu_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "check-xen.sh: interrupted" >&2; exit 130' INT TERM

share=$work/share
images=$work/images
mkdir -p "$share/jobs" "$share/state" "$images"
cp -r "$out/images/." "$out/test-images/." "$images/"
cp "$testbed/agent.sh" "$share/agent.sh"
printf 'XENSTORED=/usr/sbin/oxenstored\nSHARES="ro0:%s"\n' "$images" >"$share/boot.conf"

# The job runs as root in dom0 and prints "ok <what>" or "FAIL <what>" per check.
mkdir -p "$share/jobs/1.tmp"
cat >"$share/jobs/1.tmp/command" <<EOF
images=$images
EOF
cat >>"$share/jobs/1.tmp/command" <<'EOF'
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; }
log_of() { echo "/var/log/xen/console/guest-$1.log"; }

# Waits up to $3 seconds for a console line of domain $1 that matches the ERE $2.
wait_line() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qxE "$2" "$(log_of "$1")" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

state() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }
cpu_seconds() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $6 }'; }

wait_state() { # <name> <flag letter> <seconds>
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [[ $(state "$1") == *$2* ]] && return 0
        sleep 0.1
    done
    return 1
}

send() { printf '%s\n' "$2" >"$(xenstore-read "/local/domain/$(xl domid "$1")/console/tty")"; }

create() { # <name> <mode> <kernel> <cmdline>
    rm -f "$(log_of "$1")"
    cat >"/tmp/$1.cfg" <<CFG
name = "$1"
type = "$2"
kernel = "$3"
memory = $(sed -n 's/.*"memory_mib":\([0-9]*\).*/\1/p' "$(dirname "$3")/manifest.json")
vcpus = 1
cmdline = "$4"
on_poweroff = "preserve"
on_crash = "preserve"
CFG
    if xl create "/tmp/$1.cfg" >"/tmp/$1.create" 2>&1; then
        pass "$1: xl create ($(sed -n 's/^memory = //p' "/tmp/$1.cfg") MiB)"
    else
        fail "$1: xl create: $(tail -n 3 "/tmp/$1.create" | tr '\n' ' ')"
        return 1
    fi
}

expect() { # <name> <description> <line to send> <expected line>
    send "$1" "$3"
    if wait_line "$1" "$4" 20; then pass "$1: $2"; else fail "$1: $2: no line '$4' in $(tail -n 3 "$(log_of "$1")" | tr '\n' '|')"; fi
}

for mode in pvh pv; do
    name=hello-$mode
    if create "$name" "$mode" "$images/hello/kernel.elf" "xenops.id=vm-$mode"; then
        if wait_line "$name" "READY hello vm-$mode" 60; then pass "$name: READY hello vm-$mode"; else fail "$name: no READY: $(cat "$(log_of "$name")" | tr '\n' '|')"; fi
        expect "$name" "PING" "PING x1" "PONG x1"
        expect "$name" "ARGS" "ARGS x2 xen" "RESULT x2 hello, xen"
        expect "$name" "unknown command" "FROB" "ERR unknown-command FROB"
        sleep 1
        t0=$(cpu_seconds "$name")
        sleep 4
        t1=$(cpu_seconds "$name")
        if [[ $(state "$name") == *b* ]] && awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 0.5) }'; then
            pass "$name: idles blocked (state $(state "$name"), ${t0}s -> ${t1}s of CPU over 4 s)"
        else
            fail "$name: not idle: state $(state "$name"), ${t0}s -> ${t1}s of CPU over 4 s"
        fi
        send "$name" "EXIT 0"
        if wait_state "$name" s 30 && [[ $(state "$name") != *c* ]]; then
            pass "$name: EXIT 0 shuts down as poweroff (state $(state "$name"))"
        else
            fail "$name: after EXIT 0 state is '$(state "$name")'"
        fi
        xl destroy "$name" 2>/dev/null
    fi

    name=sha-$mode
    if create "$name" "$mode" "$images/sha256/kernel.elf" "xenops.id=vm-sha-$mode"; then
        wait_line "$name" "READY sha256 vm-sha-$mode" 60 && pass "$name: READY" || fail "$name: no READY"
        expect "$name" "sha256 abc" "ARGS s1 abc" "RESULT s1 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        xl destroy "$name" 2>/dev/null
    fi

    name=panic-$mode
    if create "$name" "$mode" "$images/crash/kernel.elf" "xenops.id=vm-panic-$mode"; then
        wait_line "$name" "READY crash vm-panic-$mode" 60 && pass "$name: READY" || fail "$name: no READY"
        expect "$name" "PANIC line" "ARGS c1 panic" "PANIC crash app asked to panic at apps/crash/src/main.rs:[0-9]+"
        if wait_state "$name" c 30; then pass "$name: shuts down as crashed (state $(state "$name"))"; else fail "$name: state '$(state "$name")' after PANIC"; fi
        xl destroy "$name" 2>/dev/null
    fi
done

# The runtime's XenStore client, through its test fixture: read, write (checked from
# dom0), a watch's initial event, and an event caused by a dom0 write.
for mode in pvh pv; do
    name=xs-$mode
    if create "$name" "$mode" "$images/xenstore-probe/kernel.elf" "xenops.id=vm-xs-$mode"; then
        wait_line "$name" "READY xenstore-probe vm-xs-$mode" 60 && pass "$name: READY" || fail "$name: no READY"
        expect "$name" "read name" "ARGS r1 read name" "RESULT r1 $name"
        expect "$name" "read of a missing key" "ARGS r2 read data/missing" "RESULT r2 ERROR ENOENT"
        expect "$name" "write" "ARGS w1 write data/probe hello-xs" "RESULT w1 OK"
        domid=$(xl domid "$name")
        value=$(xenstore-read "/local/domain/$domid/data/probe" 2>&1)
        [[ $value == hello-xs ]] && pass "$name: dom0 reads what the guest wrote" || fail "$name: dom0 read '$value'"
        expect "$name" "watch fires at once" "ARGS w2 watch data/cmd" "RESULT w2 EVENT data/cmd"
        send "$name" "ARGS w3 wait"
        sleep 2
        xenstore-write "/local/domain/$domid/data/cmd" go
        if wait_line "$name" "RESULT w3 EVENT data/cmd" 20; then
            pass "$name: watch fires on a dom0 write"
        else
            fail "$name: no event after a dom0 write: $(tail -n 2 "$(log_of "$name")" | tr '\n' '|')"
        fi
        expect "$name" "console still served after XenStore waits" "PING x9" "PONG x9"
        xl destroy "$name" 2>/dev/null
    fi
done

# CPU exceptions reach the runtime's IDT only under PVH; a PV guest has no trap table
# and Xen crashes it directly.
name=fault-pvh
if create "$name" pvh "$images/crash/kernel.elf" "xenops.id=vm-fault"; then
    wait_line "$name" "READY crash vm-fault" 60 && pass "$name: READY" || fail "$name: no READY"
    expect "$name" "PANIC on a page fault" "ARGS c2 fault" "PANIC cpu exception page-fault .* address 0x0000001000000000"
    if wait_state "$name" c 30; then pass "$name: shuts down as crashed"; else fail "$name: state '$(state "$name")' after fault"; fi
    xl destroy "$name" 2>/dev/null
fi
name=fault-pv
if create "$name" pv "$images/crash/kernel.elf" "xenops.id=vm-fault-pv"; then
    wait_line "$name" "READY crash vm-fault-pv" 60 && pass "$name: READY" || fail "$name: no READY"
    send "$name" "ARGS c2 fault"
    if wait_state "$name" c 30; then pass "$name: page fault crashes the domain"; else fail "$name: state '$(state "$name")' after fault"; fi
    xl destroy "$name" 2>/dev/null
fi
EOF
echo 900 >"$share/jobs/1.tmp/timeout"
mv "$share/jobs/1.tmp" "$share/jobs/1"

echo "unikernel Xen checks: booting nested Xen 4.17 from $image (QEMU TCG, this takes minutes)"
started=$(date +%s)
# The same machine as integration-tests/xen (NestedXen.qemuCommand).
qemu-system-x86_64 -accel tcg,thread=multi -M pc -cpu qemu64,+svm,+npt -m 2048M -smp 2 \
    -nodefaults -no-user-config -nic none -display none -monitor none -serial stdio -no-reboot \
    -kernel "$image/xen" \
    -append "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M bootscrub=0 loglvl=all guest_loglvl=all" \
    -initrd "$image/vmlinuz console=hvc0 earlyprintk=xen rdinit=/init,$image/initrd.cpio" \
    -virtfs "local,path=$share,mount_tag=xenops-job,security_model=none,id=job" \
    -virtfs "local,path=$images,mount_tag=ro0,security_model=none,readonly=on,id=ro0" \
    </dev/null >"$work/console.log" 2>&1 &
qemu_pid=$!

status=
while :; do
    if [[ -f $share/jobs/1/exit ]]; then
        status=$(<"$share/jobs/1/exit")
        break
    fi
    if ! kill -0 "$qemu_pid" 2>/dev/null || [[ -f $share/state/fatal ]]; then
        echo "check-xen.sh: the testbed died before the job finished:" >&2
        tail -n 20 "$work/console.log" >&2
        exit 1
    fi
    if (($(date +%s) - started > deadline_s)); then
        echo "check-xen.sh: no result after ${deadline_s}s; console tail:" >&2
        tail -n 20 "$work/console.log" >&2
        exit 1
    fi
    sleep 2
done
touch "$share/shutdown"
for _ in $(seq 60); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 1; done

cat "$share/jobs/1/stdout"
passed=$(grep -c '^ok ' "$share/jobs/1/stdout")
failed=$(grep -c '^FAIL ' "$share/jobs/1/stdout")
if [[ $status != 0 ]]; then
    echo "  FAIL  the dom0 job exited with status $status: $(tail -n 5 "$share/jobs/1/stderr" | tr '\n' ' ')" >&2
    failed=$((failed + 1))
fi
echo "unikernel Xen checks: $passed passed, $failed failed ($(($(date +%s) - started)) s)"
((failed == 0))
