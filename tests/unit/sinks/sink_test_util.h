// Helpers for sink tests: a detection with every field set, and temporary directories.
#pragma once

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "jcorr/core/detection.h"

namespace jcorr::test {

inline core::Detection sample_detection(std::string id = "0123456789abcdef0123456789abcdef") {
  core::Detection d;
  d.id = std::move(id);
  d.rule_id = "t1053-006-timer-after-ssh-sudo";
  d.title = "New systemd timer started from an SSH session with sudo";
  d.severity = "high";
  d.attack = {"T1053.006", "T1021.004"};
  d.tags = {"persistence", "ssh"};
  d.summary = "alice from 203.0.113.45 started net-monitor.timer on web01";
  d.machine_id = "b9b5cf1f95cc478f9553d01ae90a6ef1";
  d.hostname = "web01";
  d.first_us = 1767225600000000;
  d.last_us = 1767225660000000;
  d.time_us = 1767225660000000;
  d.values = {{"user", "alice"}, {"src_ip", "203.0.113.45"}, {"command", nlohmann::json::array({"a", "b"})}};
  d.group = {{"_MACHINE_ID", d.machine_id}};
  core::Evidence e;
  e.step = "ssh_login";
  e.event = "ssh_login";
  e.cursor = "s=1;i=2";
  e.entry_id = "e1";
  e.realtime_us = d.first_us;
  e.message = "Accepted publickey for alice from 203.0.113.45 port 56629 ssh2";
  d.evidence.push_back(e);
  return d;
}

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "jcorr-sinks-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace jcorr::test
