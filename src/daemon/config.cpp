// Configuration parsing: a walk over the JSON object that checks every key it knows,
// reports every key it does not, and keeps going after each problem so that one run
// shows them all.
#include "jcorr/daemon/config.h"

#include "daemon/asio.h"
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/json_locate.h"
#include "jcorr/core/json_text.h"
#include "jcorr/core/rule_loader.h"

namespace jcorr::daemon {

namespace fs = std::filesystem;
using nlohmann::json;

std::string FollowSpec::identity() const {
  switch (kind) {
    case Kind::kLocal: return "local";
    case Kind::kNamespace: return "namespace:" + name_space;
    case Kind::kDirectory: return "directory:" + directory;
  }
  return "?";
}

std::string format_address(const std::string& address, std::uint16_t port) {
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

namespace {

class Walker {
 public:
  Walker(std::string_view text, std::string_view origin, std::vector<core::Diagnostic>& out)
      : text_(text), origin_(origin), out_(out), base_(fs::path(std::string(origin)).parent_path()) {}

  void error(std::string_view code, const std::string& pointer, std::string message) {
    core::Diagnostic d;
    d.code = std::string(code);
    d.origin = origin_;
    d.pointer = pointer;
    const auto [line, column] = core::locate_json_pointer(text_, pointer);
    d.line = line;
    d.column = column;
    d.message = std::move(message);
    out_.push_back(std::move(d));
  }

  // Reports keys of object o that are not in known.
  void check_keys(const json& o, const std::string& pointer, std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : o.items()) {
      bool ok = false;
      for (const auto k : known) ok = ok || key == k;
      if (!ok) {
        std::string list;
        for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        error(config_codes::kKeyUnknown, pointer + "/" + escape(key), "unknown key \"" + key + "\" (known: " + list + ")");
      }
    }
  }

  static std::string escape(const std::string& key) {
    std::string s;
    for (const char c : key) {
      if (c == '~') s += "~0";
      else if (c == '/') s += "~1";
      else s += c;
    }
    return s;
  }

  bool expect(const json& v, json::value_t type, const std::string& pointer, std::string_view what) {
    const bool ok = v.type() == type || (type == json::value_t::number_unsigned && v.is_number_integer() && v >= 0);
    if (!ok) error(config_codes::kTypeMismatch, pointer, "expected " + std::string(what) + ", got " + v.type_name());
    return ok;
  }

  std::optional<std::string> string(const json& v, const std::string& pointer) {
    if (!expect(v, json::value_t::string, pointer, "a string")) return std::nullopt;
    return v.get<std::string>();
  }

  std::optional<bool> boolean(const json& v, const std::string& pointer) {
    if (!expect(v, json::value_t::boolean, pointer, "true or false")) return std::nullopt;
    return v.get<bool>();
  }

  std::optional<std::size_t> count(const json& v, const std::string& pointer, std::size_t min) {
    if (!expect(v, json::value_t::number_unsigned, pointer, "a non-negative integer")) return std::nullopt;
    const auto n = v.get<std::uint64_t>();
    if (n < min) {
      error(config_codes::kValueInvalid, pointer, "must be at least " + std::to_string(min));
      return std::nullopt;
    }
    return static_cast<std::size_t>(n);
  }

  std::optional<core::Micros> duration(const json& v, const std::string& pointer) {
    auto s = string(v, pointer);
    if (!s) return std::nullopt;
    auto d = core::parse_duration(*s);
    if (!d) {
      error(config_codes::kValueInvalid, pointer, d.error());
      return std::nullopt;
    }
    return *d;
  }

  std::optional<std::string> path(const json& v, const std::string& pointer) {
    auto s = string(v, pointer);
    if (!s) return std::nullopt;
    if (s->empty()) {
      error(config_codes::kValueInvalid, pointer, "an empty path");
      return std::nullopt;
    }
    fs::path p(*s);
    if (p.is_relative()) p = base_ / p;
    return p.lexically_normal().string();
  }

 private:
  std::string_view text_;
  std::string origin_;
  std::vector<core::Diagnostic>& out_;
  fs::path base_;
};

void parse_follow(Walker& w, const json& v, DaemonConfig& c) {
  const std::string ptr = "/follow";
  if (v.is_string()) {
    if (v.get<std::string>() == "local") {
      c.follow.kind = FollowSpec::Kind::kLocal;
      return;
    }
    w.error(config_codes::kValueInvalid, ptr,
            "\"local\", {\"namespace\": NAME} or {\"directory\": PATH}; got \"" + v.get<std::string>() + "\"");
    return;
  }
  if (!w.expect(v, json::value_t::object, ptr, "\"local\", {\"namespace\": NAME} or {\"directory\": PATH}")) return;
  w.check_keys(v, ptr, {"namespace", "directory"});
  if (v.size() != 1) {
    w.error(config_codes::kValueInvalid, ptr, "name exactly one of \"namespace\" or \"directory\"");
    return;
  }
  if (v.contains("namespace")) {
    if (auto ns = w.string(v["namespace"], ptr + "/namespace")) {
      if (ns->empty() || ns->find('/') != std::string::npos)
        w.error(config_codes::kValueInvalid, ptr + "/namespace", "not a journal namespace name");
      c.follow.kind = FollowSpec::Kind::kNamespace;
      c.follow.name_space = *ns;
    }
  } else if (v.contains("directory")) {
    if (auto d = w.path(v["directory"], ptr + "/directory")) {
      c.follow.kind = FollowSpec::Kind::kDirectory;
      c.follow.directory = *d;
    }
  }
}

void parse_metrics(Walker& w, const json& v, DaemonConfig& c) {
  const std::string ptr = "/metrics";
  if (!w.expect(v, json::value_t::object, ptr, "an object")) return;
  w.check_keys(v, ptr, {"enabled", "listen", "allow_non_loopback"});
  if (v.contains("enabled"))
    if (auto b = w.boolean(v["enabled"], ptr + "/enabled")) c.metrics.enabled = *b;
  if (v.contains("allow_non_loopback"))
    if (auto b = w.boolean(v["allow_non_loopback"], ptr + "/allow_non_loopback")) c.metrics.allow_non_loopback = *b;
  if (!v.contains("listen")) return;
  auto listen = w.string(v["listen"], ptr + "/listen");
  if (!listen) return;
  std::string host;
  std::string port;
  if (listen->starts_with("[")) {
    const auto close = listen->find("]:");
    if (close == std::string::npos) {
      w.error(config_codes::kValueInvalid, ptr + "/listen", "expected ADDRESS:PORT or [IPV6]:PORT");
      return;
    }
    host = listen->substr(1, close - 1);
    port = listen->substr(close + 2);
  } else {
    const auto colon = listen->rfind(':');
    if (colon == std::string::npos) {
      w.error(config_codes::kValueInvalid, ptr + "/listen", "expected ADDRESS:PORT or [IPV6]:PORT");
      return;
    }
    host = listen->substr(0, colon);
    port = listen->substr(colon + 1);
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) {
    w.error(config_codes::kValueInvalid, ptr + "/listen", "\"" + host + "\" is not a numeric IP address");
    return;
  }
  char* end = nullptr;
  const unsigned long p = std::strtoul(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p > 65535) {
    w.error(config_codes::kValueInvalid, ptr + "/listen", "\"" + port + "\" is not a port number");
    return;
  }
  c.metrics.address = address.to_string();
  c.metrics.port = static_cast<std::uint16_t>(p);
  if (!address.is_loopback() && !c.metrics.allow_non_loopback)
    w.error(config_codes::kNotLoopback, ptr + "/listen",
            "the metrics endpoint has no authentication; listening on " + address.to_string() +
                " needs \"allow_non_loopback\": true");
}

void parse_caps(Walker& w, const json& v, DaemonConfig& c) {
  const std::string ptr = "/caps";
  if (!w.expect(v, json::value_t::object, ptr, "an object")) return;
  w.check_keys(v, ptr,
               {"partials_per_rule", "partials_total", "history_per_group", "history_per_rule", "members_per_partial",
                "suppressions", "evidence", "capture_bytes", "field_bytes", "regex_bytes", "pending_detections"});
  auto set = [&](const char* key, std::size_t& target, std::size_t min) {
    if (v.contains(key))
      if (auto n = w.count(v[key], ptr + "/" + key, min)) target = *n;
  };
  set("partials_per_rule", c.correlator.max_partials_per_rule, 1);
  set("partials_total", c.correlator.max_partials_total, 1);
  set("history_per_group", c.correlator.max_history_per_group, 1);
  set("history_per_rule", c.correlator.max_history_per_rule, 1);
  set("members_per_partial", c.correlator.max_members_per_partial, 1);
  set("suppressions", c.correlator.max_suppressions, 1);
  set("evidence", c.correlator.max_evidence, 1);
  set("capture_bytes", c.correlator.capture_limit, 16);
  set("field_bytes", c.max_field_size, 256);
  set("pending_detections", c.max_pending_detections, 1);
  std::size_t regex_bytes = static_cast<std::size_t>(c.regex_max_mem);
  set("regex_bytes", regex_bytes, 64u << 10);
  if (regex_bytes > (std::size_t{1} << 30)) {
    w.error(config_codes::kValueInvalid, ptr + "/regex_bytes", "at most 1073741824 (1 GiB)");
    regex_bytes = std::size_t{1} << 30;
  }
  c.regex_max_mem = static_cast<std::int64_t>(regex_bytes);
}

}  // namespace

ConfigResult parse_config(std::string_view text, std::string_view origin, std::string_view state_directory_default) {
  ConfigResult result;
  auto& diags = result.diagnostics;
  Walker w(text, origin, diags);
  auto parsed = core::parse_json_text(text);
  if (!parsed) {
    core::Diagnostic d;
    d.code = std::string(config_codes::kJsonSyntax);
    d.origin = std::string(origin);
    const auto [line, column] = core::line_column(text, parsed.error().offset);
    d.line = line;
    d.column = column;
    d.message = parsed.error().reason;
    diags.push_back(std::move(d));
    return result;
  }
  const json root = std::move(*parsed);

  DaemonConfig c;
  c.origin = std::string(origin);
  c.state_directory = std::string(state_directory_default);
  if (!w.expect(root, json::value_t::object, "", "an object")) return result;
  w.check_keys(root, "",
               {"rules", "follow", "state_directory", "start_at", "outputs", "metrics", "watermark",
                "checkpoint_interval", "caps", "journal_access", "log_level", "baseline"});

  if (root.contains("rules")) {
    const json& r = root["rules"];
    if (r.is_string()) {
      if (auto p = w.path(r, "/rules")) c.rules.push_back(*p);
    } else if (w.expect(r, json::value_t::array, "/rules", "a path or an array of paths")) {
      for (std::size_t i = 0; i < r.size(); ++i)
        if (auto p = w.path(r[i], "/rules/" + std::to_string(i))) c.rules.push_back(*p);
      if (r.empty()) w.error(config_codes::kValueInvalid, "/rules", "an empty list of rule paths");
    }
  }
  if (root.contains("follow")) parse_follow(w, root["follow"], c);
  if (root.contains("state_directory"))
    if (auto p = w.path(root["state_directory"], "/state_directory")) c.state_directory = *p;
  if (root.contains("start_at")) {
    if (auto s = w.string(root["start_at"], "/start_at")) {
      if (*s == "tail") c.start_at = DaemonConfig::StartAt::kTail;
      else if (*s == "head") c.start_at = DaemonConfig::StartAt::kHead;
      else w.error(config_codes::kValueInvalid, "/start_at", "\"tail\" or \"head\"; got \"" + *s + "\"");
    }
  }
  if (root.contains("outputs")) {
    const json& o = root["outputs"];
    if (w.expect(o, json::value_t::object, "/outputs", "an object")) {
      w.check_keys(o, "/outputs", {"stdout", "file", "webhooks"});
      if (o.contains("stdout"))
        if (auto b = w.boolean(o["stdout"], "/outputs/stdout")) c.outputs.stdout_lines = *b;
      if (o.contains("file"))
        if (auto p = w.path(o["file"], "/outputs/file")) c.outputs.file = *p;
      if (o.contains("webhooks"))
        if (auto p = w.path(o["webhooks"], "/outputs/webhooks")) c.outputs.webhooks = *p;
    }
  } else {
    c.outputs.stdout_lines = true;
  }
  if (root.contains("metrics")) parse_metrics(w, root["metrics"], c);
  if (root.contains("baseline")) {
    const json& b = root["baseline"];
    if (w.expect(b, json::value_t::object, "/baseline", "an object")) {
      w.check_keys(b, "/baseline", {"file", "root", "enrich", "rescan_interval"});
      if (b.contains("file"))
        if (auto p = w.path(b["file"], "/baseline/file")) c.baseline.file = *p;
      if (b.contains("root"))
        if (auto p = w.path(b["root"], "/baseline/root")) c.baseline.root = *p;
      if (b.contains("enrich"))
        if (auto e = w.boolean(b["enrich"], "/baseline/enrich")) c.baseline.enrich = *e;
      if (b.contains("rescan_interval"))
        if (auto d = w.duration(b["rescan_interval"], "/baseline/rescan_interval")) c.baseline.rescan_interval = *d;
    }
  }
  if (root.contains("watermark")) {
    const json& m = root["watermark"];
    if (w.expect(m, json::value_t::object, "/watermark", "an object")) {
      w.check_keys(m, "/watermark", {"lateness", "wall_clock", "wall_clock_delay"});
      if (m.contains("lateness"))
        if (auto d = w.duration(m["lateness"], "/watermark/lateness")) c.lateness = *d;
      if (m.contains("wall_clock"))
        if (auto b = w.boolean(m["wall_clock"], "/watermark/wall_clock")) c.wall_clock = *b;
      if (m.contains("wall_clock_delay"))
        if (auto d = w.duration(m["wall_clock_delay"], "/watermark/wall_clock_delay")) c.wall_clock_delay = *d;
    }
  }
  if (root.contains("checkpoint_interval"))
    if (auto d = w.duration(root["checkpoint_interval"], "/checkpoint_interval")) c.checkpoint_interval = *d;
  if (root.contains("caps")) parse_caps(w, root["caps"], c);
  if (root.contains("journal_access")) {
    if (auto s = w.string(root["journal_access"], "/journal_access")) {
      if (*s == "require") c.journal_access = DaemonConfig::JournalAccess::kRequire;
      else if (*s == "warn") c.journal_access = DaemonConfig::JournalAccess::kWarn;
      else w.error(config_codes::kValueInvalid, "/journal_access", "\"require\" or \"warn\"; got \"" + *s + "\"");
    }
  }
  if (root.contains("log_level")) {
    if (auto s = w.string(root["log_level"], "/log_level")) {
      if (auto l = parse_log_level(*s)) c.log_level = *l;
      else w.error(config_codes::kValueInvalid, "/log_level", "error, warning, notice, info or debug; got \"" + *s + "\"");
    }
  }
  c.correlator.allowed_lateness = c.lateness;
  if (!core::has_errors(diags)) result.config = std::move(c);
  return result;
}

ConfigResult load_config_file(const std::string& path) {
  const char* env = std::getenv("STATE_DIRECTORY");
  // systemd may list several directories, separated by ':'; the first is ours.
  std::string state_default = env && *env ? std::string(env).substr(0, std::string(env).find(':')) : "/var/lib/jcorr";
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  std::string text;
  if (!ec && size <= (4u << 20)) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in) text = ss.str();
    else ec = std::make_error_code(std::errc::io_error);
  }
  if (ec || size > (4u << 20)) {
    ConfigResult r;
    core::Diagnostic d;
    d.code = std::string(config_codes::kUnreadable);
    d.origin = path;
    d.message = ec ? "cannot read: " + ec.message() : "larger than 4 MiB";
    r.diagnostics.push_back(std::move(d));
    return r;
  }
  fs::path abs = fs::absolute(path, ec);
  return parse_config(text, ec ? path : abs.lexically_normal().string(), state_default);
}

}  // namespace jcorr::daemon
