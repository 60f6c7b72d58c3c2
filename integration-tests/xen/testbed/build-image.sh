#!/usr/bin/env bash
# Builds (or finds in the cache) the nested-Xen testbed image: Debian bookworm's Xen 4.17 hypervisor
# and a dom0 that runs entirely from its initramfs.
#
#   build-image.sh            print the image directory (last line of stdout), building it if needed
#   build-image.sh --key      print the cache key only
#
# The image lives OUTSIDE the clone, in $XENOPS_TESTBED_CACHE/<key>/ (default
# /var/cache/xenops-testbed), where <key> is the sha256 of the recipe: this script, packages.list and
# dom0-init. A second run with the same recipe reuses it. The build happens in a temporary directory
# that is renamed into place only once complete, so an interrupted build never looks cached.
#
# Files in the image directory: xen (gunzipped multiboot ELF, for QEMU -kernel), vmlinuz (dom0
# kernel), initrd.cpio (dom0 root, uncompressed newc cpio), packages.txt (exact versions installed),
# recipe.sha256 (the key), build-seconds.
#
# Environment: XENOPS_DEBIAN_MIRROR (default http://deb.debian.org/debian), XENOPS_TESTBED_CACHE.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite=bookworm
mirror="${XENOPS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache_root="${XENOPS_TESTBED_CACHE:-/var/cache/xenops-testbed}"
# Every file time in the image is set to this, and cpio gets a sorted list, so the same packages
# give the same bytes.
export SOURCE_DATE_EPOCH=1700000000

log() { echo "build-image: $*" >&2; }
die() { echo "build-image: ERROR: $*" >&2; exit 1; }

recipe_key() {
  # Names are hashed too so that moving content between files changes the key.
  (cd "$here" && for f in build-image.sh packages.list dom0-init; do echo "== $f"; cat "$f"; done; echo "== suite $suite") \
    | sha256sum | cut -c1-64
}

key="$(recipe_key)"
if [ "${1:-}" = "--key" ]; then echo "$key"; exit 0; fi

final="$cache_root/$key"
if [ -f "$final/complete" ]; then
  log "cached image $final"
  echo "$final"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "no cached image at $final and building one needs root (debootstrap, chroot, mknod); run the tests as root once"
for tool in debootstrap cpio wget chroot sha256sum; do
  command -v "$tool" >/dev/null || die "missing tool '$tool': install the packages named in the root xenops script (PACKAGES_TEST), e.g. apt-get install debootstrap cpio wget"
done

mkdir -p "$cache_root"
# One build per key at a time: other engineers' test runs on this machine wait for ours, then reuse it.
exec 9>"$cache_root/.lock-$key"
if ! flock -n 9; then
  log "another build of $key is running; waiting for it"
  flock 9
fi
if [ -f "$final/complete" ]; then echo "$final"; exit 0; fi

unmount_under() {
  # debootstrap and our chroot steps mount /proc etc. inside the target; never rm -rf through a mount.
  local dir="$1" m
  for m in $(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

# Leftovers of interrupted builds (their owner pid is in the name) are removed, never reused.
for stale in "$cache_root"/.build-*; do
  [ -d "$stale" ] || continue
  pid="${stale##*-}"
  if ! kill -0 "$pid" 2>/dev/null; then
    log "removing interrupted build $stale"
    unmount_under "$stale"
    rm -rf --one-file-system "$stale"
  fi
done

work="$cache_root/.build-$key-$$"
cleanup() {
  unmount_under "$work"
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work"
root="$work/rootfs"
out="$work/image"
mkdir -p "$out"
started=$(date +%s)

# Fail early and clearly when the mirror is unreachable: the suite must not silently skip.
if ! wget -q -T 20 -t 2 -O "$work/Release" "$mirror/dists/$suite/Release"; then
  die "the Debian mirror $mirror cannot be reached (fetching dists/$suite/Release failed), so the nested Xen dom0 image cannot be built. Set XENOPS_DEBIAN_MIRROR to a reachable Debian mirror, or copy a built image into $final."
fi

mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$here/packages.list")

log "debootstrap $suite from $mirror (minbase)"
debootstrap --variant=minbase --components=main "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

# Nothing may start services while installing into the chroot (xen's init script would try to
# start xenstored here), and no initramfs is wanted: the whole root becomes the initramfs.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
chroot "$root" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
ln -sf /bin/true "$root/usr/sbin/update-initramfs"
mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
# Keep the trimmed paths from being installed at all: faster, and smaller intermediate trees.
cat > "$root/etc/dpkg/dpkg.cfg.d/01-xenops-testbed-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
path-exclude=/usr/share/bash-completion/*
EOF
echo "deb $mirror $suite main" > "$root/etc/apt/sources.list"

log "apt-get install ${packages[*]}"
mount -t proc proc "$root/proc"
chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C apt-get -q update >"$work/apt.log" 2>&1 \
  || { tail -n 30 "$work/apt.log" >&2; die "apt-get update in the chroot failed"; }
chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C apt-get -q -y --no-install-recommends install "${packages[@]}" >>"$work/apt.log" 2>&1 \
  || { tail -n 30 "$work/apt.log" >&2; die "apt-get install in the chroot failed"; }
chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' | LC_ALL=C sort > "$out/packages.txt"
umount "$root/proc"

kver="$(basename "$(ls -d "$root"/lib/modules/* | head -n1)")"
[ -n "$kver" ] || die "no kernel modules in the chroot"
xen_gz="$(ls "$root"/boot/xen-4.17*-amd64.gz 2>/dev/null | head -n1)" || true
[ -n "$xen_gz" ] || die "no /boot/xen-4.17*-amd64.gz in the chroot"
log "kernel $kver, hypervisor $(basename "$xen_gz")"
# QEMU's multiboot loader wants the ELF, not the gzip.
zcat "$xen_gz" > "$out/xen"
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"

# Trim: the dom0 needs xen, 9p and virtio modules only, no docs, locales, apt lists or /boot.
keep_modules=(virtio_pci 9pnet_virtio 9p xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-blkback xen-netback)
mapfile -t keep < <(for m in "${keep_modules[@]}"; do
  chroot "$root" modprobe --show-depends --ignore-install -S "$kver" "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
done | sort -u)
[ "${#keep[@]}" -gt 0 ] || die "could not resolve the kernel modules to keep"
for m in "${keep[@]}"; do mkdir -p "$work/keep/$(dirname "$m")"; cp -a "$root$m" "$work/keep$m"; done
rm -rf "$root/lib/modules/$kver/kernel"
cp -a "$work/keep/lib/modules/$kver/kernel" "$root/lib/modules/$kver/" 2>/dev/null || cp -a "$work/keep/usr/lib/modules/$kver/kernel" "$root/lib/modules/$kver/"
chroot "$root" depmod "$kver"
rm -rf "$root"/boot/* "$root"/usr/share/{doc,man,info,locale,lintian,bash-completion} \
       "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/cache/debconf/*-old \
       "$root"/var/log/* "$root"/usr/lib/firmware "$root"/lib/firmware
# Nothing in dom0 uses these at run time (no udev, no python tool such as pygrub, no PV shim, UTC
# only); each megabyte costs boot time, since the kernel copies the whole cpio into memory.
rm -rf "$root"/usr/lib/udev/hwdb.bin "$root"/usr/lib/udev/hwdb.d "$root"/usr/lib/python3* "$root"/usr/bin/python3* \
       "$root"/usr/lib/xen-4.17/boot/xen-shim "$root"/usr/share/zoneinfo
rm -f "$root/usr/sbin/policy-rc.d"

# The dom0 is a test host: root without password, xenconsoled logs every guest's console so tests
# can read a guest's output in /var/log/xen/console/guest-NAME.log.
chroot "$root" passwd -d root >/dev/null
echo "xenops-dom0" > "$root/etc/hostname"
install -m 0755 "$here/dom0-init" "$root/init"
[ -e "$root/dev/console" ] || mknod -m 600 "$root/dev/console" c 5 1
[ -e "$root/dev/null" ] || mknod -m 666 "$root/dev/null" c 1 3

log "packing initramfs"
find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} + 2>/dev/null || true
(cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --null --create --format=newc --reproducible --quiet) > "$out/initrd.cpio"

echo "$key" > "$out/recipe.sha256"
echo "$(( $(date +%s) - started ))" > "$out/build-seconds"
sync -f "$out/initrd.cpio" 2>/dev/null || sync
touch "$out/complete"
# rename(2) is atomic: the cache directory appears whole or not at all.
mv -T "$out" "$final"
log "built $final in $(cat "$final/build-seconds") s ($(du -sh "$final" | cut -f1))"
echo "$final"
