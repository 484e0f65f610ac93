"""Attack chains (T1053.006) and their benign look-alikes, as actors.  Chains that must be
detected append a ground-truth record to scenario.truth; its evidence cursors are filled in as
the entries are written."""

from . import flows as F
from . import programs as P
from .model import CAP_ALL, CAP_NONE, MSEC, USEC, id128


def _truth(sc, form, host, sess, timer, service, **extra):
    d = {"form": form, "host": host.name, "machine_id": host.machine_id,
         "user": sess.user.name if sess else None, "uid": sess.user.uid if sess else None,
         "src_ip": sess.ip if sess else None, "src_port": sess.port if sess else None,
         "session": sess.sid if sess else None, "timer": timer, "service": service}
    d.update(extra)
    d["evidence"] = {}
    d["_sess"] = sess
    sc.truth.append(d)
    return d


def _ev(d, name):
    def cb(entry, cursor, rt):
        d["evidence"][name] = {"cursor": cursor, "realtime": rt}
    return cb


def finalize_truth(truth):
    """Merges session evidence into the records and drops helper keys; returns JSON-ready list."""
    out = []
    for d in truth:
        d = dict(d)
        sess = d.pop("_sess", None)
        ev = {}
        if sess is not None:
            for k in ("ssh_login", "session_start"):
                if k in sess.marks:
                    ev[k] = sess.marks[k]
        ev.update(d["evidence"])
        d["evidence"] = dict(sorted(ev.items(), key=lambda kv: kv[1]["realtime"]))
        out.append(d)
    return out


def systemctl(c, sess, args, manager, timer=None, mark=None, user_mode=False):
    """The effect of `systemctl ...` on the manager: daemon-reload and/or starting a timer.
    enable implies a daemon-reload unless --no-reload; enable --now then starts the unit."""
    host = sess.host
    argv = ["systemctl"] + (["--user"] if user_mode else []) + list(args)
    client = F.client_proc(host, sess, argv, uid=0 if not user_mode else sess.user.uid,
                           gid=0 if not user_mode else sess.user.gid)
    caller = sess.scope.name
    reload_e = None
    if "daemon-reload" in args or ("enable" in args and "--no-reload" not in args):
        reload_e = yield from F.daemon_reload(c, manager, client, caller,
                                              mark.get("reload") if mark else None)
    if timer is not None and ("start" in args or "--now" in args or "restart" in args):
        c.ms(3, 20)
        yield from F.start_timer(c, manager, timer, mark.get("timer_start") if mark else None)


def _think(c, lo=4, hi=40):
    return c.sleep(c.rng.uniform(lo, hi))


def system_timer_chain(c, sc, host, user, ip, name, desc, exec_argv, method="publickey",
                       install="tee", interval=300, runs=4, output=None, form="system-timer-sudo",
                       linger_s=None, extra=None, root_login=False, port=None):
    """ssh -> logind -> (sudo) write x.service/x.timer -> daemon-reload -> enable --now x.timer
    -> PID 1 Reloading. / Started x.timer -> service runs -> logout."""
    yield c.sleep(0)
    sess = yield from F.ssh_login(c, host, user, ip, method=method, port=port)
    pid1 = host.pid1
    timer = pid1.unit(name + ".timer", desc)
    svc = pid1.unit(name + ".service", desc, "oneshot")
    d = _truth(sc, form, host, sess, timer.name, svc.name, manager="system",
               privilege="root-login" if root_login else "sudo", **(extra or {}))
    yield _think(c)
    path = "/etc/systemd/system/"
    if root_login:
        sess.cwd = "/root"
        # root edits the files in its shell and runs systemctl itself: nothing but PID 1 logs
        yield _think(c, 20, 90)
        yield from systemctl(c, sess, ["daemon-reload"], pid1, mark={"reload": _ev(d, "reload")})
        yield _think(c, 3, 15)
        yield from systemctl(c, sess, ["enable", "--now", timer.name], pid1, timer,
                             mark={"timer_start": _ev(d, "timer_start")})
    else:
        if install == "tee":
            for f in (svc.name, timer.name):
                yield from F.sudo(c, sess, ["tee", path + f], duration_ms=(4000, 25000))
                yield _think(c, 2, 12)
        elif install == "cp":
            yield from F.sudo(c, sess, ["cp", "/tmp/" + svc.name, "/tmp/" + timer.name, path])
            yield _think(c, 2, 10)
        elif install == "mv":
            yield from F.sudo(c, sess, ["mv", "/tmp/" + svc.name, "/tmp/" + timer.name, path])
            yield _think(c, 2, 10)
        elif install == "sh-printf":
            script = ("printf '[Unit]\\nDescription=%s\\n[Service]\\nType=oneshot\\nExecStart=%s\\n' "
                      "> %s%s && printf '[Unit]\\nDescription=%s\\n[Timer]\\nOnBootSec=60\\n"
                      "OnUnitActiveSec=%d\\n[Install]\\nWantedBy=timers.target\\n' > %s%s" % (
                          desc, " ".join(exec_argv), path, svc.name, desc, interval, path,
                          timer.name))
            yield from F.sudo(c, sess, ["sh", "-c", script])
            yield _think(c, 2, 10)
        yield from F.sudo(c, sess, ["systemctl", "daemon-reload"],
                          effect=lambda c, r: systemctl(c, sess, ["daemon-reload"], pid1,
                                                        mark={"reload": _ev(d, "reload")}),
                          mark=_ev(d, "sudo_reload"))
        yield _think(c, 3, 15)
        yield from F.sudo(c, sess, ["systemctl", "enable", "--now", timer.name],
                          effect=lambda c, r: systemctl(c, sess, ["enable", "--now", timer.name],
                                                        pid1, timer,
                                                        mark={"timer_start": _ev(d, "timer_start")}),
                          mark=_ev(d, "sudo_enable"))
    sc.spawn(F.timer_service_actor, c.t, pid1, timer.name, svc.name, exec_argv, interval, runs,
             output or (), 2.0, c.rng.uniform(20, interval))
    yield c.sleep(linger_s if linger_s is not None else c.rng.uniform(30, 240))
    yield from F.ssh_logout(c, sess)
    return d


def user_timer_chain(c, sc, host, user, ip, name, desc, exec_argv, linger=False,
                     linger_via_sudo=False, interval=300, runs=6, output=None, form="user-timer",
                     stay_s=None):
    """An unprivileged user installs ~/.config/systemd/user/x.{service,timer}: only the user's
    own manager logs (Reloading., Started x.timer with USER_UNIT=)."""
    yield c.sleep(0)
    sess = yield from F.ssh_login(c, host, user, ip)
    m = host.user_managers[user.uid]
    timer = m.unit(name + ".timer", desc)
    svc = m.unit(name + ".service", desc, "oneshot")
    d = _truth(sc, form, host, sess, timer.name, svc.name, manager="user",
               privilege="user", linger=linger)
    yield _think(c, 20, 120)
    yield from systemctl(c, sess, ["daemon-reload"], m, user_mode=True,
                         mark={"reload": _ev(d, "reload")})
    yield _think(c, 3, 15)
    yield from systemctl(c, sess, ["enable", "--now", timer.name], m, timer, user_mode=True,
                         mark={"timer_start": _ev(d, "timer_start")})
    sc.spawn(F.timer_service_actor, c.t, m, timer.name, svc.name, exec_argv, interval, runs,
             output or (), 2.0, c.rng.uniform(20, interval))
    if linger:
        yield _think(c, 5, 30)
        if linger_via_sudo:
            yield from F.sudo(c, sess, ["loginctl", "enable-linger", user.name])
        host.lingering.add(user.uid)   # logind 252 logs nothing for enable-linger
    yield c.sleep(stay_s if stay_s is not None else c.rng.uniform(30, 180))
    yield from F.ssh_logout(c, sess)
    return d


def transient_chain(c, sc, host, user, ip, argv, on, user_mode=False, unit=None, runs=3,
                    interval=None, output=None, form=None, via_bus=False):
    """systemd-run --on-active/--on-calendar CMD: no unit file and no daemon-reload; the
    timer's and the service's Description is the command line (run.c: strv_join(argv, " ")).
    As root (sudo) or with --user, systemd-run talks to the manager's private socket, which has
    no D-Bus unique name, so the units are named run-r<32 hex> (make_unit_name())."""
    yield c.sleep(0)
    sess = yield from F.ssh_login(c, host, user, ip)
    yield _think(c, 5, 40)
    mgr = host.user_managers[user.uid] if user_mode else host.pid1
    if unit:
        base = unit
    elif via_bus:
        base = "run-u%d" % c.rng.randint(20, 400)
    else:
        base = "run-r" + id128(c.rng)
    exe = F.SECURE_PATH.get(argv[0], argv[0])
    descr = " ".join([exe] + list(argv[1:]))
    timer = mgr.unit(base + ".timer", descr)
    svc = mgr.unit(base + ".service", descr, "simple")
    d = _truth(sc, form or ("transient-timer-user" if user_mode else "transient-timer-sudo"),
               host, sess, timer.name, svc.name, manager="user" if user_mode else "system",
               privilege="user" if user_mode else "sudo", transient=True, description=descr)
    run_argv = ["systemd-run"] + (["--user"] if user_mode else []) + \
        (["--unit=" + unit] if unit else []) + list(on) + list(argv)

    def effect(c, r):
        yield from F.start_timer(c, mgr, timer, _ev(d, "timer_start"))
    if user_mode:
        client = F.client_proc(host, sess, run_argv, sess.user.uid, sess.user.gid)
        c.ms(20, 80)
        yield from effect(c, None)
    else:
        yield from F.sudo(c, sess, run_argv, effect=effect, mark=_ev(d, "sudo_run"))
    first = None
    for o in on:
        if o.startswith("--on-active="):
            first = float(o.split("=", 1)[1])
    if interval is None:
        interval = 300
    sc.spawn(F.timer_service_actor, c.t, mgr, timer.name, svc.name, [exe] + list(argv[1:]),
             interval, runs, output or (), 1.0, first if first is not None else
             c.rng.uniform(10, interval))
    yield c.sleep(c.rng.uniform(40, 200))
    yield from F.ssh_logout(c, sess)
    return d


def remote_oneshot_chain(c, sc, host, user, ip, name, desc, exec_argv, interval=600, runs=3):
    """scp the unit files to /tmp (an sftp session), then
    `ssh host 'sudo mv /tmp/x.* /etc/systemd/system/ && sudo systemctl enable --now x.timer'`:
    a command session without a pty, so sudo (1.9.13) logs no TTY= part."""
    yield c.sleep(0)
    s1 = yield from F.ssh_login(c, host, user, ip, tty=False)
    yield from F.sftp_subsystem(c, s1)
    yield c.sleep(c.rng.uniform(0.3, 1.5))
    yield from F.ssh_logout(c, s1)
    yield c.sleep(c.rng.uniform(2, 8))
    sess = yield from F.ssh_login(c, host, user, ip, tty=False)
    pid1 = host.pid1
    timer = pid1.unit(name + ".timer", desc)
    svc = pid1.unit(name + ".service", desc, "oneshot")
    d = _truth(sc, "remote-oneshot", host, sess, timer.name, svc.name, manager="system",
               privilege="sudo", tty=None)
    yield from F.sudo(c, sess, ["mv", "/tmp/" + svc.name, "/tmp/" + timer.name,
                                "/etc/systemd/system/"], duration_ms=(5, 30))
    yield from F.sudo(c, sess, ["systemctl", "enable", "--now", timer.name],
                      effect=lambda c, r: systemctl(c, sess, ["enable", "--now", timer.name],
                                                    pid1, timer,
                                                    mark={"reload": _ev(d, "reload"),
                                                          "timer_start": _ev(d, "timer_start")}),
                      mark=_ev(d, "sudo_enable"), duration_ms=(5, 40))
    sc.spawn(F.timer_service_actor, c.t, pid1, timer.name, svc.name, exec_argv, interval, runs,
             (), 2.0, c.rng.uniform(30, 120))
    yield c.sleep(c.rng.uniform(0.05, 0.3))
    yield from F.ssh_logout(c, sess)
    return d


# ------------------------------------------------------------------------------------------
# benign look-alikes

def admin_restart_chain(c, sc, host, user, ip, unit="nginx.service", daemon_reload=False):
    yield c.sleep(0)
    sess = yield from F.ssh_login(c, host, user, ip)
    pid1 = host.pid1
    yield _think(c, 5, 30)
    yield from F.sudo(c, sess, ["tail", "-n", "50", "/var/log/nginx/error.log"])
    yield _think(c, 10, 40)
    if daemon_reload:
        yield from F.sudo(c, sess, ["systemctl", "daemon-reload"],
                          effect=lambda c, r: systemctl(c, sess, ["daemon-reload"], pid1))
        yield _think(c, 3, 10)

    def restart(c, r):
        u = pid1.unit(unit)
        if u.invocation is None:
            u.new_invocation()
        j = pid1.job_id()
        yield pid1.job_start(c.t, u, j, "Stopping", "stop")
        yield pid1.deactivated(c.ms(30, 120), u)
        yield pid1.job_done(c.ms(0.2, 1), u, j, "Stopped", "stop")
        yield from F.emit(pid1.consumed(c.ms(0.1, 1), u, c.rng.randint(2, 90) * USEC))
        u.new_invocation()
        yield pid1.job_start(c.ms(0.5, 2), u, j)
        yield pid1.job_done(c.ms(20, 90), u, j, "Started")
    yield from F.sudo(c, sess, ["systemctl", "restart", unit], effect=restart)
    yield _think(c, 3, 10)
    yield from F.sudo(c, sess, ["systemctl", "status", unit], duration_ms=(2000, 9000))
    yield c.sleep(c.rng.uniform(20, 120))
    yield from F.ssh_logout(c, sess)


def apt_install_chain(c, sc, host, user, ip, package="certbot",
                      timers=(("certbot.timer", None),), services=()):
    """sudo apt install PKG: dpkg's postinst (dh_installsystemd snippets) runs
    `systemctl daemon-reload` and `deb-systemd-invoke start PKG.timer`; PID 1 logs Reloading.
    and Started PKG.timer.  apt/dpkg themselves log nothing to the journal."""
    yield c.sleep(0)
    sess = yield from F.ssh_login(c, host, user, ip)
    pid1 = host.pid1
    yield _think(c, 5, 30)
    yield from F.sudo(c, sess, ["apt", "update"], duration_ms=(3000, 9000))
    yield _think(c, 3, 12)

    def postinst(c, r):
        c.ms(8000, 30000)   # download and unpack
        for svc_name in services:
            u = pid1.unit(svc_name)
            yield from F.run_service(c, pid1, u, ["/usr/bin/true"], cpu_usec=0, duration_s=(0.02, 0.2))
        yield from systemctl(c, sess, ["daemon-reload"], pid1)
        for tname, _ in timers:
            c.ms(30, 200)
            yield from F.start_timer(c, pid1, pid1.unit(tname))
        c.ms(1500, 6000)   # triggers (man-db ...)
    yield from F.sudo(c, sess, ["apt", "install", package], effect=postinst)
    yield c.sleep(c.rng.uniform(20, 90))
    yield from F.ssh_logout(c, sess)


ANSIBLE_MODULES = ("AnsiballZ_setup.py", "AnsiballZ_file.py", "AnsiballZ_copy.py",
                   "AnsiballZ_copy.py", "AnsiballZ_systemd.py")


def ansible_chain(c, sc, host, user, ip, name, desc):
    """An Ansible run (become: sudo) that installs and starts a timer: sudo logs only
    `/bin/sh -c echo BECOME-SUCCESS-... ; /usr/bin/python3 .../AnsiballZ_*.py`; the systemd
    module then reloads PID 1 and starts the timer from python (no sudo record names it)."""
    yield c.sleep(0)
    sess = yield from F.ssh_login(c, host, user, ip, pts="pts/1")
    pid1 = host.pid1
    stamp = "%d.%d-%d-%d" % (c.t // USEC, c.rng.randint(1000, 9999), c.rng.randint(1000, 99999),
                             c.rng.randint(10**13, 10**14))
    for mod in ANSIBLE_MODULES:
        c.ms(300, 1500)
        tok = "".join(c.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(32))
        cmd = ["/bin/sh", "-c", "echo BECOME-SUCCESS-%s ; /usr/bin/python3 %s/.ansible/tmp/"
               "ansible-tmp-%s/%s" % (tok, user.home, stamp, mod)]
        eff = None
        if mod == "AnsiballZ_systemd.py":
            timer = pid1.unit(name + ".timer", desc)
            pid1.unit(name + ".service", desc, "oneshot")

            def eff(c, r, timer=timer):
                yield from systemctl(c, sess, ["daemon-reload"], pid1)
                c.ms(50, 300)
                yield from F.start_timer(c, pid1, timer)
        yield from F.sudo(c, sess, cmd, effect=eff, duration_ms=(200, 1500))
    yield c.sleep(c.rng.uniform(1, 5))
    yield from F.ssh_logout(c, sess)


# ------------------------------------------------------------------------------------------
# forgeries by an unprivileged user

def logger_proc(host, sess, argv, comm="logger"):
    u = sess.user
    p = host.spawn(u.uid, u.gid, comm, "/usr/bin/" + comm, argv, CAP_NONE, sess.cgroup,
                   int(sess.sid), u.uid)
    p.life = "zombie"     # logger has exited before journald reads /proc: no _EXE/_CMDLINE
    return p


def forge_syslog(c, sess, ident, msg, pri=6, fac=P.LOG_AUTH, spoof_pid=None):
    """logger -t IDENT [-p fac.pri] [--id=PID] MSG"""
    p = logger_proc(sess.host, sess, ["logger", "-t", ident, msg])
    return P.syslog(sess.host, c.t, p, ident, msg, pri, fac,
                    pid=spoof_pid if spoof_pid else False)


def forge_native(c, sess, fields):
    """logger --journald with a crafted field list; journald drops the client's _* fields."""
    p = logger_proc(sess.host, sess, ["logger", "--journald"])
    kept = [(k, v) for k, v in fields if not k.startswith("_")]
    return P.native(sess.host, c.t, p, kept)


def forge_stdout(c, sess, ident, msg, pri=6):
    """echo MSG | systemd-cat -t IDENT: the writer is cat (systemd-cat execs it)."""
    u = sess.user
    host = sess.host
    p = host.spawn(u.uid, u.gid, "cat", "/usr/bin/cat", ["cat"], CAP_NONE, sess.cgroup,
                   int(sess.sid), u.uid)
    return P.stdout(host, c.t, p, id128(c.rng), ident, msg, pri, 0)


def fake_pid1_started(name, desc, job, inv):
    return [("PRIORITY", "6"), ("SYSLOG_FACILITY", "3"), ("CODE_FILE", "src/core/job.c"),
            ("CODE_LINE", "767"), ("CODE_FUNC", "job_emit_done_message"),
            ("SYSLOG_IDENTIFIER", "systemd"), ("SYSLOG_PID", "1"),
            ("MESSAGE", "Started %s - %s." % (name, desc)), ("JOB_ID", str(job)),
            ("JOB_TYPE", "start"), ("JOB_RESULT", "done"), ("INVOCATION_ID", inv),
            ("MESSAGE_ID", P.MID_UNIT_STARTED), ("UNIT", name),
            ("_PID", "1"), ("_UID", "0"), ("_COMM", "systemd"), ("_SYSTEMD_UNIT", "init.scope"),
            ("_TRANSPORT", "kernel")]


def forged_chain(c, sc, host, forger, ip, victim="alice", fake_ip="203.0.113.66",
                 timer="evil", inject_into=None):
    """The whole T1053.006 chain forged by an unprivileged user: sshd Accepted (logger -t sshd),
    logind New session (logger --journald), sudo lines (systemd-cat -t sudo and logger -t sudo),
    PID 1 Reloading. and Started evil.timer with MESSAGE_ID/UNIT (logger --journald)."""
    yield c.sleep(0)
    sess = yield from F.ssh_login(c, host, forger, ip)
    yield _think(c, 10, 30)
    vu = host.users.get(victim)
    fake_pid = c.rng.randint(20000, 90000)
    fake_sid = str(c.rng.randint(60, 99))
    yield forge_syslog(c, sess, "sshd", "Accepted password for %s from %s port %d ssh2" % (
        victim, fake_ip, c.rng.randint(40000, 60000)), 6, P.LOG_AUTH, spoof_pid=fake_pid)
    c.ms(3, 10)
    yield forge_syslog(c, sess, "sshd", "pam_unix(sshd:session): session opened for user %s(uid=%d)"
                       " by (uid=0)" % (victim, vu.uid if vu else 1001), 6, P.LOG_AUTHPRIV,
                       spoof_pid=fake_pid)
    c.ms(3, 10)
    yield forge_native(c, sess, [
        ("PRIORITY", "6"), ("SYSLOG_FACILITY", "4"), ("SYSLOG_IDENTIFIER", "systemd-logind"),
        ("MESSAGE_ID", P.MID_SESSION_START), ("SESSION_ID", fake_sid), ("USER_ID", victim),
        ("LEADER", str(fake_pid)), ("MESSAGE", "New session %s of user %s." % (fake_sid, victim)),
        ("_PID", "512"), ("_COMM", "systemd-logind"), ("_UID", "0")])
    yield _think(c, 5, 20)
    yield forge_stdout(c, sess, "sudo", "%8s : TTY=pts/0 ; PWD=/home/%s ; USER=root ; COMMAND="
                       "/usr/bin/tee /etc/systemd/system/%s.service" % (victim, victim, timer), 5)
    c.ms(500, 3000)
    yield forge_syslog(c, sess, "sudo", "%8s : TTY=pts/0 ; PWD=/home/%s ; USER=root ; COMMAND="
                       "/usr/bin/systemctl enable --now %s.timer" % (victim, victim, timer), 5,
                       P.LOG_AUTHPRIV)
    c.ms(20, 80)
    yield forge_native(c, sess, [
        ("PRIORITY", "6"), ("SYSLOG_FACILITY", "3"), ("CODE_FILE", "src/core/main.c"),
        ("CODE_LINE", "1921"), ("CODE_FUNC", "invoke_main_loop"), ("SYSLOG_IDENTIFIER", "systemd"),
        ("SYSLOG_PID", "1"), ("MESSAGE", "Reloading."), ("_PID", "1"), ("_UID", "0"),
        ("_COMM", "systemd"), ("_TRANSPORT", "journal")])
    c.ms(100, 300)
    yield forge_native(c, sess, fake_pid1_started(timer + ".timer", "Evil",
                                                  c.rng.randint(1000, 9000), id128(c.rng)))
    yield _think(c, 30, 90)
    yield forge_native(c, sess, [
        ("PRIORITY", "6"), ("SYSLOG_FACILITY", "3"), ("SYSLOG_IDENTIFIER", "systemd"),
        ("SYSLOG_PID", "1"), ("MESSAGE", "Started %s.service - Evil." % timer),
        ("MESSAGE_ID", P.MID_UNIT_STARTED), ("UNIT", timer + ".service"), ("JOB_TYPE", "start"),
        ("JOB_RESULT", "done")])
    yield c.sleep(c.rng.uniform(10, 60))
    yield from F.ssh_logout(c, sess)


def inject_during(c, sc, host, forger_sess_holder, at_s):
    """Used by the forgeries case: forged PID 1 records dropped into another (genuine) session's
    window by the forger's already open session."""
    yield c.sleep(at_s)
    sess = forger_sess_holder["sess"]
    yield forge_native(c, sess, [
        ("PRIORITY", "6"), ("SYSLOG_FACILITY", "3"), ("SYSLOG_IDENTIFIER", "systemd"),
        ("SYSLOG_PID", "1"), ("MESSAGE", "Reloading.")])
    c.ms(150, 400)
    yield forge_native(c, sess, fake_pid1_started("backup-sync.timer", "Backup sync",
                                                  c.rng.randint(1000, 9000), id128(c.rng)))
