#!/usr/bin/env bash
# The forgery half of tests/integration/forgery_load_test.cpp:
#
#   forge_under_load.sh WORKDIR SECONDS USER RATE
#
# Starts a real standalone systemd-journald (as root) inside a private mount namespace,
# where a fresh tmpfs on /run gives it the default socket paths
# (/run/systemd/journal/{socket,stdout,dev-log}) and volatile storage without touching
# the host's /run or a journald that may already be running there. Then USER, an
# unprivileged account, forges records for SECONDS with the real tools; every forger
# but the logger --journald loop is paced to RATE records per second (reloads RATE/2):
#   - logger through the syslog socket, run as a copy of logger named "sshd" or "sudo"
#     (so _COMM reads sshd / sudo): fake "Accepted publickey for alice", pam session
#     lines, sudo COMMAND lines (SYSLOG_PID spoofed to the genuine sshd monitor's PID);
#   - plain logger -t sshd / -t sudo / -t systemd ("Reloading.");
#   - systemd-cat -t sudo: sudo COMMAND lines on the stdout transport;
#   - logger --journald: native-protocol "Started systemd-update-check.timer" records
#     with MESSAGE_ID and UNIT, as fast as one process per record allows;
#   - forge_native.py: the same native protocol, renamed (comm) to
#     systemd / systemd-logind, sending fake PID 1 reloads and timer starts, fake
#     user-manager timer starts and fake logind "New session 23 of user alice" /
#     "Removed session 23." records, each with spoofed _PID=1/_UID=0/_COMM/_TRANSPORT.
# It writes WORKDIR/forged.export (journalctl -o export), WORKDIR/window (first and
# last µs of the forging) and per-forger counts, stops journald (by its PID) and exits
# non-zero with a reason on stderr when any step fails.
set -euo pipefail
work=$1 seconds=$2 user=$3 rate=$4
here=$(cd "$(dirname "$0")" && pwd)

if [[ ${JCORR_FORGERY_INNER:-} != 1 ]]; then
  exec env JCORR_FORGERY_INNER=1 unshare --mount --propagation private "$0" "$@"
fi

die() { echo "forge_under_load: $*" >&2; exit 1; }

mount -t tmpfs -o mode=0755 jcorr-forgery /run || die "cannot mount a private /run (needs root with CAP_SYS_ADMIN)"
mkdir -p /run/systemd/journal /run/log/journal
mount --bind "$here/journald.conf" /etc/systemd/journald.conf || die "cannot bind-mount journald.conf"
# Storage is volatile; hide the persistent directory anyway so nothing reaches the host's.
if [[ -d /var/log/journal ]]; then mount -t tmpfs jcorr-forgery /var/log/journal; fi
# The forger runs python as the unprivileged user: the system interpreter, not a
# per-user shim from root's PATH.
python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3) || die "python3 is missing"

/lib/systemd/systemd-journald 2>"$work/journald.stderr" &
jpid=$!
stop_journald() { kill "$jpid" 2>/dev/null || true; wait "$jpid" 2>/dev/null || true; }
trap stop_journald EXIT
for _ in $(seq 100); do
  [[ -S /run/systemd/journal/socket && -S /run/systemd/journal/stdout && -S /run/systemd/journal/dev-log ]] && break
  kill -0 "$jpid" 2>/dev/null || die "systemd-journald exited: $(cat "$work/journald.stderr")"
  sleep 0.1
done
[[ -S /run/systemd/journal/socket ]] || die "systemd-journald did not create its sockets within 10s"

mkdir -p "$work/bin" "$work/counts"
install -m 0755 /usr/bin/logger "$work/bin/sshd"
install -m 0755 /usr/bin/logger "$work/bin/sudo"
chmod 0777 "$work/counts"
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs "$@"; }
devlog=/run/systemd/journal/dev-log

# Paced message lines of one kind for logger / systemd-cat: lines KIND RATE.
lines() { as_user "$python" "$here/forge_native.py" lines "$1" "$2" "$seconds"; }

date +%s%6N >"$work/window"
pids=()
lines sshd "$rate" | as_user "$work/bin/sshd" -u "$devlog" -t sshd -p auth.info --id=97287 & pids+=($!)
lines sudo "$rate" | as_user "$work/bin/sudo" -u "$devlog" -t sudo -p authpriv.notice & pids+=($!)
lines sshd "$rate" | as_user logger -u "$devlog" -t sshd -p auth.info & pids+=($!)
lines sudo "$rate" | as_user logger -u "$devlog" -t sudo -p authpriv.notice & pids+=($!)
lines reload "$((rate / 2))" | as_user logger -u "$devlog" -t systemd -p daemon.info & pids+=($!)
lines sudo "$rate" | as_user systemd-cat -t sudo -p notice & pids+=($!)
for kind in pid1 user-manager logind; do
  as_user "$python" "$here/forge_native.py" native "$kind" "$rate" "$seconds" "$work/counts/native-$kind" & pids+=($!)
done
(
  n=0
  end=$(($(date +%s) + ${seconds%.*}))
  while (($(date +%s) < end)); do
    printf 'MESSAGE=Started systemd-update-check.timer - Check for system updates.\nMESSAGE_ID=39f53479d3a045ac8e11786248231fbf\nUNIT=systemd-update-check.timer\nSYSLOG_IDENTIFIER=systemd\nJOB_TYPE=start\nJOB_RESULT=done\n' |
      as_user logger --journald && n=$((n + 1))
  done
  echo "$n" >"$work/counts/logger-journald"
) & pids+=($!)
for p in "${pids[@]}"; do wait "$p" || die "a forger failed (exit $?)"; done
date +%s%6N >>"$work/window"
sleep 1  # let journald drain its sockets
journalctl -o export --no-pager >"$work/forged.export" || die "journalctl -o export failed"
[[ -s $work/forged.export ]] || die "journalctl exported nothing"
