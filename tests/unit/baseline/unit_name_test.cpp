// Unit names: validity, templates, drop-in directories and timer pairing.
#include <catch2/catch.hpp>

#include "jcorr/baseline/unit_name.h"
#include "jcorr/baseline/unit_settings.h"

namespace jcorr::baseline {

TEST_CASE("unit names", "[baseline][unit_name]") {
  for (const char* ok : {"a.timer", "a-b_c:d.service", "foo@.timer", "foo@bar.timer", "x\\x2dy.service", "a.b.timer"})
    CHECK(is_valid_unit_name(ok));
  for (const char* bad : {"", ".hidden.timer", "a.txt", "a", ".timer", "a@b@c.timer", "@x.timer", "a b.timer"})
    CHECK_FALSE(is_valid_unit_name(bad));
  CHECK(unit_type("a.b.timer") == "timer");
  CHECK(is_template("foo@.timer"));
  CHECK_FALSE(is_template("foo@bar.timer"));
  CHECK(is_instance("foo@bar.timer"));
  CHECK(template_of("foo@bar.timer") == "foo@.timer");
  CHECK(template_of("plain.timer") == "plain.timer");
}

TEST_CASE("drop-in directory names follow systemd's order", "[baseline][unit_name]") {
  CHECK(dropin_names("foo.service") == std::vector<std::string>{"foo.service"});
  CHECK(dropin_names("foo-bar-baz.service") ==
        std::vector<std::string>{"foo-bar-baz.service", "foo-bar-.service", "foo-.service"});
  CHECK(dropin_names("foo-bar@x.timer") ==
        std::vector<std::string>{"foo-bar@x.timer", "foo-bar@.timer", "foo-.timer"});
  CHECK(dropin_names("-foo.service") == std::vector<std::string>{"-foo.service"});
}

TEST_CASE("a timer's service", "[baseline][unit_name]") {
  CHECK(paired_service_name("backup.timer", "") == "backup.service");
  CHECK(paired_service_name("sync@home.timer", "") == "sync@home.service");
  CHECK(paired_service_name("sync@.timer", "") == "sync@.service");
  CHECK(paired_service_name("report.timer", "generate.service") == "generate.service");
  CHECK(paired_service_name("sync@home.timer", "worker@%i.service") == "worker@home.service");
  CHECK(paired_service_name("a-b@c.timer", "%p-%j-%N-%n-%%.service") == "a-b-b-a-b@c-a-b@c.timer-%.service");
}

TEST_CASE("unit settings apply systemd's repetition rules", "[baseline][unit_name]") {
  UnitSettings timer("x.timer");
  timer.apply(parse_unit_file("[Timer]\nOnCalendar=daily\nOnBootSec=5min\nUnit=a.service\nUnit=b.service\n"), "/a");
  CHECK(timer.values("OnCalendar") == std::vector<std::string>{"daily"});
  CHECK(timer.last("Unit") == "b.service");
  timer.apply(parse_unit_file("[Timer]\nOnUnitActiveSec=\nOnCalendar=hourly\nUnit=\n"), "/b");
  // An empty trigger assignment removes every trigger, not just its own kind.
  CHECK(timer.values("OnBootSec").empty());
  CHECK(timer.values("OnCalendar") == std::vector<std::string>{"hourly"});
  CHECK_FALSE(timer.last("Unit"));
  CHECK(timer.entries("OnCalendar")[0].path == "/b");
  CHECK(timer.entries("OnCalendar")[0].line == 3);

  UnitSettings service("x.service");
  service.apply(parse_unit_file("[Service]\nExecStart=/bin/a\nExecStart=/bin/b\nExecStartPre=/bin/p\n"
                                "[Timer]\nOnCalendar=daily\n"),
                "/a");
  service.apply(parse_unit_file("[Service]\nExecStart=\nExecStart=/bin/c\n"), "/b");
  CHECK(service.values("ExecStart") == std::vector<std::string>{"/bin/c"});
  CHECK(service.values("ExecStartPre") == std::vector<std::string>{"/bin/p"});
  CHECK(service.values("OnCalendar").empty());  // not a service directive
  std::vector<Diagnostic> diagnostics;
  bool refused = false;
  const auto commands = service.commands(diagnostics, refused);
  CHECK(commands.at("ExecStart")[0].argv == std::vector<std::string>{"/bin/c"});
  CHECK_FALSE(refused);
}

}  // namespace jcorr::baseline
