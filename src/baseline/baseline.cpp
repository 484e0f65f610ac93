#include "jcorr/baseline/baseline.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <type_traits>

namespace jcorr::baseline {
namespace {

using nlohmann::json;

json to_json(const Diagnostic& d) {
  return json{{"path", d.path},
              {"line", d.line},
              {"severity", std::string(to_string(d.severity))},
              {"code", d.code},
              {"message", d.message}};
}

json to_json(const ExecCommand& c) { return json{{"path", c.path}, {"argv", c.argv}, {"prefix", c.prefix()}}; }

json to_json(const EnableLink& l) {
  return json{{"path", l.path}, {"target", l.target}, {"unit", l.unit}, {"kind", l.kind}};
}

template <class T>
json array_of(const std::vector<T>& items) {
  json out = json::array();
  for (const T& item : items) out.push_back(to_json(item));
  return out;
}

// Reads the version-1 schema with a check before every access, so that a malformed
// document yields a message instead of a nlohmann exception.
class Reader {
 public:
  const std::string& error() const { return error_; }

  bool fail(const std::string& pointer, const std::string& message) {
    if (error_.empty()) error_ = (pointer.empty() ? std::string("/") : pointer) + ": " + message;
    return false;
  }

  const json* member(const json& object, const char* key, const std::string& pointer) {
    if (!object.is_object()) {
      fail(pointer, "expected an object");
      return nullptr;
    }
    const auto it = object.find(key);
    if (it == object.end()) {
      fail(pointer + "/" + key, "missing");
      return nullptr;
    }
    return &*it;
  }

  bool string(const json& object, const char* key, const std::string& pointer, std::string& out) {
    const json* v = member(object, key, pointer);
    if (v == nullptr) return false;
    if (!v->is_string()) return fail(pointer + "/" + key, "expected a string");
    out = v->get<std::string>();
    return true;
  }

  template <class Int>
  bool integer(const json& object, const char* key, const std::string& pointer, Int& out) {
    const json* v = member(object, key, pointer);
    if (v == nullptr) return false;
    if constexpr (std::is_signed_v<Int>) {
      if (!v->is_number_integer()) return fail(pointer + "/" + key, "expected an integer");
      const auto value = v->get<std::int64_t>();
      out = static_cast<Int>(value);
    } else {
      if (!v->is_number_unsigned()) return fail(pointer + "/" + key, "expected a non-negative integer");
      const auto value = v->get<std::uint64_t>();
      if (value > std::numeric_limits<Int>::max()) return fail(pointer + "/" + key, "out of range");
      out = static_cast<Int>(value);
    }
    return true;
  }

  bool strings(const json& value, const std::string& pointer, std::vector<std::string>& out) {
    if (!value.is_array()) return fail(pointer, "expected an array of strings");
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string()) return fail(pointer + "/" + std::to_string(i), "expected a string");
      out.push_back(value[i].get<std::string>());
    }
    return true;
  }

  bool strings(const json& object, const char* key, const std::string& pointer, std::vector<std::string>& out) {
    const json* v = member(object, key, pointer);
    return v != nullptr && strings(*v, pointer + "/" + key, out);
  }

  template <class T, class Fn>
  bool array(const json& object, const char* key, const std::string& pointer, std::vector<T>& out, Fn&& read_one) {
    const json* v = member(object, key, pointer);
    if (v == nullptr) return false;
    if (!v->is_array()) return fail(pointer + "/" + key, "expected an array");
    for (std::size_t i = 0; i < v->size(); ++i) {
      T item;
      if (!read_one((*v)[i], pointer + "/" + key + "/" + std::to_string(i), item)) return false;
      out.push_back(std::move(item));
    }
    return true;
  }

  bool file(const json& v, const std::string& p, FileRecord& f) {
    std::string mode;
    if (!(string(v, "path", p, f.path) && string(v, "resolved", p, f.resolved) &&
          string(v, "link_target", p, f.link_target) && integer(v, "uid", p, f.uid) && integer(v, "gid", p, f.gid) &&
          string(v, "owner", p, f.owner) && string(v, "group", p, f.group) && string(v, "mode", p, mode) &&
          integer(v, "mtime", p, f.mtime) && integer(v, "size", p, f.size) && string(v, "sha256", p, f.sha256)))
      return false;
    if (mode.empty() || mode.size() > 5 || mode.find_first_not_of("01234567") != std::string::npos)
      return fail(p + "/mode", "expected octal permission bits like \"0644\"");
    f.mode = static_cast<std::uint32_t>(std::stoul(mode, nullptr, 8)) & 07777u;
    return true;
  }

  bool risk(const json& v, const std::string& p, Risk& r) {
    return string(v, "code", p, r.code) && string(v, "reason", p, r.reason);
  }

  bool problem(const json& v, const std::string& p, Problem& r) {
    return string(v, "code", p, r.code) && string(v, "path", p, r.path) && string(v, "message", p, r.message);
  }

  bool link(const json& v, const std::string& p, EnableLink& l) {
    return string(v, "path", p, l.path) && string(v, "target", p, l.target) && string(v, "unit", p, l.unit) &&
           string(v, "kind", p, l.kind);
  }

  bool diagnostic(const json& v, const std::string& p, Diagnostic& d) {
    std::string severity;
    if (!(string(v, "path", p, d.path) && integer(v, "line", p, d.line) && string(v, "severity", p, severity) &&
          string(v, "code", p, d.code) && string(v, "message", p, d.message)))
      return false;
    if (severity != "warning" && severity != "error") return fail(p + "/severity", "expected \"warning\" or \"error\"");
    d.severity = severity == "error" ? Severity::kError : Severity::kWarning;
    return true;
  }

  bool command(const json& v, const std::string& p, ExecCommand& c) {
    std::string prefix;
    if (!(string(v, "path", p, c.path) && strings(v, "argv", p, c.argv) && string(v, "prefix", p, prefix)))
      return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      switch (prefix[i]) {
        case '-': c.ignore_failure = true; break;
        case '@': c.separate_argv0 = true; break;
        case ':': c.no_env_expand = true; break;
        case '+': c.full_privileges = true; break;
        case '!':
          if (i + 1 < prefix.size() && prefix[i + 1] == '!') {
            c.ambient_magic = true;
            ++i;
          } else {
            c.no_setuid = true;
          }
          break;
        default: return fail(p + "/prefix", "unknown prefix character");
      }
    }
    return true;
  }

  bool unit(const json& v, const std::string& p, UnitRecord& u) {
    if (!(string(v, "scope", p, u.scope) && string(v, "name", p, u.name) && string(v, "type", p, u.type) &&
          string(v, "state", p, u.state)))
      return false;
    const json* fragment = member(v, "fragment", p);
    if (fragment == nullptr) return false;
    if (!fragment->is_null()) {
      FileRecord f;
      if (!file(*fragment, p + "/fragment", f)) return false;
      u.fragment = std::move(f);
    }
    if (!(array(v, "dropins", p, u.dropins, [this](const json& x, const std::string& q, FileRecord& f) { return file(x, q, f); }) &&
          strings(v, "shadowed", p, u.shadowed) &&
          array(v, "enabled_by", p, u.enabled_by, [this](const json& x, const std::string& q, EnableLink& l) { return link(x, q, l); }) &&
          array(v, "risks", p, u.risks, [this](const json& x, const std::string& q, Risk& r) { return risk(x, q, r); }) &&
          array(v, "diagnostics", p, u.diagnostics,
                [this](const json& x, const std::string& q, Diagnostic& d) { return diagnostic(x, q, d); })))
      return false;
    if (v.contains("masked_by") && !string(v, "masked_by", p, u.masked_by)) return false;
    if (v.contains("triggers") && !string(v, "triggers", p, u.triggers)) return false;
    if (v.contains("triggered_by") && !strings(v, "triggered_by", p, u.triggered_by)) return false;
    const json* directives = member(v, "directives", p);
    if (directives == nullptr) return false;
    if (!directives->is_object()) return fail(p + "/directives", "expected an object");
    for (const auto& [key, values] : directives->items())
      if (!strings(values, p + "/directives/" + key, u.directives[key])) return false;
    const json* exec = member(v, "exec", p);
    if (exec == nullptr) return false;
    if (!exec->is_object()) return fail(p + "/exec", "expected an object");
    for (const auto& [key, values] : exec->items()) {
      const std::string q = p + "/exec/" + key;
      if (!values.is_array()) return fail(q, "expected an array");
      std::vector<ExecCommand>& commands = u.exec[key];
      for (std::size_t i = 0; i < values.size(); ++i) {
        ExecCommand c;
        if (!command(values[i], q + "/" + std::to_string(i), c)) return false;
        commands.push_back(std::move(c));
      }
    }
    return true;
  }

  bool baseline(const json& v, Baseline& b) {
    std::string schema;
    int version = 0;
    if (!v.is_object()) return fail("", "expected a JSON object");
    if (!string(v, "schema", "", schema)) return false;
    if (schema != kBaselineSchema) return fail("/schema", "expected \"" + std::string(kBaselineSchema) + "\"");
    if (!integer(v, "version", "", version)) return false;
    if (version != kBaselineVersion)
      return fail("/version", "version " + std::to_string(version) + " is not supported (expected " +
                                  std::to_string(kBaselineVersion) + ")");
    return string(v, "root", "", b.root) && strings(v, "lingering", "", b.lingering) &&
           array(v, "units", "", b.units, [this](const json& x, const std::string& q, UnitRecord& u) { return unit(x, q, u); }) &&
           array(v, "problems", "", b.problems,
                 [this](const json& x, const std::string& q, Problem& r) { return problem(x, q, r); });
  }

 private:
  std::string error_;
};

}  // namespace

const UnitRecord* Baseline::find(std::string_view scope, std::string_view name) const {
  for (const UnitRecord& u : units)
    if (u.scope == scope && u.name == name) return &u;
  return nullptr;
}

void Baseline::canonicalize() {
  auto unique_sorted = [](auto& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  unique_sorted(lingering);
  unique_sorted(problems);
  for (UnitRecord& u : units) {
    unique_sorted(u.risks);
    unique_sorted(u.triggered_by);
    std::sort(u.enabled_by.begin(), u.enabled_by.end(),
              [](const EnableLink& a, const EnableLink& b) { return a.path < b.path; });
    std::stable_sort(u.diagnostics.begin(), u.diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.path, a.line, a.code, a.message) < std::tie(b.path, b.line, b.code, b.message);
    });
  }
  std::sort(units.begin(), units.end(), [](const UnitRecord& a, const UnitRecord& b) {
    return std::tie(a.scope, a.name) < std::tie(b.scope, b.name);
  });
}

std::string format_mode(std::uint32_t mode) {
  std::string out(4, '0');
  for (int i = 3; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>('0' + (mode & 7u));
    mode >>= 3;
  }
  return out;
}

json to_json(const FileRecord& f) {
  return json{{"path", f.path},   {"resolved", f.resolved}, {"link_target", f.link_target},
              {"uid", f.uid},     {"gid", f.gid},           {"owner", f.owner},
              {"group", f.group}, {"mode", format_mode(f.mode)}, {"mtime", f.mtime},
              {"size", f.size},   {"sha256", f.sha256}};
}

json to_json(const Risk& r) { return json{{"code", r.code}, {"reason", r.reason}}; }

json to_json(const Problem& p) { return json{{"code", p.code}, {"path", p.path}, {"message", p.message}}; }

json to_json(const UnitRecord& u) {
  json out{{"scope", u.scope},
           {"name", u.name},
           {"type", u.type},
           {"state", u.state},
           {"fragment", u.fragment ? to_json(*u.fragment) : json(nullptr)},
           {"dropins", array_of(u.dropins)},
           {"shadowed", u.shadowed},
           {"enabled_by", array_of(u.enabled_by)},
           {"directives", json::object()},
           {"exec", json::object()},
           {"risks", array_of(u.risks)},
           {"diagnostics", array_of(u.diagnostics)}};
  for (const auto& [key, values] : u.directives) out["directives"][key] = values;
  for (const auto& [key, commands] : u.exec) out["exec"][key] = array_of(commands);
  if (!u.masked_by.empty()) out["masked_by"] = u.masked_by;
  if (u.type == "timer") out["triggers"] = u.triggers;
  if (u.type != "timer") out["triggered_by"] = u.triggered_by;
  return out;
}

json to_json(const Baseline& b) {
  return json{{"schema", kBaselineSchema},
              {"version", kBaselineVersion},
              {"root", b.root},
              {"lingering", b.lingering},
              {"units", array_of(b.units)},
              {"problems", array_of(b.problems)}};
}

std::expected<Baseline, std::string> baseline_from_json(const json& document) {
  Reader reader;
  Baseline b;
  try {
    if (!reader.baseline(document, b)) return std::unexpected(reader.error());
  } catch (const std::exception& e) {  // defensive: the reader checks types before every access
    return std::unexpected(std::string("malformed baseline: ") + e.what());
  }
  return b;
}

std::expected<Baseline, std::string> parse_baseline(std::string_view text) {
  const json document = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return std::unexpected(std::string("not valid JSON"));
  return baseline_from_json(document);
}

}  // namespace jcorr::baseline
