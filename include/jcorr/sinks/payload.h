// What a webhook request's body looks like: the detection's canonical JSON (the
// default), a Slack-compatible message (incoming webhooks and the many chat tools that
// accept the same shape: "text" as the fallback line plus Block Kit "blocks"), or a
// user template (webhook_template.h). Bodies are rendered at send time from the
// detection JSON kept in the spool, so a spooled detection is sent in the format the
// configuration says when it is delivered.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "jcorr/sinks/webhook_template.h"

namespace jcorr::sinks {

enum class PayloadFormat { kJson, kSlack, kTemplate };

class Payload {
 public:
  // The detection JSON, as application/json.
  Payload() = default;

  // Slack: Payload(PayloadFormat::kSlack). Template: with_template().
  explicit Payload(PayloadFormat format) : format_(format) {}

  // A user template sent with the given Content-Type.
  static Payload with_template(WebhookTemplate tmpl, std::string content_type);

  PayloadFormat format() const { return format_; }
  const std::string& content_type() const { return content_type_; }

  // Renders the body for one detection (its canonical JSON object). Never throws.
  std::string render(const nlohmann::json& detection) const;

 private:
  PayloadFormat format_ = PayloadFormat::kJson;
  std::optional<WebhookTemplate> template_;
  std::string content_type_ = "application/json";
};

// The Slack-compatible message for a detection: "text" (one line: severity, title,
// summary, host) and blocks (header, summary, fields for severity, host, rule, ATT&CK,
// time and id, and the extracted values), within Slack's length limits.
nlohmann::json slack_message(const nlohmann::json& detection);

}  // namespace jcorr::sinks
