#include "jcorr/daemon/metrics.h"

#include "daemon/asio.h"
#include <cmath>
#include <cstdio>

#include "jcorr/daemon/config.h"
#include "jcorr/daemon/logger.h"

namespace jcorr::daemon {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string escape_label(std::string_view v) {
  std::string s;
  for (const char c : v) {
    if (c == '\\') s += "\\\\";
    else if (c == '"') s += "\\\"";
    else if (c == '\n') s += "\\n";
    else s += c;
  }
  return s;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

}  // namespace

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  text_ += help;
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void MetricsText::sample(std::string_view name, double value, const Labels& labels) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i) text_ += ',';
      text_ += labels[i].first + "=\"" + escape_label(labels[i].second) + "\"";
    }
    text_ += '}';
  }
  text_ += ' ';
  text_ += format_value(value);
  text_ += '\n';
}

void MetricsText::counter(std::string_view name, std::string_view help, double value) {
  family(name, "counter", help);
  sample(name, value);
}

void MetricsText::gauge(std::string_view name, std::string_view help, double value) {
  family(name, "gauge", help);
  sample(name, value);
}

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
  Impl(asio::io_context& i, const Logger& l, Render r) : io(i), log(l), render(std::move(r)), acceptor(i) {}

  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(tcp::socket s, asio::io_context& io, std::weak_ptr<Impl> o)
        : socket(std::move(s)), deadline(io), owner(std::move(o)) {}
    tcp::socket socket;
    asio::steady_timer deadline;
    asio::streambuf request{8192};
    std::string response;
    std::weak_ptr<Impl> owner;
    bool done = false;

    void start() {
      deadline.expires_after(std::chrono::seconds(5));
      deadline.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) {
          boost::system::error_code ignored;
          self->socket.close(ignored);
        }
      });
      asio::async_read_until(socket, request, "\r\n\r\n",
                             [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                               self->on_request(ec);
                             });
    }

    void on_request(const boost::system::error_code& ec) {
      if (ec) {
        finish();
        return;
      }
      std::string head(asio::buffers_begin(request.data()), asio::buffers_end(request.data()));
      const std::string line = head.substr(0, head.find("\r\n"));
      const auto sp1 = line.find(' ');
      const auto sp2 = line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
      const std::string method = line.substr(0, sp1);
      const std::string target =
          sp1 == std::string::npos ? std::string() : line.substr(sp1 + 1, sp2 == std::string::npos ? sp2 : sp2 - sp1 - 1);
      std::string status = "200 OK";
      std::string body;
      std::string type = "text/plain; version=0.0.4; charset=utf-8";
      auto impl = owner.lock();
      if (method != "GET" && method != "HEAD") {
        status = "405 Method Not Allowed";
        body = "only GET /metrics\n";
        type = "text/plain; charset=utf-8";
      } else if (target != "/metrics" && !target.starts_with("/metrics?")) {
        status = "404 Not Found";
        body = "only GET /metrics\n";
        type = "text/plain; charset=utf-8";
      } else if (impl) {
        ++impl->scrapes;
        body = impl->render();
      }
      response = "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\nConnection: close\r\n" +
                 (status.starts_with("405") ? "Allow: GET, HEAD\r\n" : "") + "\r\n";
      if (method != "HEAD") response += body;
      asio::async_write(socket, asio::buffer(response),
                        [self = shared_from_this()](const boost::system::error_code&, std::size_t) { self->finish(); });
    }

    void finish() {
      if (done) return;
      done = true;
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      deadline.cancel();
      if (auto impl = owner.lock()) --impl->open;
    }
  };

  void accept() {
    acceptor.async_accept([self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        if (self->open >= kMaxConnections) {
          boost::system::error_code ignored;
          socket.close(ignored);
        } else {
          ++self->open;
          std::make_shared<Connection>(std::move(socket), self->io, self->weak_from_this())->start();
        }
      }
      self->accept();
    });
  }

  asio::io_context& io;
  const Logger& log;
  Render render;
  tcp::acceptor acceptor;
  std::size_t open = 0;
  std::uint64_t scrapes = 0;
};

MetricsServer::MetricsServer(asio::io_context& io, const Logger& log, Render render)
    : impl_(std::make_shared<Impl>(io, log, std::move(render))) {}

MetricsServer::~MetricsServer() { close(); }

std::expected<std::string, std::string> MetricsServer::listen(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (ec) return std::unexpected("\"" + address + "\" is not an IP address");
  const tcp::endpoint ep(addr, port);
  auto& a = impl_->acceptor;
  if (a.open(ep.protocol(), ec); ec) return std::unexpected(ec.message());
  a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (a.bind(ep, ec); ec) {
    a.close(ec);
    return std::unexpected("bind " + format_address(address, port) + ": " + ec.message());
  }
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec) {
    a.close(ec);
    return std::unexpected("listen: " + ec.message());
  }
  const auto bound = a.local_endpoint(ec);
  impl_->accept();
  return format_address(bound.address().to_string(), bound.port());
}

void MetricsServer::close() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

std::uint64_t MetricsServer::scrapes() const { return impl_->scrapes; }

}  // namespace jcorr::daemon
