// Bounds on regex cost: patterns whose compiled form would be huge are rejected when
// the rules load (rule.regex.too_large), and hostile messages cost the shipped rules
// linear time (RE2 has no backtracking; this checks nobody added a path that does).
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bounds_util.h"
#include "jcorr/core/correlator.h"
#include "jcorr/core/diagnostic.h"
#include "jcorr/sources/export_reader.h"

using jcorr::bounds::fill;
using jcorr::bounds::GeneratedInput;
using jcorr::bounds::kMeasured;
using jcorr::bounds::lit;
using jcorr::bounds::load_rules;
using namespace jcorr;

namespace {

std::string rule_with_regex(const std::string& pattern_json) {
  return R"({"id": "r", "title": "t", "severity": "low",
             "events": {"e": {"where": {"_COMM": "sshd", "MESSAGE": {"regex": )" + pattern_json + R"(}}}},
             "correlate": {"sequence": ["e"]}})";
}

std::vector<core::Diagnostic> load_diags(const std::string& text, core::LoadOptions o = {}) {
  core::RuleLoader loader(std::move(o));
  loader.add(text, "bounds.json");
  (void)loader.finish();
  return loader.diagnostics();
}

bool has(const std::vector<core::Diagnostic>& ds, std::string_view code) {
  for (const auto& d : ds)
    if (d.code == code) return true;
  return false;
}

std::string shipped_rules_text() { return jcorr::bounds::read_file(JCORR_SOURCE_DIR "/rules/t1053.006-systemd-timers.json"); }

}  // namespace

TEST_CASE("patterns RE2 would make huge are rejected at load with rule.regex.too_large", "[bounds]") {
  // Each either repeats past RE2's repeat limit or compiles past the per-regex budget.
  const std::vector<std::string> huge = {
      R"("(a{1000}){1000}")", R"("((a{100}){100}){100}")", R"("\\w{3000}")", R"("(?:\\pL|\\pN){500}")",
      R"("(?:[\\x{80}-\\x{10FFFF}]{100}){100}")"};
  for (const auto& p : huge) {
    INFO(p);
    const auto ds = load_diags(rule_with_regex(p));
    CHECK(has(ds, core::codes::kRegexTooLarge));
    CHECK_FALSE(has(ds, core::codes::kRegexInvalid));
  }
  // The budget is an option: a smaller one rejects a pattern the default accepts.
  core::LoadOptions tight;
  tight.regex_max_mem = 64 << 10;
  CHECK_FALSE(has(load_diags(rule_with_regex(R"("\\pL{20}")")), core::codes::kRegexTooLarge));
  CHECK(has(load_diags(rule_with_regex(R"("\\pL{20}")"), tight), core::codes::kRegexTooLarge));
  // Lists in regex mode are compiled together under the same budget.
  const std::string list_rule = R"({"lists": {"l": {"match": "regex", "values": ["(x{1000}){1000}"]}},
    "rules": [{"id": "r", "title": "t", "severity": "low",
               "events": {"e": {"where": {"_COMM": "sshd", "MESSAGE": {"in_list": "l"}}}},
               "correlate": {"sequence": ["e"]}}]})";
  const auto ds = load_diags(list_rule);
  CHECK((has(ds, core::codes::kRegexTooLarge) || has(ds, core::codes::kRegexInvalid)));
}

namespace {

// Hostile entries of about n bytes: trusted fields under which the shipped rules
// evaluate their patterns (sshd monitor, sudo, PID 1, a service's own process), and a
// value aimed at those patterns' lazy quantifiers, alternations and captures.
struct Hostile {
  std::vector<std::pair<std::string, std::string>> fields;
  std::string field;  // the field that gets the hostile value
  std::string value;
};

std::vector<Hostile> hostile_entries(std::size_t n) {
  auto rep = [n](const std::string& unit, std::size_t share = 1) {
    std::string s;
    s.reserve(n / share + unit.size());
    while (s.size() < n / share) s += unit;
    return s;
  };
  const std::vector<std::pair<std::string, std::string>> sshd = {
      {"_TRANSPORT", "syslog"}, {"_COMM", "sshd"}, {"_UID", "0"}, {"_PID", "4242"}, {"SYSLOG_IDENTIFIER", "sshd"}};
  const std::vector<std::pair<std::string, std::string>> sudo = {
      {"_TRANSPORT", "syslog"}, {"_COMM", "sudo"},           {"_UID", "1001"},
      {"SYSLOG_IDENTIFIER", "sudo"}, {"_AUDIT_SESSION", "7"}, {"_SYSTEMD_SESSION", "7"}};
  const std::vector<std::pair<std::string, std::string>> pid1 = {
      {"_TRANSPORT", "journal"}, {"_COMM", "systemd"}, {"_PID", "1"}, {"_UID", "0"},
      {"MESSAGE_ID", "39f53479d3a045ac8e11786248231fbf"}};
  auto with = [](std::vector<std::pair<std::string, std::string>> f, std::string k, std::string v) {
    f.emplace_back(std::move(k), std::move(v));
    return f;
  };
  return {
      {sshd, "MESSAGE", rep("a")},
      {sshd, "MESSAGE", "Accepted " + rep("x ")},
      {sshd, "MESSAGE", "pam_unix(sshd:session): session opened for user " + rep("(uid=1")},
      {sudo, "MESSAGE", rep("a")},
      {sudo, "MESSAGE", "   alice : TTY=pts/0 ; PWD=" + rep("/ ; USER=x ", 2) + " ; USER=root ; COMMAND=" +
                            rep("systemctl enable ", 2)},
      {sudo, "MESSAGE", "   alice : PWD=/ ; USER=root ; COMMAND=" + rep("-a.timer/etc/systemd/system ")},
      {with(pid1, "UNIT", "x.timer"), "MESSAGE", "Started " + rep("x - ") + "."},
      {with(pid1, "UNIT", "x.timer"), "MESSAGE", "Reloading requested from client PID 1 ('" + rep("'(unit ") + "')..."},
      {with(pid1, "MESSAGE", "Started x."), "UNIT", rep("a.timer") + ".timer"},
      {{{"_SYSTEMD_UNIT", "x.service"}}, "_EXE", "/tmp/" + rep("/.")},
  };
}

double feed_hostile(const core::RuleSet& set, std::size_t n) {
  const auto entries = hostile_entries(n);
  core::Correlator c(set);
  std::vector<core::Detection> out;
  core::Event ev;
  std::uint64_t t = 1795695000000000ULL;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& h : entries) {
    ev.clear();
    ev.realtime_us = ++t;
    ev.cursor = "x=" + std::to_string(t);
    ev.add(core::kMachineIdField, "m1");
    for (const auto& [k, v] : h.fields)
      if (auto id = set.schema.find(k)) ev.add(*id, v);
    if (auto id = set.schema.find(h.field)) ev.add(*id, h.value);
    c.process(ev, out);
  }
  c.finish(out);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("hostile 10 MB values cost the shipped rules linear time", "[bounds]") {
  const auto set = load_rules(shipped_rules_text());
  (void)feed_hostile(*set, 64 << 10);  // warm up
  const double t1 = feed_hostile(*set, 1u << 20);
  const double t10 = feed_hostile(*set, 10u << 20);
  std::fprintf(stderr, "[bounds] hostile values against the shipped rules: 1 MiB %.2fs, 10 MiB %.2fs (x%.1f)\n", t1,
               t10, t10 / std::max(t1, 1e-3));
  WARN("hostile values: 1 MiB each " << t1 << "s, 10 MiB each " << t10 << "s");
  // Linear is x10; allow noise on a shared machine, and an absolute ceiling.
  CHECK(t10 < 25 * t1 + 1.0);
  if (kMeasured) CHECK(t10 < 120.0);
}

TEST_CASE("a 10 MB MESSAGE from a journal is cut to max_field_size before any rule sees it", "[bounds]") {
  const auto set = load_rules(shipped_rules_text());
  core::FieldSchema schema = set->schema;
  std::vector<sources::InputProblem> problems;
  sources::ExportReader reader(
      "hostile",
      std::make_unique<GeneratedInput>(std::vector<GeneratedInput::Part>{
          lit("__REALTIME_TIMESTAMP=1795695000000000\n_COMM=sudo\n_TRANSPORT=syslog\nSYSLOG_IDENTIFIER=sudo\n"
              "MESSAGE=   alice : TTY=pts/0 ; PWD="),
          fill('/', 10u << 20), lit(" ; USER=root ; COMMAND=/usr/bin/systemctl daemon-reload\n\n")}),
      schema, {}, [&](const sources::InputProblem& p) { problems.push_back(p); });
  core::Event e;
  REQUIRE(reader.next(e));
  CHECK(e.get(core::kMessageField)->size() == sources::SourceOptions{}.max_field_size);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message.find("truncated") != std::string::npos);
  core::Correlator c(*set);
  std::vector<core::Detection> out;
  const auto start = std::chrono::steady_clock::now();
  c.process(e, out);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 10.0);
}
