// Where the daemon stands in the journal, on disk: per followed stream (the local
// journal, or one machine of a journal-remote directory) the cursor of the last entry it
// fully processed and that entry's position (seqnum id and seqnum, boot id, monotonic
// and realtime), the correlator's watermark then, and the daemon's own recent process
// ids.
//
// The file is written atomically (temporary file, fsync, rename, fsync of the
// directory), and only after the sinks have durably accepted every detection up to that
// entry, so a crash at any point leaves either the old or the new checkpoint, and never
// one ahead of the detections.
//
// Entry positions are compared the way sd-journal orders entries across files (same
// seqnum id: seqnum; same boot: monotonic; otherwise realtime; then the content hash),
// never by comparing cursor strings.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jcorr/core/rule.h"

namespace jcorr::daemon {

// The parts of a journal cursor "s=…;i=…;b=…;m=…;t=…;x=…".
struct EntryPosition {
  std::string seqnum_id;  // 32 hex digits
  std::uint64_t seqnum = 0;
  std::string boot_id;    // 32 hex digits
  std::uint64_t monotonic_us = 0;
  std::uint64_t realtime_us = 0;
  std::uint64_t xor_hash = 0;
};

// Parses a cursor; nullopt when a part is missing or malformed.
std::optional<EntryPosition> parse_cursor(std::string_view cursor);

// Negative, zero or positive as a sorts before, with, or after b in sd-journal's order.
int compare_positions(const EntryPosition& a, const EntryPosition& b);

// A process id the daemon ran as, with the boot it ran in: entries from it are the
// daemon's own log lines.
struct OwnPid {
  std::string boot_id;
  std::uint32_t pid = 0;
  bool operator==(const OwnPid&) const = default;
};

// The last entry fully processed in one stream.
struct StreamPosition {
  std::string machine_id;  // the machine a directory stream follows; empty for the local journal
  std::string cursor;
  EntryPosition position;  // parsed from cursor
  bool operator==(const StreamPosition& o) const { return machine_id == o.machine_id && cursor == o.cursor; }
};

struct Checkpoint {
  static constexpr int kVersion = 2;
  std::string source;        // FollowSpec::identity() of the journal it was taken on
  std::vector<StreamPosition> streams;
  core::Micros watermark = 0;        // the correlator's watermark when it was taken
  std::uint64_t written_realtime_us = 0;  // wall clock when written
  std::vector<OwnPid> own_pids;      // most recent last, capped
};

// Reads state_directory/checkpoint.json. nullopt when there is none; an error when it
// exists but cannot be read or parsed.
std::expected<std::optional<Checkpoint>, std::string> read_checkpoint(const std::string& state_directory);

// Writes state_directory/checkpoint.json atomically (see above).
std::expected<void, std::string> write_checkpoint(const std::string& state_directory, const Checkpoint& checkpoint);

// The checkpoint file's path.
std::string checkpoint_path(const std::string& state_directory);

}  // namespace jcorr::daemon
