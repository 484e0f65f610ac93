#!/usr/bin/env bash
# Builds (once per machine) the Debian 12 tree the end-to-end test boots with
# systemd-nspawn, and prints its path on standard output.
#
#   tests/e2e/build-tree.sh [CACHE_DIR]        # default: $JCORR_E2E_CACHE or /var/cache/jcorr-e2e
#
# CACHE_DIR/bookworm is a minbase debootstrap of Debian 12 from Debian's archive with
# systemd 252 (as PID 1), dbus, logind (libpam-systemd), polkitd (so a user may
# `loginctl enable-linger` himself over SSH), openssh-server and sudo, plus:
#   - a fixed machine id (so the journal directory is var/log/journal/<id>/) and the
#     host name e2e-bookworm; persistent journal storage, SplitMode=uid (the default);
#   - users alice 1001 (group sudo, NOPASSWD), bob 1002 (no sudo), mallory 1003 (no sudo,
#     the forger), each with password "e2e-<name>" and the cache's SSH key, and root with
#     the key (PermitRootLogin prohibit-password, Debian's default);
#   - /opt/e2e-debs/: logrotate and its one missing dependency, downloaded here, for the
#     benign `apt-get install` (the container has no network).
# CACHE_DIR/id_ed25519 is the client key. The tree is never booted itself: the test
# copies it per run (tests/e2e/e2e_container.py), so it stays pristine. A tree is
# reused only when its stamp matches kStamp below; otherwise it is rebuilt. Build steps
# run in CACHE_DIR/bookworm.new and the result is renamed into place, so an interrupted
# build leaves no half tree behind. Needs root, debootstrap and network access to the
# archive. Exits non-zero with the failing step on standard error.
set -euo pipefail
kStamp="jcorr-e2e-tree 2"
cache=${1:-${JCORR_E2E_CACHE:-/var/cache/jcorr-e2e}}
mirror=${JCORR_E2E_MIRROR:-http://deb.debian.org/debian}
kMachineId=4a636f7272e2e0000000000000000001
tree=$cache/bookworm

die() { echo "build-tree: $*" >&2; exit 1; }

mkdir -p "$cache" 2>/dev/null || die "cannot create $cache (run as root)"
# One builder at a time (tools/run-tests.sh starts one in the background, the test another).
exec 9>"$cache/.lock"
flock 9
if [[ -f $tree/etc/jcorr-e2e-stamp && $(cat "$tree/etc/jcorr-e2e-stamp") == "$kStamp" && -f $cache/id_ed25519 ]]; then
  echo "$tree"
  exit 0
fi
[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (tools/install-deps.sh installs it)"

new=$tree.new
rm -rf "$new"
start=$(date +%s)
echo "build-tree: debootstrap bookworm into $new (from $mirror)" >&2
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,libpam-systemd,polkitd,openssh-server,sudo,bsdutils,procps \
  bookworm "$new" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
  die "debootstrap failed (last lines of $cache/debootstrap.log follow)
$(tail -n 15 "$cache/debootstrap.log")"

in_tree() { chroot "$new" "$@"; }

echo "$kMachineId" >"$new/etc/machine-id"
echo e2e-bookworm >"$new/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\te2e-bookworm\n' >"$new/etc/hosts"
mkdir -p "$new/var/log/journal"
in_tree systemd-tmpfiles --create --prefix /var/log/journal >/dev/null 2>&1 || true
rm -rf "$new/var/log/journal/"*

[[ -f $cache/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C jcorr-e2e -f "$cache/id_ed25519" ||
  die "ssh-keygen failed"
pub=$(cat "$cache/id_ed25519.pub")

add_user() { # NAME UID
  in_tree useradd --create-home --uid "$2" --user-group --shell /bin/bash "$1" || die "useradd $1 failed"
  echo "$1:e2e-$1" | in_tree chpasswd || die "chpasswd $1 failed"
  install -d -m 0700 -o "$2" -g "$2" "$new/home/$1/.ssh"
  echo "$pub" >"$new/home/$1/.ssh/authorized_keys"
  chown "$2:$2" "$new/home/$1/.ssh/authorized_keys"
  chmod 0600 "$new/home/$1/.ssh/authorized_keys"
}
add_user alice 1001
add_user bob 1002
add_user mallory 1003
in_tree usermod -aG sudo alice || die "usermod alice failed"
echo 'alice ALL=(ALL:ALL) NOPASSWD: ALL' >"$new/etc/sudoers.d/alice"
chmod 0440 "$new/etc/sudoers.d/alice"
install -d -m 0700 "$new/root/.ssh"
echo "$pub" >"$new/root/.ssh/authorized_keys"
chmod 0600 "$new/root/.ssh/authorized_keys"

# sshd answers quickly without DNS; nothing else of Debian's configuration changes.
printf 'UseDNS no\n' >"$new/etc/ssh/sshd_config.d/e2e.conf"

# The benign package install: logrotate ships logrotate.timer and its postinst enables
# and starts it. libpopt0 is its only dependency minbase lacks.
mkdir -p "$cache/debs" "$new/opt/e2e-debs"
download() { (cd "$cache/debs" && apt-get download -q logrotate libpopt0 >"$cache/apt-download.log" 2>&1); }
# This machine's package lists may be missing or stale: refresh them once on failure.
download || { apt-get update -qq >/dev/null 2>&1; download; } ||
  die "apt-get download logrotate libpopt0 failed: $(tail -n 5 "$cache/apt-download.log")"
cp "$cache/debs/"logrotate_*.deb "$cache/debs/"libpopt0_*.deb "$new/opt/e2e-debs/"

in_tree apt-get clean >/dev/null 2>&1 || true
echo "$kStamp" >"$new/etc/jcorr-e2e-stamp"
rm -rf "$tree"
mv "$new" "$tree"
echo "build-tree: built $tree in $(( $(date +%s) - start ))s" >&2
echo "$tree"
