// The daemon's detections reach a real webhook receiver (tests/integration/webhook/
// receiver.py) through the durable spool, also across an outage of the receiver, and
// the webhook's counters show in the daemon's metrics.
#include <catch2/catch.hpp>

#include "integration/daemon/live_fixture.h"
#include "integration/webhook/webhook_test_support.h"

namespace dt = jcorr::test::daemon;
namespace wt = jcorr::test::webhook;

TEST_CASE("daemon: detections are delivered to a webhook, also after the receiver was down", "[daemon][webhook]") {
  dt::TempDir scratch;
  auto receiver = std::make_unique<wt::Receiver>(scratch.path, std::vector<std::string>{});
  const std::uint16_t port = receiver->port();
  const std::string hooks = R"({"webhooks": [{"name": "test", "url": "http://127.0.0.1:)" + std::to_string(port) +
                            R"(/hook", "spool_dir": "spool", "timeout": "3s", "backoff": {"base": "50ms", "max": "300ms"}}]})";
  dt::LiveDaemon d("", R"({"file": "detections.jsonl", "webhooks": "webhooks.json"})", {{"webhooks.json", hooks}});
  INFO(d.process.log());
  REQUIRE(d.process.log().find("1 webhook(s)") != std::string::npos);

  d.append({{"MESSAGE", "jcorr-test A"}, {"KEY", "w1"}});
  d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", "w1"}});
  const auto first = d.wait_detection("test-pair", "pair w1", 5);
  REQUIRE(first.has_value());
  const std::string id1 = (*first)["id"];
  CHECK(dt::wait_for([&] { return receiver->delivered_ids().count(id1) == 1; }, 5));
  // The receiver records the request before the daemon reads its response and counts it.
  CHECK(dt::wait_for(
      [&] { return dt::metric(d.scrape(), "jcorr_webhook_delivered_total{webhook=\"test\"}") == 1.0; }, 5));

  // The receiver goes down: the detection waits in the spool, then is delivered.
  receiver->stop();
  d.append({{"MESSAGE", "jcorr-test A"}, {"KEY", "w2"}});
  d.append({{"MESSAGE", "jcorr-test B"}, {"KEY", "w2"}});
  const auto second = d.wait_detection("test-pair", "pair w2", 5);
  REQUIRE(second.has_value());
  const std::string id2 = (*second)["id"];
  CHECK(dt::wait_for([&] { return dt::metric(d.scrape(), "jcorr_spool_depth") == 1.0; }, 5));
  // At least one attempt meets the closed port before the receiver is back.
  CHECK(dt::wait_for([&] { return dt::metric(d.scrape(), "jcorr_delivery_failures_total").value_or(0) >= 1.0; }, 5));
  receiver = std::make_unique<wt::Receiver>(scratch.path, std::vector<std::string>{}, port);
  CHECK(dt::wait_for([&] { return receiver->delivered_ids().count(id2) == 1; }, 10));
  CHECK(dt::wait_for([&] { return dt::metric(d.scrape(), "jcorr_spool_depth") == 0.0; }, 5));
  CHECK(dt::metric(d.scrape(), "jcorr_delivery_failures_total").value_or(0) >= 1.0);
  CHECK(d.process.terminate() == 0);
}
