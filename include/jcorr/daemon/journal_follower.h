// Follows a journal: owns the JournalReader (the sd_journal handle) and the event-loop
// side of watching it, on the thread that runs the io_context, for the handle's whole
// life.
//
// The journal's change descriptor is watched through a dup() of it in a
// posix::stream_descriptor; on every wake-up the follower calls process() (otherwise
// the descriptor stays readable and the loop spins) and then tells its owner to drain.
// sd_journal_get_timeout() is honoured with a steady_timer for file systems where
// inotify is not enough. Files that appear or vanish (rotation, vacuum, a new host)
// come as "invalidate" and need nothing more: the read position survives.
//
// Opening the local journal or a namespace also checks that the whole journal is
// visible: sd-journal opens successfully for any user but then silently shows only
// that user's own entries.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>

#include "jcorr/core/event.h"
#include "jcorr/daemon/config.h"
#include "jcorr/sources/journal_reader.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace jcorr::daemon {

class Logger;

// Checks that this process sees the whole journal of spec (see above): an error with
// JournalAccess::kRequire, a loud warning with kWarn.
std::expected<void, std::string> check_journal_access(const FollowSpec& spec, DaemonConfig::JournalAccess access,
                                                      std::size_t max_field_size, const Logger& log);

// Opens a reader on the journal of spec, entries projected through schema (which must
// outlive it); with a machine id, only that machine's entries (a _MACHINE_ID match).
std::expected<std::unique_ptr<sources::JournalReader>, std::string> open_journal_reader(
    const FollowSpec& spec, core::FieldSchema& schema, std::size_t max_field_size, const std::string& machine_id,
    const Logger& log);

class JournalFollower {
 public:
  // Opens the journal of spec (entries projected through schema, which must outlive the
  // follower) to watch it; check_journal_access() first.
  static std::expected<std::unique_ptr<JournalFollower>, std::string> open(boost::asio::io_context& io,
                                                                           const FollowSpec& spec,
                                                                           core::FieldSchema& schema,
                                                                           std::size_t max_field_size,
                                                                           const Logger& log);

  ~JournalFollower();
  JournalFollower(const JournalFollower&) = delete;
  JournalFollower& operator=(const JournalFollower&) = delete;

  // Starts watching; on_change runs (on the io_context) after every wake-up, once
  // process() has been called. Returns the reason when the descriptor cannot be had.
  std::expected<void, std::string> watch(std::function<void()> on_change);

  // Stops watching; no on_change runs after this returns.
  void stop();

  // Calls process() outside a wake-up: a long drain does so every batch so that
  // rotated and deleted files are let go of.
  void process();

  sources::JournalReader& reader() { return *reader_; }

  // True (once) when process() has seen files added or removed since the last call.
  bool take_invalidated() {
    const bool v = invalidated_;
    invalidated_ = false;
    return v;
  }

  // Wake-ups and process() results so far, for metrics.
  std::uint64_t wakeups() const { return wakeups_; }
  std::uint64_t invalidations() const { return invalidations_; }

 private:
  JournalFollower(boost::asio::io_context& io, std::unique_ptr<sources::JournalReader> reader, const Logger& log);
  void arm();
  void arm_timeout();
  void on_wake();

  struct Watch;
  boost::asio::io_context& io_;
  std::unique_ptr<sources::JournalReader> reader_;
  const Logger& log_;
  std::unique_ptr<Watch> watch_;
  std::function<void()> on_change_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::uint64_t wakeups_ = 0;
  std::uint64_t invalidations_ = 0;
  bool invalidated_ = false;
};

}  // namespace jcorr::daemon
