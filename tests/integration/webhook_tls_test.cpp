// WebhookSink over HTTPS against a real TLS receiver, with certificates made by the
// openssl command for each test: verification against a custom CA, refusal with the
// wrong CA or a certificate for another name, and mutual TLS with a client certificate.
#include <catch2/catch.hpp>

#include "webhook/webhook_test_support.h"

using namespace jcorr::test::webhook;

namespace {

struct Certs {
  TempDir dir;
  Certs() {
    const std::string cmd = kScripts + "/make_certs.sh '" + dir.path + "'";
    INFO(cmd);
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  std::string operator()(const std::string& name) const { return dir.path + "/" + name; }
};

std::vector<std::string> tls_args(const Certs& c, const std::string& leaf = "server") {
  return {"--tls-cert", c(leaf + ".pem"), "--tls-key", c(leaf + ".key")};
}

}  // namespace

TEST_CASE("webhook TLS: verified against the configured CA, by name and by address", "[webhook][tls]") {
  Certs certs;
  TempDir t;
  spit(t.path + "/secret", "tls-secret");
  auto args = tls_args(certs);
  args.insert(args.end(), {"--secret-file", t.path + "/secret"});
  Receiver rx(t.path, args);
  const std::string host = GENERATE(std::string("localhost"), std::string("127.0.0.1"));
  LogCapture log;
  auto config = make_config("https://" + host + ":" + std::to_string(rx.port()) + "/alerts", t.path + "/spool-" + host);
  config.tls.ca_file = certs("ca.pem");
  config.secret = "tls-secret";
  auto sink = open_sink(config, log);
  REQUIRE(sink->handle(detection(1)));
  REQUIRE(sink->handle(detection(2)));
  const bool idle = sink->wait_idle(10s);
  INFO(log.all());
  REQUIRE(idle);
  const auto r = rx.requests();
  REQUIRE(r.size() >= 2);
  for (const auto& req : r) CHECK(req["signature_ok"] == true);
  CHECK(rx.delivered_ids() == std::set<std::string>{detection(1).id, detection(2).id});
}

TEST_CASE("webhook TLS: the wrong CA or another name's certificate is refused", "[webhook][tls]") {
  Certs certs;
  TempDir t;
  const bool wrong_ca = GENERATE(true, false);
  Receiver rx(t.path, tls_args(certs, wrong_ca ? "server" : "other-name"));
  LogCapture log;
  auto config = make_config("https://localhost:" + std::to_string(rx.port()) + "/", t.path + "/spool");
  config.tls.ca_file = certs(wrong_ca ? "wrong-ca.pem" : "ca.pem");
  auto sink = open_sink(config, log);
  REQUIRE(sink->handle(detection(1)));
  REQUIRE(eventually([&] { return sink->metrics().retried >= 2; }, 8s));
  INFO(log.all());
  CHECK(sink->metrics().delivered == 0);
  CHECK(rx.requests().empty());  // nothing was sent to an unverified peer
  CHECK(log.contains("TLS handshake"));
  CHECK(log.contains(wrong_ca ? "unable to get local issuer certificate" : "hostname mismatch"));
  CHECK(sink->metrics().spool_files == 1);  // kept for when the configuration is fixed
}

TEST_CASE("webhook TLS: insecure_skip_verify accepts any certificate", "[webhook][tls]") {
  Certs certs;
  TempDir t;
  Receiver rx(t.path, tls_args(certs, "other-name"));
  LogCapture log;
  auto config = make_config("https://127.0.0.1:" + std::to_string(rx.port()) + "/", t.path + "/spool");
  config.tls.ca_file = certs("wrong-ca.pem");
  config.tls.insecure_skip_verify = true;
  auto sink = open_sink(config, log);
  REQUIRE(sink->handle(detection(1)));
  REQUIRE(sink->wait_idle(10s));
  CHECK(rx.delivered_ids().size() == 1);
}

TEST_CASE("webhook TLS: a client certificate for a receiver that requires one", "[webhook][tls]") {
  Certs certs;
  TempDir t;
  auto args = tls_args(certs);
  args.insert(args.end(), {"--client-ca", certs("client-ca.pem")});
  Receiver rx(t.path, args);
  auto config = make_config("https://localhost:" + std::to_string(rx.port()) + "/", t.path + "/spool");
  config.tls.ca_file = certs("ca.pem");
  SECTION("with the certificate") {
    config.tls.client_cert = certs("client.pem");
    config.tls.client_key = certs("client.key");
    LogCapture log;
    auto sink = open_sink(config, log);
    REQUIRE(sink->handle(detection(1)));
    const bool idle = sink->wait_idle(10s);
    INFO(log.all());
    REQUIRE(idle);
    const auto r = rx.requests();
    REQUIRE(r.size() == 1);
    CHECK(r[0]["client_cert"]["commonName"] == "jcorr-client");
  }
  SECTION("without it") {
    LogCapture log;
    auto sink = open_sink(config, log);
    REQUIRE(sink->handle(detection(1)));
    REQUIRE(eventually([&] { return sink->metrics().retried >= 2; }, 8s));
    CHECK(sink->metrics().delivered == 0);
    CHECK(rx.requests().empty());
  }
  SECTION("a key that does not match the certificate is refused at open") {
    config.tls.client_cert = certs("client.pem");
    config.tls.client_key = certs("server.key");
    auto sink = jcorr::sinks::WebhookSink::open(config);
    REQUIRE_FALSE(sink.has_value());
    CHECK_THAT(sink.error(), Catch::Contains("client key"));
  }
}
