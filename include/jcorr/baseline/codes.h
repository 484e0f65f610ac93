// Stable codes for everything the baseline audit reports: unit-file diagnostics,
// scan problems and risky properties.
//
// These strings are part of the baseline and drift JSON schemas: tools and tests match
// on them, so a code is never renamed or reused for another meaning. Prose messages
// beside them may change freely.
#pragma once

#include <string_view>

namespace jcorr::baseline::codes {

// --- Unit-file diagnostics (Diagnostic::code) ---------------------------------------
// Severity kError means systemd refuses to load the unit ("bad-setting"); kWarning
// means systemd ignores the line or value and goes on.

// The text is larger than the parser's bound; nothing was parsed.
inline constexpr std::string_view kUnitTooLarge = "unit.too-large";
// A "[" line without a closing "]": systemd stops parsing the file.
inline constexpr std::string_view kSectionInvalid = "unit.section.invalid";
// A section name with control characters, quotes or backslashes.
inline constexpr std::string_view kSectionBadCharacters = "unit.section.bad-characters";
// A section the unit type does not know (not "X-…"): its assignments are ignored.
inline constexpr std::string_view kSectionUnknown = "unit.section.unknown";
// An assignment before the first section header.
inline constexpr std::string_view kAssignmentOutsideSection = "unit.assignment.outside-section";
// A line that is neither a comment, a section header nor "key=value".
inline constexpr std::string_view kAssignmentMissingEquals = "unit.assignment.missing-equals";
// A line starting with "=".
inline constexpr std::string_view kAssignmentMissingKey = "unit.assignment.missing-key";
// A logical line that is not valid UTF-8.
inline constexpr std::string_view kInvalidUtf8 = "unit.utf8.invalid";
// An Exec*= value with bad quoting or an unknown escape sequence.
inline constexpr std::string_view kExecSyntax = "exec.syntax";
// An Exec*= value whose executable is empty, a directory, or not a valid path or name.
inline constexpr std::string_view kExecPathInvalid = "exec.path.invalid";
// An Exec*= word with a "%" specifier systemd does not define.
inline constexpr std::string_view kExecSpecifierUnknown = "exec.specifier.unknown";
// An OnCalendar= value jcorr cannot evaluate (systemd may still accept it).
inline constexpr std::string_view kCalendarUnparsed = "timer.calendar.unparsed";
// An On*Sec= or RandomizedDelaySec= value that is not a time span.
inline constexpr std::string_view kTimeSpanInvalid = "timer.timespan.invalid";

// --- Scan problems (Problem::code) ---------------------------------------------------

// The root directory cannot be opened.
inline constexpr std::string_view kRootUnusable = "root.unusable";
// A symlink whose target does not exist inside the root.
inline constexpr std::string_view kFsBrokenSymlink = "fs.broken-symlink";
// More than 40 symlinks followed while resolving one path (usually a loop).
inline constexpr std::string_view kFsSymlinkLoop = "fs.symlink-loop";
// A path that does not exist (reported only where it was expected to).
inline constexpr std::string_view kFsNotFound = "fs.not-found";
// open() or read() failed, e.g. permission denied.
inline constexpr std::string_view kFsUnreadable = "fs.unreadable";
// A file larger than ScanOptions::max_file_size; it is neither hashed nor parsed.
inline constexpr std::string_view kFsTooLarge = "fs.too-large";
// A file with NUL bytes or control characters: not a unit file.
inline constexpr std::string_view kFsBinary = "fs.binary";
// A directory, device, FIFO or socket where a regular file was expected.
inline constexpr std::string_view kFsNotRegular = "fs.not-regular";
// A file where a directory was expected (also for a parent component of a path).
inline constexpr std::string_view kFsNotDirectory = "fs.not-directory";
// A directory with more entries than ScanOptions::max_dir_entries; it is skipped.
inline constexpr std::string_view kFsTooManyEntries = "fs.too-many-entries";
// Any other I/O error.
inline constexpr std::string_view kFsError = "fs.error";
// /etc/passwd is missing or unreadable; homes were taken from /home/* and /root.
inline constexpr std::string_view kPasswdUnavailable = "accounts.passwd.unavailable";
// A line of /etc/passwd that does not have the seven fields or a numeric uid/gid.
inline constexpr std::string_view kPasswdMalformed = "accounts.passwd.malformed";

// --- Risky properties (Risk::code) ---------------------------------------------------

// A command runs an executable or script from /tmp, /var/tmp or /dev/shm.
inline constexpr std::string_view kRiskTempPath = "exec.temp-path";
// A command runs an executable or script with a hidden path component ("/.x").
inline constexpr std::string_view kRiskHiddenPath = "exec.hidden-path";
// A download piped or substituted into an interpreter (curl … | sh).
inline constexpr std::string_view kRiskDownloadAndRun = "exec.download-and-run";
// Decoding of encoded payloads (base64 -d, python -c with exec/b64decode, …).
inline constexpr std::string_view kRiskEncoded = "exec.encoded";
// Reverse-shell shapes: /dev/tcp/, nc -e, socat exec:, nc piped to a shell, …
inline constexpr std::string_view kRiskReverseShell = "exec.reverse-shell";
// A unit file, or the directory holding it, is writable by someone other than root.
inline constexpr std::string_view kRiskWritable = "file.writable";
// A unit file in a system path is owned by a user other than root.
inline constexpr std::string_view kRiskNonRootOwner = "file.owner-non-root";
// A timer that fires more often than ScanOptions::frequent_timer_usec.
inline constexpr std::string_view kRiskFrequentTimer = "timer.frequent";
// A user timer whose user has lingering enabled (it runs without a login).
inline constexpr std::string_view kRiskLingering = "user.lingering";

}  // namespace jcorr::baseline::codes
