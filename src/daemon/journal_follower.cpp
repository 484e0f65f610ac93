#include "jcorr/daemon/journal_follower.h"

#include <grp.h>
#include <unistd.h>

#include "daemon/asio.h"
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "jcorr/daemon/logger.h"

namespace jcorr::daemon {

namespace asio = boost::asio;

namespace {

std::string errno_text(int negative) { return std::strerror(negative < 0 ? -negative : negative); }

bool in_group(const char* name) {
  const group* g = ::getgrnam(name);
  if (g == nullptr) return false;
  if (::getegid() == g->gr_gid) return true;
  const int n = ::getgroups(0, nullptr);
  if (n <= 0) return false;
  std::vector<gid_t> groups(static_cast<std::size_t>(n));
  const int m = ::getgroups(n, groups.data());
  for (int i = 0; i < m; ++i)
    if (groups[static_cast<std::size_t>(i)] == g->gr_gid) return true;
  return false;
}

// True when the journal shows an entry that is not ours to see without privilege: one
// from PID 1 or from root. Matches make this an index lookup, not a scan.
bool shows_system_entries(std::string_view name_space, std::size_t max_field_size) {
  core::FieldSchema schema;
  sources::SourceOptions options;
  options.max_field_size = max_field_size;
  auto probe = sources::JournalReader::open_local(name_space, schema, options, nullptr);
  if (!probe) return false;
  probe->add_match("_PID=1");
  probe->add_disjunction();
  probe->add_match("_UID=0");
  core::Event e;
  return probe->follow_next(e) > 0;
}

// Journal files below dir that this process cannot read (sd-journal skips them quietly).
std::vector<std::string> unreadable_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    const auto ext = it->path().extension();
    if ((ext == ".journal" || ext == ".journal~") && ::access(it->path().c_str(), R_OK) != 0)
      out.push_back(it->path().string());
    if (it.depth() >= 1) it.disable_recursion_pending();
  }
  return out;
}

}  // namespace

struct JournalFollower::Watch {
  explicit Watch(asio::io_context& io) : descriptor(io), timeout(io) {}
  asio::posix::stream_descriptor descriptor;
  asio::steady_timer timeout;
};

JournalFollower::JournalFollower(asio::io_context& io, std::unique_ptr<sources::JournalReader> reader,
                                 const Logger& log)
    : io_(io), reader_(std::move(reader)), log_(log) {}

JournalFollower::~JournalFollower() { stop(); }

std::expected<void, std::string> check_journal_access(const FollowSpec& spec, DaemonConfig::JournalAccess access,
                                                      std::size_t max_field_size, const Logger& log) {
  if (spec.kind == FollowSpec::Kind::kDirectory) {
    if (::access(spec.directory.c_str(), R_OK | X_OK) != 0)
      return std::unexpected("cannot read the journal directory " + spec.directory + ": " + std::strerror(errno));
    const auto hidden = unreadable_files(spec.directory);
    if (!hidden.empty()) {
      std::string msg = std::to_string(hidden.size()) + " journal file(s) in " + spec.directory +
                        " are not readable by this process and would be skipped silently, e.g. " + hidden.front();
      if (access == DaemonConfig::JournalAccess::kRequire)
        return std::unexpected(msg + " (set \"journal_access\": \"warn\" to run anyway)");
      log.warning(msg);
    }
    return {};
  }
  const std::string ns = spec.kind == FollowSpec::Kind::kNamespace ? spec.name_space : std::string();
  const bool privileged = ::geteuid() == 0 || in_group("systemd-journal") || in_group("adm") || in_group("wheel");
  const bool visible = shows_system_entries(ns, max_field_size);
  if (!visible && !privileged) {
    std::string msg = "this process (uid " + std::to_string(::geteuid()) +
                      ") cannot read the system journal: it is neither root nor in the systemd-journal or adm "
                      "group, and no entry of PID 1 or of root is visible, so sd-journal would show only this "
                      "user's own entries and the rules would see almost nothing";
    if (access == DaemonConfig::JournalAccess::kRequire)
      return std::unexpected(msg + " (add the user to systemd-journal, or set \"journal_access\": \"warn\")");
    log.error("WARNING: " + msg);
  } else if (!visible) {
    log.warning("no entry of PID 1 or of root is visible in the " +
                (ns.empty() ? std::string("local journal") : "journal namespace " + ns) +
                "; if this machine runs systemd, the journal is incomplete");
  }
  return {};
}

std::expected<std::unique_ptr<sources::JournalReader>, std::string> open_journal_reader(
    const FollowSpec& spec, core::FieldSchema& schema, std::size_t max_field_size, const std::string& machine_id,
    const Logger& log) {
  sources::SourceOptions options;
  options.max_field_size = max_field_size;
  // The reader keeps the reporter for its whole life: it must not refer to this frame.
  auto problem = std::make_shared<std::string>();
  auto report = [&log, problem](const sources::InputProblem& p) {
    *problem = p.message;
    log.warning(p.input + ": " + p.message);
  };
  std::unique_ptr<sources::JournalReader> reader;
  if (spec.kind == FollowSpec::Kind::kDirectory) {
    reader = sources::JournalReader::open_directory(spec.directory, schema, options, report);
  } else {
    const std::string ns = spec.kind == FollowSpec::Kind::kNamespace ? spec.name_space : std::string();
    reader = sources::JournalReader::open_local(ns, schema, options, report);
  }
  if (!reader) return std::unexpected(problem->empty() ? "cannot open the journal" : *problem);
  if (!machine_id.empty() && !reader->add_match("_MACHINE_ID=" + machine_id))
    return std::unexpected("cannot match _MACHINE_ID=" + machine_id);
  return reader;
}

std::expected<std::unique_ptr<JournalFollower>, std::string> JournalFollower::open(asio::io_context& io,
                                                                                  const FollowSpec& spec,
                                                                                  core::FieldSchema& schema,
                                                                                  std::size_t max_field_size,
                                                                                  const Logger& log) {
  auto reader = open_journal_reader(spec, schema, max_field_size, "", log);
  if (!reader) return std::unexpected(reader.error());
  return std::unique_ptr<JournalFollower>(new JournalFollower(io, std::move(*reader), log));
}

std::expected<void, std::string> JournalFollower::watch(std::function<void()> on_change) {
  const int fd = reader_->get_fd();
  if (fd < 0) return std::unexpected("sd_journal_get_fd: " + errno_text(fd));
  // Watch a duplicate: the stream_descriptor closes what it owns, and the original
  // belongs to sd-journal.
  const int dup_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (dup_fd < 0) return std::unexpected(std::string("dup of the journal descriptor: ") + std::strerror(errno));
  watch_ = std::make_unique<Watch>(io_);
  boost::system::error_code ec;
  watch_->descriptor.assign(dup_fd, ec);
  if (ec) {
    ::close(dup_fd);
    watch_.reset();
    return std::unexpected("watching the journal descriptor: " + ec.message());
  }
  on_change_ = std::move(on_change);
  arm();
  arm_timeout();
  return {};
}

void JournalFollower::stop() {
  *alive_ = false;
  alive_ = std::make_shared<bool>(true);
  if (watch_) {
    boost::system::error_code ec;
    watch_->timeout.cancel();
    watch_->descriptor.cancel(ec);
    watch_->descriptor.close(ec);
    watch_.reset();
  }
  on_change_ = nullptr;
}

void JournalFollower::arm() {
  watch_->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                [this, alive = alive_](const boost::system::error_code& ec) {
                                  if (!*alive || ec == asio::error::operation_aborted) return;
                                  if (ec) {
                                    log_.error("waiting on the journal descriptor failed: " + ec.message());
                                    return;
                                  }
                                  on_wake();
                                  if (*alive && watch_) arm();
                                });
}

void JournalFollower::arm_timeout() {
  auto t = reader_->get_timeout();
  if (!t || !*t) {
    watch_->timeout.cancel();
    return;
  }
  // sd-journal's timeout is an absolute CLOCK_MONOTONIC time, which is steady_clock's.
  const auto when = std::chrono::steady_clock::time_point(std::chrono::microseconds(static_cast<std::int64_t>(**t)));
  watch_->timeout.expires_at(when);
  watch_->timeout.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive || ec) return;
    on_wake();
  });
}

void JournalFollower::process() {
  auto r = reader_->process();
  if (!r) {
    log_.warning("sd_journal_process: " + errno_text(r.error()));
  } else if (*r == sources::JournalReader::Change::kInvalidate) {
    ++invalidations_;
    invalidated_ = true;
    log_.debug("journal files were added or removed (rotation, vacuum or a new file)");
  }
}

void JournalFollower::on_wake() {
  ++wakeups_;
  process();
  if (watch_) arm_timeout();
  if (on_change_) on_change_();
}

}  // namespace jcorr::daemon
