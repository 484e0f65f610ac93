// Parser tables: what systemd's config_parse() makes of unit-file text.
#include <catch2/catch.hpp>

#include <array>

#include "jcorr/baseline/codes.h"
#include "jcorr/baseline/unit_file.h"

namespace jcorr::baseline {
namespace {

struct Expected {
  std::string section;
  std::string key;
  std::string value;
  std::size_t line;
};

struct Case {
  const char* name;
  std::string text;
  std::vector<Expected> assignments;
};

std::vector<Expected> simplify(const UnitFile& file) {
  std::vector<Expected> out;
  for (const Assignment& a : file.assignments) out.push_back(Expected{a.section, a.key, a.value, a.line});
  return out;
}

bool operator==(const Expected& a, const Expected& b) {
  return a.section == b.section && a.key == b.key && a.value == b.value && a.line == b.line;
}

std::ostream& operator<<(std::ostream& os, const Expected& e) {
  return os << "[" << e.section << "] " << e.key << "=<" << e.value << "> @" << e.line;
}

}  // namespace
}  // namespace jcorr::baseline

namespace Catch {
template <>
struct StringMaker<jcorr::baseline::Expected> {
  static std::string convert(const jcorr::baseline::Expected& e) {
    std::ostringstream os;
    jcorr::baseline::operator<<(os, e);
    return os.str();
  }
};
}  // namespace Catch

namespace jcorr::baseline {

TEST_CASE("unit file parser follows systemd's line rules", "[baseline][unit_file]") {
  const std::vector<Case> cases = {
      {"plain assignments", "[Unit]\nDescription=Backup\n[Timer]\nOnCalendar=daily\n",
       {{"Unit", "Description", "Backup", 2}, {"Timer", "OnCalendar", "daily", 4}}},
      {"blanks around key and value are stripped", "[Service]\n  ExecStart =  /bin/true  \t\n",
       {{"Service", "ExecStart", "/bin/true", 2}}},
      {"value keeps inner blanks and '=' signs", "[Service]\nEnvironment=A=1 B=2\n",
       {{"Service", "Environment", "A=1 B=2", 2}}},
      {"comments with # and ;, also indented", "[Service]\n# c\n; c\n   # c\nExecStart=/bin/a # not a comment\n",
       {{"Service", "ExecStart", "/bin/a # not a comment", 5}}},
      {"continuation joins with a space", "[Service]\nExecStart=/bin/sh -c \\\n  'echo hi'\n",
       {{"Service", "ExecStart", "/bin/sh -c    'echo hi'", 2}}},
      {"comment lines inside a continuation are dropped", "[Service]\nExecStart=/bin/a \\\n# x\n; y\n  b\n",
       {{"Service", "ExecStart", "/bin/a    b", 2}}},
      {"an escaped backslash does not continue", "[Service]\nExecStart=/bin/echo a\\\\\nUser=x\n",
       {{"Service", "ExecStart", "/bin/echo a\\\\", 2}, {"Service", "User", "x", 3}}},
      {"an empty line ends a continuation", "[Service]\nExecStart=/bin/a \\\n\nUser=x\n",
       {{"Service", "ExecStart", "/bin/a", 2}, {"Service", "User", "x", 4}}},
      {"a continuation at end of file is kept", "[Service]\nExecStart=/bin/a \\",
       {{"Service", "ExecStart", "/bin/a", 2}}},
      {"CRLF and CR line ends", "[Service]\r\nUser=a\r\nGroup=b\rWorkingDirectory=/c\n",
       {{"Service", "User", "a", 2}, {"Service", "Group", "b", 3}, {"Service", "WorkingDirectory", "/c", 4}}},
      {"repeated keys are all kept in order", "[Service]\nExecStart=/bin/a\nExecStart=\nExecStart=/bin/b\n",
       {{"Service", "ExecStart", "/bin/a", 2}, {"Service", "ExecStart", "", 3}, {"Service", "ExecStart", "/bin/b", 4}}},
      {"a UTF-8 byte order mark is dropped", "\xEF\xBB\xBF[Unit]\nDescription=x\n", {{"Unit", "Description", "x", 2}}},
      {"section names are case-sensitive", "[service]\nUser=a\n[Service]\nUser=b\n", {{"Service", "User", "b", 4}}},
      {"X- sections are ignored quietly", "[X-Mine]\nFoo=1\n[Service]\nUser=b\n", {{"Service", "User", "b", 4}}},
      {"quotes are kept verbatim", "[Service]\nExecStart=/bin/sh -c \"a; b\"\n",
       {{"Service", "ExecStart", "/bin/sh -c \"a; b\"", 2}}},
  };
  const std::array<std::string_view, 3> sections = {"Unit", "Service", "Timer"};
  for (const Case& c : cases) {
    SECTION(c.name) {
      const UnitFile file = parse_unit_file(c.text, sections);
      CHECK(simplify(file) == c.assignments);
      CHECK(file.loadable);
    }
  }
}

TEST_CASE("unit file parser reports bad syntax with line numbers", "[baseline][unit_file]") {
  struct Bad {
    const char* name;
    std::string text;
    std::string code;
    std::size_t line;
    Severity severity;
    bool loadable;
    std::size_t assignments;  // how many assignments survive
  };
  const std::vector<Bad> cases = {
      {"missing '='", "[Service]\nUser=a\nthis is junk\nGroup=b\n", std::string(codes::kAssignmentMissingEquals), 3,
       Severity::kWarning, true, 2},
      {"missing key", "[Service]\n=value\n", std::string(codes::kAssignmentMissingKey), 2, Severity::kWarning, true, 0},
      {"assignment before any section", "User=a\n[Service]\nGroup=b\n", std::string(codes::kAssignmentOutsideSection),
       1, Severity::kWarning, true, 1},
      {"unknown section", "[Service]\nUser=a\n[Bogus]\nGroup=b\n", std::string(codes::kSectionUnknown), 3,
       Severity::kWarning, true, 1},
      {"unterminated section header stops the file", "[Service]\nUser=a\n[Timer\nGroup=b\n",
       std::string(codes::kSectionInvalid), 3, Severity::kError, false, 1},
      {"bad characters in a section header", "[Ser\"vice]\nUser=a\n", std::string(codes::kSectionBadCharacters), 1,
       Severity::kError, false, 0},
      {"invalid UTF-8 line is ignored", "[Service]\nUser=\xff\xfe\nGroup=b\n", std::string(codes::kInvalidUtf8), 2,
       Severity::kWarning, true, 1},
      {"the line of a continued assignment is where it starts", "[Service]\nExecStart=/bin/a \\\n b\njunk\n",
       std::string(codes::kAssignmentMissingEquals), 4, Severity::kWarning, true, 1},
  };
  const std::array<std::string_view, 3> sections = {"Unit", "Service", "Timer"};
  for (const Bad& c : cases) {
    SECTION(c.name) {
      const UnitFile file = parse_unit_file(c.text, sections);
      REQUIRE(file.diagnostics.size() == 1);
      CHECK(file.diagnostics[0].code == c.code);
      CHECK(file.diagnostics[0].line == c.line);
      CHECK(file.diagnostics[0].severity == c.severity);
      CHECK(file.loadable == c.loadable);
      CHECK(file.assignments.size() == c.assignments);
    }
  }
}

TEST_CASE("unit file parser bounds its input and survives junk", "[baseline][unit_file]") {
  SECTION("text over the bound is not parsed") {
    const std::string big = "[Service]\nUser=" + std::string(2000, 'a') + "\n";
    const UnitFile file = parse_unit_file(big, {}, 1000);
    REQUIRE(file.diagnostics.size() == 1);
    CHECK(file.diagnostics[0].code == codes::kUnitTooLarge);
    CHECK_FALSE(file.loadable);
    CHECK(file.assignments.empty());
  }
  SECTION("every byte value, NULs included, parses without a crash") {
    std::string junk;
    for (int round = 0; round < 64; ++round)
      for (int b = 0; b < 256; ++b) junk.push_back(static_cast<char>((b * 37 + round * 11) & 0xff));
    const UnitFile file = parse_unit_file(junk);
    CHECK(file.diagnostics.size() + file.assignments.size() > 0);
  }
  SECTION("a thousand continuation lines") {
    std::string text = "[Service]\nExecStart=/bin/echo";
    for (int i = 0; i < 1000; ++i) text += " x\\\n";
    text += "end\n";
    const UnitFile file = parse_unit_file(text);
    REQUIRE(file.assignments.size() == 1);
    CHECK(file.assignments[0].value.ends_with("x end"));
  }
  SECTION("an empty list of sections accepts every section") {
    const UnitFile file = parse_unit_file("[Anything]\nKey=v\n");
    REQUIRE(file.assignments.size() == 1);
    CHECK(file.assignments[0].section == "Anything");
  }
}

TEST_CASE("unit_sections_for picks the type's section", "[baseline][unit_file]") {
  auto has = [](std::string_view unit, std::string_view section) {
    const auto s = unit_sections_for(unit);
    return std::find(s.begin(), s.end(), section) != s.end();
  };
  CHECK(has("a.timer", "Timer"));
  CHECK_FALSE(has("a.timer", "Service"));
  CHECK(has("a@.service", "Service"));
  CHECK(has("a.service", "Install"));
  CHECK_FALSE(has("a.bogus", "Service"));
}

}  // namespace jcorr::baseline
