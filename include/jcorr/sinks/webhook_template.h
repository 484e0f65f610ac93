// User templates for webhook bodies: text with placeholders naming a detection's
// fields, "{rule}", "{severity}", "{summary}", "{values.user}", "{host.hostname}", and
// so on (docs/webhooks.md lists them). Every substituted value is JSON-escaped without
// quotes, so a placeholder inside a JSON string literal can never break out of it;
// "{detection}" alone inserts the whole detection as a JSON object. "{{" is a literal
// "{"; any other "{" not followed by a name is literal text, so JSON braces need no
// escaping. Templates are compiled when the configuration is loaded, so a typo in a
// placeholder is reported then, not at the first detection.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace jcorr::sinks {

struct TemplateError {
  std::size_t offset = 0;  // byte offset of the problem in the template text
  std::string message;
};

class WebhookTemplate {
 public:
  // Compiles a template. Returns the first problem (an unknown field, a placeholder
  // that is not closed or has a bad character) with its byte offset.
  static std::expected<WebhookTemplate, TemplateError> compile(std::string_view text);

  // Renders over a detection's canonical JSON object (core::to_json). Fields the
  // detection does not have (a values.NAME its rule does not set) render as "".
  // Arrays render as their elements joined by ", ". Never throws.
  std::string render(const nlohmann::json& detection) const;

 private:
  struct Part {
    std::string literal;            // text, when path is empty
    std::vector<std::string> path;  // the placeholder's field path
    bool raw = false;               // {detection}: inserted as JSON, not escaped
  };
  std::vector<Part> parts_;
};

// Escapes text for the inside of a JSON string literal (no quotes added); invalid
// UTF-8 is replaced by U+FFFD.
std::string json_escape(std::string_view text);

}  // namespace jcorr::sinks
