// Support for the webhook integration tests: temporary directories, a free port, and
// the real receiver (receiver.py) run as a child process on 127.0.0.1.
#pragma once

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "jcorr/core/detection.h"
#include "jcorr/sinks/webhook_config.h"
#include "jcorr/sinks/webhook_sink.h"

namespace jcorr::test::webhook {

using nlohmann::json;
using namespace std::chrono_literals;

inline const std::string kScripts = std::string(JCORR_SOURCE_DIR) + "/tests/integration/webhook";

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& base = std::filesystem::temp_directory_path().string()) {
    std::string tmpl = base + "/jcorr-webhook-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void spit(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// A port nothing listens on now (bound and released), for a receiver started later.
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Polls pred every 20 ms until it holds or timeout passes; returns its last value.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return pred();
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Starts argv[0] (looked up in PATH) with stdout and stderr redirected to files.
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = err == out ? o : ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o >= 0) ::dup2(o, 1);
    if (e >= 0) ::dup2(e, 2);
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    ::execvp(cargv[0], cargv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits for a child; returns its exit status, or 128 + the signal that ended it.
inline int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// receiver.py as a child process; killed when this goes out of scope.
class Receiver {
 public:
  Receiver(const std::string& dir, std::vector<std::string> args, std::uint16_t port = 0) {
    static int counter = 0;
    const std::string base = dir + "/receiver" + std::to_string(++counter);
    log_ = base + ".log";
    const std::string port_file = base + ".port";
    const std::string err = base + ".err";
    std::vector<std::string> argv = {"python3", kScripts + "/receiver.py", "--port", std::to_string(port),
                                     "--port-file", port_file, "--log", log_};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = spawn(argv, err, err);
    const bool up = eventually([&] { return std::filesystem::exists(port_file); }, 15s);
    INFO("receiver stderr: " << slurp(err));
    REQUIRE(up);
    port_ = static_cast<std::uint16_t>(std::stoi(slurp(port_file)));
  }
  ~Receiver() { stop(); }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  std::uint16_t port() const { return port_; }

  // Every request received so far, in arrival order.
  std::vector<json> requests() const {
    std::vector<json> out;
    std::istringstream in(slurp(log_));
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }

  // The distinct detection ids among the requests answered with a 2xx.
  std::set<std::string> delivered_ids() const {
    std::set<std::string> ids;
    for (const auto& r : requests())
      if (r["status"].get<int>() / 100 == 2) ids.insert(r["headers"]["Idempotency-Key"].get<std::string>());
    return ids;
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string log_;
};

// Collects the sink's log lines for assertions (and echoes them to stderr when asked).
struct LogCapture {
  std::mutex mutex;
  std::vector<std::string> lines;
  sinks::WebhookSinkOptions options() {
    sinks::WebhookSinkOptions o;
    o.log = [this](std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    };
    return o;
  }
  bool contains(std::string_view text) {
    std::lock_guard lock(mutex);
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
  std::string all() {
    std::lock_guard lock(mutex);
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
  }
};

// A webhook configuration as the loader would produce it, with short timings for tests.
inline sinks::WebhookConfig make_config(const std::string& url, const std::string& spool_dir) {
  sinks::WebhookConfig c;
  c.name = "test";
  auto u = sinks::parse_webhook_url(url);
  REQUIRE(u.has_value());
  c.url = *u;
  c.spool_dir = spool_dir;
  c.timeout = 3s;
  c.connect_timeout = 1s;
  c.backoff = {50ms, 300ms};
  return c;
}

inline std::unique_ptr<sinks::WebhookSink> open_sink(sinks::WebhookConfig c, LogCapture& log) {
  auto s = sinks::WebhookSink::open(std::move(c), log.options());
  INFO((s ? "" : s.error()));
  REQUIRE(s.has_value());
  return std::move(*s);
}

inline core::Detection detection(int i, std::string severity = "high") {
  core::Detection d;
  char id[33];
  std::snprintf(id, sizeof id, "%032x", static_cast<unsigned>(i) * 2654435761u);
  d.id = id;
  d.rule_id = "t1053-006-timer-after-ssh-sudo";
  d.title = "New systemd timer started from an SSH session with sudo";
  d.severity = std::move(severity);
  d.attack = {"T1053.006"};
  d.summary = "alice started timer-" + std::to_string(i) + ".timer on web01";
  d.machine_id = "b9b5cf1f95cc478f9553d01ae90a6ef1";
  d.hostname = "web01";
  d.first_us = d.last_us = d.time_us = 1767225600000000 + i;
  d.values = {{"user", "alice"}, {"unit", "timer-" + std::to_string(i) + ".timer"}};
  return d;
}

}  // namespace jcorr::test::webhook
