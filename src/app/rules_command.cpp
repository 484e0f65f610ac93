// `jcorr rules check` and `jcorr rules test`.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "jcorr/app/commands.h"
#include "jcorr/app/exit_codes.h"
#include "jcorr/app/rule_files.h"
#include "jcorr/baseline/baseline_watch.h"
#include "jcorr/core/correlator.h"
#include "jcorr/core/matcher.h"

namespace jcorr::app {

namespace {

constexpr const char* kRulesHelp = R"(usage: jcorr rules check [--output text|json] [BASELINE OPTIONS] PATH...
       jcorr rules test [BASELINE OPTIONS] PATH...

check  Validates rule files (or directories of *.json files) and prints every
       problem at once: file:line:col, the JSON pointer, the rule id, a stable
       code (rule.regex.invalid, rule.key.unknown, ...) and the reason. Warnings
       (lint.*) flag events any local user could forge (no trusted '_' field) and
       events that force a full scan of the journal. Exit 0 when there is no
       error, 3 otherwise.
test   Runs the test cases rules carry in "tests": each feeds its events to the
       rule alone and compares the detections with "expect". Exit 0 when all
       pass, 3 otherwise.

Baseline options (for rules with {"baseline": ...} lists; docs/baseline.md):
  --baseline FILE   an approved timer baseline (jcorr baseline scan)
  --host-root DIR   the unit files the baseline is compared with
Without them such rules are left out with a rule.baseline.missing warning.
)";

using nlohmann::json;

int check(const std::vector<std::string>& paths, bool json_out, const core::LoadOptions& options) {
  auto loaded = load_rule_paths(paths, options);
  std::size_t errors = 0, warnings = 0;
  for (const auto& d : loaded.diagnostics) (d.severity == core::Severity::kError ? errors : warnings)++;
  std::vector<std::pair<std::string, std::string>> full_scan;
  std::vector<core::Matcher::DeferredScan> deferred;
  if (loaded.set) {
    core::Matcher m(*loaded.set, 1024);
    full_scan = m.full_scan_events();
    deferred = m.deferred_scans();
  }
  auto deferral = [&](const std::string& rule, const std::string& ev) -> const core::Matcher::DeferredScan* {
    for (const auto& d : deferred)
      if (d.rule == rule && d.event == ev) return &d;
    return nullptr;
  };
  auto join = [](const std::vector<std::string>& v, const char* sep) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : sep) + x;
    return out;
  };
  if (json_out) {
    json j = json::object();
    j["files"] = loaded.files;
    j["rules"] = json::array();
    for (const auto& r : loaded.set->rules) j["rules"].push_back(r->id);
    j["diagnostics"] = json::array();
    for (const auto& d : loaded.diagnostics)
      j["diagnostics"].push_back({{"severity", d.severity == core::Severity::kError ? "error" : "warning"},
                                  {"code", d.code}, {"origin", d.origin}, {"pointer", d.pointer},
                                  {"line", d.line}, {"column", d.column}, {"rule", d.rule_id}, {"message", d.message}});
    j["full_scan_events"] = json::array();
    for (const auto& [rule, ev] : full_scan) {
      json e = {{"rule", rule}, {"event", ev}, {"deferred", false}};
      if (const auto* d = deferral(rule, ev)) {
        e["deferred"] = true;
        e["deferred_fields"] = d->fields;
        e["detection_values"] = d->detection_values;
      }
      j["full_scan_events"].push_back(std::move(e));
    }
    std::cout << j.dump(2) << "\n";
  } else {
    for (const auto& d : loaded.diagnostics) std::cout << d.to_string() << "\n";
    for (const auto& [rule, ev] : full_scan) {
      if (const auto* d = deferral(rule, ev))
        std::cout << "note: [" << rule << "] event \"" << ev
                  << "\" has no exact field=value constraint to index; it only joins detections' "
                  << join(d->detection_values, "/") << ", so a replay of .journal files reads its entries only where "
                  << join(d->fields, " or ") << " equals a value a detection carries (deferred pushdown)\n";
      else
        std::cout << "note: [" << rule << "] event \"" << ev
                  << "\" has no exact field=value constraint to index; every entry is tested against it and "
                     "the journal cannot be narrowed with sd_journal_add_match\n";
    }
    std::cout << loaded.set->rules.size() << " rules loaded from " << loaded.files.size() << " files: " << errors
              << " errors, " << warnings << " warnings\n";
  }
  return errors ? kExitRules : kExitOk;
}

// Builds an event from a test entry object: field -> string (or array of strings);
// "@t" is the offset from the test's start ("90s", or seconds as a number).
std::optional<std::string> build_test_event(const json& j, std::size_t index, core::RuleSet& set, core::Event& ev) {
  static constexpr std::uint64_t kBase = 1767225600000000ULL;  // 2026-01-01T00:00:00Z
  ev.clear();
  std::int64_t offset = static_cast<std::int64_t>(index) * 1000000;
  if (!j.is_object()) return "an event is an object of fields";
  if (auto t = j.find("@t"); t != j.end()) {
    if (t->is_number()) offset = static_cast<std::int64_t>(t->get<double>() * 1e6);
    else if (t->is_string()) {
      auto d = core::parse_duration(t->get<std::string>());
      if (!d) return "\"@t\": " + d.error();
      offset = *d;
    } else {
      return "\"@t\" is a duration or a number of seconds";
    }
  }
  ev.realtime_us = kBase + static_cast<std::uint64_t>(offset);
  ev.monotonic_us = static_cast<std::uint64_t>(offset);
  ev.cursor = "s=test;i=" + std::to_string(index) + ";b=test;m=" + std::to_string(offset) + ";t=" +
              std::to_string(ev.realtime_us) + ";x=" + std::to_string(index);
  bool machine = false, host = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "@t") continue;
    machine = machine || it.key() == "_MACHINE_ID";
    host = host || it.key() == "_HOSTNAME";
    auto id = set.schema.find(it.key());
    std::vector<std::string> vals;
    if (it->is_string()) vals.push_back(it->get<std::string>());
    else if (it->is_number_integer()) vals.push_back(it->dump());
    else if (it->is_array()) {
      for (const auto& v : *it)
        if (v.is_string()) vals.push_back(v.get<std::string>());
    } else {
      return "field \"" + it.key() + "\" must be a string or an array of strings";
    }
    if (id)
      for (const auto& v : vals) ev.add(*id, v);
  }
  if (!machine) ev.add(core::kMachineIdField, "0123456789abcdef0123456789abcdef");
  if (!host) ev.add(core::kHostnameField, "test-host");
  return std::nullopt;
}

int test(const std::vector<std::string>& paths, const core::LoadOptions& options) {
  auto loaded = load_rule_paths(paths, options);
  for (const auto& d : loaded.diagnostics)
    if (d.severity == core::Severity::kError || d.code == core::codes::kBaselineMissing)
      std::cout << d.to_string() << "\n";
  if (core::has_errors(loaded.diagnostics)) return kExitRules;
  std::size_t passed = 0, failed = 0;
  for (const auto& rule : loaded.set->rules) {
    for (const auto& t : rule->tests) {
      // Each test runs the whole set (so detection feeds work) on a fresh correlator and
      // compares only its own rule's detections.
      std::vector<std::string> problems;
      const json events = json::parse(t.events_json);
      const json expect = json::parse(t.expect_json);
      core::Correlator c(*loaded.set);
      std::vector<core::Detection> out;
      core::Event ev;
      for (std::size_t i = 0; i < events.size(); ++i) {
        if (auto err = build_test_event(events[i], i, *loaded.set, ev)) {
          problems.push_back("event " + std::to_string(i) + ": " + *err);
          continue;
        }
        c.process(ev, out);
      }
      c.finish(out);
      std::vector<core::Detection> mine;
      for (auto& d : out)
        if (d.rule_id == rule->id) mine.push_back(std::move(d));
      if (mine.size() != expect.size())
        problems.push_back("expected " + std::to_string(expect.size()) + " detections, got " + std::to_string(mine.size()));
      for (std::size_t i = 0; i < std::min(mine.size(), expect.size()); ++i) {
        const json got = core::to_json(mine[i]);
        const json& want = expect[i];
        if (!want.is_object()) {
          problems.push_back("expect " + std::to_string(i) + " is not an object");
          continue;
        }
        for (auto it = want.begin(); it != want.end(); ++it) {
          if (it.key() == "values") {
            for (auto v = it->begin(); v != it->end(); ++v)
              if (!got["values"].contains(v.key()) || got["values"][v.key()] != *v)
                problems.push_back("detection " + std::to_string(i) + ": values." + v.key() + " is " +
                                   (got["values"].contains(v.key()) ? got["values"][v.key()].dump() : "missing") +
                                   ", expected " + v->dump());
          } else if (!got.contains(it.key()) || got[it.key()] != *it) {
            problems.push_back("detection " + std::to_string(i) + ": " + it.key() + " is " +
                               (got.contains(it.key()) ? got[it.key()].dump() : "missing") + ", expected " + it->dump());
          }
        }
      }
      if (problems.empty()) {
        ++passed;
        std::cout << "ok    " << rule->id << ": " << t.name << "\n";
      } else {
        ++failed;
        std::cout << "FAIL  " << rule->id << ": " << t.name << "  (" << rule->origin << ":" << t.pointer << ")\n";
        for (const auto& p : problems) std::cout << "        " << p << "\n";
      }
    }
  }
  std::cout << "rule tests: " << passed << " passed, " << failed << " failed\n";
  return failed ? kExitRules : kExitOk;
}

}  // namespace

int rules_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::cout << kRulesHelp;
    return args.empty() ? kExitUsage : kExitOk;
  }
  std::vector<std::string> paths;
  bool json_out = false;
  std::string baseline_file, host_root;
  for (std::size_t i = 1; i < args.size(); ++i) {
    bool missing_value = false;
    auto value = [&](const std::string& name, std::string& out) {
      if (args[i].starts_with(name + "=")) out = args[i].substr(name.size() + 1);
      else if (args[i] != name) return false;
      else if (i + 1 < args.size()) out = args[++i];
      missing_value = out.empty();
      return true;
    };
    if (value("--baseline", baseline_file) || value("--host-root", host_root)) {
      if (missing_value) {
        std::cerr << "jcorr rules: --baseline and --host-root need a value\n";
        return kExitUsage;
      }
    } else if (args[i] == "--output=json" || (args[i] == "--output" && i + 1 < args.size() && args[i + 1] == "json")) {
      json_out = true;
      if (args[i] == "--output") ++i;
    } else if (args[i] == "--output=text" || (args[i] == "--output" && i + 1 < args.size() && args[i + 1] == "text")) {
      if (args[i] == "--output") ++i;
    } else if (args[i] == "-h" || args[i] == "--help") {
      std::cout << kRulesHelp;
      return kExitOk;
    } else if (args[i].starts_with("-")) {
      std::cerr << "jcorr rules: unknown option " << args[i] << "\n";
      return kExitUsage;
    } else {
      paths.push_back(args[i]);
    }
  }
  if (paths.empty()) paths.push_back(default_rules_path());
  core::LoadOptions options;
  if (!baseline_file.empty() || !host_root.empty()) {
    std::optional<baseline::Baseline> approved;
    if (!baseline_file.empty()) {
      auto read = baseline::BaselineWatch::read_baseline_file(baseline_file);
      if (!read) {
        std::cerr << "jcorr rules: --baseline " << read.error() << "\n";
        return kExitUsage;
      }
      approved = std::move(*read);
    }
    std::optional<std::filesystem::path> root;
    if (!host_root.empty()) root = host_root;
    baseline::WatchOptions wo;
    wo.scan_once = true;
    auto watch = baseline::BaselineWatch::open(std::move(approved), root, wo);
    if (!watch) {
      std::cerr << "jcorr rules: --host-root " << host_root << ": " << watch.error() << "\n";
      return kExitUsage;
    }
    options.baseline_list = baseline::BaselineWatch::list_provider(*watch);
  }
  if (args[0] == "check") return check(paths, json_out, options);
  if (args[0] == "test") return test(paths, options);
  std::cerr << "jcorr rules: unknown command \"" << args[0] << "\" (check, test)\n";
  return kExitUsage;
}

}  // namespace jcorr::app
