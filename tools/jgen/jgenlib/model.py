"""Hosts, users, processes and units, and the trusted fields journald derives from them.

Trusted fields follow journald 252 (journald-server.c dispatch_message_real(), journald-context.c):
they come from a per-PID context cache that is used as is for 1 s, refreshed incrementally after
1 s (values that can no longer be read are kept) and dropped after 5 s unless a stream pins it.
So a process that changes cgroup or audit session keeps logging its old trusted fields for up to a
second, and a process that has exited logs without _EXE/_CMDLINE.
"""

import random

from .export import encode_cached as encode_field

CAP_ALL = "1ffffffffff"        # 41 capabilities (CAP_CHECKPOINT_RESTORE is 40), kernel 6.1
CAP_NONE = "0"
CAP_LOGIND = "24420020f"       # systemd-logind.service CapabilityBoundingSet (252)
CAP_TIMESYNCD = "2000000"      # CAP_SYS_TIME
CAP_JOURNALD = "25402800cf"    # systemd-journald.service CapabilityBoundingSet (252)

USEC = 1_000_000
MSEC = 1_000


def id128(rng):
    """A random v4 UUID as 32 hex digits, like sd_id128_randomize()."""
    v = rng.getrandbits(128)
    v = (v & ~(0xF << 76)) | (0x4 << 76)
    v = (v & ~(0x3 << 62)) | (0x2 << 62)
    return "%032x" % v


# --------------------------------------------------------------------------------------------
# _CMDLINE quoting: get_process_cmdline(PROCESS_CMDLINE_QUOTE) -> quote_command_line() ->
# shell_maybe_quote(SHELL_ESCAPE_EMPTY) of systemd 252 (src/basic/escape.c).

_QUOTE_TRIGGER = set(" \t\n\r" + "\"\\`$" + "*?[" + "'()<>|&;!")
_ESCAPE = set("\"\\`$")
_CESC = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
         "\v": "\\v", "\\": "\\\\", '"': '\\"', "'": "\\'"}


def _is_cc(ch):
    o = ord(ch)
    return o < 32 or o == 127


def shell_maybe_quote(s):
    if s == "":
        return '""'
    i = 0
    for i, ch in enumerate(s):
        if _is_cc(ch) or ch in _QUOTE_TRIGGER:
            break
    else:
        return s
    out = ['"', s[:i]]
    for ch in s[i:]:
        if _is_cc(ch):
            out.append(_CESC.get(ch, "\\x%02x" % ord(ch)))
        elif ch in _ESCAPE:
            out.append("\\" + ch)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def quote_cmdline(argv):
    """_CMDLINE as journald 252 stores it for an argv list (trailing empty strings dropped)."""
    args = list(argv)
    while args and args[-1] == "":
        args.pop()
    return " ".join(shell_maybe_quote(a) for a in args)


# --------------------------------------------------------------------------------------------
# cgroup path -> _SYSTEMD_* fields (src/basic/cgroup-util.c cg_path_get_*)

def _is_slice(c):
    return c.endswith(".slice") and len(c) > 6


_CG_CACHE = {}


def cgroup_fields(path):
    """Returns the _SYSTEMD_* fields journald derives from a cgroup path, in dispatch order."""
    r = _CG_CACHE.get(path)
    if r is None:
        r = _CG_CACHE[path] = _cgroup_fields(path)
    return r


def _cgroup_fields(path):
    comps = [c for c in path.split("/") if c]
    i = 0
    slice_ = "-.slice"
    while i < len(comps) and _is_slice(comps[i]):
        slice_ = comps[i]
        i += 1
    unit = comps[i] if i < len(comps) else None
    session = None
    owner = None
    if slice_.startswith("user-") and slice_[5:-6].isdigit():
        owner = slice_[5:-6]
    if unit and unit.startswith("session-") and unit.endswith(".scope"):
        session = unit[8:-6]
    user_unit = user_slice = None
    if unit and ((unit.startswith("user@") and unit.endswith(".service") and unit[5:-8].isdigit())
                 or session):
        rest = comps[i + 1:]
        j = 0
        user_slice = "-.slice"
        while j < len(rest) and _is_slice(rest[j]):
            user_slice = rest[j]
            j += 1
        if j < len(rest):
            user_unit = rest[j]
    out = [("_SYSTEMD_CGROUP", path)]
    if session:
        out.append(("_SYSTEMD_SESSION", session))
    if owner:
        out.append(("_SYSTEMD_OWNER_UID", owner))
    if unit:
        out.append(("_SYSTEMD_UNIT", unit))
    if user_unit:
        out.append(("_SYSTEMD_USER_UNIT", user_unit))
    out.append(("_SYSTEMD_SLICE", slice_))
    if user_slice:
        out.append(("_SYSTEMD_USER_SLICE", user_slice))
    return out, unit, user_unit, owner


# --------------------------------------------------------------------------------------------

class Profile:
    """What a host runs.  debian12: systemd 252, OpenSSH 9.2p1, sudo 1.9.13 (the target).
    newer: systemd 258 with OpenSSH 10.0 (sshd-session), for the version differences."""

    def __init__(self, name, systemd, openssh, sshd_comm, sshd_exe, sshd_session_exe, libexec,
                 systemd_pkg):
        self.name = name
        self.systemd = systemd
        self.openssh = openssh
        self.sshd_comm = sshd_comm              # comm/identifier of the per-connection process
        self.sshd_exe = sshd_exe                # listener executable
        self.sshd_session_exe = sshd_session_exe  # per-connection executable
        self.libexec = libexec                  # ExecStart= prefix of systemd's own units
        self.systemd_pkg = systemd_pkg


DEBIAN12 = Profile("debian12", 252, "9.2p1", "sshd", "/usr/sbin/sshd", "/usr/sbin/sshd",
                   "/lib/systemd", "252.39-1~deb12u1")
NEWER = Profile("newer", 258, "10.0p1", "sshd-session", "/usr/sbin/sshd",
                "/usr/lib/openssh/sshd-session", "/usr/lib/systemd", "258.2-1")
PROFILES = {"debian12": DEBIAN12, "newer": NEWER}


class User:
    def __init__(self, name, uid, gid=None, home=None, sudoer=False, nopasswd=False,
                 shell="/bin/bash"):
        self.name = name
        self.uid = uid
        self.gid = uid if gid is None else gid
        self.home = home or ("/root" if uid == 0 else "/home/" + name)
        self.sudoer = sudoer
        self.nopasswd = nopasswd
        self.shell = shell


class Unit:
    """A unit of a service manager (PID 1 or a user manager)."""

    def __init__(self, manager, name, description=None, svc_type="simple"):
        self.manager = manager
        self.name = name
        self.description = description
        self.svc_type = svc_type
        self.invocation = None
        self.active = False

    @property
    def kind(self):
        return self.name.rsplit(".", 1)[-1]

    def ident(self):
        """unit_status_string() with StatusUnitFormat=combined (the Debian 12 default)."""
        if self.description and self.description != self.name:
            return "%s - %s" % (self.name, self.description)
        return self.name

    def new_invocation(self):
        self.invocation = id128(self.manager.host.rng)
        return self.invocation


class Proc:
    """A process as journald sees it.  life: 'alive' (all of /proc readable), 'zombie' (exited,
    not reaped: comm, capabilities and audit ids readable, exe/cmdline not, as the reference
    records show for a short-lived logger and an exiting sshd child), 'gone' (only the
    credentials passed on the socket)."""

    __slots__ = ("host", "pid", "uid", "gid", "comm", "exe", "cmdline", "capeff", "cgroup",
                 "audit_session", "loginuid", "life", "gen", "pinned")

    def __init__(self, host, pid, uid, gid, comm, exe, argv, capeff, cgroup,
                 audit_session=None, loginuid=None):
        self.host = host
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.comm = comm[:15]
        self.exe = exe
        self.cmdline = quote_cmdline(argv) if isinstance(argv, (list, tuple)) else argv
        self.capeff = capeff
        self.cgroup = cgroup
        self.audit_session = audit_session
        self.loginuid = loginuid
        self.life = "alive"
        self.gen = 0
        self.pinned = False

    def changed(self):
        self.gen += 1

    def set_audit(self, session, loginuid):
        """pam_loginuid wrote /proc/PID/loginuid: a new audit session."""
        self.audit_session = session
        self.loginuid = loginuid
        self.changed()

    def move(self, cgroup):
        self.cgroup = cgroup
        self.changed()

    def read(self):
        """The trusted fields journald would read now, as (name, value) pairs in dispatch order.
        Values that could not be read are None (kept from the cache on an incremental refresh)."""
        alive = self.life == "alive"
        readable = self.life != "gone"
        out = [("_PID", str(self.pid)), ("_UID", str(self.uid)), ("_GID", str(self.gid)),
               ("_COMM", self.comm if readable else None),
               ("_EXE", self.exe if alive else None),
               ("_CMDLINE", self.cmdline if alive else None),
               ("_CAP_EFFECTIVE", self.capeff if readable else None),
               ("_AUDIT_SESSION", str(self.audit_session)
                if readable and self.audit_session is not None else None),
               ("_AUDIT_LOGINUID", str(self.loginuid)
                if readable and self.loginuid is not None else None)]
        if self.cgroup and readable:
            cg, unit, user_unit, owner = cgroup_fields(self.cgroup)
            out += cg
            inv = self.host.invocation_of(unit, user_unit, owner)
            out.append(("_SYSTEMD_INVOCATION_ID", inv))
        return out


class ContextCache:
    """journald's client context cache (journald-context.c): REFRESH_USEC 1 s, MAX_USEC 5 s."""

    REFRESH = 1 * USEC
    MAX = 5 * USEC

    def __init__(self):
        self.entries = {}

    def fields(self, proc, t, uid=None, gid=None):
        """Returns the encoded trusted fields (export.encode_field pairs) of a record from proc at t."""
        c = self.entries.get(proc.pid)
        uid = proc.uid if uid is None else uid
        gid = proc.gid if gid is None else gid
        if c is not None and c[0] is not proc:
            c = None  # a different process reused the PID
        if c is not None and not proc.pinned and t - c[1] > self.MAX:
            c = None
        if c is None:
            vals = dict(proc.read())
            c = [proc, t, vals, None, uid, gid]
            self.entries[proc.pid] = c
        elif t - c[1] > self.REFRESH or c[4] != uid or c[5] != gid:
            old = c[2]
            new = dict(proc.read())
            for k, v in old.items():
                if new.get(k) is None and v is not None:
                    if k.startswith("_SYSTEMD_") and proc.life != "gone":
                        continue  # cgroup data is re-derived as a whole
                    new[k] = v
            c[1] = t
            c[2] = new
            c[3] = None
            c[4] = uid
            c[5] = gid
        if c[3] is None:
            vals = dict(c[2])
            vals["_UID"] = str(uid)
            vals["_GID"] = str(gid)
            c[3] = [encode_field(k, v) for k, v in vals.items() if v is not None]
        return c[3]
