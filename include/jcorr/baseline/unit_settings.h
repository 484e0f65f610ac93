// The settings of one unit after its fragment and drop-ins are applied in order, for
// the directives the baseline records.
//
// systemd gives repeated keys different meanings, and this class follows them: list
// directives (Exec*=) append, and an empty assignment empties that list; trigger
// directives of a timer (OnCalendar=, OnBootSec=, OnStartupSec=, OnActiveSec=,
// OnUnitActiveSec=, OnUnitInactiveSec=) append, and an empty assignment to any of them
// removes every trigger; scalar directives (Unit=, User=, Description=, …) keep the last
// value, and an empty assignment returns them to their default (unset).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "jcorr/baseline/exec_command.h"
#include "jcorr/baseline/unit_file.h"

namespace jcorr::baseline {

// How a directive treats repetition and the empty value (see the header comment).
enum class DirectiveKind { kList, kTrigger, kScalar };

// One directive the baseline records: where it lives and how repetition works.
struct DirectiveSpec {
  std::string_view unit_type;  // "timer", "service", or "" for every type
  std::string_view section;
  std::string_view key;
  DirectiveKind kind;
};

// Returns every recorded directive.
std::span<const DirectiveSpec> recorded_directives();

// One value in effect and where it was set.
struct Setting {
  std::string value;
  std::string path;
  std::size_t line = 0;
};

// The recorded directives of one unit, built by applying its files in order.
class UnitSettings {
 public:
  // Prepares the settings of unit_name ("x.timer"); its type selects the directives.
  explicit UnitSettings(std::string_view unit_name);

  // Applies the assignments of one file (the fragment first, then drop-ins in order).
  void apply(const UnitFile& file, std::string_view path);

  // Returns the values of key in effect, in order; empty when unset.
  std::vector<std::string> values(std::string_view key) const;

  // Returns the values of key in effect with where each was set, in order.
  std::vector<Setting> entries(std::string_view key) const;

  // Returns the last value of key in effect, or nullopt.
  std::optional<std::string> last(std::string_view key) const;

  // Returns every recorded directive that has a value, key -> values, keys sorted.
  std::map<std::string, std::vector<std::string>> directives() const;

  // Parses every Exec*= value in effect: directive -> commands. Diagnostics (with path
  // and line) are appended to diagnostics; refused is set when systemd would refuse the
  // unit because of one of them.
  std::map<std::string, std::vector<ExecCommand>> commands(std::vector<Diagnostic>& diagnostics,
                                                           bool& refused) const;

 private:
  std::string type_;
  std::map<std::string, std::vector<Setting>, std::less<>> settings_;
};

// Expands the specifiers of a unit name that need nothing but the name: %n, %N, %p,
// %P, %i, %I, %j, %J and %%. Others are kept verbatim.
std::string expand_name_specifiers(std::string_view text, std::string_view unit_name);

}  // namespace jcorr::baseline
