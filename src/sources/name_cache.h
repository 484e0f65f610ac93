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

  explicit NameCache(core::FieldSchema& schema) : schema_(schema), slots_(kSlots), names_(kSlots), recent_(kPositions), next_(kSlots + 1) {}

  // Returns the field id for `name`, kNotProjected, or kInvalid. Names starting with
  // "__" are not special here; callers handle metadata before asking.
  std::int64_t lookup(std::string_view name) {
    std::size_t slot = 0;
    return lookup_slot(name, slot);
  }

  // Where lookup_next starts for the first field of an entry.
  static constexpr std::size_t kFirst = 512;  // == kSlots

  // As lookup(), first trying the name that followed `prev` (the previous field's
  // answer, or kFirst) the last time: the fields of an entry come in blocks whose order
  // journald keeps (the trusted fields, the host fields, a program's own), so the
  // successor of a name is usually the same even where positions in the entry differ.
  // Updates `prev` for the next field.
  std::int64_t lookup_next(std::size_t& prev, std::string_view name) {
    if (name.size() > kMaxName) return lookup(name);
    if (schema_.size() != schema_size_) clear();
    Recent& r = next_[prev];
    if (r.epoch == epoch_ && r.len == name.size() && same_name(r.name.data(), name)) {
      prev = r.slot;
      return r.result;
    }
    std::size_t slot = 0;
    const std::int64_t result = lookup_slot(name, slot);
    r.epoch = epoch_;
    r.len = static_cast<std::uint32_t>(name.size());
    r.result = static_cast<std::int32_t>(result);
    r.slot = static_cast<std::uint32_t>(slot);
    std::memcpy(r.name.data(), name.data(), name.size());
    prev = slot;
    return result;
  }

  // As lookup(), first trying the name met at the same `position` of the previous entry:
  // entries of one program list the same fields in the same order, so this usually
  // answers with one short comparison.
  std::int64_t lookup_at(std::size_t position, std::string_view name) {
    if (position >= kPositions || name.size() > kMaxName) return lookup(name);
    if (schema_.size() != schema_size_) clear();
    Recent& r = recent_[position];
    if (r.epoch == epoch_ && r.len == name.size() && same_name(r.name.data(), name)) return r.result;
    const std::int64_t result = lookup(name);
    r.epoch = epoch_;
    r.len = static_cast<std::uint32_t>(name.size());
    r.result = static_cast<std::int32_t>(result);
    std::memcpy(r.name.data(), name.data(), name.size());
    return result;
  }

 private:
  // Looks `name` up and sets `slot` to the slot that holds it.
  std::int64_t lookup_slot(std::string_view name, std::size_t& slot) {
    if (name.empty() || name.size() > kMaxName) {
      slot = kSlots;  // no slot: a following name is looked for from the start
      return kInvalid;
    }
    if (schema_.size() != schema_size_) clear();
    const std::uint64_t h = hash(name);
    std::size_t i = static_cast<std::size_t>(h) & (kSlots - 1);
    for (std::size_t probe = 0; probe < kProbes; ++probe, i = (i + 1) & (kSlots - 1)) {
      const Slot& s = slots_[i];
      if (s.len == 0) {
        slot = i;
        return fill(i, h, name);
      }
      if (s.tag == h && s.len == name.size() && same_name(names_[i].data(), name)) {
        slot = i;
        return s.result;
      }
    }
    slot = static_cast<std::size_t>(h) & (kSlots - 1);
    return fill(slot, h, name);
  }

  static constexpr std::size_t kMaxName = 64;
  static constexpr std::size_t kSlots = 512;
  static_assert(kFirst == kSlots, "lookup_next starts at the hint after no slot");
  static constexpr std::size_t kProbes = 4;
  static constexpr std::size_t kPositions = 128;

  struct Slot {  // 16 bytes: the probe loop touches only these
    std::uint64_t tag = 0;
    std::uint32_t len = 0;
    std::int32_t result = 0;
  };
  struct Recent {
    std::uint64_t epoch = 0;
    std::uint32_t len = 0;
    std::int32_t result = 0;
    std::uint32_t slot = 0;  // lookup_next: the slot of this name
    std::array<char, kMaxName> name{};
  };

  // Compares `name` with the stored bytes of a name of the same length: two 8-byte words
  // (first and last, overlapping when shorter than 16) settle most names before memcmp.
  static bool same_name(const char* stored, std::string_view name) {
    const std::size_t n = name.size();
    if (n < 8) return std::memcmp(stored, name.data(), n) == 0;
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, stored, 8);
    std::memcpy(&b, name.data(), 8);
    if (a != b) return false;
    std::memcpy(&a, stored + n - 8, 8);
    std::memcpy(&b, name.data() + n - 8, 8);
    if (a != b) return false;
    return n <= 16 || std::memcmp(stored + 8, name.data() + 8, n - 16) == 0;
  }

  static std::uint64_t hash(std::string_view name) {
    std::uint64_t a = 0;
    std::uint64_t b = name.size();
    if (name.size() >= 8) {
      std::memcpy(&a, name.data(), 8);
      std::memcpy(&b, name.data() + name.size() - 8, 8);
    } else {
      for (std::size_t k = 0; k < name.size(); ++k) a |= static_cast<std::uint64_t>(static_cast<unsigned char>(name[k])) << (8 * k);
    }
    std::uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (((b << 29) | (b >> 35)) * 0xC2B2AE3D27D4EB4Full) ^ name.size();
    h ^= h >> 31;
    return h;
  }

  std::int64_t fill(std::size_t i, std::uint64_t h, std::string_view name) {
    std::int64_t result = kInvalid;
    if (is_valid_field_name(name)) {
      const auto id = schema_.resolve(name);
      result = id ? static_cast<std::int64_t>(*id) : kNotProjected;
      schema_size_ = schema_.size();  // our own interning keeps every cached answer true
    }
    slots_[i] = Slot{h, static_cast<std::uint32_t>(name.size()), static_cast<std::int32_t>(result)};
    std::memcpy(names_[i].data(), name.data(), name.size());
    return result;
  }

  void clear() {
    for (auto& s : slots_) s.len = 0;
    ++epoch_;  // forgets every position and successor hint
    schema_size_ = schema_.size();
  }

  core::FieldSchema& schema_;
  std::vector<Slot> slots_;
  std::vector<std::array<char, kMaxName>> names_;
  std::vector<Recent> recent_;
  std::vector<Recent> next_;  // lookup_next: by the previous name's slot, kFirst at the start
  std::uint64_t epoch_ = 1;
  std::size_t schema_size_ = 0;
};

}  // namespace jcorr::sources::detail
