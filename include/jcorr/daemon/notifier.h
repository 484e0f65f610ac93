// Talking to the service manager (sd_notify(3)): READY=1 once the daemon follows the
// journal, RELOADING=1 / READY=1 around a reload, STOPPING=1, STATUS= lines, and
// WATCHDOG=1 keep-alives. Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace jcorr::daemon {

class Notifier {
 public:
  Notifier();

  // True when a service manager listens (NOTIFY_SOCKET is set).
  bool active() const { return active_; }

  void ready();
  void reloading();
  void stopping();
  void status(std::string_view text);
  void watchdog();

  // The interval at which WATCHDOG=1 must be sent (half of WATCHDOG_USEC), when the
  // manager asked for keep-alives for this process.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_interval_; }

 private:
  void send(const std::string& state);
  bool active_ = false;
  std::optional<std::chrono::microseconds> watchdog_interval_;
};

}  // namespace jcorr::daemon
