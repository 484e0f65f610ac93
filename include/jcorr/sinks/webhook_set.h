// All the webhooks of one configuration file behind one Sink: what `jcorr replay
// --webhook` uses, and what the daemon will. Opening loads and validates the file
// (diagnostics as data) and opens every webhook's spool and sender; handle() offers a
// detection to each webhook, which spools it if its filter wants it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "jcorr/core/diagnostic.h"
#include "jcorr/sinks/sink.h"
#include "jcorr/sinks/webhook_sink.h"

namespace jcorr::sinks {

class WebhookSet final : public Sink {
 public:
  struct Opened {
    std::unique_ptr<WebhookSet> set;            // null when the configuration or a webhook failed
    std::vector<core::Diagnostic> diagnostics;  // configuration problems, warnings included
    std::string error;                          // a webhook that could not be opened (spool, TLS files)
  };

  // Loads the configuration file and opens every enabled webhook in it.
  static Opened open(const std::string& config_path, const WebhookSinkOptions& options = {});

  // Offers the detection to every webhook. Returns true when each accepted it (or did
  // not want it); false when any refused (spool full or unwritable), already logged.
  bool handle(const core::Detection& detection) override;

  // Wakes every sender.
  void flush() override;

  // Waits, up to timeout in total, until every spool is empty. True when all are.
  bool wait_idle(std::chrono::milliseconds timeout);

  // Counters of each webhook, in configuration order.
  std::vector<WebhookMetrics> metrics() const;

  // One line per webhook for an end-of-run report: what was delivered, retried and
  // dead-lettered, refused, and what is still spooled (and where). With only_problems,
  // only the webhooks with something dead-lettered, refused or left in the spool.
  std::vector<std::string> summary(bool only_problems = false) const;

  std::size_t size() const { return sinks_.size(); }

 private:
  std::vector<std::unique_ptr<WebhookSink>> sinks_;
};

}  // namespace jcorr::sinks
