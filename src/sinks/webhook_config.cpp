#include "jcorr/sinks/webhook_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/json_locate.h"
#include "jcorr/core/json_text.h"
#include "jcorr/core/rule_loader.h"

namespace jcorr::sinks {

using core::Diagnostic;
using core::Severity;
using nlohmann::json;

// ---------------------------------------------------------------------------------------
// URLs

std::expected<WebhookUrl, std::string> parse_webhook_url(std::string_view url) {
  WebhookUrl u;
  auto lower_prefix = [&](std::string_view p) {
    if (url.size() < p.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(url[i])) != p[i]) return false;
    return true;
  };
  std::string_view rest;
  if (lower_prefix("https://")) {
    u.tls = true;
    rest = url.substr(8);
  } else if (lower_prefix("http://")) {
    rest = url.substr(7);
  } else {
    return std::unexpected("the URL must start with http:// or https://");
  }
  for (const char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return std::unexpected("the URL contains a space or control character (percent-encode it)");
  const std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (authority.find('@') != std::string_view::npos)
    return std::unexpected("user info (user:password@) is not allowed in the URL: credentials do not belong in the "
                           "configuration; sign requests with secret_file or secret_env instead");
  std::string_view port_text;
  bool v6 = false;
  if (authority.starts_with("[")) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::unexpected("unterminated [IPv6 address]");
    u.host = std::string(authority.substr(1, close - 1));
    v6 = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return std::unexpected("unexpected text after the [IPv6 address]");
      port_text = after.substr(1);
      if (port_text.empty()) return std::unexpected("empty port");
    }
    if (u.host.empty() || u.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos)
      return std::unexpected("invalid IPv6 address \"" + u.host + "\"");
  } else {
    const std::size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return std::unexpected("empty port");
    }
    if (u.host.empty()) return std::unexpected("the URL has no host");
    for (const char c : u.host)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
        return std::unexpected("invalid character '" + std::string(1, c) + "' in host \"" + u.host + "\"");
  }
  u.port = u.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || p == 0 || p > 65535)
      return std::unexpected("invalid port \"" + std::string(port_text) + "\"");
    u.port = static_cast<std::uint16_t>(p);
  }
  if (const std::size_t hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  u.target = tail.empty() ? "/" : (tail.front() == '?' ? "/" + std::string(tail) : std::string(tail));
  u.host_header = v6 ? "[" + u.host + "]" : u.host;
  if (u.port != (u.tls ? 443 : 80)) u.host_header += ":" + std::to_string(u.port);
  const std::string path = u.target.substr(0, u.target.find('?'));
  u.redacted = std::string(u.tls ? "https://" : "http://") + u.host_header + path;
  return u;
}

// ---------------------------------------------------------------------------------------
// Filters

bool WebhookFilter::matches(const core::Detection& d) const {
  const auto severity = core::parse_severity(d.severity).value_or(core::RuleSeverity::kMedium);
  if (severity < min_severity) return false;
  if (!rules.empty()) {
    const bool any = std::any_of(rules.begin(), rules.end(), [&](const std::string& r) {
      if (!r.empty() && r.back() == '*') return d.rule_id.starts_with(std::string_view(r).substr(0, r.size() - 1));
      return d.rule_id == r;
    });
    if (!any) return false;
  }
  if (!tags.empty()) {
    const bool any = std::any_of(tags.begin(), tags.end(), [&](const std::string& t) {
      return std::find(d.tags.begin(), d.tags.end(), t) != d.tags.end();
    });
    if (!any) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Loading

namespace {

std::string pointer_escape(std::string_view key) {
  std::string s;
  for (const char c : key) {
    if (c == '~') s += "~0";
    else if (c == '/') s += "~1";
    else s.push_back(c);
  }
  return s;
}

std::string type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    default: return "a number";
  }
}

// Parses a byte size: an integer, or a string with an optional unit (B, K/KB/KiB,
// M/MB/MiB, G/GB/GiB; the decimal and binary spellings are both taken as binary).
std::optional<std::uint64_t> parse_size(const json& j) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    return v < 0 ? std::nullopt : std::optional<std::uint64_t>(static_cast<std::uint64_t>(v));
  }
  if (!j.is_string()) return std::nullopt;
  const std::string& s = j.get_ref<const std::string&>();
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || p == s.data()) return std::nullopt;
  std::string unit(p, s.data() + s.size());
  unit.erase(std::remove(unit.begin(), unit.end(), ' '), unit.end());
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::uint64_t mul = 0;
  if (unit.empty() || unit == "b") mul = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mul = 1ULL << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") mul = 1ULL << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") mul = 1ULL << 30;
  else return std::nullopt;
  if (n > (~0ULL) / mul) return std::nullopt;
  return n * mul;
}

// A detection with every field set, to check that a template renders to valid JSON.
json sample_detection() {
  return json{{"id", "0123456789abcdef0123456789abcdef"},
              {"rule", "sample-rule"},
              {"title", "Sample \"quoted\" title"},
              {"severity", "high"},
              {"attack", {"T1053.006"}},
              {"tags", {"persistence"}},
              {"summary", "alice from 203.0.113.45 started x.timer on web01 \"quoted\"\n"},
              {"host", {{"machine_id", "b9b5cf1f95cc478f9553d01ae90a6ef1"}, {"hostname", "web01"}}},
              {"first", "2026-01-01T00:00:00.000000Z"},
              {"last", "2026-01-01T00:00:01.000000Z"},
              {"time", "2026-01-01T00:00:01.000000Z"},
              {"time_us", 1767225601000000},
              {"values", {{"user", "alice"}, {"command", {"a", "b"}}}},
              {"group", {{"_MACHINE_ID", "b9b5cf1f95cc478f9553d01ae90a6ef1"}}},
              {"evidence", json::array()}};
}

struct Loader {
  std::string_view text;
  std::string origin;
  const ConfigEnvironment& env;
  std::vector<Diagnostic> diags;

  void report(Severity severity, std::string_view code, const std::string& pointer, std::string message) {
    Diagnostic d;
    d.severity = severity;
    d.code = std::string(code);
    d.origin = origin;
    d.pointer = pointer;
    auto [line, col] = core::locate_json_pointer(text, pointer);
    d.line = line;
    d.column = col;
    d.message = std::move(message);
    diags.push_back(std::move(d));
  }
  std::ptrdiff_t error_count() const {
    return std::count_if(diags.begin(), diags.end(), [](const Diagnostic& d) { return d.severity == Severity::kError; });
  }
  void error(std::string_view code, const std::string& pointer, std::string message) {
    report(Severity::kError, code, pointer, std::move(message));
  }
  void warning(std::string_view code, const std::string& pointer, std::string message) {
    report(Severity::kWarning, code, pointer, std::move(message));
  }

  std::string resolve(const std::string& path) const {
    if (path.empty() || path.front() == '/') return path;
    return (std::filesystem::path(env.base_dir) / path).lexically_normal().string();
  }

  std::optional<std::string> getenv(const std::string& name) const {
    if (env.getenv) return env.getenv(name);
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  }

  // The string at key, or nullopt (with an error when it is there but not a string).
  std::optional<std::string> string_at(const json& obj, const char* key, const std::string& ptr, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) error(codes::kKeyMissing, ptr, std::string("\"") + key + "\" is required");
      return std::nullopt;
    }
    if (!it->is_string()) {
      error(codes::kTypeMismatch, ptr + "/" + key, std::string("\"") + key + "\" must be a string, not " + type_name(*it));
      return std::nullopt;
    }
    return it->get<std::string>();
  }

  std::vector<std::string> strings_at(const json& obj, const char* key, const std::string& ptr) {
    std::vector<std::string> out;
    auto it = obj.find(key);
    if (it == obj.end()) return out;
    const std::string p = ptr + "/" + key;
    if (!it->is_array()) {
      error(codes::kTypeMismatch, p, std::string("\"") + key + "\" must be an array of strings");
      return out;
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& e = (*it)[i];
      if (!e.is_string() || e.get_ref<const std::string&>().empty())
        error(codes::kTypeMismatch, p + "/" + std::to_string(i), "must be a non-empty string");
      else out.push_back(e.get<std::string>());
    }
    return out;
  }

  std::optional<std::chrono::milliseconds> duration_at(const json& obj, const char* key, const std::string& ptr) {
    auto it = obj.find(key);
    if (it == obj.end()) return std::nullopt;
    const std::string p = ptr + "/" + key;
    if (!it->is_string()) {
      error(codes::kTypeMismatch, p, std::string("\"") + key + "\" must be a duration string such as \"10s\"");
      return std::nullopt;
    }
    auto d = core::parse_duration(it->get<std::string>());
    if (!d) {
      error(codes::kValueInvalid, p, d.error());
      return std::nullopt;
    }
    if (*d <= 0) {
      error(codes::kValueInvalid, p, std::string("\"") + key + "\" must be longer than 0");
      return std::nullopt;
    }
    return std::chrono::milliseconds((*d + 999) / 1000);
  }

  std::optional<std::string> readable_file(const json& obj, const char* key, const std::string& ptr) {
    auto v = string_at(obj, key, ptr, false);
    if (!v) return std::nullopt;
    const std::string path = resolve(*v);
    if (v->empty() || ::access(path.c_str(), R_OK) != 0) {
      error(codes::kFileUnreadable, ptr + "/" + key,
            "cannot read " + path + (v->empty() ? "" : std::string(": ") + std::strerror(errno)));
      return std::nullopt;
    }
    return path;
  }

  void load_secret(const json& w, const std::string& ptr, WebhookConfig& c) {
    for (const char* inline_key : {"secret", "hmac_secret", "signing_secret"}) {
      if (w.contains(inline_key))
        error(codes::kSecretInline, ptr + "/" + inline_key,
              "secrets are never read from the configuration text; use \"secret_file\" or \"secret_env\"");
    }
    const bool has_file = w.contains("secret_file"), has_env = w.contains("secret_env");
    if (has_file && has_env) {
      error(codes::kValueInvalid, ptr + "/secret_env", "give \"secret_file\" or \"secret_env\", not both");
      return;
    }
    if (has_file) {
      auto v = string_at(w, "secret_file", ptr, false);
      if (!v) return;
      const std::string path = resolve(*v);
      const std::string p = ptr + "/secret_file";
      std::ifstream in(path, std::ios::binary);
      if (v->empty() || !in) {
        error(codes::kSecretUnreadable, p, "cannot read the secret file " + path);
        return;
      }
      std::ostringstream s;
      s << in.rdbuf();
      c.secret = s.str();
      while (!c.secret.empty() && std::isspace(static_cast<unsigned char>(c.secret.back()))) c.secret.pop_back();
      if (c.secret.empty()) error(codes::kSecretUnreadable, p, "the secret file " + path + " is empty");
      struct stat st {};
      if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
        warning(codes::kSecretPermissions, p,
                "the secret file " + path + " is accessible by group or others (mode " + mode + "); chmod 600 it");
      }
    } else if (has_env) {
      auto v = string_at(w, "secret_env", ptr, false);
      if (!v) return;
      auto value = getenv(*v);
      if (!value || value->empty()) error(codes::kSecretUnreadable, ptr + "/secret_env",
                                          "the environment variable " + *v + " is not set or empty");
      else c.secret = *value;
    }
  }

  void load_template(const json& w, const std::string& ptr, WebhookConfig& c) {
    auto it = w.find("template");
    const std::string p = ptr + "/template";
    std::string source;
    if (it->is_string()) {
      source = it->get<std::string>();
    } else if (it->is_object() || it->is_array()) {
      // A template written as JSON: its strings carry the placeholders, and a string
      // that is only "{detection}" stands for the detection object itself.
      source = it->dump(-1, ' ', false, json::error_handler_t::replace);
      for (std::size_t at = 0; (at = source.find("\"{detection}\"", at)) != std::string::npos;)
        source.replace(at, 13, "{detection}");
    } else {
      error(codes::kTypeMismatch, p, "\"template\" must be a string or a JSON object");
      return;
    }
    std::string content_type = "application/json";
    if (auto ct = string_at(w, "content_type", ptr, false)) content_type = *ct;
    auto compiled = WebhookTemplate::compile(source);
    if (!compiled) {
      error(codes::kTemplateInvalid, p,
            compiled.error().message + (it->is_string() ? " (at byte " + std::to_string(compiled.error().offset) + ")" : ""));
      return;
    }
    if (content_type.find("json") != std::string::npos) {
      const std::string sample = compiled->render(sample_detection());
      if (json::parse(sample, nullptr, false).is_discarded())
        error(codes::kTemplateInvalid, p,
              "the template does not render to valid JSON (Content-Type " + content_type +
                  "); values are JSON-escaped without quotes, so put placeholders inside string literals. "
                  "Sample rendering: " + sample.substr(0, 200));
    }
    c.payload = Payload::with_template(std::move(*compiled), content_type);
  }

  void load_one(const json& w, const std::string& ptr, std::vector<WebhookConfig>& out) {
    static const std::set<std::string> kKeys = {
        "name",        "url",        "spool_dir",   "min_severity",   "rules",          "tags",
        "format",      "template",   "content_type", "secret_file",   "secret_env",     "ca_file",
        "client_cert", "client_key", "insecure_skip_verify", "timeout", "connect_timeout", "backoff",
        "spool_max_bytes", "spool_max_files", "description", "enabled", "secret", "hmac_secret", "signing_secret"};
    if (!w.is_object()) {
      error(codes::kTypeMismatch, ptr, "each webhook must be an object, not " + type_name(w));
      return;
    }
    const auto errors_before = error_count();
    for (const auto& [k, v] : w.items())
      if (!kKeys.contains(k)) error(codes::kKeyUnknown, ptr + "/" + pointer_escape(k), "unknown key \"" + k + "\"");

    WebhookConfig c;
    if (auto name = string_at(w, "name", ptr, true)) {
      const bool ok = !name->empty() && name->size() <= 64 && std::all_of(name->begin(), name->end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
      });
      if (!ok) error(codes::kValueInvalid, ptr + "/name", "a name is 1-64 characters of letters, digits, '-', '_' and '.'");
      c.name = *name;
    }
    if (auto url = string_at(w, "url", ptr, true)) {
      auto u = parse_webhook_url(*url);
      if (!u) error(codes::kUrlInvalid, ptr + "/url", u.error());
      else c.url = std::move(*u);
    }
    if (auto dir = string_at(w, "spool_dir", ptr, true)) {
      if (dir->empty()) error(codes::kValueInvalid, ptr + "/spool_dir", "\"spool_dir\" must not be empty");
      c.spool_dir = resolve(*dir);
    }
    if (auto sev = string_at(w, "min_severity", ptr, false)) {
      auto s = core::parse_severity(*sev);
      if (!s) error(codes::kValueInvalid, ptr + "/min_severity",
                    "unknown severity \"" + *sev + "\" (info, low, medium, high, critical)");
      else c.filter.min_severity = *s;
    }
    c.filter.rules = strings_at(w, "rules", ptr);
    c.filter.tags = strings_at(w, "tags", ptr);

    std::string format = "json";
    if (auto f = string_at(w, "format", ptr, false)) format = *f;
    const bool has_template = w.contains("template");
    if (format == "json") {
      c.payload = Payload();
    } else if (format == "slack") {
      c.payload = Payload(PayloadFormat::kSlack);
    } else if (format == "template") {
      if (!has_template) error(codes::kKeyMissing, ptr, "\"format\": \"template\" needs a \"template\"");
    } else {
      error(codes::kValueInvalid, ptr + "/format", "unknown format \"" + format + "\" (json, slack, template)");
    }
    if (has_template) {
      if (format != "template")
        error(codes::kValueInvalid, ptr + "/template", "\"template\" is used only with \"format\": \"template\"");
      else load_template(w, ptr, c);
    }
    if (w.contains("content_type") && !has_template)
      error(codes::kValueInvalid, ptr + "/content_type", "\"content_type\" is used only with a template");

    load_secret(w, ptr, c);

    if (auto f = readable_file(w, "ca_file", ptr)) c.tls.ca_file = *f;
    if (auto f = readable_file(w, "client_cert", ptr)) c.tls.client_cert = *f;
    if (auto f = readable_file(w, "client_key", ptr)) c.tls.client_key = *f;
    if (w.contains("client_cert") != w.contains("client_key"))
      error(codes::kKeyMissing, ptr, "\"client_cert\" and \"client_key\" go together");
    if (auto it = w.find("insecure_skip_verify"); it != w.end()) {
      if (!it->is_boolean()) error(codes::kTypeMismatch, ptr + "/insecure_skip_verify", "must be true or false");
      else c.tls.insecure_skip_verify = it->get<bool>();
      if (c.tls.insecure_skip_verify)
        warning(codes::kTlsInsecure, ptr + "/insecure_skip_verify",
                "the receiver's certificate and host name are not verified: anyone on the path can read and change "
                "the alerts");
    }
    if (!c.url.tls && c.url.port != 0) {
      for (const char* k : {"ca_file", "client_cert", "client_key", "insecure_skip_verify"})
        if (w.contains(k)) warning(codes::kTlsIgnored, ptr + "/" + k, std::string("\"") + k + "\" is ignored for an http:// URL");
    }

    if (auto d = duration_at(w, "timeout", ptr)) c.timeout = *d;
    if (auto d = duration_at(w, "connect_timeout", ptr)) c.connect_timeout = *d;
    if (auto it = w.find("backoff"); it != w.end()) {
      const std::string p = ptr + "/backoff";
      if (!it->is_object()) {
        error(codes::kTypeMismatch, p, "\"backoff\" must be an object {\"base\": \"1s\", \"max\": \"5m\"}");
      } else {
        for (const auto& [k, v] : it->items())
          if (k != "base" && k != "max") error(codes::kKeyUnknown, p + "/" + pointer_escape(k), "unknown key \"" + k + "\"");
        if (auto d = duration_at(*it, "base", p)) c.backoff.base = *d;
        if (auto d = duration_at(*it, "max", p)) c.backoff.max = *d;
        if (c.backoff.max < c.backoff.base)
          error(codes::kValueInvalid, p + "/max", "\"max\" must not be shorter than \"base\"");
      }
    }
    if (auto it = w.find("spool_max_bytes"); it != w.end()) {
      auto n = parse_size(*it);
      if (!n || *n == 0) error(codes::kValueInvalid, ptr + "/spool_max_bytes",
                               "a positive size in bytes, or a string such as \"64MiB\"");
      else c.spool_limits.max_bytes = *n;
    }
    if (auto it = w.find("spool_max_files"); it != w.end()) {
      if (!it->is_number_integer() || it->get<std::int64_t>() <= 0)
        error(codes::kValueInvalid, ptr + "/spool_max_files", "a positive number of files");
      else c.spool_limits.max_files = it->get<std::uint64_t>();
    }
    (void)string_at(w, "description", ptr, false);
    bool enabled = true;
    if (auto it = w.find("enabled"); it != w.end()) {
      if (!it->is_boolean()) error(codes::kTypeMismatch, ptr + "/enabled", "must be true or false");
      else enabled = it->get<bool>();
    }
    if (error_count() == errors_before && enabled) out.push_back(std::move(c));
  }
};

}  // namespace

WebhookConfigResult load_webhook_config(std::string_view text, std::string_view origin, const ConfigEnvironment& env) {
  Loader L{text, std::string(origin), env, {}};
  WebhookConfigResult result;
  auto parsed = core::parse_json_text(text);
  if (!parsed) {
    const std::string msg = parsed.error().reason;
    const std::size_t at = parsed.error().offset;
    Diagnostic d;
    d.code = std::string(codes::kJsonSyntax);
    d.origin = L.origin;
    auto [line, col] = core::line_column(text, at);
    d.line = line;
    d.column = col;
    d.message = msg;
    result.diagnostics.push_back(std::move(d));
    return result;
  }
  const json doc = std::move(*parsed);
  if (!doc.is_object()) {
    L.error(codes::kTypeMismatch, "", "the configuration must be an object {\"webhooks\": [...]}");
    result.diagnostics = std::move(L.diags);
    return result;
  }
  for (const auto& [k, v] : doc.items())
    if (k != "webhooks" && k != "description")
      L.error(codes::kKeyUnknown, "/" + pointer_escape(k), "unknown key \"" + k + "\" (expected \"webhooks\")");
  auto it = doc.find("webhooks");
  if (it == doc.end()) {
    L.error(codes::kKeyMissing, "", "\"webhooks\" is required");
  } else if (!it->is_array()) {
    L.error(codes::kTypeMismatch, "/webhooks", "\"webhooks\" must be an array");
  } else {
    if (it->empty()) L.warning(codes::kEmpty, "/webhooks", "no webhooks are configured");
    for (std::size_t i = 0; i < it->size(); ++i) L.load_one((*it)[i], "/webhooks/" + std::to_string(i), result.webhooks);
    // Names and spool directories must be unique; compare what was loaded, with the
    // pointer of each later duplicate.
    std::map<std::string, std::size_t> names, spools;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& w = (*it)[i];
      if (!w.is_object()) continue;
      const std::string ptr = "/webhooks/" + std::to_string(i);
      if (auto n = w.find("name"); n != w.end() && n->is_string()) {
        auto [pos, fresh] = names.emplace(n->get<std::string>(), i);
        if (!fresh) L.error(codes::kNameDuplicate, ptr + "/name",
                            "webhook \"" + n->get<std::string>() + "\" is also /webhooks/" + std::to_string(pos->second));
      }
      if (auto s = w.find("spool_dir"); s != w.end() && s->is_string() && !s->get_ref<const std::string&>().empty()) {
        std::error_code ec;
        const auto abs = std::filesystem::absolute(L.resolve(s->get<std::string>()), ec).lexically_normal().string();
        std::string key = abs;
        while (key.size() > 1 && key.back() == '/') key.pop_back();
        auto [pos, fresh] = spools.emplace(key, i);
        if (!fresh) L.error(codes::kSpoolShared, ptr + "/spool_dir",
                            "spool directory " + key + " is also used by /webhooks/" + std::to_string(pos->second) +
                                "; each webhook needs its own");
      }
    }
  }
  result.diagnostics = std::move(L.diags);
  if (core::has_errors(result.diagnostics)) result.webhooks.clear();
  return result;
}

WebhookConfigResult load_webhook_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    WebhookConfigResult r;
    Diagnostic d;
    d.code = std::string(codes::kConfigUnreadable);
    d.origin = path;
    d.message = std::string("cannot read the webhook configuration: ") + std::strerror(errno);
    r.diagnostics.push_back(std::move(d));
    return r;
  }
  std::ostringstream s;
  s << in.rdbuf();
  ConfigEnvironment env;
  const auto parent = std::filesystem::path(path).parent_path();
  env.base_dir = parent.empty() ? "." : parent.string();
  return load_webhook_config(s.str(), path, env);
}

}  // namespace jcorr::sinks
