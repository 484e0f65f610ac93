// Correlation semantics (docs/rules.md, "Semantics", is the reference):
//
// - Time is the entry's __REALTIME_TIMESTAMP. Windows are inclusive: an entry exactly
//   `within` after the first member still joins; a partial match expires when the
//   watermark passes its deadline strictly.
// - Sequences: every partial match (PM) a matching entry can advance is advanced (two
//   sessions on one host each get their own PM; one entry can complete several). An
//   entry that matches the first step also starts a new PM. A step repeated "N+" keeps
//   absorbing matches until the next required step after it matches. Optional steps fill
//   once if they match before the next required step. Joins to steps that did not happen
//   (optional ones) are not checked. A sequence completes when its last non-absent step
//   matches; a trailing absent step makes it wait for its deadline instead, and an entry
//   of the absent step (joining) cancels it. With "emit": "each", a completed PM stays
//   open before its last step, so each further match of that step emits another detection.
// - all_of keeps the latest entry of each member per group and fires when all are present
//   within the window; count and distinct fire when the threshold is reached within the
//   window. All three reset the group after firing.
#include "jcorr/core/correlator.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <queue>
#include <unordered_map>

#include "jcorr/core/matcher.h"
#include "jcorr/core/sha256.h"

namespace jcorr::core {

std::string_view to_string(TraceKind k) {
  switch (k) {
    case TraceKind::kMatched: return "matched";
    case TraceKind::kStarted: return "started";
    case TraceKind::kAdvanced: return "advanced";
    case TraceKind::kAbsorbed: return "absorbed";
    case TraceKind::kCompleted: return "completed";
    case TraceKind::kExpired: return "expired";
    case TraceKind::kUntil: return "until";
    case TraceKind::kForbidden: return "forbidden";
    case TraceKind::kEvicted: return "evicted";
    case TraceKind::kSuppressed: return "suppressed";
    case TraceKind::kAllowlisted: return "allowlisted";
    case TraceKind::kRejected: return "rejected";
  }
  return "?";
}

namespace {

constexpr Micros kNever = INT64_MAX;

struct Member {
  int step = 0;
  int event = 0;
  Micros time = 0;
  std::shared_ptr<const Evidence> evidence;
  Captures captures;
  std::string machine_id;  // the entry's host: a global rule's members may span several
  std::string hostname;
};

struct Partial {
  std::uint64_t serial = 0;
  int stage = 0;               // sequence: index of the next step to satisfy
  std::uint32_t runs = 0;      // matches of step `stage` so far (repeat N)
  Micros first = 0;
  Micros last = 0;
  Micros deadline = kNever;
  bool waiting_absent = false;  // stage is a trailing absent step: fire at the deadline
  std::vector<Member> members;
  std::uint32_t dropped = 0;    // absorbed members forgotten past max_members_per_partial
};

struct Group {
  std::string machine_id;
  std::string hostname;
  std::vector<std::pair<std::string, std::string>> key_parts;
  std::vector<Partial> partials;
  std::deque<Member> history;  // leading absent step occurrences
};

struct HeapItem {
  Micros deadline;
  std::uint64_t serial;
  std::string key;
  bool operator>(const HeapItem& o) const { return deadline != o.deadline ? deadline > o.deadline : serial > o.serial; }
};

struct RuleState {
  const Rule* rule = nullptr;
  std::size_t index = 0;
  std::unordered_map<std::string, Group> groups;
  std::priority_queue<HeapItem, std::vector<HeapItem>, std::greater<>> heap;
  std::deque<std::pair<std::uint64_t, std::string>> creation;  // for eviction, oldest first
  std::size_t live = 0;
  std::unordered_map<std::string, Micros> suppressed_until;
  Micros history_window = 0;  // leading absent step look-back
  std::size_t heap_compacted = 0;  // heap size after the last compaction
  std::size_t history_live = 0;    // look-back entries remembered, over all groups
  std::deque<std::pair<Micros, std::string>> history_order;  // (time, group key) of each, oldest first
};

}  // namespace

struct Correlator::Impl {
  const RuleSet& rules;
  CorrelatorOptions options;
  Matcher matcher;
  std::vector<RuleState> states;
  CorrelatorStats stats;
  Micros max_time = INT64_MIN;
  Micros watermark = INT64_MIN;
  std::uint64_t next_serial = 1;
  std::size_t total_live = 0;
  std::size_t total_suppressions = 0;
  Tracer* tracer = nullptr;
  std::vector<EventMatch> matches;
  bool finishing = false;
  bool has_detection_consumers = false;

  Impl(const RuleSet& r, CorrelatorOptions o) : rules(r), options(o), matcher(r, o.capture_limit) {
    states.resize(rules.rules.size());
    stats.detections_by_rule.assign(rules.rules.size(), 0);
    for (std::size_t i = 0; i < rules.rules.size(); ++i) {
      states[i].rule = rules.rules[i].get();
      states[i].index = i;
      const auto& c = states[i].rule->correlate;
      if (c.kind == Correlation::Kind::kSequence && !c.steps.empty() && c.steps[0].absent)
        states[i].history_window = c.steps[0].within.value_or(c.within.value_or(0));
      for (const auto& ev : states[i].rule->events) has_detection_consumers = has_detection_consumers || ev.from_detections;
    }
  }

  void trace(TraceKind kind, const RuleState& st, std::string step, std::uint64_t serial, Micros time,
             std::string cursor = {}, std::string detail = {}) {
    if (!tracer) return;
    tracer->trace(TraceEvent{kind, st.rule->id, std::move(step), serial, time, std::move(cursor), std::move(detail)});
  }

  // ---- keys and values ----

  // An entry's host as the correlator keeps it: _MACHINE_ID and _HOSTNAME cut to
  // capture_limit like every other value copied into state. journald's are 32 hex
  // digits and a host name, but a hostile export can make them a mebibyte each, and
  // they are copied into group keys, groups, members and deadlines.
  std::string_view machine_of(const Event& e) const { return e.machine_id().substr(0, options.capture_limit); }
  std::string_view host_of(const Event& e) const { return e.hostname().substr(0, options.capture_limit); }

  std::string group_key(const RuleState& st, const Event& e, const EventMatch& m,
                        std::vector<std::pair<std::string, std::string>>* parts) const {
    std::string key;
    if (!st.rule->global) {
      key.append(machine_of(e));
      if (parts) parts->emplace_back("_MACHINE_ID", std::string(machine_of(e)));
    }
    for (const auto& name : st.rule->correlate.by_names) {
      key.push_back('\x1f');
      const std::string* v = m.captures.find(name);
      if (v) key.append(*v);
      if (parts) parts->emplace_back(name, v ? *v : std::string());
    }
    return key;
  }

  std::shared_ptr<const Evidence> make_evidence(const RuleState& st, const Event& e, int event, const std::string& step) {
    auto ev = std::make_shared<Evidence>();
    const EventDef& def = st.rule->events[static_cast<std::size_t>(event)];
    ev->step = step;
    ev->event = def.name;
    ev->cursor = e.cursor;
    ev->entry_id = e.entry_id();
    ev->realtime_us = static_cast<std::int64_t>(e.realtime_us);
    auto cut = [&](std::string_view v) {
      if (v.size() > options.capture_limit) ++stats.truncated;
      return std::string(v.substr(0, options.capture_limit));
    };
    if (auto msg = e.get(kMessageField)) ev->message = cut(*msg);
    for (FieldId f : def.evidence_fields)
      if (auto v = e.get(f)) ev->fields.emplace(std::string(rules.schema.name(f)), cut(*v));
    return ev;
  }

  // The host a partial match is about: its group's for a per-host rule; for a global rule
  // the host all its members share, or none ("") when they span several.
  std::pair<std::string_view, std::string_view> host_of(const Rule& rule, const Group& g, const Partial& p) const {
    if (!rule.global || p.members.empty()) return {g.machine_id, g.hostname};
    const Member& first = p.members.front();
    for (const auto& m : p.members)
      if (m.machine_id != first.machine_id) return {};
    return {first.machine_id, first.hostname};
  }

  // Values of a reference within a partial match (all members of the referenced step).
  void ref_values(const Rule& rule, const Group& g, const Partial& p, int ref_index,
                  const std::function<bool(std::string_view)>& fn) const {
    const Ref& r = rule.refs[static_cast<std::size_t>(ref_index)];
    if (r.host) {
      const auto [machine_id, hostname] = host_of(rule, g, p);
      fn(r.name == "_HOSTNAME" ? hostname : machine_id);
      return;
    }
    for (const auto& m : p.members) {
      if (m.step != r.step) continue;
      if (const std::string* v = m.captures.find(r.name))
        if (fn(*v)) return;
    }
  }

  bool ref_present(const Rule& rule, const Partial& p, int ref_index) const {
    const Ref& r = rule.refs[static_cast<std::size_t>(ref_index)];
    if (r.host) return true;
    return std::any_of(p.members.begin(), p.members.end(), [&](const Member& m) { return m.step == r.step; });
  }

  // A join holds when the event's capture equals a value of one of its references. A
  // join whose referenced steps have no member (optional, not taken) is not checked.
  bool joins_hold(const Rule& rule, const Group& g, const Partial& p, const std::vector<Join>& joins,
                  const Captures& caps) const {
    for (const auto& j : joins) {
      bool decidable = false;
      for (int r : j.refs) decidable = decidable || ref_present(rule, p, r);
      if (!decidable) continue;
      const std::string* mine = caps.find(j.capture);
      if (!mine) return false;
      bool ok = false;
      for (int r : j.refs) {
        ref_values(rule, g, p, r, [&](std::string_view v) {
          ok = v == *mine;
          return ok;
        });
        if (ok) break;
      }
      if (!ok) return false;
    }
    return true;
  }

  bool joins_decidable(const Rule& rule, const Partial& p, const std::vector<Join>& joins) const {
    for (const auto& j : joins) {
      bool any = false;
      for (int r : j.refs) any = any || ref_present(rule, p, r);
      if (!any) return false;
    }
    return true;
  }

  bool eval_refs(const Rule& rule, const Group& g, const Partial& p, const Condition& c) const {
    const ValuesOf values = [&](const Condition& leaf, const std::function<bool(std::string_view)>& fn) {
      bool stop = false;
      ref_values(rule, g, p, leaf.ref, [&](std::string_view v) {
        stop = fn(v);
        return stop;
      });
      return stop;
    };
    return eval_condition(c, values, nullptr, options.capture_limit);
  }

  static bool step_has_event(const Step& s, int event) {
    return std::find(s.events.begin(), s.events.end(), event) != s.events.end();
  }

  // ---- partial match bookkeeping ----

  Micros sequence_deadline(const Rule& rule, const Partial& p) const {
    const auto& c = rule.correlate;
    Micros d = c.within ? p.first + *c.within : kNever;
    // The next required (or absent) step may bound the gap from the last member.
    for (std::size_t s = static_cast<std::size_t>(p.stage); s < c.steps.size(); ++s) {
      const Step& st = c.steps[s];
      if (st.within) d = std::min(d, p.last + *st.within);
      if (!st.optional) break;
    }
    return d;
  }

  void schedule(RuleState& st, const std::string& key, const Partial& p) {
    if (p.deadline != kNever) st.heap.push(HeapItem{p.deadline, p.serial, key});
    compact_heap(st);
  }

  // Deadlines are deleted lazily: an item whose partial match was evicted, completed or
  // rescheduled stays in the heap until its time comes, so under a steady stream of new
  // groups the heap grows with the window, not with the live state. Rebuild it from the
  // live state when it has doubled; the order of what fires is unchanged.
  void compact_heap(RuleState& st) {
    if (st.heap.size() <= 2 * std::max(st.live, st.heap_compacted) + 1024) return;
    std::vector<HeapItem> items;
    for (const auto& [key, g] : st.groups) {
      for (const auto& p : g.partials)
        if (p.deadline != kNever) items.push_back(HeapItem{p.deadline, p.serial, key});
      for (const auto& h : g.history) items.push_back(HeapItem{h.time + st.history_window, 0, key});
    }
    st.heap = decltype(st.heap)(std::greater<>(), std::move(items));
    st.heap_compacted = st.heap.size();
  }

  // Adds p to group g and returns its serial. The caps are enforced on the way, and they
  // may evict p itself (the total cap takes the oldest partial match of the rule holding
  // most, which can be a rule whose only one is p) and erase g with it: callers look the
  // group and the serial up again rather than keep references across this call.
  std::uint64_t add_partial(RuleState& st, const std::string& key, Group& g, Partial p, std::vector<Detection>& out) {
    const std::uint64_t serial = p.serial = next_serial++;
    st.creation.emplace_back(serial, key);
    ++st.live;
    ++total_live;
    ++stats.partials;
    schedule(st, key, p);
    g.partials.push_back(std::move(p));
    enforce_caps(st, out);
    return serial;
  }

  void drop_partial_at(RuleState& st, Group& g, std::size_t i) {
    g.partials.erase(g.partials.begin() + static_cast<std::ptrdiff_t>(i));
    --st.live;
    --total_live;
    --stats.partials;
  }

  void evict_oldest(RuleState& st) {
    while (!st.creation.empty()) {
      auto [serial, key] = std::move(st.creation.front());
      st.creation.pop_front();
      auto git = st.groups.find(key);
      if (git == st.groups.end()) continue;
      auto& parts = git->second.partials;
      auto it = std::find_if(parts.begin(), parts.end(), [&](const Partial& p) { return p.serial == serial; });
      if (it == parts.end()) continue;
      trace(TraceKind::kEvicted, st, "", serial, it->last, "", "partial-match cap reached");
      drop_partial_at(st, git->second, static_cast<std::size_t>(it - parts.begin()));
      ++stats.evicted;
      if (git->second.partials.empty() && git->second.history.empty()) st.groups.erase(git);
      return;
    }
  }

  void enforce_caps(RuleState& st, std::vector<Detection>&) {
    while (st.live > options.max_partials_per_rule && st.live > 0) evict_oldest(st);
    while (total_live > options.max_partials_total) {
      auto biggest = std::max_element(states.begin(), states.end(),
                                      [](const RuleState& a, const RuleState& b) { return a.live < b.live; });
      if (biggest == states.end() || biggest->live == 0) break;
      evict_oldest(*biggest);
    }
    // Keep the creation log proportional to the live set.
    if (st.creation.size() > 2 * st.live + 1024) {
      std::deque<std::pair<std::uint64_t, std::string>> kept;
      for (auto& item : st.creation) {
        auto git = st.groups.find(item.second);
        if (git == st.groups.end()) continue;
        const auto& parts = git->second.partials;
        if (std::any_of(parts.begin(), parts.end(), [&](const Partial& p) { return p.serial == item.first; }))
          kept.push_back(std::move(item));
      }
      st.creation = std::move(kept);
    }
  }

  // ---- detections ----

  void emit(RuleState& st, Group& g, const Partial& p, Micros time, const std::string& completing, bool truncated,
            std::vector<Detection>& out) {
    const Rule& rule = *st.rule;
    const auto& c = rule.correlate;
    if (c.where && !eval_refs(rule, g, p, *c.where)) {
      trace(TraceKind::kRejected, st, "", p.serial, time, "", "correlation \"where\" does not hold");
      return;
    }
    if (c.unless && eval_refs(rule, g, p, *c.unless)) {
      ++stats.allowlisted;
      trace(TraceKind::kAllowlisted, st, "", p.serial, time, "", "\"unless\" holds");
      return;
    }
    auto value_text = [&](int ref) {
      std::string s;
      ref_values(rule, g, p, ref, [&](std::string_view v) {
        s.assign(v);
        return true;
      });
      return s;
    };
    if (rule.suppress) {
      std::string key = rule.global ? std::string() : g.machine_id;
      for (int r : rule.suppress->by) {
        key.push_back('\x1f');
        key += value_text(r);
      }
      auto it = st.suppressed_until.find(key);
      if (it != st.suppressed_until.end() && time <= it->second) {
        ++stats.suppressed;
        trace(TraceKind::kSuppressed, st, "", p.serial, time, "", "suppressed until " + format_time_utc(it->second));
        return;
      }
      if (it == st.suppressed_until.end()) {
        if (total_suppressions >= options.max_suppressions) prune_suppressions(true);
        ++total_suppressions;
        st.suppressed_until.emplace(key, time + rule.suppress->duration);
      } else {
        it->second = time + rule.suppress->duration;
      }
    }
    Detection d;
    d.rule_id = rule.id;
    d.title = rule.title;
    d.severity = std::string(to_string(rule.severity));
    d.attack = rule.attack;
    d.tags = rule.tags;
    const auto [machine_id, hostname] = host_of(rule, g, p);
    d.machine_id = std::string(machine_id);
    d.hostname = std::string(hostname);
    d.time_us = time;
    d.window_truncated = truncated;
    d.completing_entry = completing;
    for (const auto& [k, v] : g.key_parts) d.group[k] = v;
    Sha256 h;
    h.update(rule.id);
    d.first_us = INT64_MAX;
    d.last_us = INT64_MIN;
    for (const auto& m : p.members) {
      h.update("\n");
      h.update(m.evidence->entry_id);
      d.first_us = std::min(d.first_us, m.time);
      d.last_us = std::max(d.last_us, m.time);
    }
    if (p.members.empty()) d.first_us = d.last_us = time;
    if (truncated || completing.empty()) {
      // An absence has no completing entry; its deadline is part of what happened.
      h.update("\nabsent");
    }
    const auto digest = h.finish();
    static constexpr char kHex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < 16; ++i) {
      d.id.push_back(kHex[digest[i] >> 4]);
      d.id.push_back(kHex[digest[i] & 15]);
    }
    // Values: a step that can hold several members yields an array of distinct values.
    for (const auto& value : rule.values) {
      if (value.ref < 0) {
        d.values[value.name] = render(rule, g, p, value.text);
        continue;
      }
      const Ref& r = rule.refs[static_cast<std::size_t>(value.ref)];
      bool multi = false;
      if (!r.host && r.step >= 0) {
        const Step& s = c.steps[static_cast<std::size_t>(r.step)];
        multi = s.repeat_more || s.repeat_min > 1 || c.kind == Correlation::Kind::kCount ||
                c.kind == Correlation::Kind::kDistinct;
      }
      // With alternatives, the first reference that has a value gives it.
      auto ref_at = [&](std::size_t a) { return a == 0 ? value.ref : value.alternatives[a - 1]; };
      if (multi) {
        nlohmann::json arr = nlohmann::json::array();
        std::vector<std::string> seen;
        for (std::size_t a = 0; a <= value.alternatives.size() && seen.empty(); ++a)
          ref_values(rule, g, p, ref_at(a), [&](std::string_view v) {
            if (std::find(seen.begin(), seen.end(), v) == seen.end()) {
              seen.emplace_back(v);
              arr.push_back(std::string(v));
            }
            return false;
          });
        d.values[value.name] = std::move(arr);
      } else {
        bool found = false;
        std::string s;
        for (std::size_t a = 0; a <= value.alternatives.size() && !found; ++a)
          ref_values(rule, g, p, ref_at(a), [&](std::string_view v) {
            s.assign(v);
            found = true;
            return true;
          });
        d.values[value.name] = found ? nlohmann::json(s) : nlohmann::json(nullptr);
      }
    }
    d.summary = render(rule, g, p, rule.summary);
    if (rule.summary.parts.empty()) d.summary = rule.title;
    const std::size_t n = p.members.size();
    const std::size_t cap = std::max<std::size_t>(options.max_evidence, 2);
    for (std::size_t i = 0; i < n; ++i) {
      // Keep the first cap-1 members and the last one.
      if (n > cap && i >= cap - 1 && i + 1 < n) {
        ++d.evidence_omitted;
        continue;
      }
      d.evidence.push_back(*p.members[i].evidence);
    }
    d.evidence_omitted += p.dropped;  // members the partial match itself no longer keeps
    ++stats.detections;
    ++stats.detections_by_rule[st.index];
    trace(TraceKind::kCompleted, st, "", p.serial, time, "", "detection " + d.id);
    out.push_back(std::move(d));
  }

  // Renders a template; a reference with several values shows them comma-separated,
  // one with none shows "?".
  std::string render(const Rule& rule, const Group& g, const Partial& p, const Template& t) const {
    std::string out;
    for (const auto& part : t.parts) {
      if (part.ref < 0) {
        out += part.literal;
        continue;
      }
      std::vector<std::string> seen;
      for (std::size_t a = 0; a <= part.alternatives.size() && seen.empty(); ++a)
        ref_values(rule, g, p, a == 0 ? part.ref : part.alternatives[a - 1], [&](std::string_view v) {
          if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.emplace_back(v);
          return false;
        });
      if (seen.empty()) out += "?";
      for (std::size_t i = 0; i < seen.size(); ++i) out += (i ? ", " : "") + seen[i];
    }
    return out;
  }

  void prune_suppressions(bool force) {
    for (auto& st : states) {
      for (auto it = st.suppressed_until.begin(); it != st.suppressed_until.end();) {
        if (it->second < watermark) {
          it = st.suppressed_until.erase(it);
          --total_suppressions;
        } else {
          ++it;
        }
      }
    }
    if (force && total_suppressions >= options.max_suppressions) {
      // Still full of live keys: forget the ones closest to expiry (counted as evictions).
      for (auto& st : states) {
        while (!st.suppressed_until.empty() && total_suppressions >= options.max_suppressions) {
          // The first key with the earliest expiry, by value: GCC 12 -O2 warns of a
          // possible null node (-Wnull-dereference) through min_element + erase(iterator).
          std::string oldest;
          Micros earliest = 0;
          bool found = false;
          for (const auto& [k, until] : st.suppressed_until)
            if (!found || until < earliest) {
              oldest = k;
              earliest = until;
              found = true;
            }
          st.suppressed_until.erase(oldest);
          --total_suppressions;
          ++stats.evicted;
        }
      }
    }
  }

  // ---- sequences ----

  void sequence_event(RuleState& st, const Event& e, const EventMatch& m, std::vector<Detection>& out) {
    const Rule& rule = *st.rule;
    const auto& c = rule.correlate;
    const Micros t = static_cast<Micros>(e.realtime_us);
    std::vector<std::pair<std::string, std::string>> parts;
    const std::string key = group_key(st, e, m, &parts);
    auto git = st.groups.find(key);
    // 1. until and forbidden (absent) steps end partial matches.
    if (git != st.groups.end()) {
      Group& g = git->second;
      for (std::size_t i = 0; i < g.partials.size();) {
        Partial& p = g.partials[i];
        // A partial match whose deadline this entry is past is decided (its absence fires,
        // or it expires) as soon as the watermark catches up; with an allowed lateness
        // that is later, and an entry after the deadline must not change the outcome.
        if (t > p.deadline) {
          ++i;
          continue;
        }
        bool kill = false;
        TraceKind why = TraceKind::kUntil;
        std::string step_name;
        for (const auto& u : c.until) {
          if (!step_has_event(u, m.event)) continue;
          if (!joins_decidable(rule, p, u.joins)) continue;
          if (joins_hold(rule, g, p, u.joins, m.captures)) {
            kill = true;
            step_name = u.name;
            break;
          }
        }
        if (!kill) {
          // The absent steps between the PM's position and the next required step.
          for (std::size_t s = static_cast<std::size_t>(p.stage); s < c.steps.size(); ++s) {
            const Step& sp = c.steps[s];
            if (sp.absent && step_has_event(sp, m.event) && joins_hold(rule, g, p, sp.joins, m.captures)) {
              const Micros limit = sp.within ? p.last + *sp.within : kNever;
              if (t <= limit && t >= p.last) {
                kill = true;
                why = TraceKind::kForbidden;
                step_name = sp.name;
                break;
              }
            }
            if (!sp.optional && !sp.absent) break;
          }
        }
        if (kill) {
          trace(why, st, step_name, p.serial, t, e.cursor);
          drop_partial_at(st, g, i);
          continue;
        }
        ++i;
      }
    }
    // 2. advance existing partial matches.
    std::shared_ptr<const Evidence> evidence;
    auto evidence_for = [&](const std::string& step) {
      if (!evidence || evidence->step != step) evidence = make_evidence(st, e, m.event, step);
      return evidence;
    };
    if (git != st.groups.end()) {
      Group& g = git->second;
      // Find, for every PM, the step the entry would take (or -1); absorption into an
      // "N+" step is marked by a negative step - 2.
      std::vector<int> take(g.partials.size(), -1);
      for (std::size_t i = 0; i < g.partials.size(); ++i) {
        const Partial& p = g.partials[i];
        if (t > p.deadline || p.waiting_absent) continue;
        for (std::size_t s = static_cast<std::size_t>(p.stage); s < c.steps.size(); ++s) {
          const Step& sp = c.steps[s];
          if (sp.absent) continue;
          if (step_has_event(sp, m.event) && t >= p.last && (!sp.within || t <= p.last + *sp.within) &&
              joins_hold(rule, g, p, sp.joins, m.captures)) {
            take[i] = static_cast<int>(s);
            break;
          }
          if (!sp.optional) break;
        }
        if (take[i] >= 0) continue;
        for (int s = p.stage - 1; s >= 0; --s) {
          const Step& sp = c.steps[static_cast<std::size_t>(s)];
          if (!sp.optional && !sp.repeat_more) break;
          if (sp.repeat_more && step_has_event(sp, m.event) && t >= p.last &&
              joins_hold(rule, g, p, sp.joins, m.captures)) {
            take[i] = -2 - s;
            break;
          }
        }
      }
      // Attribution: at a step with "prefer", if some PMs satisfy it, only they take the entry.
      for (std::size_t s = 0; s < c.steps.size(); ++s) {
        const Step& sp = c.steps[s];
        if (sp.prefer.empty()) continue;
        std::vector<bool> preferred(g.partials.size(), false);
        bool any = false;
        for (std::size_t i = 0; i < g.partials.size(); ++i) {
          if (take[i] != static_cast<int>(s)) continue;
          preferred[i] = joins_decidable(rule, g.partials[i], sp.prefer) &&
                         joins_hold(rule, g, g.partials[i], sp.prefer, m.captures);
          any = any || preferred[i];
        }
        if (!any) continue;
        for (std::size_t i = 0; i < g.partials.size(); ++i)
          if (take[i] == static_cast<int>(s) && !preferred[i]) {
            trace(TraceKind::kRejected, st, sp.name, g.partials[i].serial, t, e.cursor, "another partial match is preferred");
            take[i] = -1;
          }
      }
      // Apply by serial: completing a PM removes it and shifts the indices after it.
      std::vector<std::pair<std::uint64_t, int>> decisions;
      for (std::size_t i = 0; i < g.partials.size(); ++i)
        if (take[i] != -1) decisions.emplace_back(g.partials[i].serial, take[i]);
      for (const auto& [serial, decision] : decisions) {
        auto it = std::find_if(g.partials.begin(), g.partials.end(), [&](const Partial& x) { return x.serial == serial; });
        if (it == g.partials.end()) continue;
        const std::size_t i = static_cast<std::size_t>(it - g.partials.begin());
        Partial& p = *it;
        if (decision >= 0) {
          const std::size_t s = static_cast<std::size_t>(decision);
          const Step& sp = c.steps[s];
          p.members.push_back(Member{decision, m.event, t, evidence_for(sp.name), m.captures, std::string(machine_of(e)),
                                     std::string(host_of(e))});
          p.last = t;
          if (decision != p.stage) p.runs = 0;
          p.stage = decision;
          ++p.runs;
          if (p.runs >= sp.repeat_min) {
            p.stage = decision + 1;
            p.runs = 0;
          }
          trace(TraceKind::kAdvanced, st, sp.name, p.serial, t, e.cursor);
          after_advance(st, key, g, i, t, e.entry_id(), out);
        } else {
          const int s = -2 - decision;
          const Step& sp = c.steps[static_cast<std::size_t>(s)];
          p.members.push_back(Member{s, m.event, t, evidence_for(sp.name), m.captures, std::string(machine_of(e)),
                                     std::string(host_of(e))});
          cap_members(p, s, sp.repeat_min);
          p.last = t;
          trace(TraceKind::kAbsorbed, st, sp.name, p.serial, t, e.cursor);
          after_advance(st, key, g, i, t, e.entry_id(), out);
        }
      }
    }
    // 3. start a new partial match when the entry matches a first step.
    start_sequence(st, e, m, key, parts, evidence_for, out);
  }

  // An "N+" step absorbs every further match until the next step comes. Kept whole, a
  // session repeating it a million times would hold a million members, and building the
  // detection's values from them is quadratic (an hour's stall for a million distinct
  // sudo commands). Past max_members_per_partial the oldest absorbed member of the step
  // goes; its first `keep_first` runs stay (later steps were joined against them). The
  // loss is counted and shown as omitted evidence.
  void cap_members(Partial& p, int step, std::uint32_t keep_first) {
    if (p.members.size() <= std::max<std::size_t>(options.max_members_per_partial, 1)) return;
    std::uint32_t runs = 0;
    for (auto it = p.members.begin(); it != p.members.end(); ++it) {
      if (it->step != step || ++runs <= keep_first) continue;
      p.members.erase(it);
      ++p.dropped;
      ++stats.members_dropped;
      return;
    }
  }

  // Handles a PM that just took an entry: completes, waits for an absence, or reschedules.
  // Returns false when the PM at index i was removed.
  bool after_advance(RuleState& st, const std::string& key, Group& g, std::size_t i, Micros t,
                     const std::string& completing, std::vector<Detection>& out) {
    const Rule& rule = *st.rule;
    const auto& c = rule.correlate;
    Partial& p = g.partials[i];
    // Skip optional steps at the end? The last step is never optional (the loader checks).
    const std::size_t n = c.steps.size();
    if (static_cast<std::size_t>(p.stage) >= n) {
      Partial done = p;
      if (c.emit_each) {
        // Roll back the last step's members so the next match of it completes again.
        const int last_step = static_cast<int>(n) - 1;
        auto& mem = p.members;
        mem.erase(std::remove_if(mem.begin(), mem.end(), [&](const Member& x) { return x.step == last_step; }), mem.end());
        // With nothing left (a one-step sequence, or one whose earlier steps are optional
        // and were not taken) the next entry starts a partial match of its own; keeping an
        // empty one would emit that entry twice, and it would never expire.
        if (!mem.empty()) {
          p.stage = last_step;
          p.runs = 0;
          emit(st, g, done, t, completing, false, out);
          return true;
        }
      }
      drop_partial_at(st, g, i);
      emit(st, g, done, t, completing, false, out);
      return false;
    }
    const Step& next = c.steps[static_cast<std::size_t>(p.stage)];
    if (next.absent && static_cast<std::size_t>(p.stage) + 1 == n) {
      p.waiting_absent = true;
      p.deadline = next.within ? p.last + *next.within : p.first + c.within.value_or(0);
    } else {
      p.deadline = sequence_deadline(rule, p);
    }
    schedule(st, key, p);
    return true;
  }

  template <class EvidenceFor>
  void start_sequence(RuleState& st, const Event& e, const EventMatch& m, const std::string& key,
                      std::vector<std::pair<std::string, std::string>>& parts, EvidenceFor& evidence_for,
                      std::vector<Detection>& out) {
    const Rule& rule = *st.rule;
    const auto& c = rule.correlate;
    const Micros t = static_cast<Micros>(e.realtime_us);
    // The first step that can start a PM: skip a leading absent step and leading optional steps.
    std::size_t first = 0;
    const bool leading_absent = c.steps[0].absent;
    if (leading_absent) {
      // Remember the occurrence for later "no A before B" checks.
      if (step_has_event(c.steps[0], m.event)) {
        Group& g = group_for(st, key, e, parts);
        g.history.push_back(Member{0, m.event, t, nullptr, m.captures, std::string(machine_of(e)), std::string(host_of(e))});
        ++st.history_live;
        st.history_order.emplace_back(t, key);
        if (g.history.size() > options.max_history_per_group) {
          g.history.pop_front();
          --st.history_live;
          ++stats.history_dropped;
        }
        schedule_history(st, key, t);
        cap_history(st);  // may erase groups, this one included
      }
      first = 1;
    }
    for (std::size_t s = first; s < c.steps.size(); ++s) {
      const Step& sp = c.steps[s];
      if (sp.absent) break;
      if (step_has_event(sp, m.event)) {
        if (leading_absent) {
          Group& g = group_for(st, key, e, parts);
          const Micros back = st.history_window;
          for (const auto& h : g.history) {
            if (h.time > t || h.time < t - back) continue;
            Partial probe;
            probe.members.push_back(h);
            if (joins_hold(rule, g, probe, sp.joins, m.captures)) {
              trace(TraceKind::kForbidden, st, c.steps[0].name, 0, t, e.cursor, "preceded by an absent-step entry");
              return;
            }
          }
        }
        Group& g = group_for(st, key, e, parts);
        Partial p;
        p.first = t;
        p.last = t;
        p.stage = static_cast<int>(s);
        p.runs = 1;
        p.members.push_back(Member{static_cast<int>(s), m.event, t, evidence_for(sp.name), m.captures,
                                 std::string(machine_of(e)), std::string(host_of(e))});
        if (p.runs >= sp.repeat_min) {
          p.stage = static_cast<int>(s) + 1;
          p.runs = 0;
        }
        const std::uint64_t added = add_partial(st, key, g, std::move(p), out);
        trace(TraceKind::kStarted, st, sp.name, added, t, e.cursor);
        // Eviction may have removed the new partial match, and its group with it.
        auto git = st.groups.find(key);
        if (git == st.groups.end()) return;
        Group& g2 = git->second;
        if (g2.partials.empty() || g2.partials.back().serial != added) return;
        after_advance(st, key, g2, g2.partials.size() - 1, t, e.entry_id(), out);
        return;
      }
      if (!sp.optional) break;
    }
  }

  Group& group_for(RuleState& st, const std::string& key, const Event& e,
                   std::vector<std::pair<std::string, std::string>>& parts) {
    auto [it, inserted] = st.groups.try_emplace(key);
    if (inserted) {
      it->second.machine_id = std::string(machine_of(e));
      it->second.hostname = std::string(host_of(e));
      it->second.key_parts = parts;
    }
    return it->second;
  }

  // Look-back entries ("B with no A before it") are kept per group, and there are as many
  // groups as distinct keys in the window: a million users logging in were remembered a
  // million times (about a kilobyte each). Past max_history_per_rule the rule forgets
  // its oldest entry, whichever group holds it, and counts it in history_dropped.
  void cap_history(RuleState& st) {
    while (st.history_live > options.max_history_per_rule && !st.history_order.empty()) {
      auto [time, key] = std::move(st.history_order.front());
      st.history_order.pop_front();
      auto git = st.groups.find(key);
      // Entries leave a group's history only from its front, in the order they came, so
      // a record whose entry is not at the front any more is one already gone.
      if (git == st.groups.end() || git->second.history.empty() || git->second.history.front().time != time) continue;
      git->second.history.pop_front();
      --st.history_live;
      ++stats.history_dropped;
      if (git->second.partials.empty() && git->second.history.empty()) st.groups.erase(git);
    }
    // Keep the order log proportional to what is remembered.
    if (st.history_order.size() > 2 * st.history_live + 1024) {
      std::vector<std::pair<Micros, std::string>> items;
      for (const auto& [k, g] : st.groups)
        for (const auto& h : g.history) items.emplace_back(h.time, k);
      std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      st.history_order.assign(items.begin(), items.end());
    }
  }

  void schedule_history(RuleState& st, const std::string& key, Micros t) {
    st.heap.push(HeapItem{t + st.history_window, 0, key});
    compact_heap(st);
  }

  // ---- all_of, count, distinct: one PM per group collects occurrences ----

  void group_event(RuleState& st, const Event& e, const EventMatch& m, std::vector<Detection>& out) {
    const Rule& rule = *st.rule;
    const auto& c = rule.correlate;
    const Micros t = static_cast<Micros>(e.realtime_us);
    const Micros within = c.within.value_or(0);
    std::vector<std::pair<std::string, std::string>> parts;
    const std::string key = group_key(st, e, m, &parts);
    int step = -1;
    for (std::size_t s = 0; s < c.steps.size(); ++s)
      if (step_has_event(c.steps[s], m.event)) {
        step = static_cast<int>(s);
        break;
      }
    if (step < 0) return;
    // An entry without the value a distinct correlation counts adds nothing to it; it
    // must not open a group state either (one with no member would never expire).
    if (c.kind == Correlation::Kind::kDistinct && !m.captures.find(c.distinct_capture)) return;
    Group& g = group_for(st, key, e, parts);
    if (g.partials.empty()) {
      Partial p;
      p.first = p.last = t;
      add_partial(st, key, g, std::move(p), out);
    }
    auto git = st.groups.find(key);
    if (git == st.groups.end()) return;
    Group& grp = git->second;
    if (grp.partials.empty()) return;
    Partial& p = grp.partials.front();
    const std::string& step_name = c.steps[static_cast<std::size_t>(step)].name;
    Member mem{step, m.event, t, make_evidence(st, e, m.event, step_name), m.captures, std::string(machine_of(e)),
               std::string(host_of(e))};
    // Forget occurrences that fell out of the window.
    auto& mems = p.members;
    mems.erase(std::remove_if(mems.begin(), mems.end(), [&](const Member& x) { return x.time < t - within; }), mems.end());
    switch (c.kind) {
      case Correlation::Kind::kAllOf:
        // Keep the latest occurrence of each member.
        mems.erase(std::remove_if(mems.begin(), mems.end(), [&](const Member& x) { return x.step == step; }), mems.end());
        mems.push_back(std::move(mem));
        break;
      case Correlation::Kind::kCount:
        mems.push_back(std::move(mem));
        // Bound memory: only min_count occurrences are ever needed.
        if (mems.size() > c.min_count) mems.erase(mems.begin());
        break;
      case Correlation::Kind::kDistinct: {
        const std::string* v = mem.captures.find(c.distinct_capture);
        if (!v) return;
        const std::string value = *v;
        mems.erase(std::remove_if(mems.begin(), mems.end(),
                                  [&](const Member& x) {
                                    const std::string* xv = x.captures.find(c.distinct_capture);
                                    return xv && *xv == value;
                                  }),
                   mems.end());
        mems.push_back(std::move(mem));
        if (mems.size() > c.min_count) mems.erase(mems.begin());
        break;
      }
      case Correlation::Kind::kSequence: break;
    }
    trace(TraceKind::kAdvanced, st, step_name, p.serial, t, e.cursor);
    std::sort(mems.begin(), mems.end(), [](const Member& a, const Member& b) { return a.time < b.time; });
    p.first = mems.empty() ? t : mems.front().time;
    p.last = t;
    bool fire = false;
    if (c.kind == Correlation::Kind::kAllOf) {
      fire = true;
      for (std::size_t s = 0; s < c.steps.size(); ++s)
        fire = fire && std::any_of(mems.begin(), mems.end(), [&](const Member& x) { return x.step == static_cast<int>(s); });
    } else {
      fire = mems.size() >= c.min_count;
    }
    if (fire) {
      Partial done = p;
      drop_partial_at(st, grp, 0);
      emit(st, grp, done, t, e.entry_id(), false, out);
      if (grp.partials.empty() && grp.history.empty()) st.groups.erase(key);
      return;
    }
    p.deadline = p.first + within;
    schedule(st, key, p);
  }

  // ---- time ----

  // Fires and expires every deadline before `until` (all of them at the end of input).
  // Deadlines are taken in time order across every rule (ties: rule order, then partial
  // match), and each detection is fed to the rules consuming it before the next deadline
  // is taken, so what happens does not depend on how far one call moves the clock.
  void expire(Micros until, bool at_end, std::vector<Detection>& out) {
    for (;;) {
      RuleState* next = nullptr;
      for (auto& st : states)
        if (!st.heap.empty() && (at_end || st.heap.top().deadline < until) &&
            (!next || st.heap.top().deadline < next->heap.top().deadline))
          next = &st;
      if (!next) break;
      RuleState& st = *next;
      HeapItem item = st.heap.top();
      st.heap.pop();
      auto git = st.groups.find(item.key);
      if (git == st.groups.end()) continue;
      Group& g = git->second;
      const std::size_t before = out.size();
      if (item.serial == 0) {
        // History clean-up for a leading absent step: what this deadline was set for.
        while (!g.history.empty() && (at_end || g.history.front().time + st.history_window <= item.deadline)) {
          g.history.pop_front();
          --st.history_live;
        }
      } else {
        auto it = std::find_if(g.partials.begin(), g.partials.end(), [&](const Partial& p) { return p.serial == item.serial; });
        if (it != g.partials.end() && it->deadline == item.deadline) {
          const std::size_t i = static_cast<std::size_t>(it - g.partials.begin());
          Partial done = std::move(*it);
          drop_partial_at(st, g, i);
          if (done.waiting_absent) {
            emit(st, g, done, done.deadline, "", at_end && done.deadline >= until, out);
          } else if (st.rule->correlate.kind != Correlation::Kind::kSequence && !at_end && !done.members.empty()) {
            // Group state: drop the occurrences that left the window at this deadline and
            // keep the rest (their own deadline comes later).
            const Micros within = st.rule->correlate.within.value_or(0);
            auto& mems = done.members;
            mems.erase(std::remove_if(mems.begin(), mems.end(), [&](const Member& x) { return x.time + within <= item.deadline; }),
                       mems.end());
            if (!mems.empty()) {
              done.first = mems.front().time;
              done.deadline = done.first + within;
              std::vector<Detection> none;
              add_partial(st, item.key, g, std::move(done), none);
            } else {
              ++stats.expired;
            }
          } else {
            ++stats.expired;
            trace(TraceKind::kExpired, st, "", done.serial, at_end ? max_time : until, "", at_end ? "end of input" : "window passed");
          }
        }
      }
      auto again = st.groups.find(item.key);
      if (again != st.groups.end() && again->second.partials.empty() && again->second.history.empty())
        st.groups.erase(again);
      if (out.size() > before) feed_detections(before, out, 0);
    }
    if (total_suppressions > 0 && (at_end || total_suppressions > options.max_suppressions / 2)) prune_suppressions(false);
  }

  void process_matches(const Event& e, const std::vector<EventMatch>& ms, std::vector<Detection>& out) {
    for (const auto& m : ms) {
      RuleState& st = states[m.rule];
      stats.truncated += m.captures.truncated;
      trace(TraceKind::kMatched, st, st.rule->events[static_cast<std::size_t>(m.event)].name, 0,
            static_cast<Micros>(e.realtime_us), e.cursor);
      if (st.rule->correlate.kind == Correlation::Kind::kSequence) sequence_event(st, e, m, out);
      else group_event(st, e, m, out);
    }
  }

  // Feeds detections back as events to the rules that consume them.
  void feed_detections(std::size_t from, std::vector<Detection>& out, std::size_t depth) {
    if (!has_detection_consumers || depth >= options.max_detection_depth) return;
    const std::size_t end = out.size();
    for (std::size_t i = from; i < end; ++i) {
      Event ev;
      const Detection d = out[i];
      ev.realtime_us = static_cast<std::uint64_t>(d.time_us);
      ev.cursor = "detection=" + d.id;
      ev.add(kMachineIdField, d.machine_id);
      ev.add(kHostnameField, d.hostname);
      ev.add(kMessageField, d.summary);
      auto put = [&](std::string_view name, std::string_view value) {
        if (auto id = rules.schema.find(name)) ev.add(*id, value);
      };
      put("rule", d.rule_id);
      put("severity", d.severity);
      put("title", d.title);
      for (const auto& [k, v] : d.values) {
        if (v.is_string()) put(k, v.get<std::string>());
        else if (v.is_array())
          for (const auto& x : v)
            if (x.is_string()) put(k, x.get<std::string>());
      }
      std::vector<EventMatch> ms;
      matcher.match_detection(ev, ms);
      const std::size_t before = out.size();
      process_matches(ev, ms, out);
      if (out.size() > before) feed_detections(before, out, depth + 1);
    }
  }
};

Correlator::Correlator(const RuleSet& rules, CorrelatorOptions options)
    : impl_(std::make_unique<Impl>(rules, options)) {}
Correlator::~Correlator() = default;

void Correlator::process(const Event& e, std::vector<Detection>& out) {
  auto& I = *impl_;
  I.matcher.match(e, I.matches);  // matching keeps no state between entries
  process_matched(e, I.matches, out);
}

void Correlator::skip(Micros time, std::vector<Detection>& out) {
  auto& I = *impl_;
  ++I.stats.entries;
  if (time < I.watermark) ++I.stats.late_entries;
  I.max_time = std::max(I.max_time, time);
  advance_to(I.max_time - I.options.allowed_lateness, out);
}

void Correlator::process_matched(const Event& e, const std::vector<EventMatch>& matches, std::vector<Detection>& out) {
  auto& I = *impl_;
  // What the new watermark passes expires before the entry is considered: a deadline
  // equal to the entry's time still admits it (windows are inclusive).
  skip(static_cast<Micros>(e.realtime_us), out);
  if (matches.empty()) return;
  ++I.stats.matched;
  // The host fields go into every partial match and detection the entry joins.
  if (e.machine_id().size() > I.options.capture_limit) ++I.stats.truncated;
  if (e.hostname().size() > I.options.capture_limit) ++I.stats.truncated;
  const std::size_t before = out.size();
  I.process_matches(e, matches, out);
  if (out.size() > before) I.feed_detections(before, out, 0);
}

void Correlator::advance_to(Micros t, std::vector<Detection>& out) {
  auto& I = *impl_;
  if (t <= I.watermark) return;
  I.watermark = t;
  I.expire(t, false, out);  // feeds what it releases to the rules that consume detections
}

void Correlator::finish(std::vector<Detection>& out) {
  auto& I = *impl_;
  I.expire(I.max_time, true, out);
}

Micros Correlator::watermark() const { return impl_->watermark; }
const CorrelatorStats& Correlator::stats() const { return impl_->stats; }
void Correlator::set_tracer(Tracer* tracer) { impl_->tracer = tracer; }

}  // namespace jcorr::core
