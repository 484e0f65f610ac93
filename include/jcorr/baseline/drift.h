// Drift: how a new scan differs from a stored baseline — timers and services that
// appeared, changed or disappeared, with their risky properties, plus changes in
// lingering users and in scan problems.
//
// JSON schema (version 1), keys sorted, arrays in a fixed order:
//
//   {
//     "schema": "jcorr-drift", "version": 1,
//     "new":     [ITEM…],   units only in the new scan
//     "changed": [ITEM…],   units in both whose recorded properties differ
//     "removed": [ITEM…],   units only in the baseline
//     "lingering": {"added": ["alice"], "removed": []},
//     "problems":  {"added": [PROBLEM…], "removed": [PROBLEM…]}
//   }
//   ITEM = {"scope", "name", "type", "state", "path" (the unit file, "" when none),
//           "risks": [{"code", "reason"}…]   (of the new scan; of the baseline for removed),
//           "changes": [CHANGE…]              (changed items only)}
//   CHANGE = {"property", "old", "new", "path" (drop-ins only)}
//
// Properties, in the order they are reported: "state", "masked_by", "fragment" (added or
// removed: old/new is the path or null), "fragment.path", "fragment.resolved",
// "fragment.link_target", "fragment.sha256", "fragment.size", "fragment.mode",
// "fragment.uid", "fragment.gid", "fragment.mtime", "dropin.added", "dropin.removed",
// then per drop-in kept (with "path") "dropin.resolved", "dropin.link_target",
// "dropin.sha256", "dropin.size", "dropin.mode", "dropin.uid", "dropin.gid",
// "dropin.mtime", then "shadowed", "enabled_by" (old/new are the sorted link paths),
// "directive.KEY" (old/new are the value arrays, [] when unset), "triggers",
// "triggered_by", "risks" (old/new are the sorted risk codes). Each array is sorted by
// scope, then name.
//
// As JSON lines (one object per line, for logs and SIEMs) every item carries "drift":
// "new" | "changed" | "removed" | "lingering-added" | "lingering-removed" |
// "problem-added" | "problem-removed".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "jcorr/baseline/baseline.h"

namespace jcorr::baseline {

inline constexpr std::string_view kDriftSchema = "jcorr-drift";
inline constexpr int kDriftVersion = 1;

// One changed property of a unit.
struct Change {
  std::string property;
  std::string path;  // the drop-in a "dropin.*" change is about, else empty
  nlohmann::json old_value;
  nlohmann::json new_value;

  friend bool operator==(const Change&, const Change&) = default;
};

// One unit that is new, changed or removed.
struct UnitDrift {
  std::string scope;
  std::string name;
  std::string type;
  std::string state;
  std::string path;           // fragment path, empty when none
  std::vector<Risk> risks;    // of the new scan (of the baseline for removed units)
  std::vector<Change> changes;  // changed units only
};

// Everything that differs between a baseline and a new scan.
struct Drift {
  std::vector<UnitDrift> added;
  std::vector<UnitDrift> changed;
  std::vector<UnitDrift> removed;
  std::vector<std::string> lingering_added;
  std::vector<std::string> lingering_removed;
  std::vector<Problem> problems_added;
  std::vector<Problem> problems_removed;

  // True when nothing differs.
  bool empty() const;
};

// Compares a stored baseline with a new scan (both canonical). Units are matched by
// scope and name; the baseline's root is ignored, so an image can be compared with the
// live system it came from.
Drift diff(const Baseline& old_baseline, const Baseline& new_scan);

// The whole drift as one JSON document (schema above).
nlohmann::json to_json(const Drift& drift);

// The drift as JSON lines: one object per item, each with a "drift" member.
std::vector<nlohmann::json> to_json_lines(const Drift& drift);

// A report for people: one block per unit with its changes and risks.
std::string render_text(const Drift& drift);

}  // namespace jcorr::baseline
