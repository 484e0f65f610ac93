#include "jcorr/sources/journal_reader.h"

#include <systemd/sd-journal.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "sources/name_cache.h"

namespace jcorr::sources {
namespace {

std::string errno_text(int negative_errno) { return std::strerror(-negative_errno); }

// Room for the field name and '=' in front of a value, so that sd-journal's threshold
// (which counts the whole "NAME=value" item) never cuts a value shorter than
// max_field_size; longer ones are cut to max_field_size here.
constexpr std::size_t kNameRoom = 64 + 1;

}  // namespace

struct JournalReader::Impl {
  Impl(sd_journal* journal, std::string n, core::FieldSchema& s, const SourceOptions& o, ProblemReporter r)
      : j(journal), name(std::move(n)), names(s), options(o), report(std::move(r)) {
    const std::size_t threshold =
        options.max_field_size > SIZE_MAX - kNameRoom ? 0 : options.max_field_size + kNameRoom;  // 0 = unlimited
    sd_journal_set_data_threshold(j, threshold);
    std::uint64_t first = 0;
    if (sd_journal_get_cutoff_realtime_usec(j, &first, &cutoff_at_open) <= 0) cutoff_at_open = 0;
  }
  ~Impl() { sd_journal_close(j); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  sd_journal* j;
  std::string name;
  detail::NameCache names;
  SourceOptions options;
  ProblemReporter report;
  unsigned error_streak = 0;
  bool stopped = false;
  bool truncation_reported = false;
  Counts counts;
  std::uint64_t entries = 0;
  std::uint64_t cutoff_at_open = 0;  // latest entry time the files' headers list at open
  bool end_checked = false;

  void problem(std::string message, bool once_per_input = false) const {
    if (report) report(InputProblem{name, 0, false, std::move(message), once_per_input});
  }

  std::string where() const { return "after entry " + std::to_string(entries); }

  // Reads the current entry into `out`; returns false (after reporting) when it is unusable.
  bool read_entry(core::Event& out) {
    if (read_fields(out)) return true;
    ++counts.entries_skipped;
    return false;
  }

  bool read_fields(core::Event& out) {
    out.clear();
    int r = sd_journal_get_realtime_usec(j, &out.realtime_us);
    if (r < 0) {
      problem("cannot read the timestamp of the entry " + where() + ": " + errno_text(r) + "; entry skipped");
      return false;
    }
    sd_id128_t boot{};
    if (sd_journal_get_monotonic_usec(j, &out.monotonic_us, &boot) < 0) out.monotonic_us = 0;
    char* cursor = nullptr;
    r = sd_journal_get_cursor(j, &cursor);
    if (r < 0) {
      problem("cannot read the cursor of the entry " + where() + ": " + errno_text(r) + "; entry skipped");
      return false;
    }
    out.cursor.assign(cursor);
    std::free(cursor);

    const void* data = nullptr;
    std::size_t length = 0;
    std::size_t count = 0;
    sd_journal_restart_data(j);
    while ((r = sd_journal_enumerate_available_data(j, &data, &length)) > 0) {
      const auto* p = static_cast<const char*>(data);
      const auto* eq = static_cast<const char*>(std::memchr(p, '=', length < kNameRoom ? length : kNameRoom));
      if (eq == nullptr) continue;  // not "NAME=value": nothing a reader can name
      if (++count > options.max_fields_per_entry) {
        problem("entry " + out.cursor + " has more than " + std::to_string(options.max_fields_per_entry) +
                " fields; skipped");
        return false;
      }
      const std::int64_t id = names.lookup_at(count, std::string_view(p, static_cast<std::size_t>(eq - p)));
      if (id < 0) continue;
      std::string_view value(eq + 1, length - static_cast<std::size_t>(eq - p) - 1);
      if (value.size() > options.max_field_size) {
        if (!truncation_reported)
          problem("a value of " + std::string(p, static_cast<std::size_t>(eq - p)) + " is longer than " +
                  std::to_string(options.max_field_size) + " bytes; truncated (reported once per input)",
                  true);
        truncation_reported = true;
        ++counts.values_truncated;
        value = value.substr(0, options.max_field_size);
      }
      out.add(static_cast<core::FieldId>(id), value);
    }
    if (r < 0) {
      problem("cannot read the fields of entry " + out.cursor + ": " + errno_text(r) + "; entry skipped");
      return false;
    }
    return true;
  }

  // sd-journal drops a file it cannot iterate any further (it logs at debug level and
  // moves on), so a corrupt file can end early without any error reaching us. The
  // realtime cutoff over the open files, taken at open and again at the end, shows it:
  // a dropped file no longer counts. (Comparing entry times with the header instead
  // would misfire when the clock jumped back.)
  void check_complete() {
    if (end_checked) return;
    end_checked = true;
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    const int r = sd_journal_get_cutoff_realtime_usec(j, &first, &last);
    if (cutoff_at_open > 0 && (r <= 0 || last < cutoff_at_open))
      problem("a journal file could not be read to its end and was dropped (corrupt?) after " +
              std::to_string(entries) + " entries; entries up to realtime " + std::to_string(cutoff_at_open) +
              " may be missing");
  }

  bool next(core::Event& out) {
    while (!stopped) {
      const int r = sd_journal_next(j);
      if (r == 0) {
        check_complete();
        break;
      }
      if (r < 0) {
        problem("reading the journal failed " + where() + ": " + errno_text(r));
        if (++error_streak >= kMaxErrorStreak) {
          problem("giving up on this input after " + std::to_string(error_streak) + " errors in a row");
          stopped = true;
        }
        continue;
      }
      error_streak = 0;
      ++entries;
      if (read_entry(out)) return true;
    }
    out.clear();
    return false;
  }
};

JournalReader::JournalReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

JournalReader::~JournalReader() = default;

std::unique_ptr<JournalReader> JournalReader::open_files(const std::vector<std::string>& paths, std::string name,
                                                         core::FieldSchema& schema, const SourceOptions& options,
                                                         ProblemReporter report) {
  std::vector<const char*> argv;
  argv.reserve(paths.size() + 1);
  for (const auto& p : paths) argv.push_back(p.c_str());
  argv.push_back(nullptr);
  sd_journal* j = nullptr;
  const int r = sd_journal_open_files(&j, argv.data(), 0);
  if (r < 0) {
    if (report) report(InputProblem{name, 0, false, "cannot open journal file: " + errno_text(r)});
    return nullptr;
  }
  return std::unique_ptr<JournalReader>(
      new JournalReader(std::make_unique<Impl>(j, std::move(name), schema, options, std::move(report))));
}

std::unique_ptr<JournalReader> JournalReader::open_directory(const std::string& directory, core::FieldSchema& schema,
                                                             const SourceOptions& options, ProblemReporter report) {
  sd_journal* j = nullptr;
  const int r = sd_journal_open_directory(&j, directory.c_str(), 0);
  if (r < 0) {
    if (report) report(InputProblem{directory, 0, false, "cannot open journal directory: " + errno_text(r)});
    return nullptr;
  }
  return std::unique_ptr<JournalReader>(
      new JournalReader(std::make_unique<Impl>(j, directory, schema, options, std::move(report))));
}

std::unique_ptr<JournalReader> JournalReader::open_fd(int fd, std::string name, core::FieldSchema& schema,
                                                      const SourceOptions& options, ProblemReporter report) {
  sd_journal* j = nullptr;
  int fds[1] = {fd};
  const int r = sd_journal_open_files_fd(&j, fds, 1, 0);
  if (r < 0) {
    if (report) report(InputProblem{name, 0, false, "cannot open journal file: " + errno_text(r)});
    return nullptr;
  }
  return std::unique_ptr<JournalReader>(
      new JournalReader(std::make_unique<Impl>(j, std::move(name), schema, options, std::move(report))));
}

std::unique_ptr<JournalReader> JournalReader::open_local(std::string_view name_space, core::FieldSchema& schema,
                                                         const SourceOptions& options, ProblemReporter report) {
  sd_journal* j = nullptr;
  const std::string ns(name_space);
  const int r = ns.empty() ? sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY)
                           : sd_journal_open_namespace(&j, ns.c_str(), SD_JOURNAL_LOCAL_ONLY);
  std::string label = ns.empty() ? std::string("journal") : "journal namespace " + ns;
  if (r < 0) {
    if (report) report(InputProblem{label, 0, false, "cannot open the local journal: " + errno_text(r)});
    return nullptr;
  }
  return std::unique_ptr<JournalReader>(
      new JournalReader(std::make_unique<Impl>(j, std::move(label), schema, options, std::move(report))));
}

bool JournalReader::next(core::Event& out) {
  try {
    return impl_->next(out);
  } catch (const std::exception& e) {  // allocation failure: report, stop this input
    impl_->problem(std::string("reader stopped: ") + e.what());
    impl_->stopped = true;
    out.clear();
    return false;
  }
}

const std::string& JournalReader::name() const { return impl_->name; }

Progress JournalReader::progress() const { return {}; }

const JournalReader::Counts& JournalReader::counts() const { return impl_->counts; }

bool JournalReader::add_match(std::string_view field_equals_value) {
  const int r = sd_journal_add_match(impl_->j, field_equals_value.data(), field_equals_value.size());
  if (r < 0) impl_->problem("journal match " + std::string(field_equals_value) + " rejected: " + errno_text(r));
  return r >= 0;
}

bool JournalReader::add_disjunction() { return sd_journal_add_disjunction(impl_->j) >= 0; }

bool JournalReader::add_conjunction() { return sd_journal_add_conjunction(impl_->j) >= 0; }

void JournalReader::flush_matches() { sd_journal_flush_matches(impl_->j); }

int JournalReader::get_fd() { return sd_journal_get_fd(impl_->j); }

std::expected<JournalReader::Change, int> JournalReader::process() {
  const int r = sd_journal_process(impl_->j);
  if (r < 0) return std::unexpected(r);
  if (r == SD_JOURNAL_APPEND) return Change::kAppend;
  if (r == SD_JOURNAL_INVALIDATE) return Change::kInvalidate;
  return Change::kNop;
}

std::expected<std::optional<std::uint64_t>, int> JournalReader::get_timeout() {
  std::uint64_t usec = 0;
  const int r = sd_journal_get_timeout(impl_->j, &usec);
  if (r < 0) return std::unexpected(r);
  if (usec == UINT64_MAX) return std::optional<std::uint64_t>{};
  return std::optional<std::uint64_t>{usec};
}

namespace {
std::expected<void, int> as_expected(int r) {
  if (r < 0) return std::unexpected(r);
  return {};
}
}  // namespace

std::expected<void, int> JournalReader::seek_head() { return as_expected(sd_journal_seek_head(impl_->j)); }

std::expected<void, int> JournalReader::seek_tail() { return as_expected(sd_journal_seek_tail(impl_->j)); }

std::expected<void, int> JournalReader::seek_realtime(std::uint64_t realtime_us) {
  return as_expected(sd_journal_seek_realtime_usec(impl_->j, realtime_us));
}

std::expected<void, int> JournalReader::seek_cursor(const std::string& cursor) {
  return as_expected(sd_journal_seek_cursor(impl_->j, cursor.c_str()));
}

std::expected<bool, int> JournalReader::test_cursor(const std::string& cursor) {
  const int r = sd_journal_test_cursor(impl_->j, cursor.c_str());
  if (r < 0) return std::unexpected(r);
  return r > 0;
}

std::expected<bool, int> JournalReader::previous() {
  const int r = sd_journal_previous(impl_->j);
  if (r < 0) return std::unexpected(r);
  return r > 0;
}

int JournalReader::follow_next(core::Event& out) {
  try {
    for (;;) {
      const int r = sd_journal_next(impl_->j);
      if (r <= 0) {
        out.clear();
        return r;
      }
      ++impl_->entries;
      if (impl_->read_entry(out)) return 1;
    }
  } catch (const std::exception& e) {  // allocation failure: report, let the caller retry later
    impl_->problem(std::string("reading an entry failed: ") + e.what());
    out.clear();
    return -ENOMEM;
  }
}

std::expected<std::vector<std::string>, int> JournalReader::unique_values(const std::string& field) {
  const int r = sd_journal_query_unique(impl_->j, field.c_str());
  if (r < 0) return std::unexpected(r);
  std::vector<std::string> values;
  const void* data = nullptr;
  std::size_t length = 0;
  const std::string prefix = field + "=";
  sd_journal_restart_unique(impl_->j);
  while (sd_journal_enumerate_available_unique(impl_->j, &data, &length) > 0) {
    const std::string_view item(static_cast<const char*>(data), length);
    if (item.starts_with(prefix)) values.emplace_back(item.substr(prefix.size()));
  }
  return values;
}

bool JournalReader::read_current(core::Event& out) {
  try {
    return impl_->read_entry(out);
  } catch (const std::exception& e) {
    impl_->problem(std::string("reading an entry failed: ") + e.what());
    out.clear();
    return false;
  }
}

}  // namespace jcorr::sources
