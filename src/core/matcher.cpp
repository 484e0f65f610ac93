#include "jcorr/core/matcher.h"
#include "jcorr/core/utf8.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace jcorr::core {

void Captures::set(std::string_view name, std::string_view value, std::size_t limit) {
  for (auto& [n, v] : items)
    if (n == name) return;  // first capture of a name wins
  if (value.size() > limit) {
    value = value.substr(0, limit);
    ++truncated;
  }
  items.emplace_back(name, std::string(value));
}

namespace {

bool parse_number(std::string_view v, double& out) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (v.empty()) return false;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && p == v.data() + v.size();
}

// RE2 reads text as UTF-8: ".", \S and negated classes never match a byte that is not
// part of well-formed UTF-8, so one such byte would hide a whole log line from a pattern
// like "COMMAND=(.*)$" (a sudo command with one stray byte in an argument would go
// unseen). Such a value is matched with each ill-formed byte replaced by U+FFFD, which
// what the pattern captures then carries in the byte's place.
std::string_view well_formed(std::string_view v, std::string& scratch) {
  std::size_t i = 0;
  for (std::uint64_t w = 0; i + 8 <= v.size(); i += 8) {  // ASCII, eight bytes at a time
    std::memcpy(&w, v.data() + i, 8);
    if ((w & 0x8080808080808080ull) != 0) break;
  }
  while (i < v.size()) {
    const std::size_t n = utf8_sequence(v, i);
    if (n == 0) break;
    i += n;
  }
  if (i == v.size()) return v;
  scratch.assign(v.substr(0, i));
  while (i < v.size()) {
    const std::size_t n = utf8_sequence(v, i);
    if (n == 0) {
      scratch += "\xEF\xBF\xBD";
      ++i;
    } else {
      scratch.append(v.substr(i, n));
      i += n;
    }
  }
  return scratch;
}

bool test_value(const ValueTest& t, std::string_view v, Captures* caps, std::size_t limit) {
  using Op = ValueTest::Op;
  switch (t.op) {
    case Op::kEq: return v == t.strings[0];
    case Op::kIn:
      if (t.strings.size() <= 8) return std::find(t.strings.begin(), t.strings.end(), v) != t.strings.end();
      return t.string_set.find(std::string(v)) != t.string_set.end();
    case Op::kPrefix:
      return std::any_of(t.strings.begin(), t.strings.end(), [&](const std::string& s) { return v.starts_with(s); });
    case Op::kSuffix:
      return std::any_of(t.strings.begin(), t.strings.end(), [&](const std::string& s) { return v.ends_with(s); });
    case Op::kContains:
      return std::any_of(t.strings.begin(), t.strings.end(),
                         [&](const std::string& s) { return v.find(s) != std::string_view::npos; });
    case Op::kRegex: {
      std::string scratch;
      const std::string_view u = well_formed(v, scratch);
      const re2::StringPiece text(u.data(), u.size());
      if (t.regex_captures.empty() || !caps) return t.regex->Match(text, 0, text.size(), RE2::UNANCHORED, nullptr, 0);
      const int n = t.regex->NumberOfCapturingGroups() + 1;
      re2::StringPiece groups[32];
      std::vector<re2::StringPiece> big;
      re2::StringPiece* g = groups;
      if (n > 32) {
        big.resize(static_cast<std::size_t>(n));
        g = big.data();
      }
      if (!t.regex->Match(text, 0, text.size(), RE2::UNANCHORED, g, n)) return false;
      for (const auto& [index, name] : t.regex_captures)
        if (g[index].data() != nullptr) caps->set(name, std::string_view(g[index].data(), g[index].size()), limit);
      return true;
    }
    case Op::kNumGt:
    case Op::kNumGe:
    case Op::kNumLt:
    case Op::kNumLe: {
      double x = 0;
      if (!parse_number(v, x)) return false;
      return t.op == Op::kNumGt ? x > t.number : t.op == Op::kNumGe ? x >= t.number : t.op == Op::kNumLt ? x < t.number : x <= t.number;
    }
    case Op::kInList: return t.list->contains(v);
    case Op::kExists: return true;
  }
  return false;
}

// Cheap tests first: literal comparisons before regexes and lists, so that most
// candidates are rejected without running a regex.
int cost(const Condition& c) {
  if (c.kind != Condition::Kind::kTest) return 3;
  switch (c.test.op) {
    case ValueTest::Op::kRegex: return 4;
    case ValueTest::Op::kInList: return c.test.list && c.test.list->lookup ? 5 : 2;  // a baseline lookup may rescan
    default: return 0;
  }
}

}  // namespace

namespace {

// The evaluator, generic over how a leaf's values are enumerated: `values(leaf, fn)`
// calls fn(value) for each value until fn returns true. Instantiated directly for
// journal entries (the hot path, no std::function) and through ValuesOf for references.
template <class Values>
bool eval_impl(const Condition& c, const Values& values, Captures* caps, std::size_t limit) {
  switch (c.kind) {
    case Condition::Kind::kAll:
      for (const auto& ch : c.children)
        if (!eval_impl(ch, values, caps, limit)) return false;
      return true;
    case Condition::Kind::kAny:
      for (const auto& ch : c.children) {
        // An alternative can capture a regex group and then fail on a later test; what
        // it captured must not outlive it (the first capture of a name wins).
        const std::size_t before = caps ? caps->items.size() : 0;
        if (eval_impl(ch, values, caps, limit)) return true;
        if (caps) caps->items.erase(caps->items.begin() + static_cast<std::ptrdiff_t>(before), caps->items.end());
      }
      return false;
    case Condition::Kind::kNot:
      return !eval_impl(c.children[0], values, nullptr, limit);
    case Condition::Kind::kTest: {
      if (c.test.op == ValueTest::Op::kExists) {
        bool any = false;
        values(c, [&](std::string_view) { any = true; return true; });
        return any == c.test.exists;
      }
      bool hit = false;
      values(c, [&](std::string_view v) {
        hit = test_value(c.test, v, caps, limit);
        return hit;
      });
      return hit;
    }
  }
  return false;
}

struct EventValues {
  const Event& e;
  template <class Fn>
  void operator()(const Condition& leaf, Fn&& fn) const {
    e.find_value(leaf.field, std::forward<Fn>(fn));
  }
};

struct FunctionValues {
  const ValuesOf& f;
  template <class Fn>
  void operator()(const Condition& leaf, Fn&& fn) const {
    f(leaf, std::function<bool(std::string_view)>(std::forward<Fn>(fn)));
  }
};

}  // namespace

bool eval_condition(const Condition& c, const ValuesOf& values, Captures* caps, std::size_t limit) {
  return eval_impl(c, FunctionValues{values}, caps, limit);
}

void order_for_evaluation(Condition& c) {
  for (auto& ch : c.children) order_for_evaluation(ch);
  if (c.kind == Condition::Kind::kAll)
    std::stable_sort(c.children.begin(), c.children.end(), [](const Condition& a, const Condition& b) { return cost(a) < cost(b); });
}

namespace {

// Field selectivity for choosing the anchor: the most specific identifiers first.
int anchor_rank(std::string_view field) {
  if (field == "MESSAGE_ID") return 0;
  if (field == "_COMM" || field == "_EXE" || field == "SYSLOG_IDENTIFIER") return 1;
  if (field == "_SYSTEMD_UNIT" || field == "UNIT" || field == "USER_UNIT") return 2;
  if (field == "_PID") return 3;
  if (field == "_UID") return 5;
  if (field == "_TRANSPORT") return 6;
  return 4;
}
// Appends a text that is equal for two conditions exactly when they are the same
// compiled predicate (same fields, operators, literals, regexes with their options,
// lists), so that identical event definitions can share one evaluation.
void signature(const Condition& c, std::string& out) {
  auto num = [&](auto v) {
    out += std::to_string(v);
    out += ',';
  };
  auto str = [&](std::string_view v) {
    num(v.size());
    out += v;
  };
  num(static_cast<int>(c.kind));
  num(c.field);
  num(c.ref);
  const ValueTest& t = c.test;
  num(static_cast<int>(t.op));
  num(t.strings.size());
  for (const auto& v : t.strings) str(v);
  if (t.regex) {
    const RE2::Options& o = t.regex->options();
    str(t.regex->pattern());
    num(static_cast<int>(o.encoding()));
    num(o.posix_syntax());
    num(o.longest_match());
    num(o.literal());
    num(o.never_nl());
    num(o.dot_nl());
    num(o.never_capture());
    num(o.case_sensitive());
    num(o.perl_classes());
    num(o.word_boundary());
    num(o.one_line());
    num(o.max_mem());
  } else {
    out += '-';
  }
  num(t.regex_captures.size());
  for (const auto& [index, name] : t.regex_captures) {
    num(index);
    str(name);
  }
  char number[64];
  const auto written = std::to_chars(number, number + sizeof number, t.number);
  str(std::string_view(number, static_cast<std::size_t>(written.ptr - number)));
  num(t.exists);
  num(reinterpret_cast<std::uintptr_t>(t.list));
  out += '(';
  for (const auto& ch : c.children) signature(ch, out);
  out += ')';
}

// Whether a regex group of c names `name` (regex captures win over field captures).
bool regex_captures(const Condition& c, std::string_view name) {
  for (const auto& [group, n] : c.test.regex_captures)
    if (n == name) return true;
  for (const auto& ch : c.children)
    if (regex_captures(ch, name)) return true;
  return false;
}

// The field capture `name` of d, when d captures it from fields only.
const CaptureSpec* field_capture(const EventDef& d, std::string_view name) {
  if (regex_captures(d.where, name)) return nullptr;
  for (const auto& spec : d.field_captures)
    if (spec.name == name) return &spec;
  return nullptr;
}

std::string signature(const EventDef& d) {
  std::string out;
  signature(d.where, out);
  for (const auto& spec : d.field_captures) {
    out += '|';
    out += std::to_string(spec.name.size()) + ',' + spec.name;
    for (FieldId f : spec.fields) out += ',' + std::to_string(f);
  }
  return out;
}

}  // namespace

Matcher::Matcher(const RuleSet& rules, std::size_t capture_limit) : rules_(rules), capture_limit_(capture_limit) {
  for (std::size_t r = 0; r < rules.rules.size(); ++r) {
    const auto& rule = *rules.rules[r];
    for (const auto& ev : rule.events) {
      (ev.from_detections ? detection_defs_ : defs_).push_back({r, ev.index, &ev});
    }
  }
  anchor_values_.resize(defs_.size());
  for (std::size_t i = 0; i < defs_.size(); ++i) {
    const Condition& w = defs_[i].def->where;
    const Condition* best = nullptr;
    auto consider = [&](const Condition& c) {
      if (c.kind != Condition::Kind::kTest || c.ref >= 0) return;
      if (c.test.op != ValueTest::Op::kEq && c.test.op != ValueTest::Op::kIn) return;
      if (!best || anchor_rank(rules.schema.name(c.field)) < anchor_rank(rules.schema.name(best->field))) best = &c;
    };
    if (w.kind == Condition::Kind::kAll) for (const auto& ch : w.children) consider(ch);
    else consider(w);
    if (!best) {
      unanchored_.push_back(i);
      continue;
    }
    auto it = std::find_if(anchors_.begin(), anchors_.end(), [&](const Anchor& a) { return a.field == best->field; });
    if (it == anchors_.end()) {
      anchors_.push_back({best->field, {}});
      it = anchors_.end() - 1;
    }
    for (const auto& v : best->test.strings) {
      auto& list = it->by_value[v];
      if (std::find(list.begin(), list.end(), i) == list.end()) list.push_back(i);
    }
    anchor_values_[i] = {std::string(rules.schema.name(best->field)), best->test.strings};
  }
  seen_.assign(defs_.size(), 0);
  std::unordered_map<std::string, std::size_t> classes;
  class_of_.reserve(defs_.size());
  for (const auto& d : defs_) class_of_.push_back(classes.emplace(signature(*d.def), classes.size()).first->second);
  outcomes_.resize(classes.size());
}

void Matcher::evaluate(const Def& d, const Event& e, std::vector<EventMatch>& out) {
  Captures caps;
  if (!eval_impl(d.def->where, EventValues{e}, &caps, capture_limit_)) return;
  for (const auto& spec : d.def->field_captures) {
    if (caps.find(spec.name)) continue;
    for (FieldId f : spec.fields) {
      if (auto v = e.get(f)) {
        caps.set(spec.name, *v, capture_limit_);
        break;
      }
    }
  }
  out.push_back({d.rule, d.event, std::move(caps)});
}

void Matcher::evaluate_shared(std::size_t i, const Event& e, std::vector<EventMatch>& out) {
  const Def& d = defs_[i];
  Outcome& o = outcomes_[class_of_[i]];
  if (o.generation != generation_) {
    o.generation = generation_;
    o.captures.items.clear();
    o.captures.truncated = 0;
    o.hit = eval_impl(d.def->where, EventValues{e}, &o.captures, capture_limit_);
    if (o.hit) {
      for (const auto& spec : d.def->field_captures) {
        if (o.captures.find(spec.name)) continue;
        for (FieldId f : spec.fields) {
          if (auto v = e.get(f)) {
            o.captures.set(spec.name, *v, capture_limit_);
            break;
          }
        }
      }
    }
  }
  if (o.hit) out.push_back({d.rule, d.event, o.captures});
}

void Matcher::match(const Event& e, std::vector<EventMatch>& out) {
  out.clear();
  if (++generation_ == 0) {
    std::fill(seen_.begin(), seen_.end(), 0);
    for (auto& o : outcomes_) o.generation = 0;
    generation_ = 1;
  }
  candidates_.clear();
  for (const auto& a : anchors_) {
    e.for_each_value(a.field, [&](std::string_view v) {
      auto it = a.by_value.find(v);  // transparent: no temporary string
      if (it == a.by_value.end()) return;
      for (std::size_t i : it->second)
        if (seen_[i] != generation_) {
          seen_[i] = generation_;
          candidates_.push_back(i);
        }
    });
  }
  for (std::size_t i : unanchored_) candidates_.push_back(i);
  std::sort(candidates_.begin(), candidates_.end());  // rule order, then event order: deterministic
  for (std::size_t i : candidates_) evaluate_shared(i, e, out);
}

void Matcher::match_detection(const Event& e, std::vector<EventMatch>& out) {
  out.clear();
  for (const auto& d : detection_defs_) evaluate(d, e, out);
}

std::vector<std::pair<std::string, std::string>> Matcher::full_scan_events() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i : unanchored_) out.emplace_back(rules_.rules[defs_[i].rule]->id, defs_[i].def->name);
  return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> Matcher::pushdown() const {
  if (!unanchored_.empty()) return {};
  return anchor_values_;
}

std::vector<std::pair<std::string, std::vector<std::string>>> Matcher::anchored_pushdown() const {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (std::size_t i = 0; i < defs_.size(); ++i)
    if (std::find(unanchored_.begin(), unanchored_.end(), i) == unanchored_.end()) out.push_back(anchor_values_[i]);
  return out;
}

std::vector<Matcher::DeferredScan> Matcher::deferred_scans() const {
  std::vector<DeferredScan> out;
  for (std::size_t i : unanchored_) {
    const Def& d = defs_[i];
    const Rule& rule = *rules_.rules[d.rule];
    const Correlation& c = rule.correlate;
    if (c.kind != Correlation::Kind::kSequence) return {};
    DeferredScan scan{rule.id, d.def->name, {}, {}};
    auto add = [](std::vector<std::string>& to, std::string_view v) {
      if (std::find(to.begin(), to.end(), v) == to.end()) to.emplace_back(v);
    };
    // Whether the step (an `until` step when index == steps.size()) either does not use
    // the definition or joins one of its field captures to detection values. A join is
    // only checked when its referenced step has a member (correlator.cpp, joins_hold):
    // for a sequence step the referenced step must be an earlier required one, which
    // also means this step never starts a partial match; an `until` step is skipped
    // while its reference is missing, so any step will do there.
    auto deferrable = [&](const Step& s, std::size_t index) {
      if (std::find(s.events.begin(), s.events.end(), d.event) == s.events.end()) return true;
      const bool until = index == c.steps.size();
      for (const Join& j : s.joins) {
        const CaptureSpec* mine = field_capture(*d.def, j.capture);
        if (!mine || j.refs.empty()) continue;
        std::vector<std::string> values;
        bool ok = true;
        for (int r : j.refs) {
          const Ref& ref = rule.refs[static_cast<std::size_t>(r)];
          if (ref.host || ref.step < 0 || static_cast<std::size_t>(ref.step) >= c.steps.size() ||
              (!until && static_cast<std::size_t>(ref.step) >= index)) {
            ok = false;
            break;
          }
          const Step& from = c.steps[static_cast<std::size_t>(ref.step)];
          if (!until && (from.optional || from.absent)) {
            ok = false;
            break;
          }
          for (int e : from.events) {
            const EventDef& source = rule.events[static_cast<std::size_t>(e)];
            const CaptureSpec* cap = source.from_detections ? field_capture(source, ref.name) : nullptr;
            if (!cap) {
              ok = false;
              break;
            }
            for (FieldId f : cap->fields) values.emplace_back(rules_.schema.name(f));
          }
          if (!ok) break;
        }
        if (!ok) continue;
        for (FieldId f : mine->fields) add(scan.fields, rules_.schema.name(f));
        for (const auto& v : values) add(scan.detection_values, v);
        return true;
      }
      return false;
    };
    for (std::size_t k = 0; k < c.steps.size(); ++k)
      if (!deferrable(c.steps[k], k)) return {};
    for (const auto& u : c.until)
      if (!deferrable(u, c.steps.size())) return {};
    out.push_back(std::move(scan));
  }
  return out;
}

}  // namespace jcorr::core
