#include "jcorr/core/event.h"

#include <algorithm>
#include <cstdio>

namespace jcorr::core {

FieldSchema::FieldSchema() {
  add("_MACHINE_ID");
  add("_HOSTNAME");
  add("MESSAGE");
  add("_BOOT_ID");
}

FieldId FieldSchema::add(std::string_view name) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  const auto id = static_cast<FieldId>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(names_.back(), id);
  return id;
}

std::optional<FieldId> FieldSchema::resolve(std::string_view name) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  if (open_) return add(name);
  return std::nullopt;
}

std::optional<FieldId> FieldSchema::find(std::string_view name) const {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  return std::nullopt;
}

void Event::clear() {
  for (const auto& s : slots_) first_[s.id] = kNone;
  slots_.clear();
  data_.clear();
  cursor.clear();
  realtime_us = 0;
  monotonic_us = 0;
  input = 0;
}

void Event::add(FieldId id, std::string_view value) {
  if (id >= first_.size()) first_.resize(id + 1, kNone);
  if (first_[id] == kNone) first_[id] = static_cast<std::uint32_t>(slots_.size());
  slots_.push_back({id, static_cast<std::uint32_t>(data_.size()), static_cast<std::uint32_t>(value.size())});
  data_.append(value);
}

std::optional<std::string_view> Event::get(FieldId id) const {
  if (!has(id)) return std::nullopt;
  return value(slots_[first_[id]]);
}

std::string Event::entry_id() const {
  // Keep b=, m=, t=, x= in the order the cursor has them; drop s= and i=.
  std::string out;
  std::string_view c = cursor;
  while (!c.empty()) {
    const auto semi = c.find(';');
    const auto part = c.substr(0, semi);
    if (part.size() >= 2 && part[1] == '=' && (part[0] == 'b' || part[0] == 'm' || part[0] == 't' || part[0] == 'x')) {
      if (!out.empty()) out.push_back(';');
      out.append(part);
    }
    if (semi == std::string_view::npos) break;
    c.remove_prefix(semi + 1);
  }
  if (!out.empty()) return out;
  if (!cursor.empty()) return cursor;  // not a journald cursor (e.g. a detection fed back as an event)
  char buf[64];
  std::snprintf(buf, sizeof buf, "t=%llx;m=%llx", static_cast<unsigned long long>(realtime_us),
                static_cast<unsigned long long>(monotonic_us));
  return buf;
}

namespace {
using Named = std::vector<std::pair<std::string_view, std::string_view>>;
Named named_values(const Event& e, const FieldSchema& s) {
  Named v;
  v.reserve(e.slots().size());
  for (const auto& slot : e.slots()) v.emplace_back(s.name(slot.id), e.value(slot));
  // Stable: repeated values of one field keep their order.
  std::stable_sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  return v;
}
}  // namespace

bool Event::same_entry(const Event& a, const FieldSchema& sa, const Event& b, const FieldSchema& sb) {
  return a.realtime_us == b.realtime_us && a.monotonic_us == b.monotonic_us && a.entry_id() == b.entry_id() &&
         named_values(a, sa) == named_values(b, sb);
}

}  // namespace jcorr::core
