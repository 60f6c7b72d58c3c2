#!/usr/bin/env bash
# Assembles the xenops distribution: a jlink runtime with only the JDK modules the daemon and the CLI use,
# their jars, launchers, default config, bundled images, shell completion and the systemd unit; then a
# .tar.gz of it. Run by Maven (deploy/pom.xml, phase package) after daemon, xenopsctl and unikernel.
#
#   build.sh ROOT VERSION OUT PREFIX CACHE
#     ROOT    the checkout (reads daemon/target, xenopsctl/target, unikernel/target/images)
#     OUT     where xenops-VERSION/ and xenops-VERSION.tar.gz go
#     PREFIX  install location written into the unit file (default /opt/xenops)
#     CACHE   where jdeps results and jlink runtimes are kept between builds (keyed by their inputs)
#
# jdeps and jlink take most of the time, so both are cached: jlink by (JDK, module list), jdeps over the
# third-party jars by their file names (versioned, hence immutable). Only our own jars are analysed on
# every build, since they change every build.
set -euo pipefail
root="$1" version="$2" out="$3" prefix="$4" cache="$5"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
java_home="${JAVA_HOME:?JAVA_HOME must name the JDK 25 that builds the runtime}"
die() { echo "deploy/build.sh: $*" >&2; exit 1; }

daemon_jar="$root/daemon/target/xenopsd.jar"
ctl_jar="$root/xenopsctl/target/xenopsctl.jar"
images="$root/unikernel/target/images"
for f in "$daemon_jar" "$ctl_jar"; do
  [ -f "$f" ] || die "$f is missing: build with -am (mvn -pl deploy -am package) so daemon and xenopsctl come first"
done
ls "$images"/*/manifest.json >/dev/null 2>&1 || die "no images under $images: the unikernel module builds them"

name="xenops-$version"
dist="$out/$name"
rm -rf "$dist" "$out/$name.tar.gz"
mkdir -p "$dist"/{bin,etc,lib,images,lib/systemd/system,share/bash-completion/completions} "$cache"

# The jars an app's manifest names (its Class-Path), so stale jars left in target/lib never ship.
manifest_classpath() {
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && "$java_home/bin/jar" --extract --file "$1" META-INF/MANIFEST.MF)
  # Manifest lines continue on lines that start with one space.
  tr -d '\r' < "$tmp/META-INF/MANIFEST.MF" | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n //g' \
    | sed -n 's/^Class-Path: //p' | tr ' ' '\n' | sed '/^$/d'
  rm -rf "$tmp"
}

install_app() { # name jar
  local app="$1" jar="$2" entry
  mkdir -p "$dist/lib/$app/lib"
  cp "$jar" "$dist/lib/$app/"
  while read -r entry; do
    [ -f "$(dirname "$jar")/$entry" ] || die "$jar names $entry in its Class-Path, but $(dirname "$jar")/$entry is missing"
    cp "$(dirname "$jar")/$entry" "$dist/lib/$app/$entry"
  done < <(manifest_classpath "$jar")
}
install_app xenopsd "$daemon_jar"
install_app xenopsctl "$ctl_jar"

# ---- JDK modules: jdeps over every jar that ships ------------------------------------------------------
java_version="$("$java_home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')"
mapfile -t all_jars < <(find "$dist/lib" -name '*.jar' | sort)
own=() third=()
for j in "${all_jars[@]}"; do
  case "$(basename "$j")" in
    xenopsd.jar|xenopsctl.jar|*-"$version".jar) own+=("$j") ;;
    *) third+=("$j") ;;
  esac
done
jdeps_() { "$java_home/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 -q "$@"; }
third_key="$( { echo "$java_version"; for j in "${third[@]}"; do basename "$j"; done | sort -u; } | sha256sum | cut -c1-16)"
third_modules_file="$cache/jdeps-$third_key.txt"
if [ ! -s "$third_modules_file" ]; then
  echo "deploy: jdeps over ${#third[@]} third-party jars (cached as $third_modules_file)"
  jdeps_ "${third[@]}" > "$third_modules_file.$$"
  mv "$third_modules_file.$$" "$third_modules_file"
fi
own_modules="$(jdeps_ "${own[@]}")"
modules="$( { tr ',' '\n' < "$third_modules_file"; echo "$own_modules" | tr ',' '\n'; } | sed '/^$/d' | sort -u | paste -sd, -)"
echo "deploy: JDK modules: $modules"

# ---- jlink runtime, cached by its inputs ----------------------------------------------------------------
runtime_key="$(printf '%s\n%s\n' "$java_version" "$modules" | sha256sum | cut -c1-16)"
cached_runtime="$cache/runtime-$runtime_key"
if [ ! -x "$cached_runtime/bin/java" ]; then
  echo "deploy: jlink $modules"
  tmp_runtime="$cache/runtime-$runtime_key.tmp.$$"
  rm -rf "$tmp_runtime"
  # No --compress: an uncompressed modules image starts faster, and the tarball is gzipped anyway.
  "$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --generate-cds-archive --output "$tmp_runtime" >/dev/null
  # Another build may have finished the same runtime meanwhile: keep whichever landed first.
  mv -T "$tmp_runtime" "$cached_runtime" 2>/dev/null || rm -rf "$tmp_runtime"
fi
# Hard links when the cache shares the file system (no copy), a copy otherwise.
cp -al "$cached_runtime" "$dist/runtime" 2>/dev/null || { rm -rf "$dist/runtime"; cp -a "$cached_runtime" "$dist/runtime"; }

# ---- the rest of the tree -------------------------------------------------------------------------------
cp "$here/src/dist/bin/xenopsd" "$here/src/dist/bin/xenopsctl" "$dist/bin/"
chmod 755 "$dist/bin/xenopsd" "$dist/bin/xenopsctl"
cp "$here/src/dist/etc/xenopsd.json" "$dist/etc/"
cp "$here/src/dist/README.md" "$dist/"
cp -R "$images/." "$dist/images/"
sed "s#@PREFIX@#$prefix#g" "$here/src/systemd/xenopsd.service" > "$dist/lib/systemd/system/xenopsd.service"

# Completion from the CLI itself, on the runtime just built (which also proves the CLI starts on it).
completion="$dist/share/bash-completion/completions/xenopsctl"
if ! env -i PATH=/usr/bin:/bin "$dist/bin/xenopsctl" generate-completion > "$completion" 2>"$out/completion.err"; then
  # Older CLIs without the subcommand: picocli's generator over the command class.
  ctl_cp="$(find "$dist/lib/xenopsctl" -name '*.jar' | paste -sd: -)"
  "$dist/runtime/bin/java" -cp "$ctl_cp" picocli.AutoComplete --force --name xenopsctl \
    --completionScript "$completion" io.xenops.ctl.Main 2>>"$out/completion.err" \
    || die "cannot generate xenopsctl's shell completion: $(cat "$out/completion.err")"
fi
grep -Eq '^complete .*-F [_A-Za-z0-9]+ .*xenopsctl' "$completion" || die "xenopsctl's completion script registers no completion function for xenopsctl: $completion"

tar -C "$out" -cf - "$name" | gzip -1 > "$out/$name.tar.gz.tmp"
mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
echo "deploy: $dist ($(du -sh "$dist" | cut -f1)) and $out/$name.tar.gz ($(du -sh "$out/$name.tar.gz" | cut -f1))"
