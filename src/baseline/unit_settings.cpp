#include "jcorr/baseline/unit_settings.h"

#include <algorithm>
#include <array>

namespace jcorr::baseline {
namespace {

constexpr std::array<DirectiveSpec, 20> kDirectives = {{
    {"", "Unit", "Description", DirectiveKind::kScalar},
    {"timer", "Timer", "OnCalendar", DirectiveKind::kTrigger},
    {"timer", "Timer", "OnBootSec", DirectiveKind::kTrigger},
    {"timer", "Timer", "OnStartupSec", DirectiveKind::kTrigger},
    {"timer", "Timer", "OnActiveSec", DirectiveKind::kTrigger},
    {"timer", "Timer", "OnUnitActiveSec", DirectiveKind::kTrigger},
    {"timer", "Timer", "OnUnitInactiveSec", DirectiveKind::kTrigger},
    {"timer", "Timer", "Persistent", DirectiveKind::kScalar},
    {"timer", "Timer", "RandomizedDelaySec", DirectiveKind::kScalar},
    {"timer", "Timer", "Unit", DirectiveKind::kScalar},
    {"service", "Service", "ExecCondition", DirectiveKind::kList},
    {"service", "Service", "ExecStartPre", DirectiveKind::kList},
    {"service", "Service", "ExecStart", DirectiveKind::kList},
    {"service", "Service", "ExecStartPost", DirectiveKind::kList},
    {"service", "Service", "ExecReload", DirectiveKind::kList},
    {"service", "Service", "ExecStop", DirectiveKind::kList},
    {"service", "Service", "ExecStopPost", DirectiveKind::kList},
    {"service", "Service", "User", DirectiveKind::kScalar},
    {"service", "Service", "Group", DirectiveKind::kScalar},
    {"service", "Service", "WorkingDirectory", DirectiveKind::kScalar},
}};

std::string_view type_of(std::string_view unit_name) {
  const auto dot = unit_name.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : unit_name.substr(dot + 1);
}

}  // namespace

std::span<const DirectiveSpec> recorded_directives() { return kDirectives; }

UnitSettings::UnitSettings(std::string_view unit_name) : type_(type_of(unit_name)) {}

void UnitSettings::apply(const UnitFile& file, std::string_view path) {
  for (const Assignment& a : file.assignments) {
    const auto spec = std::find_if(kDirectives.begin(), kDirectives.end(), [&](const DirectiveSpec& d) {
      return (d.unit_type.empty() || d.unit_type == type_) && d.section == a.section && d.key == a.key;
    });
    if (spec == kDirectives.end()) continue;
    std::vector<Setting>& list = settings_[std::string(a.key)];
    if (a.value.empty()) {
      if (spec->kind == DirectiveKind::kTrigger) {
        for (const DirectiveSpec& d : kDirectives)
          if (d.kind == DirectiveKind::kTrigger) settings_.erase(std::string(d.key));
      } else {
        list.clear();
      }
      continue;
    }
    if (spec->kind == DirectiveKind::kScalar) list.clear();
    list.push_back(Setting{a.value, std::string(path), a.line});
  }
}

std::vector<std::string> UnitSettings::values(std::string_view key) const {
  std::vector<std::string> out;
  if (const auto it = settings_.find(key); it != settings_.end())
    for (const Setting& s : it->second) out.push_back(s.value);
  return out;
}

std::vector<Setting> UnitSettings::entries(std::string_view key) const {
  const auto it = settings_.find(key);
  return it == settings_.end() ? std::vector<Setting>{} : it->second;
}

std::optional<std::string> UnitSettings::last(std::string_view key) const {
  const auto it = settings_.find(key);
  if (it == settings_.end() || it->second.empty()) return std::nullopt;
  return it->second.back().value;
}

std::map<std::string, std::vector<std::string>> UnitSettings::directives() const {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [key, list] : settings_)
    if (!list.empty()) out[key] = values(key);
  return out;
}

std::map<std::string, std::vector<ExecCommand>> UnitSettings::commands(std::vector<Diagnostic>& diagnostics,
                                                                       bool& refused) const {
  std::map<std::string, std::vector<ExecCommand>> out;
  for (const auto& [key, list] : settings_) {
    if (!key.starts_with("Exec") || list.empty()) continue;
    std::vector<ExecCommand>& commands = out[key];
    for (const Setting& s : list) {
      ExecParse parsed = parse_exec_value(s.value, s.line);
      for (Diagnostic& d : parsed.diagnostics) {
        d.path = s.path;
        diagnostics.push_back(std::move(d));
      }
      refused = refused || parsed.refused;
      for (ExecCommand& c : parsed.commands) commands.push_back(std::move(c));
    }
    if (commands.empty()) out.erase(key);
  }
  return out;
}

std::string expand_name_specifiers(std::string_view text, std::string_view unit_name) {
  const auto dot = unit_name.rfind('.');
  const std::string_view stem = unit_name.substr(0, dot);  // "foo@bar"
  const auto at = stem.find('@');
  const std::string_view prefix = stem.substr(0, at);
  const std::string_view instance = at == std::string_view::npos ? std::string_view{} : stem.substr(at + 1);
  const auto dash = prefix.rfind('-');
  const std::string_view final_part = dash == std::string_view::npos ? prefix : prefix.substr(dash + 1);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char c = text[++i];
    switch (c) {
      case 'n': out += unit_name; break;
      case 'N': out += stem; break;
      case 'p': case 'P': out += prefix; break;
      case 'i': case 'I': out += instance; break;
      case 'j': case 'J': out += final_part; break;
      case '%': out += '%'; break;
      default:
        out += '%';
        out += c;
        break;
    }
  }
  return out;
}

}  // namespace jcorr::baseline
