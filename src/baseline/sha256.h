// SHA-256 of a byte string as lowercase hex, through OpenSSL's libcrypto. Private to
// the baseline code, so that only one file includes OpenSSL.
#pragma once

#include <string>
#include <string_view>

namespace jcorr::baseline {

// Returns the 64-character lowercase hex SHA-256 of bytes.
std::string sha256_hex(std::string_view bytes);

}  // namespace jcorr::baseline
