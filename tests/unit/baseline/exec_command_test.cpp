// Exec*= values as systemd's config_parse_exec() reads them.
#include <catch2/catch.hpp>

#include "jcorr/baseline/codes.h"
#include "jcorr/baseline/exec_command.h"

namespace jcorr::baseline {

TEST_CASE("exec values: prefixes", "[baseline][exec]") {
  struct Case {
    std::string value;
    std::string prefix;
    std::string path;
    std::vector<std::string> argv;
  };
  const std::vector<Case> cases = {
      {"/bin/true", "", "/bin/true", {"/bin/true"}},
      {"-/bin/true x", "-", "/bin/true", {"/bin/true", "x"}},
      {"@/bin/sh argv0 -c x", "@", "/bin/sh", {"argv0", "-c", "x"}},
      {"+/bin/id", "+", "/bin/id", {"/bin/id"}},
      {"!/bin/id", "!", "/bin/id", {"/bin/id"}},
      {"!!/bin/id", "!!", "/bin/id", {"/bin/id"}},
      {":/bin/echo $HOME", ":", "/bin/echo", {"/bin/echo", "$HOME"}},
      {"-@:+/bin/sh name", "-@:+", "/bin/sh", {"name"}},
      {"@-/bin/sh name", "-@", "/bin/sh", {"name"}},
      {"echo hi", "", "echo", {"echo", "hi"}},
  };
  for (const Case& c : cases) {
    SECTION(c.value) {
      const ExecParse parsed = parse_exec_value(c.value, 7);
      CHECK(parsed.diagnostics.empty());
      REQUIRE(parsed.commands.size() == 1);
      CHECK(parsed.commands[0].prefix() == c.prefix);
      CHECK(parsed.commands[0].path == c.path);
      CHECK(parsed.commands[0].argv == c.argv);
    }
  }
}

TEST_CASE("exec values: quoting, escapes and separators", "[baseline][exec]") {
  struct Case {
    std::string value;
    std::vector<std::vector<std::string>> commands;
  };
  const std::vector<Case> cases = {
      {R"(/bin/sh -c "echo a; echo b")", {{"/bin/sh", "-c", "echo a; echo b"}}},
      {R"(/bin/sh -c 'echo "x"')", {{"/bin/sh", "-c", "echo \"x\""}}},
      {R"(/bin/echo a"b c"d)", {{"/bin/echo", "ab cd"}}},
      {R"(/bin/echo "" x)", {{"/bin/echo", "", "x"}}},
      {R"(/bin/echo \x41\101\u00e9\n\s\\)", {{"/bin/echo", "AA\xC3\xA9\n \\"}}},
      {R"(/bin/echo 'single \t escapes too')", {{"/bin/echo", "single \t escapes too"}}},
      {R"(/bin/echo     spaced     out)", {{"/bin/echo", "spaced", "out"}}},
      {R"(/bin/a x ; /bin/b y)", {{"/bin/a", "x"}, {"/bin/b", "y"}}},
      {R"(/bin/a \; y)", {{"/bin/a", ";", "y"}}},
      {R"(/bin/a "x;" y)", {{"/bin/a", "x;", "y"}}},
      {R"(/bin/echo %i %%)", {{"/bin/echo", "%i", "%%"}}},
  };
  for (const Case& c : cases) {
    SECTION(c.value) {
      const ExecParse parsed = parse_exec_value(c.value);
      CHECK(parsed.diagnostics.empty());
      CHECK_FALSE(parsed.refused);
      std::vector<std::vector<std::string>> argvs;
      for (const ExecCommand& cmd : parsed.commands) argvs.push_back(cmd.argv);
      CHECK(argvs == c.commands);
    }
  }
}

TEST_CASE("exec values: errors are diagnostics, never exceptions", "[baseline][exec]") {
  struct Case {
    std::string value;
    std::string code;
    Severity severity;
    bool refused;
    std::size_t commands;
  };
  const std::vector<Case> cases = {
      // A bad first word makes systemd drop the value with a warning.
      {R"("/bin/unterminated)", std::string(codes::kExecSyntax), Severity::kWarning, false, 0},
      // Bad later words make systemd refuse the unit...
      {R"(/bin/sh -c "unterminated)", std::string(codes::kExecSyntax), Severity::kError, true, 0},
      {R"(/bin/echo \q)", std::string(codes::kExecSyntax), Severity::kError, true, 0},
      {R"(/bin/echo \x00)", std::string(codes::kExecSyntax), Severity::kError, true, 0},
      {"relative/path", std::string(codes::kExecPathInvalid), Severity::kError, true, 0},
      {"/usr/bin/", std::string(codes::kExecPathInvalid), Severity::kError, true, 0},
      {"-", std::string(codes::kExecPathInvalid), Severity::kWarning, false, 0},
      {"@/bin/sh", std::string(codes::kExecPathInvalid), Severity::kError, true, 0},
      // ...unless "-" says to ignore it.
      {R"(-/bin/sh -c "unterminated)", std::string(codes::kExecSyntax), Severity::kWarning, false, 0},
      // Commands before the bad one stay.
      {R"(/bin/a ; /bin/b "x)", std::string(codes::kExecSyntax), Severity::kError, true, 1},
      {"/bin/echo %z", std::string(codes::kExecSpecifierUnknown), Severity::kWarning, false, 1},
  };
  for (const Case& c : cases) {
    SECTION(c.value) {
      const ExecParse parsed = parse_exec_value(c.value, 12);
      REQUIRE(parsed.diagnostics.size() == 1);
      CHECK(parsed.diagnostics[0].code == c.code);
      CHECK(parsed.diagnostics[0].severity == c.severity);
      CHECK(parsed.diagnostics[0].line == 12);
      CHECK(parsed.refused == c.refused);
      CHECK(parsed.commands.size() == c.commands);
    }
  }
  SECTION("an empty value yields nothing") {
    const ExecParse parsed = parse_exec_value("");
    CHECK(parsed.commands.empty());
    CHECK(parsed.diagnostics.empty());
  }
}

TEST_CASE("split_exec_words uses the same rules", "[baseline][exec]") {
  std::vector<std::string> words;
  CHECK(split_exec_words(R"(a 'b c' "d\te")", words));
  CHECK(words == std::vector<std::string>{"a", "b c", "d\te"});
  words.clear();
  CHECK_FALSE(split_exec_words(R"(a 'b)", words));
}

}  // namespace jcorr::baseline
