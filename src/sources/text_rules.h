// Byte-level rules the readers and the JSON writer share: journal field-name syntax,
// UTF-8 validity, journalctl's "printable" test, and strict decimal parsing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace jcorr::sources::detail {

// True when `name` is a valid journal field name as journald accepts it: 1 to 64
// characters of A-Z, 0-9 and '_', not starting with a digit (systemd's
// journal_field_valid with protected names allowed).
bool is_valid_field_name(std::string_view name);

// True when `bytes` is well-formed UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

// True when journalctl would print `bytes` as a JSON string (allow_newline = true) or
// as an export text line (allow_newline = false): valid UTF-8 without C0 controls other
// than TAB (and newline when allowed), without DEL and C1 controls (U+007F-U+009F), and
// without the code points systemd rejects (U+FDD0-U+FDEF, U+xxFFFE/U+xxFFFF).
bool is_journal_printable(std::string_view bytes, bool allow_newline);

// Parses an unsigned decimal number made only of digits (no sign, no spaces), as the
// journal writes timestamps. Returns nullopt when empty, malformed or above 2^64-1.
std::optional<std::uint64_t> parse_decimal_u64(std::string_view text);

}  // namespace jcorr::sources::detail
