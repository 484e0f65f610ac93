#include "jcorr/daemon/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

namespace jcorr::daemon {

namespace {

bool parse_hex(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 16) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

bool is_id128(std::string_view s) {
  if (s.size() != 32) return false;
  for (const char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string errno_text(int e) { return std::strerror(e); }

// write(2) all of data, retrying short writes and EINTR.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<EntryPosition> parse_cursor(std::string_view cursor) {
  EntryPosition p;
  unsigned seen = 0;
  while (!cursor.empty()) {
    const auto semi = cursor.find(';');
    const std::string_view item = cursor.substr(0, semi);
    cursor = semi == std::string_view::npos ? std::string_view{} : cursor.substr(semi + 1);
    if (item.size() < 2 || item[1] != '=') return std::nullopt;
    const std::string_view v = item.substr(2);
    switch (item[0]) {
      case 's':
        if (!is_id128(v)) return std::nullopt;
        p.seqnum_id = std::string(v);
        seen |= 1;
        break;
      case 'i':
        if (!parse_hex(v, p.seqnum)) return std::nullopt;
        seen |= 2;
        break;
      case 'b':
        if (!is_id128(v)) return std::nullopt;
        p.boot_id = std::string(v);
        seen |= 4;
        break;
      case 'm':
        if (!parse_hex(v, p.monotonic_us)) return std::nullopt;
        seen |= 8;
        break;
      case 't':
        if (!parse_hex(v, p.realtime_us)) return std::nullopt;
        seen |= 16;
        break;
      case 'x':
        if (!parse_hex(v, p.xor_hash)) return std::nullopt;
        seen |= 32;
        break;
      default:
        break;  // a part a newer systemd added: ignore, as sd-journal does
    }
  }
  if (seen != 63) return std::nullopt;
  return p;
}

int compare_positions(const EntryPosition& a, const EntryPosition& b) {
  auto cmp = [](std::uint64_t x, std::uint64_t y) { return x < y ? -1 : (x > y ? 1 : 0); };
  if (a.seqnum_id == b.seqnum_id) return cmp(a.seqnum, b.seqnum);
  if (a.boot_id == b.boot_id) {
    if (const int c = cmp(a.monotonic_us, b.monotonic_us); c != 0) return c;
  }
  if (const int c = cmp(a.realtime_us, b.realtime_us); c != 0) return c;
  return cmp(a.xor_hash, b.xor_hash);
}

std::string checkpoint_path(const std::string& state_directory) { return state_directory + "/checkpoint.json"; }

std::expected<std::optional<Checkpoint>, std::string> read_checkpoint(const std::string& state_directory) {
  const std::string path = checkpoint_path(state_directory);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<Checkpoint>{};
    return std::unexpected(path + ": " + errno_text(errno));
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > (1u << 20)) break;
  }
  ::close(fd);
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::unexpected(path + ": not a checkpoint (invalid JSON)");
  Checkpoint c;
  try {
    if (j.value("version", 0) != Checkpoint::kVersion)
      return std::unexpected(path + ": unknown checkpoint version " + j.value("version", nlohmann::json()).dump());
    c.source = j.at("source").get<std::string>();
    for (const auto& s : j.at("streams")) {
      StreamPosition sp;
      sp.machine_id = s.at("machine_id").get<std::string>();
      sp.cursor = s.at("cursor").get<std::string>();
      auto pos = parse_cursor(sp.cursor);
      if (!pos) return std::unexpected(path + ": the cursor \"" + sp.cursor + "\" is malformed");
      sp.position = *pos;
      c.streams.push_back(std::move(sp));
    }
    c.watermark = j.at("watermark").get<core::Micros>();
    c.written_realtime_us = j.value("written_realtime_us", std::uint64_t{0});
    if (j.contains("own_pids"))
      for (const auto& o : j.at("own_pids"))
        c.own_pids.push_back(OwnPid{o.at("boot_id").get<std::string>(), o.at("pid").get<std::uint32_t>()});
  } catch (const nlohmann::json::exception& e) {
    return std::unexpected(path + ": not a checkpoint (" + std::string(e.what()) + ")");
  }
  return std::optional<Checkpoint>{std::move(c)};
}

std::expected<void, std::string> write_checkpoint(const std::string& state_directory, const Checkpoint& c) {
  nlohmann::json j;
  j["version"] = Checkpoint::kVersion;
  j["source"] = c.source;
  auto streams = nlohmann::json::array();
  for (const auto& s : c.streams)
    streams.push_back({{"machine_id", s.machine_id},
                       {"cursor", s.cursor},
                       {"boot_id", s.position.boot_id},
                       {"seqnum_id", s.position.seqnum_id},
                       {"seqnum", s.position.seqnum},
                       {"monotonic_us", s.position.monotonic_us},
                       {"realtime_us", s.position.realtime_us}});
  j["streams"] = std::move(streams);
  j["watermark"] = c.watermark;
  j["written_realtime_us"] = c.written_realtime_us;
  auto pids = nlohmann::json::array();
  for (const auto& o : c.own_pids) pids.push_back({{"boot_id", o.boot_id}, {"pid", o.pid}});
  j["own_pids"] = std::move(pids);
  const std::string text = j.dump(2) + "\n";

  const std::string path = checkpoint_path(state_directory);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected(tmp + ": " + errno_text(errno));
  if (!write_all(fd, text) || ::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return std::unexpected(tmp + ": " + errno_text(e));
  }
  if (::close(fd) != 0) return std::unexpected(tmp + ": " + errno_text(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return std::unexpected(path + ": " + errno_text(errno));
  const int dfd = ::open(state_directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return std::unexpected(state_directory + ": " + errno_text(errno));
  const int r = ::fsync(dfd);
  const int e = errno;
  ::close(dfd);
  if (r != 0) return std::unexpected(state_directory + ": fsync: " + errno_text(e));
  return {};
}

}  // namespace jcorr::daemon
