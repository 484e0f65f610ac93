// HMAC-SHA256 (OpenSSL) and the signature of webhook requests. A request carries
// X-Jcorr-Timestamp: <unix seconds> and, when a secret is configured,
// X-Jcorr-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>; the
// receiver recomputes it over the raw body and compares in constant time
// (docs/webhooks.md shows how).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace jcorr::sinks {

// Returns the 32-byte HMAC-SHA256 of message under key (any length, including empty).
std::array<std::uint8_t, 32> hmac_sha256(std::string_view key, std::string_view message);

// Returns bytes as lower-case hex.
std::string to_hex(std::span<const std::uint8_t> bytes);

// Returns the X-Jcorr-Signature header value, "sha256=" and the hex HMAC-SHA256 under
// secret of the timestamp (unix seconds, decimal), a '.', and the body.
std::string webhook_signature(std::string_view secret, std::int64_t timestamp, std::string_view body);

}  // namespace jcorr::sinks
