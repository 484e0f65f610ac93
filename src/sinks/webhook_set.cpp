#include "jcorr/sinks/webhook_set.h"

#include <algorithm>

namespace jcorr::sinks {

WebhookSet::Opened WebhookSet::open(const std::string& config_path, const WebhookSinkOptions& options) {
  Opened out;
  auto loaded = load_webhook_config_file(config_path);
  out.diagnostics = std::move(loaded.diagnostics);
  if (core::has_errors(out.diagnostics)) return out;
  auto set = std::unique_ptr<WebhookSet>(new WebhookSet());
  for (auto& config : loaded.webhooks) {
    auto sink = WebhookSink::open(std::move(config), options);
    if (!sink) {
      out.error = sink.error();
      return out;
    }
    set->sinks_.push_back(std::move(*sink));
  }
  out.set = std::move(set);
  return out;
}

bool WebhookSet::handle(const core::Detection& detection) {
  bool all = true;
  for (auto& s : sinks_) all = s->handle(detection) && all;
  return all;
}

void WebhookSet::flush() {
  for (auto& s : sinks_) s->flush();
}

bool WebhookSet::wait_idle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool all = true;
  for (auto& s : sinks_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    all = s->wait_idle(std::max(left, std::chrono::milliseconds(0))) && all;
  }
  return all;
}

std::vector<WebhookMetrics> WebhookSet::metrics() const {
  std::vector<WebhookMetrics> out;
  for (const auto& s : sinks_) out.push_back(s->metrics());
  return out;
}

std::vector<std::string> WebhookSet::summary(bool only_problems) const {
  std::vector<std::string> lines;
  for (const auto& s : sinks_) {
    const WebhookMetrics m = s->metrics();
    if (only_problems && m.dead_lettered == 0 && m.spool_full_rejections == 0 && m.spool_errors == 0 && m.spool_files == 0)
      continue;
    std::string line = "webhook " + m.name + ": " + std::to_string(m.delivered) + " delivered";
    if (m.filtered) line += ", " + std::to_string(m.filtered) + " not wanted by its filter";
    if (m.retried) line += ", " + std::to_string(m.retried) + " failed attempts retried";
    if (m.dead_lettered) line += ", " + std::to_string(m.dead_lettered) + " dead-lettered (in " + s->config().spool_dir + "/dead-letter)";
    if (m.spool_full_rejections || m.spool_errors)
      line += ", " + std::to_string(m.spool_full_rejections + m.spool_errors) + " REJECTED (not spooled)";
    if (m.spool_files)
      line += ", " + std::to_string(m.spool_files) + " still spooled in " + s->config().spool_dir +
              " (delivered by the next run with this configuration)";
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace jcorr::sinks
