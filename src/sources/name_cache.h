// A small cache from field-name bytes to what the schema says about them, so the hot
// loops of the readers neither re-validate nor re-hash the same twenty names per entry
// through the schema's std::unordered_map.
//
// Keyed by the name's bytes (never by a pointer: sd-journal's data pointers move when its
// mmap windows are remapped). Cleared whenever the schema grows behind its back.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "jcorr/core/event.h"
#include "sources/text_rules.h"

namespace jcorr::sources::detail {

class NameCache {
 public:
  static constexpr std::int64_t kNotProjected = -1;  // valid name the schema does not project
  static constexpr std::int64_t kInvalid = -2;       // not a valid journal field name

  explicit NameCache(core::FieldSchema& schema) : schema_(schema), slots_(kSlots) {}

  // Returns the field id for `name`, kNotProjected, or kInvalid. Names starting with
  // "__" are not special here; callers handle metadata before asking.
  std::int64_t lookup(std::string_view name) {
    if (name.empty() || name.size() > kMaxName) return kInvalid;
    if (schema_.size() != schema_size_) clear();
    const std::uint64_t h = hash(name);
    std::size_t i = static_cast<std::size_t>(h) & (kSlots - 1);
    for (std::size_t probe = 0; probe < kProbes; ++probe, i = (i + 1) & (kSlots - 1)) {
      Slot& s = slots_[i];
      if (s.len == 0) return fill(s, h, name);
      if (s.tag == h && s.len == name.size() && std::memcmp(s.name.data(), name.data(), name.size()) == 0)
        return s.result;
    }
    return fill(slots_[static_cast<std::size_t>(h) & (kSlots - 1)], h, name);
  }

 private:
  static constexpr std::size_t kMaxName = 64;
  static constexpr std::size_t kSlots = 1024;
  static constexpr std::size_t kProbes = 4;

  struct Slot {
    std::uint64_t tag = 0;
    std::uint32_t len = 0;
    std::int64_t result = 0;
    std::array<char, kMaxName> name{};
  };

  static std::uint64_t hash(std::string_view name) {
    std::uint64_t a = 0;
    std::uint64_t b = name.size();
    if (name.size() >= 8) {
      std::memcpy(&a, name.data(), 8);
      std::memcpy(&b, name.data() + name.size() - 8, 8);
    } else {
      std::memcpy(&a, name.data(), name.size());
    }
    std::uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (((b << 29) | (b >> 35)) * 0xC2B2AE3D27D4EB4Full) ^ name.size();
    h ^= h >> 31;
    return h | 1;  // never 0, so a zero tag marks nothing special
  }

  std::int64_t fill(Slot& s, std::uint64_t h, std::string_view name) {
    std::int64_t result = kInvalid;
    if (is_valid_field_name(name)) {
      const auto id = schema_.resolve(name);
      result = id ? static_cast<std::int64_t>(*id) : kNotProjected;
      schema_size_ = schema_.size();  // our own interning keeps every cached answer true
    }
    s.tag = h;
    s.len = static_cast<std::uint32_t>(name.size());
    s.result = result;
    std::memcpy(s.name.data(), name.data(), name.size());
    return result;
  }

  void clear() {
    for (auto& s : slots_) s.len = 0;
    schema_size_ = schema_.size();
  }

  core::FieldSchema& schema_;
  std::vector<Slot> slots_;
  std::size_t schema_size_ = 0;
};

}  // namespace jcorr::sources::detail
