// Helpers that turn input bytes into safe, short text for problem messages.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace jcorr::sources::detail {

// Quotes `bytes` for a message: printable ASCII as is, everything else as \xNN, cut
// after `max` bytes with "..." so a hostile input cannot flood the report.
inline std::string quoted(std::string_view bytes, std::size_t max = 64) {
  std::string out = "'";
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out.append(buf);
    }
  }
  if (bytes.size() > max) out.append("...");
  out.push_back('\'');
  return out;
}

}  // namespace jcorr::sources::detail
