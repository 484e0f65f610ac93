"""Record builders: the client side of each program, i.e. the fields it sends to journald and
their order.  journald adds the trusted fields (model.ContextCache) and host fields when the
entry is written (scenario.Writer).

Sources (systemd 252 / OpenSSH 9.2p1 / sudo 1.9.13) are cited next to each builder.
"""

import time

from .model import USEC, MSEC

# MESSAGE_IDs (sd-messages.h 252)
MID_UNIT_STARTING = "7d4958e842da4a758f6c1cdc7b36dcc5"
MID_UNIT_STARTED = "39f53479d3a045ac8e11786248231fbf"
MID_UNIT_FAILED = "be02cf6855d2428ba40df7e9d022f03d"
MID_UNIT_STOPPING = "de5b426a63be47a7b6ac3eaac82e2f6f"
MID_UNIT_STOPPED = "9d1aaa27d60140bd96365438aad20286"
MID_UNIT_RELOADING = "d34d037fff1847e6ae669a370e694725"
MID_UNIT_RELOADED = "7b05ebc668384222baa8881179cfda54"
MID_UNIT_SUCCESS = "7ad2d189f7e94e70a38c781354912448"
MID_UNIT_FAILURE_RESULT = "d9b373ed55a64feb8242e02dbe79a49c"
MID_UNIT_PROCESS_EXIT = "98e322203f7a4ed290d09fe03c09fe15"
MID_UNIT_RESOURCES = "ae8f7b866b0347b9af31fe1c80b127c0"
MID_SESSION_START = "8d45620c1a4348dbb17410da57c60c66"
MID_SESSION_STOP = "3354939424b4456d9802ca8333ed424a"
MID_SEAT_START = "fcbefc5da23d428093f97c82a9290f7b"
MID_STARTUP_FINISHED = "b07a249cd024414a82dd00cd181378ff"
MID_USER_STARTUP_FINISHED = "eed00a68ffd84e31882105fd973abdd1"
MID_TIME_SYNC = "7c8a41f37b764941a0e1780b1be2f037"
MID_JOURNAL_START = "f77379a8490b408bbe5f6940505a777b"
MID_JOURNAL_USAGE = "ec387f577b844b8fa948f33cad9a75e6"

LOG_KERN, LOG_USER, LOG_DAEMON, LOG_AUTH, LOG_SYSLOG, LOG_CRON, LOG_AUTHPRIV = 0, 1, 3, 4, 5, 9, 10


class Entry:
    """One record on its way to the writer.  client: (name, value) pairs in the order journald
    received them from the client, _TRANSPORT included where journald puts it."""

    __slots__ = ("t", "host", "proc", "client", "transport", "src", "uid", "gid", "mark")

    def __init__(self, t, host, proc, client, transport, src=None, uid=None, gid=None):
        self.mark = None
        self.t = t
        self.host = host
        self.proc = proc
        self.client = client
        self.transport = transport
        self.src = src
        self.uid = uid
        self.gid = gid


_ts_cache = [None, None]


def syslog_timestamp(usec):
    """RFC 3164 timestamp as glibc syslog(3) writes it ("%h %e %T"), with the trailing space that
    journald keeps in SYSLOG_TIMESTAMP.  Hosts run in UTC."""
    sec = usec // USEC
    if _ts_cache[0] != sec:
        tm = time.gmtime(sec)
        _ts_cache[0] = sec
        _ts_cache[1] = "%s %2d %02d:%02d:%02d " % (
            ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec")[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
    return _ts_cache[1]


def syslog(host, t, proc, ident, msg, pri=6, fac=LOG_AUTH, pid=True, uid=None, gid=None):
    """A record sent through /dev/log (journald-syslog.c server_process_syslog_message()).
    pid=True logs the sender's PID (LOG_PID), False none (sudo), or a string (logger --id)."""
    src = t - 15 - int(host.rng.random() * 385)
    ts = syslog_timestamp(src)
    c = [("_TRANSPORT", "syslog"), ("PRIORITY", str(pri))]
    if fac:
        c.append(("SYSLOG_FACILITY", str(fac)))
    c.append(("SYSLOG_IDENTIFIER", ident))
    spid = None
    if pid is True:
        spid = str(proc.pid)
    elif pid:
        spid = str(pid)
    if spid:
        c.append(("SYSLOG_PID", spid))
    c.append(("SYSLOG_TIMESTAMP", ts))
    stripped = msg.rstrip(" \t\n\r")
    c.append(("MESSAGE", stripped))
    if stripped != msg:
        # trailing whitespace stripped: journald keeps the datagram in SYSLOG_RAW
        c.append(("SYSLOG_RAW", "<%d>%s%s%s: %s" % (fac * 8 + pri, ts, ident,
                                                    "[%s]" % spid if spid else "", msg)))
    return Entry(t, host, proc, c, "syslog", src, uid, gid)


def native_header(pri, fac, tid, code, ident):
    """log_do_header() of src/basic/log.c 252: PRIORITY, SYSLOG_FACILITY, TID, CODE_*,
    SYSLOG_IDENTIFIER."""
    h = [("PRIORITY", str(pri)), ("SYSLOG_FACILITY", str(fac)), ("TID", str(tid))]
    if code:
        h += [("CODE_FILE", code[0]), ("CODE_LINE", str(code[1])), ("CODE_FUNC", code[2])]
    h.append(("SYSLOG_IDENTIFIER", ident))
    return h


def native(host, t, proc, fields):
    """A record sent over the native protocol (journald-native.c); _TRANSPORT=journal is added
    after the client's fields."""
    src = t - 20 - int(host.rng.random() * 280)
    return Entry(t, host, proc, list(fields) + [("_TRANSPORT", "journal")], "journal", src)


def stdout(host, t, proc, stream_id, ident, msg, pri=6, fac=LOG_DAEMON):
    """A line from a stdout/stderr stream (journald-stream.c stdout_stream_log()): no
    _SOURCE_REALTIME_TIMESTAMP."""
    c = [("_TRANSPORT", "stdout"), ("_STREAM_ID", stream_id), ("PRIORITY", str(pri))]
    if fac:
        c.append(("SYSLOG_FACILITY", str(fac)))
    if ident:
        c.append(("SYSLOG_IDENTIFIER", ident))
    c.append(("MESSAGE", msg))
    return Entry(t, host, proc, c, "stdout")


def kernel(host, t, msg, pri=6, fac=LOG_KERN, ident=None, pid=None, extra=(), src_mono=None):
    """A /dev/kmsg record (journald-kmsg.c dev_kmsg_record()): no sender process.
    _SOURCE_MONOTONIC_TIMESTAMP is filled in by the writer unless src_mono is given."""
    c = list(extra) + [("_SOURCE_MONOTONIC_TIMESTAMP", None if src_mono is None else str(src_mono)),
                       ("_TRANSPORT", "kernel"),
                       ("PRIORITY", str(pri)), ("SYSLOG_FACILITY", str(fac))]
    if fac == LOG_KERN:
        c.append(("SYSLOG_IDENTIFIER", "kernel"))
    else:
        if ident:
            c.append(("SYSLOG_IDENTIFIER", ident))
        if pid:
            c.append(("SYSLOG_PID", str(pid)))
    c.append(("MESSAGE", msg))
    return Entry(t, host, None, c, "kernel")


def driver(host, t, msg, message_id=None, extra=(), pri=6):
    """journald's own message (server_driver_message()): _TRANSPORT=driver, journald's context."""
    c = [("SYSLOG_FACILITY", "3"), ("SYSLOG_IDENTIFIER", "systemd-journald"),
         ("_TRANSPORT", "driver"), ("PRIORITY", str(pri))]
    if message_id:
        c.append(("MESSAGE_ID", message_id))
    c.append(("MESSAGE", msg))
    c.extend(extra)
    return Entry(t, host, host.journald, c, "driver")


def format_timespan_ms(usec):
    """format_timespan(t, USEC_PER_MSEC) of systemd: "1.234s", "1min 2.345s", "45ms"."""
    if usec <= 0:
        return "0"
    table = (("y", 31557600 * USEC), ("month", 2629800 * USEC), ("w", 7 * 86400 * USEC),
             ("d", 86400 * USEC), ("h", 3600 * USEC), ("min", 60 * USEC), ("s", USEC),
             ("ms", MSEC), ("us", 1))
    out = []
    t = usec
    something = False
    for suffix, unit in table:
        if t <= 0:
            break
        if t < MSEC and something:
            break
        if t < unit:
            continue
        a, b = divmod(t, unit)
        if t < 60 * USEC and b > 0:
            j = len(str(unit)) - 1 - 3  # digits below the unit, minus accuracy digits
            if j > 0:
                b //= 10 ** 3
                out.append("%d.%0*d%s" % (a, j, b, suffix))
                t = 0
                something = True
                continue
        out.append("%d%s" % (a, suffix))
        t = b
        something = True
    return " ".join(out)
