// Compiled rules: what the loader produces from JSON and the correlator runs.
//
// A rule has named event definitions (predicates over one entry's fields, plus the
// values they capture) and one correlation over them (sequence, all_of, count or
// distinct), grouped per host and optional keys, with suppression and output. The
// language itself is documented in docs/rules.md and at the top of rule_loader.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "jcorr/core/event.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace jcorr::core {

using Micros = std::int64_t;

enum class RuleSeverity { kInfo, kLow, kMedium, kHigh, kCritical };
std::string_view to_string(RuleSeverity s);
std::optional<RuleSeverity> parse_severity(std::string_view s);

// A named list of values (allowlists, baselines) with its matching mode.
struct ValueList {
  enum class Mode { kExact, kPrefix, kRegex };
  std::string name;
  Mode mode = Mode::kExact;
  std::unordered_set<std::string> exact;
  std::vector<std::string> prefixes;
  std::shared_ptr<re2::RE2> regex;  // one anchored alternation of every entry, for kRegex
  // A membership test supplied by the loader's caller (a baseline list, see
  // LoadOptions::baseline_list); when set it decides alone. It may consult state the
  // caller keeps up to date (the unit files on disk), so its answer can change between
  // calls; it must not throw.
  std::function<bool(std::string_view)> lookup;
  // True when value is in the list under the list's mode.
  bool contains(std::string_view value) const;
};

// One test on the values of a field (or of a captured value). A value test holds for
// a multi-valued field when any of its values passes.
struct ValueTest {
  enum class Op { kEq, kIn, kPrefix, kSuffix, kContains, kRegex, kNumGt, kNumGe, kNumLt, kNumLe, kExists, kInList };
  Op op = Op::kEq;
  std::vector<std::string> strings;  // kEq (one), kIn, kPrefix, kSuffix, kContains (any of)
  std::unordered_set<std::string> string_set;  // kIn with many values
  std::shared_ptr<re2::RE2> regex;   // kRegex
  std::vector<std::pair<int, std::string>> regex_captures;  // group index -> capture name
  double number = 0;                 // numeric comparisons
  bool exists = true;                // kExists
  const ValueList* list = nullptr;   // kInList
};

// A predicate tree over one entry. Leaves test one field (or, in correlation-level
// conditions, one reference); inner nodes combine with all / any / not.
struct Condition {
  enum class Kind { kAll, kAny, kNot, kTest };
  Kind kind = Kind::kAll;
  std::vector<Condition> children;
  FieldId field = 0;      // kTest on an event field
  int ref = -1;           // kTest on a correlation reference (index into Rule::refs)
  ValueTest test;
};

// A value an event definition extracts: from a field (first present of several), or from
// a regex named group (registered in the ValueTest).
struct CaptureSpec {
  std::string name;
  std::vector<FieldId> fields;  // first present wins
};

struct EventDef {
  std::string name;
  bool from_detections = false;   // matches detections of other rules, not journal entries
  Condition where;
  std::vector<CaptureSpec> field_captures;
  std::vector<std::string> capture_names;  // every name this event can capture (fields + regex groups)
  std::vector<FieldId> evidence_fields;    // fields shown in evidence (the ones the predicate uses)
  int index = 0;                           // position in Rule::events
};

// A reference to a value captured by a step: "step.name".
struct Ref {
  std::string text;   // as written
  int step = -1;      // index into the correlation's steps; -1 for group/host refs
  std::string name;   // capture name
  bool host = false;  // _MACHINE_ID / _HOSTNAME of the group
};

// One join condition: this event's capture equals one of the referenced values.
struct Join {
  std::string capture;      // capture of the event being matched
  std::vector<int> refs;    // indices into Rule::refs (any may match)
};

struct Step {
  std::string name;               // "as", or the event name
  std::vector<int> events;        // alternatives (indices into Rule::events)
  std::vector<Join> joins;
  // Attribution: when several partial matches could take an entry at this step, only
  // those for which these joins hold take it, if there is any such one.
  std::vector<Join> prefer;
  bool optional = false;
  bool absent = false;
  std::uint32_t repeat_min = 1;   // runs: how many matches are required
  bool repeat_more = false;       // "N+": further matches are absorbed as evidence
  std::optional<Micros> within;   // gap from the previous step (absent: its deadline)
};

struct Correlation {
  enum class Kind { kSequence, kAllOf, kCount, kDistinct };
  Kind kind = Kind::kSequence;
  std::vector<Step> steps;          // sequence / all_of members / the one counted step
  std::optional<Micros> within;     // maximum span
  std::vector<Step> until;          // any of these ends a partial match it joins
  std::vector<int> by;              // extra group keys (indices into Rule::refs, step = -1 means per event)
  std::vector<std::string> by_names;
  std::uint32_t min_count = 0;      // count / distinct threshold
  std::string distinct_capture;     // distinct: capture name counted
  bool emit_each = false;           // sequence: keep the prefix after completion
  std::optional<Condition> where;   // over refs, must hold to emit
  std::optional<Condition> unless;  // over refs, drops the detection (allowlist)
};

struct Suppression {
  std::vector<int> by;  // refs
  Micros duration = 0;
};

// A template "text {ref} text" split into literal and reference parts.
struct Template {
  struct Part {
    std::string literal;
    int ref = -1;
    std::vector<int> alternatives;  // refs tried in order when ref has no value
  };
  std::vector<Part> parts;
};

struct RuleTest {
  std::string name;
  std::string events_json;  // the raw events array, re-parsed when the test runs
  std::string expect_json;  // the raw expectations
  std::string pointer;
};

struct Rule {
  std::string id;
  std::string title;
  std::string description;
  RuleSeverity severity = RuleSeverity::kMedium;
  std::vector<std::string> attack;
  std::vector<std::string> tags;
  bool global = false;              // correlates across hosts
  std::string origin;               // file it came from
  std::string pointer;              // JSON pointer of the rule in that file
  std::string source_hash;          // hash of the rule's canonical JSON (reload keeps state when equal)
  std::vector<EventDef> events;
  Correlation correlate;
  std::optional<Suppression> suppress;
  std::vector<Ref> refs;            // every reference the rule uses
  struct OutputValue {
    std::string name;
    int ref = -1;      // a reference, or
    Template text;     // a template, when ref < 0
    std::vector<int> alternatives;  // with ref: refs tried in order when ref has no value
  };
  std::vector<OutputValue> values;  // output values, in name order
  Template summary;
  std::vector<RuleTest> tests;
  std::vector<std::string> consumes_rules;  // rule ids whose detections feed this rule
  Micros max_window = 0;            // longest span any state of this rule lives
};

// Every loaded rule with the lists they use and the schema of the fields they read.
struct RuleSet {
  std::vector<std::unique_ptr<Rule>> rules;  // detection consumers come after their producers
  std::unordered_map<std::string, std::unique_ptr<ValueList>> lists;
  FieldSchema schema;  // fields the rules read (plus the reserved ones)
  Micros max_window = 0;
  const Rule* find(std::string_view id) const;
};

}  // namespace jcorr::core
