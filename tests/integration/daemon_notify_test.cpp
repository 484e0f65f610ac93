// The daemon and the service manager: READY=1 after the first drain, STATUS= lines,
// WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1 on SIGHUP and STOPPING=1 on SIGTERM,
// read from a real notification socket (an AF_UNIX datagram socket, as systemd's).
// And a process that cannot read the system journal refuses to follow it.
#include <catch2/catch.hpp>

#include <sys/un.h>

#include "integration/daemon/daemon_test_support.h"

using namespace jcorr::test::daemon;

namespace {

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof a.sun_path);
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~NotifySocket() { ::close(fd_); }

  // Every datagram received so far, appended to messages().
  const std::vector<std::string>& poll() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      messages_.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return messages_;
  }
  std::size_t count(const std::string& prefix) {
    std::size_t k = 0;
    for (const auto& m : poll())
      if (m.starts_with(prefix)) ++k;
    return k;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

}  // namespace

TEST_CASE("daemon: READY, STATUS, WATCHDOG, RELOADING and STOPPING reach the service manager", "[daemon][notify]") {
  TempDir tmp;
  REQUIRE(::mkdir((tmp.path + "/journal").c_str(), 0755) == 0);
  journal_remote(tmp.path + "/journal/a.journal", render_export({{now_us(), {{"MESSAGE", "hello"}}}}), tmp.path);
  spit(tmp.path + "/jcorr.json", R"({"rules": ")" + std::string(JCORR_SOURCE_DIR) + R"(/tests/integration/daemon/marker-rules.json",
  "follow": {"directory": "journal"}, "state_directory": "state", "outputs": {"stdout": false}, "metrics": {"enabled": false}})");
  NotifySocket sock(tmp.path + "/notify");
  ::setenv("NOTIFY_SOCKET", (tmp.path + "/notify").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "400000", 1);  // keep-alives every 200 ms
  DaemonProcess d(tmp.path + "/jcorr.json", tmp.path + "/daemon.log");
  d.start();
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  INFO(d.log());
  REQUIRE(wait_for([&] { return sock.count("READY=1") == 1; }, 10));
  CHECK(wait_for([&] { return sock.count("WATCHDOG=1") >= 3; }, 3));
  CHECK(wait_for([&] { return sock.count("STATUS=following") >= 1; }, 3));
  d.signal(SIGHUP);
  CHECK(wait_for([&] { return sock.count("RELOADING=1") == 1 && sock.count("READY=1") == 2; }, 5));
  CHECK(d.terminate() == 0);
  CHECK(sock.count("STOPPING=1") == 1);
}

TEST_CASE("daemon: a process that cannot read the system journal refuses to follow it", "[daemon][access]") {
  TempDir tmp;
  ::chmod(tmp.path.c_str(), 0755);
  REQUIRE(::mkdir((tmp.path + "/state").c_str(), 0777) == 0);
  ::chmod((tmp.path + "/state").c_str(), 0777);
  spit(tmp.path + "/jcorr.json", R"({"rules": ")" + std::string(JCORR_SOURCE_DIR) + R"(/tests/integration/daemon/marker-rules.json",
  "follow": "local", "state_directory": "state", "outputs": {"stdout": false}, "metrics": {"enabled": false}})");
  ::chmod((tmp.path + "/jcorr.json").c_str(), 0644);
  const std::string run = "setpriv --reuid=nobody --regid=nogroup --clear-groups " + std::string(JCORR_BIN) +
                          " run --config '" + tmp.path + "/jcorr.json' 2>&1; echo rc=$?";
  const std::string out = run_capture(run);
  INFO(out);
  CHECK(out.find("rc=4") != std::string::npos);
  CHECK(out.find("cannot read the system journal") != std::string::npos);
  CHECK(out.find("systemd-journal") != std::string::npos);

  // Told to, it runs anyway, and says so loudly.
  spit(tmp.path + "/jcorr.json", R"({"rules": ")" + std::string(JCORR_SOURCE_DIR) + R"(/tests/integration/daemon/marker-rules.json",
  "follow": "local", "state_directory": "state", "outputs": {"stdout": false}, "metrics": {"enabled": false},
  "journal_access": "warn"})");
  const std::string warned = run_capture("timeout -s TERM 1 " + run);
  INFO(warned);
  CHECK(warned.find("WARNING: this process (uid 65534) cannot read the system journal") != std::string::npos);
  CHECK(warned.find("caught up; following") != std::string::npos);
  CHECK(warned.find("stopped") != std::string::npos);  // SIGTERM from timeout(1): a clean stop
}
