// Journal Export Format reader (`journalctl -o export`, systemd's
// docs/JOURNAL_EXPORT_FORMATS.md): text fields `NAME=value\n`, binary fields `NAME\n` +
// 64-bit little-endian length + bytes + `\n`, entries separated by a blank line.
//
// Parsing rules, as implemented:
// - Any number of blank lines may separate entries, so concatenated streams work.
// - `__CURSOR`, `__REALTIME_TIMESTAMP` and `__MONOTONIC_TIMESTAMP` fill the Event's
//   members; other `__` fields (`__SEQNUM`, `__SEQNUM_ID`, ...) are skipped. Every other
//   field, `_BOOT_ID` included, is an ordinary field, added only when the schema
//   resolves its name. Repeated fields keep their order.
// - An entry without a valid `__REALTIME_TIMESTAMP` is reported and skipped: the event
//   time is journald's receive time, and the client-supplied `_SOURCE_REALTIME_TIMESTAMP`
//   is not trusted to stand in for it.
// - An entry without `__CURSOR` gets one synthesised by EntryHasher over all its fields.
// - Problems that break the framing (a line that is neither `NAME=value` nor a binary
//   header, a length that is implausible (over 768 MiB, journald's own data limit) or
//   runs past the end of the input, a binary value not followed by '\n', an entry cut off
//   by the end of the input) are reported with the byte offset, the entry is skipped, and
//   reading resumes after the next blank line.
// - Problems confined to one field keep the entry: an invalid field name drops that field;
//   a text value that is not UTF-8 is reported and kept as bytes (checked on projected
//   fields only); a value over max_field_size is truncated (reported once per input).
// - Entries larger than max_entry_size or with more than max_fields_per_entry fields are
//   reported and skipped. On a stream, such an entry is skipped without being buffered:
//   a text line or a binary value longer than max_entry_size is discarded byte for byte
//   and the entry's framing is still followed to its end (never searched for entry
//   boundaries, so a huge value cannot smuggle entries in), as when read in place; such
//   a value whose length runs past the end of the input takes the rest of it.
#pragma once

#include <memory>
#include <string>

#include "jcorr/sources/byte_input.h"
#include "jcorr/sources/source.h"

namespace jcorr::sources {

class ExportReader final : public Source {
 public:
  // Reads `input`, parsed in place when it is mapped, otherwise in chunks. `name` is used
  // in problem reports; the schema must outlive the reader. A span other than the whole
  // input needs a mapped input; offsets in reports stay offsets of the whole input.
  ExportReader(std::string name, std::unique_ptr<ByteInput> input, core::FieldSchema& schema,
               const SourceOptions& options, ProblemReporter report, ReadSpan span = {});
  ~ExportReader() override;
  ExportReader(const ExportReader&) = delete;
  ExportReader& operator=(const ExportReader&) = delete;

  bool next(core::Event& out) override;
  const std::string& name() const override;
  Progress progress() const override;

  // After next() returned false: where the next entry starts (past any blank lines), the
  // span's end as ReadSpan describes it; the end of the input when it ended first.
  std::uint64_t resume_at() const;

  // True when reading stopped on an error that ends the input (allocation failure).
  bool failed() const;

  // Bytes the reader currently holds in its stream buffer (0 when parsing in place);
  // exposed so tests can check that memory stays bounded.
  std::size_t buffer_capacity() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jcorr::sources
