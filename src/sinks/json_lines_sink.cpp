#include "jcorr/sinks/json_lines_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace jcorr::sinks {

JsonLinesSink::JsonLinesSink(std::FILE* stream) : stream_(stream) {}

std::expected<std::unique_ptr<JsonLinesSink>, std::string> JsonLinesSink::open_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected(path + ": " + std::strerror(errno));
  std::FILE* f = ::fdopen(fd, "a");
  if (f == nullptr) {
    const int err = errno;
    ::close(fd);
    return std::unexpected(path + ": " + std::strerror(err));
  }
  auto sink = std::make_unique<JsonLinesSink>(f);
  sink->owned_ = true;
  return sink;
}

JsonLinesSink::~JsonLinesSink() {
  if (owned_) {
    flush();
    std::fclose(stream_);
  }
}

bool JsonLinesSink::handle(const core::Detection& detection) {
  const std::string line = core::to_json_line(detection);
  if (std::fwrite(line.data(), 1, line.size(), stream_) != line.size()) {
    ++failed_;
    return false;
  }
  ++written_;
  return true;
}

void JsonLinesSink::flush() {
  if (std::fflush(stream_) != 0) return;
  // Only a file this sink opened is fsynced: stdout may be a pipe or a terminal.
  if (owned_) ::fsync(::fileno(stream_));
}

}  // namespace jcorr::sinks
