#include "jcorr/app/rule_files.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace jcorr::app {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxRuleFileSize = 16u << 20;

std::expected<std::string, std::string> read_text(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec) return std::unexpected(p.string() + ": " + ec.message());
  if (size > kMaxRuleFileSize) return std::unexpected(p.string() + ": larger than 16 MiB");
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::unexpected(p.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

core::Diagnostic io_error(const std::string& origin, const std::string& message) {
  core::Diagnostic d;
  d.code = "rule.file.unreadable";
  d.origin = origin;
  d.message = message;
  return d;
}

}  // namespace

std::string default_rules_path() {
  if (const char* env = std::getenv("JCORR_RULES"); env && *env) return env;
#ifdef JCORR_INSTALLED_RULES_DIR
  std::error_code ec;
  if (fs::is_directory(JCORR_INSTALLED_RULES_DIR, ec)) return JCORR_INSTALLED_RULES_DIR;
#endif
  return "rules";
}

LoadedRules load_rule_paths(const std::vector<std::string>& paths, const core::LoadOptions& options) {
  LoadedRules result;
  core::LoadOptions opts = options;
  if (!opts.read_file) {
    opts.read_file = [](std::string_view origin, std::string_view path) -> std::expected<std::string, std::string> {
      fs::path p(path);
      if (p.is_relative()) {
        for (const auto& part : p)
          if (part == "..") return std::unexpected("list file \"" + std::string(path) + "\" must not use \"..\"");
        p = fs::path(origin).parent_path() / p;
      }
      return read_text(p);
    };
  }
  core::RuleLoader loader(opts);
  std::vector<core::Diagnostic> io_errors;
  for (const auto& path : paths) {
    std::error_code ec;
    std::vector<fs::path> files;
    if (fs::is_directory(path, ec)) {
      for (fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
           !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().extension() == ".json") files.push_back(it->path());
      }
      if (ec) io_errors.push_back(io_error(path, "cannot read directory: " + ec.message()));
      std::sort(files.begin(), files.end());
    } else if (fs::exists(path, ec)) {
      files.emplace_back(path);
    } else {
      io_errors.push_back(io_error(path, "no such file or directory"));
      continue;
    }
    for (const auto& f : files) {
      auto text = read_text(f);
      if (!text) {
        io_errors.push_back(io_error(f.string(), text.error()));
        continue;
      }
      result.files.push_back(f.string());
      loader.add(*text, f.string());
    }
  }
  result.set = loader.finish();
  result.diagnostics = std::move(io_errors);
  result.diagnostics.insert(result.diagnostics.end(), loader.diagnostics().begin(), loader.diagnostics().end());
  return result;
}

}  // namespace jcorr::app
