#include "jcorr/core/json_text.h"

namespace jcorr::core {

std::expected<nlohmann::json, JsonTextError> parse_json_text(std::string_view text) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line L, column C: REASON".
    std::string reason = e.what();
    if (const auto p = reason.find(": "); p != std::string::npos) reason = reason.substr(p + 2);
    return std::unexpected(JsonTextError{std::move(reason), e.byte > 0 ? e.byte - 1 : 0});
  } catch (const nlohmann::json::exception& e) {
    std::string reason = e.what();  // "[json.exception.out_of_range.406] number overflow parsing '1e400'"
    if (const auto p = reason.find("] "); p != std::string::npos) reason = reason.substr(p + 2);
    return std::unexpected(JsonTextError{std::move(reason), 0});
  }
}

}  // namespace jcorr::core
