#!/usr/bin/env bash
# Checks the images build.sh packed into <target-dir>: ELF notes for every boot mode,
# no SSE/AVX/MMX/x87 instruction anywhere, and real boots under QEMU driven through
# the line protocol over the serial console (and QMP for pause/resume).
# Uses bash, coreutils, binutils and QEMU only. Exits non-zero on any failure.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(cd "${1:-$here/target}" && pwd) || { echo "check.sh: no target dir ${1:-}" >&2; exit 2; }
# shellcheck source=scripts/elf.sh
source "$here/scripts/elf.sh"

# The machine every xenops QEMU guest runs on; the QEMU driver must use the same.
MACHINE=microvm,acpi=off,pit=off,pic=off,rtc=off,x-option-roms=off
# kvm-pvm hosts refuse to set IA32_ARCH_CAPABILITIES for `-cpu host` (QEMU aborts
# with "failed to set MSR 0x10a"); hiding the feature costs nothing elsewhere.
KVM_CPU=host,-arch-capabilities
TCG_CPU=max

die() { echo "check.sh: $*" >&2; exit 2; }
for tool in qemu-system-x86_64 readelf objdump nm od as mkfifo; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -d $out/images ]] || die "$out/images missing: run build.sh first"

passed=0
failed=0
pass() { passed=$((passed + 1)); printf '  ok    %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$*" >&2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/xenops-unikernel-check.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "check.sh: interrupted" >&2; exit 130' INT TERM

# Sleeping without forking: `read -t` on a FIFO that nobody ever writes to.
mkfifo "$work/tick"
exec {TICK}<>"$work/tick"
nap() { read -r -t "$1" -u "$TICK" _ 2>/dev/null; true; }
now_us() { local t=${EPOCHREALTIME//[.,]/}; echo $((10#$t)); }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# ---------------------------------------------------------------------------
# One QEMU guest at a time: console and QMP over FIFO pairs (QEMU's pipe chardev
# opens <path>.in and <path>.out read-write, so neither side blocks on open).

TIMEOUT=5
VM_PID=
VM_EXTRA=()
vm_start() { # <name> <kernel> <accel> <memory-mib> [kernel command line]
    local name=$1 kernel=$2 accel=$3 memory=$4 append=${5-} cpu=$TCG_CPU
    [[ $accel == kvm ]] && cpu=$KVM_CPU
    VM_DIR=$work/$name
    mkdir -p "$VM_DIR"
    mkfifo "$VM_DIR/con.in" "$VM_DIR/con.out" "$VM_DIR/qmp.in" "$VM_DIR/qmp.out"
    local args=(-M "$MACHINE" -no-reboot -nodefaults -nographic -nic none -m "$memory"
        -accel "$accel" -cpu "$cpu" -kernel "$kernel"
        -chardev "pipe,id=con,path=$VM_DIR/con" -serial chardev:con
        -chardev "pipe,id=qmp,path=$VM_DIR/qmp" -mon chardev=qmp,mode=control)
    [[ -n $append ]] && args+=(-append "$append")
    args+=("${VM_EXTRA[@]}")
    exec {CON_W}<>"$VM_DIR/con.in" {CON_R}<>"$VM_DIR/con.out" {QMP_W}<>"$VM_DIR/qmp.in" {QMP_R}<>"$VM_DIR/qmp.out"
    VM_T0=$(now_us)
    qemu-system-x86_64 "${args[@]}" </dev/null >"$VM_DIR/qemu.log" 2>&1 &
    VM_PID=$!
    PIDS+=("$VM_PID")
}

vm_exited() {
    local state
    state=$(awk '{ print $3 }' "/proc/$VM_PID/stat" 2>/dev/null)
    [[ -z $state || $state == Z ]]
}

# Waits up to $1 seconds for QEMU to exit; sets VM_STATUS.
vm_wait_exit() {
    local deadline=$(($(now_us) + $1 * 1000000))
    while ! vm_exited; do
        (($(now_us) > deadline)) && return 1
        nap 0.02
    done
    wait "$VM_PID"
    VM_STATUS=$?
}

vm_stop() {
    kill -KILL "$VM_PID" 2>/dev/null
    wait "$VM_PID" 2>/dev/null
    exec {CON_W}>&- {CON_R}<&- {QMP_W}>&- {QMP_R}<&-
}

vm_diagnose() {
    echo "    --- qemu output ($VM_DIR/qemu.log):" >&2
    sed 's/^/    | /' "$VM_DIR/qemu.log" | head -20 >&2
}

send() { printf '%s\n' "$1" >&"$CON_W"; }

# Next console line into LINE (without \r); false on timeout.
con_line() {
    IFS= read -r -t "${1:-$TIMEOUT}" -u "$CON_R" LINE || return 1
    LINE=${LINE%$'\r'}
}

expect() { # <description> <exact line>
    if ! con_line; then
        fail "$1: expected '${2:0:80}', got nothing in ${TIMEOUT}s"
    elif [[ $LINE == "$2" ]]; then
        pass "$1"
    else
        fail "$1: expected '${2:0:80}', got '${LINE:0:80}'"
    fi
}

expect_prefix() { # <description> <line prefix>
    if ! con_line; then
        fail "$1: expected '$2...', got nothing in ${TIMEOUT}s"
    elif [[ $LINE == "$2"* ]]; then
        pass "$1"
    else
        fail "$1: expected '$2...', got '${LINE:0:80}'"
    fi
}

# Skips banner lines up to READY; sets READY_LINE and BOOT_US (process start to READY).
wait_ready() {
    READY_LINE=
    while con_line; do
        if [[ $LINE == READY* ]]; then
            BOOT_US=$(($(now_us) - VM_T0))
            READY_LINE=$LINE
            return 0
        fi
    done
    return 1
}

qmp_line() { IFS= read -r -t "$TIMEOUT" -u "$QMP_R" QLINE; }
qmp() { # <json command>; true when QEMU answers with "return"
    printf '%s\n' "$1" >&"$QMP_W"
    while qmp_line; do
        [[ $QLINE == *'"return"'* ]] && return 0
        [[ $QLINE == *'"error"'* ]] && return 1
    done
    return 1
}
qmp_init() { qmp_line && [[ $QLINE == *QMP* ]] && qmp '{"execute":"qmp_capabilities"}'; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$VM_PID/stat"; }

manifest_memory() { sed -n 's/.*"memory_mib":\([0-9]*\).*/\1/p' "$1/manifest.json"; }

# ---------------------------------------------------------------------------
echo "unikernel checks: static (ELF notes, instruction set)"

# The detector itself must see what it is meant to forbid.
printf 'xorps %%xmm0, %%xmm0\nfld1\nfxsave (%%rax)\nldmxcsr (%%rax)\npaddb %%mm1, %%mm0\n' |
    as --64 -o "$work/vector-control.o" - 2>/dev/null
control=$(objdump -d --no-show-raw-insn -M att "$work/vector-control.o" | vector_filter | wc -l)
if [[ $control == 5 ]]; then
    pass "vector-instruction detector flags xorps, fld1, fxsave, ldmxcsr, paddb"
else
    fail "vector-instruction detector found $control of 5 known vector instructions"
fi

image_dirs=()
for dir in "$out"/images/* "$out"/test-images/*; do
    [[ -f $dir/kernel.elf ]] && image_dirs+=("$dir")
done
((${#image_dirs[@]} >= 2)) || die "no images under $out/images"

static_checks() { # <image dir>
    local dir=$1 name elf
    name=$(basename "$dir")
    elf=$dir/kernel.elf
    local header
    header=$(readelf -hW "$elf")
    if [[ $header == *"Class:"*ELF64* && $header == *"Machine:"*"X86-64"* && $header == *"Type:"*EXEC* ]]; then
        pass "$name: static x86-64 ELF64 executable"
    else
        fail "$name: not an x86-64 ELF64 EXEC file"
    fi

    local note_align
    note_align=$(readelf -lW "$elf" | awk '$1 == "NOTE" { print $NF }')
    [[ $note_align == 0x4 ]] && pass "$name: PT_NOTE p_align 4 (QEMU 7.2)" || fail "$name: PT_NOTE p_align is '$note_align', want 0x4"

    local mismatched
    mismatched=$(readelf -lW "$elf" | awk '$1 == "LOAD" && $3 != $4 { print $3 }')
    [[ -z $mismatched ]] && pass "$name: PT_LOAD virtual = physical" || fail "$name: PT_LOAD with vaddr != paddr at $mismatched"

    local sym_pvh sym_pv sym_hc entry
    sym_pvh=$(nm "$elf" | awk '$3 == "_pvh_start" { print "0x" $1 }')
    sym_pv=$(nm "$elf" | awk '$3 == "_pv_start" { print "0x" $1 }')
    sym_hc=$(nm "$elf" | awk '$3 == "hypercall_page" { print "0x" $1 }')
    entry=$(readelf -hW "$elf" | awk '/Entry point/ { print $NF }')

    local v
    v=$(xen_note "$elf" $XEN_NOTE_PHYS32_ENTRY)
    if [[ -n $v && $(xen_note_size "$elf" $XEN_NOTE_PHYS32_ENTRY) == 8 && $((v)) == $((sym_pvh)) && $((v)) -lt $((1 << 32)) ]]; then
        pass "$name: PHYS32_ENTRY = _pvh_start ($v), 8-byte descriptor"
    else
        fail "$name: PHYS32_ENTRY '$v' (size $(xen_note_size "$elf" $XEN_NOTE_PHYS32_ENTRY)) is not _pvh_start $sym_pvh as 8 bytes"
    fi
    v=$(xen_note "$elf" $XEN_NOTE_ENTRY)
    [[ -n $v && $((v)) == $((sym_pv)) && $((entry)) == $((sym_pv)) ]] &&
        pass "$name: ENTRY = e_entry = _pv_start ($v)" ||
        fail "$name: ENTRY '$v' / e_entry $entry are not _pv_start $sym_pv"
    v=$(xen_note "$elf" $XEN_NOTE_HYPERCALL_PAGE)
    [[ -n $v && $((v)) == $((sym_hc)) && $((v % 4096)) == 0 ]] &&
        pass "$name: HYPERCALL_PAGE = hypercall_page ($v), page-aligned" ||
        fail "$name: HYPERCALL_PAGE '$v' is not the page-aligned hypercall_page $sym_hc"
    [[ $(xen_note "$elf" $XEN_NOTE_VIRT_BASE) == 0x0 && $(xen_note "$elf" $XEN_NOTE_PADDR_OFFSET) == 0x0 ]] &&
        pass "$name: VIRT_BASE = PADDR_OFFSET = 0" ||
        fail "$name: VIRT_BASE '$(xen_note "$elf" $XEN_NOTE_VIRT_BASE)' PADDR_OFFSET '$(xen_note "$elf" $XEN_NOTE_PADDR_OFFSET)', want 0x0"
    [[ $(xen_note "$elf" $XEN_NOTE_XEN_VERSION) == xen-3.0 ]] && pass "$name: XEN_VERSION xen-3.0" || fail "$name: XEN_VERSION '$(xen_note "$elf" $XEN_NOTE_XEN_VERSION)'"
    [[ $(xen_note "$elf" $XEN_NOTE_LOADER) == generic ]] && pass "$name: LOADER generic" || fail "$name: LOADER '$(xen_note "$elf" $XEN_NOTE_LOADER)'"
    [[ -n $(xen_note "$elf" $XEN_NOTE_GUEST_OS) ]] && pass "$name: GUEST_OS '$(xen_note "$elf" $XEN_NOTE_GUEST_OS)'" || fail "$name: GUEST_OS missing"
    [[ $(xen_note "$elf" $XEN_NOTE_FEATURES) == *'!writable_page_tables'* ]] && pass "$name: FEATURES !writable_page_tables" || fail "$name: FEATURES '$(xen_note "$elf" $XEN_NOTE_FEATURES)'"

    local vec
    vec=$(vector_instructions "$elf")
    if [[ -z $vec ]]; then
        pass "$name: no SSE/AVX/MMX/x87 instruction ($(objdump -d "$elf" | grep -c $'^ *[0-9a-f]*:\t') instructions scanned)"
    else
        fail "$name: vector or x87 instructions present:"
        sed 's/^/    /' <<<"$vec" | head -10 >&2
    fi

    local manifest=$dir/manifest.json want
    want="\\{\"name\":\"$name\",\"version\":\"[^\"]*\",\"memory_mib\":[0-9]+,\"vcpus\":1,\"boot_modes\":\\[\"pvh\",\"pv\"\\],\"cmdline\":\"\",\"readiness\":\"console\"\\}"
    [[ -f $manifest && $(<"$manifest") =~ ^$want$ ]] && pass "$name: manifest.json $(<"$manifest")" || fail "$name: manifest.json '$(cat "$manifest" 2>/dev/null)' does not match $want"
}

for dir in "${image_dirs[@]}"; do
    static_checks "$dir"
done

# ---------------------------------------------------------------------------
# kvm when this host can run the machine at all, else TCG. The probe starts QEMU
# paused (-S), so no guest code runs: a kernel bug must fail the checks below, not
# silently move them to TCG.
accel=tcg
if [[ -r /dev/kvm && -w /dev/kvm ]]; then
    VM_EXTRA=(-S)
    vm_start kvm-probe "$out/images/hello/kernel.elf" kvm 4
    VM_EXTRA=()
    nap 0.3
    if vm_exited; then
        echo "  note  kvm unusable here, using tcg: $(head -1 "$VM_DIR/qemu.log")"
    else
        accel=kvm
    fi
    vm_stop
fi
[[ $accel == kvm ]] && TIMEOUT=5 || TIMEOUT=30

hello=$out/images/hello
sha=$out/images/sha256
crash=$out/test-images/crash
boot_times=()
resume_times=()
ping_times=()

echo "unikernel checks: hello under QEMU ($accel)"
vm_start hello "$hello/kernel.elf" "$accel" "$(manifest_memory "$hello")" "console=none xenops.id=vm-0123456789ab quiet"
if ! qmp_init; then
    fail "hello: QMP greeting and qmp_capabilities"
fi
if wait_ready && [[ $READY_LINE == "READY hello vm-0123456789ab" ]]; then
    pass "hello: '$READY_LINE' after $((BOOT_US / 1000)) ms"
    boot_times+=("$BOOT_US")
else
    fail "hello: no 'READY hello vm-0123456789ab' (last line '${LINE:-}')"
    vm_diagnose
fi
send "PING t1";                  expect "hello: PING" "PONG t1"
send "ARGS t2 world";            expect "hello: ARGS world" "RESULT t2 hello, world"
send "ARGS t3";                  expect "hello: ARGS without payload" "RESULT t3 hello, world"
send "ARGS t3b ";                expect "hello: ARGS with empty payload" "RESULT t3b hello, world"
send "ARGS t4 a  b c ";          expect "hello: payload spaces kept" "RESULT t4 hello, a  b c "
payload=$(printf 'x%.0s' {1..900})
send "ARGS t5 $payload";         expect "hello: 900-byte payload" "RESULT t5 hello, $payload"
send "PING t6"$'\r';             expect "hello: CRLF line" "PONG t6"
send "PING";                     expect "hello: PING without token" "ERR bad-token"
send "PING bad/token";           expect "hello: token charset" "ERR bad-token"
send "PING $(printf 'k%.0s' {1..65})"; expect "hello: 65-byte token" "ERR bad-token"
send "ARGS";                     expect "hello: ARGS without token" "ERR bad-token"
send "FROB x";                   expect "hello: unknown command" "ERR unknown-command FROB"
send "";                         expect "hello: empty line" "ERR empty-line"
send "EXIT 256";                 expect "hello: EXIT 256" "ERR bad-exit-code"
send "EXIT -1";                  expect "hello: EXIT -1" "ERR bad-exit-code"
long=$(printf 'y%.0s' {1..1100})
send "ARGS t7 $long";            expect "hello: 1108-byte line" "ERR line-too-long"
send "PING t8";                  expect "hello: rest of the long line discarded" "PONG t8"
exact=$(printf 'z%.0s' {1..1016})
send "ARGS t9 $exact";           expect "hello: 1024-byte line accepted, result over the limit" "ERR result-too-long"
send "PING t10";                 expect "hello: still serving" "PONG t10"

# Pipelined commands of every length up to 70: input arrives in UART-FIFO-sized
# pieces while earlier lines are being answered; nothing may be lost or reordered.
pipelined=0
for len in $(seq 0 70); do
    printf 'ARGS p%d %s\n' "$len" "$(printf "%${len}s" "" | tr ' ' 'w')" >&"$CON_W"
done
for len in $(seq 0 70); do
    payload=$(printf "%${len}s" "" | tr ' ' 'w')
    [[ -z $payload ]] && payload=world
    con_line && [[ $LINE == "RESULT p$len hello, $payload" ]] && pipelined=$((pipelined + 1))
done
((pipelined == 71)) && pass "hello: 71 pipelined ARGS lines answered in order" || fail "hello: $pipelined of 71 pipelined ARGS lines answered correctly"

# Round trip of a PING to a running guest, for the record.
for i in 1 2 3 4 5 6 7; do
    t0=$(now_us)
    send "PING s$i"
    if con_line && [[ $LINE == "PONG s$i" ]]; then
        ping_times+=($(($(now_us) - t0)))
    else
        fail "hello: PONG s$i, got '${LINE:-}'"
    fi
done

# An idle guest must sleep in hlt: a polling one would burn a whole host CPU.
ticks0=$(cpu_ticks)
nap 2
ticks1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
idle_ms=$(((ticks1 - ticks0) * 1000 / hz))
if ((idle_ms <= 100)); then
    pass "hello: idle guest used ${idle_ms} ms of host CPU in 2 s"
else
    fail "hello: idle guest used ${idle_ms} ms of host CPU in 2 s (busy-waiting?)"
fi

if qmp '{"execute":"stop"}'; then
    send "PING t11"
    if con_line 0.3; then
        fail "hello: answered '$LINE' while stopped"
    else
        pass "hello: no answer while stopped"
    fi
    qmp '{"execute":"cont"}'
    expect "hello: PING queued while stopped answered after cont" "PONG t11"
    for i in 1 2 3 4 5 6 7; do
        qmp '{"execute":"stop"}'
        nap 0.05
        t0=$(now_us)
        qmp '{"execute":"cont"}'
        send "PING r$i"
        if con_line && [[ $LINE == "PONG r$i" ]]; then
            resume_times+=($(($(now_us) - t0)))
        else
            fail "hello: PONG r$i after cont, got '${LINE:-}'"
        fi
    done
    ((${#resume_times[@]} == 7)) && pass "hello: cont + PING -> PONG, median $(median "${resume_times[@]}") us over 7"
else
    fail "hello: QMP stop"
fi

send "EXIT 0"
if vm_wait_exit 10; then
    [[ $VM_STATUS == 0 ]] && pass "hello: EXIT 0 ends QEMU (status 0)" || fail "hello: QEMU exit status $VM_STATUS after EXIT 0"
else
    fail "hello: QEMU still running 10 s after EXIT 0"
    vm_diagnose
fi
vm_stop

echo "unikernel checks: boot nonce, sha256, failure paths ($accel)"
vm_start hello-nonce "$hello/kernel.elf" "$accel" "$(manifest_memory "$hello")"
if wait_ready && [[ $READY_LINE =~ ^READY\ hello\ [0-9a-f]{16}$ ]]; then
    pass "hello without xenops.id: '$READY_LINE' (rdtsc nonce)"
    boot_times+=("$BOOT_US")
else
    fail "hello without xenops.id: got '${READY_LINE:-${LINE:-}}'"
fi
send "EXIT 7"
vm_wait_exit 10 && pass "hello: EXIT 7 ends QEMU" || fail "hello: QEMU still running after EXIT 7"
vm_stop

vm_start sha256 "$sha/kernel.elf" "$accel" "$(manifest_memory "$sha")" "xenops.id=vm-5ha"
if wait_ready && [[ $READY_LINE == "READY sha256 vm-5ha" ]]; then
    pass "sha256: '$READY_LINE' after $((BOOT_US / 1000)) ms"
    boot_times+=("$BOOT_US")
else
    fail "sha256: no 'READY sha256 vm-5ha' (got '${READY_LINE:-${LINE:-}}')"
    vm_diagnose
fi
send "ARGS s1 abc"; expect "sha256: abc (FIPS 180-2 B.1)" "RESULT s1 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
send "ARGS s2";     expect "sha256: empty payload" "RESULT s2 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
send "ARGS s3 abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
expect "sha256: 448-bit message (FIPS 180-2 B.2)" "RESULT s3 248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
i=0
for len in 1 55 56 63 64 65 119 120 128 900; do
    i=$((i + 1))
    payload=$(printf "%${len}s" "" | tr ' ' q)
    ((len > 2)) && payload="${payload:0:len / 2} ${payload:len / 2 + 1}"
    sum=$(printf '%s' "$payload" | sha256sum | cut -d' ' -f1)
    send "ARGS L$i $payload"
    expect "sha256: $len-byte payload matches sha256sum" "RESULT L$i $sum"
done
send "EXIT 0"
vm_wait_exit 10 && pass "sha256: EXIT 0 ends QEMU" || fail "sha256: QEMU still running after EXIT 0"
vm_stop

if [[ -f $crash/kernel.elf ]]; then
    vm_start crash-panic "$crash/kernel.elf" "$accel" "$(manifest_memory "$crash")" "xenops.id=c1"
    wait_ready || fail "crash: no READY"
    send "ARGS c1 still-alive"; expect "crash fixture: echoes" "RESULT c1 still-alive"
    send "ARGS c2 panic"; expect "crash: Rust panic prints PANIC" "PANIC crash app asked to panic at apps/crash/src/main.rs:14"
    vm_wait_exit 10 && pass "crash: QEMU exits after PANIC" || fail "crash: QEMU still running after PANIC"
    vm_stop

    vm_start crash-fault "$crash/kernel.elf" "$accel" "$(manifest_memory "$crash")" "xenops.id=c2"
    wait_ready || fail "crash: no READY"
    send "ARGS c3 fault"
    expect_prefix "crash: page fault prints PANIC" "PANIC cpu exception page-fault error 0x0000 rip 0x"
    [[ ${LINE:-} == *" address 0x0000001000000000" ]] && pass "crash: fault address reported" || fail "crash: fault address missing in '${LINE:-}'"
    vm_wait_exit 10 && pass "crash: QEMU exits after a CPU exception" || fail "crash: QEMU still running after a CPU exception"
    vm_stop
else
    fail "crash test fixture missing under $out/test-images"
fi

probe=$out/test-images/xenstore-probe
if [[ -f $probe/kernel.elf ]]; then
    vm_start xs-probe "$probe/kernel.elf" "$accel" "$(manifest_memory "$probe")" "xenops.id=xs"
    wait_ready || fail "xenstore-probe: no READY"
    send "ARGS x1 read name"; expect "xenstore-probe: no XenStore under QEMU" "RESULT x1 NO-XENSTORE"
    send "EXIT 0"
    vm_wait_exit 10 || fail "xenstore-probe: QEMU still running after EXIT 0"
    vm_stop
else
    fail "xenstore-probe test fixture missing under $out/test-images"
fi

# The exact flags the QEMU driver starts guests with: unix socket console with a
# log file, nobody connected. READY must land in the log.
echo "unikernel checks: driver flags (socket chardev + logfile, $accel)"
VM_DIR=$work/driver
mkdir -p "$VM_DIR"
cpu=$TCG_CPU
[[ $accel == kvm ]] && cpu=$KVM_CPU
t0=$(now_us)
qemu-system-x86_64 -M "$MACHINE" -no-reboot -nodefaults -nographic -nic none -m "$(manifest_memory "$hello")" \
    -accel "$accel" -cpu "$cpu" -kernel "$hello/kernel.elf" -append "xenops.id=vm-0123456789ab" \
    -chardev "socket,id=con,path=$VM_DIR/x.sock,server=on,wait=off,logfile=$VM_DIR/x.log" -serial chardev:con \
    </dev/null >"$VM_DIR/qemu.log" 2>&1 &
VM_PID=$!
PIDS+=("$VM_PID")
deadline=$((t0 + TIMEOUT * 1000000))
until grep -qx 'READY hello vm-0123456789ab' "$VM_DIR/x.log" 2>/dev/null || (($(now_us) > deadline)) || vm_exited; do
    nap 0.001
done
if grep -qx 'READY hello vm-0123456789ab' "$VM_DIR/x.log" 2>/dev/null; then
    pass "driver flags: READY in the console log after $((($(now_us) - t0) / 1000)) ms"
else
    fail "driver flags: no READY in $VM_DIR/x.log"
    vm_diagnose
fi
kill -KILL "$VM_PID" 2>/dev/null
wait "$VM_PID" 2>/dev/null

# More cold boots for the boot-time figure (process start to READY).
for i in $(seq "${XENOPS_UNIKERNEL_BOOTS:-2}"); do
    vm_start "boot-$i" "$hello/kernel.elf" "$accel" "$(manifest_memory "$hello")" "xenops.id=boot-$i"
    if wait_ready && [[ $READY_LINE == "READY hello boot-$i" ]]; then
        boot_times+=("$BOOT_US")
        send "EXIT 0"
        vm_wait_exit 10 || fail "boot-$i: QEMU still running after EXIT 0"
    else
        fail "boot-$i: no READY (got '${READY_LINE:-${LINE:-}}')"
    fi
    vm_stop
done
# The same boot split in two: QEMU's own start-up (to the QMP greeting, -S so no
# guest code runs) and the guest's (cont to READY).
VM_EXTRA=(-S)
vm_start boot-split "$hello/kernel.elf" "$accel" "$(manifest_memory "$hello")" "xenops.id=boot-split"
VM_EXTRA=()
if qmp_line && [[ $QLINE == *QMP* ]]; then
    greeting_us=$(($(now_us) - VM_T0))
    qmp '{"execute":"qmp_capabilities"}'
    t0=$(now_us)
    qmp '{"execute":"cont"}'
    if wait_ready && [[ $READY_LINE == "READY hello boot-split" ]]; then
        pass "boot split: QEMU start to QMP greeting $((greeting_us / 1000)) ms, cont to READY $((($(now_us) - t0) / 1000)) ms"
    else
        fail "boot split: no READY after cont"
    fi
else
    fail "boot split: no QMP greeting"
fi
vm_stop

((${#boot_times[@]} > 0)) && pass "cold boots to READY: $(printf '%s ' "${boot_times[@]}" | awk '{ for (i = 1; i <= NF; i++) printf "%d ", $i / 1000 }')ms"

if [[ $accel == kvm ]]; then
    echo "unikernel checks: hello under QEMU TCG (-accel tcg -cpu max)"
    TIMEOUT=30
    vm_start hello-tcg "$hello/kernel.elf" tcg "$(manifest_memory "$hello")" "xenops.id=vm-tcg"
    if wait_ready && [[ $READY_LINE == "READY hello vm-tcg" ]]; then
        pass "tcg: '$READY_LINE' after $((BOOT_US / 1000)) ms"
    else
        fail "tcg: no READY (got '${READY_LINE:-${LINE:-}}')"
        vm_diagnose
    fi
    send "PING g1";          expect "tcg: PING" "PONG g1"
    send "ARGS g2 tcg";      expect "tcg: ARGS" "RESULT g2 hello, tcg"
    send "EXIT 0"
    vm_wait_exit 30 && pass "tcg: EXIT 0 ends QEMU" || fail "tcg: QEMU still running after EXIT 0"
    vm_stop
fi

if [[ ${XENOPS_UNIKERNEL_XEN:-0} == 1 ]]; then
    echo "unikernel checks: Xen PVH and PV (check-xen.sh)"
    if "$here/check-xen.sh" "$out"; then
        pass "Xen PVH and PV: check-xen.sh"
    else
        fail "Xen PVH and PV: check-xen.sh failed (output above)"
    fi
else
    echo "  note  Xen PVH/PV boots not run: XENOPS_UNIKERNEL_XEN=1 runs check-xen.sh (nested Xen, minutes)"
fi

echo "unikernel measurements ($accel): cold boot to READY median $(($(median "${boot_times[@]:-0}") / 1000)) ms" \
    "over ${#boot_times[@]}; PING -> PONG median $(median "${ping_times[@]:-0}") us over ${#ping_times[@]};" \
    "cont + PING -> PONG median $(median "${resume_times[@]:-0}") us over ${#resume_times[@]}"
echo "unikernel checks: $passed passed, $failed failed"
((failed == 0))
