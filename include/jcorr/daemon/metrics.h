// Metrics in the Prometheus text exposition format (version 0.0.4), and the small HTTP
// server that serves them: GET /metrics only, on a loopback address by default.
//
// The server is plain Boost.Asio on the daemon's io_context: each connection reads one
// request head (at most 8 KiB, within 5 s), answers, and closes. It never blocks the
// loop, and at most kMaxConnections are open at once (more are closed at accept).
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace jcorr::daemon {

class Logger;

// Builds one exposition: a family's HELP and TYPE lines, then its samples.
class MetricsText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Starts a family; type is "counter" or "gauge".
  void family(std::string_view name, std::string_view type, std::string_view help);

  // One sample of the current family (name may carry a suffix, e.g. _total).
  void sample(std::string_view name, double value, const Labels& labels = {});

  // family() and one unlabelled sample.
  void counter(std::string_view name, std::string_view help, double value);
  void gauge(std::string_view name, std::string_view help, double value);

  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

class MetricsServer {
 public:
  static constexpr std::size_t kMaxConnections = 16;
  using Render = std::function<std::string()>;

  // render is called on the io_context's thread for every scrape.
  MetricsServer(boost::asio::io_context& io, const Logger& log, Render render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and listens (numeric address; port 0 picks one). Returns "address:port" as
  // bound, or the reason it could not.
  std::expected<std::string, std::string> listen(const std::string& address, std::uint16_t port);

  // Stops accepting and closes open connections.
  void close();

  std::uint64_t scrapes() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace jcorr::daemon
