#include "jcorr/baseline/unit_name.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "jcorr/baseline/unit_settings.h"

namespace jcorr::baseline {
namespace {

constexpr std::array<std::string_view, 11> kTypes = {"service", "socket", "target", "device", "mount", "automount",
                                                     "swap",    "timer",  "path",   "slice",  "scope"};

// The part before '@' or before the type suffix ("foo-bar" for "foo-bar@x.service").
std::string_view prefix_of(std::string_view name) {
  const auto dot = name.rfind('.');
  const std::string_view stem = name.substr(0, dot);
  return stem.substr(0, stem.find('@'));
}

void collect(std::string_view name, std::vector<std::string>& out) {
  if (std::find(out.begin(), out.end(), name) == out.end()) out.emplace_back(name);
  if (is_instance(name)) collect(template_of(name), out);
  std::string prefix(prefix_of(name));
  bool chopped = false;
  for (;;) {
    const auto dash = prefix.rfind('-');
    if (dash == std::string::npos || dash == 0) return;
    if (dash + 1 < prefix.size() || chopped) {
      prefix.resize(dash + 1);
      break;
    }
    prefix.resize(dash);  // a trailing dash is chopped off once
    chopped = true;
  }
  collect(prefix + "." + std::string(unit_type(name)), out);
}

}  // namespace

std::string_view unit_type(std::string_view name) {
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return {};
  const std::string_view type = name.substr(dot + 1);
  return std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end() ? std::string_view{} : type;
}

bool is_valid_unit_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '.' || unit_type(name).empty()) return false;
  const std::string_view stem = name.substr(0, name.rfind('.'));
  if (stem.empty() || std::count(name.begin(), name.end(), '@') > 1) return false;
  if (stem.front() == '@') return false;
  return std::all_of(stem.begin(), stem.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '_' || c == '.' || c == '\\' ||
           c == '-' || c == '@';
  });
}

bool is_template(std::string_view name) {
  const auto at = name.find('@');
  return at != std::string_view::npos && at + 1 < name.size() && name[at + 1] == '.';
}

bool is_instance(std::string_view name) {
  const auto at = name.find('@');
  return at != std::string_view::npos && at + 1 < name.size() && name[at + 1] != '.';
}

std::string template_of(std::string_view name) {
  if (!is_instance(name)) return std::string(name);
  const auto at = name.find('@');
  const auto dot = name.rfind('.');
  return std::string(name.substr(0, at + 1)) + std::string(name.substr(dot));
}

std::vector<std::string> dropin_names(std::string_view name) {
  std::vector<std::string> out;
  collect(name, out);
  return out;
}

std::string paired_service_name(std::string_view timer_name, std::string_view unit_setting) {
  if (!unit_setting.empty()) return expand_name_specifiers(unit_setting, timer_name);
  const auto dot = timer_name.rfind('.');
  return std::string(timer_name.substr(0, dot)) + ".service";
}

}  // namespace jcorr::baseline
