// HMAC-SHA256 against RFC 4231's test vectors, and the webhook signature format.
#include <catch2/catch.hpp>

#include <string>

#include "jcorr/sinks/hmac.h"

using jcorr::sinks::hmac_sha256;
using jcorr::sinks::to_hex;
using jcorr::sinks::webhook_signature;

namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

struct Vector {
  const char* name;
  std::string key;
  std::string data;
  const char* mac;  // HMAC-SHA-256, possibly truncated (test case 5)
};

}  // namespace

TEST_CASE("hmac_sha256 matches the RFC 4231 test vectors", "[sinks][hmac]") {
  const std::string aa131(131, '\xaa');
  const Vector vectors[] = {
      {"1", std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"3", std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4", unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"5", std::string(20, '\x0c'), "Test With Truncation", "a3b6167473100ee06e0c796c2955552b"},
      {"6", aa131, "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"7", aa131,
       "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
       "hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& v : vectors) {
    INFO("RFC 4231 test case " << v.name);
    const std::string mac = to_hex(hmac_sha256(v.key, v.data));
    const std::string expected = v.mac;
    CHECK(mac.substr(0, expected.size()) == expected);
  }
}

TEST_CASE("hmac_sha256 takes an empty key and an empty message", "[sinks][hmac]") {
  // Known value: HMAC-SHA256("", "").
  CHECK(to_hex(hmac_sha256("", "")) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("webhook_signature signs \"<timestamp>.<body>\"", "[sinks][hmac]") {
  const std::string body = R"({"id":"abc"})";
  const std::string sig = webhook_signature("s3cret", 1700000000, body);
  CHECK(sig == "sha256=" + to_hex(hmac_sha256("s3cret", "1700000000." + body)));
  CHECK(sig.size() == 7 + 64);
  // Any change to the timestamp, body or secret changes it.
  CHECK(sig != webhook_signature("s3cret", 1700000001, body));
  CHECK(sig != webhook_signature("s3cret", 1700000000, body + " "));
  CHECK(sig != webhook_signature("s3cret!", 1700000000, body));
}
