// Reads one Journal Export Format or JSON-lines file on several threads.
//
// The file is cut into pieces of about `piece_bytes`; worker threads each read a piece
// (sources::ReadSpan) and match its entries against the rules with their own Matcher,
// which is most of a replay's work. The correlator needs the entries in order, so the
// caller's thread takes the pieces in file order and feeds it each entry: the time of
// an entry that matched nothing (Correlator::skip) or the entry with its matches
// (Correlator::process_matched). The detections, their ids and order, and the problem
// reports are those of reading the file on one thread.
//
// Piece boundaries are guessed: in JSON lines every newline ends a line, but in the
// export format a blank line may also sit inside a binary value. A piece is used only
// when the piece before it ended exactly where it began; otherwise (a guess inside a
// value, which an attacker's binary field can arrange) it is read again, on the
// caller's thread, from where the previous one ended. So a hostile file costs at most
// one more reading, never a wrong entry.
//
// Memory is bounded: at most 2 × threads + 2 pieces are read ahead, and a piece keeps
// copies of its matched entries only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jcorr/core/correlator.h"
#include "jcorr/core/rule.h"
#include "jcorr/sources/source.h"

namespace jcorr::app {

struct ParallelOptions {
  unsigned threads = 2;                // reading and matching threads
  std::size_t piece_bytes = 4u << 20;  // bytes per piece
};

class ParallelReader {
 public:
  // Opens `path` when it can be read in pieces: a regular file in the export or
  // JSON-lines format (options.format, or its content) of more than one piece, with
  // threads >= 2, and rules whose journal event definitions consult no baseline list
  // (a baseline list's answer may change between calls, so it is asked in order on
  // one thread). Returns nullptr otherwise and reports nothing: the caller then opens
  // the input with sources::open_source, which reports what is wrong with it. The
  // rules' schema must be closed (it is then only read, from several threads);
  // capture_limit must be the correlator's (CorrelatorOptions::capture_limit).
  static std::unique_ptr<ParallelReader> open(const std::string& path, core::RuleSet& rules,
                                              std::size_t capture_limit, const sources::SourceOptions& options,
                                              sources::ProblemReporter report, ParallelOptions parallel);
  ~ParallelReader();
  ParallelReader(const ParallelReader&) = delete;
  ParallelReader& operator=(const ParallelReader&) = delete;

  // Feeds the entries of the next piece to the correlator, in file order, appending the
  // detections to out, after reporting the piece's problems. Returns false when every
  // piece has been fed.
  bool feed(core::Correlator& correlator, std::vector<core::Detection>& out);

  std::uint64_t entries() const;    // entries fed so far
  std::uint64_t last_time() const;  // realtime of the last entry fed, 0 before any
  sources::Progress progress() const;
  std::size_t pieces() const;
  // Pieces read again because the previous piece did not end where they began.
  std::size_t pieces_read_again() const;

 private:
  struct Impl;
  explicit ParallelReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jcorr::app
