// The approved baseline set against the unit files as they are now: what rules see as
// baseline lists ({"baseline": "timers"}, "changed", …) and what detection enrichment
// reports as a timer's baseline status.
//
// A watch holds an approved baseline (a file written by `jcorr baseline scan`; optional)
// and the root of the files to compare it with (optional; "/" for this machine, a
// mounted image's directory for forensics). Comparing means scanning the root (scan())
// and diffing (diff()), with the scanner's bounds, so hostile files cost bounded time.
// Scans are cached: a query rescans only when the last scan is older than
// WatchOptions::min_rescan (or never again with scan_once), so a flood of queries costs
// at most one scan per interval. The answer for a unit changed less than min_rescan ago
// may therefore be stale; see docs/baseline.md.
//
// Not thread-safe: one watch serves one engine thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "jcorr/baseline/baseline.h"
#include "jcorr/baseline/drift.h"
#include "jcorr/baseline/root_fs.h"
#include "jcorr/baseline/scanner.h"
#include "jcorr/core/rule_loader.h"

namespace jcorr::baseline {

// How one unit (scope and name) compares with the approved baseline.
enum class UnitStatus {
  kApproved,  // in the baseline and unchanged (a timer: its paired service too)
  kChanged,   // in the baseline, but a recorded property differs (a timer: or its service's)
  kNew,       // present now, not in the baseline
  kRemoved,   // in the baseline, gone now
  kUnknown,   // in neither, or there is no baseline to compare with
};

// "approved", "changed", "new", "removed", "unknown".
std::string_view to_string(UnitStatus status);

struct WatchOptions {
  ScanOptions scan;
  // Least time between two scans; queries within it use the last scan.
  std::chrono::steady_clock::duration min_rescan = std::chrono::milliseconds(100);
  // Scan at the first query and never again (a replay over a mounted image).
  bool scan_once = false;
};

class BaselineWatch {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // approved: the baseline to compare with, if any. root: the tree whose unit files are
  // compared (or described by enrichment), if any; it must be a directory. At least one
  // of the two is needed. clock: the time source for min_rescan (steady_clock when unset).
  static std::expected<std::shared_ptr<BaselineWatch>, std::string> open(std::optional<Baseline> approved,
                                                                        std::optional<std::filesystem::path> root,
                                                                        WatchOptions options = {}, Clock clock = {});

  // Reads and parses a baseline file (at most 512 MiB). Errors name the file.
  static std::expected<Baseline, std::string> read_baseline_file(const std::filesystem::path& path);

  bool has_baseline() const { return approved_.has_value(); }
  bool has_root() const { return fs_.has_value(); }
  const std::optional<Baseline>& approved() const { return approved_; }

  // The root's /etc/machine-id (32 lower-case hex digits), or "" when there is no root or
  // the file is missing or malformed.
  const std::string& machine_id() const { return machine_id_; }

  // The root as given, "" without one.
  std::string root() const;

  // Brings the scan up to date per the options. Returns the scan of now, or nullptr
  // without a root.
  const Baseline* current();

  // The drift of the last scan against the approved baseline; nullptr without both or
  // before the first scan. Valid until the next call that rescans (current(), a list).
  const Drift* drift() const;

  // How a unit compared with the baseline at the last scan (call current() first; see
  // UnitStatus). A timer counts as changed when its paired service changed or is new.
  UnitStatus status(std::string_view scope, std::string_view name) const;

  // The membership test of a baseline list for the rule loader (core::LoadOptions::
  // baseline_list): "timers"/"services" hold the names the baseline records; "new",
  // "changed" and "drifted" (either) the names whose status is that in some scope, as of
  // the query; "machine-id" the root's machine id. Unavailable (with why) when the
  // selector needs what this watch lacks (a baseline, a root).
  core::BaselineListLookup list(std::string_view selector);

  // Scans taken so far.
  std::uint64_t scans() const { return scans_; }

  // Builds a list provider for core::LoadOptions::baseline_list that keeps watch alive.
  static std::function<core::BaselineListLookup(std::string_view)> list_provider(std::shared_ptr<BaselineWatch> watch);

 private:
  BaselineWatch(std::optional<Baseline> approved, std::optional<RootFs> fs, WatchOptions options, Clock clock);
  void refresh();

  std::optional<Baseline> approved_;
  std::optional<RootFs> fs_;
  WatchOptions options_;
  Clock clock_;
  std::string machine_id_;
  std::set<std::string, std::less<>> approved_timers_;
  std::set<std::string, std::less<>> approved_services_;
  // Of the last scan:
  std::optional<Baseline> current_;
  std::optional<Drift> drift_;
  std::set<std::pair<std::string, std::string>, std::less<>> new_units_;      // (scope, name)
  std::set<std::pair<std::string, std::string>, std::less<>> changed_units_;  // (scope, name), timers via services
  std::set<std::pair<std::string, std::string>, std::less<>> removed_units_;
  std::set<std::string, std::less<>> new_names_;
  std::set<std::string, std::less<>> changed_names_;
  std::optional<std::chrono::steady_clock::time_point> scanned_at_;
  std::uint64_t scans_ = 0;
};

}  // namespace jcorr::baseline
