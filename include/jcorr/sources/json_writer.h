// Writes an Event back out in the shape `journalctl -o json --all` prints, for
// `jcorr replay --dump` and for tests that compare jcorr's view of an entry with
// journalctl's.
//
// journalctl's rules, checked against journalctl 252 on a journal written by
// systemd-journal-remote: every value is a JSON string when it is "printable" UTF-8
// (no C0 control other than TAB and newline, no DEL or C1 control U+007F-U+009F, no
// noncharacter U+FDD0-U+FDEF or U+xxFFFE/U+xxFFFF, no surrogate, no overlong form);
// any other value is an array of byte numbers; a field with several values is an array
// of those (strings and byte arrays mixed as needed). Timestamps are decimal strings.
// journalctl's key order is its hash table's; ours is fixed: `__CURSOR`,
// `__REALTIME_TIMESTAMP`, `__MONOTONIC_TIMESTAMP`, then the fields in the order the
// entry first had them.
#pragma once

#include <string>
#include <string_view>

#include "jcorr/core/event.h"

namespace jcorr::sources {

// Returns one JSON object (without a trailing newline) for `event`, naming fields
// through `schema`. `__CURSOR` is left out when the event has no cursor.
std::string to_journal_json(const core::Event& event, const core::FieldSchema& schema);

// Appends the same object to `out`, re-using its capacity (for writing many events).
void append_journal_json(std::string& out, const core::Event& event, const core::FieldSchema& schema);

// True when journalctl would print `value` as a JSON string rather than a byte array.
bool is_json_printable(std::string_view value);

}  // namespace jcorr::sources
