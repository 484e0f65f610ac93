// Loads rule files (JSON text) into a RuleSet. Never throws, never opens files itself:
// the caller hands in each file's text and, for lists kept in separate files, a reader.
//
// Loading is a pipeline of passes: read (JSON syntax) -> collect (lists and raw rules of
// every file) -> compile (predicates, regexes, steps, references, templates) -> link
// (detection feeds between rules, cycle check, ordering). Every problem found on the
// way is reported at once as a Diagnostic with its origin, JSON pointer, line:col,
// rule id and a stable code; a rule with errors is left out of the set.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jcorr/core/diagnostic.h"
#include "jcorr/core/rule.h"

namespace jcorr::core {

// What a baseline list provider returns: the membership test of the list, or, when it
// cannot be built here (say it compares files that were not given), why not.
struct BaselineListLookup {
  std::function<bool(std::string_view)> test;  // empty: the list is unavailable
  std::string unavailable;                     // why, when test is empty
};

struct LoadOptions {
  // Returns the text of a list file named in a rule file (path as written there, the
  // origin of the file naming it), or an error message. Unset: list files are an error.
  std::function<std::expected<std::string, std::string>(std::string_view origin, std::string_view path)> read_file;
  // Returns the membership test of a list whose values come from the timer baseline
  // ({"baseline": SELECTOR}, SELECTOR one of kBaselineSelectors). When it is unset, or
  // says the list is unavailable, the list and the rules using it are left out with a
  // rule.baseline.missing warning (not an error: optional baseline rules may sit beside
  // the others).
  std::function<BaselineListLookup(std::string_view selector)> baseline_list;
  // Stop collecting after this many diagnostics (one more says it was capped).
  std::size_t max_diagnostics = 200;
  // RE2 memory budget per regex; patterns that need more are rejected at load.
  std::int64_t regex_max_mem = 8 << 20;
  // Include rules that say "enabled": false.
  bool include_disabled = false;
};

// The selectors a baseline list may name (docs/baseline.md): "timers" and "services"
// (the units the baseline records), "new", "changed" and "drifted" (units whose files
// differ from it now) and "machine-id" (the machine whose files are compared).
inline constexpr std::string_view kBaselineSelectors[] = {"timers", "services", "new", "changed", "drifted",
                                                          "machine-id"};

class RuleLoader {
 public:
  explicit RuleLoader(LoadOptions options = {});
  ~RuleLoader();

  // Reads one rule file. Its rules are compiled by finish(), when every file's lists
  // are known.
  void add(std::string_view text, std::string_view origin);

  // Compiles and links everything added. Returns the set of rules that loaded without
  // errors (possibly empty); diagnostics() says what was wrong with the others.
  std::unique_ptr<RuleSet> finish();

  const std::vector<Diagnostic>& diagnostics() const;

  struct Impl;  // the passes' shared state (rule_loader.cpp)

 private:
  std::unique_ptr<Impl> impl_;
};

// Parses a duration such as "500ms", "30s", "5m", "1h30m", "2d" into microseconds.
std::expected<Micros, std::string> parse_duration(std::string_view text);

// Formats microseconds as a short duration ("1h30m", "250ms").
std::string format_duration(Micros us);

}  // namespace jcorr::core
