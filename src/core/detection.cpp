#include "jcorr/core/detection.h"

#include <cstdio>
#include <ctime>

namespace jcorr::core {

std::string format_time_utc(std::int64_t realtime_us) {
  const std::time_t secs = static_cast<std::time_t>(realtime_us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(realtime_us % 1000000));
  return buf;
}

nlohmann::json to_json(const Detection& d) {
  using nlohmann::json;
  json j = json::object();
  j["id"] = d.id;
  j["rule"] = d.rule_id;
  j["title"] = d.title;
  j["severity"] = d.severity;
  j["attack"] = d.attack;
  j["tags"] = d.tags;
  j["summary"] = d.summary;
  j["host"] = {{"machine_id", d.machine_id}, {"hostname", d.hostname}};
  j["first"] = format_time_utc(d.first_us);
  j["last"] = format_time_utc(d.last_us);
  j["time"] = format_time_utc(d.time_us);
  j["time_us"] = d.time_us;
  j["values"] = json::object();
  for (const auto& [k, v] : d.values) j["values"][k] = v;
  j["group"] = d.group;
  json ev = json::array();
  for (const auto& e : d.evidence) {
    json x = {{"step", e.step},         {"event", e.event},           {"cursor", e.cursor},
              {"entry_id", e.entry_id}, {"time", format_time_utc(e.realtime_us)}, {"time_us", e.realtime_us},
              {"message", e.message},   {"fields", e.fields}};
    ev.push_back(std::move(x));
  }
  j["evidence"] = std::move(ev);
  if (d.evidence_omitted) j["evidence_omitted"] = d.evidence_omitted;
  if (d.window_truncated) j["window_truncated"] = true;
  if (!d.enrichment.is_null()) j["enrichment"] = d.enrichment;
  return j;
}

std::string to_json_line(const Detection& d) {
  // Invalid UTF-8 from hostile log fields is replaced, never allowed to break the line.
  std::string s = to_json(d).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s.push_back('\n');
  return s;
}

}  // namespace jcorr::core
