#include "jcorr/baseline/drift.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace jcorr::baseline {
namespace {

using nlohmann::json;

UnitDrift describe(const UnitRecord& u) {
  return UnitDrift{u.scope, u.name, u.type, u.state, u.fragment ? u.fragment->path : std::string(), u.risks, {}};
}

std::vector<std::string> risk_codes(const std::vector<Risk>& risks) {
  std::vector<std::string> codes;
  for (const Risk& r : risks) codes.push_back(r.code);
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  return codes;
}

std::vector<std::string> link_paths(const std::vector<EnableLink>& links) {
  std::vector<std::string> paths;
  for (const EnableLink& l : links) paths.push_back(l.path);
  std::sort(paths.begin(), paths.end());
  return paths;
}

class Comparer {
 public:
  explicit Comparer(std::vector<Change>& out) : out_(out) {}

  template <class T>
  void field(std::string property, const T& a, const T& b, std::string path = {}) {
    if (a != b) out_.push_back(Change{std::move(property), std::move(path), json(a), json(b)});
  }

  void file(const std::string& prefix, const FileRecord& a, const FileRecord& b, bool include_path,
            const std::string& path = {}) {
    if (include_path) field(prefix + ".path", a.path, b.path, path);
    field(prefix + ".resolved", a.resolved, b.resolved, path);
    field(prefix + ".link_target", a.link_target, b.link_target, path);
    field(prefix + ".sha256", a.sha256, b.sha256, path);
    field(prefix + ".size", a.size, b.size, path);
    field(prefix + ".mode", format_mode(a.mode), format_mode(b.mode), path);
    field(prefix + ".uid", a.uid, b.uid, path);
    field(prefix + ".gid", a.gid, b.gid, path);
    field(prefix + ".mtime", a.mtime, b.mtime, path);
  }

 private:
  std::vector<Change>& out_;
};

std::vector<Change> compare(const UnitRecord& a, const UnitRecord& b) {
  std::vector<Change> changes;
  Comparer c(changes);
  c.field("state", a.state, b.state);
  c.field("masked_by", a.masked_by, b.masked_by);
  if (a.fragment && b.fragment) {
    c.file("fragment", *a.fragment, *b.fragment, true);
  } else if (a.fragment || b.fragment) {
    changes.push_back(Change{"fragment", {}, a.fragment ? json(a.fragment->path) : json(nullptr),
                             b.fragment ? json(b.fragment->path) : json(nullptr)});
  }
  std::map<std::string, const FileRecord*> old_dropins;
  std::map<std::string, const FileRecord*> new_dropins;
  for (const FileRecord& f : a.dropins) old_dropins[f.path] = &f;
  for (const FileRecord& f : b.dropins) new_dropins[f.path] = &f;
  for (const auto& [path, f] : new_dropins)
    if (!old_dropins.contains(path)) changes.push_back(Change{"dropin.added", path, json(nullptr), json(path)});
  for (const auto& [path, f] : old_dropins)
    if (!new_dropins.contains(path)) changes.push_back(Change{"dropin.removed", path, json(path), json(nullptr)});
  for (const auto& [path, f] : old_dropins)
    if (const auto it = new_dropins.find(path); it != new_dropins.end()) c.file("dropin", *f, *it->second, false, path);
  c.field("shadowed", a.shadowed, b.shadowed);
  c.field("enabled_by", link_paths(a.enabled_by), link_paths(b.enabled_by));
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> directives;
  for (const auto& [key, values] : a.directives) directives[key].first = values;
  for (const auto& [key, values] : b.directives) directives[key].second = values;
  for (const auto& [key, pair] : directives) c.field("directive." + key, pair.first, pair.second);
  c.field("triggers", a.triggers, b.triggers);
  c.field("triggered_by", a.triggered_by, b.triggered_by);
  c.field("risks", risk_codes(a.risks), risk_codes(b.risks));
  return changes;
}

json item_json(const UnitDrift& d, bool with_changes) {
  json risks = json::array();
  for (const Risk& r : d.risks) risks.push_back(to_json(r));
  json out{{"scope", d.scope}, {"name", d.name}, {"type", d.type}, {"state", d.state},
           {"path", d.path},   {"risks", risks}};
  if (with_changes) {
    json changes = json::array();
    for (const Change& c : d.changes) {
      json change{{"property", c.property}, {"old", c.old_value}, {"new", c.new_value}};
      if (!c.path.empty()) change["path"] = c.path;
      changes.push_back(std::move(change));
    }
    out["changes"] = std::move(changes);
  }
  return out;
}

std::string short_value(const json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  if (text.size() > 100) text = text.substr(0, 100) + "…";
  return text;
}

}  // namespace

bool Drift::empty() const {
  return added.empty() && changed.empty() && removed.empty() && lingering_added.empty() &&
         lingering_removed.empty() && problems_added.empty() && problems_removed.empty();
}

Drift diff(const Baseline& old_baseline, const Baseline& new_scan) {
  Drift drift;
  using Key = std::pair<std::string, std::string>;
  std::map<Key, const UnitRecord*> old_units;
  std::map<Key, const UnitRecord*> new_units;
  for (const UnitRecord& u : old_baseline.units) old_units[{u.scope, u.name}] = &u;
  for (const UnitRecord& u : new_scan.units) new_units[{u.scope, u.name}] = &u;
  for (const auto& [key, u] : new_units) {
    const auto it = old_units.find(key);
    if (it == old_units.end()) {
      drift.added.push_back(describe(*u));
      continue;
    }
    std::vector<Change> changes = compare(*it->second, *u);
    if (changes.empty()) continue;
    UnitDrift d = describe(*u);
    d.changes = std::move(changes);
    drift.changed.push_back(std::move(d));
  }
  for (const auto& [key, u] : old_units)
    if (!new_units.contains(key)) drift.removed.push_back(describe(*u));
  auto difference = [](const auto& a, const auto& b, auto& out) {
    auto x = a;
    auto y = b;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    std::set_difference(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(out));
  };
  difference(new_scan.lingering, old_baseline.lingering, drift.lingering_added);
  difference(old_baseline.lingering, new_scan.lingering, drift.lingering_removed);
  difference(new_scan.problems, old_baseline.problems, drift.problems_added);
  difference(old_baseline.problems, new_scan.problems, drift.problems_removed);
  return drift;
}

json to_json(const Drift& drift) {
  auto items = [](const std::vector<UnitDrift>& list, bool with_changes) {
    json out = json::array();
    for (const UnitDrift& d : list) out.push_back(item_json(d, with_changes));
    return out;
  };
  auto problems = [](const std::vector<Problem>& list) {
    json out = json::array();
    for (const Problem& p : list) out.push_back(to_json(p));
    return out;
  };
  return json{{"schema", kDriftSchema},
              {"version", kDriftVersion},
              {"new", items(drift.added, false)},
              {"changed", items(drift.changed, true)},
              {"removed", items(drift.removed, false)},
              {"lingering", {{"added", drift.lingering_added}, {"removed", drift.lingering_removed}}},
              {"problems", {{"added", problems(drift.problems_added)}, {"removed", problems(drift.problems_removed)}}}};
}

std::vector<json> to_json_lines(const Drift& drift) {
  std::vector<json> lines;
  auto tagged = [](json j, std::string_view kind) {
    j["drift"] = kind;
    return j;
  };
  for (const UnitDrift& d : drift.added) lines.push_back(tagged(item_json(d, false), "new"));
  for (const UnitDrift& d : drift.changed) lines.push_back(tagged(item_json(d, true), "changed"));
  for (const UnitDrift& d : drift.removed) lines.push_back(tagged(item_json(d, false), "removed"));
  for (const std::string& u : drift.lingering_added) lines.push_back(json{{"drift", "lingering-added"}, {"user", u}});
  for (const std::string& u : drift.lingering_removed)
    lines.push_back(json{{"drift", "lingering-removed"}, {"user", u}});
  for (const Problem& p : drift.problems_added) lines.push_back(tagged(to_json(p), "problem-added"));
  for (const Problem& p : drift.problems_removed) lines.push_back(tagged(to_json(p), "problem-removed"));
  return lines;
}

std::string render_text(const Drift& drift) {
  if (drift.empty()) return "No drift: every timer and service matches the baseline.\n";
  std::string out = "Drift from the baseline: " + std::to_string(drift.added.size()) + " new, " +
                    std::to_string(drift.changed.size()) + " changed, " + std::to_string(drift.removed.size()) +
                    " removed\n";
  auto block = [&out](std::string_view label, const UnitDrift& d) {
    out += "\n";
    out += label;
    out += "  " + d.name + "  [" + d.scope + ", " + d.state + "]";
    if (!d.path.empty()) out += "  " + d.path;
    out += "\n";
    for (const Change& c : d.changes) {
      out += "    " + c.property;
      if (!c.path.empty()) out += " (" + c.path + ")";
      out += ": " + short_value(c.old_value) + " -> " + short_value(c.new_value) + "\n";
    }
    for (const Risk& r : d.risks) out += "    risk " + r.code + ": " + r.reason + "\n";
  };
  for (const UnitDrift& d : drift.added) block("NEW    ", d);
  for (const UnitDrift& d : drift.changed) block("CHANGED", d);
  for (const UnitDrift& d : drift.removed) block("REMOVED", d);
  if (!drift.lingering_added.empty() || !drift.lingering_removed.empty()) out += "\n";
  for (const std::string& u : drift.lingering_added) out += "LINGER+  " + u + " now has lingering enabled\n";
  for (const std::string& u : drift.lingering_removed) out += "LINGER-  " + u + " no longer lingers\n";
  if (!drift.problems_added.empty() || !drift.problems_removed.empty()) out += "\n";
  for (const Problem& p : drift.problems_added) out += "PROBLEM+ " + p.code + " " + p.path + ": " + p.message + "\n";
  for (const Problem& p : drift.problems_removed) out += "PROBLEM- " + p.code + " " + p.path + ": " + p.message + "\n";
  return out;
}

}  // namespace jcorr::baseline
