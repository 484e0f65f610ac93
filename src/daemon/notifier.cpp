#include "jcorr/daemon/notifier.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>
#include <cstdlib>

namespace jcorr::daemon {

Notifier::Notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // unset_environment = 0: a child we start must not inherit these, but we start none.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    watchdog_interval_ = std::chrono::microseconds(static_cast<std::int64_t>(usec / 2));
}

void Notifier::send(const std::string& state) {
  if (active_) (void)sd_notify(0, state.c_str());
}

void Notifier::ready() { send("READY=1"); }

void Notifier::reloading() {
  // systemd 253+ wants MONOTONIC_USEC with RELOADING=1 (Type=notify-reload); older ones ignore it.
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void Notifier::stopping() { send("STOPPING=1"); }

void Notifier::status(std::string_view text) {
  std::string s = "STATUS=";
  for (const char c : text) s += (c == '\n' ? ' ' : c);
  send(s);
}

void Notifier::watchdog() { send("WATCHDOG=1"); }

}  // namespace jcorr::daemon
