// The accounts of the scanned system: users (names, uids, homes) from <root>/etc/passwd,
// group names from <root>/etc/group, and which users have lingering enabled.
//
// The parsers are pure functions over text so that hostile or truncated files can be
// tested without a filesystem; malformed lines are skipped and reported, never fatal.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jcorr/baseline/diagnostic.h"

namespace jcorr::baseline {

// One user whose unit directories are scanned.
struct Account {
  std::string name;
  std::optional<std::uint32_t> uid;  // unknown when the account was guessed from a home directory
  std::optional<std::uint32_t> gid;
  std::string home;                  // absolute path inside the scanned root

  friend bool operator==(const Account&, const Account&) = default;
};

// The users and group names of the scanned system.
struct Accounts {
  std::vector<Account> users;                     // in file order
  std::map<std::uint32_t, std::string> user_names;  // uid -> first name with that uid
  std::map<std::uint32_t, std::string> group_names; // gid -> first name with that gid
  std::vector<Diagnostic> diagnostics;            // malformed lines (path left empty)

  // Returns the name for uid, or an empty string.
  std::string user_name(std::uint32_t uid) const;
  // Returns the name for gid, or an empty string.
  std::string group_name(std::uint32_t gid) const;
};

// Parses passwd(5) text ("name:password:uid:gid:gecos:home:shell"), appending to out.
// Comment lines ("#…") and blank lines are skipped; lines without seven fields or with a
// non-numeric uid/gid are reported as kPasswdMalformed warnings and skipped.
void parse_passwd(std::string_view text, Accounts& out);

// Parses group(5) text ("name:password:gid:members") into out.group_names; malformed
// lines are skipped silently (group names are cosmetic).
void parse_group(std::string_view text, Accounts& out);

}  // namespace jcorr::baseline
