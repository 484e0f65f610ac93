#include "jcorr/sinks/payload.h"

#include <algorithm>
#include <cctype>

namespace jcorr::sinks {

using nlohmann::json;

namespace {

std::string str(const json& d, const char* key) {
  auto it = d.find(key);
  if (it == d.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_null()) return "";
  return it->dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string joined(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_array()) return v.is_null() ? "" : v.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string s;
  for (const auto& e : v) {
    if (!s.empty()) s += ", ";
    s += joined(e);
  }
  return s;
}

// Cuts text to at most max bytes on a UTF-8 character boundary, marking the cut.
std::string clip(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  static constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026
  std::size_t cut = max > kEllipsis.size() ? max - kEllipsis.size() : 0;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text += kEllipsis;
  return text;
}

// Slack's mrkdwn needs &, < and > escaped; everything else in log-derived text is
// shown as it is.
std::string mrkdwn(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out.push_back(c);
  }
  return out;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

json field(std::string_view label, const std::string& value) {
  return json{{"type", "mrkdwn"}, {"text", clip("*" + std::string(label) + "*\n" + mrkdwn(value), 1900)}};
}

}  // namespace

Payload Payload::with_template(WebhookTemplate tmpl, std::string content_type) {
  Payload p(PayloadFormat::kTemplate);
  p.template_ = std::move(tmpl);
  p.content_type_ = std::move(content_type);
  return p;
}

std::string Payload::render(const json& detection) const {
  switch (format_) {
    case PayloadFormat::kJson: break;
    case PayloadFormat::kSlack:
      return slack_message(detection).dump(-1, ' ', false, json::error_handler_t::replace);
    case PayloadFormat::kTemplate:
      if (template_) return template_->render(detection);
      break;
  }
  return detection.dump(-1, ' ', false, json::error_handler_t::replace);
}

json slack_message(const json& d) {
  const json& host = d.contains("host") ? d["host"] : json::object();
  const std::string hostname = host.is_object() ? str(host, "hostname") : "";
  const std::string severity = str(d, "severity");
  const std::string title = str(d, "title");
  const std::string summary = str(d, "summary");

  std::string text = "[" + upper(severity) + "] " + title;
  if (!summary.empty()) text += " \xE2\x80\x94 " + summary;  // em dash
  if (!hostname.empty()) text += " (" + hostname + ")";

  json blocks = json::array();
  blocks.push_back({{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", clip(title.empty() ? str(d, "rule") : title, 150)}}}});
  if (!summary.empty())
    blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", clip(mrkdwn(summary), 2900)}}}});
  json fields = json::array();
  fields.push_back(field("Severity", severity));
  fields.push_back(field("Host", hostname));
  fields.push_back(field("Rule", str(d, "rule")));
  if (d.contains("attack")) fields.push_back(field("ATT&CK", joined(d["attack"])));
  fields.push_back(field("Time", str(d, "time")));
  fields.push_back(field("Detection", str(d, "id")));
  blocks.push_back({{"type", "section"}, {"fields", std::move(fields)}});
  if (auto v = d.find("values"); v != d.end() && v->is_object() && !v->empty()) {
    std::string line;
    for (const auto& [k, val] : v->items()) {
      if (!line.empty()) line += "  \xC2\xB7  ";  // middle dot
      line += k + ": " + joined(val);
    }
    blocks.push_back(
        {{"type", "context"}, {"elements", json::array({{{"type", "mrkdwn"}, {"text", clip(mrkdwn(line), 2900)}}})}});
  }
  // What the host's unit files say (docs/baseline.md): one line per timer.
  if (auto e = d.find("enrichment"); e != d.end() && e->is_object())
    if (auto timers = e->find("timers"); timers != e->end() && timers->is_array() && !timers->empty()) {
      std::string line;
      for (const auto& t : *timers) {
        if (!t.is_object()) continue;
        if (!line.empty()) line += "\n";
        line += str(t, "unit") + ": " + str(t, "state") + ", baseline " + str(t, "baseline");
        if (auto svc = t.find("service"); svc != t.end() && svc->is_object()) {
          line += "; " + str(*svc, "unit") + " " + str(*svc, "state");
          if (auto ex = svc->find("exec_start"); ex != svc->end() && ex->is_array() && !ex->empty())
            line += " runs " + joined(*ex);
        }
        if (auto r = t.find("risks"); r != t.end() && r->is_array() && !r->empty()) {
          line += "; risks:";
          for (const auto& x : *r) line += " " + str(x, "code");
        }
      }
      blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", clip("*Unit files*\n" + mrkdwn(line), 2900)}}}});
    }
  return json{{"text", clip(mrkdwn(text), 3000)}, {"blocks", std::move(blocks)}};
}

}  // namespace jcorr::sinks
