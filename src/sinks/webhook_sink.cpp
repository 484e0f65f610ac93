// The webhook sender: the one file in jcorr that includes Beast's client code. One
// thread per webhook runs an io_context with a single coroutine that takes spooled
// detections in turn and POSTs them over one keep-alive connection; handle() on the
// caller's thread only spools and posts a wake-up. Every asynchronous call uses
// redirect_error, so no handler throws; state below marked "io" is touched only on the
// sender thread.
#include "jcorr/sinks/webhook_sink.h"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

// GCC 12 reports -Wnull-dereference inside Asio's scheduler once it is inlined here
// (a flow-analysis warning the system-header exemption misses); it is Asio's code,
// not ours, so it is silenced for these headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

#include "jcorr/sinks/hmac.h"

namespace jcorr::sinks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxResponseBody = 64 * 1024;      // kept in a dead letter
constexpr auto kMaxRetryAfter = std::chrono::hours(1);   // a longer Retry-After is capped
constexpr auto kIdleClose = std::chrono::seconds(15);    // an idle keep-alive connection is not reused after this
constexpr auto kLogRepeat = std::chrono::seconds(60);    // the same failure is logged at most this often
constexpr std::size_t kRejectionsLoggedPerMinute = 20;   // full-spool rejections logged one by one

auto on_error(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

// What one attempt produced: a response (status != 0), or a transport error.
struct Attempt {
  error_code ec;
  std::string stage;   // where a transport error happened
  std::string detail;  // e.g. why certificate verification failed
  unsigned status = 0;
  std::string reason;
  std::string body;
  bool body_truncated = false;
  bool keep_alive = false;
  std::string retry_after;
  std::string location;
  std::string content_type;
};

// Log text from a receiver or a detection: one line, no control characters.
std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  for (const char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

std::int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::expected<void, std::string> configure_tls(asio::ssl::context& ctx, const TlsSettings& tls) {
  error_code ec;
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  if (tls.insecure_skip_verify) {
    ctx.set_verify_mode(asio::ssl::verify_none, ec);
  } else {
    ctx.set_verify_mode(asio::ssl::verify_peer, ec);
    if (!ec && !tls.ca_file.empty()) {
      ctx.load_verify_file(tls.ca_file, ec);
      if (ec) return std::unexpected("cannot load the CA file " + tls.ca_file + ": " + ec.message());
    } else if (!ec) {
      ctx.set_default_verify_paths(ec);
    }
  }
  if (ec) return std::unexpected("cannot set up TLS verification: " + ec.message());
  if (!tls.client_cert.empty()) {
    ctx.use_certificate_chain_file(tls.client_cert, ec);
    if (ec) return std::unexpected("cannot load the client certificate " + tls.client_cert + ": " + ec.message());
    ctx.use_private_key_file(tls.client_key, asio::ssl::context::pem, ec);
    if (ec) return std::unexpected("cannot load the client key " + tls.client_key + ": " + ec.message());
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
      return std::unexpected("the client key " + tls.client_key + " does not match the certificate " + tls.client_cert);
  }
  return {};
}

}  // namespace

struct WebhookSink::Impl {
  WebhookConfig config;
  std::function<void(std::string_view)> log_line;
  std::unique_ptr<Spool> spool;

  std::atomic<std::uint64_t> accepted{0}, duplicates{0}, filtered{0}, attempts{0}, delivered{0}, retried{0},
      dead_lettered{0}, full_rejections{0}, spool_errors{0};

  // Declared before the I/O objects, so it is destroyed after them.
  asio::io_context ioc{1};
  std::optional<asio::ssl::context> ssl_ctx;
  asio::steady_timer wake_timer{ioc};     // io: the sender sleeps on it
  asio::steady_timer resolve_timer{ioc};  // io: bounds name resolution
  tcp::resolver resolver{ioc};            // io
  std::optional<beast::tcp_stream> plain;                         // io
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;     // io
  beast::flat_buffer buffer;                                      // io
  bool connected = false;                                         // io
  Clock::time_point last_used{};                                  // io
  std::uint64_t resolve_generation = 0;                           // io
  bool resolve_timed_out = false;                                 // io
  bool wake_pending = false;                                      // io
  bool stopping = false;                                          // io
  std::atomic<bool> wake_posted{false};
  std::thread thread;

  std::mt19937_64 rng{std::random_device{}()};                    // io
  std::uint32_t failures = 0;                                     // io: consecutive failed attempts
  Clock::time_point backoff_until{};                              // io
  std::unordered_map<std::string, std::uint32_t> entry_attempts;  // io: attempts per spool key
  std::string last_failure;                                       // io
  Clock::time_point last_failure_log{};                           // io
  std::uint64_t failures_not_logged = 0;                          // io

  std::mutex rejection_mutex;
  Clock::time_point rejection_window{};
  std::uint64_t rejections_in_window = 0;
  std::uint64_t rejections_not_logged = 0;

  void log(const std::string& message) { log_line(message); }

  // Wakes the sender from any thread; wake-ups posted while one is pending coalesce.
  void wake() {
    if (wake_posted.exchange(true)) return;
    asio::post(ioc, [this] {
      wake_posted = false;
      wake_pending = true;
      wake_timer.cancel();
    });
  }

  void stop() {
    asio::post(ioc, [this] {
      stopping = true;
      wake_timer.cancel();
      resolve_timer.cancel();
      resolver.cancel();
      // Closing the socket completes a pending read or write with an error, so the
      // coroutine resumes, sees stopping and returns.
      if (plain) plain->close();
      if (secure) beast::get_lowest_layer(*secure).close();
    });
    if (thread.joinable()) thread.join();
  }

  void log_rejection(const core::Detection& d, const std::string& why) {
    std::lock_guard lock(rejection_mutex);
    const auto now = Clock::now();
    if (now - rejection_window >= std::chrono::minutes(1)) {
      if (rejections_not_logged > 0)
        log(std::to_string(rejections_not_logged) + " more detections were REJECTED in the last minute (not logged one by one)");
      rejection_window = now;
      rejections_in_window = 0;
      rejections_not_logged = 0;
    }
    if (++rejections_in_window <= kRejectionsLoggedPerMinute) {
      log("REJECTED detection " + d.id + " (rule " + printable(d.rule_id, 200) + "): " + why +
          "; it is not queued for this webhook");
    } else {
      ++rejections_not_logged;
    }
  }

  void close_connection() {
    if (plain) {
      plain->close();
      plain.reset();
    }
    if (secure) {
      beast::get_lowest_layer(*secure).close();
      secure.reset();
    }
    buffer.consume(buffer.size());
    connected = false;
  }

  asio::awaitable<void> sleep_until(Clock::time_point when) {
    if (wake_pending) {
      wake_pending = false;
      co_return;
    }
    wake_timer.expires_at(when);
    error_code ec;
    co_await wake_timer.async_wait(on_error(ec));
    wake_pending = false;
  }

  asio::awaitable<void> connect(Clock::time_point deadline, Attempt& a) {
    const auto connect_deadline = std::min(deadline, Clock::now() + config.connect_timeout);
    close_connection();
    error_code ec;
    // The resolver has no deadline of its own: a timer cancels it. The generation
    // keeps a late expiry from cancelling a later resolve.
    const auto generation = ++resolve_generation;
    resolve_timed_out = false;
    resolve_timer.expires_at(connect_deadline);
    resolve_timer.async_wait([this, generation](error_code e) {
      if (!e && generation == resolve_generation) {
        resolve_timed_out = true;
        resolver.cancel();
      }
    });
    auto results =
        co_await resolver.async_resolve(config.url.host, std::to_string(config.url.port), on_error(ec));
    ++resolve_generation;
    resolve_timer.cancel();
    if (ec) {
      a.ec = resolve_timed_out ? error_code(beast::error::timeout) : ec;
      a.stage = "resolving " + config.url.host;
      co_return;
    }
    if (config.url.tls) secure.emplace(ioc, *ssl_ctx);
    else plain.emplace(ioc);
    beast::tcp_stream& lowest = secure ? beast::get_lowest_layer(*secure) : *plain;
    lowest.expires_at(connect_deadline);
    co_await lowest.async_connect(results, on_error(ec));
    if (ec) {
      a.ec = ec;
      a.stage = "connecting";
      co_return;
    }
    if (secure) {
      SSL* ssl = secure->native_handle();
      error_code addr_ec;
      (void)asio::ip::make_address(config.url.host, addr_ec);
      const bool is_ip = !addr_ec;
      if (!is_ip)  // SNI is for names only; SSL_set_tlsext_host_name is this call behind a cast
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(config.url.host.c_str()));
      if (!config.tls.insecure_skip_verify) {
        const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), config.url.host.c_str())
                             : SSL_set1_host(ssl, config.url.host.c_str());
        if (ok != 1) {
          a.ec = asio::error::invalid_argument;
          a.stage = "setting up host name verification";
          co_return;
        }
      }
      co_await secure->async_handshake(asio::ssl::stream_base::client, on_error(ec));
      if (ec) {
        a.ec = ec;
        a.stage = "TLS handshake";
        if (const long v = SSL_get_verify_result(ssl); v != X509_V_OK) a.detail = X509_verify_cert_error_string(v);
        co_return;
      }
    }
    connected = true;
    last_used = Clock::now();
  }

  template <class Stream>
  asio::awaitable<void> write_read(Stream& stream, http::request<http::string_body>& req, Clock::time_point deadline,
                                   Attempt& a, bool& response_started) {
    error_code ec;
    beast::get_lowest_layer(stream).expires_at(deadline);
    co_await http::async_write(stream, req, on_error(ec));
    if (ec) {
      a.ec = ec;
      a.stage = "sending the request";
      co_return;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    co_await http::async_read_header(stream, buffer, parser, on_error(ec));
    if (ec) {
      response_started = parser.got_some() || buffer.size() > 0;
      a.ec = ec;
      a.stage = "waiting for the response";
      co_return;
    }
    response_started = true;
    {
      const auto& res = parser.get();
      a.status = res.result_int();
      a.reason = std::string(res.reason());
      a.retry_after = std::string(res[http::field::retry_after]);
      a.location = std::string(res[http::field::location]);
      a.content_type = std::string(res[http::field::content_type]);
    }
    co_await http::async_read(stream, buffer, parser, on_error(ec));
    if (ec == http::error::body_limit) {
      a.body_truncated = true;
    } else if (ec) {
      a.ec = ec;
      a.stage = "reading the response body";
    }
    a.keep_alive = !ec && parser.get().keep_alive();
    a.body = std::move(parser.get().body());
  }

  // One request with the attempt's deadline. A keep-alive connection the receiver
  // closed while idle fails before any response byte: that is retried once at once
  // on a new connection rather than counted as a failure.
  asio::awaitable<Attempt> exchange(http::request<http::string_body>& req) {
    const auto deadline = Clock::now() + config.timeout;
    for (int round = 0;; ++round) {
      if (connected && Clock::now() - last_used > kIdleClose) close_connection();
      const bool reused = connected;
      Attempt a;
      if (!connected) {
        co_await connect(deadline, a);
        if (a.ec) {
          close_connection();
          co_return a;
        }
      }
      bool response_started = false;
      if (secure) co_await write_read(*secure, req, deadline, a, response_started);
      else co_await write_read(*plain, req, deadline, a, response_started);
      if (a.status != 0) {
        last_used = Clock::now();
        if (a.ec || !a.keep_alive) close_connection();
        co_return a;
      }
      close_connection();
      if (round == 0 && reused && !response_started && !stopping && a.ec != beast::error::timeout &&
          Clock::now() < deadline)
        continue;
      co_return a;
    }
  }

  std::string describe(const Attempt& a) const {
    if (a.status != 0) {
      std::string s = "HTTP " + std::to_string(a.status) + (a.reason.empty() ? "" : " " + a.reason);
      if (!a.body.empty()) s += ": " + printable(a.body, 200);
      return s;
    }
    std::string s;
    if (a.ec == beast::error::timeout) s = "timed out " + a.stage;
    else s = a.stage + ": " + a.ec.message();
    if (!a.detail.empty()) s += " (" + a.detail + ")";
    return s;
  }

  void log_failure(const std::string& what, std::chrono::milliseconds delay) {
    const auto now = Clock::now();
    if (failures == 1 || what != last_failure || now - last_failure_log >= kLogRepeat) {
      std::string line = "delivery to " + config.url.redacted + " failed: " + what + "; retrying in " +
                         seconds_text(delay) + " (" + std::to_string(spool->files()) + " spooled";
      if (failures_not_logged > 0) line += ", " + std::to_string(failures_not_logged) + " more failures since the last report";
      log(line + ")");
      last_failure = what;
      last_failure_log = now;
      failures_not_logged = 0;
    } else {
      ++failures_not_logged;
    }
  }

  void schedule_retry(const Attempt& a, const std::string& what) {
    ++retried;
    ++failures;
    spool->rotate();
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto delay = backoff_delay(config.backoff, failures, unit(rng));
    if (!a.retry_after.empty()) {
      if (auto ra = parse_retry_after(a.retry_after, std::chrono::system_clock::now()))
        delay = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::min<std::chrono::seconds>(*ra, std::chrono::duration_cast<std::chrono::seconds>(kMaxRetryAfter)));
    }
    backoff_until = Clock::now() + delay;
    log_failure(what, delay);
  }

  void move_to_dead_letter(const std::string& key, const json& detection, const Attempt& a, const std::string& why) {
    json record = {{"id", detection.is_object() && detection.contains("id") ? detection["id"] : json(key)},
                   {"webhook", config.name},
                   {"url", config.url.redacted},
                   {"reason", why},
                   {"attempts", entry_attempts.contains(key) ? entry_attempts[key] : 0},
                   {"dead_lettered_at", core::format_time_utc(unix_now_us())},
                   {"detection", detection}};
    if (a.status != 0) {
      json response = {{"status", a.status}, {"reason", a.reason}, {"body", a.body}};
      if (a.body_truncated) response["body_truncated"] = true;
      if (!a.content_type.empty()) response["content_type"] = a.content_type;
      if (!a.location.empty()) response["location"] = a.location;
      record["response"] = std::move(response);
    }
    const std::string text = record.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
    ++dead_lettered;  // before the spool file goes, as for delivered
    if (auto r = spool->dead_letter(key, text); !r) {
      --dead_lettered;
      // Nowhere to put it: keep it spooled and try again later rather than drop it.
      log("cannot dead-letter detection " + key + ": " + r.error() + "; it stays spooled");
      schedule_retry(Attempt{}, "dead-lettering failed");
      return;
    }
    entry_attempts.erase(key);
    std::string rule;
    if (detection.is_object() && detection.contains("rule") && detection["rule"].is_string())
      rule = " (rule " + printable(detection["rule"].get<std::string>(), 200) + ")";
    log("DEAD-LETTERED detection " + key + rule + ": " + why + "; kept in " + spool->dead_letter_dir() + "/" + key +
        ".json");
  }

  asio::awaitable<void> deliver(const std::string& key) {
    auto content = spool->read(key);
    if (!content) {
      move_to_dead_letter(key, json(nullptr), Attempt{}, "unreadable spool file: " + content.error());
      co_return;
    }
    json detection = json::parse(*content, nullptr, false);
    if (detection.is_discarded() || !detection.is_object() || !detection.contains("id") || !detection["id"].is_string()) {
      move_to_dead_letter(key, json(printable(*content, 65536)), Attempt{}, "the spool file is not a detection");
      co_return;
    }
    const std::string id = detection["id"].get<std::string>();
    std::string body = config.payload.render(detection);
    const std::int64_t timestamp = unix_now_us() / 1000000;
    const std::uint32_t attempt = ++entry_attempts[key];

    http::request<http::string_body> req{http::verb::post, config.url.target, 11};
    req.set(http::field::host, config.url.host_header);
    req.set(http::field::user_agent, "jcorr-webhook/1");
    req.set(http::field::content_type, config.payload.content_type());
    req.set("Idempotency-Key", id);
    req.set("X-Jcorr-Timestamp", std::to_string(timestamp));
    if (!config.secret.empty()) req.set("X-Jcorr-Signature", webhook_signature(config.secret, timestamp, body));
    req.set("X-Jcorr-Attempt", std::to_string(attempt));
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();

    ++attempts;
    Attempt a = co_await exchange(req);
    if (a.status == 0 && stopping) co_return;  // abandoned: it stays spooled for the next start

    const DeliveryOutcome outcome = a.status != 0 ? classify_status(a.status) : DeliveryOutcome::kRetry;
    switch (outcome) {
      case DeliveryOutcome::kDelivered: {
        // Counted before the spool file goes, so whoever waits for an empty spool
        // sees the count that goes with it.
        ++delivered;
        if (auto r = spool->remove(key); !r) {
          log("delivered detection " + key + " but " + r.error() + "; it may be delivered again");
          schedule_retry(a, "removing the spool file failed");
          co_return;
        }
        entry_attempts.erase(key);
        if (failures > 0) log("delivering again after " + std::to_string(failures) + " failed attempts");
        failures = 0;
        failures_not_logged = 0;
        last_failure.clear();
        break;
      }
      case DeliveryOutcome::kRetry: schedule_retry(a, describe(a)); break;
      case DeliveryOutcome::kDeadLetter: {
        failures = 0;
        std::string why = describe(a);
        if (a.status >= 300 && a.status < 400)
          why += " (redirects are not followed" + (a.location.empty() ? std::string() : "; Location: " + printable(a.location, 300)) + ")";
        move_to_dead_letter(key, detection, a, why);
        break;
      }
    }
  }

  asio::awaitable<void> run() {
    while (!stopping) {
      if (Clock::now() < backoff_until) {
        co_await sleep_until(backoff_until);
        continue;
      }
      auto key = spool->peek();
      if (!key) {
        co_await sleep_until(Clock::time_point::max());
        continue;
      }
      try {
        co_await deliver(*key);
      } catch (const std::exception& e) {
        // Only allocation failures and the like get here; the entry stays spooled.
        log(std::string("internal error while delivering: ") + e.what());
        schedule_retry(Attempt{}, "internal error");
      }
    }
    close_connection();
  }
};

WebhookSink::WebhookSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebhookSink::~WebhookSink() {
  impl_->stop();
  std::lock_guard lock(impl_->rejection_mutex);
  if (impl_->rejections_not_logged > 0)
    impl_->log(std::to_string(impl_->rejections_not_logged) + " more detections were REJECTED (not logged one by one)");
}

std::expected<std::unique_ptr<WebhookSink>, std::string> WebhookSink::open(WebhookConfig config,
                                                                         WebhookSinkOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  const std::string prefix = "jcorr: webhook " + impl->config.name + ": ";
  impl->log_line = options.log ? std::move(options.log) : [prefix](std::string_view line) {
    std::string s = prefix;
    s.append(line);
    s.push_back('\n');
    std::fwrite(s.data(), 1, s.size(), stderr);
  };
  auto spool = Spool::open(impl->config.spool_dir, impl->config.spool_limits);
  if (!spool) return std::unexpected("webhook " + impl->config.name + ": " + spool.error());
  impl->spool = std::move(*spool);
  if (impl->config.url.tls) {
    impl->ssl_ctx.emplace(asio::ssl::context::tls_client);
    if (auto ok = configure_tls(*impl->ssl_ctx, impl->config.tls); !ok)
      return std::unexpected("webhook " + impl->config.name + ": " + ok.error());
  }
  if (const auto n = impl->spool->files(); n > 0)
    impl->log(std::to_string(n) + " detections (" + std::to_string(impl->spool->bytes()) + " bytes) are waiting in " +
              impl->spool->dir() + " from an earlier run; delivering them");
  Impl* p = impl.get();
  asio::co_spawn(p->ioc, p->run(), [p](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      p->log(std::string("the sender stopped on an internal error: ") + x.what() + "; detections stay spooled");
    } catch (...) {
      p->log("the sender stopped on an internal error; detections stay spooled");
    }
  });
  p->thread = std::thread([p] {
    error_code ec;
    p->ioc.run(ec);
  });
  return std::unique_ptr<WebhookSink>(new WebhookSink(std::move(impl)));
}

bool WebhookSink::handle(const core::Detection& detection) {
  Impl& I = *impl_;
  if (!I.config.filter.matches(detection)) {
    ++I.filtered;
    return true;
  }
  std::string error;
  switch (I.spool->store(detection.id, core::to_json_line(detection), &error)) {
    case StoreResult::kStored:
      ++I.accepted;
      I.wake();
      return true;
    case StoreResult::kDuplicate: ++I.duplicates; return true;
    case StoreResult::kFull: {
      ++I.full_rejections;
      const auto& lim = I.spool->limits();
      I.log_rejection(detection, "the spool " + I.spool->dir() + " is full (" + std::to_string(I.spool->files()) +
                                     " files, " + std::to_string(I.spool->bytes()) + " bytes; caps " +
                                     std::to_string(lim.max_files) + " files, " + std::to_string(lim.max_bytes) +
                                     " bytes): the receiver is not keeping up or is down");
      return false;
    }
    case StoreResult::kFailed:
      ++I.spool_errors;
      I.log_rejection(detection, "cannot write the spool: " + error);
      return false;
  }
  return false;
}

void WebhookSink::flush() { impl_->wake(); }

bool WebhookSink::wait_idle(std::chrono::milliseconds timeout) {
  impl_->wake();
  return impl_->spool->wait_empty(timeout);
}

WebhookMetrics WebhookSink::metrics() const {
  const Impl& I = *impl_;
  WebhookMetrics m;
  m.name = I.config.name;
  m.accepted = I.accepted;
  m.duplicates = I.duplicates;
  m.filtered = I.filtered;
  m.attempts = I.attempts;
  m.delivered = I.delivered;
  m.retried = I.retried;
  m.dead_lettered = I.dead_lettered;
  m.spool_full_rejections = I.full_rejections;
  m.spool_errors = I.spool_errors;
  m.spool_files = I.spool->files();
  m.spool_bytes = I.spool->bytes();
  m.dead_letter_files = I.spool->dead_letters();
  return m;
}

const WebhookConfig& WebhookSink::config() const { return impl_->config; }

}  // namespace jcorr::sinks
