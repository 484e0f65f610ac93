"""Unit tests for tools/jgen (stdlib unittest): python3 -m unittest discover tools/jgen/tests"""

import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from jgenlib import cases as C  # noqa: E402
from jgenlib import flows as F  # noqa: E402
from jgenlib import jenkins  # noqa: E402
from jgenlib.export import encode_field, parse_export  # noqa: E402
from jgenlib.model import cgroup_fields, quote_cmdline  # noqa: E402
from jgenlib.programs import format_timespan_ms  # noqa: E402
from jgenlib.validate import validate_bytes  # noqa: E402

REF = os.path.join(HERE, "..", "..", "..", "..", "shared", "reference-records")


class CursorHash(unittest.TestCase):
    def test_x_of_genuine_entries_is_the_xor_of_jenkins_hashes(self):
        """journald's x= is the XOR of jenkins_hash64 over the entry's data objects; the
        genuine reference records check the implementation on every entry."""
        checked = 0
        for name in sorted(os.listdir(REF)):
            if not name.endswith(".export") or name == "forgeries.export":
                continue
            with open(os.path.join(REF, name), "rb") as f:
                for entry in parse_export(f.read()):
                    cursor = dict(entry)["__CURSOR"].decode()
                    x = int(cursor.rsplit("x=", 1)[1], 16)
                    xor = 0
                    for field, value in entry:
                        if not field.startswith("__"):
                            xor ^= jenkins.hash64(field.encode() + b"=" + value)
                    self.assertEqual(x, xor, cursor)
                    checked += 1
        self.assertGreater(checked, 10)


class ExportFormat(unittest.TestCase):
    def test_text_and_binary_fields(self):
        self.assertEqual(encode_field("MESSAGE", "hello")[1], b"MESSAGE=hello\n")
        self.assertEqual(encode_field("MESSAGE", "a\tb")[1], b"MESSAGE=a\tb\n")
        self.assertEqual(encode_field("MULTILINE", "line1\nline2")[1],
                         b"MULTILINE\n" + struct.pack("<Q", 11) + b"line1\nline2\n")
        self.assertEqual(encode_field("RAWBYTES", b"\xff\xfe\x00abc")[1],
                         b"RAWBYTES\n\x06\x00\x00\x00\x00\x00\x00\x00\xff\xfe\x00abc\n")
        self.assertTrue(encode_field("C1", "x\u0085y")[1].startswith(b"C1\n"))

    def test_parse_reference_records(self):
        for name in ("sshd-sudo-su.export", "forgeries.export", "audit-via-journald.export"):
            p = os.path.join(REF, name)
            if not os.path.exists(p):
                self.skipTest("reference records not present")
            with open(p, "rb") as f:
                n, problems = validate_bytes(f.read())
            self.assertGreater(n, 10)
            self.assertEqual(problems, [], name)


class Model(unittest.TestCase):
    def test_cmdline_quoting_matches_reference(self):
        self.assertEqual(quote_cmdline(["sshd: alice [priv]"]), '"sshd: alice [priv]"')
        self.assertEqual(quote_cmdline(["sudo", "-S", "-p", "", "/usr/bin/systemctl",
                                        "daemon-reload"]),
                         'sudo -S -p "" /usr/bin/systemctl daemon-reload')
        self.assertEqual(quote_cmdline(["su", "-", "alice", "-c",
                                        "printf 'bad\\nbad\\nbad\\n' | sudo -S -p '' true"]),
                         'su - alice -c "printf \'bad\\\\nbad\\\\nbad\\\\n\' | sudo -S -p \'\' true"')
        self.assertEqual(quote_cmdline(["logger", "a\nb"]), 'logger "a\\nb"')

    def test_cgroup_fields(self):
        f = dict(cgroup_fields("/user.slice/user-1001.slice/session-3.scope")[0])
        self.assertEqual(f["_SYSTEMD_UNIT"], "session-3.scope")
        self.assertEqual(f["_SYSTEMD_SESSION"], "3")
        self.assertEqual(f["_SYSTEMD_OWNER_UID"], "1001")
        self.assertEqual(f["_SYSTEMD_USER_SLICE"], "-.slice")
        self.assertNotIn("_SYSTEMD_USER_UNIT", f)
        f = dict(cgroup_fields("/user.slice/user-1001.slice/user@1001.service/init.scope")[0])
        self.assertEqual(f["_SYSTEMD_UNIT"], "user@1001.service")
        self.assertEqual(f["_SYSTEMD_USER_UNIT"], "init.scope")
        f = dict(cgroup_fields("/user.slice/user-1001.slice/user@1001.service/app.slice/x.service")[0])
        self.assertEqual(f["_SYSTEMD_USER_UNIT"], "x.service")
        self.assertEqual(f["_SYSTEMD_USER_SLICE"], "app.slice")
        f = dict(cgroup_fields("/init.scope")[0])
        self.assertEqual((f["_SYSTEMD_UNIT"], f["_SYSTEMD_SLICE"]), ("init.scope", "-.slice"))

    def test_timespan(self):
        self.assertEqual(format_timespan_ms(1234567), "1.234s")
        self.assertEqual(format_timespan_ms(61234567), "1min 1.234s")
        self.assertEqual(format_timespan_ms(45000), "45ms")

    def test_sudo_continuation(self):
        lines = F.sudo_lines("alice", "TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/sh "
                             "-c " + " ".join(["word%d" % i for i in range(300)]))
        self.assertGreater(len(lines), 1)
        self.assertTrue(lines[0].startswith("   alice : TTY=pts/0"))
        self.assertTrue(all(x.startswith("   alice : (command continued) ") for x in lines[1:]))
        self.assertTrue(all(len(x) <= 960 for x in lines))


class Cases(unittest.TestCase):
    def test_every_case_valid_and_deterministic(self):
        for name in C.CASES:
            if name == "busy-day":
                continue
            outs = []
            for _ in range(2):
                sc, fires, _, _ = C.build(name)
                b = io.BytesIO()
                sc.run(b)
                outs.append(b.getvalue())
            self.assertEqual(outs[0], outs[1], name)
            n, problems = validate_bytes(outs[0])
            self.assertEqual(problems, [], name)
            self.assertEqual(bool(sc.truth), fires, name)

    def test_trusted_fields(self):
        sc, _, _, _ = C.build("system-timer-sudo")
        b = io.BytesIO()
        sc.run(b)
        es = [dict(e) for e in parse_export(b.getvalue())]
        acc = [e for e in es if e["MESSAGE"].startswith(b"Accepted publickey for alice")][0]
        self.assertNotIn("_AUDIT_SESSION", acc)
        self.assertEqual(acc["_SYSTEMD_UNIT"], b"ssh.service")
        sudo = [e for e in es if e.get("SYSLOG_IDENTIFIER") == b"sudo" and b"COMMAND=" in
                e["MESSAGE"]][0]
        self.assertNotIn("SYSLOG_PID", sudo)
        self.assertEqual(sudo["_UID"], b"1001")
        new = [e for e in es if e.get("MESSAGE_ID") == b"8d45620c1a4348dbb17410da57c60c66"][0]
        self.assertEqual(new["LEADER"], acc["_PID"])
        self.assertEqual(sudo["_AUDIT_SESSION"], new["SESSION_ID"])
        t = [e for e in es if e.get("UNIT") == b"systemd-update-check.timer"][0]
        self.assertEqual((t["_PID"], t["_TRANSPORT"], t["JOB_TYPE"]), (b"1", b"journal", b"start"))
        truth = sc.truth[0]
        self.assertEqual(truth["src_port"], int(acc["MESSAGE"].split(b" port ")[1].split()[0]))


@unittest.skipUnless(os.path.exists("/lib/systemd/systemd-journal-remote"), "needs journal-remote")
class RealTooling(unittest.TestCase):
    def test_journal_remote_accepts(self):
        sc, _, _, _ = C.build("forgeries")
        with tempfile.TemporaryDirectory() as d:
            exp = os.path.join(d, "x.export")
            with open(exp, "wb") as f:
                n = sc.run(f)
            jf = os.path.join(d, "x.journal")
            subprocess.run(["/lib/systemd/systemd-journal-remote", "-o", jf, exp], check=True,
                           capture_output=True)
            out = subprocess.run(["journalctl", "--file", jf, "-o", "json"], check=True,
                                 capture_output=True).stdout.decode().splitlines()
            self.assertEqual(len(out), n)
            self.assertTrue(all(json.loads(x)["_HOSTNAME"] == "web01" for x in out))


if __name__ == "__main__":
    unittest.main()
