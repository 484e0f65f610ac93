// The baseline: what timers and their services a system has, where their files are,
// who owns them, what they contain (SHA-256) and what they run, with the risky
// properties found in them. A baseline is taken with scan() (scanner.h), stored as JSON,
// and compared with a later scan by diff() (drift.h).
//
// JSON schema (version 1). Objects have sorted keys and arrays a fixed order, and the
// only times are file mtimes, so two scans of an unchanged system are byte-identical:
//
//   {
//     "schema": "jcorr-baseline", "version": 1,
//     "root": "/",                       the scanned root, as given
//     "lingering": ["alice"],            users with <root>/var/lib/systemd/linger/USER, sorted
//     "units": [UNIT…],                  sorted by scope, then name
//     "problems": [{"code", "path", "message"}…]   files that were skipped, sorted
//   }
//   UNIT = {
//     "scope": "system" | "user" | "user:NAME",
//         "user" is the global user search path (/etc/systemd/user, /usr/lib/systemd/user, …)
//         that every user manager reads; "user:NAME" holds the units that one user's own
//         directories (~/.config/systemd/user, ~/.local/share/systemd/user, …) define,
//         override, extend with drop-ins or enable
//     "name": "backup.timer",  "type": "timer" | "service" (or the type a timer's Unit= names),
//     "state": "loaded" | "masked" | "not-found" | "bad-setting",
//     "fragment": FILE | null,           the unit file in effect (null when masked or not found)
//     "dropins": [FILE…],                drop-ins in the order systemd applies them
//     "shadowed": ["/usr/lib/…"],        same-named unit files that lost on precedence
//     "masked_by": "/etc/…" (only when masked: the /dev/null link or empty file)
//     "enabled_by": [{"path", "target", "unit", "kind"}…],   *.wants/ *.requires/ *.upholds/
//         entries naming the unit: the link, its raw target ("" when not a symlink), the
//         unit that pulls it in ("timers.target") and the kind ("wants"), sorted by path
//     "directives": {"OnCalendar": ["daily"], "ExecStart": ["/usr/bin/x --y"], …}: raw values
//         in effect after drop-ins, for Description, OnCalendar, OnBootSec, OnStartupSec,
//         OnActiveSec, OnUnitActiveSec, OnUnitInactiveSec, Persistent, RandomizedDelaySec,
//         Unit, ExecCondition, ExecStartPre, ExecStart, ExecStartPost, ExecReload,
//         ExecStop, ExecStopPost, User, Group, WorkingDirectory; scalars have one value
//     "exec": {"ExecStart": [{"path", "argv", "prefix"}…], …}: the Exec*= values parsed
//     "triggers": "x.service" (timers: the paired service) /
//     "triggered_by": ["x.timer"] (other units: the timers that start it)
//     "risks": [{"code", "reason"}…],    sorted; codes in codes.h
//     "diagnostics": [{"path", "line", "severity", "code", "message"}…]
//   }
//   FILE = {"path", "resolved", "link_target", "uid", "gid", "owner", "group",
//           "mode": "0644", "mtime": seconds, "size": bytes, "sha256": hex}
//       path is where the unit was found; resolved is the real file after symlinks (equal
//       to path when none), link_target the raw target of path when it is a symlink ("").
//   All paths are inside the scanned root. Strings are UTF-8; bytes that are not (a \xff
//   escape in ExecStart=, a file name in another encoding) are written as U+FFFD.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jcorr/baseline/diagnostic.h"
#include "jcorr/baseline/exec_command.h"

namespace jcorr::baseline {

inline constexpr std::string_view kBaselineSchema = "jcorr-baseline";
inline constexpr int kBaselineVersion = 1;

// One file of a unit (its fragment or a drop-in).
struct FileRecord {
  std::string path;         // where it was found, inside the root
  std::string resolved;     // after symlinks; equal to path when none were involved
  std::string link_target;  // raw target when path itself is a symlink, else empty
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string owner;        // user name of uid from <root>/etc/passwd, empty when unknown
  std::string group;        // group name of gid from <root>/etc/group, empty when unknown
  std::uint32_t mode = 0;   // permission bits (07777)
  std::int64_t mtime = 0;   // seconds since the epoch
  std::uint64_t size = 0;
  std::string sha256;       // lowercase hex of the content

  friend bool operator==(const FileRecord&, const FileRecord&) = default;
};

// A *.wants/, *.requires/ or *.upholds/ entry that enables a unit.
struct EnableLink {
  std::string path;    // e.g. /etc/systemd/system/timers.target.wants/backup.timer
  std::string target;  // raw symlink target, empty when the entry is not a symlink
  std::string unit;    // the unit that pulls it in, e.g. timers.target
  std::string kind;    // "wants", "requires" or "upholds"

  friend bool operator==(const EnableLink&, const EnableLink&) = default;
};

// A risky property and why it was flagged.
struct Risk {
  std::string code;    // from codes.h
  std::string reason;  // prose naming the directive, value or file

  friend bool operator==(const Risk&, const Risk&) = default;
  friend auto operator<=>(const Risk&, const Risk&) = default;
};

// A file the scan skipped, or another scan-level finding.
struct Problem {
  std::string code;  // from codes.h
  std::string path;  // inside the root; empty when not about one file
  std::string message;

  friend bool operator==(const Problem&, const Problem&) = default;
  friend auto operator<=>(const Problem&, const Problem&) = default;
};

// One timer or service in one scope.
struct UnitRecord {
  std::string scope;  // "system", "user" or "user:NAME"
  std::string name;   // e.g. "backup.timer", "sync@home.timer", "sync@.timer"
  std::string type;   // "timer", "service", or the type a timer's Unit= names
  std::string state;  // "loaded", "masked", "not-found" or "bad-setting"
  std::optional<FileRecord> fragment;
  std::vector<FileRecord> dropins;
  std::vector<std::string> shadowed;
  std::string masked_by;
  std::vector<EnableLink> enabled_by;
  std::map<std::string, std::vector<std::string>> directives;
  std::map<std::string, std::vector<ExecCommand>> exec;
  std::string triggers;                   // timers: the paired service
  std::vector<std::string> triggered_by;  // services: the timers that start it
  std::vector<Risk> risks;
  std::vector<Diagnostic> diagnostics;

  friend bool operator==(const UnitRecord&, const UnitRecord&) = default;
};

// Everything one scan found: the units of every scope, lingering users and the files
// that had to be skipped.
struct Baseline {
  std::string root;
  std::vector<std::string> lingering;
  std::vector<UnitRecord> units;
  std::vector<Problem> problems;

  // Returns the unit with this scope and name, or nullptr.
  const UnitRecord* find(std::string_view scope, std::string_view name) const;

  // Sorts units, problems and every list inside them into the schema's order and
  // removes duplicate problems and risks.
  void canonicalize();

  friend bool operator==(const Baseline&, const Baseline&) = default;
};

// Renders the permission bits as four octal digits ("0644").
std::string format_mode(std::uint32_t mode);

// Serialises a baseline (call canonicalize() first for the schema's order).
nlohmann::json to_json(const Baseline& baseline);
nlohmann::json to_json(const UnitRecord& unit);
nlohmann::json to_json(const FileRecord& file);
nlohmann::json to_json(const Risk& risk);
nlohmann::json to_json(const Problem& problem);

// Reads a baseline written by to_json(). Returns a message naming the JSON pointer of
// the first offending value when the document is not a version-1 baseline. Never throws.
std::expected<Baseline, std::string> baseline_from_json(const nlohmann::json& json);

// Parses text as JSON and then as a baseline; syntax errors are returned, not thrown.
std::expected<Baseline, std::string> parse_baseline(std::string_view text);

}  // namespace jcorr::baseline
