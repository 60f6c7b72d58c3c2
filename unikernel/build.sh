#!/usr/bin/env bash
# Builds the runtime and every app, and packs each app into an image:
#   <target-dir>/images/<app>/kernel.elf + manifest.json        (product images)
#   <target-dir>/test-images/<app>/kernel.elf + manifest.json   (test fixtures)
# An app is a test fixture when its Cargo.toml has `test-only = true` under
# [package.metadata.xenops].
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(mkdir -p "${1:-$here/target}" && cd "${1:-$here/target}" && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
# shellcheck source=scripts/elf.sh
source "$here/scripts/elf.sh"

# Guest RAM in MiB. QEMU boots the image in 2; Xen PV lays out its initial mapping
# up to the next 4 MiB boundary, so 4 is the floor that fits every boot mode.
MEMORY_MIB=4

command -v cargo >/dev/null || { echo "build.sh: cargo not found on PATH or in ~/.cargo/bin" >&2; exit 1; }

cd "$here"
log="$out/cargo-build.log"
# rustc warns about every -target-feature that turns SSE off (it cannot know this is
# a kernel); keep its output out of the Maven log unless the build fails.
if ! cargo build --release --offline >"$log" 2>&1; then
    cat "$log" >&2
    echo "build.sh: cargo build failed" >&2
    exit 1
fi

bin_dir="$here/target/cargo/x86_64-unknown-linux-gnu/release"
built=()
for manifest in apps/*/Cargo.toml; do
    app=$(basename "$(dirname "$manifest")")
    kind=images
    if grep -q '^test-only *= *true' "$manifest"; then
        kind=test-images
    fi
    version=$(cargo pkgid --offline -p "$app" | sed 's/.*[#@]//')
    dir="$out/$kind/$app"
    mkdir -p "$dir"
    # Replace files by rename: other modules' tests may be reading the images.
    cp "$bin_dir/$app" "$dir/kernel.elf.tmp"
    mv -f "$dir/kernel.elf.tmp" "$dir/kernel.elf"
    modes=$(boot_modes_json "$dir/kernel.elf")
    if [[ -z $modes ]]; then
        echo "build.sh: $app has no PVH or PV entry note" >&2
        exit 1
    fi
    printf '{"name":"%s","version":"%s","memory_mib":%d,"vcpus":1,"boot_modes":[%s],"cmdline":"","readiness":"console"}\n' \
        "$app" "$version" "$MEMORY_MIB" "$modes" >"$dir/manifest.json.tmp"
    mv -f "$dir/manifest.json.tmp" "$dir/manifest.json"
    built+=("$kind/$app")
    echo "image $kind/$app: $(stat -c %s "$dir/kernel.elf") bytes, boot modes [$modes]"
done

# Drop images of apps that no longer exist.
for dir in "$out"/images/* "$out"/test-images/*; do
    [[ -d $dir ]] || continue
    rel=${dir#"$out"/}
    [[ " ${built[*]} " == *" $rel "* ]] || rm -rf "$dir"
done
