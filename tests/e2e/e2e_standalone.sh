#!/usr/bin/env bash
# jcorr end to end against this machine's own standalone systemd-journald (no systemd as
# PID 1 needed):
#
#   e2e_standalone.sh JCORR RULES_DIR WORKDIR
#
# Inside a private mount namespace (a fresh tmpfs on /run gives journald its default
# socket paths without touching the host's /run), starts the real
# /lib/systemd/systemd-journald, a real sshd on 127.0.0.1:2222 (its own host key,
# configuration and authorized keys under WORKDIR; PAM as Debian ships it) and then:
#   1. jcorr-e2e-admin logs in over SSH with a key and runs real sudo commands of the
#      attack's shape (systemctl daemon-reload, systemctl enable --now x.timer: they
#      fail without systemd, but sudo logs them first);
#   2. jcorr-e2e-forger (no sudo) logs in too and forges: logger -t sshd "Accepted ...",
#      logger -t sudo, systemd-cat -t sudo, logger --journald with _PID=1 _UID=0
#      SYSLOG_IDENTIFIER=systemd MESSAGE_ID=39f5... UNIT=;
# exports the journal and asserts that
#   - the genuine sshd and sudo records carry the trusted fields the rules anchor on;
#   - journald dropped every trusted field the forger tried to set;
#   - `jcorr explain` of every shipped rule matches the genuine records to their events
#     (ssh login, sudo) and none of the forged ones to any event;
#   - `jcorr replay` reports nothing (no PID 1 here: no timer starts; the forged one is
#     ignored).
# Users are created on this machine when missing (system accounts, no password); the
# sudoers entry and everything else lives only in the namespace. Exits non-zero with
# "e2e-standalone: step 'NAME' failed: REASON".
set -euo pipefail
jcorr=$1 rules=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
admin=jcorr-e2e-admin forger=jcorr-e2e-forger port=2222

step_name=setup
step() { step_name=$1; echo "[e2e-standalone $(date +%T)] step '$1'" >&2; }
die() { echo "e2e-standalone: step '$step_name' failed: $*" >&2; exit 1; }

if [[ ${JCORR_E2E_INNER:-} != 1 ]]; then
  step "prerequisites"
  [[ $(id -u) == 0 ]] || die "must run as root"
  for t in /lib/systemd/systemd-journald /usr/sbin/sshd sudo ssh ssh-keygen journalctl logger systemd-cat unshare setpriv useradd; do
    command -v "$t" >/dev/null || die "$t is missing (tools/install-deps.sh installs it)"
  done
  for u in "$admin" "$forger"; do
    getent passwd "$u" >/dev/null || useradd --system --create-home --home-dir "/var/lib/$u" --shell /bin/bash "$u" ||
      die "useradd $u failed"
  done
  rm -rf "$work" && mkdir -p "$work" && chmod 0755 "$work"
  exec env JCORR_E2E_INNER=1 unshare --mount --propagation private "$0" "$@"
fi

step "private /run and a standalone systemd-journald"
mount -t tmpfs -o mode=0755 jcorr-e2e /run || die "cannot mount a private /run (needs CAP_SYS_ADMIN)"
mkdir -p /run/systemd/journal /run/log/journal /run/sshd
mount --bind "$here/../integration/forgery/journald.conf" /etc/systemd/journald.conf || die "cannot bind journald.conf"
[[ -d /var/log/journal ]] && mount -t tmpfs jcorr-e2e /var/log/journal
/lib/systemd/systemd-journald 2>"$work/journald.stderr" &
jpid=$!
sshd_pid= made_devlog=
cleanup() {
  [[ -n $made_devlog ]] && rm -f /dev/log
  [[ -n $sshd_pid ]] && kill "$sshd_pid" 2>/dev/null
  kill "$jpid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
  [[ -S /run/systemd/journal/socket && -S /run/systemd/journal/stdout && -S /run/systemd/journal/dev-log ]] && break
  kill -0 "$jpid" 2>/dev/null || die "systemd-journald exited: $(cat "$work/journald.stderr")"
  sleep 0.1
done
[[ -S /run/systemd/journal/dev-log ]] || die "systemd-journald made no sockets within 10s"
# /dev/log is how sshd and sudo reach journald. As under systemd it should be a symlink
# to /run/systemd/journal/dev-log, which resolves to this journald through the private
# /run; anything else at /dev/log is covered with a bind mount for this namespace only.
if [[ $(readlink /dev/log 2>/dev/null) != /run/systemd/journal/dev-log ]]; then
  if [[ -e /dev/log || -L /dev/log ]]; then
    mount --bind /run/systemd/journal/dev-log /dev/log || die "cannot bind journald's socket over /dev/log"
  else
    # /dev is shared with the host: remove the link again at exit.
    ln -s /run/systemd/journal/dev-log /dev/log || die "cannot create /dev/log"
    made_devlog=1
  fi
fi

step "sudoers entry (namespace only) and a real sshd on 127.0.0.1:$port"
mkdir -p "$work/sudoers.d"
cp -a /etc/sudoers.d/. "$work/sudoers.d/" 2>/dev/null || true
echo "$admin ALL=(ALL:ALL) NOPASSWD: ALL" >"$work/sudoers.d/jcorr-e2e"
chmod 0440 "$work/sudoers.d/jcorr-e2e"
mount --bind "$work/sudoers.d" /etc/sudoers.d || die "cannot bind sudoers.d"
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key" || die "ssh-keygen (host key) failed"
ssh-keygen -q -t ed25519 -N '' -C jcorr-e2e -f "$work/client_key" || die "ssh-keygen (client key) failed"
mkdir -p "$work/authorized_keys"
for u in "$admin" "$forger"; do cp "$work/client_key.pub" "$work/authorized_keys/$u"; done
chmod -R go-w "$work"
cat >"$work/sshd_config" <<EOF
ListenAddress 127.0.0.1:$port
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys/%u
PidFile none
UsePAM yes
KbdInteractiveAuthentication no
StrictModes no
UseDNS no
SyslogFacility AUTH
EOF
/usr/sbin/sshd -D -f "$work/sshd_config" 2>"$work/sshd.stderr" &
sshd_pid=$!
ssh_as() { # USER SCRIPT
  ssh -p "$port" -i "$work/client_key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -o LogLevel=ERROR "$1@127.0.0.1" bash -s <<<"$2"
}
for _ in $(seq 50); do ssh_as "$admin" true 2>/dev/null && break; sleep 0.2; done
ssh_as "$admin" true 2>"$work/ssh.err" || die "no SSH login as $admin: $(cat "$work/ssh.err" "$work/sshd.stderr")"

step "genuine: SSH login and sudo commands of the attack's shape"
ssh_as "$admin" '
sleep 0.5
echo "[Timer]" | sudo -n tee /tmp/jcorr-e2e-probe.timer >/dev/null
sudo -n systemctl daemon-reload 2>/dev/null || true
sudo -n systemctl enable --now jcorr-e2e-probe.timer 2>/dev/null || true
sudo -n systemd-run --on-active=1h /bin/true 2>/dev/null || true
' || die "the admin session failed"

step "forged: logger, systemd-cat and logger --journald by $forger"
monitor_pid=$(journalctl -o json --no-pager _COMM=sshd | python3 -c '
import json,sys
for l in sys.stdin:
    e=json.loads(l)
    if e.get("MESSAGE","").startswith("Accepted "): print(e["_PID"]); break')
ssh_as "$forger" "
logger -t sshd -p auth.info --id=$monitor_pid 'Accepted publickey for root from 203.0.113.66 port 41000 ssh2: ED25519 SHA256:forged'
logger -t sshd -p authpriv.info --id=$monitor_pid 'pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)'
logger -t sudo -p authpriv.notice '   $admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/systemctl enable --now evil.timer'
echo '   root : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/systemctl daemon-reload' | systemd-cat -t sudo -p notice
printf 'MESSAGE=New session 9999 of user root.\nMESSAGE_ID=8d45620c1a4348dbb17410da57c60c66\nSESSION_ID=9999\nUSER_ID=root\nLEADER=$monitor_pid\nSYSLOG_IDENTIFIER=systemd-logind\n_PID=1\n_UID=0\n_COMM=systemd-logind\n' | logger --journald
printf 'MESSAGE=Reloading.\nSYSLOG_IDENTIFIER=systemd\n_PID=1\n_UID=0\n_COMM=systemd\n' | logger --journald
printf 'MESSAGE=Started evil.timer - Evil.\nMESSAGE_ID=39f53479d3a045ac8e11786248231fbf\nUNIT=evil.timer\nJOB_TYPE=start\nJOB_RESULT=done\nSYSLOG_IDENTIFIER=systemd\n_PID=1\n_UID=0\n_COMM=systemd\n_TRANSPORT=journal\n_SYSTEMD_UNIT=init.scope\n' | logger --journald
" || die "the forger session failed"
sleep 1
journalctl -o export --no-pager >"$work/standalone.export" || die "journalctl -o export failed"
journalctl -o json --no-pager >"$work/standalone.json"

step "genuine records carry the trusted fields; forged ones do not"
admin_uid=$(id -u "$admin") forger_uid=$(id -u "$forger")
python3 - "$work/standalone.json" "$admin" "$admin_uid" "$forger_uid" "$work/cursors" <<'EOF' || die "see above"
import json, sys
path, admin, admin_uid, forger_uid, cursors = sys.argv[1:]
es = [json.loads(l) for l in open(path)]
def one(pred, what):
    m = [e for e in es if pred(e)]
    if not m:
        sys.exit(f"no {what} in the journal")
    return m
acc = one(lambda e: e.get("_COMM") == "sshd" and e.get("MESSAGE", "").startswith(f"Accepted publickey for {admin} "),
          "genuine sshd 'Accepted publickey' record")[0]
for k, v in {"_UID": "0", "_TRANSPORT": "syslog", "_EXE": "/usr/sbin/sshd", "SYSLOG_IDENTIFIER": "sshd"}.items():
    if acc.get(k) != v:
        sys.exit(f"genuine sshd record has {k}={acc.get(k)!r}, expected {v!r}: {acc}")
sudo = one(lambda e: e.get("_COMM") == "sudo" and "COMMAND=" in e.get("MESSAGE", ""), "genuine sudo COMMAND record")
for e in sudo:
    for k, v in {"_UID": admin_uid, "_TRANSPORT": "syslog", "_EXE": "/usr/bin/sudo", "SYSLOG_IDENTIFIER": "sudo"}.items():
        if e.get(k) != v:
            sys.exit(f"genuine sudo record has {k}={e.get(k)!r}, expected {v!r}: {e}")
    if "SYSLOG_PID" in e:
        sys.exit(f"sudo sent SYSLOG_PID: {e}")
forged = [e for e in es if e.get("_UID") == forger_uid and ("forged" in e.get("MESSAGE", "") or "evil" in e.get("MESSAGE", "")
          or e.get("SYSLOG_IDENTIFIER") in ("sudo", "systemd", "systemd-logind", "sshd"))]
forged = [e for e in forged if e.get("_COMM") not in ("sshd",)]
if len(forged) < 7:
    sys.exit(f"expected 7 forged records by uid {forger_uid}, found {len(forged)}")
for e in forged:
    if e.get("_PID") == "1" or e.get("_COMM") in ("systemd", "systemd-logind", "sudo") or e.get("_UID") != forger_uid:
        sys.exit(f"journald accepted a forged trusted field: {e}")
with open(cursors, "w") as f:
    json.dump({"genuine_login": acc["__CURSOR"], "genuine_sudo": [e["__CURSOR"] for e in sudo],
               "forged": [e["__CURSOR"] for e in forged]}, f)
print(f"genuine: 1 sshd login, {len(sudo)} sudo commands; forged: {len(forged)} records", file=sys.stderr)
EOF

step "jcorr explain: genuine records match the rules' events, forged ones none"
# The rules jcorr loads from $rules (those that need a baseline are left out without one).
rule_ids=$("$jcorr" rules check --output json "$rules" 2>/dev/null | python3 -c '
import json, sys
print("\n".join(json.load(sys.stdin)["rules"]))') || die "cannot read the rule ids in $rules"
[[ -n $rule_ids ]] || die "no rule ids found in $rules"
: >"$work/explain.txt"
for id in $rule_ids; do
  "$jcorr" explain --rule "$id" --rules "$rules" "$work/standalone.export" >>"$work/explain.txt" 2>>"$work/explain.stderr" ||
    die "jcorr explain --rule $id failed: $(tail -5 "$work/explain.stderr")"
done
python3 - "$work/explain.txt" "$work/cursors" <<'EOF' || die "see above"
import json, sys
text = open(sys.argv[1]).read()
c = json.load(open(sys.argv[2]))
matched = [l for l in text.splitlines() if " matched " in l]
def hit(cursor):
    return [l for l in matched if cursor in l]
if not hit(c["genuine_login"]):
    sys.exit("no rule matched the genuine sshd login to an event:\n" + "\n".join(matched[:20]))
if not any(hit(s) for s in c["genuine_sudo"]):
    sys.exit("no rule matched a genuine sudo command to an event:\n" + "\n".join(matched[:20]))
bad = [l for f in c["forged"] for l in hit(f)]
if bad:
    sys.exit("forged records matched rule events:\n" + "\n".join(bad))
print(f"explain: {len(matched)} event matches, the genuine login and sudo among them, no forged one", file=sys.stderr)
EOF

step "jcorr replay reports nothing"
"$jcorr" replay --rules "$rules" --output json "$work/standalone.export" >"$work/replay.jsonl" 2>"$work/replay.stderr" ||
  die "jcorr replay exited $?: $(tail -5 "$work/replay.stderr")"
[[ ! -s $work/replay.jsonl ]] || die "detections from forged or incomplete activity: $(cat "$work/replay.jsonl")"
echo "[e2e-standalone] passed" >&2
