// Detections as JSON lines (the canonical JSON of detection.h, one per line) on
// standard output or appended to a file. For a file, flush() also fsyncs, so what was
// flushed survives a crash; handle() alone leaves a line in the stdio buffer, which is
// what "accepted" means for a stream.
#pragma once

#include <cstdint>
#include <cstdio>
#include <expected>
#include <memory>
#include <string>

#include "jcorr/sinks/sink.h"

namespace jcorr::sinks {

class JsonLinesSink final : public Sink {
 public:
  // A sink writing to an already open stream it does not own (stdout, a test's tmpfile).
  explicit JsonLinesSink(std::FILE* stream);

  // Opens path for appending (created 0600 when missing). Returns the reason on failure.
  static std::expected<std::unique_ptr<JsonLinesSink>, std::string> open_file(const std::string& path);

  ~JsonLinesSink() override;
  JsonLinesSink(const JsonLinesSink&) = delete;
  JsonLinesSink& operator=(const JsonLinesSink&) = delete;

  // Writes the detection's JSON line. Returns false (and counts it) when the stream
  // reports a write error.
  bool handle(const core::Detection& detection) override;

  // fflush()es the stream and, for a file this sink opened, fsyncs it.
  void flush() override;

  // Lines written, and writes that failed.
  std::uint64_t written() const { return written_; }
  std::uint64_t failed() const { return failed_; }

 private:
  std::FILE* stream_;
  bool owned_ = false;
  std::uint64_t written_ = 0;
  std::uint64_t failed_ = 0;
};

}  // namespace jcorr::sinks
