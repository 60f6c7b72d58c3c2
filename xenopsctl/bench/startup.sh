#!/usr/bin/env bash
# Measures xenopsctl's start-up: median wall and CPU time of N runs of each command, through the
# launcher, with and without its CDS archive, against a WireMock stand-in for xenopsd.
#   xenopsctl/bench/startup.sh [N]        (build first: mvn -pl xenopsctl package)
# Needs the wiremock-standalone jar in ~/.m2 (any xenopsctl test run downloads it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ctl="$here/../bin/xenopsctl"
n="${1:-15}"
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
wiremock="$(ls ~/.m2/repository/org/wiremock/wiremock-standalone/*/wiremock-standalone-*.jar | sort -V | tail -1)"

work="$(mktemp -d)"
trap 'kill "$wm_pid" 2>/dev/null || true; wait "$wm_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/mappings"
cat > "$work/mappings/api.json" <<'JSON'
{"mappings":[
 {"request":{"method":"GET","url":"/v1/vms"},"response":{"status":200,"headers":{"Content-Type":"application/json"},
  "body":"{\"vms\":[{\"id\":\"vm-3f9c2a7b1d04\",\"image\":\"hello\",\"state\":\"running\",\"created_at\":\"2026-11-26T23:22:01Z\",\"timings\":{\"path\":\"warm\",\"resumed_us\":412,\"ready_us\":2301}}]}"}},
 {"request":{"method":"POST","url":"/v1/vms"},"response":{"status":201,"headers":{"Content-Type":"application/json"},
  "body":"{\"id\":\"vm-3f9c2a7b1d04\",\"image\":\"hello\",\"state\":\"running\",\"created_at\":\"2026-11-26T23:22:01Z\",\"timings\":{\"path\":\"warm\",\"resumed_us\":412,\"ready_us\":2301}}"}}
]}
JSON
port=$(( 20000 + RANDOM % 20000 ))
"$java" -jar "$wiremock" --port "$port" --bind-address 127.0.0.1 --root-dir "$work" --disable-banner \
  >"$work/wiremock.log" 2>&1 &
wm_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v1/vms" >/dev/null 2>&1 && break; sleep 0.2; done
export XENOPS_URL="http://127.0.0.1:$port"

# median of N runs: "wall_ms cpu_ms"
measure() {
  for _ in $(seq "$n"); do
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S' -o "$work/cpu" "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    echo "$(( (t1 - t0) / 1000000 )) $(awk '{printf "%d", ($1 + $2) * 1000}' "$work/cpu")"
  done | sort -n | awk '{w[NR]=$1; c[NR]=$2} END {m=int((NR+1)/2); printf "%6d ms wall %6d ms cpu\n", w[m], c[m]}'
}

echo "machine: $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), $("$java" -version 2>&1 | head -1)"
printf '%-28s %s\n' "java -version (floor)" "$(measure "$java" -Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -version)"
XENOPSCTL_CDS=1 "$ctl" --help >/dev/null   # makes the archive if missing
for cds in 0 1; do
  export XENOPSCTL_CDS=$cds
  for args in "--help" "ls" "--json ls" "spawn hello"; do
    # shellcheck disable=SC2086
    printf '%-28s %s\n' "cds=$cds xenopsctl $args" "$(measure "$ctl" $args)"
  done
done
