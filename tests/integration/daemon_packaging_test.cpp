// Packaging: the systemd unit is hardened (systemd-analyze security's exposure at most
// 2.0), the example configuration is valid, and `cmake --install` places the binary,
// the rules, the unit, the example configuration and the daemon's documentation.
#include <catch2/catch.hpp>

#include <filesystem>

#include "integration/daemon/daemon_test_support.h"

using namespace jcorr::test::daemon;

TEST_CASE("daemon packaging: systemd-analyze security rates the unit 2.0 or lower", "[daemon][packaging]") {
  const std::string unit = std::string(JCORR_SOURCE_DIR) + "/packaging/jcorr.service";
  const std::string out = run_capture("systemd-analyze security --offline=yes '" + unit + "' 2>&1");
  INFO(out);
  const std::string key = "Overall exposure level for jcorr.service: ";
  const auto p = out.find(key);
  REQUIRE(p != std::string::npos);
  const double exposure = std::strtod(out.c_str() + p + key.size(), nullptr);
  std::printf("daemon packaging: systemd-analyze security exposure %.1f\n", exposure);
  CHECK(exposure <= 2.0);

  const std::string text = slurp(unit);
  for (const char* directive :
       {"Type=notify\n", "WatchdogSec=", "StateDirectory=jcorr\n", "SupplementaryGroups=systemd-journal\n",
        "DynamicUser=yes\n", "NoNewPrivileges=yes\n", "CapabilityBoundingSet=\n", "ProtectSystem=strict\n",
        "ProtectHome=read-only\n", "PrivateTmp=yes\n", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n",
        "SystemCallFilter=@system-service\n"})
    CHECK(text.find(directive) != std::string::npos);
  CHECK(text.find("User=root") == std::string::npos);
}

TEST_CASE("daemon packaging: the example configuration is valid", "[daemon][packaging]") {
  const std::string cmd = "JCORR_RULES='" + std::string(JCORR_SOURCE_DIR) + "/rules' " + JCORR_BIN +
                          " run --check --config '" + JCORR_SOURCE_DIR + "/packaging/etc/jcorr/jcorr.json' 2>&1";
  INFO(cmd);
  const std::string out = run_capture(cmd + "; echo rc=$?");
  INFO(out);
  CHECK(out.find("rc=0") != std::string::npos);
  CHECK(out.find("are valid") != std::string::npos);
}

TEST_CASE("daemon packaging: cmake --install places binary, rules, unit and configuration", "[daemon][packaging]") {
  TempDir tmp;
  namespace fs = std::filesystem;
  const std::string build = fs::path(JCORR_BIN).parent_path().string();
  // The prefix the build was configured with (the configuration file's place is fixed
  // then: /etc for the prefix /usr, PREFIX/etc otherwise), staged under DESTDIR.
  std::string prefix = "/usr/local";
  {
    std::istringstream cache(slurp(build + "/CMakeCache.txt"));
    std::string line;
    while (std::getline(cache, line))
      if (line.starts_with("CMAKE_INSTALL_PREFIX:PATH=")) prefix = line.substr(26);
  }
  const std::string out = run_capture("DESTDIR='" + tmp.path + "' cmake --install '" + build + "' 2>&1; echo rc=$?");
  INFO(out);
  REQUIRE(out.find("rc=0") != std::string::npos);
  const std::string root = tmp.path + prefix;
  const std::string etc = tmp.path + (prefix == "/usr" ? std::string("/etc") : prefix + "/etc");
  CHECK(fs::exists(root + "/bin/jcorr"));
  CHECK(fs::exists(root + "/share/jcorr/rules/t1053.006-systemd-timers.json"));
  CHECK(fs::exists(root + "/lib/systemd/system/jcorr.service"));
  CHECK(fs::exists(etc + "/jcorr/jcorr.json"));
  CHECK(fs::exists(root + "/share/doc/jcorr/daemon.md"));
}
