"""Background traffic of a Debian 12 server, and a boot.

noise_actor: a Poisson mix of sources (sshd scanners, kernel firewall drops, an application's
stdout, postfix, node-exporter, timesyncd, journald) at `rate` entries per minute, plus the
scheduled jobs every Debian host runs (cron.hourly at :17, phpsessionclean every 30 min, the
daily apt/man-db/logrotate/dpkg-db-backup timers).  These timer-triggered service runs are the
benign look-alikes of "later runs of x.service".
"""

import math

from . import flows as F
from . import programs as P
from .model import CAP_ALL, CAP_NONE, MSEC, USEC

SCANNER_USERS = ("admin", "test", "ubuntu", "oracle", "postgres", "user", "guest", "git", "ftp",
                 "pi", "deploy", "support", "mysql", "hadoop", "ansible", "jenkins")


def _ip(rng, prefix=None):
    if prefix:
        return "%s.%d" % (prefix, rng.randint(2, 254))
    return "%d.%d.%d.%d" % (rng.choice((45, 61, 103, 112, 141, 159, 167, 178, 185, 193, 194, 218)),
                            rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))


def _scheduled(c, host, name, exe_argv, output=(), cpu=None):
    svc = host.pid1.unit(name)
    yield from F.run_service(c, host.pid1, svc, exe_argv, output, cpu_usec=cpu,
                             duration_s=(0.2, 4.0))


def scheduled_actor(c, host, until):
    """Cron and timers on their calendars until `until` (µs)."""
    events = []
    day = 86400 * USEC
    t0 = c.t - c.t % (3600 * USEC)
    for k in range(0, int((until - t0) // (3600 * USEC)) + 2):
        h = t0 + k * 3600 * USEC
        events.append((h + 17 * 60 * USEC + c.rng.randint(0, 900000), "cron-hourly"))
        if host.php:
            events.append((h + 9 * 60 * USEC + c.rng.randint(0, 30 * USEC), "php"))
            events.append((h + 39 * 60 * USEC + c.rng.randint(0, 30 * USEC), "php"))
        if host.sysstat:
            for m in range(0, 60, 10):
                events.append((h + m * 60 * USEC + c.rng.randint(0, 2 * USEC), "sysstat"))
    d0 = c.t - c.t % day
    for k in range(0, int((until - d0) // day) + 2):
        d = d0 + k * day
        events.append((d + c.rng.randint(6 * 3600, 7 * 3600) * USEC, "apt-daily-upgrade"))
        events.append((d + c.rng.randint(4 * 3600, 20 * 3600) * USEC, "apt-daily"))
        events.append((d + c.rng.randint(0, 600) * USEC, "logrotate"))
        events.append((d + c.rng.randint(0, 600) * USEC, "dpkg-db-backup"))
        events.append((d + c.rng.randint(0, 3600) * USEC, "man-db"))
        events.append((d + c.rng.randint(8 * 3600, 9 * 3600) * USEC, "tmpfiles"))
        events.append((d + 25 * 60 * USEC + c.rng.randint(0, 300) * USEC, "cron-daily"))
    events = sorted(e for e in events if c.t <= e[0] <= until)
    for t, kind in events:
        yield c.until(t)
        if kind == "cron-hourly":
            child, es = host.cron_job(c.t, "root", "cd / && run-parts --report /etc/cron.hourly")
            yield from F.emit(es)
            c.ms(5, 60)
            yield host.cron_close(c.t, child, "root")
        elif kind == "cron-daily":
            child, es = host.cron_job(c.t, "root", "test -x /usr/sbin/anacron || { cd / && "
                                      "run-parts --report /etc/cron.daily; }")
            yield from F.emit(es)
            c.ms(200, 3000)
            yield host.cron_close(c.t, child, "root")
        elif kind == "php":
            yield from _scheduled(c, host, "phpsessionclean.service",
                                  ["/usr/lib/php/sessionclean"])
        elif kind == "sysstat":
            yield from _scheduled(c, host, "sysstat-collect.service",
                                  ["/usr/lib/sysstat/debian-sa1", "1", "1"])
        elif kind == "apt-daily":
            yield from _scheduled(c, host, "apt-daily.service",
                                  ["/usr/lib/apt/apt.systemd.daily", "update"],
                                  cpu=c.rng.randint(500, 9000) * MSEC)
        elif kind == "apt-daily-upgrade":
            yield from _scheduled(c, host, "apt-daily-upgrade.service",
                                  ["/usr/lib/apt/apt.systemd.daily", "install"],
                                  cpu=c.rng.randint(300, 4000) * MSEC)
        elif kind == "logrotate":
            yield from _scheduled(c, host, "logrotate.service",
                                  ["/usr/sbin/logrotate", "/etc/logrotate.conf"])
        elif kind == "dpkg-db-backup":
            yield from _scheduled(c, host, "dpkg-db-backup.service",
                                  ["/usr/libexec/dpkg/dpkg-db-backup"])
        elif kind == "man-db":
            yield from _scheduled(c, host, "man-db.service",
                                  ["/bin/sh", "-c", "[ -x /usr/bin/mandb ] && /usr/bin/mandb --quiet"],
                                  cpu=c.rng.randint(200, 3000) * MSEC)
        elif kind == "tmpfiles":
            yield from _scheduled(c, host, "systemd-tmpfiles-clean.service",
                                  ["systemd-tmpfiles", "--clean"])


APP_PATHS = ("/", "/api/v1/cart", "/api/v1/products", "/static/app.js", "/healthz", "/login",
             "/api/v1/orders", "/robots.txt", "/wp-login.php", "/.env")


def noise_actor(c, host, rate, until, mix=None):
    """rate: mean entries per minute from the Poisson part (the scheduled part comes on top)."""
    mix = mix or {"scanner": 0.22, "preauth": 0.12, "ufw": 0.2, "app": 0.28, "postfix": 0.08,
                  "exporter": 0.04, "timesyncd": 0.01, "journald": 0.005, "failed-user": 0.025}
    kinds = list(mix)
    weights = [mix[k] for k in kinds]
    app = host.pid1.unit("gunicorn.service")
    app.new_invocation()
    app_proc = host.spawn(33, 33, "gunicorn", "/usr/bin/python3.11",
                          ["/opt/shop/venv/bin/python3", "/opt/shop/venv/bin/gunicorn",
                           "--workers", "4", "--bind", "unix:/run/gunicorn.sock", "shop.wsgi"],
                          CAP_NONE, "/system.slice/gunicorn.service")
    app_proc.pinned = True
    app_stream = host.stream_id(("gunicorn", app.invocation))
    exporter = host.pid1.unit("prometheus-node-exporter.service")
    exporter.new_invocation()
    exp_proc = host.spawn(109, 117, "prometheus-node", "/usr/bin/prometheus-node-exporter",
                          ["/usr/bin/prometheus-node-exporter"], CAP_NONE,
                          "/system.slice/prometheus-node-exporter.service")
    exp_proc.pinned = True
    exp_stream = host.stream_id(("exporter", exporter.invocation))
    postfix_qmgr = host.spawn(107, 114, "qmgr", "/usr/lib/postfix/sbin/qmgr",
                              ["qmgr", "-l", "-t", "unix", "-u"], CAP_NONE,
                              "/system.slice/system-postfix.slice/postfix@-.service")
    mean_gap = 60.0 / max(rate, 0.001)
    scanner_ip = None
    while True:
        gap = c.rng.expovariate(1.0 / mean_gap)
        yield c.sleep(gap)
        if c.t > until:
            return
        k = c.rng.choices(kinds, weights)[0]
        if k == "scanner":
            if scanner_ip is None or c.rng.random() < 0.3:
                scanner_ip = _ip(c.rng)
            if c.rng.random() < 0.6:
                yield from F.ssh_failures(c, host, scanner_ip, c.rng.choice(SCANNER_USERS),
                                          invalid=True, attempts=1)
            else:
                yield from F.ssh_failures(c, host, scanner_ip, "root", invalid=False,
                                          attempts=c.rng.choice((1, 2, 3, 6)))
        elif k == "preauth":
            yield from F.ssh_preauth_noise(c, host, _ip(c.rng))
        elif k == "ufw":
            src = _ip(c.rng)
            mono = c.t - host.boot_rt
            yield P.kernel(host, c.t, "[UFW BLOCK] IN=ens3 OUT= MAC=52:54:00:12:34:56:52:54:00:65:"
                           "43:21:08:00 SRC=%s DST=%s LEN=%d TOS=0x00 PREC=0x00 TTL=%d ID=%d "
                           "PROTO=TCP SPT=%d DPT=%d WINDOW=%d RES=0x00 SYN URGP=0" % (
                               src, host.ip, c.rng.choice((40, 44, 60)), c.rng.randint(40, 250),
                               c.rng.randint(1, 65535), c.rng.randint(1024, 65535),
                               c.rng.choice((23, 25, 80, 443, 445, 3306, 3389, 5432, 6379, 8080,
                                             8443, 9200)), c.rng.choice((1024, 14600, 29200,
                                                                         65535))), 4,
                           src_mono=mono - c.rng.randint(100, 3000))
        elif k == "app":
            n = c.rng.randint(1, 3)
            for _ in range(n):
                yield P.stdout(host, c.ms(1, 30), app_proc, app_stream, "gunicorn",
                               '%s - - [%s] "%s %s HTTP/1.1" %d %d "-" "%s"' % (
                                   _ip(c.rng, "10.0.%d" % c.rng.randint(0, 3)),
                                   "26/Nov/2025:%02d:%02d:%02d +0000" % (
                                       (c.t // 3600000000) % 24, (c.t // 60000000) % 60,
                                       (c.t // 1000000) % 60),
                                   c.rng.choice(("GET", "GET", "GET", "POST")),
                                   c.rng.choice(APP_PATHS), c.rng.choice((200, 200, 200, 304, 404,
                                                                          302, 500)),
                                   c.rng.randint(120, 90000),
                                   c.rng.choice(("Mozilla/5.0", "curl/7.88.1",
                                                 "kube-probe/1.28", "python-requests/2.31.0"))))
        elif k == "postfix":
            qid = "%X" % c.rng.getrandbits(40)
            yield P.syslog(host, c.t, postfix_qmgr, "postfix/qmgr", "%s: from=<root@%s>, size=%d,"
                           " nrcpt=1 (queue active)" % (qid, host.name, c.rng.randint(400, 9000)),
                           6, 2)
            smtp = host.spawn(107, 114, "smtp", "/usr/lib/postfix/sbin/smtp",
                              ["smtp", "-t", "unix", "-u", "-c"], CAP_NONE,
                              "/system.slice/system-postfix.slice/postfix@-.service")
            yield P.syslog(host, c.ms(100, 900), smtp, "postfix/smtp", "%s: to=<ops@example.com>, "
                           "relay=mail.example.com[192.0.2.25]:25, delay=%.1f, delays=0.01/0/0.2/0.3,"
                           " dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)" % (
                               qid, c.rng.uniform(0.3, 2)), 6, 2)
            yield P.syslog(host, c.ms(1, 5), postfix_qmgr, "postfix/qmgr", "%s: removed" % qid, 6, 2)
        elif k == "exporter":
            yield P.stdout(host, c.t, exp_proc, exp_stream, "prometheus-node-exporter",
                           'ts=%s caller=collector.go:169 level=error msg="collector failed" '
                           'name=hwmon duration_seconds=%.6f err="open /sys/class/hwmon: no such '
                           'file or directory"' % (_iso(c.t), c.rng.uniform(0.0001, 0.002)), 3)
        elif k == "timesyncd":
            yield P.native(host, c.t, host.timesyncd_proc, P.native_header(
                6, P.LOG_CRON, host.timesyncd_proc.pid,
                ("src/timesync/timesyncd-manager.c", 565, "manager_receive_response"),
                "systemd-timesyncd") + [("MESSAGE", "Timed out waiting for reply from "
                                         "192.0.2.123:123 (2.debian.pool.ntp.org).")])
        elif k == "journald":
            yield P.driver(host, c.t, "Data hash table of /var/log/journal/%s/system.journal has a "
                           "fill level at 75.0 (174764 of 233016 items, 134217728 file size, 767 "
                           "bytes per hash table item), suggesting rotation." % host.machine_id)
        elif k == "failed-user":
            names = [u for u in host.users.values() if u.uid >= 1000]
            if names:
                u = c.rng.choice(names)
                yield from F.ssh_failures(c, host, _ip(c.rng, "10.0.5"), u.name, attempts=1)


def _iso(t):
    import time as _t
    s = t // USEC
    return _t.strftime("%Y-%m-%dT%H:%M:%S", _t.gmtime(s)) + ".%03dZ" % ((t // 1000) % 1000)


# ------------------------------------------------------------------------------------------

BOOT_TIMERS = ("apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer",
               "e2scrub_all.timer", "fstrim.timer", "logrotate.timer", "man-db.timer",
               "systemd-tmpfiles-clean.timer")

BOOT_UNITS = (
    ("system-getty.slice", "Slice /system/getty", "Created slice"),
    ("system-modprobe.slice", "Slice /system/modprobe", "Created slice"),
    ("user.slice", "User and Session Slice", "Created slice"),
    ("systemd-journald.socket", "Journal Socket", "Listening on"),
    ("systemd-journald-audit.socket", "Journal Audit Socket", "Listening on"),
    ("systemd-journald-dev-log.socket", "Journal Socket (/dev/log)", "Listening on"),
    ("systemd-udevd-control.socket", "udev Control Socket", "Listening on"),
    ("systemd-journald.service", "Journal Service", None),
    ("systemd-remount-fs.service", "Remount Root and Kernel File Systems", "Finished"),
    ("systemd-sysctl.service", "Apply Kernel Variables", "Finished"),
    ("systemd-udevd.service", "Rule-based Manager for Device Events and Files", "Started"),
    ("local-fs.target", "Local File Systems", "Reached target"),
    ("systemd-tmpfiles-setup.service", "Create Volatile Files and Directories", "Finished"),
    ("systemd-update-utmp.service", "Record System Boot/Shutdown in UTMP", "Finished"),
    ("sysinit.target", "System Initialization", "Reached target"),
)


def boot_actor(c, host, profile_line=None, sessions_after=None):
    """A reboot of host at c.t: kernel ring buffer and PID 1's early messages (read from /dev/kmsg
    once journald runs, so they share journald's start time), then PID 1 native messages,
    including "Started X.timer" for every installed timer — with no session at all."""
    t0 = c.t
    host.reboot(t0)
    pid1 = host.pid1
    ver = host.profile.systemd_pkg
    kt = t0 + c.rng.randint(1800, 2600) * MSEC   # journald starts reading kmsg
    c.t = kt
    kmsgs = [(0, "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian "
              "12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC "
              "Debian 6.1.115-1 (2024-11-01)", 5),
             (0, "Command line: BOOT_IMAGE=/boot/vmlinuz-6.1.0-27-amd64 root=UUID=4f1c2a77-6b1e-"
              "4a4e-9d1b-8a7e0f3c2d11 ro quiet", 6),
             (2100, "Hypervisor detected: KVM", 6),
             (410000, "EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: "
              "none.", 6),
             (1200000, "audit: type=1400 audit(%d.%03d:2): apparmor=\"STATUS\" "
              "operation=\"profile_load\" profile=\"unconfined\" name=\"lsb_release\" pid=%d "
              "comm=\"apparmor_parser\"" % (t0 // USEC + 1, 204, c.rng.randint(300, 380)), 5)]
    for mono, msg, pri in kmsgs:
        yield P.kernel(host, c.us(5, 40), msg, pri, src_mono=mono + c.rng.randint(0, 900))
    early = ["systemd %s running in system mode (+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK "
             "+SECCOMP +GCRYPT -GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN "
             "+IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY +P11KIT +QRENCODE +TPM2 "
             "+BZIP2 +LZ4 +XZ +ZLIB +ZSTD -BPF_FRAMEWORK -XKBCOMMON +UTMP +SYSVINIT "
             "default-hierarchy=unified)" % ver.split("-")[0],
             "Detected virtualization kvm.", "Detected architecture x86-64.",
             "Hostname set to <%s>." % host.name]
    m = 1310000
    for msg in early:
        m += c.rng.randint(500, 30000)
        yield P.kernel(host, c.us(5, 40), msg, 6, P.LOG_DAEMON, "systemd", 1, src_mono=m)
    for name, desc, verb in BOOT_UNITS:
        u = pid1.unit(name, desc)
        u.new_invocation()
        if verb is None:
            j = pid1.job_id()
            yield pid1.job_start(c.ms(1, 5), u, j)
            yield pid1.job_done(c.ms(20, 60), u, j, "Started")
            yield P.driver(host, c.ms(1, 4), "Journal started", P.MID_JOURNAL_START)
            yield P.driver(host, c.us(100, 500), "Runtime Journal (/run/log/journal/%s) is 8.0M, "
                           "max 78.4M, 70.4M free." % host.machine_id, P.MID_JOURNAL_USAGE)
            continue
        j = pid1.job_id()
        if verb == "Finished":
            yield pid1.job_start(c.ms(1, 8), u, j)
        yield pid1.job_done(c.ms(1, 30), u, j, verb)
    fl = pid1.unit("systemd-journal-flush.service",
                   "Flush Journal to Persistent Storage", "oneshot")
    fl.new_invocation()
    j = pid1.job_id()
    yield pid1.job_start(c.ms(2, 10), fl, j)
    yield P.driver(host, c.ms(5, 30), "Time spent on flushing to /var/log/journal/%s is %d.%03dms "
                   "for %d entries." % (host.machine_id, c.rng.randint(5, 40), c.rng.randint(0, 999),
                                        c.rng.randint(400, 900)))
    yield P.driver(host, c.us(100, 400), "System Journal (/var/log/journal/%s) is 56.0M, max 1.5G, "
                   "1.4G free." % host.machine_id, P.MID_JOURNAL_USAGE)
    yield pid1.job_done(c.ms(1, 5), fl, j, "Finished")
    for name in BOOT_TIMERS:
        u = pid1.unit(name)
        u.new_invocation()
        u.active = True
        yield pid1.job_done(c.ms(0.1, 2), u, pid1.job_id(), "Started")
    tt = pid1.unit("timers.target")
    tt.new_invocation()
    yield pid1.job_done(c.ms(0.1, 1), tt, pid1.job_id(), "Reached target")
    for name, desc, verb in (("dbus.socket", "D-Bus System Message Bus Socket", "Listening on"),
                             ("sockets.target", "Socket Units", "Reached target"),
                             ("basic.target", "Basic System", "Reached target")):
        u = pid1.unit(name, desc)
        u.new_invocation()
        yield pid1.job_done(c.ms(0.2, 3), u, pid1.job_id(), verb)
    for name in ("cron.service",):
        u = pid1.unit(name)
        u.new_invocation()
        yield pid1.job_done(c.ms(1, 4), u, pid1.job_id(), "Started")
    yield P.syslog(host, c.ms(5, 20), host.cron_proc, "cron", "(CRON) INFO (pidfile fd = 3)", 6,
                   P.LOG_CRON)
    yield P.syslog(host, c.ms(1, 3), host.cron_proc, "cron", "(CRON) INFO (Running @reboot jobs)",
                   6, P.LOG_CRON)
    lg = pid1.unit("systemd-logind.service")
    lg.new_invocation()
    j = pid1.job_id()
    yield pid1.job_start(c.ms(1, 4), lg, j)
    yield host.logind(c.ms(20, 60), [("MESSAGE_ID", P.MID_SEAT_START), ("SEAT_ID", "seat0"),
                                      ("MESSAGE", "New seat seat0.")],
                      ("src/login/logind-seat.c", 428, "seat_start"))
    yield host.logind(c.ms(1, 5), [("MESSAGE", "Watching system buttons on /dev/input/event0 "
                                               "(Power Button)")],
                      ("src/login/logind-button.c", 373, "button_open"))
    yield pid1.job_done(c.ms(2, 10), lg, j, "Started")
    ssh = pid1.unit("ssh.service")
    ssh.new_invocation()
    j = pid1.job_id()
    yield pid1.job_start(c.ms(1, 10), ssh, j)
    yield P.syslog(host, c.ms(30, 90), host.sshd_proc, "sshd", "Server listening on 0.0.0.0 port 22.",
                   6, P.LOG_AUTH)
    yield P.syslog(host, c.us(100, 600), host.sshd_proc, "sshd", "Server listening on :: port 22.",
                   6, P.LOG_AUTH)
    yield pid1.job_done(c.ms(1, 5), ssh, j, "Started")
    ts = pid1.unit("systemd-timesyncd.service")
    ts.new_invocation()
    for name, desc, verb in (("getty@tty1.service", "Getty on tty1", "Started"),
                             ("serial-getty@ttyS0.service", "Serial Getty on ttyS0", "Started"),
                             ("getty.target", "Login Prompts", "Reached target"),
                             ("multi-user.target", "Multi-User System", "Reached target"),
                             ("graphical.target", "Graphical Interface", "Reached target")):
        u = pid1.unit(name, desc)
        u.new_invocation()
        yield pid1.job_done(c.ms(1, 20), u, pid1.job_id(), verb)
    kernel_us = c.rng.randint(1400, 2600) * MSEC
    user_us = c.t - t0 - kernel_us + c.rng.randint(0, 200) * MSEC
    total = kernel_us + user_us
    yield P.native(host, c.ms(0.5, 3), host.pid1.proc, pid1._hdr(
        ("src/core/manager.c", 3558, "manager_notify_finished")) + [
        ("MESSAGE_ID", P.MID_STARTUP_FINISHED), ("KERNEL_USEC", str(kernel_us)),
        ("USERSPACE_USEC", str(user_us)),
        ("MESSAGE", "Startup finished in %s (kernel) + %s (userspace) = %s." % (
            P.format_timespan_ms(kernel_us - kernel_us % MSEC),
            P.format_timespan_ms(user_us - user_us % MSEC),
            P.format_timespan_ms(total - total % MSEC)))])
    yield P.native(host, c.ms(900, 4000), host.timesyncd_proc, P.native_header(
        6, P.LOG_CRON, host.timesyncd_proc.pid,
        ("src/timesync/timesyncd-manager.c", 589, "manager_receive_response"),
        "systemd-timesyncd") + [("MESSAGE", "Initial synchronization to time server "
                                 "192.0.2.123:123 (2.debian.pool.ntp.org).")])
    # systemd-tmpfiles-clean.timer: OnBootSec=15min
    yield c.sleep(15 * 60 + c.rng.uniform(0, 5))
    yield from F.run_service(c, pid1, pid1.unit("systemd-tmpfiles-clean.service"),
                             ["systemd-tmpfiles", "--clean"])
