// A one-pass scanner for the common shape of a `journalctl -o json` line, so that the
// JSON-lines reader does not run a general JSON parser over every line.
//
// It takes a line whose members are strings, nulls, arrays of strings and nulls, or
// arrays of byte numbers (0..255), with a __CURSOR and a valid __REALTIME_TIMESTAMP, and
// fills the Event exactly as the reader's general parser (nlohmann's SAX parser and its
// handler) would. Anything else, and anything that parser would report, makes it give
// up: a syntax error, another value type, a nested array, a metadata field that is not
// a string or null, an invalid field name or timestamp, a value over max_field_size, more
// than max_fields_per_entry values. The reader then parses the line again with the
// general parser, which reports what it finds. Strings are checked as that parser checks
// them: no raw control byte, well-formed UTF-8, valid escapes and surrogate pairs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "jcorr/core/event.h"
#include "jcorr/sources/source.h"
#include "sources/name_cache.h"

namespace jcorr::sources::detail {

// Fills `out` (cleared first) from `line` and adds the null values it skipped to
// `nulls`, when the line has the shape described above; returns false otherwise, with
// `nulls` unchanged. `scratch` holds decoded values between calls (no allocation per
// line once warm).
bool scan_json_line(std::string_view line, core::Event& out, NameCache& names, const SourceOptions& options,
                    std::uint64_t& nulls, std::string& scratch);

}  // namespace jcorr::sources::detail
