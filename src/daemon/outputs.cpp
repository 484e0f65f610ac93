#include "jcorr/daemon/outputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "jcorr/daemon/logger.h"
#include "jcorr/sinks/json_lines_sink.h"
#include "jcorr/sinks/webhook_set.h"

namespace jcorr::daemon {

struct Outputs::Impl {
  const Logger* log = nullptr;
  std::vector<std::pair<std::string, std::unique_ptr<sinks::Sink>>> sinks;  // name, sink
  std::vector<const sinks::JsonLinesSink*> streams;
  const sinks::WebhookSet* webhooks = nullptr;
  Counters counters;
};

Outputs::Outputs(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Outputs::~Outputs() {
  if (impl_) flush();
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
  auto impl = std::make_unique<Impl>();
  impl->log = &log;
  if (config.stdout_lines) {
    auto s = std::make_unique<sinks::JsonLinesSink>(stdout);
    impl->streams.push_back(s.get());
    impl->sinks.emplace_back("stdout", std::move(s));
  }
  if (!config.file.empty()) {
    auto cut = repair_json_lines_tail(config.file);
    if (!cut) return std::unexpected(cut.error());
    if (*cut > 0)
      log.warning(config.file + ": cut a partial last line of " + std::to_string(*cut) +
                  " bytes left by an earlier crash (its detection is emitted again)");
    auto s = sinks::JsonLinesSink::open_file(config.file);
    if (!s) return std::unexpected(s.error());
    impl->streams.push_back(s->get());
    impl->sinks.emplace_back(config.file, std::move(*s));
  }
  if (!config.webhooks.empty()) {
    sinks::WebhookSinkOptions options;
    options.log = [&log](std::string_view line) { log.warning(std::string(line)); };
    auto opened = sinks::WebhookSet::open(config.webhooks, options);
    diagnostics.insert(diagnostics.end(), opened.diagnostics.begin(), opened.diagnostics.end());
    if (!opened.set)
      return std::unexpected(config.webhooks + ": " +
                             (opened.error.empty() ? std::string("the webhook configuration has errors") : opened.error));
    impl->webhooks = opened.set.get();
    log.info(config.webhooks + ": " + std::to_string(opened.set->size()) + " webhook(s)");
    impl->sinks.emplace_back("webhooks", std::move(opened.set));
  }
  return std::unique_ptr<Outputs>(new Outputs(std::move(impl)));
}

bool Outputs::handle(const core::Detection& d) {
  bool all = true;
  for (auto& [name, sink] : impl_->sinks) {
    if (!sink->handle(d)) {
      all = false;
      // The webhook sinks log their own refusals (spool full or unwritable).
      if (name != "webhooks") impl_->log->error(name + ": writing detection " + d.id + " failed");
    }
  }
  if (all) ++impl_->counters.accepted;
  else ++impl_->counters.refused;
  return all;
}

void Outputs::flush() {
  for (auto& [name, sink] : impl_->sinks) sink->flush();
}

Outputs::Counters Outputs::counters() const {
  Counters c = impl_->counters;
  for (const auto* s : impl_->streams) c.write_failures += s->failed();
  for (const auto& m : webhooks()) {
    c.spool_depth += m.spool_files;
    c.delivery_failures += m.retried + m.dead_lettered;
    c.dead_lettered += m.dead_lettered;
  }
  return c;
}

std::vector<sinks::WebhookMetrics> Outputs::webhooks() const {
  return impl_->webhooks ? impl_->webhooks->metrics() : std::vector<sinks::WebhookMetrics>{};
}

}  // namespace jcorr::daemon
