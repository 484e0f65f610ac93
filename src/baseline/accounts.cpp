#include "jcorr/baseline/accounts.h"

#include <charconv>

#include "jcorr/baseline/codes.h"

namespace jcorr::baseline {
namespace {

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  for (;;) {
    const auto colon = line.find(':', pos);
    if (colon == std::string_view::npos) {
      fields.push_back(line.substr(pos));
      return fields;
    }
    fields.push_back(line.substr(pos, colon - pos));
    pos = colon + 1;
  }
}

std::optional<std::uint32_t> parse_id(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

template <class Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    pos = nl + 1;
    if (line.empty() || line.front() == '#') continue;
    fn(line, line_no);
  }
}

}  // namespace

std::string Accounts::user_name(std::uint32_t uid) const {
  const auto it = user_names.find(uid);
  return it == user_names.end() ? std::string() : it->second;
}

std::string Accounts::group_name(std::uint32_t gid) const {
  const auto it = group_names.find(gid);
  return it == group_names.end() ? std::string() : it->second;
}

void parse_passwd(std::string_view text, Accounts& out) {
  for_each_line(text, [&out](std::string_view line, std::size_t line_no) {
    const std::vector<std::string_view> f = split_fields(line);
    const auto uid = f.size() == 7 ? parse_id(f[2]) : std::nullopt;
    const auto gid = f.size() == 7 ? parse_id(f[3]) : std::nullopt;
    if (f.size() != 7 || f[0].empty() || !uid || !gid) {
      out.diagnostics.push_back(Diagnostic{{}, line_no, Severity::kWarning, std::string(codes::kPasswdMalformed),
                                           "not a passwd entry (name:password:uid:gid:gecos:home:shell)"});
      return;
    }
    out.users.push_back(Account{std::string(f[0]), uid, gid, std::string(f[5])});
    out.user_names.emplace(*uid, std::string(f[0]));
  });
}

void parse_group(std::string_view text, Accounts& out) {
  for_each_line(text, [&out](std::string_view line, std::size_t) {
    const std::vector<std::string_view> f = split_fields(line);
    if (f.size() < 3 || f[0].empty()) return;
    if (const auto gid = parse_id(f[2])) out.group_names.emplace(*gid, std::string(f[0]));
  });
}

}  // namespace jcorr::baseline
