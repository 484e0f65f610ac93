// libFuzzer harness: the rule loader driven by a structure-aware mutator.
//
// Byte-level mutation of a rule file mostly produces JSON syntax errors, which stop the
// loader at its first pass. Here an input is a rule file; a mutation parses it, picks
// one node and changes it the way a rule author (or a hostile rule pack) could: a
// string's bytes, a value replaced by a rule-language token (operator, field, reference,
// duration, regex, template), a member deleted, renamed or added, a subtree spliced in
// from elsewhere in the file or from the other input of a cross-over, a node wrapped in
// all/any/not. Seeds are the shipped rules, so every mutant is one step from a real
// rule and reaches compilation, linking and the correlator.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>

#include "rule_exercise.h"

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace {

using nlohmann::json;

const char* const kKeys[] = {
    "id", "title", "severity", "description", "attack", "tags", "enabled", "scope", "events", "where", "capture",
    "from", "correlate", "sequence", "all_of", "count", "distinct", "within", "by", "until", "unless", "emit",
    "event", "any_of", "as", "join", "optional", "absent", "repeat", "prefer", "min", "value", "suppress", "for",
    "values", "summary", "tests", "lists", "rules", "match", "file", "eq", "in", "prefix", "suffix", "contains",
    "regex", "gt", "ge", "lt", "le", "exists", "in_list", "not", "all", "any", "MESSAGE", "_COMM", "_UID", "_PID",
    "_TRANSPORT", "MESSAGE_ID", "UNIT", "USER_UNIT", "SESSION_ID", "LEADER", "USER_ID", "_AUDIT_SESSION",
    "_SYSTEMD_UNIT", "_HOSTNAME", "_MACHINE_ID", "ssh_login.user", "session.session", "__CURSOR", "lowercase",
    "1BAD", "", "x.y.z"};

const char* const kStrings[] = {
    "ssh_login", "logind_session", "sudo_unit", "timer_start", "reload", "logind_removed", "ssh_login.user",
    "ssh_login.sshd_pid", "session.session", "sudo.unit_stem", "timer_start.timer", "_HOSTNAME", "_MACHINE_ID",
    "nope.nothing", ".", "a.", ".b", "0s", "1us", "500ms", "30m", "8h", "1h30m", "2d", "-1s", "1x", "", "  ",
    "4503599627370496us", "4503599627370495us 4503599627370495us 4503599627370495us", "99999999999999999999d",
    "1+", "0+", "2", "0", "4294967296", "once", "each", "host", "global", "journal", "detections", "exact",
    "prefix", "regex", "info", "low", "medium", "high", "critical", "(a{1000}){1000}", "((((((((((a*)*)*)*)*)*)*)*)*)*)",
    "(?P<user>\\S+)", "(?P<user>.*)(?P<user>.*)", "(", "\\C", "[[:alpha:]]+", "\\pN", "a{2,1}", "(?P<x>a)|(?P<y>b)",
    "^Accepted (?P<method>\\S+) for (?P<user>\\S+)", "{ssh_login.user}", "{", "}", "{{}}", "{nope.x} {_HOSTNAME}",
    "{timer_start.timer_stem}.service", "T1053.006", "sshd", "sudo", "syslog", "journal", "0",
    "8d45620c1a4348dbb17410da57c60c66", "39f53479d3a045ac8e11786248231fbf", "automation-users", "list.txt",
    "lists/x.txt", "\xff\xfe", "\x1b[31m", "a\nb"};

json token(std::mt19937& rng, const json& doc_node) {
  switch (rng() % 10) {
    case 0: return json(nullptr);
    case 1: return json(static_cast<bool>(rng() & 1));
    case 2: {
      static const json numbers[] = {0, 1, -1, 2, 3, 100000, 100001, 4294967295u, 4294967296u,
                                     9223372036854775807ll, 18446744073709551615ull, 1.5, -0.0, 1e308};
      return numbers[rng() % std::size(numbers)];
    }
    case 3: return json::array({json(kStrings[rng() % std::size(kStrings)]), json(kStrings[rng() % std::size(kStrings)])});
    case 4: return json::object({{kKeys[rng() % std::size(kKeys)], json(kStrings[rng() % std::size(kStrings)])}});
    case 5: return doc_node;  // a copy of some subtree of the document
    default: return json(kStrings[rng() % std::size(kStrings)]);
  }
}

void collect(json& j, std::vector<json*>& out) {
  out.push_back(&j);
  if (j.is_object() || j.is_array())
    for (auto& c : j) collect(c, out);
}

// Applies one structural mutation to doc; `other` (may be null) donates subtrees.
void mutate(json& doc, const json* other, std::mt19937& rng) {
  std::vector<json*> nodes;
  collect(doc, nodes);
  std::vector<json*> donors;
  json other_copy;
  if (other) {
    other_copy = *other;
    collect(other_copy, donors);
  } else {
    donors = nodes;
  }
  json* n = nodes[rng() % nodes.size()];
  const json donor = *donors[rng() % donors.size()];  // copied before any change
  switch (rng() % 9) {
    case 0: {  // change a string's bytes
      std::vector<json*> strings;
      for (json* x : nodes)
        if (x->is_string()) strings.push_back(x);
      if (strings.empty()) break;
      json* s = strings[rng() % strings.size()];
      std::string bytes = s->get<std::string>();
      const std::size_t cap = bytes.size() * 2 + 16;
      bytes.resize(cap);
      const std::size_t len = LLVMFuzzerMutate(reinterpret_cast<std::uint8_t*>(bytes.data()),
                                               s->get_ref<const std::string&>().size(), cap);
      bytes.resize(len);
      *s = bytes;
      break;
    }
    case 1: *n = token(rng, donor); break;
    case 2:  // delete a member or element
      if (n->is_object() && !n->empty()) {
        auto it = n->begin();
        std::advance(it, static_cast<long>(rng() % n->size()));
        n->erase(it.key());
      } else if (n->is_array() && !n->empty()) {
        n->erase(rng() % n->size());
      }
      break;
    case 3: *n = donor; break;  // splice
    case 4:                     // add a member or element
      if (n->is_object()) (*n)[kKeys[rng() % std::size(kKeys)]] = token(rng, donor);
      else if (n->is_array()) n->insert(n->begin() + static_cast<long>(rng() % (n->size() + 1)), token(rng, donor));
      break;
    case 5: {  // wrap
      json inner = *n;
      switch (rng() % 4) {
        case 0: *n = json::object({{"not", inner}}); break;
        case 1: *n = json::object({{"all", json::array({inner})}}); break;
        case 2: *n = json::object({{"any", json::array({inner, donor})}}); break;
        default: *n = json::array({inner}); break;
      }
      break;
    }
    case 6:  // rename a member
      if (n->is_object() && !n->empty()) {
        auto it = n->begin();
        std::advance(it, static_cast<long>(rng() % n->size()));
        const std::string old = it.key();
        json v = it.value();
        n->erase(old);
        (*n)[kKeys[rng() % std::size(kKeys)]] = std::move(v);
      }
      break;
    case 7:  // duplicate an element / swap two
      if (n->is_array() && !n->empty()) {
        const std::size_t a = rng() % n->size();
        const std::size_t b = rng() % n->size();
        if (rng() & 1) n->push_back((*n)[a]);
        else std::swap((*n)[a], (*n)[b]);
      }
      break;
    default: *n = json(kStrings[rng() % std::size(kStrings)]); break;
  }
}

std::size_t write_back(const json& doc, std::uint8_t* data, std::size_t max_size) {
  const std::string s = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > max_size) return 0;
  std::memcpy(data, s.data(), s.size());
  return s.size();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)jcorr::fuzz::chain_text();
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  std::mt19937 rng(seed);
  json doc = json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded() || rng() % 16 == 0) return LLVMFuzzerMutate(data, size, max_size);
  const int rounds = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < rounds; ++i) mutate(doc, nullptr, rng);
  const std::size_t n = write_back(doc, data, max_size);
  return n ? n : LLVMFuzzerMutate(data, size, max_size);
}

extern "C" std::size_t LLVMFuzzerCustomCrossOver(const std::uint8_t* data1, std::size_t size1,
                                                 const std::uint8_t* data2, std::size_t size2, std::uint8_t* out,
                                                 std::size_t max_out_size, unsigned int seed) {
  std::mt19937 rng(seed);
  json a = json::parse(data1, data1 + size1, nullptr, false);
  const json b = json::parse(data2, data2 + size2, nullptr, false);
  if (a.is_discarded() || b.is_discarded()) {
    const std::size_t n = std::min(size1, max_out_size);
    std::memcpy(out, data1, n);
    return n;
  }
  mutate(a, &b, rng);
  const std::size_t n = write_back(a, out, max_out_size);
  if (n) return n;
  const std::size_t m = std::min(size1, max_out_size);
  std::memcpy(out, data1, m);
  return m;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  jcorr::fuzz::exercise_rules(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
