#include "jcorr/baseline/enrichment.h"

#include <algorithm>

#include "jcorr/baseline/unit_name.h"

namespace jcorr::baseline {

namespace {

using nlohmann::json;

constexpr std::string_view kScheduleKeys[] = {"OnActiveSec",      "OnBootSec",         "OnCalendar",
                                              "OnStartupSec",     "OnUnitActiveSec",   "OnUnitInactiveSec",
                                              "Persistent",       "RandomizedDelaySec", "Unit"};

// The most entries any one list of an enrichment keeps: a user can give a unit of their
// own any number of drop-ins, and a detection must stay a bounded message.
constexpr std::size_t kMaxListed = 64;

// Cuts obj[key] to kMaxListed entries, counting the rest in obj[key + "_omitted"].
void cap(json& obj, const std::string& key) {
  json& arr = obj[key];
  if (arr.size() <= kMaxListed) return;
  obj[key + "_omitted"] = arr.size() - kMaxListed;
  arr.erase(arr.begin() + static_cast<std::ptrdiff_t>(kMaxListed), arr.end());
}

// Scan problems about a unit's own files: the unit file itself or a file in its NAME.d/.
json problems_about(const Baseline& now, std::string_view name) {
  json out = json::array();
  const std::string file = "/" + std::string(name), dir = "/" + std::string(name) + ".d/";
  for (const auto& p : now.problems)
    if (p.path.ends_with(file) || p.path.find(dir) != std::string::npos) out.push_back(to_json(p));
  return out;
}

bool in_baseline(const BaselineWatch& watch, std::string_view name) {
  if (!watch.approved()) return false;
  return std::any_of(watch.approved()->units.begin(), watch.approved()->units.end(),
                     [&](const UnitRecord& u) { return u.name == name; });
}

// A directory the scan could not read (or list, or /etc/passwd): problems whose path is
// neither a unit file nor a drop-in. A unit found nowhere may then be in there.
const Problem* unread_directory(const Baseline& now) {
  for (const auto& p : now.problems) {
    const std::string_view base = std::string_view(p.path).substr(p.path.rfind('/') + 1);
    if (!is_valid_unit_name(base) && !base.ends_with(".conf")) return &p;
  }
  return nullptr;
}

// Why a unit the journal names has no file now (no record at all, or a record that
// systemd would call not-found: a timer's Unit= naming a file that is not there).
void describe_missing(const BaselineWatch& watch, const Baseline& now, const json& problems, std::string_view name,
                      json& out) {
  const std::string n(name);
  if (!problems.empty()) {
    out["missing"] = "unreadable";
    out["note"] = "a file for " + n + " exists but could not be used (see problems)";
  } else if (name.starts_with("run-")) {
    out["missing"] = "transient";
    out["note"] = n + " looks like a systemd-run transient unit: it has no file once it stopped";
  } else if (const Problem* dir = unread_directory(now)) {
    out["missing"] = "unknown";
    out["note"] = "no unit file for " + n + " was found, but " + dir->path + " could not be read (" + dir->code +
                  "): it may be there";
  } else if (in_baseline(watch, name)) {
    out["missing"] = "deleted";
    out["note"] = n + " is in the baseline but its file is gone";
  } else {
    out["missing"] = "deleted";
    out["note"] = "no unit file for " + n + " now: deleted after it ran, or never on disk";
  }
}

json files_of(const UnitRecord& u) {
  json files = json::array();
  if (u.fragment) files.push_back(to_json(*u.fragment));
  for (const auto& f : u.dropins) files.push_back(to_json(f));
  return files;
}

void add_changes(const Drift* drift, const UnitRecord& u, json& changes) {
  if (!drift) return;
  for (const auto& item : drift->changed) {
    if (item.scope != u.scope || item.name != u.name) continue;
    for (const auto& c : item.changes) {
      json j = {{"unit", u.name}, {"property", c.property}, {"old", c.old_value}, {"new", c.new_value}};
      if (!c.path.empty()) j["path"] = c.path;
      changes.push_back(std::move(j));
    }
  }
}

void add_risks(const UnitRecord& u, json& risks) {
  for (const auto& r : u.risks) risks.push_back({{"unit", u.name}, {"code", r.code}, {"reason", r.reason}});
}

const UnitRecord* find_service(const Baseline& now, std::string_view scope, std::string_view name) {
  if (const auto* u = now.find(scope, name)) return u;
  if (scope.starts_with("user:")) {
    if (const auto* u = now.find("user", name)) return u;
  }
  if (scope.empty()) {
    for (const auto& u : now.units)
      if (u.name == name) return &u;
  }
  return nullptr;
}

json describe_service(const BaselineWatch& watch, const Baseline& now, const Drift* drift, std::string_view scope,
                      const std::string& name, json& risks, json& changes) {
  json s = json::object();
  s["unit"] = name;
  const UnitRecord* u = find_service(now, scope, name);
  if (!u) {
    s["scope"] = "";
    s["state"] = "missing";
    describe_missing(watch, now, problems_about(now, name), name, s);
    s["baseline"] = watch.has_baseline() && in_baseline(watch, name) ? "removed" : "unknown";
    s["exec_start"] = json::array();
    s["user"] = nullptr;
    s["files"] = json::array();
    return s;
  }
  s["scope"] = u->scope;
  s["state"] = u->state;
  if (!u->fragment && u->state == "not-found") describe_missing(watch, now, problems_about(now, name), name, s);
  s["baseline"] = std::string(to_string(watch.status(u->scope, u->name)));
  const auto exec = u->directives.find("ExecStart");
  s["exec_start"] = exec == u->directives.end() ? json::array() : json(exec->second);
  const auto user = u->directives.find("User");
  s["user"] = user == u->directives.end() || user->second.empty() ? json(nullptr) : json(user->second.back());
  s["files"] = files_of(*u);
  cap(s, "files");
  add_risks(*u, risks);
  add_changes(drift, *u, changes);
  return s;
}

}  // namespace

std::vector<std::string> timers_of(const core::Detection& detection) {
  std::vector<std::string> out;
  auto take = [&](const json& v) {
    if (!v.is_string()) return;
    const auto& s = v.get_ref<const std::string&>();
    if (unit_type(s) == "timer" && is_valid_unit_name(s) && std::find(out.begin(), out.end(), s) == out.end())
      out.push_back(s);
  };
  for (const auto& [name, value] : detection.values) {
    if (value.is_array())
      for (const auto& x : value) take(x);
    else
      take(value);
  }
  return out;
}

json describe_timer(const BaselineWatch& watch, const Baseline& now, const std::string& timer,
                    const std::string& service_hint) {
  const Drift* drift = watch.drift();
  std::vector<const UnitRecord*> found;
  for (const auto& u : now.units)
    if (u.name == timer && u.type == "timer") found.push_back(&u);
  json out = json::array();
  auto fill = [&](const UnitRecord* u) {
    json t = json::object();
    json risks = json::array(), changes = json::array();
    t["unit"] = timer;
    json problems = problems_about(now, timer);
    std::string service = service_hint.empty() ? paired_service_name(timer, "") : service_hint;
    if (u) {
      t["scope"] = u->scope;
      t["state"] = u->state;
      t["baseline"] = std::string(to_string(watch.status(u->scope, u->name)));
      json schedule = json::object();
      for (auto key : kScheduleKeys)
        if (auto it = u->directives.find(std::string(key)); it != u->directives.end()) schedule[it->first] = it->second;
      t["schedule"] = std::move(schedule);
      t["files"] = files_of(*u);
      add_risks(*u, risks);
      add_changes(drift, *u, changes);
      if (!u->triggers.empty()) service = u->triggers;
    } else {
      t["scope"] = "";
      t["state"] = "missing";
      describe_missing(watch, now, problems, timer, t);
      t["baseline"] = watch.has_baseline() && in_baseline(watch, timer) ? "removed" : "unknown";
      t["schedule"] = json::object();
      t["files"] = json::array();
    }
    const json svc = describe_service(watch, now, drift, u ? std::string_view(u->scope) : std::string_view(),
                                      service, risks, changes);
    for (const auto& p : problems_about(now, service)) problems.push_back(p);
    t["service"] = svc;
    t["risks"] = std::move(risks);
    t["changes"] = std::move(changes);
    t["problems"] = std::move(problems);
    for (const char* key : {"files", "risks", "changes", "problems"}) cap(t, key);
    out.push_back(std::move(t));
  };
  if (found.empty()) fill(nullptr);
  for (const auto* u : found) fill(u);
  return out;
}

std::optional<json> Enricher::enrich(const core::Detection& d) {
  if (!watch_ || !watch_->has_root() || watch_->machine_id().empty() || d.machine_id != watch_->machine_id())
    return std::nullopt;
  const auto timers = timers_of(d);
  if (timers.empty()) return std::nullopt;
  const Baseline* now = watch_->current();
  if (!now) return std::nullopt;
  std::string service_hint;
  if (auto s = d.values.find("service"); s != d.values.end() && s->second.is_string() && timers.size() == 1 &&
                                          is_valid_unit_name(s->second.get<std::string>()))
    service_hint = s->second.get<std::string>();
  json out = json::object();
  out["root"] = watch_->root();
  out["machine_id"] = watch_->machine_id();
  out["baseline"] = watch_->has_baseline();
  json list = json::array();
  for (const auto& t : timers)
    for (auto& x : describe_timer(*watch_, *now, t, service_hint)) list.push_back(std::move(x));
  out["timers"] = std::move(list);
  cap(out, "timers");
  return out;
}

bool Enricher::attach(core::Detection& d) {
  auto e = enrich(d);
  if (!e) return false;
  d.enrichment = std::move(*e);
  return true;
}

}  // namespace jcorr::baseline
