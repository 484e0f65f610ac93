"""Composite actors.  Each function is a generator used with `yield from` inside an actor
(see scenario.py); it yields Entry/Wake objects and returns a value (e.g. the session).

Sequences follow what Debian 12 (systemd 252, OpenSSH 9.2p1, sudo 1.9.13, PAM 1.5.2) logs:
  ssh login   sshd Accepted -> pam_unix session opened -> logind New session -> PID 1 user
              slice/user@UID.service (first session of the user) -> Started session-N.scope ->
              pam_env debug line
  ssh logout  child Received disconnect / Disconnected -> monitor session closed -> logind logged
              out -> PID 1 session-N.scope Deactivated -> logind Removed session -> 10 s later
              user@UID.service stop (unless another session or linger keeps it)
"""

from . import programs as P
from .model import CAP_ALL, CAP_NONE, MSEC, USEC, quote_cmdline

SECURE_PATH = {
    "systemctl": "/usr/bin/systemctl", "tee": "/usr/bin/tee", "cp": "/usr/bin/cp",
    "mv": "/usr/bin/mv", "sh": "/usr/bin/sh", "bash": "/usr/bin/bash", "install": "/usr/bin/install",
    "systemd-run": "/usr/bin/systemd-run", "loginctl": "/usr/bin/loginctl", "apt": "/usr/bin/apt",
    "apt-get": "/usr/bin/apt-get", "vim": "/usr/bin/vim", "nano": "/usr/bin/nano",
    "chmod": "/usr/bin/chmod", "curl": "/usr/bin/curl", "journalctl": "/usr/bin/journalctl",
    "tail": "/usr/bin/tail", "cat": "/usr/bin/cat", "less": "/usr/bin/less", "ls": "/usr/bin/ls",
    "useradd": "/usr/sbin/useradd", "nginx": "/usr/sbin/nginx", "dpkg": "/usr/bin/dpkg",
    "crontab": "/usr/bin/crontab", "ss": "/usr/bin/ss", "du": "/usr/bin/du", "df": "/usr/bin/df",
    "rm": "/usr/bin/rm", "mkdir": "/usr/bin/mkdir", "chown": "/usr/bin/chown",
    "python3": "/usr/bin/python3", "wget": "/usr/bin/wget", "touch": "/usr/bin/touch",
}


def emit(*items):
    """Yields the non-None entries of items (entries or lists of entries)."""
    for it in items:
        if it is None:
            continue
        if isinstance(it, (list, tuple)):
            for e in it:
                if e is not None:
                    yield e
        else:
            yield it


class SshSession:
    def __init__(self, host, user, ip, port, method, tty):
        self.host = host
        self.user = user
        self.ip = ip
        self.port = port
        self.method = method
        self.tty = tty            # "pts/N" or None (command session)
        self.monitor = None
        self.child = None
        self.sid = None
        self.scope = None
        self.cgroup = None
        self.marks = {}           # name -> (cursor, realtime) of evidence entries
        self.cwd = user.home

    def mark(self, name):
        def cb(entry, cursor, rt):
            self.marks[name] = {"cursor": cursor, "realtime": rt}
        return cb


def _marked(entry, cb):
    entry.mark = cb
    return entry


# ------------------------------------------------------------------------------------------
# user manager (systemd --user)

def user_manager_start(c, host, user):
    """PID 1 creates user-UID.slice, runs user-runtime-dir@UID and starts user@UID.service; the
    forked child runs PAM (systemd-user: pam_loginuid -> new audit session) as "(systemd)",
    then execs `systemd --user`, whose own startup is logged by the user manager."""
    from .host import Manager
    pid1 = host.pid1
    uid = user.uid
    sl = pid1.unit("user-%d.slice" % uid, "User Slice of UID %d" % uid)
    sl.new_invocation()
    yield pid1.job_done(c.ms(0.3, 2), sl, pid1.job_id(), "Created slice")
    rd = pid1.unit("user-runtime-dir@%d.service" % uid, "User Runtime Directory /run/user/%d" % uid,
                   "oneshot")
    rd.new_invocation()
    j = pid1.job_id()
    yield pid1.job_start(c.ms(0.2, 1), rd, j)
    yield pid1.job_done(c.ms(8, 20), rd, j, "Finished")
    um = pid1.unit("user@%d.service" % uid, "User Manager for UID %d" % uid, "notify")
    um.new_invocation()
    j = pid1.job_id()
    yield pid1.job_start(c.ms(0.5, 2), um, j)
    cg = "/user.slice/user-%d.slice/user@%d.service" % (uid, uid)
    proc = host.spawn(0, 0, "(systemd)", "/usr/lib/systemd/systemd", ["(systemd)"], CAP_ALL, cg)
    proc.set_audit(host.audit_session(), uid)
    yield P.syslog(host, c.ms(2, 6), proc, "(systemd)",
                   "pam_unix(systemd-user:session): session opened for user %s(uid=%d) by (uid=0)"
                   % (user.name, uid), 6, P.LOG_AUTHPRIV)
    # exec systemd --user
    proc.uid, proc.gid, proc.comm, proc.capeff = uid, user.gid, "systemd", CAP_NONE
    proc.cmdline = quote_cmdline([host.profile.libexec + "/systemd", "--user"])
    proc.move(cg + "/init.scope")
    m = Manager(host, proc, user)
    m.next_job = 1
    host.user_managers[uid] = m
    t0 = c.ms(10, 30)
    for name, verb in (("app.slice", "Created slice"), ("paths.target", "Reached target"),
                       ("timers.target", "Reached target")):
        u = m.unit(name)
        u.new_invocation()
        yield m.job_done(c.ms(0.1, 1), u, m.job_id(), verb)
    for ut in getattr(user, "enabled_user_timers", ()):
        u = m.unit(ut[0], ut[1])
        u.new_invocation()
        yield m.job_done(c.ms(0.1, 1), u, m.job_id(), "Started")
    sock = m.unit("dbus.socket")
    sock.new_invocation()
    j = m.job_id()
    yield m.job_start(c.ms(0.2, 1), sock, j)
    yield m.job_done(c.ms(0.2, 1), sock, j, "Listening on")
    for name in ("sockets.target", "basic.target", "default.target"):
        u = m.unit(name)
        u.new_invocation()
        yield m.job_done(c.ms(0.1, 1), u, m.job_id(), "Reached target")
    total = c.t - t0 + c.rng.randint(20, 60) * MSEC
    yield P.native(host, c.ms(0.1, 0.5), proc, m._hdr(
        ("src/core/manager.c", 3573, "manager_notify_finished")) + [
        ("MESSAGE_ID", P.MID_USER_STARTUP_FINISHED), ("USERSPACE_USEC", str(total)),
        ("MESSAGE", "Startup finished in %s." % P.format_timespan_ms(
            total - total % MSEC)),
    ])
    yield pid1.job_done(c.ms(0.5, 2), um, j, "Started")
    return m


def user_manager_stop(c, host, user):
    """user@UID.service stop after the last session (UserStopDelaySec=10s)."""
    m = host.user_managers.get(user.uid)
    pid1 = host.pid1
    uid = user.uid
    if m is None:
        return
    um = pid1.unit("user@%d.service" % uid)
    j = pid1.job_id()
    yield pid1.job_start(c.t, um, j, "Stopping", "stop")
    yield m.log(c.ms(0.5, 2), "Activating special unit exit.target...",
                ("src/core/manager.c", 2764, "manager_start_special"))
    stops = [("default.target", "Stopped target"), ("basic.target", "Stopped target"),
             ("paths.target", "Stopped target"), ("sockets.target", "Stopped target"),
             ("timers.target", "Stopped target")]
    for name, u in list(m.units.items()):
        if name.endswith(".timer") and u.active:
            stops.append((name, "Stopped"))
            u.active = False
    stops += [("dbus.socket", "Closed"), ("app.slice", "Removed slice")]
    for name, verb in stops:
        u = m.unit(name)
        yield m.job_done(c.ms(0.1, 1.5), u, m.job_id(), verb, "stop")
    for name, verb in (("shutdown.target", "Reached target"),):
        u = m.unit(name)
        u.new_invocation()
        yield m.job_done(c.ms(0.1, 1), u, m.job_id(), verb)
    ex = m.unit("systemd-exit.service")
    ex.new_invocation()
    yield m.job_done(c.ms(0.3, 2), ex, m.job_id(), "Finished")
    u = m.unit("exit.target")
    u.new_invocation()
    yield m.job_done(c.ms(0.1, 1), u, m.job_id(), "Reached target")
    del host.user_managers[uid]
    msid = getattr(m, "session_sid", None)
    if msid:
        yield host.logind_logged_out(c.ms(1, 4), msid, user.name, m.proc.pid)
    yield pid1.deactivated(c.ms(5, 30), um)
    if msid:
        yield host.logind_removed(c.ms(0.5, 2), msid, user.name, m.proc.pid)
    yield pid1.job_done(c.ms(0.1, 1), um, j, "Stopped", "stop")
    yield from emit(pid1.consumed(c.ms(0.1, 1), um, c.rng.randint(80, 1900) * MSEC))
    rd = pid1.unit("user-runtime-dir@%d.service" % uid)
    j = pid1.job_id()
    yield pid1.job_start(c.ms(0.2, 1), rd, j, "Stopping", "stop")
    mnt = pid1.unit("run-user-%d.mount" % uid, "/run/user/%d" % uid)
    yield pid1.deactivated(c.ms(1, 4), mnt)
    yield pid1.deactivated(c.ms(1, 4), rd)
    yield pid1.job_done(c.ms(0.1, 1), rd, j, "Stopped", "stop")
    sl = pid1.unit("user-%d.slice" % uid)
    yield pid1.job_done(c.ms(0.2, 1), sl, pid1.job_id(), "Removed slice", "stop")


def user_stop_actor(c, host, user):
    """logind stops user@UID.service UserStopDelaySec=10s after the user's last session ended;
    a later login or logout restarts that delay."""
    started = c.t
    yield c.sleep(10 + c.rng.uniform(0, 0.05))
    if user.uid in host.lingering or any(s.user.uid == user.uid for s in host.sessions.values()):
        return
    if host.last_logout.get(user.uid, 0) > started:
        return
    yield from user_manager_stop(c, host, user)


# ------------------------------------------------------------------------------------------
# ssh

def ssh_login(c, host, user, ip, port=None, method="publickey", tty=True, key=None,
              pts=None):
    """A successful SSH login; returns the SshSession."""
    prof = host.profile
    comm = prof.sshd_comm
    exe = prof.sshd_session_exe
    port = port or c.rng.randint(32768, 60999)
    s = SshSession(host, user, ip, port, method, None)
    mon = host.spawn(0, 0, comm, exe, ["%s: %s [priv]" % (comm, user.name)], CAP_ALL,
                     "/system.slice/ssh.service")
    s.monitor = mon
    if method == "publickey":
        key = key or "ED25519 SHA256:%s" % _b64(c.rng, 43)
        msg = "Accepted publickey for %s from %s port %d ssh2: %s" % (user.name, ip, port, key)
    else:
        msg = "Accepted %s for %s from %s port %d ssh2" % (method, user.name, ip, port)
    # journald reads the sender's /proc when it processes the datagram. When it is idle it
    # does so before pam_loginuid runs (~1-3 ms after "Accepted"), and the monitor's first
    # records have no _AUDIT_SESSION/_AUDIT_LOGINUID (the reference records); when the
    # login's burst of records keeps it busy a few ms, they have them (a systemd 252
    # container, tests/e2e). About half of the logins get each, decided by the port so
    # that no random draw is added.
    late_read = port % 2 == 0
    if late_read:
        sid = host.audit_session()
        mon.set_audit(sid, user.uid)      # pam_loginuid ran before journald read /proc
    yield _marked(P.syslog(host, c.t, mon, comm, msg, 6, P.LOG_AUTH), s.mark("ssh_login"))
    c.ms(0.8, 3)
    if not late_read:
        sid = host.audit_session()
        mon.set_audit(sid, user.uid)      # pam_loginuid
    s.sid = str(sid)
    yield P.syslog(host, c.t, mon, comm,
                   "pam_unix(sshd:session): session opened for user %s(uid=%d) by (uid=0)"
                   % (user.name, user.uid), 6, P.LOG_AUTHPRIV)
    first = user.uid not in host.user_managers
    yield _marked(host.logind_new_session(c.ms(1, 4), s.sid, user.name, mon.pid),
                  s.mark("session_start"))
    host.sessions[s.sid] = s
    pid1 = host.pid1
    if first:
        yield from user_manager_start(c, host, user)
        if prof.systemd >= 258:
            # systemd >= 256 registers the user manager itself as a session of class "manager"
            m = host.user_managers[user.uid]
            m.session_sid = str(m.proc.audit_session)
            yield host.logind_new_session(c.ms(0.5, 2), m.session_sid, user.name,
                                          m.proc.pid, "manager", "unspecified")
    scope = pid1.unit("session-%s.scope" % s.sid, "Session %s of User %s" % (s.sid, user.name))
    scope.new_invocation()
    s.scope = scope
    s.cgroup = "/user.slice/user-%d.slice/session-%s.scope" % (user.uid, s.sid)
    mon.move(s.cgroup)                    # logind's scope takes the leader (the monitor)
    yield pid1.job_done(c.ms(1, 5), scope, pid1.job_id(), "Started")
    yield P.syslog(host, c.ms(0.5, 2), mon, comm,
                   "pam_env(sshd:session): deprecated reading of user environment enabled", 7,
                   P.LOG_AUTHPRIV)
    if tty:
        s.tty = pts or "pts/%d" % c.rng.randint(0, 3)
        title = "%s: %s@%s" % (comm, user.name, s.tty)
    else:
        title = "%s: %s@notty" % (comm, user.name)
    s.child = host.spawn(user.uid, user.gid, comm, exe, [title], CAP_NONE, s.cgroup, sid, user.uid)
    c.ms(20, 200)
    return s


def ssh_logout(c, sess, cpu_usec=None):
    host = sess.host
    comm = host.profile.sshd_comm
    ch = sess.child
    if c.rng.random() < 0.3:
        ch.life = "zombie"   # the child was exiting: journald could not read exe/cmdline
    yield P.syslog(host, c.t, ch, comm, "Received disconnect from %s port %d:11: disconnected by user"
                   % (sess.ip, sess.port), 6, P.LOG_AUTH)
    yield P.syslog(host, c.us(80, 400), ch, comm, "Disconnected from user %s %s port %d" % (
        sess.user.name, sess.ip, sess.port), 6, P.LOG_AUTH)
    yield _marked(P.syslog(host, c.ms(0.3, 2), sess.monitor, comm,
                           "pam_unix(sshd:session): session closed for user %s" % sess.user.name,
                           6, P.LOG_AUTHPRIV), sess.mark("session_closed"))
    uname, leader = sess.user.name, sess.monitor.pid
    yield host.logind_logged_out(c.ms(0.5, 3), sess.sid, uname, leader)
    pid1 = host.pid1
    yield pid1.deactivated(c.ms(3, 25), sess.scope)
    if cpu_usec is None:
        cpu_usec = int(c.rng.expovariate(1 / 0.8) * USEC)
    yield from emit(pid1.consumed(c.ms(0.1, 0.5), sess.scope, cpu_usec))
    yield _marked(host.logind_removed(c.ms(0.5, 3), sess.sid, uname, leader),
                  sess.mark("session_removed"))
    host.sessions.pop(sess.sid, None)
    host.last_logout[sess.user.uid] = c.t
    if not any(s.user.uid == sess.user.uid for s in host.sessions.values()) and \
            sess.user.uid not in host.lingering:
        host.scenario.spawn(user_stop_actor, c.t, host, sess.user)


def ssh_failures(c, host, ip, user, invalid=False, attempts=3, password=True):
    """Password guessing on one connection (OpenSSH 9.2 monitor records)."""
    comm = host.profile.sshd_comm
    port = c.rng.randint(32768, 60999)
    title = "%s: %s [priv]" % (comm, "unknown" if invalid else user)
    mon = host.spawn(0, 0, comm, host.profile.sshd_session_exe, [title], CAP_ALL,
                     "/system.slice/ssh.service")
    if invalid:
        yield P.syslog(host, c.t, mon, comm, "Invalid user %s from %s port %d" % (user, ip, port),
                       6, P.LOG_AUTH)
    for i in range(attempts):
        c.ms(30, 120)
        if invalid:
            if i == 0:
                yield P.syslog(host, c.t, mon, comm, "pam_unix(sshd:auth): check pass; user unknown",
                               5, P.LOG_AUTHPRIV)
                yield P.syslog(host, c.us(10, 60), mon, comm,
                               "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
                               "tty=ssh ruser= rhost=%s " % ip, 5, P.LOG_AUTHPRIV)
            c.ms(1500, 2600)
            yield P.syslog(host, c.t, mon, comm, "Failed password for invalid user %s from %s port"
                           " %d ssh2" % (user, ip, port), 6, P.LOG_AUTH)
        else:
            if i == 0:
                yield P.syslog(host, c.t, mon, comm,
                               "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
                               "tty=ssh ruser= rhost=%s  user=%s" % (ip, user), 5, P.LOG_AUTHPRIV)
            c.ms(1500, 2600)
            yield P.syslog(host, c.t, mon, comm, "Failed password for %s from %s port %d ssh2"
                           % (user, ip, port), 6, P.LOG_AUTH)
    c.ms(100, 900)
    if attempts >= 6:
        yield P.syslog(host, c.t, mon, comm, "error: maximum authentication attempts exceeded for "
                       "%s%s from %s port %d ssh2 [preauth]" % ("invalid user " if invalid else "",
                                                                  user, ip, port), 3, P.LOG_AUTH)
        yield P.syslog(host, c.us(50, 300), mon, comm, "Disconnecting %s %s %s port %d: Too many "
                       "authentication failures [preauth]" % (
                           "invalid user" if invalid else "authenticating user", user, ip, port),
                       6, P.LOG_AUTH)
        if attempts > 6:
            yield P.syslog(host, c.us(50, 300), mon, comm, "PAM %d more authentication failures; "
                           "logname= uid=0 euid=0 tty=ssh ruser= rhost=%s%s" % (
                               attempts - 1, ip, "" if invalid else "  user=" + user),
                           5, P.LOG_AUTHPRIV)
    else:
        yield P.syslog(host, c.t, mon, comm, "Connection closed by %s %s %s port %d [preauth]" % (
            "invalid user" if invalid else "authenticating user", user, ip, port), 6, P.LOG_AUTH)
        if attempts > 1:
            yield P.syslog(host, c.us(50, 300), mon, comm, "PAM %d more authentication failure%s; "
                           "logname= uid=0 euid=0 tty=ssh ruser= rhost=%s%s" % (
                               attempts - 1, "s" if attempts > 2 else "", ip,
                               "" if invalid else "  user=" + user), 5, P.LOG_AUTHPRIV)


def ssh_preauth_noise(c, host, ip):
    comm = host.profile.sshd_comm
    mon = host.spawn(0, 0, comm, host.profile.sshd_session_exe, ["%s: [accepted]" % comm],
                     CAP_ALL, "/system.slice/ssh.service")
    port = c.rng.randint(1024, 65000)
    r = c.rng.random()
    if r < 0.4:
        yield P.syslog(host, c.t, mon, comm, "Connection closed by %s port %d [preauth]" % (ip, port),
                       6, P.LOG_AUTH)
    elif r < 0.65:
        yield P.syslog(host, c.t, mon, comm, "error: kex_exchange_identification: Connection closed "
                       "by remote host", 3, P.LOG_AUTH)
        yield P.syslog(host, c.us(20, 200), mon, comm, "Connection closed by %s port %d" % (ip, port),
                       6, P.LOG_AUTH)
    elif r < 0.8:
        yield P.syslog(host, c.t, mon, comm, "Received disconnect from %s port %d:11: Bye Bye "
                       "[preauth]" % (ip, port), 6, P.LOG_AUTH)
        yield P.syslog(host, c.us(20, 200), mon, comm, "Disconnected from %s port %d [preauth]" % (
            ip, port), 6, P.LOG_AUTH)
    else:
        yield P.syslog(host, c.t, mon, comm, "banner exchange: Connection from %s port %d: invalid "
                       "format" % (ip, port), 6, P.LOG_AUTH)


def sftp_subsystem(c, sess):
    """scp/sftp over an existing connection: the user child logs the subsystem request."""
    host = sess.host
    yield P.syslog(host, c.t, sess.child, host.profile.sshd_comm,
                   "subsystem request for sftp by user %s" % sess.user.name, 6, P.LOG_AUTH)


# ------------------------------------------------------------------------------------------
# sudo

def sudo_lines(user, text, maxlen=960):
    """sudo 1.9.13 eventlog do_syslog_sudo(): "%8s : %s", continuation lines
    "%8s : (command continued) %s", split at the last space within syslog_maxlen."""
    out = []
    fmt_first, fmt_cont = "%8s : %s", "%8s : (command continued) %s"
    fmt = fmt_first
    p = text
    while p:
        limit = maxlen - (len(fmt) - 5 + len(user))
        if len(p) > limit:
            cut = p.rfind(" ", 0, limit)
            if cut <= 0:
                cut = limit
            out.append(fmt % (user, p[:cut]))
            p = p[cut:].lstrip(" ")
        else:
            out.append(fmt % (user, p))
            p = ""
        fmt = fmt_cont
    return out


def resolve(argv):
    a0 = argv[0]
    if "/" not in a0:
        a0 = SECURE_PATH.get(a0, "/usr/bin/" + a0)
    return " ".join([a0] + list(argv[1:]))


class SudoRun:
    def __init__(self, proc, command):
        self.proc = proc
        self.command = command
        self.marks = {}


def sudo(c, sess, argv, effect=None, runas="root", duration_ms=(30, 300), mark=None):
    """`sudo argv...` typed in session sess.  effect(c, run) is a flow run while the command
    executes (e.g. PID 1 reacting to systemctl).  Returns the SudoRun."""
    host = sess.host
    u = sess.user
    p = host.spawn(u.uid, u.gid, "sudo", "/usr/bin/sudo", ["sudo"] + list(argv), CAP_ALL,
                   sess.cgroup, int(sess.sid), u.uid)
    cmd = resolve(argv)
    text = "%sPWD=%s ; USER=%s ; COMMAND=%s" % (
        "TTY=%s ; " % sess.tty if sess.tty else "", sess.cwd, runas, cmd)
    run = SudoRun(p, cmd)
    for i, line in enumerate(sudo_lines(u.name, text)):
        e = P.syslog(host, c.t if i == 0 else c.us(30, 90), p, "sudo", line, 5, P.LOG_AUTHPRIV,
                     pid=False)
        if i == 0 and mark is not None:
            e.mark = mark
        yield e
    by = u.name if sess.tty else ""
    ruid = host.users[runas].uid if runas in host.users else 0
    yield P.syslog(host, c.us(400, 1500), p, "sudo",
                   "pam_unix(sudo:session): session opened for user %s(uid=%d) by %s(uid=%d)"
                   % (runas, ruid, by, u.uid), 6, P.LOG_AUTHPRIV, pid=False, gid=0)
    c.ms(2, 10)
    if effect is not None:
        yield from effect(c, run)
    c.ms(*duration_ms)
    yield P.syslog(host, c.t, p, "sudo", "pam_unix(sudo:session): session closed for user %s"
                   % runas, 6, P.LOG_AUTHPRIV, pid=False, gid=0)
    return run


def sudo_denied(c, sess, argv, reason="3 incorrect password attempts"):
    host = sess.host
    u = sess.user
    p = host.spawn(u.uid, u.gid, "sudo", "/usr/bin/sudo", ["sudo"] + list(argv), CAP_ALL,
                   sess.cgroup, int(sess.sid), u.uid)
    if "password" in reason:
        yield P.syslog(host, c.t, p, "sudo", "pam_unix(sudo:auth): authentication failure; logname=%s "
                       "uid=%d euid=0 tty=/dev/%s ruser=%s rhost=  user=%s" % (
                           u.name, u.uid, sess.tty or "", u.name, u.name), 5, P.LOG_AUTHPRIV,
                       pid=False)
        c.ms(6000, 12000)
    text = "%s ; %sPWD=%s ; USER=root ; COMMAND=%s" % (
        reason, "TTY=%s ; " % sess.tty if sess.tty else "", sess.cwd, resolve(argv))
    for line in sudo_lines(u.name, text):
        yield P.syslog(host, c.t, p, "sudo", line, 1, P.LOG_AUTHPRIV, pid=False)


# ------------------------------------------------------------------------------------------
# systemctl effects and unit runs

def client_proc(host, sess, argv, uid=0, gid=0):
    """A process run by sudo (or the user) inside the session, e.g. systemctl."""
    u = sess.user
    return host.spawn(uid, gid, argv[0].rsplit("/", 1)[-1], SECURE_PATH.get(argv[0], argv[0]),
                      argv, CAP_ALL if uid == 0 else CAP_NONE, sess.cgroup, int(sess.sid), u.uid)


def daemon_reload(c, manager, client=None, caller_unit=None, mark=None):
    """PID 1 (or a user manager) reloading, as the manager's version logs it."""
    host = manager.host
    if host.profile.systemd >= 254:
        pid = client.pid if client else host.alloc_pid()
        ms = c.rng.randint(90, 420)
        entries = manager.reload_newer(c.t, pid, "systemctl", caller_unit, ms)
        entries[0].mark = mark
        yield entries[0]
        yield entries[1]
        c.t += ms * MSEC
        entries[2].t = c.t
        yield entries[2]
        return entries[0]
    e = manager.reloading(c.t)
    e.mark = mark
    yield e
    c.ms(90, 420)
    return e


def start_timer(c, manager, timer, mark=None):
    """A timer's start job completes at once: only "Started x.timer - Desc." is logged (the
    unit goes straight to active, so the "Starting" message is skipped, job.c 252)."""
    timer.new_invocation()
    timer.active = True
    e = manager.job_done(c.t, timer, manager.job_id(), "Started")
    if mark is not None:
        e.mark = mark
    yield e


def run_service(c, manager, svc, exe_argv, output=(), cpu_usec=None, uid=0, gid=0,
                duration_s=(0.05, 2.0), ident=None, fail=False, mark=None):
    """One run of a service unit (typically triggered by its timer): PID 1 job messages around
    the service's own stdout lines.  Oneshot: Starting/Deactivated/Finished; simple: Started/
    Deactivated.  User managers do not log "Deactivated successfully" (debug level)."""
    host = manager.host
    svc.new_invocation()
    j = manager.job_id()
    oneshot = svc.svc_type == "oneshot"
    if oneshot:
        e = manager.job_start(c.t, svc, j)
    else:
        e = manager.job_done(c.t, svc, j, "Started")
    if mark is not None:
        e.mark = mark
    yield e
    if manager.system:
        cg = "/system.slice/" + svc.name
    else:
        cg = "/user.slice/user-%d.slice/user@%d.service/app.slice/%s" % (
            manager.user.uid, manager.user.uid, svc.name)
    audit = None if manager.system else manager.proc.audit_session
    loginuid = None if manager.system else manager.user.uid
    comm = exe_argv[0].rsplit("/", 1)[-1]
    p = host.spawn(uid, gid, comm, exe_argv[0], exe_argv, CAP_ALL if uid == 0 else CAP_NONE, cg,
                   audit, loginuid)
    sid = host.stream_id((svc.name, svc.invocation))
    c.ms(2, 15)
    for line in output:
        yield P.stdout(host, c.ms(1, 40), p, sid, ident or comm, line)
    c.t += int(c.rng.uniform(*duration_s) * USEC)
    if fail:
        yield manager.process_exit(c.t, svc)
        yield manager.failed_result(c.us(50, 300), svc)
        yield manager.job_done(c.us(50, 300), svc, j, "Failed to start", result="failed") \
            if oneshot else None
    else:
        yield from emit(manager.deactivated(c.t, svc))
        if oneshot:
            yield manager.job_done(c.us(50, 400), svc, j, "Finished")
    if cpu_usec is None:
        cpu_usec = int(c.rng.expovariate(1 / 0.3) * USEC)
    yield from emit(manager.consumed(c.us(50, 400), svc, cpu_usec))


def timer_service_actor(c, manager, timer_name, svc_name, exe_argv, interval_s, count=None,
                        output=(), jitter_s=0.0, first_in_s=None, ident=None):
    """A started timer firing its service every interval_s (OnUnitActiveSec/OnCalendar)."""
    n = 0
    timer = manager.unit(timer_name)
    svc = manager.unit(svc_name)
    yield c.sleep(interval_s if first_in_s is None else first_in_s)
    while count is None or n < count:
        if manager.host.user_managers.get(getattr(manager.user, "uid", -1)) is not manager \
                and not manager.system:
            return  # the user manager went away
        if not timer.active:
            return
        out = output(n) if callable(output) else output
        yield from run_service(c, manager, svc, exe_argv, out, ident=ident)
        n += 1
        yield c.sleep(interval_s + c.rng.uniform(0, jitter_s))


def _b64(rng, n):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "".join(rng.choice(alphabet) for _ in range(n))
