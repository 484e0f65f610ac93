// scan(): takes a baseline of every timer and its paired service on a system, or on a
// disk image mounted at some directory.
//
// What it reads, relative to the root (see root_fs.h for how paths stay inside it):
//  - the system unit search path, in systemd's precedence order: /etc/systemd/system.control,
//    /run/systemd/system.control, /run/systemd/transient, /run/systemd/generator.early,
//    /etc/systemd/system, /etc/systemd/system.attached, /run/systemd/system,
//    /run/systemd/system.attached, /run/systemd/generator, /usr/local/lib/systemd/system,
//    /usr/lib/systemd/system, /lib/systemd/system, /run/systemd/generator.late
//    (a directory reached twice, e.g. /lib -> usr/lib, is read once);
//  - the global user search path (scope "user"): /etc/xdg/systemd/user, /etc/systemd/user,
//    /run/systemd/user, /usr/local/share/systemd/user, /usr/share/systemd/user,
//    /usr/local/lib/systemd/user, /usr/lib/systemd/user;
//  - for every user of <root>/etc/passwd (or, when it is missing, every directory in
//    /home and /root), the user's manager search path (scope "user:NAME"), which puts
//    ~/.config/systemd/user.control, /run/user/UID/systemd/{user.control,transient},
//    ~/.config/systemd/user, /run/user/UID/systemd/user and ~/.local/share/systemd/user
//    among the global directories in systemd's order;
//  - <root>/var/lib/systemd/linger/ for lingering users, <root>/etc/group for names.
// Per scope, every *.timer file name and every *.timer entry of a *.wants/, *.requires/
// or *.upholds/ directory is a timer. Its unit file is the first one found in search
// order (an instance falls back to its template); a symlink to /dev/null or an empty
// file there masks it. Drop-ins come from NAME.d/, the template's and dash-prefix
// directories and the type-wide timer.d/ or service.d/, in every search directory;
// the first file of a given name wins and all are applied sorted by name. The paired
// service (Unit=, else the timer's own name) is looked up the same way. A "user:NAME"
// scope lists only the timers that the user's own directories define, override, extend
// or enable. Files that cannot be used (unreadable, broken symlinks, loops, larger than
// max_file_size, binary, directories or devices) are listed as problems and skipped;
// a unit whose unit file is skipped is left out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "jcorr/baseline/baseline.h"
#include "jcorr/baseline/root_fs.h"
#include "jcorr/baseline/timer_schedule.h"

namespace jcorr::baseline {

// Bounds and thresholds of a scan; the defaults suit a real system.
struct ScanOptions {
  // Unit files and drop-ins larger than this are reported (fs.too-large) and skipped.
  std::size_t max_file_size = 1u << 20;
  // Directories with more entries than this are reported (fs.too-many-entries) and skipped.
  std::size_t max_dir_entries = 100'000;
  // Timers firing more often than this are flagged timer.frequent.
  std::uint64_t frequent_timer_usec = 5 * 60 * kUsecPerSec;
  // Whether to scan the global and per-user user unit search paths.
  bool user_units = true;
};

// The system unit search path in precedence order (see above).
const std::vector<std::string>& system_unit_paths();

// The global user unit search path in precedence order (see above).
const std::vector<std::string>& global_user_unit_paths();

// Scans the tree fs looks at. Never throws; everything that went wrong is in
// Baseline::problems. The result is canonical (Baseline::canonicalize()).
Baseline scan(const RootFs& fs, const ScanOptions& options = {});

// Opens root and scans it; a root that cannot be opened gives a baseline whose only
// content is a kRootUnusable problem.
Baseline scan(const std::filesystem::path& root, const ScanOptions& options = {});

}  // namespace jcorr::baseline
