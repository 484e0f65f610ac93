#include "jcorr/sources/json_writer.h"

#include <charconv>
#include <vector>

#include "sources/text_rules.h"

namespace jcorr::sources {
namespace {

void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Only TAB, newline, '"' and '\\' need escaping: printable values hold no other control.
void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char* esc = nullptr;
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\n': esc = "\\n"; break;
      case '\t': esc = "\\t"; break;
      default: continue;
    }
    out.append(s.substr(run, i - run));
    out.append(esc);
    run = i + 1;
  }
  out.append(s.substr(run));
  out.push_back('"');
}

void append_value(std::string& out, std::string_view v) {
  if (detail::is_journal_printable(v, true)) {
    append_string(out, v);
    return;
  }
  out.push_back('[');
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_u64(out, static_cast<unsigned char>(v[i]));
  }
  out.push_back(']');
}

}  // namespace

bool is_json_printable(std::string_view value) { return detail::is_journal_printable(value, true); }

void append_journal_json(std::string& out, const core::Event& event, const core::FieldSchema& schema) {
  out.push_back('{');
  bool first = true;
  if (!event.cursor.empty()) {
    out.append("\"__CURSOR\":");
    append_string(out, event.cursor);
    first = false;
  }
  if (!first) out.push_back(',');
  out.append("\"__REALTIME_TIMESTAMP\":\"");
  append_u64(out, event.realtime_us);
  out.append("\",\"__MONOTONIC_TIMESTAMP\":\"");
  append_u64(out, event.monotonic_us);
  out.push_back('"');
  std::vector<bool> done(schema.size());
  for (const auto& slot : event.slots()) {
    if (slot.id < done.size() && done[slot.id]) continue;
    if (slot.id < done.size()) done[slot.id] = true;
    out.push_back(',');
    append_string(out, schema.name(slot.id));
    out.push_back(':');
    std::size_t count = 0;
    event.for_each_value(slot.id, [&](std::string_view) { ++count; });
    if (count == 1) {
      append_value(out, event.value(slot));
      continue;
    }
    out.push_back('[');
    bool first_value = true;
    event.for_each_value(slot.id, [&](std::string_view v) {
      if (!first_value) out.push_back(',');
      first_value = false;
      append_value(out, v);
    });
    out.push_back(']');
  }
  out.push_back('}');
}

std::string to_journal_json(const core::Event& event, const core::FieldSchema& schema) {
  std::string out;
  append_journal_json(out, event, schema);
  return out;
}

}  // namespace jcorr::sources
