// Helpers for the daemon's integration tests: real .journal files written by
// systemd-journal-remote into a directory the daemon follows, the real jcorr binary
// started and killed as a process, its JSON-lines output and its metrics endpoint read
// back. No mocks.
#pragma once

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace jcorr::test::daemon {

inline const char* const kJournalRemote = "/lib/systemd/systemd-journal-remote";

inline std::string make_temp_dir() {
  std::string tmpl = "/tmp/jcorr-daemon-XXXXXX";
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

struct TempDir {
  std::string path = make_temp_dir();
  ~TempDir() {
    if (std::getenv("JCORR_KEEP_TEST_DIRS") == nullptr) std::system(("rm -rf '" + path + "'").c_str());
  }
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  REQUIRE(out.good());
}

inline std::uint64_t now_us() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

inline double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Splits Journal Export Format text into whole entries (binary fields included), each
// without its terminating blank line.
inline std::vector<std::string> split_export(const std::string& text) {
  std::vector<std::string> entries;
  std::size_t i = 0;
  std::size_t start = 0;
  while (i < text.size()) {
    const std::size_t nl = text.find('\n', i);
    if (nl == std::string::npos) break;
    if (nl == i) {  // blank line: end of entry
      if (i > start) entries.push_back(text.substr(start, i - start));
      start = i = nl + 1;
      continue;
    }
    const std::string_view line(text.data() + i, nl - i);
    if (line.find('=') == std::string_view::npos) {  // binary field: name, LE64 size, data, '\n'
      std::uint64_t size = 0;
      for (int b = 7; b >= 0; --b) size = (size << 8) | static_cast<unsigned char>(text[nl + 1 + static_cast<std::size_t>(b)]);
      i = nl + 1 + 8 + size + 1;
    } else {
      i = nl + 1;
    }
  }
  if (start < text.size() && text.find_first_not_of('\n', start) != std::string::npos)
    entries.push_back(text.substr(start));
  return entries;
}

inline std::string join_export(const std::vector<std::string>& entries, std::size_t from, std::size_t to) {
  std::string s;
  for (std::size_t k = from; k < to; ++k) {
    s += entries[k];
    if (!entries[k].ends_with("\n")) s += '\n';
    s += '\n';
  }
  return s;
}

// Writes export text into journal_file (created, or appended to when it exists) with
// systemd-journal-remote.
inline void journal_remote(const std::string& journal_file, const std::string& export_text, const std::string& scratch) {
  const std::string tmp = scratch + "/chunk.export";
  spit(tmp, export_text);
  const std::string cmd = std::string(kJournalRemote) + " -o '" + journal_file + "' '" + tmp + "' 2>/dev/null";
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// The value of FIELD in one export entry ("" when absent; text fields only).
inline std::string export_field(const std::string& entry, const std::string& field) {
  const std::string key = field + "=";
  std::size_t p = entry.starts_with(key) ? 0 : entry.find("\n" + key);
  if (p == std::string::npos) return {};
  if (p > 0 || !entry.starts_with(key)) ++p;
  const std::size_t end = entry.find('\n', p);
  return entry.substr(p + key.size(), end == std::string::npos ? std::string::npos : end - p - key.size());
}

// Appends entries [from, to) the way systemd-journal-remote's default --split-mode=host
// lays a directory out: one file per machine, dir/remote-MACHINE<suffix>.journal.
// (Files interleaving several machines' entries, --split-mode=none, can make sd-journal
// skip entries when it moves into a newly appeared file: docs/daemon.md.)
inline void append_by_host(const std::string& dir, const std::string& suffix, const std::vector<std::string>& entries,
                           std::size_t from, std::size_t to, const std::string& scratch) {
  std::vector<std::pair<std::string, std::string>> by_host;  // machine id, export text, in order of appearance
  for (std::size_t k = from; k < to; ++k) {
    const std::string m = export_field(entries[k], "_MACHINE_ID");
    auto it = std::find_if(by_host.begin(), by_host.end(), [&](const auto& h) { return h.first == m; });
    if (it == by_host.end()) it = by_host.insert(by_host.end(), {m, std::string()});
    it->second += join_export(entries, k, k + 1);
  }
  for (const auto& [m, text] : by_host) journal_remote(dir + "/remote-" + m + suffix + ".journal", text, scratch);
}

// One export entry "now-ish", as a local process would have logged it.
struct ExportEntry {
  std::uint64_t realtime_us;
  std::vector<std::pair<std::string, std::string>> fields;
};

inline std::string boot_id() {
  std::string b = slurp("/proc/sys/kernel/random/boot_id");
  std::string out;
  for (char c : b)
    if (std::isxdigit(static_cast<unsigned char>(c))) out += c;
  return out;
}

inline std::string render_export(const std::vector<ExportEntry>& entries) {
  std::string s;
  for (const auto& e : entries) {
    s += "__REALTIME_TIMESTAMP=" + std::to_string(e.realtime_us) + "\n";
    s += "__MONOTONIC_TIMESTAMP=" + std::to_string(e.realtime_us % 1000000000000ULL) + "\n";
    bool has_boot = false;
    for (const auto& [k, v] : e.fields) has_boot = has_boot || k == "_BOOT_ID";
    if (!has_boot) s += "_BOOT_ID=0f0e0d0c0b0a09080706050403020100\n";
    s += "_MACHINE_ID=a1b2c3d4e5f60718293a4b5c6d7e8f90\n_HOSTNAME=testhost\n_TRANSPORT=journal\n";
    for (const auto& [k, v] : e.fields) s += k + "=" + v + "\n";
    s += "\n";
  }
  return s;
}

// The jcorr daemon as a child process, its stdout and stderr in files.
class DaemonProcess {
 public:
  DaemonProcess(std::string config, std::string stderr_path, std::string stdout_path = "/dev/null")
      : config_(std::move(config)), stderr_(std::move(stderr_path)), stdout_(std::move(stdout_path)) {}
  ~DaemonProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  void start(std::vector<std::string> extra = {}) {
    REQUIRE(pid_ <= 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, stdout_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, stderr_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<std::string> args{JCORR_BIN, "run", "--config", config_};
    for (auto& a : extra) args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int r = ::posix_spawn(&pid_, JCORR_BIN, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(r == 0);
  }

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  void signal(int sig) const {
    REQUIRE(pid_ > 0);
    ::kill(pid_, sig);
  }

  // Waits for the process to exit; returns its wait status, or nullopt on timeout.
  std::optional<int> wait(double timeout_s) {
    const double until = steady_seconds() + timeout_s;
    while (pid_ > 0) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return status;
      }
      if (steady_seconds() > until) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
  }

  void kill9() {
    signal(SIGKILL);
    REQUIRE(wait(10).has_value());
  }

  // SIGTERM, and the exit code (-1 when it did not exit normally in time).
  int terminate(double timeout_s = 10) {
    signal(SIGTERM);
    const auto st = wait(timeout_s);
    if (!st || !WIFEXITED(*st)) return -1;
    return WEXITSTATUS(*st);
  }

  std::string log() const { return slurp(stderr_); }

 private:
  std::string config_;
  std::string stderr_;
  std::string stdout_;
  pid_t pid_ = -1;
};

// Polls pred every 10 ms until it holds or timeout_s passes.
inline bool wait_for(const std::function<bool()>& pred, double timeout_s) {
  const double until = steady_seconds() + timeout_s;
  while (steady_seconds() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// Detection ids in a JSON-lines file, in order, skipping lines that do not parse.
inline std::vector<std::string> ids_in(const std::string& jsonl) {
  std::vector<std::string> ids;
  std::istringstream in(slurp(jsonl));
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("id")) ids.push_back(j["id"].get<std::string>());
  }
  return ids;
}

inline std::vector<nlohmann::json> detections_in(const std::string& jsonl) {
  std::vector<nlohmann::json> out;
  std::istringstream in(slurp(jsonl));
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

inline std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// The ids one uninterrupted `jcorr replay` finds in input.
inline std::set<std::string> replay_ids(const std::string& rules, const std::string& input) {
  std::set<std::string> ids;
  std::istringstream in(run_capture(std::string(JCORR_BIN) + " replay -q --no-progress -o json --rules '" + rules +
                                    "' '" + input + "'"));
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) ids.insert(j["id"].get<std::string>());
  }
  return ids;
}

struct HttpResponse {
  int status = 0;
  std::string body;
};

// A plain HTTP/1.1 GET to 127.0.0.1:port.
inline std::optional<HttpResponse> http_get(std::uint16_t port, const std::string& target,
                                            const std::string& method = "GET") {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  const std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return std::nullopt;
  }
  std::string raw;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) raw.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  HttpResponse r;
  if (raw.size() < 12 || !raw.starts_with("HTTP/1.1 ")) return std::nullopt;
  r.status = std::atoi(raw.c_str() + 9);
  const auto body = raw.find("\r\n\r\n");
  if (body != std::string::npos) r.body = raw.substr(body + 4);
  return r;
}

// The value of the sample "name{labels}" (exactly as written) in a Prometheus text body.
inline std::optional<double> metric(const std::string& body, const std::string& series) {
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(series + " ")) return std::strtod(line.c_str() + series.size() + 1, nullptr);
  }
  return std::nullopt;
}

// The metrics port the daemon logged ("metrics on http://127.0.0.1:PORT/metrics").
inline std::optional<std::uint16_t> metrics_port(const std::string& log) {
  const std::string key = "metrics on http://127.0.0.1:";
  const auto p = log.rfind(key);
  if (p == std::string::npos) return std::nullopt;
  return static_cast<std::uint16_t>(std::atoi(log.c_str() + p + key.size()));
}

inline std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace jcorr::test::daemon
