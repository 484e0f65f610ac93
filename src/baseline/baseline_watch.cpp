#include "jcorr/baseline/baseline_watch.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace jcorr::baseline {

namespace {

constexpr std::uintmax_t kMaxBaselineFileSize = 512u << 20;

bool is_machine_id(std::string_view s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A user:NAME scope also sees the units of the global user scope.
const UnitRecord* find_in_scope(const Baseline& b, std::string_view scope, std::string_view name) {
  if (const auto* u = b.find(scope, name)) return u;
  if (scope.starts_with("user:")) return b.find("user", name);
  return nullptr;
}

}  // namespace

std::string_view to_string(UnitStatus status) {
  switch (status) {
    case UnitStatus::kApproved: return "approved";
    case UnitStatus::kChanged: return "changed";
    case UnitStatus::kNew: return "new";
    case UnitStatus::kRemoved: return "removed";
    case UnitStatus::kUnknown: return "unknown";
  }
  return "unknown";
}

BaselineWatch::BaselineWatch(std::optional<Baseline> approved, std::optional<RootFs> fs, WatchOptions options,
                             Clock clock)
    : approved_(std::move(approved)), fs_(std::move(fs)), options_(options), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
  if (approved_) {
    for (const auto& u : approved_->units) {
      if (u.type == "timer") approved_timers_.insert(u.name);
      else approved_services_.insert(u.name);
    }
  }
  if (fs_) {
    // A machine-id file is 33 bytes; anything much larger is not one.
    if (auto content = fs_->read("/etc/machine-id", 4096)) {
      std::string_view id = content->bytes;
      while (!id.empty() && (id.back() == '\n' || id.back() == ' ' || id.back() == '\t')) id.remove_suffix(1);
      if (is_machine_id(id)) machine_id_ = std::string(id);
    }
  }
}

std::expected<std::shared_ptr<BaselineWatch>, std::string> BaselineWatch::open(
    std::optional<Baseline> approved, std::optional<std::filesystem::path> root, WatchOptions options, Clock clock) {
  if (!approved && !root) return std::unexpected("a baseline watch needs a baseline or a root");
  std::optional<RootFs> fs;
  if (root) {
    auto opened = RootFs::open(*root);
    if (!opened) return std::unexpected(opened.error().message);
    fs.emplace(std::move(*opened));
  }
  return std::shared_ptr<BaselineWatch>(
      new BaselineWatch(std::move(approved), std::move(fs), options, std::move(clock)));
}

std::expected<Baseline, std::string> BaselineWatch::read_baseline_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return std::unexpected(path.string() + ": " + ec.message());
  if (size > kMaxBaselineFileSize) return std::unexpected(path.string() + ": larger than 512 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(path.string() + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = parse_baseline(std::move(text).str());
  if (!parsed) return std::unexpected(path.string() + ": not a jcorr baseline: " + parsed.error());
  return std::move(*parsed);
}

std::string BaselineWatch::root() const { return fs_ ? fs_->root().string() : std::string(); }

void BaselineWatch::refresh() {
  if (!fs_) return;
  const auto now = clock_();
  if (scanned_at_ && (options_.scan_once || now - *scanned_at_ < options_.min_rescan)) return;
  scanned_at_ = now;
  ++scans_;
  current_ = scan(*fs_, options_.scan);
  new_units_.clear();
  changed_units_.clear();
  removed_units_.clear();
  new_names_.clear();
  changed_names_.clear();
  drift_.reset();
  if (!approved_) return;
  drift_ = diff(*approved_, *current_);
  for (const auto& u : drift_->added) new_units_.emplace(u.scope, u.name);
  for (const auto& u : drift_->changed) changed_units_.emplace(u.scope, u.name);
  for (const auto& u : drift_->removed) removed_units_.emplace(u.scope, u.name);
  // A timer whose service changed, was swapped for a new one or was deleted runs
  // something else than what was approved.
  for (const auto& u : current_->units) {
    if (u.type != "timer" || u.triggers.empty() || new_units_.count(std::pair(u.scope, u.name))) continue;
    const UnitRecord* service = find_in_scope(*current_, u.scope, u.triggers);
    if (!service) {
      if (find_in_scope(*approved_, u.scope, u.triggers)) changed_units_.emplace(u.scope, u.name);
      continue;
    }
    const std::pair<std::string, std::string> key{service->scope, service->name};
    if (changed_units_.count(key) || new_units_.count(key)) changed_units_.emplace(u.scope, u.name);
  }
  for (const auto& [scope, name] : new_units_) new_names_.insert(name);
  for (const auto& [scope, name] : changed_units_) changed_names_.insert(name);
}

const Baseline* BaselineWatch::current() {
  refresh();
  return current_ ? &*current_ : nullptr;
}

const Drift* BaselineWatch::drift() const { return drift_ ? &*drift_ : nullptr; }

UnitStatus BaselineWatch::status(std::string_view scope, std::string_view name) const {
  if (!approved_) return UnitStatus::kUnknown;
  if (!current_) return approved_->find(scope, name) ? UnitStatus::kApproved : UnitStatus::kUnknown;
  const std::pair<std::string, std::string> key{std::string(scope), std::string(name)};
  if (new_units_.count(key)) return UnitStatus::kNew;
  if (changed_units_.count(key)) return UnitStatus::kChanged;
  if (removed_units_.count(key)) return UnitStatus::kRemoved;
  if (approved_->find(scope, name)) return UnitStatus::kApproved;
  return UnitStatus::kUnknown;
}

core::BaselineListLookup BaselineWatch::list(std::string_view selector) {
  // The tests below hold raw pointers to this watch; list_provider() keeps it alive.
  const std::string name(selector);
  if (selector == "timers" || selector == "services") {
    if (!approved_) return {{}, "the \"" + name + "\" list needs a baseline file (--baseline)"};
    const auto* names = selector == "timers" ? &approved_timers_ : &approved_services_;
    return {[names](std::string_view v) { return names->find(v) != names->end(); }, {}};
  }
  if (selector == "machine-id") {
    if (!fs_) return {{}, "the \"machine-id\" list needs the host's files (--host-root)"};
    return {[this](std::string_view v) { return !machine_id_.empty() && v == machine_id_; }, {}};
  }
  if (selector == "new" || selector == "changed" || selector == "drifted") {
    if (!approved_ || !fs_)
      return {{}, "the \"" + name + "\" list compares the host's unit files with a baseline: it needs both "
                  "(--baseline and --host-root)"};
    const bool want_new = selector != "changed", want_changed = selector != "new";
    return {[this, want_new, want_changed](std::string_view v) {
              refresh();
              return (want_new && new_names_.find(v) != new_names_.end()) ||
                     (want_changed && changed_names_.find(v) != changed_names_.end());
            },
            {}};
  }
  return {{}, "unknown baseline selector \"" + name + "\""};
}

std::function<core::BaselineListLookup(std::string_view)> BaselineWatch::list_provider(
    std::shared_ptr<BaselineWatch> watch) {
  return [watch](std::string_view selector) -> core::BaselineListLookup {
    auto inner = watch->list(selector);
    if (!inner.test) return inner;
    // Each test holds the watch, so the lists outlive neither the rules nor the watch.
    return {[watch, test = std::move(inner.test)](std::string_view v) { return test(v); }, {}};
  };
}

}  // namespace jcorr::baseline
