// The event model: one journal entry as the engine sees it.
//
// Sources are told, through a FieldSchema, which fields the loaded rules and outputs
// need, and materialise only those. Field names are interned to small integer ids;
// an Event stores its values in one byte buffer with a slot per value, so filling an
// event re-uses its capacity and allocates nothing per field once warm.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace jcorr::core {

using FieldId = std::uint32_t;

// Ids that every schema reserves, in this order.
inline constexpr FieldId kMachineIdField = 0;  // _MACHINE_ID
inline constexpr FieldId kHostnameField = 1;   // _HOSTNAME
inline constexpr FieldId kMessageField = 2;    // MESSAGE
inline constexpr FieldId kBootIdField = 3;     // _BOOT_ID
inline constexpr FieldId kReservedFields = 4;

// Maps field names to ids for the fields a run projects. A schema is either closed
// (only the names added are projected: the normal case, driven by the rules) or open
// (every name a source meets is interned: `--dump`). Not thread-safe; one per pipeline.
class FieldSchema {
 public:
  // Creates a closed schema holding the reserved fields.
  FieldSchema();

  // Adds name to the projection and returns its id; adding an existing name returns
  // the existing id.
  FieldId add(std::string_view name);

  // Returns the id of name if it is projected. In an open schema unknown names are
  // interned on the way, which is why this is not const.
  std::optional<FieldId> resolve(std::string_view name);

  // Returns the id of name if it is already interned, never interning.
  std::optional<FieldId> find(std::string_view name) const;

  // Returns the name of id; id must come from this schema.
  std::string_view name(FieldId id) const { return names_[id]; }

  std::size_t size() const { return names_.size(); }

  // An open schema projects every field (used by `replay --dump`).
  void set_open(bool open) { open_ = open; }
  bool open() const { return open_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> names_;
  std::unordered_map<std::string, FieldId, Hash, std::equal_to<>> ids_;
  bool open_ = false;
};

// One value of one field inside an Event's buffer.
struct FieldSlot {
  FieldId id;
  std::uint32_t offset;
  std::uint32_t size;
};

// An immutable-once-built journal entry. Values are binary-safe byte strings; a field
// may repeat, and its values keep the order in which the source met them.
class Event {
 public:
  // Realtime (µs since the epoch, __REALTIME_TIMESTAMP): the event time.
  std::uint64_t realtime_us = 0;
  // Monotonic µs since boot (__MONOTONIC_TIMESTAMP), meaningful with the boot id.
  std::uint64_t monotonic_us = 0;
  // __CURSOR as the source gave it; empty when the input had none.
  std::string cursor;
  // Index of the input this event came from, set by the merger; not part of identity.
  std::uint32_t input = 0;

  // Forgets every field, timestamp and the cursor, keeping the buffers' capacity.
  void clear();

  // Appends a value for field id. Values longer than 4 GiB are not representable and
  // are truncated by the caller's size limits long before that.
  void add(FieldId id, std::string_view value);

  // Returns the first value of field id, or nullopt when the entry lacks it.
  std::optional<std::string_view> get(FieldId id) const;

  // Returns true when the entry has at least one value of field id.
  bool has(FieldId id) const { return id < first_.size() && first_[id] != kNone; }

  // Calls fn(value) for every value of field id, in order.
  template <class Fn>
  void for_each_value(FieldId id, Fn&& fn) const {
    if (!has(id)) return;
    for (std::size_t i = first_[id]; i < slots_.size(); ++i)
      if (slots_[i].id == id) fn(value(slots_[i]));
  }

  // Calls fn(value) for the values of field id, in order, until fn returns true.
  template <class Fn>
  void find_value(FieldId id, Fn&& fn) const {
    if (!has(id)) return;
    for (std::size_t i = first_[id]; i < slots_.size(); ++i)
      if (slots_[i].id == id && fn(value(slots_[i]))) return;
  }

  // All values in the order they were added.
  std::span<const FieldSlot> slots() const { return slots_; }
  std::string_view value(const FieldSlot& slot) const {
    return std::string_view(data_).substr(slot.offset, slot.size);
  }

  // The host this entry came from (_MACHINE_ID, _HOSTNAME), empty when absent.
  std::string_view machine_id() const { return get(kMachineIdField).value_or(std::string_view{}); }
  std::string_view hostname() const { return get(kHostnameField).value_or(std::string_view{}); }
  std::string_view boot_id() const { return get(kBootIdField).value_or(std::string_view{}); }

  // A stable identity for the entry that survives re-export and conversion to a new
  // journal file: the cursor's b=, m=, t= and x= parts (journal-remote renumbers s= and
  // i=, but keeps boot id, monotonic and realtime and the content hash x=). Without a
  // cursor it is derived from the timestamps and the projected field values.
  std::string entry_id() const;

  // True when both events carry the same timestamps, entry id and the same values per
  // field (compared by field name through their schemas, order of distinct fields ignored).
  static bool same_entry(const Event& a, const FieldSchema& sa, const Event& b, const FieldSchema& sb);

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  std::string data_;
  std::vector<FieldSlot> slots_;
  std::vector<std::uint32_t> first_;  // field id -> index of its first slot, or kNone
};

}  // namespace jcorr::core
