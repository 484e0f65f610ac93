// `jcorr replay` and `jcorr explain`: run the engine over exported journals.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "jcorr/app/commands.h"
#include "jcorr/app/exit_codes.h"
#include "jcorr/app/parallel_reader.h"
#include "jcorr/app/render.h"
#include "jcorr/app/rule_files.h"
#include "jcorr/baseline/baseline_watch.h"
#include "jcorr/baseline/enrichment.h"
#include "jcorr/core/correlator.h"
#include "jcorr/core/matcher.h"
#include "jcorr/sinks/webhook_set.h"
#include "jcorr/sources/journal_reader.h"
#include "jcorr/sources/json_writer.h"
#include "jcorr/sources/source.h"

namespace jcorr::app {

namespace {

constexpr const char* kReplayHelp = R"(usage: jcorr replay [OPTIONS] INPUT...

Runs the rules over exported journals and prints the detections.

INPUT is a .journal file, a journal directory (its system and user-UID files are
merged in time order), a Journal Export Format file (journalctl -o export), a
JSON-lines file (journalctl -o json), or - for standard input. Several inputs are
merged by time. The format is detected from the content unless --format says.

Options:
  -r, --rules PATH       rule file or directory (repeatable; default: $JCORR_RULES,
                         the installed rules, or ./rules)
  -f, --format FMT       auto (default), journal, export or json
  -o, --output FMT       auto (default: text on a terminal, JSON lines otherwise),
                         text or json
      --dump             print the entries as journalctl -o json would (no rules)
      --strict           any input problem (bad entry, truncated file) fails the run
      --exit-code        exit 1 when there was at least one detection
      --lateness DUR     allowed lateness of merged inputs (default 0s), e.g. 30s
      --max-partials N   cap on partial matches per rule (default 10000)
      --no-pushdown      read every entry of .journal inputs (by default, when every
                         event definition requires an exact FIELD=value, only entries
                         carrying one of those are read, through the journal's index;
                         a definition without one that only joins values of
                         detections, such as a timer's service, is read only where
                         its field equals such a value, in a second pass when the
                         first one finds detections)
      --threads N        threads that read and match a single export or JSON-lines
                         file over 4 MiB (default: one per CPU, at most 8; 1 reads
                         on the main thread); the output is the same whatever N is
      --no-progress      no progress line on stderr
      --webhook CONFIG   also send the detections to the webhooks in CONFIG (JSON;
                         see docs/webhooks.md): spooled on disk, then delivered
      --webhook-wait DUR at the end, wait this long for delivery (default 30s);
                         what is left stays spooled for the next run
      --baseline FILE    an approved timer baseline (jcorr baseline scan) for rules
                         with baseline lists (see docs/baseline.md)
      --host-root DIR    the unit files of the journal's host, mounted at DIR (/ for
                         this machine): timer detections of that host (its
                         /etc/machine-id) get an "enrichment" with what the files
                         say, and baseline lists compare the files with --baseline
  -q, --quiet            no summary on stderr
  -h, --help             this help

Output: one JSON object per line (id, rule, title, severity, attack, host, values,
first/last/time, evidence with cursors), or a readable block per detection on a
terminal. Problems with inputs go to stderr with the input name and byte offset or
line; the rest of the input is still read.

Exit codes: 0 done, 1 detections with --exit-code, 2 usage, 3 rule errors,
4 unreadable input or input problems with --strict.

Examples:
  jcorr replay --rules rules/ /var/log/journal/
  journalctl -o export --since -2h | jcorr replay -
  jcorr replay --dump host.export | head
)";

constexpr const char* kExplainHelp = R"(usage: jcorr explain --rule ID [--rules PATH]... [--format FMT] INPUT...

Shows how one rule sees the inputs: every entry that matched one of its events,
every partial match that started, advanced, absorbed a repeated step, completed,
expired, was ended by an until event or a forbidden (absent) step, was evicted by
the cap, or was suppressed or allowlisted. For rule authors.
)";

struct Options {
  std::vector<std::string> rules;
  std::vector<std::string> inputs;
  sources::Format format = sources::Format::kAuto;
  enum class Out { kAuto, kText, kJson } output = Out::kAuto;
  bool dump = false;
  bool strict = false;
  bool exit_code = false;
  bool progress = true;
  bool quiet = false;
  bool pushdown = true;
  unsigned threads = 0;  // 0: one per CPU
  std::string explain_rule;
  core::CorrelatorOptions correlator;
  std::string baseline;                          // approved baseline file
  std::string host_root;                         // the journal host's files, for enrichment
  std::string webhook;                           // webhook configuration file
  core::Micros webhook_wait = 30LL * 1000000;  // how long to wait for delivery at the end
};

int usage_error(const std::string& msg, const char* command) {
  std::cerr << "jcorr " << command << ": " << msg << "\n(see jcorr " << command << " --help)\n";
  return kExitUsage;
}

std::optional<int> parse(const std::vector<std::string>& args, Options& o, const char* command, const char* help) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& out) {
      if (auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
        out = a.substr(eq + 1);
        return true;
      }
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    auto is = [&](const char* s, const char* l) { return a == s || a == l || (a.starts_with(std::string(l) + "=")); };
    std::string v;
    if (a == "-h" || a == "--help") {
      std::cout << help;
      return kExitOk;
    } else if (is("-r", "--rules")) {
      if (!value(v)) return usage_error("--rules needs a path", command);
      o.rules.push_back(v);
    } else if (is("-f", "--format")) {
      if (!value(v)) return usage_error("--format needs a value", command);
      if (v == "auto") o.format = sources::Format::kAuto;
      else if (v == "journal") o.format = sources::Format::kJournal;
      else if (v == "export") o.format = sources::Format::kExport;
      else if (v == "json") o.format = sources::Format::kJson;
      else return usage_error("unknown format \"" + v + "\" (auto, journal, export, json)", command);
    } else if (is("-o", "--output")) {
      if (!value(v)) return usage_error("--output needs a value", command);
      if (v == "auto") o.output = Options::Out::kAuto;
      else if (v == "text") o.output = Options::Out::kText;
      else if (v == "json") o.output = Options::Out::kJson;
      else return usage_error("unknown output \"" + v + "\" (auto, text, json)", command);
    } else if (a == "--dump") {
      o.dump = true;
    } else if (a == "--strict") {
      o.strict = true;
    } else if (a == "--exit-code") {
      o.exit_code = true;
    } else if (a == "--no-progress") {
      o.progress = false;
    } else if (a == "--no-pushdown") {
      o.pushdown = false;
    } else if (a == "-q" || a == "--quiet") {
      o.quiet = true;
    } else if (is("", "--lateness")) {
      if (!value(v)) return usage_error("--lateness needs a duration", command);
      auto d = core::parse_duration(v);
      if (!d) return usage_error("--lateness: " + d.error(), command);
      o.correlator.allowed_lateness = *d;
    } else if (is("", "--max-partials")) {
      if (!value(v)) return usage_error("--max-partials needs a number", command);
      try {
        o.correlator.max_partials_per_rule = std::stoul(v);
      } catch (...) {
        return usage_error("--max-partials needs a number", command);
      }
    } else if (is("", "--threads")) {
      if (!value(v)) return usage_error("--threads needs a number", command);
      try {
        const unsigned long n = std::stoul(v);
        if (n == 0 || n > 256) return usage_error("--threads needs a number from 1 to 256", command);
        o.threads = static_cast<unsigned>(n);
      } catch (...) {
        return usage_error("--threads needs a number", command);
      }
    } else if (is("", "--webhook")) {
      if (!value(v)) return usage_error("--webhook needs a configuration file", command);
      o.webhook = v;
    } else if (is("", "--webhook-wait")) {
      if (!value(v)) return usage_error("--webhook-wait needs a duration", command);
      auto d = core::parse_duration(v);
      if (!d) return usage_error("--webhook-wait: " + d.error(), command);
      o.webhook_wait = *d;
    } else if (is("", "--baseline")) {
      if (!value(v) || v.empty()) return usage_error("--baseline needs a baseline file", command);
      o.baseline = v;
    } else if (is("", "--host-root")) {
      if (!value(v) || v.empty()) return usage_error("--host-root needs a directory", command);
      o.host_root = v;
    } else if (is("", "--rule")) {
      if (!value(v)) return usage_error("--rule needs a rule id", command);
      o.explain_rule = v;
    } else if (a == "-") {
      o.inputs.push_back(a);
    } else if (a.starts_with("-")) {
      return usage_error("unknown option " + a, command);
    } else {
      o.inputs.push_back(a);
    }
  }
  if (o.inputs.empty()) return usage_error("no input given", command);
  return std::nullopt;
}

class Progress {
 public:
  explicit Progress(bool on) : on_(on && isatty(STDERR_FILENO)) {}
  // Called for every entry, or with `every` for each batch of entries.
  void update(std::uint64_t entries, std::uint64_t detections, std::uint64_t realtime_us, const sources::Progress& p,
              bool every = false) {
    if (!on_ || (!every && (entries & 0x3fff) != 0)) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    char pct[32] = "";
    if (p.total > 0) std::snprintf(pct, sizeof pct, " %5.1f%%", 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total));
    std::fprintf(stderr, "\r\033[K%s%12llu entries  %9.0f/s  %llu detections  at %s", pct,
                 static_cast<unsigned long long>(entries), static_cast<double>(entries) / std::max(secs, 1e-6),
                 static_cast<unsigned long long>(detections),
                 core::format_time_utc(static_cast<std::int64_t>(realtime_us)).substr(0, 19).c_str());
    shown_ = true;
  }
  void clear() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool on_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = start_;
};

// Adds one disjunction per field, each of that field's values, to a journal's matches
// (sd-journal ORs the values of one field and, after add_disjunction, the groups).
// False when sd-journal refused a match (it was reported).
template <typename Values>
bool add_matches(sources::JournalReader& j, const std::vector<std::pair<std::string, Values>>& by_field) {
  bool ok = true;
  for (std::size_t f = 0; f < by_field.size() && ok; ++f) {
    if (f > 0) ok = j.add_disjunction();
    for (const auto& v : by_field[f].second)
      if (ok) ok = j.add_match(by_field[f].first + "=" + v);
  }
  return ok;
}

// Pushes the rules' exact anchors down into the .journal inputs, so that sd-journal's
// field index skips the entries that no event definition can match (each definition
// requires one of its anchor's values). Returns the readers that got matches. When a
// definition has no anchor every entry must be read; the inputs are named with the
// rule that forces the full scan.
std::vector<sources::JournalReader*> push_down(const core::RuleSet& rules,
                                               const std::vector<std::unique_ptr<sources::Source>>& inputs,
                                               bool quiet, const char* command) {
  std::vector<sources::JournalReader*> journals;
  for (const auto& in : inputs)
    if (auto* j = dynamic_cast<sources::JournalReader*>(in.get())) journals.push_back(j);
  if (journals.empty()) return {};
  const core::Matcher matcher(rules, 1);
  const auto anchors = matcher.pushdown();
  if (anchors.empty()) {
    if (!quiet) {
      const auto full = matcher.full_scan_events();
      for (const auto* j : journals) {
        std::cerr << "jcorr " << command << ": " << j->name() << ": reading every entry (full scan):";
        for (std::size_t i = 0; i < full.size() && i < 3; ++i)
          std::cerr << (i ? "," : "") << " event " << full[i].second << " of rule " << full[i].first;
        if (full.size() > 3) std::cerr << " and " << full.size() - 3 << " more";
        std::cerr << " has no exact FIELD=value constraint\n";
      }
    }
    return {};
  }
  // One disjunction per field with every value any definition anchors on.
  std::vector<std::pair<std::string, std::vector<std::string>>> by_field;
  for (const auto& [field, values] : anchors) {
    auto it = std::find_if(by_field.begin(), by_field.end(), [&](const auto& f) { return f.first == field; });
    if (it == by_field.end()) it = by_field.insert(by_field.end(), {field, {}});
    for (const auto& v : values)
      if (std::find(it->second.begin(), it->second.end(), v) == it->second.end()) it->second.push_back(v);
  }
  std::vector<sources::JournalReader*> pushed;
  for (auto* j : journals) {
    if (!add_matches(*j, by_field)) {
      j->flush_matches();  // a rejected match was reported; read everything instead
      continue;
    }
    pushed.push_back(j);
  }
  return pushed;
}

// The realtime of the last entry of the pushed-down journals, read without matches: the
// clock a full scan would end on (the correlator's end-of-input time), or 0.
std::uint64_t tail_time(const std::vector<sources::JournalReader*>& journals) {
  std::uint64_t t = 0;
  core::Event ev;
  for (auto* j : journals) {
    j->flush_matches();
    if (!j->seek_tail() || !j->previous().value_or(false)) continue;
    if (j->read_current(ev)) t = std::max(t, ev.realtime_us);
  }
  return t;
}

// Deferred pushdown, for rule sets whose only unanchored definitions are joined to
// values of detections (Matcher::deferred_scans; the pack's service_exec event joins
// _SYSTEMD_UNIT to a timer detection's service). A pass reads the anchored entries and,
// for each such definition, the entries whose joined fields equal a value the previous
// pass's detections carry; passes repeat until one finds no new value. Without
// detections that is one pass over the anchored entries, as for a fully anchored set.
// Detections are held until the last pass, so deferral gives up (and the caller reads
// every entry) above these bounds.
constexpr int kMaxDeferredPasses = 4;
constexpr std::size_t kMaxDeferredValues = 1024;
constexpr std::size_t kMaxDeferredDetections = 100000;

// The values a detection offers to a detection event's field `name`, as the correlator
// feeds detections back (correlator.cpp, feed_detections).
void detection_values(const core::Detection& d, std::string_view name, std::set<std::string>& out) {
  if (name == "rule") out.insert(d.rule_id);
  else if (name == "severity") out.insert(d.severity);
  else if (name == "title") out.insert(d.title);
  else if (name == "MESSAGE") out.insert(d.summary);
  else if (name == "_MACHINE_ID") out.insert(d.machine_id);
  else if (name == "_HOSTNAME") out.insert(d.hostname);
  else if (auto it = d.values.find(std::string(name)); it != d.values.end()) {
    if (it->second.is_string()) out.insert(it->second.get<std::string>());
    else if (it->second.is_array())
      for (const auto& x : it->second)
        if (x.is_string()) out.insert(x.get<std::string>());
  }
}

// Whether some entry of the inputs has one of the deferred definitions' fields equal to
// one of `values` (sd-journal's field index answers without reading other entries);
// nothing when the inputs cannot be reopened or a match is refused.
std::optional<bool> entries_with(const std::vector<core::Matcher::DeferredScan>& scans, const std::set<std::string>& values,
                                 const std::function<std::vector<std::unique_ptr<sources::Source>>()>& reopen) {
  auto inputs = reopen();
  if (inputs.empty()) return std::nullopt;
  std::vector<std::pair<std::string, std::set<std::string>>> by_field;
  for (const auto& scan : scans)
    for (const auto& f : scan.fields)
      if (std::none_of(by_field.begin(), by_field.end(), [&](const auto& x) { return x.first == f; }))
        by_field.emplace_back(f, values);
  core::Event ev;
  for (const auto& in : inputs) {
    auto* j = dynamic_cast<sources::JournalReader*>(in.get());
    if (!j || !add_matches(*j, by_field)) return std::nullopt;
    if (j->next(ev)) return true;
  }
  return false;
}

struct DeferredResult {
  std::vector<core::Detection> detections;  // of the last pass, in order
  std::uint64_t entries = 0;                // entries the last pass read
  int passes = 0;
};

// Runs the passes over `inputs` (every one a .journal reader), reopening them with
// `reopen` for each pass after the first. Returns nothing when deferral gives up.
std::optional<DeferredResult> deferred_replay(
    const core::RuleSet& rules, const core::CorrelatorOptions& copts,
    const std::vector<core::Matcher::DeferredScan>& scans,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& anchors,
    std::vector<std::unique_ptr<sources::Source>> inputs,
    const std::function<std::vector<std::unique_ptr<sources::Source>>()>& reopen, Progress& progress) {
  std::set<std::string> values;
  for (int pass = 0; pass < kMaxDeferredPasses; ++pass) {
    if (pass > 0) inputs = reopen();
    if (inputs.empty()) return std::nullopt;
    std::vector<sources::JournalReader*> journals;
    for (const auto& in : inputs) {
      auto* j = dynamic_cast<sources::JournalReader*>(in.get());
      if (!j) return std::nullopt;
      journals.push_back(j);
    }
    // One disjunction per field: the anchors' values, and the detections' values for
    // the deferred definitions' fields.
    std::vector<std::pair<std::string, std::set<std::string>>> by_field;
    auto add = [&](const std::string& field, const auto& vs) {
      auto it = std::find_if(by_field.begin(), by_field.end(), [&](const auto& f) { return f.first == field; });
      if (it == by_field.end()) it = by_field.insert(by_field.end(), {field, {}});
      it->second.insert(vs.begin(), vs.end());
    };
    for (const auto& [field, vs] : anchors) add(field, vs);
    for (const auto& scan : scans)
      for (const auto& f : scan.fields) add(f, values);
    std::erase_if(by_field, [](const auto& f) { return f.second.empty(); });
    for (auto* j : journals)
      if (!add_matches(*j, by_field)) return std::nullopt;  // the refusal was reported

    DeferredResult result;
    result.passes = pass + 1;
    core::Correlator correlator(rules, copts);
    sources::MergedSource source(std::move(inputs));
    std::vector<core::Detection> out;
    core::Event ev;
    std::uint64_t max_time = 0;
    auto keep = [&] {
      for (auto& d : out) result.detections.push_back(std::move(d));
      out.clear();
      return result.detections.size() <= kMaxDeferredDetections;
    };
    while (source.next(ev)) {
      ++result.entries;
      max_time = std::max(max_time, ev.realtime_us);
      correlator.process(ev, out);
      if (!out.empty() && !keep()) return std::nullopt;
      progress.update(result.entries, result.detections.size(), ev.realtime_us, source.progress());
    }
    if (const std::uint64_t tail = tail_time(journals); tail > max_time) {
      core::Event end;
      end.realtime_us = tail;
      correlator.process(end, out);
    }
    correlator.finish(out);
    if (!keep()) return std::nullopt;

    std::set<std::string> found;
    for (const auto& d : result.detections)
      for (const auto& scan : scans)
        for (const auto& name : scan.detection_values) detection_values(d, name, found);
    std::set<std::string> fresh;
    for (const auto& v : found) {
      // A value cut to the capture limit may be the prefix of a longer field value,
      // which an exact match would miss.
      if (v.size() >= copts.capture_limit) return std::nullopt;
      if (values.insert(v).second) fresh.insert(v);
    }
    if (fresh.empty()) return result;
    if (values.size() > kMaxDeferredValues) return std::nullopt;
    // When no entry carries a new value (a timer whose service never ran in the
    // journal), the next pass would read exactly these entries and end the same way.
    auto carries = entries_with(scans, fresh, reopen);
    if (!carries) return std::nullopt;
    if (!*carries) return result;
  }
  return std::nullopt;
}

// Errors, and warnings when asked. Rules left out for want of a baseline are listed in
// full when the user works with one (or nothing else is left to run); otherwise, as
// optional baseline rules sit beside the pack, in one line (jcorr rules check details).
void print_diagnostics(const std::vector<core::Diagnostic>& ds, bool warnings, bool baseline_detail = true) {
  std::vector<std::string> left_out;
  for (const auto& d : ds) {
    if (d.code == core::codes::kBaselineMissing && !baseline_detail) {
      if (!d.rule_id.empty() && std::find(left_out.begin(), left_out.end(), d.rule_id) == left_out.end())
        left_out.push_back(d.rule_id);
      continue;
    }
    if (d.severity == core::Severity::kError || warnings || d.code == core::codes::kBaselineMissing)
      std::cerr << d.to_string() << "\n";
  }
  if (!left_out.empty()) {
    std::cerr << "jcorr: warning rule.baseline.missing: " << left_out.size()
              << (left_out.size() == 1 ? " rule needs a baseline and was" : " rules need a baseline and were")
              << " left out (--baseline FILE, --host-root DIR; jcorr rules check says which list):";
    for (const auto& r : left_out) std::cerr << " " << r;
    std::cerr << "\n";
  }
}

class StderrTracer final : public core::Tracer {
 public:
  explicit StderrTracer(std::string rule) : rule_(std::move(rule)) {}
  void trace(const core::TraceEvent& e) override {
    if (e.rule != rule_) return;
    std::string line = core::format_time_utc(e.time).substr(0, 23) + "  " + std::string(core::to_string(e.kind));
    line.append(line.size() < 38 ? 38 - line.size() : 1, ' ');
    if (e.partial) {  // appended piecewise: GCC 12 -O2 warns (-Wrestrict) on "#" + std::string
      line += '#';
      line += std::to_string(e.partial);
      line += ' ';
    }
    if (!e.step.empty()) line += e.step + " ";
    if (!e.detail.empty()) line += "(" + e.detail + ") ";
    if (!e.cursor.empty()) line += " " + e.cursor;
    std::cout << terminal_safe(line) << "\n";
  }

 private:
  std::string rule_;
};

int run(Options& o, const char* command) {
  std::unique_ptr<core::RuleSet> rules;
  core::FieldSchema dump_schema;
  core::FieldSchema* schema = &dump_schema;
  std::shared_ptr<baseline::BaselineWatch> watch;
  if (!o.baseline.empty() || !o.host_root.empty()) {
    std::optional<baseline::Baseline> approved;
    if (!o.baseline.empty()) {
      auto read = baseline::BaselineWatch::read_baseline_file(o.baseline);
      if (!read) {
        std::cerr << "jcorr " << command << ": --baseline " << read.error() << "\n";
        return kExitUsage;
      }
      approved = std::move(*read);
    }
    std::optional<std::filesystem::path> root;
    if (!o.host_root.empty()) root = o.host_root;
    baseline::WatchOptions wo;
    wo.scan_once = true;  // the files do not change during a replay
    auto w = baseline::BaselineWatch::open(std::move(approved), root, wo);
    if (!w) {
      std::cerr << "jcorr " << command << ": --host-root " << o.host_root << ": " << w.error() << "\n";
      return kExitUsage;
    }
    watch = std::move(*w);
    if (watch->has_root() && watch->machine_id().empty() && !o.quiet)
      std::cerr << "jcorr " << command << ": --host-root " << o.host_root
                << ": etc/machine-id is missing or malformed; no detection will be enriched\n";
  }
  std::optional<baseline::Enricher> enricher;
  if (watch && watch->has_root()) enricher.emplace(watch);
  if (!o.dump) {
    if (o.rules.empty()) o.rules.push_back(default_rules_path());
    core::LoadOptions load_options;
    if (watch) load_options.baseline_list = baseline::BaselineWatch::list_provider(watch);
    auto loaded = load_rule_paths(o.rules, load_options);
    print_diagnostics(loaded.diagnostics, false,
                      !o.baseline.empty() || !o.host_root.empty() || !loaded.set || loaded.set->rules.empty());
    if (core::has_errors(loaded.diagnostics)) {
      std::cerr << "jcorr " << command << ": rules have errors; nothing was run (jcorr rules check shows all problems)\n";
      return kExitRules;
    }
    if (loaded.set->rules.empty()) {
      std::cerr << "jcorr " << command << ": no rules found in";
      for (const auto& r : o.rules) std::cerr << " " << r;
      std::cerr << "\n";
      return kExitRules;
    }
    rules = std::move(loaded.set);
    if (!o.explain_rule.empty() && !rules->find(o.explain_rule)) {
      std::cerr << "jcorr " << command << ": no rule \"" << o.explain_rule << "\" is loaded\n";
      return kExitUsage;
    }
    schema = &rules->schema;
  } else {
    dump_schema.set_open(true);
  }

  // Webhooks are opened before any input is read, so a bad configuration runs nothing.
  std::unique_ptr<sinks::WebhookSet> webhooks;
  if (!o.webhook.empty()) {
    auto opened = sinks::WebhookSet::open(o.webhook);
    print_diagnostics(opened.diagnostics, true);
    if (!opened.error.empty()) std::cerr << "jcorr " << command << ": " << opened.error << "\n";
    if (!opened.set) {
      std::cerr << "jcorr " << command << ": the webhook configuration " << o.webhook
                << " has errors; nothing was run\n";
      return kExitUsage;
    }
    webhooks = std::move(opened.set);
  }

  std::uint64_t problems = 0;
  std::set<std::tuple<std::string, std::uint64_t, std::string>> reported;  // inputs may be read more than once
  auto report = [&](const sources::InputProblem& p) {
    if (!reported.emplace(p.input, p.offset, p.message).second) return;
    ++problems;
    if (problems <= 100) {
      std::cerr << "jcorr: " << p.input << ": " << (p.is_line ? "line " : "offset ") << p.offset << ": "
                << terminal_safe(p.message) << "\n";
    } else if (problems == 101) {
      std::cerr << "jcorr: more input problems follow; only the first 100 are shown\n";
    }
  };
  sources::SourceOptions sopts;
  sopts.format = o.format;
  // One export or JSON-lines file is read and matched on several threads when it is
  // large enough; the correlator still takes its entries in order.
  std::unique_ptr<ParallelReader> parallel;
  if (rules && o.explain_rule.empty() && o.inputs.size() == 1) {
    ParallelOptions po;
    po.threads = o.threads != 0 ? o.threads : std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    parallel = ParallelReader::open(o.inputs[0], *rules, o.correlator.capture_limit, sopts, report, po);
  }
  std::vector<std::unique_ptr<sources::Source>> inputs;
  bool unreadable = false;
  for (const auto& in : o.inputs) {
    if (parallel) break;
    auto s = sources::open_source(in, *schema, sopts, report);
    if (!s) {
      unreadable = true;
      continue;
    }
    inputs.push_back(std::move(s));
  }
  if (inputs.empty() && !parallel) return kExitInput;
  const auto started = std::chrono::steady_clock::now();
  auto reopen = [&] {
    std::vector<std::unique_ptr<sources::Source>> again;
    for (const auto& in : o.inputs) {
      auto s = sources::open_source(in, *schema, sopts, report);
      if (!s) return std::vector<std::unique_ptr<sources::Source>>{};
      again.push_back(std::move(s));
    }
    return again;
  };
  std::optional<DeferredResult> deferred;
  const bool all_journals = !inputs.empty() && std::all_of(inputs.begin(), inputs.end(), [](const auto& in) {
    return dynamic_cast<const sources::JournalReader*>(in.get()) != nullptr;
  });
  if (rules && o.pushdown && o.explain_rule.empty() && !unreadable && all_journals) {
    const core::Matcher matcher(*rules, 1);
    if (auto scans = matcher.pushdown().empty() ? matcher.deferred_scans() : decltype(matcher.deferred_scans()){};
        !scans.empty()) {
      Progress progress(o.progress);
      deferred = deferred_replay(*rules, o.correlator, scans, matcher.anchored_pushdown(), std::move(inputs), reopen,
                                 progress);
      progress.clear();
      if (!deferred) {
        inputs = reopen();
        if (inputs.empty()) return kExitInput;
        if (!o.quiet)
          std::cerr << "jcorr " << command << ": too many detections to defer the full-scan events; reading every entry\n";
      }
    }
  }
  std::vector<sources::JournalReader*> pushed;
  if (rules && o.pushdown && !deferred) pushed = push_down(*rules, inputs, o.quiet, command);
  sources::MergedSource source(std::move(inputs));

  const bool json_out = o.output == Options::Out::kJson || (o.output == Options::Out::kAuto && !isatty(STDOUT_FILENO));
  const bool color = !json_out && isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  Progress progress(o.progress && o.explain_rule.empty());
  std::optional<core::Correlator> correlator;
  StderrTracer tracer(o.explain_rule);
  if (rules && !deferred) {
    correlator.emplace(*rules, o.correlator);
    if (!o.explain_rule.empty()) correlator->set_tracer(&tracer);
  }
  std::vector<core::Detection> out;
  std::uint64_t entries = 0, detections = 0;
  std::string buffer;
  auto flush_detections = [&] {
    for (auto& d : out) {
      if (!o.explain_rule.empty() && d.rule_id != o.explain_rule) continue;
      ++detections;
      if (enricher) enricher->attach(d);
      if (webhooks) webhooks->handle(d);  // a refusal is logged and counted by the webhook
      if (json_out) buffer += core::to_json_line(d);
      else buffer += render_detection(d, color);
    }
    out.clear();
    if (buffer.size() > (1u << 16)) {
      progress.clear();
      std::fwrite(buffer.data(), 1, buffer.size(), stdout);
      buffer.clear();
    }
  };
  if (deferred) {
    entries = deferred->entries;
    out = std::move(deferred->detections);
    flush_detections();
  }
  core::Event ev;
  std::uint64_t last_time = 0, max_time = 0;
  while (parallel && parallel->feed(*correlator, out)) {
    if (!out.empty()) flush_detections();
    entries = parallel->entries();
    last_time = parallel->last_time();
    progress.update(entries, detections, last_time, parallel->progress(), true);
  }
  while (source.next(ev)) {
    ++entries;
    last_time = ev.realtime_us;
    max_time = std::max(max_time, last_time);
    if (o.dump) {
      buffer += sources::to_journal_json(ev, *schema);
      buffer.push_back('\n');
      if (buffer.size() > (1u << 16)) {
        std::fwrite(buffer.data(), 1, buffer.size(), stdout);
        buffer.clear();
      }
      continue;
    }
    correlator->process(ev, out);
    if (!out.empty()) flush_detections();
    progress.update(entries, detections, last_time, source.progress());
  }
  if (correlator && !pushed.empty()) {
    // The skipped entries matched nothing, but a full scan would have moved the clock
    // to the last one: an entry without fields (which no anchored definition matches)
    // at that time ends the replay on the same clock.
    if (const std::uint64_t tail = tail_time(pushed); tail > max_time) {
      core::Event end;
      end.realtime_us = tail;
      correlator->process(end, out);
      if (!out.empty()) flush_detections();
    }
  }
  if (correlator) {
    correlator->finish(out);
    flush_detections();
  }
  progress.clear();
  std::fwrite(buffer.data(), 1, buffer.size(), stdout);
  std::fflush(stdout);
  if (webhooks) {
    webhooks->wait_idle(std::chrono::milliseconds(o.webhook_wait / 1000));
    for (const auto& line : webhooks->summary(/*only_problems=*/o.quiet))
      std::cerr << "jcorr " << command << ": " << line << "\n";
    webhooks.reset();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!o.quiet && isatty(STDERR_FILENO)) {
    std::fprintf(stderr, "%llu entries in %.2fs (%.0f/s), %llu detections%s\n", static_cast<unsigned long long>(entries),
                 secs, static_cast<double>(entries) / std::max(secs, 1e-6), static_cast<unsigned long long>(detections),
                 problems ? (", " + std::to_string(problems) + " input problems").c_str() : "");
    if (correlator && correlator->stats().evicted)
      std::fprintf(stderr, "warning: %llu partial matches were evicted by the cap (--max-partials)\n",
                   static_cast<unsigned long long>(correlator->stats().evicted));
  }
  if (unreadable || (o.strict && problems > 0)) return kExitInput;
  if (o.exit_code && detections > 0) return kExitDetections;
  return kExitOk;
}

}  // namespace

int replay_command(const std::vector<std::string>& args) {
  Options o;
  if (auto rc = parse(args, o, "replay", kReplayHelp)) return *rc;
  if (!o.explain_rule.empty()) return usage_error("--rule belongs to jcorr explain", "replay");
  if (o.dump && !o.webhook.empty()) return usage_error("--webhook cannot be used with --dump", "replay");
  if (o.dump && (!o.baseline.empty() || !o.host_root.empty()))
    return usage_error("--baseline and --host-root cannot be used with --dump", "replay");
  return run(o, "replay");
}

int explain_command(const std::vector<std::string>& args) {
  Options o;
  if (auto rc = parse(args, o, "explain", kExplainHelp)) return *rc;
  if (o.explain_rule.empty()) return usage_error("--rule ID is required", "explain");
  if (o.dump) return usage_error("--dump belongs to jcorr replay", "explain");
  if (!o.webhook.empty()) return usage_error("--webhook belongs to jcorr replay", "explain");
  o.output = Options::Out::kText;
  return run(o, "explain");
}

}  // namespace jcorr::app
