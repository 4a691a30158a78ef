#!/usr/bin/env bash
# `make test-fresh`: the README's two commands on a fresh machine.
#
# Builds a minimal chroot of this machine's own release (`debootstrap --variant=minbase`, from
# the mirror in this machine's apt sources) holding only python3, python3-venv, make and git,
# clones this repository's HEAD commit into it and, as root inside it:
#   1. `make test`  (installs the system packages and the venv, then runs the whole suite);
#   2. `make run` under `xvfb-run`, until a visible window named Strongroom is mapped while
#      the app still runs (packaging/wait-for-window.sh, with xdotool: installed after step
#      1, it links nothing Qt's xcb plugin needs). A Qt that cannot load its xcb plugin
#      aborts and fails this at once.
# Mounts (proc, sys, dev, dev/pts, dev/shm) are undone on every exit, failure included.
#
#   packaging/test-fresh.sh   (root; KEEP=1 keeps the chroot, FRESH_DIR=/var/tmp holds it,
#                              RUN_TIMEOUT=60 bounds the run check)
#
# The host's CA bundle is copied in (a network that inspects TLS has its own CA there); DNS
# and the host's apt proxy / date-check settings too. The packages debootstrap fetches are
# cached as a tarball under ${XDG_CACHE_HOME:-~/.cache}/strongroom/test-fresh (30 days), so a
# second run does not download them; without a usable cache it debootstraps directly.
# Uncommitted changes are not tested: the chroot gets HEAD, as CI's clean clone does.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUN_TIMEOUT="${RUN_TIMEOUT:-60}"
START=$SECONDS
say() { printf '[test-fresh %4ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts); try: sudo make test-fresh"
COMMIT="$(git -C "$ROOT" rev-parse HEAD)"
git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null ||
  say "note: uncommitted changes are not tested, only commit ${COMMIT:0:12}"

APT_GET=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap"
  "${APT_GET[@]}" install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 || {
    "${APT_GET[@]}" update -qq && "${APT_GET[@]}" install -y -qq --no-install-recommends debootstrap >/dev/null
  }
fi

# This machine's release and the mirror its apt sources use for it (deb822 or one-line).
read -r SUITE MIRROR COMPONENTS KEYRING < <(python3 - <<'EOF'
import glob, re, sys
os_release = dict(
    line.rstrip("\n").split("=", 1) for line in open("/etc/os-release") if "=" in line
)
codename = os_release.get("VERSION_CODENAME", "").strip('"')
if not codename:
    sys.exit("test-fresh: /etc/os-release names no VERSION_CODENAME")
entries = []  # (types, uris, suites, components, signed_by)
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in re.split(r"\n\s*\n", open(path).read()):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:
                fields[key] += " " + line.strip()
            else:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        entries.append((fields.get("types", "").split(), fields.get("uris", "").split(),
                        fields.get("suites", "").split(), fields.get("components", "").split(),
                        fields.get("signed-by", "")))
for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]:
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        continue
    for line in lines:
        line = line.split("#", 1)[0].strip()
        m = re.match(r"(deb)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)", line)
        if m:
            opts = dict(o.split("=", 1) for o in (m.group(2) or "").split() if "=" in o)
            entries.append(([m.group(1)], [m.group(3)], [m.group(4)], m.group(5).split(),
                            opts.get("signed-by", "")))
for types, uris, suites, components, signed_by in entries:
    if "deb" in types and codename in suites and "main" in components and uris:
        keyring = signed_by if signed_by.startswith("/") else "-"
        # Ubuntu's age is in universe: the chroot gets the components the host uses.
        print(codename, uris[0].rstrip("/"), ",".join(components), keyring)
        break
else:
    sys.exit(f"test-fresh: no enabled 'deb' source for {codename} main in /etc/apt/sources*")
EOF
)
[ -n "${SUITE:-}" ] && [ -n "${MIRROR:-}" ] || die "could not read the release and mirror"
ARCH="$(dpkg --print-architecture)"
[ -e "/usr/share/debootstrap/scripts/$SUITE" ] || die "this debootstrap does not know $SUITE"
DEBOOTSTRAP=(debootstrap --variant=minbase --include=python3,python3-venv,make,git
  "--components=$COMPONENTS")
[ "$KEYRING" != "-" ] && [ -f "$KEYRING" ] && DEBOOTSTRAP+=("--keyring=$KEYRING")
say "release $SUITE/$ARCH ($COMPONENTS) from $MIRROR; testing commit ${COMMIT:0:12}"

# Not $TMPDIR: it may be a small or noexec tmpfs; the chroot grows to about 2 GB.
WORK="$(mktemp -d "${FRESH_DIR:-/var/tmp}/strongroom-fresh.XXXXXX")"
CHROOT="$WORK/root"
MOUNTS=()

in_chroot_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$CHROOT" ] && echo "${p#/proc/}"
  done
  return 0
}
cleanup() {
  local rc=$? pids i
  set +e
  # Whatever this test started inside the chroot (an Xvfb, the app) goes first.
  pids="$(in_chroot_pids)"
  [ -n "$pids" ] && kill $pids 2>/dev/null && sleep 1
  pids="$(in_chroot_pids)"
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" || true
  done
  if grep -q " $WORK/" /proc/self/mounts; then
    say "still mounted under $WORK; not deleting it" >&2
  elif [ -n "${KEEP:-}" ]; then
    say "kept $CHROOT"
  else
    say "removing $WORK"
    rm -rf "$WORK"
  fi
  say "$([ "$rc" -eq 0 ] && echo OK || echo "exit $rc")"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. The chroot, from the cached tarball when there is one.
CACHE="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/strongroom/test-fresh"
KEY="$(printf '%s\n' "$SUITE" "$ARCH" "$MIRROR" "${DEBOOTSTRAP[*]}" | sha256sum | cut -c1-12)"
TARBALL="$CACHE/$SUITE-$ARCH-$KEY.tgz"
mkdir -p "$CACHE" 2>/dev/null && find "$CACHE" -name '*.tgz' -mtime +30 -delete 2>/dev/null
if [ ! -s "$TARBALL" ] && [ -w "$CACHE" ]; then
  say "downloading $SUITE into the cache ($TARBALL)"
  if "${DEBOOTSTRAP[@]}" "--make-tarball=$TARBALL.part" "$SUITE" "$WORK/make" "$MIRROR" \
    >"$WORK/debootstrap-make.log" 2>&1; then
    mv "$TARBALL.part" "$TARBALL"
  else
    say "could not make the cache tarball (tail of the log below); debootstrapping directly"
    tail -n 5 "$WORK/debootstrap-make.log" >&2
    rm -f "$TARBALL.part"
  fi
  rm -rf "$WORK/make"
fi
built=""
if [ -s "$TARBALL" ]; then
  say "debootstrap from the cached tarball"
  if "${DEBOOTSTRAP[@]}" "--unpack-tarball=$TARBALL" "$SUITE" "$CHROOT" "$MIRROR" \
    >"$WORK/debootstrap.log" 2>&1; then
    built=1
  else
    say "the cached tarball did not install (tail of the log below); dropping it" >&2
    tail -n 5 "$WORK/debootstrap.log" >&2
    rm -f "$TARBALL"
    rm -rf "$CHROOT"
  fi
fi
if [ -z "$built" ]; then
  say "debootstrap $SUITE from $MIRROR"
  "${DEBOOTSTRAP[@]}" "$SUITE" "$CHROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
    tail -n 20 "$WORK/debootstrap.log" >&2
    die "debootstrap $SUITE $MIRROR failed (log above)"
  }
fi
say "chroot ready: $(du -sm "$CHROOT" | cut -f1) MB"

# 2. What the host's network needs: DNS, CA certificates, apt's proxy and date checks.
cp -L /etc/resolv.conf "$CHROOT/etc/resolv.conf"
mkdir -p "$CHROOT/etc/ssl/certs" "$CHROOT/usr/local/share/ca-certificates"
cp -L /etc/ssl/certs/ca-certificates.crt "$CHROOT/etc/ssl/certs/ca-certificates.crt"
cp -rL /usr/local/share/ca-certificates/. "$CHROOT/usr/local/share/ca-certificates/" 2>/dev/null || true
apt-config dump | grep -E '^Acquire::(https?::Proxy|Check-Valid-Until|Check-Date) ' \
  >"$CHROOT/etc/apt/apt.conf.d/99host-network" || true

for m in proc sys dev dev/pts dev/shm; do
  mkdir -p "$CHROOT/$m"
  case "$m" in
    proc) mount -t proc proc "$CHROOT/proc" ;;
    sys) mount -t sysfs sysfs "$CHROOT/sys" ;;
    dev) mount --bind /dev "$CHROOT/dev" ;;
    dev/pts) mount -t devpts -o newinstance,ptmxmode=0666 devpts "$CHROOT/dev/pts" ;;
    dev/shm) mount -t tmpfs -o mode=1777 shm "$CHROOT/dev/shm" ;;
  esac
  MOUNTS+=("$CHROOT/$m")
done

# 3. The repository at HEAD.
git clone -q --no-hardlinks "$ROOT" "$CHROOT/root/strongroom"
git -C "$CHROOT/root/strongroom" checkout -q --detach "$COMMIT"

CA=/etc/ssl/certs/ca-certificates.crt
run_in() {
  chroot "$CHROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=$CA PIP_CERT=$CA REQUESTS_CA_BUNDLE=$CA GIT_SSL_CAINFO=$CA \
    bash -c "cd /root/strongroom && $1"
}

# 4. The README's test command.
say "make test (inside the chroot)"
t=$SECONDS
run_in 'make test' || die "make test failed in the fresh chroot"
say "make test passed in $((SECONDS - t)) s"

# 5. The README's run command, under Xvfb: the window must map and the app keep running.
say "make run under xvfb-run (timeout ${RUN_TIMEOUT}s)"
run_in "${APT_GET[*]} install -y -qq --no-install-recommends xdotool >/dev/null"
t=$SECONDS
run_in "timeout $RUN_TIMEOUT xvfb-run -a -s '-screen 0 1280x800x24' \
  bash packaging/wait-for-window.sh Strongroom $((RUN_TIMEOUT - 10)) make run" ||
  die "make run did not show its window in the fresh chroot"
say "make run mapped its window in $((SECONDS - t)) s"
say "total $((SECONDS - START)) s"
