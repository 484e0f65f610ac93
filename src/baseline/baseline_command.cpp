#include "jcorr/baseline/baseline_command.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "jcorr/baseline/codes.h"
#include "jcorr/baseline/drift.h"
#include "jcorr/baseline/scanner.h"

namespace jcorr::baseline {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitDrift = 1;
constexpr int kExitError = 2;
constexpr std::size_t kMaxBaselineSize = 512u << 20;

// Unit files may hold bytes that are not UTF-8 (C escapes such as \xff in ExecStart=);
// they are written as U+FFFD rather than failing the whole document.
std::string dump(const nlohmann::json& json, int indent = -1) {
  return json.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

constexpr std::string_view kHelp = R"(jcorr baseline - record systemd timers and their services, then report drift

A timer plus a service is a classic way to keep malware running (MITRE ATT&CK
T1053.006). `scan` records every timer on a system, the service each one starts,
the files that define them (path, owner, mode, mtime, size, SHA-256), what they
run, and what looks risky. Keep that baseline somewhere safe; later, `diff`
rescans and tells you which timers and services are new, changed or gone.

Usage:
  jcorr baseline scan [--root DIR]
  jcorr baseline diff BASELINE.json [--root DIR] [--format text|jsonl|json]
  jcorr baseline --help

Examples:
  jcorr baseline scan > /var/lib/jcorr/timers.json     on a system you trust
  jcorr baseline diff /var/lib/jcorr/timers.json       later, on the same system
  jcorr baseline diff timers.json --root /mnt/suspect  a disk image mounted read-only

Options:
  --root DIR     Treat DIR as "/" (a mounted image or container tree). Every path,
                 including absolute symlinks, is resolved inside DIR; nothing on the
                 host outside DIR is read (BASELINE.json itself is a host path;
                 "-" reads it from standard input). Default: /.
  --format FMT   diff output: "text" (a report), "jsonl" (one JSON object per line,
                 each with "drift": new|changed|removed|lingering-added|...), or
                 "json" (one document). Default: text on a terminal, else jsonl.

Where it looks: the system unit path (/etc/systemd/system, /run/systemd/system,
/run/systemd/transient, /usr/lib/systemd/system, /lib/systemd/system, ...), the
global user unit path (/etc/systemd/user, /usr/lib/systemd/user, ...) and each
user's ~/.config/systemd/user and ~/.local/share/systemd/user (users from
DIR/etc/passwd), with systemd's precedence, masking, drop-ins (x.timer.d/*.conf,
timer.d/*.conf) and enablement links (*.wants/, *.requires/).

What is flagged as risky (code: meaning):
  exec.temp-path          runs something from /tmp, /var/tmp or /dev/shm
  exec.hidden-path        runs something with a hidden path component (/.x)
  exec.download-and-run   curl/wget piped or substituted into a shell
  exec.encoded            base64 -d, python -c with exec/b64decode, ...
  exec.reverse-shell      /dev/tcp/, nc -e, socat exec:, nc piped to a shell
  file.writable           unit file or its directory writable by non-root
  file.owner-non-root     system unit file owned by a non-root user
  timer.frequent          fires more often than every 5 minutes
  user.lingering          user timer of a user with lingering enabled

Files that cannot be used (unreadable, broken or looping symlinks, over 1 MiB,
binary, directories where files belong) are listed under "problems".

Exit status: 0 no drift (or scan succeeded), 1 drift found, 2 usage error or
unreadable baseline/root.

The same baseline feeds rules ({"baseline": "timers"} lists, with
`jcorr replay --baseline FILE`) and detection enrichment (`jcorr replay
--host-root DIR`, and the daemon for its own host): see docs/baseline.md.
)";

void usage_error(std::ostream& err, std::string_view message) {
  err << "jcorr baseline: " << message << "\nTry 'jcorr baseline --help'.\n";
}

struct Options {
  std::string root = "/";
  std::optional<std::string> format;
  std::vector<std::string> positional;
};

// Parses the options shared by the subcommands; returns false after reporting a usage error.
bool parse_options(const std::vector<std::string>& args, std::size_t first, Options& options, std::ostream& err) {
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string_view name, std::string& out) {
      const std::string eq = std::string(name) + "=";
      if (a.starts_with(eq)) {
        out = a.substr(eq.size());
        return true;
      }
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    if (a == "--root" || a.starts_with("--root=")) {
      if (!value("--root", options.root) || options.root.empty()) {
        usage_error(err, "--root needs a directory");
        return false;
      }
    } else if (a == "--format" || a.starts_with("--format=")) {
      std::string format;
      if (!value("--format", format) || (format != "text" && format != "jsonl" && format != "json")) {
        usage_error(err, "--format must be text, jsonl or json");
        return false;
      }
      options.format = format;
    } else if (a.size() > 1 && a.starts_with('-')) {
      usage_error(err, "unknown option '" + a + "'");
      return false;
    } else {
      options.positional.push_back(a);
    }
  }
  return true;
}

int run_scan(const Options& options, std::ostream& out, std::ostream& err) {
  if (!options.positional.empty()) {
    usage_error(err, "scan takes no arguments besides --root");
    return kExitError;
  }
  auto fs = RootFs::open(options.root);
  if (!fs) {
    err << "jcorr baseline: " << fs.error().message << "\n";
    return kExitError;
  }
  const Baseline baseline = scan(*fs);
  out << dump(to_json(baseline), 2) << "\n";
  return kExitOk;
}

std::optional<std::string> read_all(const std::string& path, std::ostream& err) {
  std::ostringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      err << "jcorr baseline: cannot open baseline " << path << "\n";
      return std::nullopt;
    }
    buffer << in.rdbuf();
  }
  std::string text = std::move(buffer).str();
  if (text.size() > kMaxBaselineSize) {
    err << "jcorr baseline: baseline " << path << " is larger than " << kMaxBaselineSize << " bytes\n";
    return std::nullopt;
  }
  return text;
}

int run_diff(const Options& options, std::ostream& out, std::ostream& err, bool out_is_tty) {
  if (options.positional.size() != 1) {
    usage_error(err, "diff needs exactly one BASELINE.json");
    return kExitError;
  }
  const std::string& path = options.positional.front();
  const auto text = read_all(path, err);
  if (!text) return kExitError;
  const auto old_baseline = parse_baseline(*text);
  if (!old_baseline) {
    err << "jcorr baseline: " << path << " is not a usable baseline: " << old_baseline.error() << "\n";
    return kExitError;
  }
  auto fs = RootFs::open(options.root);
  if (!fs) {
    err << "jcorr baseline: " << fs.error().message << "\n";
    return kExitError;
  }
  const Drift drift = diff(*old_baseline, scan(*fs));
  const std::string format = options.format.value_or(out_is_tty ? "text" : "jsonl");
  if (format == "text") {
    out << render_text(drift);
  } else if (format == "json") {
    out << dump(to_json(drift), 2) << "\n";
  } else {
    for (const auto& line : to_json_lines(drift)) out << dump(line) << "\n";
  }
  out.flush();
  return drift.empty() ? kExitOk : kExitDrift;
}

}  // namespace

int baseline_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool out_is_tty) {
  try {
    if (args.empty()) {
      usage_error(err, "missing subcommand (scan or diff)");
      return kExitError;
    }
    const std::string& command = args.front();
    if (command == "--help" || command == "-h" || command == "help") {
      out << kHelp;
      return kExitOk;
    }
    if (command != "scan" && command != "diff") {
      usage_error(err, "unknown subcommand '" + command + "'");
      return kExitError;
    }
    for (std::size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--help" || args[i] == "-h") {
        out << kHelp;
        return kExitOk;
      }
    }
    Options options;
    if (!parse_options(args, 1, options, err)) return kExitError;
    return command == "scan" ? run_scan(options, out, err) : run_diff(options, out, err, out_is_tty);
  } catch (const std::exception& e) {
    // Nothing here is expected to throw; an allocation failure still ends with a status.
    err << "jcorr baseline: " << e.what() << "\n";
    return kExitError;
  }
}

int baseline_command(const std::vector<std::string>& args) {
  return baseline_command(args, std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1);
}

}  // namespace jcorr::baseline
