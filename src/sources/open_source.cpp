#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "jcorr/sources/byte_input.h"
#include "jcorr/sources/export_reader.h"
#include "jcorr/sources/journal_reader.h"
#include "jcorr/sources/json_reader.h"
#include "jcorr/sources/source.h"

namespace jcorr::sources {
namespace {

constexpr std::string_view kJournalMagic = "LPKSHHRH";
// How much of a stream is read ahead to find its first non-blank byte.
constexpr std::size_t kMaxPeek = 64u << 10;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool decided(std::string_view head) {
  if (head.size() < kJournalMagic.size()) return false;
  for (const char c : head)
    if (!is_space(c)) return true;
  return false;
}

// Reads from a stream until its format can be told (or kMaxPeek bytes, or its end).
std::expected<std::string, std::error_code> peek(ByteInput& in) {
  std::string head;
  char buf[4096];
  while (!decided(head) && head.size() < kMaxPeek) {
    auto n = in.read(buf, sizeof buf);
    if (!n) return std::unexpected(n.error());
    if (*n == 0) break;
    head.append(buf, *n);
  }
  return head;
}

std::unique_ptr<Source> text_reader(Format format, const std::string& name, std::unique_ptr<ByteInput> in,
                                    core::FieldSchema& schema, const SourceOptions& options, ProblemReporter report) {
  if (format == Format::kJson)
    return std::make_unique<JsonReader>(name, std::move(in), schema, options, std::move(report));
  return std::make_unique<ExportReader>(name, std::move(in), schema, options, std::move(report));
}

}  // namespace

Format detect_format(std::string_view head) {
  head = head.substr(0, kMaxPeek + 1);
  if (head.starts_with(kJournalMagic)) return Format::kJournal;
  for (const char c : head)
    if (!is_space(c)) return c == '{' ? Format::kJson : Format::kExport;
  return Format::kExport;
}

std::unique_ptr<Source> open_source(const std::string& input, core::FieldSchema& schema, const SourceOptions& options,
                                    ProblemReporter report) {
  auto fail = [&](const std::string& message) -> std::unique_ptr<Source> {
    if (report) report(InputProblem{input, 0, false, message});
    return nullptr;
  };

  if (input == "-") {
    std::unique_ptr<ByteInput> in = fd_input(STDIN_FILENO, false);
    Format format = options.format;
    if (format == Format::kAuto || format == Format::kJournal) {
      auto head = peek(*in);
      if (!head) return fail("cannot read standard input: " + head.error().message());
      if (format == Format::kAuto) format = detect_format(*head);
      if (format == Format::kJournal) {
        struct stat st {};
        if (::fstat(STDIN_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
          return fail("a .journal file cannot be read from a pipe; pass its path instead");
        return JournalReader::open_fd(STDIN_FILENO, input, schema, options, std::move(report));
      }
      in = prefixed_input(std::move(*head), std::move(in));
    }
    return text_reader(format, input, std::move(in), schema, options, std::move(report));
  }

  struct stat st {};
  if (::stat(input.c_str(), &st) != 0) return fail(std::string("cannot open: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) {
    if (options.format != Format::kAuto && options.format != Format::kJournal)
      return fail("is a directory; only journal directories can be read");
    return JournalReader::open_directory(input, schema, options, std::move(report));
  }
  if (options.format == Format::kJournal)
    return JournalReader::open_files({input}, input, schema, options, std::move(report));

  auto opened = open_file_input(input);
  if (!opened) return fail("cannot open: " + opened.error().message());
  std::unique_ptr<ByteInput> in = std::move(*opened);
  Format format = options.format;
  if (format == Format::kAuto) {
    if (auto view = in->mapped()) {
      format = detect_format(*view);
    } else {
      auto head = peek(*in);
      if (!head) return fail("cannot read: " + head.error().message());
      format = detect_format(*head);
      if (format == Format::kJournal) return fail("a .journal file must be a regular file");
      in = prefixed_input(std::move(*head), std::move(in));
    }
  }
  if (format == Format::kJournal) {
    in.reset();
    return JournalReader::open_files({input}, input, schema, options, std::move(report));
  }
  return text_reader(format, input, std::move(in), schema, options, std::move(report));
}

}  // namespace jcorr::sources
