// Finds where a JSON pointer's target starts in JSON text, for diagnostics that carry
// line:col. nlohmann_json keeps no positions, so this walks the text itself; it is
// only called on the error path.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

namespace jcorr::core {

// Returns the 1-based line and column where the value at pointer starts (or where the
// walk stopped, for a pointer into a missing member), or {0, 0} when text is not JSON.
std::pair<std::uint32_t, std::uint32_t> locate_json_pointer(std::string_view text, std::string_view pointer);

// Returns the 1-based line and column of a byte offset.
std::pair<std::uint32_t, std::uint32_t> line_column(std::string_view text, std::size_t offset);

}  // namespace jcorr::core
