// Parsing JSON text a user wrote (rule files, configurations) without exceptions.
#pragma once

#include <cstddef>
#include <expected>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace jcorr::core {

struct JsonTextError {
  std::string reason;      // what is wrong, without nlohmann's exception id and position
  std::size_t offset = 0;  // byte offset of the error; 0 when the parser gives none
};

// Parses `text`. Every failure comes back as an error value: syntax errors with their
// offset, and the failures nlohmann reports through other exceptions than parse_error,
// such as a number too large for a double ("1e400", out_of_range.406, no position).
std::expected<nlohmann::json, JsonTextError> parse_json_text(std::string_view text);

}  // namespace jcorr::core
