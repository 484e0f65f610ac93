// Forgery under load: a real systemd-journald, an unprivileged user forging thousands of
// records per second with logger, systemd-cat and the native protocol (fake sshd logins
// for alice, fake sudo lines, fake "Reloading.", fake "Started x.timer" with MESSAGE_ID
// and UNIT, fake logind session records, binaries renamed to sshd/sudo/systemd), and a
// genuine attack chain among them. The forged records must neither create a detection
// nor hide or alter the real one, and the engine must keep pace.
//
// Where the genuine chain comes from: driving real sshd and sudo through a full SSH
// login, sudo and a timer start needs a systemd PID 1 and logind, which the test
// machines do not have; writing the chain as root through the native protocol would
// not make it genuine (the trusted fields would be root's). So the forged records are
// exported from the real journal (`journalctl -o export`) and merged by time with the
// genuine chain recorded in sample-journals/system-timer-sudo, retimed into the forging
// window and moved to this machine's _MACHINE_ID/_HOSTNAME, so that forgeries and the
// real chain share one correlation group. The merged stream is replayed by the jcorr
// binary. tests/integration/forgery/forge_under_load.sh does the journald part, in a
// private mount namespace so that a journald already running on the host is untouched.
//
// Needs: root (CAP_SYS_ADMIN for the mount namespace), /lib/systemd/systemd-journald,
// journalctl and systemd-cat (package systemd), logger, setpriv and unshare
// (util-linux), useradd (passwd), python3. Without them the test fails and says why.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "jcorr/core/event.h"
#include "jcorr/sources/byte_input.h"
#include "jcorr/sources/export_reader.h"

namespace fs = std::filesystem;
using jcorr::core::Event;
using jcorr::core::FieldSchema;

namespace {

constexpr const char* kForger = "jcorr-forger";

// How much faster than the forgers the replay must run: ten times in an optimised build;
// in a sanitizer or debug build (the asan preset), keeping pace is enough.
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
constexpr double kPaceFactor = 10.0;
#else
constexpr double kPaceFactor = 1.0;
#endif
constexpr const char* kGenuineSeqnumId = "s=73bba095aca8472f99d13d68ec2d8fc2";

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs a shell command; returns its exit status (-1 when it did not exit normally).
int run(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::vector<std::string> missing_prerequisites() {
  std::vector<std::string> missing;
  if (geteuid() != 0) missing.emplace_back("root (journald and a private mount namespace need it)");
  for (const char* tool : {"/lib/systemd/systemd-journald"})
    if (access(tool, X_OK) != 0) missing.emplace_back(tool);
  for (const char* tool : {"journalctl", "systemd-cat", "logger", "setpriv", "unshare", "useradd", "python3", "install"})
    if (run(std::string("command -v ") + tool + " >/dev/null 2>&1") != 0) missing.emplace_back(tool);
  return missing;
}

std::string field(const Event& e, FieldSchema& s, std::string_view name) {
  auto id = s.find(name);
  if (!id) return {};
  return std::string(e.get(*id).value_or(""));
}

bool printable_line(std::string_view v) {
  for (const char c : v)
    if (c == '\n' || (static_cast<unsigned char>(c) < 0x20 && c != '\t')) return false;
  return true;
}

// Writes one entry in Journal Export Format (text fields, binary where needed).
void write_export(std::string& out, const Event& e, const FieldSchema& s) {
  out += "__CURSOR=" + e.cursor + "\n__REALTIME_TIMESTAMP=" + std::to_string(e.realtime_us) +
         "\n__MONOTONIC_TIMESTAMP=" + std::to_string(e.monotonic_us) + "\n";
  for (const auto& slot : e.slots()) {
    const std::string_view name = s.name(slot.id);
    const std::string_view v = e.value(slot);
    if (printable_line(v)) {
      out.append(name).append("=").append(v).append("\n");
    } else {
      out.append(name).append("\n");
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v.size() >> (8 * i)) & 0xff));
      out.append(v).append("\n");
    }
  }
  out += "\n";
}

std::unique_ptr<jcorr::sources::ExportReader> open_export(const fs::path& p, FieldSchema& schema) {
  auto input = jcorr::sources::open_file_input(p.string());
  REQUIRE(input.has_value());
  return std::make_unique<jcorr::sources::ExportReader>(p.string(), std::move(*input), schema,
                                                         jcorr::sources::SourceOptions{}, nullptr);
}

// Replaces the t= part of a journald cursor.
std::string retime_cursor(const std::string& cursor, std::uint64_t t) {
  std::string out;
  std::stringstream ss(cursor);
  for (std::string part; std::getline(ss, part, ';');) {
    if (!out.empty()) out += ";";
    if (part.starts_with("t=")) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "t=%llx", static_cast<unsigned long long>(t));
      out += buf;
    } else {
      out += part;
    }
  }
  return out;
}

struct Replay {
  std::vector<nlohmann::json> detections;
  double seconds = 0;  // CPU seconds the replay took
};

Replay replay(const fs::path& input, const fs::path& work) {
  const fs::path out = work / (input.stem().string() + ".jsonl");
  const fs::path err = work / (input.stem().string() + ".stderr");
  // CPU seconds of the replay (user + system, from the children's usage once waited
  // for), not wall time: the pace check must hold on a loaded machine too.
  auto cpu = [] {
    rusage u{};
    getrusage(RUSAGE_CHILDREN, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  const double start = cpu();
  const int rc = run(std::string(JCORR_BIN) + " replay --rules " + JCORR_SOURCE_DIR + "/rules --output json --no-progress -q " +
                     input.string() + " >" + out.string() + " 2>" + err.string());
  Replay r;
  r.seconds = std::max(cpu() - start, 1e-3);
  INFO("jcorr replay stderr: " << read_text(err));
  REQUIRE(rc == 0);
  std::ifstream in(out);
  for (std::string line; std::getline(in, line);) r.detections.push_back(nlohmann::json::parse(line));
  return r;
}

}  // namespace

TEST_CASE("forged records under load neither create, hide nor alter a detection", "[integration][forgery]") {
  const auto missing = missing_prerequisites();
  if (!missing.empty()) {
    std::string why;
    for (const auto& m : missing) why += "\n  - " + m;
    FAIL("the forgery-under-load test cannot run here; it needs:" << why);
  }
  if (getpwnam(kForger) == nullptr)
    REQUIRE(run(std::string("useradd --system --no-create-home --shell /usr/sbin/nologin ") + kForger) == 0);
  const passwd* pw = getpwnam(kForger);
  REQUIRE(pw != nullptr);
  const std::string forger_uid = std::to_string(pw->pw_uid);

  const int seconds = std::getenv("JCORR_FORGERY_SECONDS") ? std::atoi(std::getenv("JCORR_FORGERY_SECONDS")) : 10;
  const int rate = std::getenv("JCORR_FORGERY_RATE") ? std::atoi(std::getenv("JCORR_FORGERY_RATE")) : 1000;
  char tmpl[] = "/tmp/jcorr-forgery-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const fs::path work = tmpl;
  REQUIRE(chmod(tmpl, 0755) == 0);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      if (!std::getenv("JCORR_KEEP_FORGERY")) fs::remove_all(dir);
    }
  } cleanup{work};

  // 1. Real journald, unprivileged forgers, export.
  const fs::path script = fs::path(JCORR_SOURCE_DIR) / "tests/integration/forgery/forge_under_load.sh";
  const int rc = run(script.string() + " " + work.string() + " " + std::to_string(seconds) + " " + kForger + " " +
                     std::to_string(rate) + " >" + (work / "forge.log").string() + " 2>&1");
  INFO("forge_under_load.sh output:\n" << read_text(work / "forge.log"));
  REQUIRE(rc == 0);
  std::uint64_t window_start = 0, window_end = 0;
  {
    std::ifstream w(work / "window");
    w >> window_start >> window_end;
  }
  REQUIRE(window_end > window_start);

  // 2. The genuine chain, retimed into the middle of the forging window.
  FieldSchema gschema;
  gschema.set_open(true);
  std::vector<Event> genuine;
  {
    auto reader = open_export(fs::path(JCORR_SOURCE_DIR) / "sample-journals/system-timer-sudo/journal.export", gschema);
    for (Event e; reader->next(e);) genuine.push_back(e);
  }
  REQUIRE(genuine.size() > 100);

  // 3. Merge: forged entries in journal order, genuine ones inserted by time.
  FieldSchema fschema;
  fschema.set_open(true);
  std::map<std::string, std::uint64_t> kinds;
  std::uint64_t forged = 0, total = 0;
  std::string machine_id, hostname;
  std::string merged, forged_only, genuine_only;
  std::size_t next_genuine = 0;
  std::vector<Event> retimed;
  {
    auto reader = open_export(work / "forged.export", fschema);
    Event e;
    bool have = reader->next(e);
    REQUIRE(have);
    machine_id = field(e, fschema, "_MACHINE_ID");
    hostname = field(e, fschema, "_HOSTNAME");
    // Map the chain's span linearly onto the window, one second in from each end.
    const std::uint64_t g0 = genuine.front().realtime_us, g1 = genuine.back().realtime_us;
    const std::uint64_t w0 = window_start + 1'000'000, w1 = window_end - 1'000'000;
    REQUIRE(w1 > w0);
    std::uint64_t last = 0;
    for (const auto& g : genuine) {
      Event r;
      auto t = w0 + static_cast<std::uint64_t>(static_cast<double>(g.realtime_us - g0) / static_cast<double>(g1 - g0) *
                                               static_cast<double>(w1 - w0));
      t = std::max(t, last + 1);
      last = t;
      r.realtime_us = t;
      r.monotonic_us = g.monotonic_us;
      r.cursor = retime_cursor(g.cursor, t);
      for (const auto& slot : g.slots()) {
        const std::string_view name = gschema.name(slot.id);
        std::string v(g.value(slot));
        if (name == "_MACHINE_ID") v = machine_id;
        if (name == "_HOSTNAME") v = hostname;
        if (name == "_SOURCE_REALTIME_TIMESTAMP") v = std::to_string(t - 300);
        r.add(slot.id, v);
      }
      write_export(genuine_only, r, gschema);
      retimed.push_back(std::move(r));
    }
    while (have) {
      while (next_genuine < retimed.size() && retimed[next_genuine].realtime_us <= e.realtime_us) {
        write_export(merged, retimed[next_genuine++], gschema);
        ++total;
      }
      if (field(e, fschema, "_UID") == forger_uid) {
        ++forged;
        const std::string msg = field(e, fschema, "MESSAGE");
        const std::string msgid = field(e, fschema, "MESSAGE_ID");
        const std::string comm = field(e, fschema, "_COMM");
        if (msgid == "39f53479d3a045ac8e11786248231fbf" && field(e, fschema, "UNIT") == "systemd-update-check.timer")
          ++kinds["fake timer start (MESSAGE_ID, UNIT)"];
        if (msg.starts_with("Accepted publickey for alice")) ++kinds["fake sshd login of alice"];
        if (msg.find("COMMAND=") != std::string::npos && field(e, fschema, "_TRANSPORT") == "stdout")
          ++kinds["fake sudo through systemd-cat"];
        if (msg.find("COMMAND=") != std::string::npos && field(e, fschema, "_TRANSPORT") == "syslog")
          ++kinds["fake sudo through syslog"];
        if (msg == "Reloading.") ++kinds["fake Reloading."];
        if (msgid == "8d45620c1a4348dbb17410da57c60c66" || msgid == "3354939424b4456d9802ca8333ed424a")
          ++kinds["fake logind session record"];
        if (comm == "sshd" || comm == "sudo" || comm == "systemd" || comm == "systemd-logind")
          ++kinds["renamed binary (_COMM of a daemon)"];
        if (comm == "logger" && field(e, fschema, "_TRANSPORT") == "journal") ++kinds["logger --journald"];
      }
      write_export(merged, e, fschema);
      write_export(forged_only, e, fschema);
      ++total;
      have = reader->next(e);
    }
    while (next_genuine < retimed.size()) {
      write_export(merged, retimed[next_genuine++], gschema);
      ++total;
    }
  }
  std::ofstream(work / "merged.export", std::ios::binary) << merged;
  std::ofstream(work / "forged-only.export", std::ios::binary) << forged_only;
  std::ofstream(work / "genuine-only.export", std::ios::binary) << genuine_only;
  merged.clear();
  forged_only.clear();

  const double window_secs = static_cast<double>(window_end - window_start) / 1e6;
  const double forge_rate = static_cast<double>(forged) / window_secs;
  std::string kind_report;
  for (const auto& [k, n] : kinds) kind_report += "\n  " + k + ": " + std::to_string(n);
  INFO(forged << " forged records in " << window_secs << "s (" << forge_rate << "/s):" << kind_report);
  // Thousands of forged records per second, of every kind.
  CHECK(forge_rate >= 1000.0);
  for (const char* k : {"fake timer start (MESSAGE_ID, UNIT)", "fake sshd login of alice", "fake sudo through systemd-cat",
                        "fake sudo through syslog", "fake Reloading.", "fake logind session record",
                        "renamed binary (_COMM of a daemon)", "logger --journald"}) {
    INFO(k);
    CHECK(kinds[k] >= 10);
  }

  // 4. The genuine chain alone is detected (the retiming keeps it intact) ...
  const Replay alone = replay(work / "genuine-only.export", work);
  REQUIRE(alone.detections.size() == 1);
  // ... the forgeries alone produce nothing ...
  const Replay forgeries = replay(work / "forged-only.export", work);
  INFO("detections from forged records: " << nlohmann::json(forgeries.detections).dump());
  CHECK(forgeries.detections.empty());
  // ... and among the forgeries the real chain is detected exactly once, with its values.
  const Replay mixed = replay(work / "merged.export", work);
  INFO("detections: " << nlohmann::json(mixed.detections).dump());
  REQUIRE(mixed.detections.size() == 1);
  const auto& d = mixed.detections[0];
  CHECK(d["rule"] == "t1053.006-system-timer-ssh-sudo");
  CHECK(d["host"]["machine_id"] == machine_id);
  const auto& v = d["values"];
  CHECK(v["user"] == "alice");
  CHECK(v["src_ip"] == "203.0.113.45");
  CHECK(v["src_port"] == "55947");
  CHECK(v["session"] == "23");
  CHECK(v["timer"] == "systemd-update-check.timer");
  CHECK(v["service"] == "systemd-update-check.service");
  CHECK(v["auth_method"] == "publickey");
  CHECK(v["tty"] == nlohmann::json::array({"pts/1"}));
  CHECK(v["commands"] == nlohmann::json::array({"/usr/bin/tee /etc/systemd/system/systemd-update-check.service",
                                                "/usr/bin/tee /etc/systemd/system/systemd-update-check.timer",
                                                "/usr/bin/systemctl daemon-reload",
                                                "/usr/bin/systemctl enable --now systemd-update-check.timer"}));
  for (const auto& ev : d["evidence"]) {
    INFO(ev.dump());
    CHECK(ev["cursor"].get<std::string>().starts_with(kGenuineSeqnumId));  // no forged record is evidence
  }
  CHECK(d["id"] == alone.detections[0]["id"]);  // the same members, so the same id

  // 5. The engine keeps pace: replay throughput well above the forging rate.
  const double entries_per_sec = static_cast<double>(total) / mixed.seconds;
  std::fprintf(stderr,
               "[forgery] %llu forged records in %.1fs (%.0f/s); replay of %llu entries in %.2f CPU s (%.0f entries/s)\n",
               static_cast<unsigned long long>(forged), window_secs, forge_rate, static_cast<unsigned long long>(total),
               mixed.seconds, entries_per_sec);
  WARN("forging " << forge_rate << " records/s; jcorr replays " << entries_per_sec << " entries/s");
  CHECK(entries_per_sec >= kPaceFactor * forge_rate);
}
