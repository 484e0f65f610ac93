#include "jcorr/app/render.h"

#include <cstdio>

#include "jcorr/core/utf8.h"

namespace jcorr::app {

namespace {

// Length of a valid UTF-8 sequence starting at s[i], or 0. Overlong forms are invalid:
// a lenient terminal would decode E0 80 9B as ESC; so are surrogates and code points
// above U+10FFFF.
std::size_t utf8_len(std::string_view s, std::size_t i) {
  const std::size_t n = core::utf8_sequence(s, i);
  // C1 control characters (U+0080..U+009F) can act as escape sequences too.
  if (n == 2 && static_cast<unsigned char>(s[i]) == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) return 0;
  return n;
}

std::string time_short(std::int64_t us) {
  std::string t = core::format_time_utc(us);
  return t.substr(0, 19) + "Z";
}

std::string json_text(const nlohmann::json& j) {
  return j.is_string() ? j.get<std::string>() : j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One line per fact: the timer and service files, schedule, command, risks, changes
// against the baseline, and why a file is missing. Every string is from a file an
// attacker may have written, so all of it goes through terminal_safe().
template <typename Line>
void render_enrichment(const nlohmann::json& e, Line& line) {
  const auto timers = e.find("timers");
  if (timers == e.end() || !timers->is_array()) return;
  auto str = [](const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    return it == j.end() || it->is_null() ? std::string() : json_text(*it);
  };
  auto unit_line = [&](const nlohmann::json& u) {
    std::string head = str(u, "unit") + " (" + (str(u, "scope").empty() ? "" : str(u, "scope") + ", ") +
                       str(u, "state") + (str(u, "missing").empty() ? "" : ": " + str(u, "missing")) +
                       "; baseline " + str(u, "baseline") + ")";
    line("unit", terminal_safe(head));
    if (!str(u, "note").empty()) line("", terminal_safe(str(u, "note")));
    if (const auto files = u.find("files"); files != u.end() && files->is_array())
      for (const auto& f : *files)
        line("", terminal_safe(str(f, "path") + "  " + str(f, "owner") + ":" + str(f, "group") + " " + str(f, "mode") +
                               "  mtime " + time_short(f.value("mtime", std::int64_t{0}) * 1000000) + "  sha256 " +
                               str(f, "sha256").substr(0, 16)));
  };
  for (const auto& t : *timers) {
    if (!t.is_object()) continue;
    unit_line(t);
    if (const auto sch = t.find("schedule"); sch != t.end() && sch->is_object())
      for (const auto& [k, v] : sch->items())
        if (v.is_array())
          for (const auto& x : v) line("schedule", terminal_safe(k + "=" + json_text(x)));
    if (const auto svc = t.find("service"); svc != t.end() && svc->is_object()) {
      unit_line(*svc);
      if (const auto ex = svc->find("exec_start"); ex != svc->end() && ex->is_array())
        for (const auto& x : *ex) line("runs", terminal_safe(json_text(x)));
      if (str(*svc, "state") != "missing" && str(*svc, "state") != "not-found")
        line("as user", terminal_safe(str(*svc, "user").empty() ? std::string("(User= unset)") : str(*svc, "user")));
    }
    if (const auto risks = t.find("risks"); risks != t.end() && risks->is_array())
      for (const auto& r : *risks) line("risk", terminal_safe(str(r, "unit") + " " + str(r, "code") + ": " + str(r, "reason")));
    if (const auto ch = t.find("changes"); ch != t.end() && ch->is_array())
      for (const auto& c : *ch)
        line("changed", terminal_safe(str(c, "unit") + " " + str(c, "property") + ": " + str(c, "old") + " -> " +
                                      str(c, "new")));
    if (const auto pr = t.find("problems"); pr != t.end() && pr->is_array())
      for (const auto& p : *pr) line("problem", terminal_safe(str(p, "code") + " " + str(p, "path") + ": " + str(p, "message")));
  }
}

}  // namespace

std::string terminal_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = utf8_len(s, i);
    if (n == 0 || c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string render_detection(const core::Detection& d, bool color) {
  const char* bold = color ? "\033[1m" : "";
  const char* reset = color ? "\033[0m" : "";
  const char* sev_color = "";
  if (color) {
    if (d.severity == "critical") sev_color = "\033[1;35m";
    else if (d.severity == "high") sev_color = "\033[1;31m";
    else if (d.severity == "medium") sev_color = "\033[1;33m";
    else sev_color = "\033[1;36m";
  }
  std::string s;
  std::string sev = d.severity;
  for (auto& ch : sev) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  s += std::string(sev_color) + sev + reset + "  " + bold + terminal_safe(d.title) + reset + "\n";
  auto line = [&](std::string_view label, const std::string& value) {
    if (value.empty()) return;
    s += "  ";
    s += label;
    s.append(label.size() < 10 ? 10 - label.size() : 1, ' ');
    s += value + "\n";
  };
  line("summary", terminal_safe(d.summary));
  line("rule", d.rule_id + (d.attack.empty() ? "" : "  [" + [&] {
                 std::string a;
                 for (const auto& x : d.attack) a += (a.empty() ? "" : ", ") + x;
                 return a;
               }() + "]"));
  line("host", terminal_safe(d.hostname) + (d.machine_id.empty() ? "" : " (" + terminal_safe(d.machine_id) + ")"));
  line("time", time_short(d.first_us) + " .. " + time_short(d.last_us) +
                   (d.window_truncated ? "  (window cut short by end of input)" : ""));
  for (const auto& [k, v] : d.values) {
    if (v.is_null()) continue;
    if (v.is_string()) {
      line(k, terminal_safe(v.get<std::string>()));
    } else if (v.is_array()) {
      bool first = true;
      for (const auto& x : v) {
        if (!x.is_string()) continue;
        line(first ? std::string_view(k) : std::string_view(""), terminal_safe(x.get<std::string>()));
        first = false;
      }
    }
  }
  if (d.enrichment.is_object()) render_enrichment(d.enrichment, line);
  line("id", d.id);
  s += "  evidence\n";
  for (const auto& e : d.evidence) {
    std::string msg = terminal_safe(e.message);
    if (msg.size() > 160) {
      // Cut at a character boundary: half a UTF-8 sequence is not terminal-safe text.
      std::size_t cut = 157;
      while (cut > 0 && (static_cast<unsigned char>(msg[cut]) & 0xc0) == 0x80) --cut;
      msg = msg.substr(0, cut) + "...";
    }
    s += "    " + time_short(e.realtime_us) + "  " + e.step + ": " + msg + "\n";
  }
  if (d.evidence_omitted) s += "    (" + std::to_string(d.evidence_omitted) + " more entries omitted)\n";
  s += "\n";
  return s;
}

}  // namespace jcorr::app
