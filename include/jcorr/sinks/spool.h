// The durable spool of one webhook: a directory holding one file per detection that
// is accepted but not yet delivered. A file is written to a temporary name, fsynced,
// renamed to "<id>.json" and the directory fsynced before store() returns, so an
// accepted detection survives a crash or power loss; it is named by the detection id,
// so a redelivered duplicate is stored once. Undeliverable detections move to
// "dead-letter/" with the receiver's response. A cap on bytes and files bounds the
// spool: when it is full, store() refuses and the caller must say so loudly.
//
// One process owns a spool directory at a time (an flock on ".lock"), so two daemons
// cannot deliver, or delete, each other's files. store() may be called from any thread;
// the delivery side (peek, read, rotate, remove, dead_letter) from one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace jcorr::sinks {

struct SpoolLimits {
  std::uint64_t max_bytes = 64ULL << 20;  // sum of the sizes of spooled files
  std::uint64_t max_files = 10000;
};

enum class StoreResult {
  kStored,     // written and synced
  kDuplicate,  // an entry with this id is already spooled (and durable)
  kFull,       // the cap would be exceeded; nothing was written
  kFailed,     // an I/O error; nothing is spooled under this id
};

class Spool {
 public:
  // Opens (creating, mode 0700) the spool directory and its dead-letter/ folder, takes
  // its lock, removes temporary files a crash left behind and queues the entries found,
  // oldest first. Returns the reason on failure, including "in use by another process".
  static std::expected<std::unique_ptr<Spool>, std::string> open(const std::string& dir, SpoolLimits limits);

  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Durably stores bytes as the entry for id (temp file, fsync, rename, fsync of the
  // directory) and queues it, unless an entry with this id is already spooled or the
  // cap would be exceeded. On kFailed, *error says why.
  StoreResult store(std::string_view id, std::string_view bytes, std::string* error = nullptr);

  // The key of the entry to deliver next (entries go round in arrival order), or
  // nullopt when the spool is empty.
  std::optional<std::string> peek() const;

  // Moves the head entry to the back of the queue, after a failed attempt, so one
  // entry a receiver keeps failing on does not hold the others up.
  void rotate();

  // The bytes stored for an entry.
  std::expected<std::string, std::string> read(const std::string& key) const;

  // Deletes a delivered entry (unlink, fsync of the directory). Returns the reason on
  // failure, in which case the entry stays queued and will be sent again.
  std::expected<void, std::string> remove(const std::string& key);

  // Writes record (the detection and the receiver's response, as JSON text) durably to
  // dead-letter/<key>.json, then removes the entry from the spool.
  std::expected<void, std::string> dead_letter(const std::string& key, std::string_view record);

  // Waits until the spool is empty or the timeout passes; true when it is empty.
  bool wait_empty(std::chrono::milliseconds timeout) const;

  // Spooled entries and their total size in bytes, now.
  std::uint64_t files() const;
  std::uint64_t bytes() const;

  // Files in dead-letter/ now (what this process and earlier ones put there).
  std::uint64_t dead_letters() const;

  const std::string& dir() const { return dir_; }
  std::string dead_letter_dir() const { return dir_ + "/dead-letter"; }
  const SpoolLimits& limits() const { return limits_; }

  // The file-name key for a detection id: the id itself when it is 1-128 characters of
  // [A-Za-z0-9_-] (detection ids are 32 hex digits), otherwise "h" and its SHA-256.
  static std::string key_for(std::string_view id);

 private:
  Spool(std::string dir, SpoolLimits limits, int dir_fd, int lock_fd);
  std::string path_of(const std::string& key) const { return dir_ + "/" + key + ".json"; }
  void forget_locked(const std::string& key);

  std::string dir_;
  SpoolLimits limits_;
  int dir_fd_ = -1;
  int dead_fd_ = -1;
  int lock_fd_ = -1;
  std::mutex store_mutex_;  // serialises store(), which does its I/O outside mutex_
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::unordered_map<std::string, std::uint64_t> sizes_;  // key -> bytes
  std::deque<std::string> queue_;
  std::uint64_t bytes_ = 0;
  std::uint64_t dead_letters_ = 0;
  std::uint64_t temp_counter_ = 0;
};

}  // namespace jcorr::sinks
