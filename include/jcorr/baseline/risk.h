// Risky properties of timers and services, as pure functions over what the scanner
// found: the commands a service runs, how often a timer fires, and who can write a
// unit file.
//
// The command checks look where an attacker's payload shows: the executable itself,
// the script an interpreter is given (sh /tmp/x, python3 /dev/shm/.y), and shell code
// passed with -c, which is split into pipelines and simple commands (quotes, $(…),
// `…`, <(…), redirections) through wrappers such as env, nohup, sudo, timeout and
// flock. An argument that merely mentions /tmp (find /tmp -delete) is not flagged.
// Every risk names the directive and what was seen, so a reviewer can judge it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "jcorr/baseline/baseline.h"
#include "jcorr/baseline/exec_command.h"

namespace jcorr::baseline {

// Returns the risks of one command of directive (e.g. "ExecStart"), run in
// working_directory (WorkingDirectory=, possibly empty or with systemd's "-" and "~"
// forms): exec.temp-path, exec.hidden-path, exec.download-and-run, exec.encoded and
// exec.reverse-shell, sorted and without duplicates.
std::vector<Risk> assess_command(std::string_view directive, const ExecCommand& command,
                                 std::string_view working_directory = {});

// Returns timer.frequent risks for every OnCalendar= whose shortest interval, and every
// OnUnitActiveSec=/OnUnitInactiveSec= whose span, is below threshold_usec. One-shot
// triggers (OnBootSec=, OnStartupSec=, OnActiveSec=) fire once and are not flagged.
// Values that do not parse are skipped (the scanner reports them as diagnostics).
std::vector<Risk> assess_schedule(const std::map<std::string, std::vector<std::string>>& directives,
                                  std::uint64_t threshold_usec);

// The ownership and permission bits of a unit file or of a directory holding one.
struct FileAccess {
  std::string path;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t mode = 0;
  bool directory = false;
  std::string owner;  // user name of uid, when known
  std::string group;  // group name of gid, when known
};

// Returns file.writable when access allows a non-root user to change the unit
// (group or other write bits, or a non-root owner) and, for files, file.owner-non-root
// when the owner is not root. Outside system paths (a user's home) only world-writable
// files and directories are flagged, since the user owns them by design.
std::vector<Risk> assess_access(const FileAccess& access, bool system_path);

}  // namespace jcorr::baseline
