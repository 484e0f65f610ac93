// Helpers for core tests: load inline rules, build entries, run them through a correlator.
#pragma once

#include <catch2/catch.hpp>

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jcorr/core/correlator.h"
#include "jcorr/core/rule_loader.h"

namespace jcorr::test {

// Loads rule JSON; fails the test with the diagnostics when it does not load cleanly.
inline std::unique_ptr<core::RuleSet> load_ok(const std::string& text, bool allow_warnings = true) {
  core::RuleLoader loader;
  loader.add(text, "test.json");
  auto set = loader.finish();
  std::string all;
  for (const auto& d : loader.diagnostics())
    if (d.severity == core::Severity::kError || !allow_warnings) all += d.to_string() + "\n";
  INFO(all);
  REQUIRE(all.empty());
  return set;
}

// Loads rule JSON expecting errors; returns the diagnostics.
inline std::vector<core::Diagnostic> load_diags(const std::string& text) {
  core::RuleLoader loader;
  loader.add(text, "test.json");
  (void)loader.finish();
  return loader.diagnostics();
}

inline bool has_code(const std::vector<core::Diagnostic>& ds, std::string_view code, std::string_view pointer = {}) {
  for (const auto& d : ds)
    if (d.code == code && (pointer.empty() || d.pointer == pointer)) return true;
  return false;
}

inline std::string dump(const std::vector<core::Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += d.to_string() + "\n";
  return s;
}

struct Entry {
  std::int64_t t_sec;  // seconds from the test epoch
  std::vector<std::pair<std::string, std::string>> fields;
};

inline constexpr std::uint64_t kEpoch = 1795695000000000ULL;

// Builds an event with the schema of the rule set (unknown fields are not projected,
// as a source would do). The cursor encodes the time and index so ids are stable.
inline core::Event make_event(core::RuleSet& set, const Entry& e, std::size_t index, std::string machine = "m1") {
  core::Event ev;
  ev.realtime_us = kEpoch + static_cast<std::uint64_t>(e.t_sec * 1000000);
  ev.monotonic_us = static_cast<std::uint64_t>(e.t_sec * 1000000);
  ev.cursor = "s=0;i=" + std::to_string(index) + ";b=boot;m=" + std::to_string(e.t_sec) + ";t=" +
              std::to_string(ev.realtime_us) + ";x=" + std::to_string(index);
  bool has_machine = false;
  for (const auto& [k, v] : e.fields) {
    if (k == "_MACHINE_ID") has_machine = true;
    if (auto id = set.schema.find(k)) ev.add(*id, v);
  }
  if (!has_machine) ev.add(core::kMachineIdField, machine);
  ev.add(core::kHostnameField, "host-" + machine);
  return ev;
}

// Feeds entries one by one and finishes; returns every detection.
inline std::vector<core::Detection> run(core::RuleSet& set, const std::vector<Entry>& entries,
                                        core::CorrelatorOptions opts = {}, bool finish = true) {
  core::Correlator c(set, opts);
  std::vector<core::Detection> out;
  for (std::size_t i = 0; i < entries.size(); ++i) c.process(make_event(set, entries[i], i), out);
  if (finish) c.finish(out);
  return out;
}

}  // namespace jcorr::test
