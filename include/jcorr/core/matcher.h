// The router: which event definitions of which rules an entry matches, and the values
// each match captures.
//
// Each event definition is indexed by one exact constraint it requires (a field that
// must equal one of a few literals, e.g. MESSAGE_ID, _COMM, _PID), chosen for
// selectivity; an entry only has its candidate definitions evaluated, literal tests
// before regexes. Definitions that compile to the same predicate and captures (rules
// of a pack repeat them) are evaluated once per entry. Definitions without such a
// constraint are evaluated for every entry (and `jcorr rules check` says so).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "jcorr/core/event.h"
#include "jcorr/core/rule.h"

namespace jcorr::core {

// Values captured by one event match: (capture name, value). Values are copies, cut to
// the configured capture limit.
struct Captures {
  std::vector<std::pair<std::string_view, std::string>> items;
  std::uint32_t truncated = 0;  // values set() cut to the limit
  const std::string* find(std::string_view name) const {
    for (const auto& [n, v] : items)
      if (n == name) return &v;
    return nullptr;
  }
  void set(std::string_view name, std::string_view value, std::size_t limit);
};

struct EventMatch {
  std::size_t rule = 0;  // index in RuleSet::rules
  int event = 0;         // index in Rule::events
  Captures captures;
};

// Evaluates a condition; `values(leaf, fn)` calls fn(value) for each value of the leaf's
// subject and stops when fn returns true. Regex groups are captured into caps (may be
// null) along the path that made the condition true.
using ValuesOf = std::function<bool(const Condition& leaf, const std::function<bool(std::string_view)>& fn)>;
bool eval_condition(const Condition& c, const ValuesOf& values, Captures* caps, std::size_t capture_limit);

// Orders every all-node's children cheapest first (literal tests before lists, regexes
// last), recursively. The loader calls it once per compiled condition.
void order_for_evaluation(Condition& c);

class Matcher {
 public:
  Matcher(const RuleSet& rules, std::size_t capture_limit);

  // Fills out (cleared first) with every journal event definition e matches, in rule
  // order, then event order. Detection events are matched with match_detection.
  void match(const Event& e, std::vector<EventMatch>& out);
  void match_detection(const Event& e, std::vector<EventMatch>& out);

  // Event definitions that have no indexable exact constraint: (rule id, event name).
  std::vector<std::pair<std::string, std::string>> full_scan_events() const;

  // The exact constraints that every journal event definition carries, as
  // (field, values) alternatives, when all of them have one; empty when some
  // definition needs a full scan. Used to push matches down into sd-journal.
  std::vector<std::pair<std::string, std::vector<std::string>>> pushdown() const;

  // A definition without an exact constraint whose entries can still be skipped until
  // some detection names them: every step that uses it is a sequence step after a
  // required step, and joins one of its field captures (`fields`, first present) to a
  // capture that a detection event took from the detection value `detection_value`
  // (rule, title, severity, a value name, or MESSAGE/_MACHINE_ID/_HOSTNAME). Such an
  // entry can only take part in a correlation when one of its `fields` equals that
  // value of a detection of the same replay, so reading the entries whose `fields`
  // equal the detections' values (besides the anchored ones) gives the same result as
  // reading every entry.
  struct DeferredScan {
    std::string rule;                      // rule id, for messages
    std::string event;                     // event name
    std::vector<std::string> fields;       // the joined capture's fields
    std::vector<std::string> detection_values;  // detection values it may equal
  };
  // One entry per unanchored definition when every unanchored definition is deferrable
  // as above; empty when there is none or one is not.
  std::vector<DeferredScan> deferred_scans() const;

  // The exact constraints of the anchored definitions only, as pushdown() would return
  // them if the unanchored ones were not there.
  std::vector<std::pair<std::string, std::vector<std::string>>> anchored_pushdown() const;

 private:
  struct Def {
    std::size_t rule;
    int event;
    const EventDef* def;
  };
  void evaluate(const Def& d, const Event& e, std::vector<EventMatch>& out);
  // Evaluates journal definition i once per class of identical definitions per entry
  // (rules of a pack share event definitions word for word) and reuses the outcome.
  void evaluate_shared(std::size_t i, const Event& e, std::vector<EventMatch>& out);
  const RuleSet& rules_;
  std::size_t capture_limit_;
  std::vector<Def> defs_;                // journal event definitions
  std::vector<Def> detection_defs_;      // from: detections
  std::vector<std::size_t> unanchored_;  // indices into defs_
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct Anchor {
    FieldId field;
    std::unordered_map<std::string, std::vector<std::size_t>, StringHash, std::equal_to<>> by_value;
  };
  std::vector<Anchor> anchors_;
  std::vector<std::pair<std::string, std::vector<std::string>>> anchor_values_;  // per def, for pushdown
  std::vector<std::uint32_t> seen_;      // per def: last generation it was a candidate in
  std::vector<std::size_t> class_of_;    // per def: its class of identical definitions
  struct Outcome {                       // per class: the evaluation for the current entry
    std::uint32_t generation = 0;
    bool hit = false;
    Captures captures;
  };
  std::vector<Outcome> outcomes_;
  std::uint32_t generation_ = 0;
  std::vector<std::size_t> candidates_;
};

}  // namespace jcorr::core
