// JSON-lines reader for what `journalctl -o json` writes: one object per line, every
// value a string; a repeated field an array of strings, byte arrays and nulls; a value
// that is not printable UTF-8 an array of byte numbers; an oversized value (journalctl
// without --all) null. Timestamps are decimal strings.
//
// Parsing rules, as implemented:
// - `__CURSOR`, `__REALTIME_TIMESTAMP`, `__MONOTONIC_TIMESTAMP` fill the Event's members
//   (timestamps as decimal strings or, leniently, unsigned numbers); other `__` keys are
//   skipped; every other key is an ordinary field, added when the schema resolves it.
// - A line that is not valid JSON or not an object is reported with its 1-based line
//   number and skipped; blank lines are ignored; the last line may lack its newline.
// - A line longer than max_entry_size is reported and skipped without being buffered; a
//   line with more than max_fields_per_entry field values (each value of a repeated
//   field counts) is reported and skipped, as the export reader does.
// - Null values are skipped without a report and counted (null_values()).
// - A value of another shape (number, boolean, object, a byte number above 255) is
//   reported and that value dropped; an invalid field name drops the field.
// - An entry without a valid `__REALTIME_TIMESTAMP` is reported and skipped; one without
//   `__CURSOR` gets a cursor from EntryHasher over all its non-null values, identical to
//   the one the export reader would synthesise for the same entry.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "jcorr/sources/byte_input.h"
#include "jcorr/sources/source.h"

namespace jcorr::sources {

class JsonReader final : public Source {
 public:
  // Reads `input` line by line; `name` is used in problem reports; the schema must
  // outlive the reader. A span other than the whole input needs a mapped input; line
  // numbers in reports then count from the span's first line (line 1).
  JsonReader(std::string name, std::unique_ptr<ByteInput> input, core::FieldSchema& schema,
             const SourceOptions& options, ProblemReporter report, ReadSpan span = {});
  ~JsonReader() override;
  JsonReader(const JsonReader&) = delete;
  JsonReader& operator=(const JsonReader&) = delete;

  bool next(core::Event& out) override;
  const std::string& name() const override;
  Progress progress() const override;

  // After next() returned false: the offset of the next line, the span's end as ReadSpan
  // describes it; the end of the input when it ended first.
  std::uint64_t resume_at() const;

  // Lines read so far (blank and skipped ones included).
  std::uint64_t lines_read() const;

  // True when reading stopped on an error that ends the input (allocation failure).
  bool failed() const;

  // How many null values (fields journalctl elided as too large) were skipped so far.
  std::uint64_t null_values() const;

  // Bytes the reader currently holds in its stream buffer (0 when parsing in place).
  std::size_t buffer_capacity() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jcorr::sources
