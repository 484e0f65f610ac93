#include "jcorr/sinks/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace jcorr::sinks {

std::array<std::uint8_t, 32> hmac_sha256(std::string_view key, std::string_view message) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  // OpenSSL wants a non-null key pointer even for an empty key.
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : static_cast<const void*>(key.data());
  const auto* msg_ptr = reinterpret_cast<const unsigned char*>(message.empty() ? "" : message.data());
  const unsigned char* ok = HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), msg_ptr, message.size(),
                                 out.data(), &len);
  // HMAC only fails when the digest is unavailable, which is a broken OpenSSL install.
  if (ok == nullptr || len != out.size()) out.fill(0);
  return out;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0xf]);
  }
  return s;
}

std::string webhook_signature(std::string_view secret, std::int64_t timestamp, std::string_view body) {
  std::string signed_text = std::to_string(timestamp);
  signed_text.push_back('.');
  signed_text.append(body);
  return "sha256=" + to_hex(hmac_sha256(secret, signed_text));
}

}  // namespace jcorr::sinks
