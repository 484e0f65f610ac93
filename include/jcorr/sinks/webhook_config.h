// The webhook configuration file: a JSON object {"webhooks": [...]} naming each
// endpoint, its spool directory, which detections it wants, the body format, how
// requests are signed and how TLS is verified (docs/webhooks.md is the reference).
// Loading validates everything and reports all problems at once as core::Diagnostic
// (file, JSON pointer, line:col, a stable code below); templates are compiled and
// secrets read here, so a bad configuration fails before anything runs. Secrets come
// only from a file or an environment variable, never from this file's text.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jcorr/core/detection.h"
#include "jcorr/core/diagnostic.h"
#include "jcorr/core/rule.h"
#include "jcorr/sinks/payload.h"
#include "jcorr/sinks/retry_policy.h"
#include "jcorr/sinks/spool.h"

namespace jcorr::sinks {

// Stable diagnostic codes of the webhook configuration.
namespace codes {
inline constexpr std::string_view kConfigUnreadable = "webhook.config.unreadable";
inline constexpr std::string_view kJsonSyntax = "webhook.json.syntax";
inline constexpr std::string_view kKeyUnknown = "webhook.key.unknown";
inline constexpr std::string_view kKeyMissing = "webhook.key.missing";
inline constexpr std::string_view kTypeMismatch = "webhook.type.mismatch";
inline constexpr std::string_view kValueInvalid = "webhook.value.invalid";
inline constexpr std::string_view kNameDuplicate = "webhook.name.duplicate";
inline constexpr std::string_view kUrlInvalid = "webhook.url.invalid";
inline constexpr std::string_view kSpoolShared = "webhook.spool.shared";
inline constexpr std::string_view kTemplateInvalid = "webhook.template.invalid";
inline constexpr std::string_view kSecretInline = "webhook.secret.inline";
inline constexpr std::string_view kSecretUnreadable = "webhook.secret.unreadable";
inline constexpr std::string_view kFileUnreadable = "webhook.file.unreadable";
inline constexpr std::string_view kEmpty = "webhook.config.empty";
// Warnings.
inline constexpr std::string_view kSecretPermissions = "webhook.secret.permissions";
inline constexpr std::string_view kTlsInsecure = "webhook.tls.insecure";
inline constexpr std::string_view kTlsIgnored = "webhook.tls.ignored";
inline constexpr std::string_view kUnsigned = "webhook.secret.none";
}  // namespace codes

struct WebhookUrl {
  bool tls = false;          // https
  std::string host;          // a name, an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 0;    // 80 or 443 unless given
  std::string target;        // path and query, at least "/"
  std::string host_header;   // Host: host, with [] for IPv6 and :port when not the default
  std::string redacted;      // scheme://host:port/path without the query, for logs
};

// Parses an http:// or https:// URL. User info ("user:pass@") is refused: credentials
// do not belong in the configuration text. Returns the reason on failure.
std::expected<WebhookUrl, std::string> parse_webhook_url(std::string_view url);

// Which detections a webhook wants; all given conditions must hold.
struct WebhookFilter {
  core::RuleSeverity min_severity = core::RuleSeverity::kInfo;
  std::vector<std::string> rules;  // rule ids; "prefix*" matches by prefix; empty = all
  std::vector<std::string> tags;   // at least one of these tags; empty = any

  // True when the detection passes. An unknown severity string counts as medium.
  bool matches(const core::Detection& detection) const;
};

struct TlsSettings {
  std::string ca_file;       // PEM CA bundle; empty = the system's trust store
  std::string client_cert;   // PEM certificate chain for mutual TLS (with client_key)
  std::string client_key;    // PEM private key
  bool insecure_skip_verify = false;  // no peer or host name verification (warned about)
};

struct WebhookConfig {
  std::string name;
  WebhookUrl url;
  std::string spool_dir;  // relative paths in the file are resolved against its directory
  WebhookFilter filter;
  Payload payload;
  std::string secret;     // HMAC key; empty = requests are not signed
  TlsSettings tls;
  std::chrono::milliseconds timeout{10000};         // one attempt, from connect to the end of the response
  std::chrono::milliseconds connect_timeout{5000};  // resolve, TCP connect and TLS handshake
  BackoffPolicy backoff;
  SpoolLimits spool_limits;
};

struct WebhookConfigResult {
  std::vector<WebhookConfig> webhooks;  // only when there are no errors
  std::vector<core::Diagnostic> diagnostics;
};

// Where relative paths in the configuration are resolved and where secret_env is
// looked up; tests substitute both.
struct ConfigEnvironment {
  std::string base_dir = ".";  // relative spool_dir, secret_file, ca_file, ... are under it
  std::function<std::optional<std::string>(const std::string&)> getenv;  // null: the process environment
};

// Loads configuration text; origin names it in diagnostics. Reads secret files and
// environment variables and checks that the TLS files are readable.
WebhookConfigResult load_webhook_config(std::string_view text, std::string_view origin, const ConfigEnvironment& env);

// Reads and loads a configuration file; relative paths in it are relative to its directory.
WebhookConfigResult load_webhook_config_file(const std::string& path);

}  // namespace jcorr::sinks
