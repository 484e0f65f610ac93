// libFuzzer harness: detection JSON and the terminal view on hostile values.
//
// Two kinds of detection per input:
// 1. built directly from fuzzed strings: everything that comes from log entries
//    (summary, host, values, evidence cursor/message/fields, times) is arbitrary bytes;
//    what the loader restricts (rule id, value names, step names, ATT&CK ids) is drawn
//    from the characters the loader allows;
// 2. produced by the shipped rules from a genuine attack chain (system-timer-sudo)
//    whose user name, source address, working directory, unit name and host name are
//    replaced by fuzzed bytes, with a fuzzed capture limit.
// Properties: the JSON line is one line and parses back, and strings that were valid
// UTF-8 come back unchanged; the terminal view has no control bytes but its own line
// ends (and, with color, its own SGR codes), no C1 controls, is valid UTF-8, and has
// exactly as many lines as the same detection with every log value replaced by "x"
// (so no value can forge a line); captured values and evidence respect the capture limit.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "jcorr/app/render.h"
#include "jcorr/core/detection.h"

namespace {

using namespace jcorr;
using nlohmann::json;

// Strict UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned c = p[i];
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) { len = 3; if (c == 0xe0) lo = 0xa0; if (c == 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; if (c == 0xf0) lo = 0x90; if (c == 0xf4) hi = 0x8f; }
    else return false;
    if (i + len > n) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (std::size_t k = 2; k < len; ++k)
      if ((p[i + k] & 0xc0) != 0x80) return false;
    i += len;
  }
  return true;
}

// The terminal view must be inert: only '\n' (and, with color, ESC '[' digits ';' 'm').
void check_terminal(const std::string& view, bool color) {
  std::string plain;
  for (std::size_t i = 0; i < view.size(); ++i) {
    if (color && view[i] == '\033') {
      FUZZ_CHECK(i + 1 < view.size() && view[i + 1] == '[', "only SGR sequences are emitted");
      std::size_t j = i + 2;
      while (j < view.size() && ((view[j] >= '0' && view[j] <= '9') || view[j] == ';')) ++j;
      FUZZ_CHECK(j < view.size() && view[j] == 'm', "only SGR sequences are emitted");
      i = j;
      continue;
    }
    plain.push_back(view[i]);
  }
  for (std::size_t i = 0; i < plain.size(); ++i) {
    const auto c = static_cast<unsigned char>(plain[i]);
    FUZZ_CHECK(c >= 0x20 || c == '\n', "no C0 control reaches the terminal");
    FUZZ_CHECK(c != 0x7f, "no DEL reaches the terminal");
    FUZZ_CHECK(!(c == 0xc2 && i + 1 < plain.size() && static_cast<unsigned char>(plain[i + 1]) < 0xa0),
               "no C1 control reaches the terminal");
  }
  FUZZ_CHECK(valid_utf8(plain), "the terminal view is valid UTF-8");
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

// The same detection with every log-derived string replaced by "x" (or left empty).
core::Detection shape(core::Detection d) {
  auto x = [](std::string& s) { s = s.empty() ? "" : "x"; };
  x(d.summary);
  x(d.hostname);
  x(d.machine_id);
  x(d.title);
  for (auto& [k, v] : d.values) {
    if (v.is_string()) v = v.get<std::string>().empty() ? "" : "x";
    else if (v.is_array())
      for (auto& e : v)
        if (e.is_string()) e = e.get<std::string>().empty() ? "" : "x";
  }
  for (auto& e : d.evidence) x(e.message);
  return d;
}

void check_detection(const core::Detection& d) {
  const std::string line = core::to_json_line(d);
  FUZZ_CHECK(line.back() == '\n' && line.find('\n') == line.size() - 1, "a detection is one JSON line");
  for (const char c : line) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\n', "control bytes are escaped");
  const json back = json::parse(line, nullptr, false);
  FUZZ_CHECK(!back.is_discarded() && back.is_object(), "the JSON line parses back");
  FUZZ_CHECK(valid_utf8(line), "the JSON line is valid UTF-8");
  if (valid_utf8(d.summary)) FUZZ_CHECK(back["summary"] == d.summary, "summary round-trips");
  if (valid_utf8(d.hostname)) FUZZ_CHECK(back["host"]["hostname"] == d.hostname, "hostname round-trips");
  for (std::size_t i = 0; i < d.evidence.size(); ++i) {
    if (valid_utf8(d.evidence[i].message))
      FUZZ_CHECK(back["evidence"][i]["message"] == d.evidence[i].message, "evidence message round-trips");
    if (valid_utf8(d.evidence[i].cursor))
      FUZZ_CHECK(back["evidence"][i]["cursor"] == d.evidence[i].cursor, "cursor round-trips");
  }
  for (const bool color : {false, true}) {
    const std::string view = app::render_detection(d, color);
    check_terminal(view, color);
    FUZZ_CHECK(lines(view) == lines(app::render_detection(shape(d), color)), "no value adds a line to the view");
  }
}

std::string safe_name(FuzzedDataProvider& p, const char* alphabet) {
  std::string s = p.ConsumeRandomLengthString(12);
  const std::size_t n = std::strlen(alphabet);
  for (auto& c : s) c = alphabet[static_cast<unsigned char>(c) % n];
  return s.empty() ? std::string(1, alphabet[0]) : s;
}

void direct_detection(FuzzedDataProvider& p) {
  core::Detection d;
  d.id = "0123456789abcdef0123456789abcdef";
  d.rule_id = safe_name(p, "abcdefghijklmnopqrstuvwxyz0123456789-_.");
  d.title = p.ConsumeRandomLengthString(64);
  d.severity = p.PickValueInArray({"info", "low", "medium", "high", "critical"});
  d.attack = {safe_name(p, "T0123456789.")};
  d.summary = p.ConsumeRandomLengthString(200);
  d.machine_id = p.ConsumeRandomLengthString(40);
  d.hostname = p.ConsumeRandomLengthString(40);
  d.first_us = p.ConsumeIntegral<std::int64_t>();
  d.last_us = p.ConsumeIntegral<std::int64_t>();
  d.time_us = p.ConsumeIntegral<std::int64_t>();
  d.window_truncated = p.ConsumeBool();
  const int nvalues = p.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < nvalues; ++i) {
    const std::string key = safe_name(p, "abcdefghijklmnopqrstuvwxyz_0123456789");
    if (p.ConsumeBool()) {
      d.values[key] = p.ConsumeRandomLengthString(80);
    } else {
      json arr = json::array();
      const int n = p.ConsumeIntegralInRange(0, 3);
      for (int k = 0; k < n; ++k) arr.push_back(p.ConsumeRandomLengthString(40));
      d.values[key] = arr;
    }
  }
  const int nev = p.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < nev; ++i) {
    core::Evidence e;
    e.step = safe_name(p, "abcdefghijklmnopqrstuvwxyz_0123456789");
    e.event = e.step;
    e.cursor = p.ConsumeRandomLengthString(60);
    e.entry_id = p.ConsumeRandomLengthString(30);
    e.realtime_us = p.ConsumeIntegral<std::int64_t>();
    e.message = p.ConsumeRandomLengthString(300);
    e.fields[safe_name(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_")] = p.ConsumeRandomLengthString(40);
    d.evidence.push_back(std::move(e));
  }
  d.evidence_omitted = p.ConsumeIntegral<std::uint8_t>();
  check_detection(d);
}

// The genuine chain, read once with an open schema: per entry its timestamps, cursor and
// (name, value) pairs.
struct RawEntry {
  std::uint64_t realtime = 0, monotonic = 0;
  std::string cursor;
  std::vector<std::pair<std::string, std::string>> fields;
};

const std::vector<RawEntry>& raw_chain() {
  static const std::vector<RawEntry> entries = [] {
    core::FieldSchema open;
    open.set_open(true);
    std::vector<RawEntry> out;
    for (const auto& e : fuzz::read_export(fuzz::chain_export("system-timer-sudo"), open)) {
      RawEntry r{e.realtime_us, e.monotonic_us, e.cursor, {}};
      for (const auto& s : e.slots()) r.fields.emplace_back(std::string(open.name(s.id)), std::string(e.value(s)));
      out.push_back(std::move(r));
    }
    return out;
  }();
  return entries;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
}

void chain_detections(FuzzedDataProvider& p) {
  const auto& rules = fuzz::shipped_rules();
  const std::string user = p.ConsumeRandomLengthString(40);
  const std::string ip = p.ConsumeRandomLengthString(40);
  const std::string home = p.ConsumeRandomLengthString(60);
  const std::string unit = p.ConsumeRandomLengthString(60);
  const std::string host = p.ConsumeRandomLengthString(40);
  core::CorrelatorOptions co;
  co.capture_limit = p.ConsumeIntegralInRange<std::size_t>(1, 300);
  core::Correlator c(rules, co);
  std::vector<core::Detection> out;
  core::Event ev;
  for (const auto& r : raw_chain()) {
    ev.clear();
    ev.realtime_us = r.realtime;
    ev.monotonic_us = r.monotonic;
    ev.cursor = r.cursor;
    for (auto [name, value] : r.fields) {
      auto id = rules.schema.find(name);
      if (!id) continue;
      replace_all(value, "/home/alice", home);
      replace_all(value, "systemd-update-check", unit);
      replace_all(value, "alice", user);
      replace_all(value, "203.0.113.45", ip);
      if (name == "_HOSTNAME") value = host;
      ev.add(*id, value);
    }
    c.process(ev, out);
  }
  c.finish(out);
  for (const auto& d : out) {
    for (const auto& e : d.evidence) {
      FUZZ_CHECK(e.message.size() <= co.capture_limit, "evidence MESSAGE is cut to the capture limit");
      for (const auto& [k, v] : e.fields) FUZZ_CHECK(v.size() <= co.capture_limit, "evidence fields are cut to the capture limit");
    }
    const core::Rule* rule = rules.find(d.rule_id);
    FUZZ_CHECK(rule != nullptr, "detections name a loaded rule");
    for (const auto& v : rule->values) {
      if (v.ref < 0) continue;  // templates may add literal text around captured values
      auto it = d.values.find(v.name);
      if (it == d.values.end()) continue;
      if (it->second.is_string()) FUZZ_CHECK(it->second.get<std::string>().size() <= co.capture_limit, "captured values are cut");
      if (it->second.is_array())
        for (const auto& x : it->second) FUZZ_CHECK(x.get<std::string>().size() <= co.capture_limit, "captured values are cut");
    }
    check_detection(d);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)raw_chain();
  (void)fuzz::shipped_rules();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider p(data, size);
  if (p.ConsumeBool()) direct_detection(p);
  else chain_detections(p);
  // terminal_safe on its own: the raw remainder of the input.
  const std::string rest = p.ConsumeRemainingBytesAsString();
  check_terminal(app::terminal_safe(rest), false);
  FUZZ_CHECK(app::terminal_safe(rest).find('\n') == std::string::npos, "terminal_safe escapes newlines");
  return 0;
}
