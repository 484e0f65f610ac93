// Detection enrichment: what the unit files say about the timer a detection names — its
// schedule, the paired service's ExecStart= and User=, the files' hashes, owners, modes
// and mtimes, its status against the approved baseline and its risky properties — or
// that the files are missing (a transient unit, or one already deleted: itself a finding).
//
// The journal never shows unit-file contents; this reads them, through a BaselineWatch
// (so the scanner's bounds apply: huge, unreadable, looping or binary files are reported
// as problems, never followed out of the root, never a crash). Only detections of the
// machine whose files are read are enriched: the detection's _MACHINE_ID must equal the
// root's /etc/machine-id.
//
// JSON (docs/baseline.md), keys sorted:
//   {"root": "/", "machine_id": "…", "baseline": true|false (a baseline was given),
//    "timers": [TIMER…]}
//   TIMER = {"unit": "x.timer", "scope": "system" | "user" | "user:NAME" | "" (found nowhere),
//            "state": "loaded" | "masked" | "not-found" | "bad-setting" | "missing",
//            "missing": "deleted" | "transient" | "unreadable" | "unknown" (a directory
//                could not be read, so the file may be there), with a "note" (state
//                "missing": no file at all, or "not-found": named by Unit= but absent),
//            "baseline": "approved" | "changed" | "new" | "removed" | "unknown",
//            "schedule": {"OnCalendar": […], …}, "files": [FILE…],
//            "service": SERVICE, "risks": [{"unit", "code", "reason"}…],
//            "changes": [{"unit", "property", "old", "new", "path"?}…],
//            "problems": [{"code", "path", "message"}…]}
//   SERVICE = {"unit", "scope", "state", "missing"?, "baseline", "exec_start": ["…"],
//              "user": "…" | null (User= unset), "files": [FILE…]}
//   FILE = as in the baseline: {"path", "resolved", "link_target", "sha256", "owner",
//           "group", "uid", "gid", "mode", "mtime", "size"}
// Each array (timers too) keeps at most 64 entries; the number left out is in "KEY_omitted" (for
// instance "files_omitted"), so a unit with thousands of drop-ins stays a bounded message.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jcorr/baseline/baseline_watch.h"
#include "jcorr/core/detection.h"

namespace jcorr::baseline {

// The .timer units a detection names: its string values (and array elements) that are
// valid unit names ending in ".timer", in value-name order, without duplicates.
std::vector<std::string> timers_of(const core::Detection& detection);

// Describes one timer (an array of TIMER objects: one per scope that has it, or one
// "missing") against now, the watch's last scan, and the watch's baseline statuses.
// service_hint names the paired service when the timer's own file is missing (the
// detection's "service" value), else empty. Reads no file.
nlohmann::json describe_timer(const BaselineWatch& watch, const Baseline& now, const std::string& timer,
                              const std::string& service_hint);

class Enricher {
 public:
  // watch must have a root.
  explicit Enricher(std::shared_ptr<BaselineWatch> watch) : watch_(std::move(watch)) {}

  // Returns the enrichment of d, or nullopt when d names no timer or is not about the
  // machine whose files the watch reads. Never throws.
  std::optional<nlohmann::json> enrich(const core::Detection& d);

  // Sets d.enrichment when enrich() has something; returns whether it did.
  bool attach(core::Detection& d);

  const std::shared_ptr<BaselineWatch>& watch() const { return watch_; }

 private:
  std::shared_ptr<BaselineWatch> watch_;
};

}  // namespace jcorr::baseline
