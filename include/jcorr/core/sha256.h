// SHA-256 for deterministic identifiers (detection ids, rule hashes). The core links no
// crypto library, so it carries this small FIPS 180-4 implementation; the runtime uses
// OpenSSL where keys are involved (HMAC).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace jcorr::core {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  // Returns the digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> finish();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t used_ = 0;
  std::uint64_t length_ = 0;
};

// Lower-case hex SHA-256 of data.
std::string sha256_hex(std::string_view data);

}  // namespace jcorr::core
