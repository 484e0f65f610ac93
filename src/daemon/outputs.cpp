#include "jcorr/daemon/outputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "jcorr/daemon/logger.h"

namespace jcorr::daemon {

namespace {

// A JSON-lines stream: stdout (not owned) or a file opened for appending (owned).
class JsonLinesStream {
 public:
  JsonLinesStream(std::FILE* f, bool owned, std::string name) : f_(f), owned_(owned), name_(std::move(name)) {}
  ~JsonLinesStream() {
    if (owned_) std::fclose(f_);
  }
  JsonLinesStream(const JsonLinesStream&) = delete;
  JsonLinesStream& operator=(const JsonLinesStream&) = delete;

  bool write(const std::string& line) {
    if (std::fwrite(line.data(), 1, line.size(), f_) != line.size()) {
      ++failures_;
      return false;
    }
    return true;
  }

  bool flush() {
    bool ok = std::fflush(f_) == 0;
    if (owned_ && ok) ok = ::fsync(::fileno(f_)) == 0;
    if (!ok) ++failures_;
    return ok;
  }

  const std::string& name() const { return name_; }
  std::uint64_t failures() const { return failures_; }

 private:
  std::FILE* f_;
  bool owned_;
  std::string name_;
  std::uint64_t failures_ = 0;
};

}  // namespace

struct Outputs::Impl {
  const Logger* log = nullptr;
  std::vector<std::unique_ptr<JsonLinesStream>> streams;
  Counters counters;
  std::uint64_t reported_failures = 0;
};

Outputs::Outputs(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Outputs::~Outputs() {
  if (impl_) (void)flush();
}

std::expected<std::uint64_t, std::string> repair_json_lines_tail(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;
    return std::unexpected(path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size == 0) {
    ::close(fd);
    return 0;
  }
  // Walk back from the end in blocks to the last '\n'.
  off_t end = st.st_size;
  off_t keep = 0;
  char buf[4096];
  bool found = false;
  while (end > 0 && !found) {
    const off_t start = end > static_cast<off_t>(sizeof buf) ? end - static_cast<off_t>(sizeof buf) : 0;
    const auto len = static_cast<std::size_t>(end - start);
    if (::pread(fd, buf, len, start) != static_cast<ssize_t>(len)) {
      ::close(fd);
      return std::unexpected(path + ": read failed");
    }
    for (std::size_t i = len; i > 0; --i) {
      if (buf[i - 1] == '\n') {
        keep = start + static_cast<off_t>(i);
        found = true;
        break;
      }
    }
    end = start;
  }
  const auto removed = static_cast<std::uint64_t>(st.st_size - keep);
  if (removed > 0 && (::ftruncate(fd, keep) != 0 || ::fsync(fd) != 0)) {
    const int e = errno;
    ::close(fd);
    return std::unexpected(path + ": cannot cut the partial last line: " + std::strerror(e));
  }
  ::close(fd);
  return removed;
}

std::expected<std::unique_ptr<Outputs>, std::string> Outputs::open(const OutputsConfig& config, const Logger& log,
                                                                   std::vector<core::Diagnostic>& diagnostics) {
  (void)diagnostics;
  auto impl = std::make_unique<Impl>();
  impl->log = &log;
  if (config.stdout_lines) impl->streams.push_back(std::make_unique<JsonLinesStream>(stdout, false, "stdout"));
  if (!config.file.empty()) {
    auto cut = repair_json_lines_tail(config.file);
    if (!cut) return std::unexpected(cut.error());
    if (*cut > 0)
      log.warning(config.file + ": cut a partial last line of " + std::to_string(*cut) +
                  " bytes left by an earlier crash (its detection is emitted again)");
    const int fd = ::open(config.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return std::unexpected(config.file + ": " + std::strerror(errno));
    std::FILE* f = ::fdopen(fd, "a");
    if (f == nullptr) {
      ::close(fd);
      return std::unexpected(config.file + ": " + std::strerror(errno));
    }
    impl->streams.push_back(std::make_unique<JsonLinesStream>(f, true, config.file));
  }
  if (!config.webhooks.empty())
    return std::unexpected("webhook outputs are not available in this build yet (" + config.webhooks + ")");
  return std::unique_ptr<Outputs>(new Outputs(std::move(impl)));
}

bool Outputs::handle(const core::Detection& d) {
  const std::string line = core::to_json_line(d);
  bool all = true;
  for (auto& s : impl_->streams) {
    if (!s->write(line)) {
      all = false;
      impl_->log->error(s->name() + ": writing a detection failed: " + std::strerror(errno));
    }
  }
  if (all) ++impl_->counters.accepted;
  else ++impl_->counters.refused;
  return all;
}

bool Outputs::flush() {
  bool ok = true;
  for (auto& s : impl_->streams) {
    if (!s->flush()) {
      ok = false;
      impl_->log->error(s->name() + ": flush failed: " + std::strerror(errno));
    }
  }
  return ok;
}

Outputs::Counters Outputs::counters() const {
  Counters c = impl_->counters;
  for (const auto& s : impl_->streams) c.write_failures += s->failures();
  return c;
}

}  // namespace jcorr::daemon
