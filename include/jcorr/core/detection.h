// Detections: what a rule emits when a correlation completes, and its canonical JSON.
//
// A detection carries everything an analyst needs without going back to the journal:
// the rule, severity and ATT&CK ids, the host, the values the rule extracted (user,
// source address, session, units, commands), first and last time, and the evidence
// entries with cursor, time, MESSAGE and the fields that matched. Its id is derived
// from the rule id and the member entries' identities, so a replay, a rewind after a
// restart, or a redelivery produces the same id.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace jcorr::core {

struct Evidence {
  std::string step;      // the step (or until/absent marker) this entry filled
  std::string event;     // the event definition it matched
  std::string cursor;    // __CURSOR as read
  std::string entry_id;  // stable entry identity (see Event::entry_id)
  std::int64_t realtime_us = 0;
  std::string message;   // MESSAGE, truncated to the capture limit
  std::map<std::string, std::string> fields;  // the fields the event definition tests or captures
};

struct Detection {
  std::string id;        // 32 hex digits: SHA-256 of the rule id and member entry ids
  std::string rule_id;
  std::string title;
  std::string severity;
  std::vector<std::string> attack;
  std::vector<std::string> tags;
  std::string summary;
  std::string machine_id;  // empty for a cross-host (global) rule spanning hosts
  std::string hostname;
  std::int64_t first_us = 0;  // earliest member entry
  std::int64_t last_us = 0;   // latest member entry
  std::int64_t time_us = 0;   // when it completed (the completing entry, or an absence deadline)
  std::map<std::string, nlohmann::json> values;  // string, or array of strings for repeated steps
  std::map<std::string, std::string> group;       // the group key's parts
  std::vector<Evidence> evidence;
  std::uint32_t evidence_omitted = 0;  // members left out above the evidence cap
  bool window_truncated = false;       // an absence fired at end of input, before its deadline
  std::string completing_entry;        // entry id of the entry that completed it ("" for absences)
  // What the host's files say about the detection's timer, attached by the runtime after
  // the correlator emitted it (docs/baseline.md); null when there is none. Not part of
  // the id.
  nlohmann::json enrichment;
};

// The canonical JSON object (sorted keys, no wall clock).
nlohmann::json to_json(const Detection& d);

// One JSON line, '\n'-terminated.
std::string to_json_line(const Detection& d);

// Formats µs since the epoch as RFC 3339 UTC with microseconds.
std::string format_time_utc(std::int64_t realtime_us);

}  // namespace jcorr::core
