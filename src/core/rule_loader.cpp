// The rule language, in brief (docs/rules.md is the full reference).
//
// A rule file is a JSON object {"lists": {...}, "rules": [...]} or one rule object.
//
//   list:   ["a", "b"] | {"match": "exact|prefix|regex", "values": [...]} | {"file": "path", "match": ...}
//           | {"baseline": "timers|services|new|changed|drifted|machine-id"} (through LoadOptions::baseline_list)
//   file:   {"description"?, "lists"?, "events"?: {NAME: event} (shared by the file's rules), "rules"}
//   rule:   {"id", "title", "severity", "description"?, "attack"?, "tags"?, "references"?,
//            "enabled"?, "scope": "host"|"global", "events": {NAME: event}, "correlate": corr,
//            "suppress"?: {"by": [ref], "for": dur}, "values"?: {NAME: ref}, "summary"?: tmpl,
//            "tests"?: [...]}
//   event:  {"where": cond, "capture"?: {NAME: FIELD | [FIELD...]}, "from"?: "journal"|"detections"}
//   cond:   {FIELD: test, ..., "all": [cond], "any": [cond], "not": cond}   (members are ANDed)
//   test:   "v" | ["v1","v2"] | number | {"eq","in","prefix","suffix","contains","regex",
//            "gt","ge","lt","le","exists","in_list","not"}      (operators are ANDed)
//   corr:   {"sequence": [step] | "all_of": [step] | "count": {...} | "distinct": {...},
//            "within"?: dur, "by"?: [NAME], "until"?: until | [until], "where"?: rcond,
//            "unless"?: rcond, "emit"?: "once"|"each"}
//   step:   "event" | {"event": NAME | "any_of": [NAME], "as"?, "join"?: {CAPTURE: ref | [ref]},
//            "optional"?, "absent"?, "repeat"?: N | "N+", "within"?: dur}
//   ref:    "step.capture" (a regex named group, a "capture" name, or a field of that
//            step's event), "_HOSTNAME", "_MACHINE_ID"
//   rcond:  a cond whose keys are refs instead of fields.
#include "jcorr/core/rule_loader.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "jcorr/core/json_text.h"
#include "jcorr/core/matcher.h"
#include "jcorr/core/sha256.h"
#include "json_locate.h"

namespace jcorr::core {

using nlohmann::json;

// ---------------------------------------------------------------------------------------
// Durations

std::expected<Micros, std::string> parse_duration(std::string_view text) {
  if (text.empty()) return std::unexpected("empty duration");
  Micros total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    if (text[i] == ' ') { ++i; continue; }
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc{} || p == text.data() + i || n < 0)
      return std::unexpected("expected a number at \"" + std::string(text.substr(i)) + "\"");
    i = static_cast<std::size_t>(p - text.data());
    std::size_t j = i;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
    const std::string_view unit = text.substr(i, j - i);
    Micros mul = 0;
    if (unit == "us") mul = 1;
    else if (unit == "ms") mul = 1000;
    else if (unit == "s") mul = 1000000;
    else if (unit == "m" || unit == "min") mul = 60LL * 1000000;
    else if (unit == "h") mul = 3600LL * 1000000;
    else if (unit == "d") mul = 86400LL * 1000000;
    else if (unit.empty()) return std::unexpected("missing unit after " + std::to_string(n) + " (use ms, s, m, h or d)");
    else return std::unexpected("unknown unit \"" + std::string(unit) + "\" (use ms, s, m, h or d)");
    // Each term and the sum stay under 2^52 µs (about 142 years): many large terms
    // ("52000d 52000d ...") must not overflow the total.
    if (n > (std::int64_t{1} << 52) / mul || total > (std::int64_t{1} << 52) - n * mul)
      return std::unexpected("duration too large");
    total += n * mul;
    any = true;
    i = j;
  }
  if (!any) return std::unexpected("empty duration");
  return total;
}

std::string format_duration(Micros us) {
  if (us == 0) return "0s";
  std::string out;
  struct U { Micros size; const char* name; };
  static constexpr U units[] = {{86400LL * 1000000, "d"}, {3600LL * 1000000, "h"}, {60LL * 1000000, "m"},
                                {1000000, "s"}, {1000, "ms"}, {1, "us"}};
  for (const auto& u : units) {
    if (us >= u.size) {
      out += std::to_string(us / u.size) + u.name;
      us %= u.size;
    }
  }
  return out;
}

std::string_view to_string(RuleSeverity s) {
  switch (s) {
    case RuleSeverity::kInfo: return "info";
    case RuleSeverity::kLow: return "low";
    case RuleSeverity::kMedium: return "medium";
    case RuleSeverity::kHigh: return "high";
    case RuleSeverity::kCritical: return "critical";
  }
  return "medium";
}

std::optional<RuleSeverity> parse_severity(std::string_view s) {
  if (s == "info") return RuleSeverity::kInfo;
  if (s == "low") return RuleSeverity::kLow;
  if (s == "medium") return RuleSeverity::kMedium;
  if (s == "high") return RuleSeverity::kHigh;
  if (s == "critical") return RuleSeverity::kCritical;
  return std::nullopt;
}

bool ValueList::contains(std::string_view value) const {
  if (lookup) return lookup(value);
  switch (mode) {
    case Mode::kExact: return exact.find(std::string(value)) != exact.end();
    case Mode::kPrefix:
      return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return value.starts_with(p); });
    case Mode::kRegex: {
      return regex && RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *regex);
    }
  }
  return false;
}

const Rule* RuleSet::find(std::string_view id) const {
  for (const auto& r : rules)
    if (r->id == id) return r.get();
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// Loader

namespace {

std::string escape_token(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

std::string ptr_join(const std::string& base, std::string_view token) { return base + "/" + escape_token(token); }
std::string ptr_join(const std::string& base, std::size_t index) { return base + "/" + std::to_string(index); }

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (!(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool valid_rule_id(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  if (!std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
           c == '_' || c == '.';
  });
}

// Journal field names: upper case letters, digits and '_', not starting with a digit
// (journald refuses anything else). Detection fields are lower case names.
bool valid_journal_field(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Fields journald itself sets (systemd.journal-fields(7), journald-audit.c's mapping of
// audit records, journald-kmsg.c). A client cannot set any field starting with '_', so
// a rule testing an underscore field outside this set can never match: it is a typo.
bool known_trusted_field(std::string_view s) {
  static constexpr std::string_view kTrusted[] = {
      "_PID", "_UID", "_GID", "_COMM", "_EXE", "_CMDLINE", "_CAP_EFFECTIVE", "_AUDIT_SESSION", "_AUDIT_LOGINUID",
      "_SYSTEMD_CGROUP", "_SYSTEMD_SLICE", "_SYSTEMD_UNIT", "_SYSTEMD_USER_UNIT", "_SYSTEMD_USER_SLICE",
      "_SYSTEMD_SESSION", "_SYSTEMD_OWNER_UID", "_SYSTEMD_INVOCATION_ID", "_SELINUX_CONTEXT",
      "_SOURCE_REALTIME_TIMESTAMP", "_SOURCE_MONOTONIC_TIMESTAMP", "_SOURCE_BOOTTIME_TIMESTAMP", "_BOOT_ID",
      "_MACHINE_ID", "_HOSTNAME", "_TRANSPORT", "_STREAM_ID", "_LINE_BREAK", "_NAMESPACE", "_RUNTIME_SCOPE",
      "_KERNEL_DEVICE", "_KERNEL_SUBSYSTEM", "_UDEV_SYSNAME", "_UDEV_DEVNODE", "_UDEV_DEVLINK", "_AUDIT_TYPE",
      "_AUDIT_TYPE_NAME", "_AUDIT_ID", "_PPID", "_EUID", "_SUID", "_FSUID", "_EGID", "_SGID", "_FSGID", "_TTY",
      "_PIDFD_INODE", "_TID", "_SYSTEMD_NAMESPACE"};
  if (!s.starts_with('_') || s.starts_with("__")) return true;
  if (s.starts_with("_AUDIT_FIELD_")) return true;
  return std::find(std::begin(kTrusted), std::end(kTrusted), s) != std::end(kTrusted);
}

std::string type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    default: return "a number";
  }
}

// Levenshtein distance for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0u : 1u)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggest(std::string_view got, std::initializer_list<std::string_view> allowed) {
  std::string best;
  std::size_t best_d = 3;
  for (auto a : allowed) {
    const auto d = edit_distance(got, a);
    if (d < best_d) { best_d = d; best = std::string(a); }
  }
  return best.empty() ? std::string() : " (did you mean \"" + best + "\"?)";
}

struct FileText {
  std::string origin;
  std::string text;
};

struct RawRule {
  json body;
  std::size_t file = 0;
  std::string pointer;
  std::shared_ptr<const json> shared_events;  // the file's top-level "events", if any
};

struct RawList {
  json body;
  std::size_t file = 0;
  std::string pointer;
  std::string name;
};

}  // namespace

struct RuleLoader::Impl {
  LoadOptions options;
  std::vector<FileText> files;
  std::vector<RawRule> raw_rules;
  std::vector<RawList> raw_lists;
  std::unordered_set<std::string> baseline_lists_absent;  // baseline lists left out: no baseline given
  std::vector<Diagnostic> diags;
  bool capped = false;

  void report(Severity sev, std::string_view code, std::size_t file, const std::string& pointer,
              const std::string& rule_id, std::string message) {
    if (diags.size() >= options.max_diagnostics) {
      if (!capped) {
        capped = true;
        Diagnostic d;
        d.code = std::string(codes::kTooMany);
        d.origin = files[file].origin;
        d.message = "too many problems; only the first " + std::to_string(options.max_diagnostics) + " are shown";
        diags.push_back(std::move(d));
      }
      return;
    }
    Diagnostic d;
    d.severity = sev;
    d.code = std::string(code);
    d.origin = files[file].origin;
    d.pointer = pointer;
    d.rule_id = rule_id;
    d.message = std::move(message);
    auto [line, col] = locate_json_pointer(files[file].text, pointer);
    d.line = line;
    d.column = col;
    diags.push_back(std::move(d));
  }
};

namespace {

// Compiles one rule. Errors mark the rule failed; compilation goes on to find more.
class RuleCompiler {
 public:
  RuleCompiler(RuleLoader::Impl& loader, RuleSet& set, const RawRule& raw)
      : L_(loader), set_(set), raw_(raw), rule_(std::make_unique<Rule>()) {}

  std::unique_ptr<Rule> compile();

 private:
  RuleLoader::Impl& L_;
  RuleSet& set_;
  const RawRule& raw_;
  std::unique_ptr<Rule> rule_;
  bool failed_ = false;
  bool skipped_ = false;  // uses a baseline list that was not given (a warning, not an error)
  std::unordered_map<std::string, int> event_index_;
  std::unordered_map<std::string, int> step_index_;
  // regex group names seen while compiling the current event's predicate
  std::vector<std::string>* current_captures_ = nullptr;
  std::vector<FieldId>* current_fields_ = nullptr;
  bool current_from_detections_ = false;

  void error(std::string_view code, const std::string& ptr, std::string msg) {
    failed_ = true;
    L_.report(Severity::kError, code, raw_.file, ptr, rule_->id, std::move(msg));
  }
  void warn(std::string_view code, const std::string& ptr, std::string msg) {
    L_.report(Severity::kWarning, code, raw_.file, ptr, rule_->id, std::move(msg));
  }

  bool check_keys(const json& obj, const std::string& ptr, std::initializer_list<std::string_view> allowed) {
    bool ok = true;
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
        error(codes::kKeyUnknown, ptr_join(ptr, it.key()),
              "unknown key \"" + it.key() + "\"" + suggest(it.key(), allowed));
        ok = false;
      }
    }
    return ok;
  }

  const json* member(const json& obj, std::string_view key, const std::string& ptr, json::value_t type,
                     bool required) {
    auto it = obj.find(std::string(key));
    if (it == obj.end()) {
      if (required) error(codes::kKeyMissing, ptr, "missing required key \"" + std::string(key) + "\"");
      return nullptr;
    }
    const bool type_ok = it->type() == type ||
                         (type == json::value_t::number_unsigned && it->is_number_integer() && *it >= 0);
    if (!type_ok) {
      std::string want = type == json::value_t::object    ? "an object"
                         : type == json::value_t::array   ? "an array"
                         : type == json::value_t::string  ? "a string"
                         : type == json::value_t::boolean ? "a boolean"
                                                          : "a non-negative integer";
      error(codes::kTypeMismatch, ptr_join(ptr, key), "\"" + std::string(key) + "\" must be " + want + ", not " +
                                                          type_name(*it));
      return nullptr;
    }
    return &*it;
  }

  std::optional<Micros> duration(const json& obj, std::string_view key, const std::string& ptr) {
    const json* j = member(obj, key, ptr, json::value_t::string, false);
    if (!j) return std::nullopt;
    auto d = parse_duration(j->get<std::string>());
    if (!d) {
      error(codes::kDurationInvalid, ptr_join(ptr, key), "invalid duration \"" + j->get<std::string>() + "\": " + d.error());
      return std::nullopt;
    }
    if (*d <= 0) {
      error(codes::kDurationInvalid, ptr_join(ptr, key), "duration must be positive");
      return std::nullopt;
    }
    return *d;
  }

  std::vector<std::string> string_array(const json& obj, std::string_view key, const std::string& ptr) {
    std::vector<std::string> out;
    const json* j = member(obj, key, ptr, json::value_t::array, false);
    if (!j) return out;
    for (std::size_t i = 0; i < j->size(); ++i) {
      if (!(*j)[i].is_string()) {
        error(codes::kTypeMismatch, ptr_join(ptr_join(ptr, key), i), "expected a string, not " + type_name((*j)[i]));
        continue;
      }
      out.push_back((*j)[i].get<std::string>());
    }
    return out;
  }

  // --- predicates ---
  std::optional<Condition> compile_condition(const json& j, const std::string& ptr, bool refs_mode, int depth = 0);
  bool compile_test(const json& j, const std::string& ptr, ValueTest& test, std::vector<Condition>& extra,
                    const std::function<void(Condition&)>& bind, bool refs_mode, int depth);
  std::shared_ptr<re2::RE2> compile_regex(const std::string& pattern, const std::string& ptr);
  bool bind_subject(std::string_view key, const std::string& ptr, bool refs_mode, Condition& leaf);

  // --- structure ---
  void compile_event(const std::string& name, const json& j, const std::string& ptr);
  std::optional<Step> compile_step(const json& j, const std::string& ptr, bool allow_joins, bool until_mode);
  void compile_correlate(const json& j, const std::string& ptr);
  int ref(const std::string& text, const std::string& ptr, bool joins_only_earlier, int current_step);
  std::optional<Template> compile_template(const std::string& text, const std::string& ptr);
  void compile_joins(const json& spec, const std::string& ptr, const Step& st, int step_index, bool earlier_only, std::vector<Join>& out);
  void lint_event(const EventDef& ev, const std::string& ptr);
};

std::shared_ptr<re2::RE2> RuleCompiler::compile_regex(const std::string& pattern, const std::string& ptr) {
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(L_.options.regex_max_mem);
  auto re = std::make_shared<re2::RE2>(pattern, opts);
  if (!re->ok()) {
    // RE2 caps both the compiled program (max_mem) and counted repetition, also nested
    // ((a{1000}){1000} expands to a million); either is a size limit, not a syntax error.
    // Its error() already ends with the offending part of the pattern (error_arg()).
    if (re->error_code() == RE2::ErrorPatternTooLarge || re->error_code() == RE2::ErrorRepeatSize)
      error(codes::kRegexTooLarge, ptr, "regex too large for the matching budget: " + re->error());
    else
      error(codes::kRegexInvalid, ptr, "invalid regex: " + re->error());
    return nullptr;
  }
  return re;
}

bool RuleCompiler::bind_subject(std::string_view key, const std::string& ptr, bool refs_mode, Condition& leaf) {
  if (refs_mode) {
    const int r = ref(std::string(key), ptr, false, -1);
    if (r < 0) return false;
    leaf.ref = r;
    return true;
  }
  const bool ok = current_from_detections_ ? (valid_name(key) || valid_journal_field(key)) : valid_journal_field(key);
  if (!ok) {
    error(codes::kFieldInvalid, ptr,
          "\"" + std::string(key) + "\" is not a journal field name (upper case letters, digits and '_')" +
              (current_from_detections_ ? " nor a detection value name" : "") +
              suggest(key, {"all", "any", "not"}));
    return false;
  }
  if (!current_from_detections_ && !known_trusted_field(key)) {
    error(codes::kFieldUnknown, ptr,
          "\"" + std::string(key) + "\" is not a field journald sets (fields starting with '_' come only from "
          "journald, so this test can never match)" +
              suggest(key, {"_PID", "_UID", "_GID", "_COMM", "_EXE", "_CMDLINE", "_TRANSPORT", "_SYSTEMD_UNIT",
                            "_SYSTEMD_USER_UNIT", "_SYSTEMD_SESSION", "_AUDIT_SESSION", "_AUDIT_LOGINUID",
                            "_HOSTNAME", "_MACHINE_ID", "_BOOT_ID", "_SYSTEMD_CGROUP", "_SYSTEMD_SLICE"}));
    return false;
  }
  leaf.field = set_.schema.add(key);
  if (current_fields_ && std::find(current_fields_->begin(), current_fields_->end(), leaf.field) == current_fields_->end())
    current_fields_->push_back(leaf.field);
  return true;
}

std::optional<Condition> RuleCompiler::compile_condition(const json& j, const std::string& ptr, bool refs_mode, int depth) {
  if (depth > 32) {
    error(codes::kValueInvalid, ptr, "conditions nest deeper than 32 levels");
    return std::nullopt;
  }
  if (!j.is_object()) {
    error(codes::kTypeMismatch, ptr, "a condition must be an object, not " + type_name(j));
    return std::nullopt;
  }
  if (j.empty()) {
    error(codes::kValueInvalid, ptr, "a condition must test at least one field");
    return std::nullopt;
  }
  Condition all;
  all.kind = Condition::Kind::kAll;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = it.key();
    const std::string p = ptr_join(ptr, key);
    if (key == "all" || key == "any") {
      if (!it->is_array() || it->empty()) {
        error(codes::kTypeMismatch, p, "\"" + key + "\" must be a non-empty array of conditions");
        continue;
      }
      Condition node;
      node.kind = key == "all" ? Condition::Kind::kAll : Condition::Kind::kAny;
      for (std::size_t i = 0; i < it->size(); ++i)
        if (auto c = compile_condition((*it)[i], ptr_join(p, i), refs_mode, depth + 1)) node.children.push_back(std::move(*c));
      all.children.push_back(std::move(node));
      continue;
    }
    if (key == "not") {
      auto saved = current_captures_;
      current_captures_ = nullptr;  // nothing is captured under a negation
      if (auto c = compile_condition(*it, p, refs_mode, depth + 1)) {
        Condition node;
        node.kind = Condition::Kind::kNot;
        node.children.push_back(std::move(*c));
        all.children.push_back(std::move(node));
      }
      current_captures_ = saved;
      continue;
    }
    Condition leaf;
    leaf.kind = Condition::Kind::kTest;
    if (!bind_subject(key, p, refs_mode, leaf)) continue;
    std::vector<Condition> extra;
    const Condition proto = leaf;
    auto bind = [&](Condition& c) {
      c.field = proto.field;
      c.ref = proto.ref;
    };
    if (compile_test(*it, p, leaf.test, extra, bind, refs_mode, depth)) all.children.push_back(std::move(leaf));
    for (auto& e : extra) all.children.push_back(std::move(e));
  }
  if (all.children.size() == 1) return std::move(all.children.front());
  return all;
}

// Compiles the value of one field key. Shorthands produce `test`; an operator object
// may produce several tests (ANDed): the first goes to `test`, the rest to `extra`.
bool RuleCompiler::compile_test(const json& j, const std::string& ptr, ValueTest& test, std::vector<Condition>& extra,
                                const std::function<void(Condition&)>& bind, bool refs_mode, int depth) {
  auto scalar = [](const json& v, std::string& out) {
    if (v.is_string()) { out = v.get<std::string>(); return true; }
    if (v.is_number_integer()) { out = v.dump(); return true; }
    return false;
  };
  if (j.is_string() || j.is_number_integer()) {
    test.op = ValueTest::Op::kEq;
    test.strings.emplace_back();
    scalar(j, test.strings.back());
    return true;
  }
  if (j.is_array()) {
    test.op = ValueTest::Op::kIn;
    for (std::size_t i = 0; i < j.size(); ++i) {
      std::string s;
      if (!scalar(j[i], s)) {
        error(codes::kTypeMismatch, ptr_join(ptr, i), "list values must be strings or integers, not " + type_name(j[i]));
        return false;
      }
      test.strings.push_back(std::move(s));
    }
    if (test.strings.empty()) {
      error(codes::kValueInvalid, ptr, "an empty list matches nothing");
      return false;
    }
    test.string_set.insert(test.strings.begin(), test.strings.end());
    return true;
  }
  if (!j.is_object()) {
    error(codes::kTypeMismatch, ptr, "a field test must be a string, an array of strings or an operator object, not " + type_name(j));
    return false;
  }
  if (j.empty()) {
    error(codes::kValueInvalid, ptr, "an operator object needs at least one operator");
    return false;
  }
  std::vector<ValueTest> tests;
  std::vector<Condition> negated;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string op = it.key();
    const std::string p = ptr_join(ptr, op);
    ValueTest t;
    if (op == "eq") {
      t.op = ValueTest::Op::kEq;
      std::string s;
      if (!scalar(*it, s)) { error(codes::kTypeMismatch, p, "\"eq\" takes a string"); continue; }
      t.strings.push_back(std::move(s));
    } else if (op == "in" || op == "prefix" || op == "suffix" || op == "contains") {
      t.op = op == "in" ? ValueTest::Op::kIn : op == "prefix" ? ValueTest::Op::kPrefix
           : op == "suffix" ? ValueTest::Op::kSuffix : ValueTest::Op::kContains;
      if (it->is_array()) {
        for (std::size_t i = 0; i < it->size(); ++i) {
          std::string s;
          if (!scalar((*it)[i], s)) { error(codes::kTypeMismatch, ptr_join(p, i), "expected a string"); continue; }
          t.strings.push_back(std::move(s));
        }
      } else {
        std::string s;
        if (!scalar(*it, s)) { error(codes::kTypeMismatch, p, "\"" + op + "\" takes a string or an array of strings"); continue; }
        t.strings.push_back(std::move(s));
      }
      if (t.strings.empty()) { error(codes::kValueInvalid, p, "an empty list matches nothing"); continue; }
      if (t.op == ValueTest::Op::kIn) t.string_set.insert(t.strings.begin(), t.strings.end());
    } else if (op == "regex") {
      if (!it->is_string()) { error(codes::kTypeMismatch, p, "\"regex\" takes a string"); continue; }
      t.op = ValueTest::Op::kRegex;
      t.regex = compile_regex(it->get<std::string>(), p);
      if (!t.regex) continue;
      for (const auto& [name, index] : t.regex->NamedCapturingGroups()) {
        if (!valid_name(name)) {
          error(codes::kValueInvalid, p, "capture group name \"" + name + "\" must be lower case letters, digits and '_'");
          continue;
        }
        t.regex_captures.emplace_back(index, name);
        if (current_captures_ &&
            std::find(current_captures_->begin(), current_captures_->end(), name) == current_captures_->end())
          current_captures_->push_back(name);
      }
      std::sort(t.regex_captures.begin(), t.regex_captures.end());
    } else if (op == "gt" || op == "ge" || op == "lt" || op == "le") {
      if (!it->is_number()) { error(codes::kTypeMismatch, p, "\"" + op + "\" takes a number"); continue; }
      t.op = op == "gt" ? ValueTest::Op::kNumGt : op == "ge" ? ValueTest::Op::kNumGe
           : op == "lt" ? ValueTest::Op::kNumLt : ValueTest::Op::kNumLe;
      t.number = it->get<double>();
    } else if (op == "exists") {
      if (!it->is_boolean()) { error(codes::kTypeMismatch, p, "\"exists\" takes true or false"); continue; }
      t.op = ValueTest::Op::kExists;
      t.exists = it->get<bool>();
    } else if (op == "in_list") {
      if (!it->is_string()) { error(codes::kTypeMismatch, p, "\"in_list\" takes a list name"); continue; }
      auto found = set_.lists.find(it->get<std::string>());
      if (found == set_.lists.end() && L_.baseline_lists_absent.count(it->get<std::string>())) {
        skipped_ = true;
        warn(codes::kBaselineMissing, p,
             "list \"" + it->get<std::string>() + "\" is not available (see the list); the rule is left out");
        continue;
      }
      if (found == set_.lists.end()) {
        error(codes::kListUnknown, p, "no list named \"" + it->get<std::string>() + "\"");
        continue;
      }
      t.op = ValueTest::Op::kInList;
      t.list = found->second.get();
    } else if (op == "not") {
      Condition leaf;
      leaf.kind = Condition::Kind::kTest;
      bind(leaf);
      std::vector<Condition> more;
      auto saved = current_captures_;
      current_captures_ = nullptr;
      const bool ok = compile_test(*it, p, leaf.test, more, bind, refs_mode, depth + 1);
      current_captures_ = saved;
      if (!ok) continue;
      Condition inner;
      inner.kind = Condition::Kind::kAll;
      inner.children.push_back(std::move(leaf));
      for (auto& m : more) inner.children.push_back(std::move(m));
      Condition neg;
      neg.kind = Condition::Kind::kNot;
      neg.children.push_back(std::move(inner));
      negated.push_back(std::move(neg));
      continue;
    } else {
      error(codes::kOperatorUnknown, p,
            "unknown operator \"" + op + "\"" +
                suggest(op, {"eq", "in", "prefix", "suffix", "contains", "regex", "gt", "ge", "lt", "le", "exists",
                             "in_list", "not"}));
      continue;
    }
    tests.push_back(std::move(t));
  }
  if (tests.empty() && negated.empty()) return false;
  std::size_t k = 0;
  if (!tests.empty()) {
    test = std::move(tests[0]);
    k = 1;
  } else {
    // Only negations: there is no positive leaf; the negations stand alone.
    extra.insert(extra.end(), std::make_move_iterator(negated.begin()), std::make_move_iterator(negated.end()));
    return false;
  }
  for (; k < tests.size(); ++k) {
    Condition c;
    c.kind = Condition::Kind::kTest;
    bind(c);
    c.test = std::move(tests[k]);
    extra.push_back(std::move(c));
  }
  extra.insert(extra.end(), std::make_move_iterator(negated.begin()), std::make_move_iterator(negated.end()));
  return true;
}

bool condition_trusted(const Condition& c, const FieldSchema& schema, bool negated) {
  switch (c.kind) {
    case Condition::Kind::kTest:
      return !negated && c.ref < 0 && schema.name(c.field).starts_with("_") &&
             !(c.test.op == ValueTest::Op::kExists && !c.test.exists);
    case Condition::Kind::kNot:
      return condition_trusted(c.children[0], schema, !negated);
    case Condition::Kind::kAll:
      return std::any_of(c.children.begin(), c.children.end(),
                         [&](const Condition& x) { return condition_trusted(x, schema, negated); });
    case Condition::Kind::kAny:
      // Every alternative must be anchored on a trusted field.
      return !c.children.empty() && std::all_of(c.children.begin(), c.children.end(), [&](const Condition& x) {
        return condition_trusted(x, schema, negated);
      });
  }
  return false;
}

void RuleCompiler::lint_event(const EventDef& ev, const std::string& ptr) {
  if (ev.from_detections) return;
  if (!condition_trusted(ev.where, set_.schema, false))
    warn(codes::kUntrusted, ptr_join(ptr, "where"),
         "event \"" + ev.name + "\" is not anchored on a trusted field (one set by journald, starting with '_' "
         "such as _COMM, _EXE, _UID, _PID, _TRANSPORT); any local user can forge it");
}

void RuleCompiler::compile_event(const std::string& name, const json& j, const std::string& ptr) {
  if (!valid_name(name)) {
    error(codes::kIdInvalid, ptr, "event name \"" + name + "\" must be lower case letters, digits and '_'");
    return;
  }
  if (!j.is_object()) {
    error(codes::kTypeMismatch, ptr, "an event must be an object, not " + type_name(j));
    return;
  }
  check_keys(j, ptr, {"where", "capture", "from", "description"});
  EventDef ev;
  ev.name = name;
  if (const json* from = member(j, "from", ptr, json::value_t::string, false)) {
    if (*from == "detections") ev.from_detections = true;
    else if (*from != "journal") error(codes::kValueInvalid, ptr_join(ptr, "from"), "\"from\" is \"journal\" or \"detections\"");
  }
  current_captures_ = &ev.capture_names;
  current_fields_ = &ev.evidence_fields;
  current_from_detections_ = ev.from_detections;
  if (const json* where = member(j, "where", ptr, json::value_t::object, true)) {
    if (auto c = compile_condition(*where, ptr_join(ptr, "where"), false)) {
      ev.where = std::move(*c);
      order_for_evaluation(ev.where);
    }
  }
  if (const json* cap = member(j, "capture", ptr, json::value_t::object, false)) {
    for (auto it = cap->begin(); it != cap->end(); ++it) {
      const std::string p = ptr_join(ptr_join(ptr, "capture"), it.key());
      if (!valid_name(it.key())) {
        error(codes::kIdInvalid, p, "capture name \"" + it.key() + "\" must be lower case letters, digits and '_'");
        continue;
      }
      CaptureSpec spec;
      spec.name = it.key();
      std::vector<std::string> fields;
      if (it->is_string()) fields.push_back(it->get<std::string>());
      else if (it->is_array())
        for (const auto& f : *it)
          if (f.is_string()) fields.push_back(f.get<std::string>());
      if (fields.empty()) {
        error(codes::kTypeMismatch, p, "a capture names a field, or an array of fields (first present wins)");
        continue;
      }
      for (const auto& f : fields) {
        const bool ok = ev.from_detections ? (valid_name(f) || valid_journal_field(f)) : valid_journal_field(f);
        if (!ok) {
          error(codes::kFieldInvalid, p, "\"" + f + "\" is not a field name");
          continue;
        }
        if (!ev.from_detections && !known_trusted_field(f)) {
          error(codes::kFieldUnknown, p, "\"" + f + "\" is not a field journald sets (fields starting with '_' come only from journald)");
          continue;
        }
        const FieldId id = set_.schema.add(f);
        spec.fields.push_back(id);
        if (std::find(ev.evidence_fields.begin(), ev.evidence_fields.end(), id) == ev.evidence_fields.end())
          ev.evidence_fields.push_back(id);
      }
      if (std::find(ev.capture_names.begin(), ev.capture_names.end(), spec.name) == ev.capture_names.end())
        ev.capture_names.push_back(spec.name);
      ev.field_captures.push_back(std::move(spec));
    }
  }
  current_captures_ = nullptr;
  current_fields_ = nullptr;
  current_from_detections_ = false;
  lint_event(ev, ptr);
  ev.index = static_cast<int>(rule_->events.size());
  event_index_[name] = ev.index;
  rule_->events.push_back(std::move(ev));
}

// Resolves "step.capture" (or a host field) to an index in rule_->refs. For joins,
// the step must come before current_step. A field name used as capture is captured
// implicitly from the step's events.
int RuleCompiler::ref(const std::string& text, const std::string& ptr, bool joins_only_earlier, int current_step) {
  for (std::size_t i = 0; i < rule_->refs.size(); ++i)
    if (rule_->refs[i].text == text && (!joins_only_earlier || rule_->refs[i].step < current_step)) return static_cast<int>(i);
  Ref r;
  r.text = text;
  if (text == "_HOSTNAME" || text == "_MACHINE_ID") {
    r.host = true;
    r.name = text;
    rule_->refs.push_back(std::move(r));
    return static_cast<int>(rule_->refs.size() - 1);
  }
  const auto dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
    error(codes::kRefInvalid, ptr, "\"" + text + "\" is not a reference: write step.capture (e.g. \"ssh_login.user\")");
    return -1;
  }
  const std::string step = text.substr(0, dot);
  const std::string name = text.substr(dot + 1);
  auto s = step_index_.find(step);
  if (s == step_index_.end()) {
    error(codes::kStepUnknown, ptr, "no step named \"" + step + "\" in this correlation");
    return -1;
  }
  if (joins_only_earlier && s->second >= current_step) {
    error(codes::kStepOrder, ptr, "a join can only refer to an earlier step; \"" + step + "\" is not before this one");
    return -1;
  }
  auto& st = rule_->correlate.steps[static_cast<std::size_t>(s->second)];
  bool known = false;
  for (int e : st.events) {
    auto& ev = rule_->events[static_cast<std::size_t>(e)];
    if (std::find(ev.capture_names.begin(), ev.capture_names.end(), name) != ev.capture_names.end()) known = true;
  }
  if (!known) {
    const bool field_ok = valid_journal_field(name) && known_trusted_field(name);
    if (!field_ok) {
      error(codes::kCaptureUnknown, ptr, "step \"" + step + "\" captures no value named \"" + name + "\"");
      return -1;
    }
    // Capture the field implicitly on each alternative event of the step.
    const FieldId id = set_.schema.add(name);
    for (int e : st.events) {
      auto& ev = rule_->events[static_cast<std::size_t>(e)];
      ev.field_captures.push_back(CaptureSpec{name, {id}});
      ev.capture_names.push_back(name);
    }
  }
  r.step = s->second;
  r.name = name;
  rule_->refs.push_back(std::move(r));
  return static_cast<int>(rule_->refs.size() - 1);
}

std::optional<Step> RuleCompiler::compile_step(const json& j, const std::string& ptr, bool allow_joins, bool until_mode) {
  Step st;
  auto add_event = [&](const std::string& name, const std::string& p) {
    auto it = event_index_.find(name);
    if (it == event_index_.end()) {
      error(codes::kEventUnknown, p, "no event named \"" + name + "\" in \"events\"");
      return false;
    }
    st.events.push_back(it->second);
    return true;
  };
  if (j.is_string()) {
    st.name = j.get<std::string>();
    if (!add_event(st.name, ptr)) return std::nullopt;
    return st;
  }
  if (!j.is_object()) {
    error(codes::kTypeMismatch, ptr, "a step is an event name or an object, not " + type_name(j));
    return std::nullopt;
  }
  if (until_mode) check_keys(j, ptr, {"event", "any_of", "join"});
  else check_keys(j, ptr, {"event", "any_of", "as", "join", "prefer", "optional", "absent", "repeat", "within"});
  const json* ev = member(j, "event", ptr, json::value_t::string, false);
  const json* any = member(j, "any_of", ptr, json::value_t::array, false);
  if ((ev != nullptr) == (any != nullptr)) {
    error(codes::kStepInvalid, ptr, "a step names exactly one of \"event\" or \"any_of\"");
    return std::nullopt;
  }
  if (ev) {
    st.name = ev->get<std::string>();
    if (!add_event(st.name, ptr_join(ptr, "event"))) return std::nullopt;
  } else {
    for (std::size_t i = 0; i < any->size(); ++i) {
      if (!(*any)[i].is_string()) {
        error(codes::kTypeMismatch, ptr_join(ptr_join(ptr, "any_of"), i), "expected an event name");
        continue;
      }
      add_event((*any)[i].get<std::string>(), ptr_join(ptr_join(ptr, "any_of"), i));
    }
    if (st.events.empty()) return std::nullopt;
    st.name = rule_->events[static_cast<std::size_t>(st.events[0])].name;
  }
  if (const json* as = member(j, "as", ptr, json::value_t::string, false)) {
    if (!valid_name(as->get<std::string>())) error(codes::kIdInvalid, ptr_join(ptr, "as"), "step names are lower case letters, digits and '_'");
    st.name = as->get<std::string>();
  } else if (any && !until_mode && st.events.size() > 1) {
    error(codes::kKeyMissing, ptr, "a step with \"any_of\" needs \"as\" to name it");
  }
  if (const json* o = member(j, "optional", ptr, json::value_t::boolean, false)) st.optional = o->get<bool>();
  if (const json* a = member(j, "absent", ptr, json::value_t::boolean, false)) st.absent = a->get<bool>();
  if (auto it = j.find("repeat"); it != j.end()) {
    const std::string p = ptr_join(ptr, "repeat");
    if (it->is_number_unsigned() && it->get<std::uint64_t>() >= 1 && it->get<std::uint64_t>() <= 1000) {
      st.repeat_min = it->get<std::uint32_t>();
    } else if (it->is_string() && it->get<std::string>().ends_with('+')) {
      const std::string s = it->get<std::string>();
      std::uint32_t n = 0;
      auto [pp, ec] = std::from_chars(s.data(), s.data() + s.size() - 1, n);
      if (ec != std::errc{} || pp != s.data() + s.size() - 1 || n < 1 || n > 1000) error(codes::kValueInvalid, p, "\"repeat\" is N or \"N+\" with N from 1 to 1000");
      st.repeat_min = n;
      st.repeat_more = true;
    } else {
      error(codes::kValueInvalid, p, "\"repeat\" is N or \"N+\" with N from 1 to 1000");
    }
  }
  st.within = duration(j, "within", ptr);
  if (st.absent && (st.optional || st.repeat_min != 1 || st.repeat_more))
    error(codes::kStepInvalid, ptr, "an absent step cannot also be optional or repeated");
  if (const json* join = member(j, "join", ptr, json::value_t::object, false)) {
    if (!allow_joins) {
      error(codes::kStepInvalid, ptr_join(ptr, "join"), "joins are not supported here; group with \"by\" instead");
    } else {
      // Joins are resolved by the caller once the step has its index.
      (void)join;
    }
  }
  return st;
}

std::optional<Template> RuleCompiler::compile_template(const std::string& text, const std::string& ptr) {
  Template t;
  std::string lit;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') { lit.push_back('{'); ++i; continue; }
    if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') { lit.push_back('}'); ++i; continue; }
    if (c == '{') {
      const auto close = text.find('}', i);
      if (close == std::string::npos) {
        error(codes::kTemplateInvalid, ptr, "unclosed '{' at offset " + std::to_string(i));
        return std::nullopt;
      }
      const std::string name = text.substr(i + 1, close - i - 1);
      int r = -1;
      std::vector<int> alternatives;
      for (const auto& v : rule_->values)
        if (v.name == name && v.ref >= 0) {
          r = v.ref;
          alternatives = v.alternatives;
        }
      if (r < 0) r = ref(name, ptr, false, -1);
      if (r < 0) return std::nullopt;
      if (!lit.empty()) t.parts.push_back({std::move(lit), -1, {}});
      lit.clear();
      t.parts.push_back({"", r, std::move(alternatives)});
      i = close;
      continue;
    }
    if (c == '}') {
      error(codes::kTemplateInvalid, ptr, "unmatched '}' at offset " + std::to_string(i) + " (write '}}' for a brace)");
      return std::nullopt;
    }
    lit.push_back(c);
  }
  if (!lit.empty()) t.parts.push_back({std::move(lit), -1, {}});
  return t;
}

// Compiles {"capture": "step.capture" | ["step.capture", ...]} for a step whose events
// must provide the capture (a field name is captured implicitly).
void RuleCompiler::compile_joins(const json& spec, const std::string& ptr, const Step& st, int step_index,
                                 bool earlier_only, std::vector<Join>& out) {
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    Join jn;
    jn.capture = it.key();
    const std::string p = ptr_join(ptr, it.key());
    for (int e : st.events) {
      auto& ev = rule_->events[static_cast<std::size_t>(e)];
      if (std::find(ev.capture_names.begin(), ev.capture_names.end(), jn.capture) != ev.capture_names.end()) continue;
      if (valid_journal_field(jn.capture)) {
        ev.field_captures.push_back(CaptureSpec{jn.capture, {set_.schema.add(jn.capture)}});
        ev.capture_names.push_back(jn.capture);
      } else {
        error(codes::kCaptureUnknown, p, "event \"" + ev.name + "\" captures no value named \"" + jn.capture + "\"");
      }
    }
    std::vector<std::string> targets;
    if (it->is_string()) targets.push_back(it->get<std::string>());
    else if (it->is_array())
      for (const auto& t : *it)
        if (t.is_string()) targets.push_back(t.get<std::string>());
    if (targets.empty()) {
      error(codes::kTypeMismatch, p, "a join value is a reference \"step.capture\" or an array of them");
      continue;
    }
    for (const auto& t : targets) {
      const int r = ref(t, p, earlier_only, step_index);
      if (r >= 0) jn.refs.push_back(r);
    }
    if (!jn.refs.empty()) out.push_back(std::move(jn));
  }
}

void RuleCompiler::compile_correlate(const json& j, const std::string& ptr) {
  auto& corr = rule_->correlate;
  check_keys(j, ptr, {"sequence", "all_of", "count", "distinct", "within", "by", "until", "where", "unless", "emit"});
  int kinds = 0;
  for (auto k : {"sequence", "all_of", "count", "distinct"}) kinds += j.contains(k) ? 1 : 0;
  if (kinds != 1) {
    error(codes::kCorrelateInvalid, ptr, "\"correlate\" needs exactly one of \"sequence\", \"all_of\", \"count\", \"distinct\"");
    return;
  }
  corr.within = duration(j, "within", ptr);
  std::vector<const json*> join_specs;  // per step, its "join" object (or null)
  auto add_step = [&](const json& sj, const std::string& sp, bool allow_joins) {
    auto st = compile_step(sj, sp, allow_joins, false);
    if (!st) return;
    if (step_index_.count(st->name)) {
      error(codes::kStepDuplicate, sp, "two steps are named \"" + st->name + "\"; name one with \"as\"");
      return;
    }
    step_index_[st->name] = static_cast<int>(corr.steps.size());
    join_specs.push_back(sj.is_object() && sj.contains("join") && sj["join"].is_object() ? &sj["join"] : nullptr);
    corr.steps.push_back(std::move(*st));
  };
  if (const auto it = j.find("sequence"); it != j.end()) {
    corr.kind = Correlation::Kind::kSequence;
    const std::string sp = ptr_join(ptr, "sequence");
    if (!it->is_array() || it->empty()) {
      error(codes::kTypeMismatch, sp, "\"sequence\" is a non-empty array of steps");
      return;
    }
    for (std::size_t i = 0; i < it->size(); ++i) add_step((*it)[i], ptr_join(sp, i), true);
    if (corr.steps.size() != it->size()) return;
    bool any_required = false;
    for (std::size_t i = 0; i < corr.steps.size(); ++i) {
      const auto& st = corr.steps[i];
      if (!st.optional && !st.absent) any_required = true;
      if (st.absent && i + 1 < corr.steps.size() && corr.steps[i + 1].absent)
        error(codes::kStepInvalid, ptr_join(sp, i), "two absent steps in a row; merge them with \"any_of\"");
      if (st.absent && i + 1 == corr.steps.size() && !st.within && !corr.within)
        error(codes::kStepInvalid, ptr_join(sp, i), "a trailing absent step needs \"within\" (how long to wait for it)");
      if (st.absent && i == 0 && !st.within && !corr.within)
        error(codes::kStepInvalid, ptr_join(sp, i), "a leading absent step needs \"within\" (how far back to look)");
      if (st.optional && i + 1 == corr.steps.size())
        error(codes::kStepInvalid, ptr_join(sp, i), "the last step cannot be optional (nothing would wait for it)");
    }
    if (!any_required) error(codes::kStepInvalid, sp, "a sequence needs at least one step that is neither optional nor absent");
    if (corr.steps.size() > 1 && !corr.within) {
      bool all_gaps = true;
      for (std::size_t i = 1; i < corr.steps.size(); ++i) all_gaps = all_gaps && corr.steps[i].within.has_value();
      if (!all_gaps) error(codes::kKeyMissing, ptr, "a sequence of several steps needs \"within\" (its maximum span)");
    }
  } else if (const auto a = j.find("all_of"); a != j.end()) {
    corr.kind = Correlation::Kind::kAllOf;
    const std::string sp = ptr_join(ptr, "all_of");
    if (!a->is_array() || a->size() < 2) {
      error(codes::kTypeMismatch, sp, "\"all_of\" is an array of at least two steps");
      return;
    }
    for (std::size_t i = 0; i < a->size(); ++i) {
      add_step((*a)[i], ptr_join(sp, i), false);
      if (!corr.steps.empty() && (corr.steps.back().optional || corr.steps.back().absent || corr.steps.back().repeat_min != 1))
        error(codes::kStepInvalid, ptr_join(sp, i), "\"all_of\" members cannot be optional, absent or repeated");
    }
    if (!corr.within) error(codes::kKeyMissing, ptr, "\"all_of\" needs \"within\"");
  } else {
    const bool is_count = j.contains("count");
    corr.kind = is_count ? Correlation::Kind::kCount : Correlation::Kind::kDistinct;
    const std::string key = is_count ? "count" : "distinct";
    const std::string sp = ptr_join(ptr, key);
    const json& c = j[key];
    if (!c.is_object()) {
      error(codes::kTypeMismatch, sp, "\"" + key + "\" is an object");
      return;
    }
    if (is_count) check_keys(c, sp, {"event", "any_of", "as", "min"});
    else check_keys(c, sp, {"event", "any_of", "as", "min", "value"});
    json step = json::object();
    for (auto k : {"event", "any_of", "as"})
      if (c.contains(k)) step[k] = c[k];
    add_step(step, sp, false);
    if (const json* m = member(c, "min", sp, json::value_t::number_unsigned, true)) {
      corr.min_count = m->get<std::uint32_t>();
      if (corr.min_count < 1 || corr.min_count > 100000) error(codes::kValueInvalid, ptr_join(sp, "min"), "\"min\" is from 1 to 100000");
    }
    if (!is_count) {
      if (const json* v = member(c, "value", sp, json::value_t::string, true)) {
        corr.distinct_capture = v->get<std::string>();
        if (!corr.steps.empty()) {
          // Validate (and implicitly capture) through the reference machinery.
          ref(corr.steps[0].name + "." + corr.distinct_capture, ptr_join(sp, "value"), false, -1);
        }
      }
    }
    if (!corr.within) error(codes::kKeyMissing, ptr, "\"" + key + "\" needs \"within\"");
  }
  // Joins and preferences (sequence only), now that every step has its index.
  const json seq = j.contains("sequence") ? j["sequence"] : json::array();
  for (std::size_t i = 0; i < corr.steps.size(); ++i) {
    const std::string sp = ptr_join(ptr_join(ptr, "sequence"), i);
    if (join_specs[i]) compile_joins(*join_specs[i], ptr_join(sp, "join"), corr.steps[i], static_cast<int>(i), true, corr.steps[i].joins);
    if (i < seq.size() && seq[i].is_object() && seq[i].contains("prefer")) {
      if (!seq[i]["prefer"].is_object()) error(codes::kTypeMismatch, ptr_join(sp, "prefer"), "\"prefer\" is an object like \"join\"");
      else compile_joins(seq[i]["prefer"], ptr_join(sp, "prefer"), corr.steps[i], static_cast<int>(i), true, corr.steps[i].prefer);
    }
  }
  // until
  if (auto u = j.find("until"); u != j.end()) {
    const std::string up = ptr_join(ptr, "until");
    std::vector<std::pair<const json*, std::string>> items;
    if (u->is_array()) for (std::size_t i = 0; i < u->size(); ++i) items.emplace_back(&(*u)[i], ptr_join(up, i));
    else items.emplace_back(&*u, up);
    if (corr.kind != Correlation::Kind::kSequence) error(codes::kCorrelateInvalid, up, "\"until\" applies to sequences");
    for (auto& [uj, p] : items) {
      auto st = compile_step(*uj, p, true, true);
      if (!st) continue;
      if (uj->is_object() && uj->contains("join") && (*uj)["join"].is_object())
        compile_joins((*uj)["join"], ptr_join(p, "join"), *st, -1, false, st->joins);
      corr.until.push_back(std::move(*st));
    }
  }
  // by
  for (const auto& name : string_array(j, "by", ptr)) {
    if (name == "_MACHINE_ID") continue;  // always part of the key unless the rule is global
    if (!valid_name(name) && !valid_journal_field(name)) {
      error(codes::kFieldInvalid, ptr_join(ptr, "by"), "\"" + name + "\" is neither a capture name nor a field name");
      continue;
    }
    // Every event of every step, and of every until (which ends only the partial matches
    // of its own group), must provide it: a capture of that name, or the field.
    for (const auto* steps : {&corr.steps, &corr.until}) {
      for (const auto& st : *steps) {
        for (int e : st.events) {
          auto& ev = rule_->events[static_cast<std::size_t>(e)];
          if (std::find(ev.capture_names.begin(), ev.capture_names.end(), name) != ev.capture_names.end()) continue;
          if (valid_journal_field(name)) {
            ev.field_captures.push_back(CaptureSpec{name, {set_.schema.add(name)}});
            ev.capture_names.push_back(name);
          } else {
            error(codes::kCaptureUnknown, ptr_join(ptr, "by"),
                  "group key \"" + name + "\" is not captured by event \"" + ev.name + "\"");
          }
        }
      }
    }
    corr.by_names.push_back(name);
  }
  if (const json* emit = member(j, "emit", ptr, json::value_t::string, false)) {
    if (*emit == "each") corr.emit_each = true;
    else if (*emit != "once") error(codes::kValueInvalid, ptr_join(ptr, "emit"), "\"emit\" is \"once\" or \"each\"");
  }
  if (auto w = j.find("where"); w != j.end())
    if (auto c = compile_condition(*w, ptr_join(ptr, "where"), true)) corr.where = std::move(*c);
  if (auto w = j.find("unless"); w != j.end())
    if (auto c = compile_condition(*w, ptr_join(ptr, "unless"), true)) corr.unless = std::move(*c);
}

std::unique_ptr<Rule> RuleCompiler::compile() {
  const json& j = raw_.body;
  const std::string& ptr = raw_.pointer;
  Rule& r = *rule_;
  r.origin = L_.files[raw_.file].origin;
  r.pointer = ptr;
  if (!j.is_object()) {
    error(codes::kTypeMismatch, ptr, "a rule must be an object, not " + type_name(j));
    return nullptr;
  }
  if (const json* id = member(j, "id", ptr, json::value_t::string, true)) {
    r.id = id->get<std::string>();
    if (!valid_rule_id(r.id)) error(codes::kIdInvalid, ptr_join(ptr, "id"), "rule ids are lower case letters, digits, '-', '_' and '.'");
  }
  check_keys(j, ptr, {"id", "title", "description", "severity", "attack", "tags", "references", "enabled", "scope",
                      "events", "correlate", "suppress", "values", "summary", "tests"});
  if (const json* t = member(j, "title", ptr, json::value_t::string, true)) r.title = t->get<std::string>();
  if (const json* d = member(j, "description", ptr, json::value_t::string, false)) r.description = d->get<std::string>();
  if (const json* s = member(j, "severity", ptr, json::value_t::string, true)) {
    if (auto sev = parse_severity(s->get<std::string>())) r.severity = *sev;
    else error(codes::kValueInvalid, ptr_join(ptr, "severity"), "severity is info, low, medium, high or critical");
  }
  r.attack = string_array(j, "attack", ptr);
  for (std::size_t i = 0; i < r.attack.size(); ++i) {
    static const RE2 kAttack("^(T[0-9]{4}(\\.[0-9]{3})?|TA[0-9]{4})$");
    if (!RE2::FullMatch(r.attack[i], kAttack))
      error(codes::kValueInvalid, ptr_join(ptr_join(ptr, "attack"), i), "\"" + r.attack[i] + "\" is not an ATT&CK id (T1053.006, TA0003)");
  }
  r.tags = string_array(j, "tags", ptr);
  string_array(j, "references", ptr);
  member(j, "enabled", ptr, json::value_t::boolean, false);
  if (const json* s = member(j, "scope", ptr, json::value_t::string, false)) {
    if (*s == "global") r.global = true;
    else if (*s != "host") error(codes::kValueInvalid, ptr_join(ptr, "scope"), "\"scope\" is \"host\" (default) or \"global\"");
  }
  const json* own_events = member(j, "events", ptr, json::value_t::object, !raw_.shared_events);
  if (own_events)
    for (auto it = own_events->begin(); it != own_events->end(); ++it)
      compile_event(it.key(), *it, ptr_join(ptr_join(ptr, "events"), it.key()));
  if (raw_.shared_events) {
    // Events the correlation names that the rule does not define come from the file's
    // shared "events".
    std::set<std::string> wanted;
    std::function<void(const json&, bool)> collect = [&](const json& x, bool in_steps) {
      if (x.is_string() && in_steps) wanted.insert(x.get<std::string>());
      if (x.is_array())
        for (const auto& y : x) collect(y, in_steps);
      if (x.is_object()) {
        for (auto it = x.begin(); it != x.end(); ++it) {
          if (it.key() == "event" && it->is_string()) wanted.insert(it->get<std::string>());
          else if (it.key() == "any_of") collect(*it, true);
          else if (it.key() == "sequence" || it.key() == "all_of" || it.key() == "until") collect(*it, true);
          else if (it.key() == "count" || it.key() == "distinct") collect(*it, false);
        }
      }
    };
    if (auto c = j.find("correlate"); c != j.end()) collect(*c, false);
    for (const auto& name : wanted) {
      if (event_index_.count(name)) continue;
      auto it = raw_.shared_events->find(name);
      if (it == raw_.shared_events->end()) continue;  // reported as an unknown event by the step
      compile_event(name, *it, "/events/" + escape_token(name));
    }
  }
  if (r.events.empty()) error(codes::kValueInvalid, ptr_join(ptr, "events"), "a rule needs at least one event");
  if (const json* c = member(j, "correlate", ptr, json::value_t::object, true)) compile_correlate(*c, ptr_join(ptr, "correlate"));
  // Events no step or until uses are almost always a mistake.
  for (const auto& ev : r.events) {
    bool used = false;
    for (const auto& st : r.correlate.steps) used = used || std::find(st.events.begin(), st.events.end(), ev.index) != st.events.end();
    for (const auto& st : r.correlate.until) used = used || std::find(st.events.begin(), st.events.end(), ev.index) != st.events.end();
    if (!used) warn(codes::kEventUnused, ptr_join(ptr_join(ptr, "events"), ev.name), "event \"" + ev.name + "\" is not used by the correlation");
  }
  if (const json* v = member(j, "values", ptr, json::value_t::object, false)) {
    // Plain references first, then templates, so that a template can name any value that
    // is a plain reference whatever the order of their names; values stay in name order.
    for (const bool templates : {false, true}) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        const std::string p = ptr_join(ptr_join(ptr, "values"), it.key());
        const bool is_template = it->is_string() && (it->get<std::string>().find_first_of("{}") != std::string::npos);
        if (!templates) {
          if (!valid_name(it.key())) { error(codes::kIdInvalid, p, "value names are lower case letters, digits and '_'"); continue; }
          const bool refs = it->is_array() && !it->empty() &&
                            std::all_of(it->begin(), it->end(), [](const json& x) {
                              return x.is_string() && x.get<std::string>().find_first_of("{}") == std::string::npos;
                            });
          if (!it->is_string() && !refs) {
            error(codes::kTypeMismatch, p,
                  "a value is a reference \"step.capture\", a template, or an array of references (the first "
                  "that has a value)");
            continue;
          }
          if (it->is_array()) {
            std::vector<int> rfs;
            for (std::size_t i = 0; i < it->size(); ++i)
              rfs.push_back(ref((*it)[i].get<std::string>(), ptr_join(p, i), false, -1));
            if (std::all_of(rfs.begin(), rfs.end(), [](int x) { return x >= 0; }))
              r.values.push_back({it.key(), rfs.front(), {}, std::vector<int>(rfs.begin() + 1, rfs.end())});
            continue;
          }
        }
        if (!valid_name(it.key()) || !it->is_string() || is_template != templates) continue;
        if (templates) {
          if (auto t = compile_template(it->get<std::string>(), p)) r.values.push_back({it.key(), -1, std::move(*t), {}});
        } else {
          const int rf = ref(it->get<std::string>(), p, false, -1);
          if (rf >= 0) r.values.push_back({it.key(), rf, {}, {}});
        }
      }
    }
    std::stable_sort(r.values.begin(), r.values.end(),
                     [](const Rule::OutputValue& x, const Rule::OutputValue& y) { return x.name < y.name; });
  }
  if (const json* s = member(j, "suppress", ptr, json::value_t::object, false)) {
    const std::string sp = ptr_join(ptr, "suppress");
    check_keys(*s, sp, {"by", "for"});
    Suppression sup;
    if (auto d = duration(*s, "for", sp)) sup.duration = *d;
    else if (!s->contains("for")) error(codes::kKeyMissing, sp, "missing required key \"for\"");
    const auto by = string_array(*s, "by", sp);
    for (std::size_t i = 0; i < by.size(); ++i) {
      int rf = -1;
      for (const auto& v : r.values)
        if (v.name == by[i] && v.ref >= 0) {
          if (!v.alternatives.empty())
            error(codes::kTypeMismatch, ptr_join(ptr_join(sp, "by"), i),
                  "value \"" + by[i] + "\" has alternatives; suppress by one reference \"step.capture\"");
          rf = v.ref;
        }
      if (rf < 0) rf = ref(by[i], ptr_join(ptr_join(sp, "by"), i), false, -1);
      if (rf >= 0) sup.by.push_back(rf);
    }
    r.suppress = std::move(sup);
  }
  if (const json* s = member(j, "summary", ptr, json::value_t::string, false))
    if (auto t = compile_template(s->get<std::string>(), ptr_join(ptr, "summary"))) r.summary = std::move(*t);
  if (const json* t = member(j, "tests", ptr, json::value_t::array, false)) {
    for (std::size_t i = 0; i < t->size(); ++i) {
      const std::string tp = ptr_join(ptr_join(ptr, "tests"), i);
      const json& tj = (*t)[i];
      if (!tj.is_object()) { error(codes::kTestInvalid, tp, "a test is an object"); continue; }
      check_keys(tj, tp, {"name", "events", "expect"});
      RuleTest rt;
      rt.pointer = tp;
      if (const json* n = member(tj, "name", tp, json::value_t::string, true)) rt.name = n->get<std::string>();
      if (const json* e = member(tj, "events", tp, json::value_t::array, true)) rt.events_json = e->dump();
      if (const json* x = member(tj, "expect", tp, json::value_t::array, true)) rt.expect_json = x->dump();
      r.tests.push_back(std::move(rt));
    }
  }
  // Detection feeds: rules whose detections this rule consumes, from its detection events' "rule" tests.
  for (const auto& ev : r.events) {
    if (!ev.from_detections) continue;
    std::function<void(const Condition&)> walk = [&](const Condition& c) {
      if (c.kind == Condition::Kind::kTest && set_.schema.name(c.field) == "rule" &&
          (c.test.op == ValueTest::Op::kEq || c.test.op == ValueTest::Op::kIn))
        for (const auto& s : c.test.strings) r.consumes_rules.push_back(s);
      for (const auto& ch : c.children) walk(ch);
    };
    walk(ev.where);
  }
  // The longest time any state of this rule lives.
  Micros w = r.correlate.within.value_or(0);
  Micros gaps = 0;
  for (const auto& st : r.correlate.steps) gaps += st.within.value_or(0);
  r.max_window = std::max(w, gaps);
  if (r.suppress) r.max_window = std::max(r.max_window, r.suppress->duration);
  r.source_hash = sha256_hex(j.dump() + (raw_.shared_events ? raw_.shared_events->dump() : std::string()));
  if (failed_ || skipped_) return nullptr;
  return std::move(rule_);
}

}  // namespace

RuleLoader::RuleLoader(LoadOptions options) : impl_(std::make_unique<Impl>()) { impl_->options = std::move(options); }
RuleLoader::~RuleLoader() = default;

const std::vector<Diagnostic>& RuleLoader::diagnostics() const { return impl_->diags; }

void RuleLoader::add(std::string_view text, std::string_view origin) {
  auto& L = *impl_;
  const std::size_t file = L.files.size();
  L.files.push_back({std::string(origin), std::string(text)});
  auto parsed = parse_json_text(text);
  if (!parsed) {
    const std::string msg = parsed.error().reason;
    const std::size_t at = parsed.error().offset;
    Diagnostic d;
    d.code = std::string(codes::kJsonSyntax);
    d.origin = std::string(origin);
    auto [line, col] = line_column(text, at);
    d.line = line;
    d.column = col;
    d.message = msg;
    L.diags.push_back(std::move(d));
    return;
  }
  json doc = std::move(*parsed);
  auto top_error = [&](std::string_view code, const std::string& ptr, std::string msg) {
    L.report(Severity::kError, code, file, ptr, "", std::move(msg));
  };
  if (!doc.is_object()) {
    top_error(codes::kTypeMismatch, "", "a rule file is an object: {\"rules\": [...], \"lists\": {...}} or one rule");
    return;
  }
  if (doc.contains("id") && !doc.contains("rules")) {
    L.raw_rules.push_back({std::move(doc), file, "", nullptr});
    return;
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() != "rules" && it.key() != "lists" && it.key() != "events" && it.key() != "description")
      top_error(codes::kKeyUnknown, ptr_join("", it.key()),
                "unknown key \"" + it.key() + "\" (a rule file has \"rules\", \"lists\", \"events\" and \"description\")");
  }
  std::shared_ptr<const json> shared_events;
  if (auto e = doc.find("events"); e != doc.end()) {
    if (!e->is_object()) top_error(codes::kTypeMismatch, "/events", "\"events\" must be an object of event definitions");
    else shared_events = std::make_shared<const json>(*e);
  }
  if (auto r = doc.find("rules"); r != doc.end()) {
    if (!r->is_array()) top_error(codes::kTypeMismatch, "/rules", "\"rules\" must be an array");
    else
      for (std::size_t i = 0; i < r->size(); ++i)
        L.raw_rules.push_back({(*r)[i], file, "/rules/" + std::to_string(i), shared_events});
  }
  if (auto l = doc.find("lists"); l != doc.end()) {
    if (!l->is_object()) top_error(codes::kTypeMismatch, "/lists", "\"lists\" must be an object");
    else
      for (auto it = l->begin(); it != l->end(); ++it)
        L.raw_lists.push_back({*it, file, ptr_join("/lists", it.key()), it.key()});
  }
}

std::unique_ptr<RuleSet> RuleLoader::finish() {
  auto& L = *impl_;
  auto set = std::make_unique<RuleSet>();
  // Lists first: rules refer to them by name.
  for (const auto& raw : L.raw_lists) {
    auto err = [&](std::string_view code, const std::string& p, std::string m) {
      L.report(Severity::kError, code, raw.file, p, "", std::move(m));
    };
    if (!valid_name(raw.name)) {
      // List names may use '-' too.
      const bool ok = !raw.name.empty() && std::all_of(raw.name.begin(), raw.name.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
      if (!ok) { err(codes::kIdInvalid, raw.pointer, "list names are lower case letters, digits, '-' and '_'"); continue; }
    }
    if (set->lists.count(raw.name)) { err(codes::kListDuplicate, raw.pointer, "a list named \"" + raw.name + "\" is already defined"); continue; }
    auto list = std::make_unique<ValueList>();
    list->name = raw.name;
    std::vector<std::string> values;
    bool ok = true;
    auto take_values = [&](const json& arr, const std::string& p) {
      for (std::size_t i = 0; i < arr.size(); ++i) {
        if (!arr[i].is_string()) { err(codes::kTypeMismatch, ptr_join(p, i), "list values are strings"); ok = false; continue; }
        values.push_back(arr[i].get<std::string>());
      }
    };
    if (raw.body.is_array()) {
      take_values(raw.body, raw.pointer);
    } else if (raw.body.is_object()) {
      for (auto it = raw.body.begin(); it != raw.body.end(); ++it)
        if (it.key() != "match" && it.key() != "values" && it.key() != "file" && it.key() != "description" &&
            it.key() != "baseline") {
          err(codes::kKeyUnknown, ptr_join(raw.pointer, it.key()),
              "unknown key \"" + it.key() + "\" (a list has \"match\", \"values\", \"file\", \"baseline\")");
          ok = false;
        }
      if (auto b = raw.body.find("baseline"); b != raw.body.end()) {
        // Values from the timer baseline, through the caller: the core reads no file.
        const std::string bp = ptr_join(raw.pointer, "baseline");
        if (raw.body.contains("values") || raw.body.contains("file") || raw.body.contains("match")) {
          err(codes::kValueInvalid, bp, "a baseline list takes no \"values\", \"file\" or \"match\"");
          continue;
        }
        if (!b->is_string()) { err(codes::kTypeMismatch, bp, "\"baseline\" names what to take from the baseline"); continue; }
        const std::string selector = b->get<std::string>();
        if (std::find(std::begin(kBaselineSelectors), std::end(kBaselineSelectors), selector) ==
            std::end(kBaselineSelectors)) {
          err(codes::kValueInvalid, bp,
              "unknown baseline selector \"" + selector + "\" (timers, services, new, changed, drifted, machine-id)");
          continue;
        }
        if (!L.options.baseline_list) {
          L.baseline_lists_absent.insert(raw.name);
          L.report(Severity::kWarning, codes::kBaselineMissing, raw.file, bp, "",
                   "list \"" + raw.name + "\" comes from a baseline and none was given (jcorr replay --baseline FILE; "
                   "daemon: \"baseline\": {\"file\": ...}); the rules using it are left out");
          continue;
        }
        auto lookup = L.options.baseline_list(selector);
        if (!lookup.test) {
          L.baseline_lists_absent.insert(raw.name);
          L.report(Severity::kWarning, codes::kBaselineMissing, raw.file, bp, "",
                   "list \"" + raw.name + "\" is unavailable: " + lookup.unavailable +
                       "; the rules using it are left out");
          continue;
        }
        list->lookup = std::move(lookup.test);
        set->lists.emplace(raw.name, std::move(list));
        continue;
      }
      if (auto m = raw.body.find("match"); m != raw.body.end()) {
        if (*m == "exact") list->mode = ValueList::Mode::kExact;
        else if (*m == "prefix") list->mode = ValueList::Mode::kPrefix;
        else if (*m == "regex") list->mode = ValueList::Mode::kRegex;
        else { err(codes::kValueInvalid, ptr_join(raw.pointer, "match"), "\"match\" is exact, prefix or regex"); ok = false; }
      }
      if (auto v = raw.body.find("values"); v != raw.body.end()) {
        if (v->is_array()) take_values(*v, ptr_join(raw.pointer, "values"));
        else { err(codes::kTypeMismatch, ptr_join(raw.pointer, "values"), "\"values\" is an array of strings"); ok = false; }
      }
      if (auto f = raw.body.find("file"); f != raw.body.end()) {
        if (!f->is_string()) { err(codes::kTypeMismatch, ptr_join(raw.pointer, "file"), "\"file\" is a path"); ok = false; }
        else if (!L.options.read_file) { err(codes::kListUnreadable, ptr_join(raw.pointer, "file"), "list files cannot be read here"); ok = false; }
        else {
          auto text = L.options.read_file(L.files[raw.file].origin, f->get<std::string>());
          if (!text) { err(codes::kListUnreadable, ptr_join(raw.pointer, "file"), text.error()); ok = false; }
          else {
            // One value a line; '#' starts a comment line; blank lines are skipped.
            std::string_view rest = *text;
            while (!rest.empty()) {
              auto nl = rest.find('\n');
              std::string_view line = rest.substr(0, nl);
              rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
              while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
              while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
              if (line.empty() || line.front() == '#') continue;
              values.emplace_back(line);
            }
          }
        }
      }
    } else {
      err(codes::kTypeMismatch, raw.pointer, "a list is an array of strings or an object with \"values\" or \"file\"");
      continue;
    }
    if (!ok) continue;
    switch (list->mode) {
      case ValueList::Mode::kExact: list->exact.insert(values.begin(), values.end()); break;
      case ValueList::Mode::kPrefix: list->prefixes = values; break;
      case ValueList::Mode::kRegex: {
        std::string alternation;
        for (std::size_t i = 0; i < values.size(); ++i) {
          RE2::Options one;
          one.set_log_errors(false);
          RE2 check(values[i], one);
          if (!check.ok()) {
            err(codes::kRegexInvalid, raw.pointer, "list entry " + std::to_string(i) + ": " + check.error());
            ok = false;
          }
          alternation += (i ? "|(?:" : "(?:") + values[i] + ")";
        }
        if (!ok) break;
        RE2::Options opts;
        opts.set_log_errors(false);
        opts.set_max_mem(L.options.regex_max_mem);
        list->regex = std::make_shared<RE2>(values.empty() ? std::string("$^") : alternation, opts);
        if (!list->regex->ok()) {
          err(codes::kRegexTooLarge, raw.pointer, "the list's regexes do not compile together: " + list->regex->error());
          ok = false;
        }
        break;
      }
    }
    if (ok) set->lists.emplace(raw.name, std::move(list));
  }
  // Rules.
  std::unordered_map<std::string, std::pair<std::size_t, std::string>> seen;  // id -> (file, pointer)
  std::vector<std::unique_ptr<Rule>> compiled;
  for (const auto& raw : L.raw_rules) {
    if (raw.body.is_object()) {
      auto en = raw.body.find("enabled");
      if (en != raw.body.end() && en->is_boolean() && !en->get<bool>() && !L.options.include_disabled) continue;
      auto id = raw.body.find("id");
      if (id != raw.body.end() && id->is_string()) {
        const std::string sid = id->get<std::string>();
        if (auto prev = seen.find(sid); prev != seen.end()) {
          L.report(Severity::kError, codes::kIdDuplicate, raw.file, ptr_join(raw.pointer, "id"), sid,
                   "rule id \"" + sid + "\" is already used at " + L.files[prev->second.first].origin + ":" + prev->second.second);
          continue;
        }
        seen[sid] = {raw.file, raw.pointer};
      }
    }
    RuleCompiler rc(L, *set, raw);
    if (auto rule = rc.compile()) compiled.push_back(std::move(rule));
  }
  // Link detection feeds and order producers before consumers.
  std::unordered_map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < compiled.size(); ++i) by_id[compiled[i]->id] = i;
  // Tarjan's strongly connected components: a component is finished only after every
  // component it consumes from, so `order` lists producers first. The rules of a component
  // that feeds itself (several rules, or one consuming its own detections) are refused;
  // a rule that merely consumes from such a component is not part of the cycle.
  const std::size_t n = compiled.size();
  std::vector<std::size_t> order;
  std::vector<bool> drop(n, false);
  std::vector<long> index(n, -1), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<std::size_t> stack;
  long counter = 0;
  auto file_of = [&](const Rule& r) {
    // Rules are compiled per file: look up the file index through the rule's origin.
    std::size_t file = 0;
    for (std::size_t f = 0; f < L.files.size(); ++f)
      if (L.files[f].origin == r.origin) file = f;
    return file;
  };
  std::function<void(std::size_t)> visit = [&](std::size_t i) {
    index[i] = low[i] = counter++;
    stack.push_back(i);
    on_stack[i] = true;
    for (const auto& dep : compiled[i]->consumes_rules) {
      auto it = by_id.find(dep);
      if (it == by_id.end()) {
        L.report(Severity::kWarning, codes::kRuleUnknown, file_of(*compiled[i]), compiled[i]->pointer, compiled[i]->id,
                 "consumes detections of rule \"" + dep + "\", which is not loaded");
        continue;
      }
      const std::size_t j = it->second;
      if (index[j] < 0) {
        visit(j);
        low[i] = std::min(low[i], low[j]);
      } else if (on_stack[j]) {
        low[i] = std::min(low[i], index[j]);
      }
    }
    if (low[i] != index[i]) return;
    std::vector<std::size_t> component;
    std::size_t k = 0;
    do {
      k = stack.back();
      stack.pop_back();
      on_stack[k] = false;
      component.push_back(k);
    } while (k != i);
    std::sort(component.begin(), component.end());
    auto in_component = [&](const std::string& id) {
      auto f = by_id.find(id);
      return f != by_id.end() && std::binary_search(component.begin(), component.end(), f->second);
    };
    for (std::size_t m : component) {
      const auto& deps = compiled[m]->consumes_rules;
      auto through = std::find_if(deps.begin(), deps.end(), in_component);
      if (through != deps.end()) {
        drop[m] = true;
        L.report(Severity::kError, codes::kRuleCycle, file_of(*compiled[m]), compiled[m]->pointer, compiled[m]->id,
                 "detections feed back into this rule through \"" + *through + "\" (a cycle)");
      }
      order.push_back(m);
    }
  };
  for (std::size_t i = 0; i < n; ++i)
    if (index[i] < 0) visit(i);
  for (std::size_t i : order) {
    if (drop[i]) continue;
    set->max_window = std::max(set->max_window, compiled[i]->max_window);
    set->rules.push_back(std::move(compiled[i]));
  }
  return set;
}

}  // namespace jcorr::core
