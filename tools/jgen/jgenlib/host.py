"""A host: its journal, its processes and service managers, and the builders of each program's
records.  Everything here returns programs.Entry objects; timing is the caller's business."""

import random

from . import programs as P
from .export import JournalFile, encode_field, field_hash
from .model import (CAP_ALL, CAP_JOURNALD, CAP_LOGIND, CAP_NONE, CAP_TIMESYNCD, DEBIAN12, MSEC,
                    USEC, ContextCache, Proc, Unit, User, id128, quote_cmdline)

# Descriptions of units a Debian 12 server has (unit files of the respective packages).
SYSTEM_UNITS = {
    "ssh.service": ("OpenBSD Secure Shell server", "notify"),
    "cron.service": ("Regular background program processing daemon", "simple"),
    "systemd-logind.service": ("User Login Management", "notify"),
    "systemd-journald.service": ("Journal Service", "notify"),
    "systemd-timesyncd.service": ("Network Time Synchronization", "notify"),
    "apt-daily.timer": ("Daily apt download activities", None),
    "apt-daily.service": ("Daily apt download activities", "oneshot"),
    "apt-daily-upgrade.timer": ("Daily apt upgrade and clean activities", None),
    "apt-daily-upgrade.service": ("Daily apt upgrade and clean activities", "oneshot"),
    "dpkg-db-backup.timer": ("Daily dpkg database backup timer", None),
    "dpkg-db-backup.service": ("Daily dpkg database backup service", "oneshot"),
    "e2scrub_all.timer": ("Periodic ext4 Online Metadata Check for All Filesystems", None),
    "e2scrub_all.service": ("Online ext4 Metadata Check for All Filesystems", "oneshot"),
    "fstrim.timer": ("Discard unused blocks once a week", None),
    "fstrim.service": ("Discard unused blocks on filesystems from /etc/fstab", "oneshot"),
    "logrotate.timer": ("Daily rotation of log files", None),
    "logrotate.service": ("Rotate log files", "oneshot"),
    "man-db.timer": ("Daily man-db regeneration", None),
    "man-db.service": ("Daily man-db regeneration", "oneshot"),
    "systemd-tmpfiles-clean.timer": ("Daily Cleanup of Temporary Directories", None),
    "systemd-tmpfiles-clean.service": ("Cleanup of Temporary Directories", "oneshot"),
    "phpsessionclean.timer": ("Clean PHP session files every 30 mins", None),
    "phpsessionclean.service": ("Clean php session files", "oneshot"),
    "certbot.timer": ("Run certbot twice daily", None),
    "certbot.service": ("Certbot", "oneshot"),
    "sysstat-collect.timer": ("Run system activity accounting tool every 10 minutes", None),
    "sysstat-collect.service": ("system activity accounting tool", "oneshot"),
    "sysstat-summary.timer": ("Generate summary of yesterday's process accounting", None),
    "sysstat-summary.service": ("Generate a daily summary of process accounting", "oneshot"),
    "sysstat.service": ("Resets System Activity Logs", "oneshot"),
    "nginx.service": ("A high performance web server and a reverse proxy server", "forking"),
    "php8.2-fpm.service": ("The PHP 8.2 FastCGI Process Manager", "notify"),
    "postfix@-.service": ("Postfix Mail Transport Agent (instance -)", "forking"),
    "prometheus-node-exporter.service": ("Prometheus exporter for machine metrics", "simple"),
    "gunicorn.service": ("gunicorn daemon for the shop application", "notify"),
    "unattended-upgrades.service": ("Unattended Upgrades Shutdown", "simple"),
    "timers.target": ("Timer Units", None),
    "user.slice": ("User and Session Slice", None),
}

USER_UNITS = {
    "app.slice": ("User Application Slice", None),
    "paths.target": ("Paths", None),
    "timers.target": ("Timers", None),
    "sockets.target": ("Sockets", None),
    "basic.target": ("Basic System", None),
    "default.target": ("Main User Target", None),
    "shutdown.target": ("Shutdown", None),
    "exit.target": ("Exit the Session", None),
    "systemd-exit.service": ("Exit the Session", "oneshot"),
    "dbus.socket": ("D-Bus User Message Bus Socket", None),
    "dbus.service": ("D-Bus User Message Bus", "notify"),
}


class Manager:
    """A systemd service manager: PID 1 (user=None) or a user's `systemd --user`."""

    def __init__(self, host, proc, user=None):
        self.host = host
        self.proc = proc
        self.user = user
        self.units = {}
        self.system = user is None
        self.unit_field = "UNIT" if self.system else "USER_UNIT"
        self.inv_field = "INVOCATION_ID" if self.system else "USER_INVOCATION_ID"
        self.next_job = 1

    def unit(self, name, description=None, svc_type=None):
        u = self.units.get(name)
        if u is None:
            table = SYSTEM_UNITS if self.system else USER_UNITS
            d, ty = table.get(name, (None, None))
            u = Unit(self, name, description if description is not None else d,
                     svc_type or ty or ("oneshot" if name.endswith(".service") else None))
            self.units[name] = u
        elif description is not None:
            u.description = description
        return u

    def job_id(self):
        j = self.next_job
        self.next_job += 1 + (self.host.rng.random() < 0.2)
        return j

    def _hdr(self, code, pri=6):
        return P.native_header(pri, P.LOG_DAEMON, self.proc.pid, code, "systemd")

    # ---- messages
    def log(self, t, msg, code=("src/core/main.c", 1921, "invoke_main_loop"), pri=6, extra=()):
        return P.native(self.host, t, self.proc,
                        self._hdr(code, pri) + [("MESSAGE", msg)] + list(extra))

    def reloading(self, t):
        """systemd 252 logs only "Reloading." (main.c invoke_main_loop()); no initiator."""
        return self.log(t, "Reloading.")

    def reload_newer(self, t, client_pid, comm, caller_unit, duration_ms):
        """systemd >= 254: initiator line (dbus-manager.c log_caller()), "Reloading...",
        "Reloading finished in N ms." (main.c)."""
        msg = "Reloading requested from client PID %d%s%s..." % (
            client_pid, " ('%s')" % comm if comm else "",
            " (unit %s)" % caller_unit if caller_unit else "")
        return [self.log(t, msg, ("src/core/dbus-manager.c", 1573, "log_caller")),
                self.log(t + 900, "Reloading...", ("src/core/main.c", 2086, "invoke_main_loop")),
                self.log(t + duration_ms * MSEC, "Reloading finished in %d ms." % duration_ms,
                         ("src/core/main.c", 2112, "invoke_main_loop"))]

    def job_start(self, t, unit, job, verb="Starting", job_type="start"):
        """job_emit_start_message() (job.c 252): Starting/Stopping/Reloading %s..."""
        mid = {"start": P.MID_UNIT_STARTING, "stop": P.MID_UNIT_STOPPING,
               "reload": P.MID_UNIT_RELOADING}[job_type]
        return P.native(self.host, t, self.proc, self._hdr(
            ("src/core/job.c", 580, "job_emit_start_message")) + [
            ("MESSAGE", "%s %s..." % (verb, unit.ident())), ("JOB_ID", str(job)),
            ("JOB_TYPE", job_type), (self.inv_field, unit.invocation or ""), ("MESSAGE_ID", mid),
            (self.unit_field, unit.name)])

    def job_done(self, t, unit, job, verb="Started", job_type="start", result="done"):
        """job_emit_done_message() (job.c 252).  verb: Started, Finished (oneshot services),
        Reached target, Listening on, Created slice, Stopped, Stopped target, Removed slice,
        Closed, Mounted, Unmounted, Failed to start."""
        if job_type == "start":
            mid = P.MID_UNIT_STARTED if result == "done" else P.MID_UNIT_FAILED
        elif job_type == "reload":
            mid = P.MID_UNIT_RELOADED
        else:
            mid = P.MID_UNIT_STOPPED
        pri = 6 if result == "done" else 3
        return P.native(self.host, t, self.proc, self._hdr(
            ("src/core/job.c", 767, "job_emit_done_message"), pri) + [
            ("MESSAGE", "%s %s." % (verb, unit.ident())), ("JOB_ID", str(job)),
            ("JOB_TYPE", job_type), ("JOB_RESULT", result), (self.inv_field, unit.invocation or ""),
            ("MESSAGE_ID", mid), (self.unit_field, unit.name)])

    def deactivated(self, t, unit):
        """unit_log_success() (unit.c 252): INFO for PID 1, DEBUG (not stored) for user managers."""
        if not self.system:
            return None
        return P.native(self.host, t, self.proc, self._hdr(
            ("src/core/unit.c", 5618, "unit_log_success")) + [
            ("MESSAGE_ID", P.MID_UNIT_SUCCESS), (self.inv_field, unit.invocation or ""),
            ("MESSAGE", "%s: Deactivated successfully." % unit.name), (self.unit_field, unit.name)])

    def failed_result(self, t, unit, result="exit-code"):
        return P.native(self.host, t, self.proc, self._hdr(
            ("src/core/unit.c", 5629, "unit_log_failure"), 4) + [
            ("MESSAGE_ID", P.MID_UNIT_FAILURE_RESULT), (self.inv_field, unit.invocation or ""),
            ("MESSAGE", "%s: Failed with result '%s'." % (unit.name, result)),
            ("UNIT_RESULT", result), (self.unit_field, unit.name)])

    def process_exit(self, t, unit, status=1, status_name="FAILURE"):
        return P.native(self.host, t, self.proc, self._hdr(
            ("src/core/unit.c", 5680, "unit_log_process_exit"), 5) + [
            ("MESSAGE_ID", P.MID_UNIT_PROCESS_EXIT), (self.inv_field, unit.invocation or ""),
            ("MESSAGE", "%s: Main process exited, code=exited, status=%d/%s" % (
                unit.name, status, status_name)),
            ("EXIT_CODE", "exited"), ("EXIT_STATUS", str(status)), (self.unit_field, unit.name)])

    def consumed(self, t, unit, cpu_usec):
        """unit_log_resources() (unit.c 252): logged at INFO only above 1 s of CPU time (NOTICE
        above 10 min), otherwise at DEBUG, which PID 1's default LogLevel=info drops."""
        if cpu_usec <= USEC:
            return None
        pri = 5 if cpu_usec > 600 * USEC else 6
        return P.native(self.host, t, self.proc, self._hdr(
            ("src/core/unit.c", 2503, "unit_log_resources"), pri) + [
            ("CPU_USAGE_NSEC", str(cpu_usec * 1000)),
            ("MESSAGE", "%s: Consumed %s CPU time." % (unit.name, P.format_timespan_ms(cpu_usec))),
            ("MESSAGE_ID", P.MID_UNIT_RESOURCES), (self.unit_field, unit.name),
            (self.inv_field, unit.invocation or "")])


class Host:
    def __init__(self, scenario, name, profile=DEBIAN12, users=(), ip="192.0.2.10",
                 boot_rt=None, uptime_s=None, order="journal", php=False, nginx=False,
                 sysstat=False, seed=None):
        self.scenario = scenario
        self.name = name
        self.profile = profile
        self.rng = random.Random("%s/%s" % (scenario.seed if seed is None else seed, name))
        self.machine_id = id128(self.rng)
        self.journal = JournalFile(id128(self.rng), self.rng.randint(0x800, 0x40000), order)
        self.ip = ip
        self.php = php
        self.nginx = nginx
        self.sysstat = sysstat
        self.users = {}
        self.add_user(User("root", 0, home="/root", sudoer=True))
        for u in users:
            self.add_user(u)
        self.cache = ContextCache()
        self.user_managers = {}      # uid -> Manager
        self.sessions = {}           # sid -> session object
        self.lingering = set()
        self.last_logout = {}
        self.next_audit = self.rng.randint(3, 40)
        self.pid_max = 4194304
        start = scenario.start if boot_rt is None else boot_rt
        if uptime_s is None:
            uptime_s = self.rng.randint(2 * 86400, 40 * 86400)
        self._boot(start - uptime_s * USEC, booting=False)

    # ---- identity and boots
    def add_user(self, u):
        self.users[u.name] = u
        return u

    def _boot(self, boot_rt, booting):
        self.boot_rt = boot_rt
        self.boot_id = id128(self.rng)
        self.tail = [encode_field("_BOOT_ID", self.boot_id),
                     encode_field("_MACHINE_ID", self.machine_id),
                     encode_field("_HOSTNAME", self.name),
                     encode_field("_RUNTIME_SCOPE", "system")]
        self.cache = ContextCache()
        self.user_managers = {}
        self.sessions = {}
        self.next_pid = 1
        pid1 = self.proc(1, 0, 0, "systemd", "/usr/lib/systemd/systemd", ["/sbin/init"], CAP_ALL,
                         "/init.scope")
        self.pid1 = Manager(self, pid1)
        self.systemd = self.pid1
        if booting:
            self.next_pid = 230
            self.pid1.next_job = 1
        else:
            self.next_pid = self.rng.randint(30000, 600000)
            self.pid1.next_job = self.rng.randint(2000, 60000)
        self.journald = self.proc(self.rng.randint(180, 260), 0, 0, "systemd-journal",
                                  "/usr/lib/systemd/systemd-journald",
                                  [self.profile.libexec + "/systemd-journald"], CAP_JOURNALD,
                                  "/system.slice/systemd-journald.service")
        self.logind_proc = self.proc(self.rng.randint(480, 540), 0, 0, "systemd-logind",
                                     "/usr/lib/systemd/systemd-logind",
                                     [self.profile.libexec + "/systemd-logind"], CAP_LOGIND,
                                     "/system.slice/systemd-logind.service")
        self.cron_proc = self.proc(self.rng.randint(440, 479), 0, 0, "cron", "/usr/sbin/cron",
                                   ["/usr/sbin/cron", "-f"], CAP_ALL, "/system.slice/cron.service")
        self.sshd_proc = self.proc(self.rng.randint(560, 640), 0, 0, "sshd", "/usr/sbin/sshd",
                                   ["sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"],
                                   CAP_ALL, "/system.slice/ssh.service")
        self.timesyncd_proc = self.proc(self.rng.randint(400, 439), 997, 997, "systemd-timesyn",
                                        "/usr/lib/systemd/systemd-timesyncd",
                                        [self.profile.libexec + "/systemd-timesyncd"],
                                        CAP_TIMESYNCD, "/system.slice/systemd-timesyncd.service")
        for u in ("ssh.service", "cron.service", "systemd-logind.service",
                  "systemd-journald.service", "systemd-timesyncd.service", "user.slice"):
            self.pid1.unit(u).new_invocation()
        self.stream_ids = {}
        self._warm()

    def _warm(self):
        """Pre-populates the journal's data-object table with values every running journal has
        seen long ago, so that excerpts look like a warm journal (host fields and common
        values first, as in the reference records)."""
        objs = self.journal.objects
        if objs:
            for data, _ in self.tail:
                if data not in objs:
                    objs[data] = (len(objs), field_hash(data))
            return
        warm = list(self.tail) + [
            encode_field(n, v) for n, v in (
                ("PRIORITY", "6"), ("_UID", "0"), ("_GID", "0"), ("_CAP_EFFECTIVE", CAP_ALL),
                ("_TRANSPORT", "syslog"), ("SYSLOG_FACILITY", "4"), ("PRIORITY", "5"),
                ("SYSLOG_FACILITY", "10"), ("_TRANSPORT", "journal"), ("SYSLOG_FACILITY", "3"),
                ("SYSLOG_IDENTIFIER", "systemd"), ("_PID", "1"), ("_COMM", "systemd"),
                ("_EXE", "/usr/lib/systemd/systemd"), ("_CMDLINE", "/sbin/init"),
                ("TID", "1"), ("CODE_FILE", "src/core/job.c"),
                ("_SYSTEMD_CGROUP", "/init.scope"), ("_SYSTEMD_UNIT", "init.scope"),
                ("_SYSTEMD_SLICE", "-.slice"), ("JOB_TYPE", "start"), ("JOB_RESULT", "done"),
                ("MESSAGE_ID", "39f53479d3a045ac8e11786248231fbf"),
                ("CODE_LINE", "767"), ("CODE_FUNC", "job_emit_done_message"),
                ("PRIORITY", "7"), ("_TRANSPORT", "stdout"), ("SYSLOG_IDENTIFIER", "sshd"),
                ("_COMM", "sshd"), ("_EXE", "/usr/sbin/sshd"), ("_SYSTEMD_SLICE", "system.slice"),
                ("_SYSTEMD_UNIT", "ssh.service"), ("_SYSTEMD_CGROUP", "/system.slice/ssh.service"),
                ("SYSLOG_IDENTIFIER", "CRON"), ("_COMM", "cron"), ("_EXE", "/usr/sbin/cron"),
                ("_CMDLINE", "/usr/sbin/CRON -f"), ("SYSLOG_FACILITY", "9"),
                ("_SYSTEMD_UNIT", "cron.service"), ("_AUDIT_LOGINUID", "0"),
                ("_SYSTEMD_CGROUP", "/system.slice/cron.service"),
                ("MESSAGE_ID", "7d4958e842da4a758f6c1cdc7b36dcc5"), ("CODE_LINE", "580"),
                ("CODE_FUNC", "job_emit_start_message"),
                ("MESSAGE_ID", "7ad2d189f7e94e70a38c781354912448"),
                ("CODE_FILE", "src/core/unit.c"), ("CODE_LINE", "5618"),
                ("CODE_FUNC", "unit_log_success"), ("_TRANSPORT", "kernel"),
                ("SYSLOG_FACILITY", "0"), ("SYSLOG_IDENTIFIER", "kernel"))]
        for data, _ in warm:
            if data not in objs:
                objs[data] = (len(objs), field_hash(data))

    def reboot(self, boot_rt):
        self._boot(boot_rt, booting=True)

    # ---- processes
    def alloc_pid(self):
        self.next_pid += 1 + int(self.rng.expovariate(1 / 3.0))
        if self.next_pid >= self.pid_max:
            self.next_pid = 300
        return self.next_pid

    def proc(self, pid, uid, gid, comm, exe, argv, capeff, cgroup, audit=None, loginuid=None):
        if pid is None:
            pid = self.alloc_pid()
        return Proc(self, pid, uid, gid, comm, exe, argv, capeff, cgroup, audit, loginuid)

    def spawn(self, uid, gid, comm, exe, argv, capeff, cgroup, audit=None, loginuid=None):
        return self.proc(None, uid, gid, comm, exe, argv, capeff, cgroup, audit, loginuid)

    def audit_session(self):
        s = self.next_audit
        self.next_audit += 1
        return s

    def invocation_of(self, unit, user_unit, owner):
        if user_unit:
            m = self.user_managers.get(int(owner)) if owner else None
            if m is None:
                return None
            u = m.units.get(user_unit)
            return u.invocation if u else None
        if unit is None:
            return None
        u = self.pid1.units.get(unit)
        return u.invocation if u else None

    def stream_id(self, key):
        s = self.stream_ids.get(key)
        if s is None:
            s = self.stream_ids[key] = id128(self.rng)
        return s

    # ---- writer hook
    def trusted(self, entry):
        return self.cache.fields(entry.proc, entry.t, entry.uid, entry.gid)

    # ---- small program builders
    def logind(self, t, fields, code):
        hdr = P.native_header(6, P.LOG_AUTH, self.logind_proc.pid, code, "systemd-logind")
        return P.native(self, t, self.logind_proc, hdr + fields)

    def logind_new_session(self, t, sid, user, leader, cls="user", typ="tty"):
        """logind-session.c session_start() 252: "New session %s of user %s."; >= 258 adds
        class and type, quoted, and CLASS=/TYPE= fields."""
        f = [("MESSAGE_ID", P.MID_SESSION_START), ("SESSION_ID", sid), ("USER_ID", user),
             ("LEADER", str(leader))]
        if self.profile.systemd >= 258:
            f += [("CLASS", cls), ("TYPE", typ),
                  ("MESSAGE", "New session '%s' of user '%s' with class '%s' and type '%s'." % (
                      sid, user, cls, typ))]
            code = ("src/login/logind-session.c", 893, "session_start")
        else:
            f.append(("MESSAGE", "New session %s of user %s." % (sid, user)))
            code = ("src/login/logind-session.c", 780, "session_start")
        return self.logind(t, f, code)

    def logind_logged_out(self, t, sid, user, leader):
        return self.logind(t, [("SESSION_ID", sid), ("USER_ID", user), ("LEADER", str(leader)),
                               ("MESSAGE", "Session %s logged out. Waiting for processes to exit."
                                % sid)],
                           ("src/login/logind-session.c", 851, "session_stop"))

    def logind_removed(self, t, sid, user, leader):
        return self.logind(t, [("MESSAGE_ID", P.MID_SESSION_STOP), ("SESSION_ID", sid),
                               ("USER_ID", user), ("LEADER", str(leader)),
                               ("MESSAGE", "Removed session %s." % sid)],
                           ("src/login/logind-session.c", 908, "session_finalize"))

    def cron_job(self, t, user, command):
        """Debian cron 3.0pl1: the CRON child opens a PAM session (pam_loginuid: new audit
        session), logs "(user) CMD (...)" from the grandchild, closes the session."""
        u = self.users[user]
        child = self.spawn(0, 0, "cron", "/usr/sbin/cron", ["/usr/sbin/CRON", "-f"], CAP_ALL,
                           "/system.slice/cron.service")
        child.set_audit(self.audit_session(), u.uid)
        grand = self.spawn(0, 0, "cron", "/usr/sbin/cron", ["/usr/sbin/CRON", "-f"], CAP_ALL,
                           "/system.slice/cron.service", child.audit_session, u.uid)
        out = [P.syslog(self, t, child, "CRON",
                        "pam_unix(cron:session): session opened for user %s(uid=%d) by (uid=0)"
                        % (user, u.uid), 6, P.LOG_AUTHPRIV),
               P.syslog(self, t + self.rng.randint(300, 2500), grand, "CRON",
                        "(%s) CMD (%s)" % (user, command), 6, P.LOG_CRON)]
        return child, out

    def cron_close(self, t, child, user):
        return P.syslog(self, t, child, "CRON",
                        "pam_unix(cron:session): session closed for user %s" % user, 6,
                        P.LOG_AUTHPRIV)
