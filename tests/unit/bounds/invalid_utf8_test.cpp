// A byte that is not UTF-8 must not hide a log line from the rules: RE2 reads text as
// UTF-8 and its "." never matches such a byte, so before the matcher replaced them,
// one stray byte in a sudo argument made "COMMAND=(.*)$" fail and the sudo step, and
// with it the whole SSH-sudo-timer chain, vanish.
#include <cstdio>
#include <string>
#include <vector>

#include "bounds_util.h"
#include "jcorr/core/correlator.h"
#include "jcorr/sources/export_reader.h"

using jcorr::bounds::load_rules;
using jcorr::bounds::read_file;
using namespace jcorr;

namespace {

std::vector<core::Detection> replay(const core::RuleSet& set, std::string journal) {
  core::FieldSchema schema = set.schema;
  sources::ExportReader reader("test", sources::memory_input(std::move(journal)), schema, {}, nullptr);
  core::Correlator c(set);
  std::vector<core::Detection> out;
  core::Event e;
  while (reader.next(e)) c.process(e, out);
  c.finish(out);
  return out;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("ill-formed UTF-8 in a sudo command does not hide it from the rules", "[bounds]") {
  const auto set = load_rules(read_file(JCORR_SOURCE_DIR "/rules/t1053.006-systemd-timers.json"));
  std::string journal = read_file(JCORR_SOURCE_DIR "/sample-journals/system-timer-sudo/journal.export");
  REQUIRE(replay(*set, journal).size() == 1);
  // Every sudo command of the chain gets a trailing argument with a stray byte.
  for (const char* cmd : {"COMMAND=/usr/bin/tee /etc/systemd/system/systemd-update-check.service",
                          "COMMAND=/usr/bin/tee /etc/systemd/system/systemd-update-check.timer",
                          "COMMAND=/usr/bin/systemctl daemon-reload",
                          "COMMAND=/usr/bin/systemctl enable --now systemd-update-check.timer"}) {
    const std::size_t before = journal.size();
    replace_all(journal, std::string(cmd) + "\n", std::string(cmd) + " /tmp/\xff\xfe\n");
    REQUIRE(journal.size() > before);
  }
  const auto out = replay(*set, journal);
  REQUIRE(out.size() == 1);
  CHECK(out[0].rule_id == "t1053.006-system-timer-ssh-sudo");
  CHECK(out[0].values.at("timer") == "systemd-update-check.timer");
  // The captured command carries U+FFFD where the stray bytes were.
  CHECK(out[0].values.at("commands").at(2) == "/usr/bin/systemctl daemon-reload /tmp/\xEF\xBF\xBD\xEF\xBF\xBD");
}
