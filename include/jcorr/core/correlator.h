// The correlator: joins matched entries into detections inside event-time windows.
//
// Pure: it takes entries and times and returns detections; no I/O, no clocks. Its
// clock is a watermark, the largest event time seen minus an allowed lateness, which
// only moves forward; windows expire and absences fire when the watermark passes
// their deadline. Feeding the same entries gives the same detections with the same
// ids however the calls are batched (process / advance_to / finish).
//
// State is bounded: partial matches per rule and in total are capped (the oldest is
// evicted first, and counted); suppression and history entries expire with the
// watermark.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jcorr/core/detection.h"
#include "jcorr/core/event.h"
#include "jcorr/core/matcher.h"
#include "jcorr/core/rule.h"

namespace jcorr::core {

struct CorrelatorOptions {
  std::size_t max_partials_per_rule = 10000;   // partial matches (and group states) per rule
  std::size_t max_partials_total = 200000;     // across all rules
  std::size_t max_history_per_group = 256;     // remembered entries for "B with no A before it"
  std::size_t max_history_per_rule = 100000;   // the same, over all groups of one rule
  std::size_t max_members_per_partial = 256;   // entries one partial match keeps ("N+" steps absorb more)
  std::size_t max_suppressions = 100000;       // live suppression keys across all rules
  Micros allowed_lateness = 0;                 // watermark = max event time - this
  std::size_t capture_limit = 1024;            // bytes kept of each captured value / evidence field
  std::size_t max_evidence = 64;               // evidence entries kept per detection
  std::size_t max_detection_depth = 8;         // detection-of-detection nesting
};

// Why a partial match ended, for `jcorr explain`.
enum class TraceKind {
  kMatched,      // an entry matched an event definition
  kStarted,      // a new partial match began
  kAdvanced,     // a partial match took a step
  kAbsorbed,     // a repeated step took one more entry
  kCompleted,    // a detection was emitted
  kExpired,      // the window passed
  kUntil,        // an until event ended it
  kForbidden,    // an absent step's event arrived
  kEvicted,      // the partial-match cap evicted it
  kSuppressed,   // completed, but suppressed
  kAllowlisted,  // completed, but "unless" dropped it
  kRejected,     // completed, but "where" did not hold
};
std::string_view to_string(TraceKind k);

struct TraceEvent {
  TraceKind kind;
  std::string rule;
  std::string step;    // step or event name, when there is one
  std::uint64_t partial = 0;  // partial match serial (0 when none)
  Micros time = 0;
  std::string cursor;  // entry involved, when there is one
  std::string detail;
};

class Tracer {
 public:
  virtual ~Tracer() = default;
  virtual void trace(const TraceEvent& e) = 0;
};

struct CorrelatorStats {
  std::uint64_t entries = 0;
  std::uint64_t matched = 0;      // entries that matched at least one event definition
  std::uint64_t detections = 0;
  std::uint64_t partials = 0;     // live partial matches now
  std::uint64_t evicted = 0;
  std::uint64_t expired = 0;
  std::uint64_t suppressed = 0;
  std::uint64_t allowlisted = 0;
  std::uint64_t history_dropped = 0;  // look-back entries forgotten past either history cap
  std::uint64_t members_dropped = 0;  // absorbed entries forgotten past max_members_per_partial
  std::uint64_t truncated = 0;        // captured values and evidence fields cut to capture_limit
  std::uint64_t late_entries = 0;  // entries older than the watermark when they arrived
  std::vector<std::uint64_t> detections_by_rule;  // indexed like RuleSet::rules
};

class Correlator {
 public:
  // The rule set must outlive the correlator.
  Correlator(const RuleSet& rules, CorrelatorOptions options = {});
  ~Correlator();
  Correlator(const Correlator&) = delete;
  Correlator& operator=(const Correlator&) = delete;

  // Processes one entry (its fields resolved through the rule set's schema) and appends
  // the detections it completes, and those that the watermark's move released, to out.
  void process(const Event& e, std::vector<Detection>& out);

  // process() in two halves, for callers that match entries elsewhere (on other threads,
  // each with its own Matcher over the same rule set): an entry that matched no event
  // definition needs only its time, one that did comes with its matches (Matcher::match).
  // Fed every entry in order, they give what process() gives, detections, ids, order and
  // stats alike.
  void skip(Micros time, std::vector<Detection>& out);
  void process_matched(const Event& e, const std::vector<EventMatch>& matches, std::vector<Detection>& out);

  // Moves the watermark to t if that is later, firing absences and expiring windows
  // whose deadline is before t.
  void advance_to(Micros t, std::vector<Detection>& out);

  // End of input: fires every pending absence (marked window_truncated when its deadline
  // had not passed) and drops every other partial match.
  void finish(std::vector<Detection>& out);

  Micros watermark() const;
  const CorrelatorStats& stats() const;

  // Receives a trace of every decision; null turns tracing off.
  void set_tracer(Tracer* tracer);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jcorr::core
