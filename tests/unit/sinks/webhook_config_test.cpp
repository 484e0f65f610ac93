// The webhook configuration: what loads, and the diagnostics (code, JSON pointer,
// line:col) for what does not.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <string>

#include "jcorr/sinks/webhook_config.h"
#include "sink_test_util.h"

namespace codes = jcorr::sinks::codes;
using jcorr::core::Diagnostic;
using jcorr::sinks::ConfigEnvironment;
using jcorr::sinks::load_webhook_config;
using jcorr::sinks::parse_webhook_url;
using jcorr::sinks::PayloadFormat;
using jcorr::sinks::WebhookConfigResult;

namespace {

struct Fixture {
  jcorr::test::TempDir dir;
  std::map<std::string, std::string> env_vars{{"HOOK_SECRET", "from-env"}};
  ConfigEnvironment env;
  Fixture() {
    env.base_dir = dir.path;
    env.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_vars.find(name);
      return it == env_vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    write("secret", "file-secret\n", 0600);
    write("ca.pem", "not really a certificate", 0644);
  }
  void write(const std::string& name, const std::string& text, mode_t mode) {
    const std::string p = dir.path + "/" + name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
  }
  WebhookConfigResult load(const std::string& text) { return load_webhook_config(text, "hooks.json", env); }
};

std::string dump(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const auto& d : ds) s += d.to_string() + "\n";
  return s;
}

const Diagnostic* find(const std::vector<Diagnostic>& ds, std::string_view code, std::string_view pointer) {
  for (const auto& d : ds)
    if (d.code == code && d.pointer == pointer) return &d;
  return nullptr;
}

}  // namespace

TEST_CASE("a full webhook configuration loads", "[sinks][config]") {
  Fixture f;
  auto r = f.load(R"({
  "webhooks": [
    {"name": "siem", "url": "https://siem.example:8443/ingest?src=jcorr#frag", "spool_dir": "spool/siem",
     "min_severity": "medium", "rules": ["t1053-*", "other"], "tags": ["persistence"],
     "secret_file": "secret", "ca_file": "ca.pem", "timeout": "15s", "connect_timeout": "2s",
     "backoff": {"base": "250ms", "max": "2m"}, "spool_max_bytes": "8MiB", "spool_max_files": 500},
    {"name": "chat", "url": "http://127.0.0.1:9000", "spool_dir": "/var/spool/chat", "format": "slack",
     "secret_env": "HOOK_SECRET"},
    {"name": "soar", "url": "http://[::1]:8080/hook", "spool_dir": "soar", "format": "template",
     "template": {"rule": "{rule}", "host": "{host.hostname}", "user": "{values.user}"}},
    {"name": "off", "url": "http://x", "spool_dir": "off", "enabled": false}
  ]
})");
  INFO(dump(r.diagnostics));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.webhooks.size() == 3);
  const auto& s = r.webhooks[0];
  CHECK(s.name == "siem");
  CHECK(s.url.tls);
  CHECK(s.url.host == "siem.example");
  CHECK(s.url.port == 8443);
  CHECK(s.url.target == "/ingest?src=jcorr");
  CHECK(s.url.host_header == "siem.example:8443");
  CHECK(s.url.redacted == "https://siem.example:8443/ingest");
  CHECK(s.spool_dir == f.dir.path + "/spool/siem");
  CHECK(s.filter.min_severity == jcorr::core::RuleSeverity::kMedium);
  CHECK(s.secret == "file-secret");
  CHECK(s.tls.ca_file == f.dir.path + "/ca.pem");
  CHECK(s.timeout == std::chrono::seconds(15));
  CHECK(s.connect_timeout == std::chrono::seconds(2));
  CHECK(s.backoff.base == std::chrono::milliseconds(250));
  CHECK(s.backoff.max == std::chrono::minutes(2));
  CHECK(s.spool_limits.max_bytes == 8u << 20);
  CHECK(s.spool_limits.max_files == 500);
  CHECK(s.payload.format() == PayloadFormat::kJson);
  const auto& c = r.webhooks[1];
  CHECK(c.secret == "from-env");
  CHECK(c.spool_dir == "/var/spool/chat");
  CHECK(c.payload.format() == PayloadFormat::kSlack);
  CHECK(c.url.host_header == "127.0.0.1:9000");
  CHECK(c.url.target == "/");
  const auto& t = r.webhooks[2];
  CHECK(t.url.host == "::1");
  CHECK(t.url.host_header == "[::1]:8080");
  CHECK(t.payload.format() == PayloadFormat::kTemplate);
  CHECK(t.payload.render(jcorr::core::to_json(jcorr::test::sample_detection())) ==
        R"({"host":"web01","rule":"t1053-006-timer-after-ssh-sudo","user":"alice"})");
}

TEST_CASE("a template written as JSON embeds the detection with \"{detection}\"", "[sinks][config]") {
  Fixture f;
  auto r = f.load(R"({"webhooks": [{"name": "soar", "url": "http://h/", "spool_dir": "s", "format": "template",
    "template": {"source": "jcorr", "detail": "{detection}", "list": ["{detection}", "{rule}"]}}]})");
  INFO(dump(r.diagnostics));
  REQUIRE(r.webhooks.size() == 1);
  const auto d = jcorr::core::to_json(jcorr::test::sample_detection());
  const auto body = nlohmann::json::parse(r.webhooks[0].payload.render(d));
  CHECK(body["source"] == "jcorr");
  CHECK(body["detail"] == d);
  CHECK(body["list"][0] == d);
  CHECK(body["list"][1] == "t1053-006-timer-after-ssh-sudo");
}

TEST_CASE("the filter applies severity, rule ids (with prefix*) and tags", "[sinks][config]") {
  jcorr::sinks::WebhookFilter f;
  auto d = jcorr::test::sample_detection();
  CHECK(f.matches(d));
  f.min_severity = jcorr::core::RuleSeverity::kCritical;
  CHECK_FALSE(f.matches(d));
  f.min_severity = jcorr::core::RuleSeverity::kHigh;
  CHECK(f.matches(d));
  d.severity = "weird";  // unknown: medium
  CHECK_FALSE(f.matches(d));
  f.min_severity = jcorr::core::RuleSeverity::kMedium;
  CHECK(f.matches(d));
  f.rules = {"t1053-*"};
  CHECK(f.matches(d));
  f.rules = {"t1053-006"};
  CHECK_FALSE(f.matches(d));
  f.rules = {"t1053-006-timer-after-ssh-sudo"};
  CHECK(f.matches(d));
  f.tags = {"nope", "ssh"};
  CHECK(f.matches(d));
  f.tags = {"nope"};
  CHECK_FALSE(f.matches(d));
}

TEST_CASE("configuration mistakes are reported with code, pointer and position", "[sinks][config]") {
  Fixture f;
  struct Case {
    std::string name;
    std::string webhook;  // the members of /webhooks/0 after name and url
    std::string_view code;
    std::string pointer;
    std::string message_part;
  };
  const std::string base = R"("name": "a", "url": "http://127.0.0.1:1/", "spool_dir": "s")";
  const Case cases[] = {
      {"unknown key", base + R"(, "retries": 3)", codes::kKeyUnknown, "/webhooks/0/retries", "retries"},
      {"missing url", R"("name": "a", "spool_dir": "s")", codes::kKeyMissing, "/webhooks/0", "\"url\""},
      {"missing spool", R"("name": "a", "url": "http://h/")", codes::kKeyMissing, "/webhooks/0", "\"spool_dir\""},
      {"bad name", R"("name": "a b", "url": "http://h/", "spool_dir": "s")", codes::kValueInvalid, "/webhooks/0/name", "letters"},
      {"bad scheme", R"("name": "a", "url": "ftp://h/", "spool_dir": "s")", codes::kUrlInvalid, "/webhooks/0/url", "http://"},
      {"userinfo", R"("name": "a", "url": "https://u:p@h/", "spool_dir": "s")", codes::kUrlInvalid, "/webhooks/0/url", "credentials"},
      {"bad port", R"("name": "a", "url": "http://h:99999/", "spool_dir": "s")", codes::kUrlInvalid, "/webhooks/0/url", "port"},
      {"severity", base + R"(, "min_severity": "urgent")", codes::kValueInvalid, "/webhooks/0/min_severity", "urgent"},
      {"rules type", base + R"(, "rules": "t1053")", codes::kTypeMismatch, "/webhooks/0/rules", "array"},
      {"rules entry", base + R"(, "rules": ["ok", 3])", codes::kTypeMismatch, "/webhooks/0/rules/1", "string"},
      {"format", base + R"(, "format": "xml")", codes::kValueInvalid, "/webhooks/0/format", "xml"},
      {"template without format", base + R"(, "template": "{rule}")", codes::kValueInvalid, "/webhooks/0/template", "format"},
      {"format without template", base + R"(, "format": "template")", codes::kKeyMissing, "/webhooks/0", "template"},
      {"template field", base + R"(, "format": "template", "template": "{\"t\": \"{rules}\"}")", codes::kTemplateInvalid,
       "/webhooks/0/template", "unknown field {rules}"},
      {"template not JSON", base + R"(, "format": "template", "template": "{\"t\": {summary}}")", codes::kTemplateInvalid,
       "/webhooks/0/template", "valid JSON"},
      {"inline secret", base + R"(, "secret": "hunter2")", codes::kSecretInline, "/webhooks/0/secret", "secret_file"},
      {"both secrets", base + R"(, "secret_file": "secret", "secret_env": "HOOK_SECRET")", codes::kValueInvalid,
       "/webhooks/0/secret_env", "not both"},
      {"missing secret file", base + R"(, "secret_file": "nope")", codes::kSecretUnreadable, "/webhooks/0/secret_file", "nope"},
      {"unset env", base + R"(, "secret_env": "NOT_SET")", codes::kSecretUnreadable, "/webhooks/0/secret_env", "NOT_SET"},
      {"missing ca", base + R"(, "ca_file": "missing.pem")", codes::kFileUnreadable, "/webhooks/0/ca_file", "missing.pem"},
      {"cert without key", base + R"(, "client_cert": "ca.pem")", codes::kKeyMissing, "/webhooks/0", "go together"},
      {"timeout", base + R"(, "timeout": "10")", codes::kValueInvalid, "/webhooks/0/timeout", "unit"},
      {"timeout type", base + R"(, "timeout": 10)", codes::kTypeMismatch, "/webhooks/0/timeout", "duration"},
      {"backoff order", base + R"(, "backoff": {"base": "1m", "max": "1s"})", codes::kValueInvalid,
       "/webhooks/0/backoff/max", "shorter"},
      {"backoff key", base + R"(, "backoff": {"factor": 2})", codes::kKeyUnknown, "/webhooks/0/backoff/factor", "factor"},
      {"spool bytes", base + R"(, "spool_max_bytes": "lots")", codes::kValueInvalid, "/webhooks/0/spool_max_bytes", "size"},
      {"spool files", base + R"(, "spool_max_files": 0)", codes::kValueInvalid, "/webhooks/0/spool_max_files", "positive"},
      {"insecure type", base + R"(, "insecure_skip_verify": "yes")", codes::kTypeMismatch,
       "/webhooks/0/insecure_skip_verify", "true or false"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto r = f.load("{\"webhooks\": [\n  {" + c.webhook + "}\n]}");
    INFO(dump(r.diagnostics));
    CHECK(r.webhooks.empty());
    const Diagnostic* d = find(r.diagnostics, c.code, c.pointer);
    REQUIRE(d != nullptr);
    CHECK(d->severity == jcorr::core::Severity::kError);
    CHECK(d->origin == "hooks.json");
    CHECK(d->line == 2);
    CHECK(d->column > 0);
    CHECK_THAT(d->message, Catch::Contains(c.message_part));
  }
}

TEST_CASE("document-level mistakes and cross-webhook checks", "[sinks][config]") {
  Fixture f;
  {
    auto r = f.load("{\"webhooks\": [\n  {\"name\": \"a\",}\n]}");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == codes::kJsonSyntax);
    CHECK(r.diagnostics[0].line == 2);
  }
  {
    // A number too large for a double is no syntax error to the parser, but the file
    // still cannot be read: a diagnostic, never an exception.
    auto r = f.load(R"({"webhooks": [{"name": "a", "timeout": 1e400}]})");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == codes::kJsonSyntax);
    CHECK(r.diagnostics[0].message == "number overflow parsing '1e400'");
  }
  {
    auto r = f.load(R"({"hooks": []})");
    CHECK(find(r.diagnostics, codes::kKeyUnknown, "/hooks"));
    CHECK(find(r.diagnostics, codes::kKeyMissing, ""));
  }
  {
    auto r = f.load(R"([1])");
    CHECK(find(r.diagnostics, codes::kTypeMismatch, ""));
  }
  {
    auto r = f.load(R"({"webhooks": [
      {"name": "a", "url": "http://h/", "spool_dir": "s"},
      {"name": "a", "url": "http://h/", "spool_dir": "./s/"},
      {"name": "b", "url": "http://h/", "spool_dir": "t", "rules": 5}]})");
    INFO(dump(r.diagnostics));
    CHECK(find(r.diagnostics, codes::kNameDuplicate, "/webhooks/1/name"));
    CHECK(find(r.diagnostics, codes::kSpoolShared, "/webhooks/1/spool_dir"));
    CHECK(find(r.diagnostics, codes::kTypeMismatch, "/webhooks/2/rules"));
    CHECK(r.webhooks.empty());  // any error: nothing loads
  }
}

TEST_CASE("warnings: loose secret file, TLS verification off, TLS options on http", "[sinks][config]") {
  Fixture f;
  f.write("loose", "s3cret", 0644);
  auto r = f.load(R"({"webhooks": [
    {"name": "a", "url": "https://h/", "spool_dir": "s", "secret_file": "loose", "insecure_skip_verify": true},
    {"name": "b", "url": "http://h/", "spool_dir": "t", "ca_file": "ca.pem"}]})");
  INFO(dump(r.diagnostics));
  CHECK_FALSE(jcorr::core::has_errors(r.diagnostics));
  CHECK(r.webhooks.size() == 2);
  CHECK(find(r.diagnostics, codes::kSecretPermissions, "/webhooks/0/secret_file"));
  CHECK(find(r.diagnostics, codes::kTlsInsecure, "/webhooks/0/insecure_skip_verify"));
  CHECK(find(r.diagnostics, codes::kTlsIgnored, "/webhooks/1/ca_file"));
}

TEST_CASE("parse_webhook_url", "[sinks][config]") {
  auto u = parse_webhook_url("HTTPS://Example.com?x=1");
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->port == 443);
  CHECK(u->target == "/?x=1");
  CHECK(u->host_header == "Example.com");
  CHECK_FALSE(parse_webhook_url("http://"));
  CHECK_FALSE(parse_webhook_url("http://h:/"));
  CHECK_FALSE(parse_webhook_url("http://h/a b"));
  CHECK_FALSE(parse_webhook_url("http://[::1/"));
  CHECK_FALSE(parse_webhook_url("http://h:0/"));
}
