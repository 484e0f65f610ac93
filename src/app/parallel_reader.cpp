#include "jcorr/app/parallel_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>

#include "jcorr/core/matcher.h"
#include "jcorr/sources/byte_input.h"
#include "jcorr/sources/export_reader.h"
#include "jcorr/sources/json_reader.h"

namespace jcorr::app {
namespace {

// True when a condition consults a list whose answer may change between calls.
bool asks_changing_list(const core::Condition& c) {
  if (c.kind == core::Condition::Kind::kTest)
    return c.test.op == core::ValueTest::Op::kInList && c.test.list != nullptr && c.test.list->lookup;
  return std::any_of(c.children.begin(), c.children.end(), asks_changing_list);
}

bool matching_is_pure(const core::RuleSet& rules) {
  for (const auto& r : rules.rules)
    for (const auto& e : r->events)
      if (!e.from_detections && asks_changing_list(e.where)) return false;
  return true;
}

// Where a piece of an export file that should start near `nominal` starts: after the
// next blank line (and any further ones), preferring one followed by "__CURSOR=", the
// first field journalctl writes, within a piece's length; nullopt when none is found.
// A guess: a blank line may also lie inside a binary value.
std::optional<std::uint64_t> export_boundary(std::string_view data, std::uint64_t nominal, std::uint64_t reach) {
  constexpr std::string_view kBlank = "\n\n";
  constexpr std::string_view kCursor = "__CURSOR=";
  auto after_blanks = [&](std::size_t nl) {
    std::size_t b = nl + kBlank.size();
    while (b < data.size() && data[b] == '\n') ++b;
    return b;
  };
  const std::size_t from = static_cast<std::size_t>(nominal - 1);
  std::optional<std::uint64_t> first;
  for (std::size_t at = from; at < data.size() && at < from + reach;) {
    const std::size_t nl = data.find(kBlank, at);
    if (nl == std::string_view::npos) break;
    const std::size_t b = after_blanks(nl);
    if (!first) first = b;
    if (data.substr(b, kCursor.size()) == kCursor) return b;
    at = nl + 1;
  }
  return first;
}

// Where a piece of a JSON-lines file that should start near `nominal` starts: at the
// first line start at or after it (after the first newline at or after byte
// nominal - 1). Exact: a JSON string cannot hold a raw newline.
std::optional<std::uint64_t> json_boundary(std::string_view data, std::uint64_t nominal) {
  const std::size_t nl = data.find('\n', static_cast<std::size_t>(nominal - 1));
  if (nl == std::string_view::npos) return std::nullopt;
  return nl + 1;
}

struct Piece {
  std::uint64_t begin = 0;  // where it was read from
  std::uint64_t stop = 0;   // the next piece's guessed start
  std::uint64_t end = 0;    // where reading ended: the next entry's start
  std::uint64_t lines = 0;  // JSON lines: lines read
  std::vector<std::uint64_t> times;     // every entry's realtime, in order
  std::vector<std::uint32_t> matched;   // indices into times of the entries that matched
  std::vector<core::Event> events;      // the matched entries ([0, matched.size()) in use)
  std::vector<std::vector<core::EventMatch>> matches;  // and their matches
  std::vector<sources::InputProblem> problems;
  bool failed = false;  // the reader stopped: the input ends here
  bool ready = false;   // guarded by Impl::mutex

  void reset(std::uint64_t from, std::uint64_t to) {
    begin = from;
    stop = to;
    end = from;
    lines = 0;
    times.clear();
    matched.clear();
    problems.clear();
    failed = false;
  }
};

}  // namespace

struct ParallelReader::Impl {
  std::string name;
  core::RuleSet& rules;
  std::size_t capture_limit;
  sources::SourceOptions options;
  sources::ProblemReporter report;
  std::unique_ptr<sources::ByteInput> input;
  bool json = false;
  std::vector<std::uint64_t> starts;  // guessed piece starts; starts[0] == 0
  std::size_t window = 0;             // pieces read ahead at most
  std::vector<Piece> ring;            // piece i lives in ring[i % window]

  std::mutex mutex;
  std::condition_variable work;   // a worker may claim a piece, or must stop
  std::condition_variable ready;  // a piece is ready
  std::size_t next_claim = 0;     // guarded by mutex
  std::size_t next_feed = 0;      // guarded by mutex; written by the feeding thread only
  bool stopping = false;          // guarded by mutex
  std::vector<std::thread> workers;

  // The feeding thread's own state.
  std::optional<core::Matcher> matcher;  // for pieces read again
  std::uint64_t expected = 0;            // where the next piece must begin
  std::uint64_t base_lines = 0;          // lines before it
  bool once_reported = false;            // a once-per-input problem was passed on
  bool done = false;
  std::uint64_t entries = 0;
  std::uint64_t last_time = 0;
  std::size_t again = 0;

  Impl(std::string n, core::RuleSet& r, std::size_t limit, const sources::SourceOptions& o, sources::ProblemReporter rep)
      : name(std::move(n)), rules(r), capture_limit(limit), options(o), report(std::move(rep)) {}

  ~Impl() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    work.notify_all();
    for (auto& t : workers) t.join();
  }

  std::uint64_t stop_of(std::size_t i) const { return i + 1 < starts.size() ? starts[i + 1] : UINT64_MAX; }

  template <class Reader>
  void read_with(Piece& p, core::Matcher& m) {
    auto keep = [&p](const sources::InputProblem& x) { p.problems.push_back(x); };
    Reader reader(name, sources::shared_view_input(*input), rules.schema, options, keep,
                  sources::ReadSpan{p.begin, p.stop});
    std::size_t n = 0;  // matched entries so far
    for (;;) {
      if (n == p.events.size()) {
        p.events.emplace_back();
        p.matches.emplace_back();
      }
      core::Event& ev = p.events[n];
      if (!reader.next(ev)) break;
      p.times.push_back(ev.realtime_us);
      m.match(ev, p.matches[n]);
      if (!p.matches[n].empty()) {
        p.matched.push_back(static_cast<std::uint32_t>(p.times.size() - 1));
        ++n;
      }
    }
    p.end = reader.resume_at();
    p.failed = reader.failed();
    if constexpr (std::is_same_v<Reader, sources::JsonReader>) p.lines = reader.lines_read();
  }

  // Reads piece p with matcher m, made on first use (one per thread).
  void read(Piece& p, std::optional<core::Matcher>& m) {
    try {
      if (!m) m.emplace(rules, capture_limit);
      if (json) read_with<sources::JsonReader>(p, *m);
      else read_with<sources::ExportReader>(p, *m);
    } catch (const std::exception& e) {  // allocation failure: as the reader does, stop the input here
      p.problems.push_back(sources::InputProblem{name, p.begin, false, std::string("reader stopped: ") + e.what()});
      p.failed = true;
    }
  }

  void work_loop() {
    std::optional<core::Matcher> m;
    for (;;) {
      std::size_t i = 0;
      {
        std::unique_lock lock(mutex);
        work.wait(lock, [&] { return stopping || next_claim >= starts.size() || next_claim < next_feed + window; });
        if (stopping || next_claim >= starts.size()) return;
        i = next_claim++;
      }
      Piece& p = ring[i % window];
      p.reset(starts[i], stop_of(i));
      read(p, m);
      {
        std::lock_guard lock(mutex);
        p.ready = true;
      }
      ready.notify_all();
    }
  }

  bool feed(core::Correlator& correlator, std::vector<core::Detection>& out) {
    if (done || next_feed >= starts.size()) return false;
    const std::size_t i = next_feed;
    Piece& p = ring[i % window];
    {
      std::unique_lock lock(mutex);
      ready.wait(lock, [&] { return p.ready; });
    }
    if (p.begin != expected) {  // the previous piece ended elsewhere: read this one from there
      ++again;
      p.reset(expected, stop_of(i));
      read(p, matcher);
    }
    for (auto problem : p.problems) {
      if (problem.once_per_input) {
        if (once_reported) continue;
        once_reported = true;
      }
      if (problem.is_line) problem.offset += base_lines;
      if (report) report(problem);
    }
    std::size_t k = 0;
    for (std::size_t e = 0; e < p.times.size(); ++e) {
      if (k < p.matched.size() && p.matched[k] == e) {
        correlator.process_matched(p.events[k], p.matches[k], out);
        ++k;
      } else {
        correlator.skip(static_cast<core::Micros>(p.times[e]), out);
      }
    }
    entries += p.times.size();
    if (!p.times.empty()) last_time = p.times.back();
    expected = p.end;
    base_lines += p.lines;
    done = p.failed;
    {
      std::lock_guard lock(mutex);
      p.ready = false;
      ++next_feed;
    }
    work.notify_all();
    return true;
  }
};

ParallelReader::ParallelReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParallelReader::~ParallelReader() = default;

std::unique_ptr<ParallelReader> ParallelReader::open(const std::string& path, core::RuleSet& rules,
                                                     std::size_t capture_limit, const sources::SourceOptions& options,
                                                     sources::ProblemReporter report, ParallelOptions parallel) {
  if (parallel.threads < 2 || parallel.piece_bytes == 0 || rules.schema.open() || !matching_is_pure(rules))
    return nullptr;
  if (options.format != sources::Format::kAuto && options.format != sources::Format::kExport &&
      options.format != sources::Format::kJson)
    return nullptr;
  struct stat st {};
  if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  if (static_cast<std::uint64_t>(st.st_size) <= static_cast<std::uint64_t>(parallel.piece_bytes)) return nullptr;
  auto opened = sources::open_file_input(path);
  if (!opened) return nullptr;
  const auto view = (*opened)->mapped();
  if (!view) return nullptr;
  sources::Format format = options.format;
  if (format == sources::Format::kAuto) format = sources::detect_format(*view);
  if (format != sources::Format::kExport && format != sources::Format::kJson) return nullptr;

  auto impl = std::make_unique<Impl>(path, rules, capture_limit, options, std::move(report));
  impl->input = std::move(*opened);
  impl->json = format == sources::Format::kJson;
  impl->starts.push_back(0);
  for (std::uint64_t nominal = parallel.piece_bytes; nominal < view->size(); nominal += parallel.piece_bytes) {
    if (nominal <= impl->starts.back()) continue;
    const auto b = impl->json ? json_boundary(*view, nominal) : export_boundary(*view, nominal, parallel.piece_bytes);
    if (!b || *b >= view->size()) break;
    if (*b > impl->starts.back()) impl->starts.push_back(*b);
  }
  if (impl->starts.size() < 2) return nullptr;
  impl->window = 2 * static_cast<std::size_t>(parallel.threads) + 2;
  impl->ring.resize(impl->window);
  try {
    for (unsigned t = 0; t < parallel.threads; ++t) impl->workers.emplace_back([p = impl.get()] { p->work_loop(); });
  } catch (const std::system_error&) {  // no more threads (RLIMIT_NPROC): read on one
    return nullptr;                      // ~Impl stops and joins those that started
  }
  return std::unique_ptr<ParallelReader>(new ParallelReader(std::move(impl)));
}

bool ParallelReader::feed(core::Correlator& correlator, std::vector<core::Detection>& out) {
  return impl_->feed(correlator, out);
}

std::uint64_t ParallelReader::entries() const { return impl_->entries; }
std::uint64_t ParallelReader::last_time() const { return impl_->last_time; }
sources::Progress ParallelReader::progress() const { return {impl_->expected, impl_->input->size()}; }
std::size_t ParallelReader::pieces() const { return impl_->starts.size(); }
std::size_t ParallelReader::pieces_read_again() const { return impl_->again; }

}  // namespace jcorr::app
