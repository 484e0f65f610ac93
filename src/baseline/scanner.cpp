#include "jcorr/baseline/scanner.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "baseline/sha256.h"
#include "jcorr/baseline/accounts.h"
#include "jcorr/baseline/codes.h"
#include "jcorr/baseline/risk.h"
#include "jcorr/baseline/unit_file.h"
#include "jcorr/baseline/unit_name.h"
#include "jcorr/baseline/unit_settings.h"

namespace jcorr::baseline {
namespace {

// /etc/passwd and /etc/group may be far larger than a unit file on directory-backed hosts.
constexpr std::size_t kMaxAccountsFileSize = 16u << 20;

// True when bytes cannot be a unit file: NUL or control characters other than blanks.
bool looks_binary(std::string_view bytes) {
  return std::any_of(bytes.begin(), bytes.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v';
  });
}

bool ends_with(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }

struct DirSpec {
  std::string path;
  bool private_dir = false;  // belongs to one user (home, /run/user/UID)
};

struct ScopeSpec {
  std::string id;
  std::vector<DirSpec> dirs;
  bool user_scope = false;  // "user:NAME": keep only what the user's own directories touch
  std::string user;         // for user scopes
};

struct SearchDir {
  std::string path;
  bool private_dir = false;
  const std::vector<std::string>* names = nullptr;  // sorted listing

  bool has(std::string_view name) const { return std::binary_search(names->begin(), names->end(), name); }
};

struct Found {
  std::size_t dir = 0;  // index into the scope's SearchDirs
  std::string path;
};

struct Link {
  EnableLink link;
  bool private_dir = false;
};

struct Lookup {
  std::optional<Found> fragment;
  std::vector<std::string> shadowed;
  std::vector<Found> dropins;  // in application order
};

struct LoadedFile {
  FileRecord record;
  UnitFile parsed;
};

class Scanner {
 public:
  Scanner(const RootFs& fs, const ScanOptions& options) : fs_(fs), options_(options) {}

  Baseline run() {
    out_.root = fs_.root().string();
    load_lingering();
    if (options_.user_units) load_accounts();
    for (const ScopeSpec& scope : scopes()) scan_scope(scope);
    out_.canonicalize();
    return std::move(out_);
  }

 private:
  void problem(std::string_view code, std::string path, std::string message) {
    out_.problems.push_back(Problem{std::string(code), std::move(path), std::move(message)});
  }
  void problem(const FsError& error, std::string path) { problem(error.code, std::move(path), error.message); }

  // --- accounts and lingering ---------------------------------------------------------

  void load_lingering() {
    const auto names = fs_.list("/var/lib/systemd/linger", options_.max_dir_entries);
    if (!names) {
      if (names.error().code != codes::kFsNotFound) problem(names.error(), "/var/lib/systemd/linger");
      return;
    }
    for (const std::string& n : *names)
      if (!n.starts_with('.')) {
        lingering_.insert(n);
        out_.lingering.push_back(n);
      }
  }

  void load_accounts() {
    if (const auto group = fs_.read("/etc/group", kMaxAccountsFileSize)) parse_group(group->bytes, accounts_);
    const auto passwd = fs_.read("/etc/passwd", kMaxAccountsFileSize);
    if (passwd) {
      parse_passwd(passwd->bytes, accounts_);
      for (const Diagnostic& d : accounts_.diagnostics)
        problem(codes::kPasswdMalformed, "/etc/passwd", "line " + std::to_string(d.line) + ": " + d.message);
      return;
    }
    problem(codes::kPasswdUnavailable, "/etc/passwd",
            passwd.error().message + "; taking homes from /home/* and /root");
    if (const auto homes = fs_.list("/home", options_.max_dir_entries)) {
      for (const std::string& n : *homes) {
        const std::string home = join_path("/home", n);
        const auto info = fs_.stat(home);
        if (!n.starts_with('.') && info && info->type == FileType::kDirectory)
          accounts_.users.push_back(Account{n, std::nullopt, std::nullopt, home});
      }
    }
    if (const auto info = fs_.stat("/root"); info && info->type == FileType::kDirectory)
      accounts_.users.push_back(Account{"root", 0u, 0u, "/root"});
  }

  std::vector<ScopeSpec> scopes() {
    std::vector<ScopeSpec> out;
    ScopeSpec system{"system", {}, false, {}};
    for (const std::string& p : system_unit_paths()) system.dirs.push_back(DirSpec{p, false});
    out.push_back(std::move(system));
    if (!options_.user_units) return out;
    ScopeSpec global{"user", {}, false, {}};
    for (const std::string& p : global_user_unit_paths()) global.dirs.push_back(DirSpec{p, false});
    out.push_back(std::move(global));
    std::set<std::string> homes_seen;
    for (const Account& account : accounts_.users) {
      if (account.home.empty() || account.home.front() != '/') continue;
      const auto home = fs_.resolve(account.home);
      if (!home) {
        if (home.error().code != codes::kFsNotFound) problem(home.error(), account.home);
        continue;
      }
      // Accounts sharing a home (often system accounts) read the same files: scan it once.
      if (!homes_seen.insert(*home).second) continue;
      const std::string config = join_path(account.home, ".config/systemd/user");
      const std::string data = join_path(account.home, ".local/share/systemd/user");
      const std::string runtime = account.uid ? "/run/user/" + std::to_string(*account.uid) + "/systemd" : "";
      ScopeSpec scope{"user:" + account.name, {}, true, account.name};
      auto add = [&scope](std::string p, bool private_dir) {
        if (!p.empty()) scope.dirs.push_back(DirSpec{std::move(p), private_dir});
      };
      add(config + ".control", true);
      add(runtime.empty() ? "" : runtime + "/user.control", true);
      add(runtime.empty() ? "" : runtime + "/transient", true);
      add("/etc/xdg/systemd/user", false);
      add(config, true);
      add("/etc/systemd/user", false);
      add(runtime.empty() ? "" : runtime + "/user", true);
      add("/run/systemd/user", false);
      add(data, true);
      for (const char* p : {"/usr/local/share/systemd/user", "/usr/share/systemd/user", "/usr/local/lib/systemd/user",
                            "/usr/lib/systemd/user"})
        add(p, false);
      out.push_back(std::move(scope));
    }
    return out;
  }

  // --- directories and files ----------------------------------------------------------

  // Returns the sorted names in directory path, or nullptr when it does not exist or
  // cannot be read (reported, except for a missing path).
  const std::vector<std::string>* list_dir(const std::string& path, std::string* resolved_out = nullptr) {
    const auto resolved = fs_.resolve(path);
    if (!resolved) {
      if (resolved.error().code != codes::kFsNotFound) problem(resolved.error(), path);
      return nullptr;
    }
    if (resolved_out != nullptr) *resolved_out = *resolved;
    auto it = listings_.find(*resolved);
    if (it == listings_.end()) {
      auto names = fs_.list(*resolved, options_.max_dir_entries);
      if (!names) problem(names.error(), path);
      it = listings_.emplace(*resolved, names ? std::optional(std::move(*names)) : std::nullopt).first;
    }
    return it->second ? &*it->second : nullptr;
  }

  // True when path masks what it names: a symlink to /dev/null, a character device or
  // an empty regular file.
  bool is_masked(const std::string& path) {
    const auto link = fs_.stat(path, false);
    if (link && link->type == FileType::kSymlink) {
      const auto target = fs_.read_link(path);
      if (target && *target == "/dev/null") return true;
    }
    const auto info = fs_.stat(path, true);
    return info && (info->type == FileType::kCharDevice || (info->type == FileType::kRegular && info->size == 0));
  }

  // Reads, hashes and parses a unit file or drop-in of unit_name; nullptr when it was
  // skipped (and reported).
  const LoadedFile* load(const std::string& path, std::string_view unit_name) {
    const std::string key = path + '\n' + std::string(unit_type(unit_name));
    if (const auto it = files_.find(key); it != files_.end()) return it->second ? &*it->second : nullptr;
    auto& slot = files_[key];
    FileRecord record;
    record.path = path;
    const auto link = fs_.stat(path, false);
    if (!link) {
      problem(link.error(), path);
      return nullptr;
    }
    if (link->type == FileType::kSymlink) record.link_target = fs_.read_link(path).value_or(std::string());
    const auto content = fs_.read(path, options_.max_file_size);
    if (!content) {
      problem(content.error(), path);
      return nullptr;
    }
    if (looks_binary(content->bytes)) {
      problem(codes::kFsBinary, path, path + " contains NUL bytes or control characters; it is not a unit file");
      return nullptr;
    }
    const FileInfo& info = content->info;
    record.resolved = info.path;
    record.uid = info.uid;
    record.gid = info.gid;
    record.owner = accounts_.user_name(info.uid);
    record.group = accounts_.group_name(info.gid);
    record.mode = info.mode;
    record.mtime = info.mtime;
    record.size = info.size;
    record.sha256 = sha256_hex(content->bytes);
    slot = LoadedFile{std::move(record),
                      parse_unit_file(content->bytes, unit_sections_for(unit_name), options_.max_file_size)};
    return &*slot;
  }

  const std::optional<FileInfo>& dir_info(const std::string& path) {
    auto it = dir_infos_.find(path);
    if (it == dir_infos_.end()) {
      auto info = fs_.stat(path);
      it = dir_infos_.emplace(path, info ? std::optional(std::move(*info)) : std::nullopt).first;
    }
    return it->second;
  }

  // --- one scope ----------------------------------------------------------------------

  void scan_scope(const ScopeSpec& scope) {
    std::vector<SearchDir> dirs;
    std::set<std::string> seen;
    for (const DirSpec& d : scope.dirs) {
      std::string resolved;
      const std::vector<std::string>* names = list_dir(d.path, &resolved);
      if (names == nullptr || !seen.insert(resolved).second) continue;
      dirs.push_back(SearchDir{d.path, d.private_dir, names});
    }
    std::map<std::string, std::vector<Found>> files;
    std::map<std::string, std::vector<Link>> links;
    for (std::size_t i = 0; i < dirs.size(); ++i) {
      for (const std::string& name : *dirs[i].names) {
        if (is_valid_unit_name(name) && (unit_type(name) == "timer" || unit_type(name) == "service"))
          files[name].push_back(Found{i, join_path(dirs[i].path, name)});
        for (const std::string_view kind : {"wants", "requires", "upholds"}) {
          const std::string suffix = "." + std::string(kind);
          if (!ends_with(name, suffix) || !is_valid_unit_name(name.substr(0, name.size() - suffix.size()))) continue;
          const std::string sub = join_path(dirs[i].path, name);
          const std::vector<std::string>* entries = list_dir(sub);
          if (entries == nullptr) continue;
          for (const std::string& e : *entries) {
            if (!is_valid_unit_name(e) || (unit_type(e) != "timer" && unit_type(e) != "service")) continue;
            const std::string path = join_path(sub, e);
            links[e].push_back(Link{EnableLink{path, fs_.read_link(path).value_or(std::string()),
                                               name.substr(0, name.size() - suffix.size()), std::string(kind)},
                                    dirs[i].private_dir});
          }
        }
      }
    }
    std::set<std::string> timers;
    for (const auto& [name, found] : files)
      if (unit_type(name) == "timer") timers.insert(name);
    for (const auto& [name, found] : links)
      if (unit_type(name) == "timer") timers.insert(name);

    std::map<std::string, UnitRecord> services;
    for (const std::string& timer : timers) {
      const Lookup look = lookup(timer, dirs, files);
      const std::vector<Link>& timer_links = links[timer];
      if (scope.user_scope && !touches_private(look, timer_links, dirs)) continue;
      std::optional<UnitRecord> record = build(timer, look, timer_links, dirs, scope);
      if (!record) continue;
      if (record->state == "loaded" || record->state == "bad-setting") {
        const auto unit_value = record->directives.find("Unit");
        record->triggers = paired_service_name(
            timer, unit_value == record->directives.end() ? std::string() : unit_value->second.back());
        const std::string& service = record->triggers;
        if (is_valid_unit_name(service) && unit_type(service) != "timer") {
          auto it = services.find(service);
          if (it == services.end()) {
            auto built = build(service, lookup(service, dirs, files), links[service], dirs, scope);
            if (built) it = services.emplace(service, std::move(*built)).first;
          }
          if (it != services.end()) it->second.triggered_by.push_back(timer);
        }
      }
      out_.units.push_back(std::move(*record));
    }
    for (auto& [name, record] : services) out_.units.push_back(std::move(record));
  }

  Lookup lookup(const std::string& name, const std::vector<SearchDir>& dirs,
                const std::map<std::string, std::vector<Found>>& files) {
    Lookup look;
    auto find = [&](const std::string& n) {
      const auto it = files.find(n);
      if (it == files.end()) return false;
      look.fragment = it->second.front();
      for (std::size_t k = 1; k < it->second.size(); ++k) look.shadowed.push_back(it->second[k].path);
      return true;
    };
    if (!find(name) && is_instance(name)) find(template_of(name));
    // The drop-in directories in systemd's order; the first file of a name wins.
    std::vector<Found> dropin_dirs;
    const std::vector<std::string> names = dropin_names(name);
    for (std::size_t i = 0; i < dirs.size(); ++i)
      for (const std::string& n : names)
        if (dirs[i].has(n + ".d")) dropin_dirs.push_back(Found{i, join_path(dirs[i].path, n + ".d")});
    const std::string type_dir = std::string(unit_type(name)) + ".d";
    for (std::size_t i = 0; i < dirs.size(); ++i)
      if (dirs[i].has(type_dir)) dropin_dirs.push_back(Found{i, join_path(dirs[i].path, type_dir)});
    std::map<std::string, Found> by_name;
    for (const Found& d : dropin_dirs) {
      const std::vector<std::string>* entries = list_dir(d.path);
      if (entries == nullptr) continue;
      for (const std::string& e : *entries)
        if (!e.starts_with('.') && ends_with(e, ".conf")) by_name.emplace(e, Found{d.dir, join_path(d.path, e)});
    }
    for (auto& [file_name, found] : by_name) look.dropins.push_back(std::move(found));
    return look;
  }

  static bool touches_private(const Lookup& look, const std::vector<Link>& links, const std::vector<SearchDir>& dirs) {
    if (look.fragment && dirs[look.fragment->dir].private_dir) return true;
    if (std::any_of(look.dropins.begin(), look.dropins.end(), [&](const Found& f) { return dirs[f.dir].private_dir; }))
      return true;
    return std::any_of(links.begin(), links.end(), [](const Link& l) { return l.private_dir; });
  }

  std::optional<UnitRecord> build(const std::string& name, const Lookup& look, const std::vector<Link>& links,
                                  const std::vector<SearchDir>& dirs, const ScopeSpec& scope) {
    UnitRecord u;
    u.scope = scope.id;
    u.name = name;
    u.type = std::string(unit_type(name));
    u.shadowed = look.shadowed;
    for (const Link& l : links) u.enabled_by.push_back(l.link);
    if (!look.fragment) {
      u.state = "not-found";
      return u;
    }
    if (is_masked(look.fragment->path)) {
      u.state = "masked";
      u.masked_by = look.fragment->path;
      return u;
    }
    const LoadedFile* fragment = load(look.fragment->path, name);
    if (fragment == nullptr) return std::nullopt;
    UnitSettings settings(name);
    bool refused = false;
    auto apply = [&](const LoadedFile& file, const Found& found) {
      settings.apply(file.parsed, found.path);
      refused = refused || !file.parsed.loadable;
      for (Diagnostic d : file.parsed.diagnostics) {
        d.path = found.path;
        u.diagnostics.push_back(std::move(d));
      }
      add_access_risks(u, file.record, !dirs[found.dir].private_dir);
    };
    u.fragment = fragment->record;
    apply(*fragment, *look.fragment);
    for (const Found& d : look.dropins) {
      if (is_masked(d.path)) continue;
      const LoadedFile* dropin = load(d.path, name);
      if (dropin == nullptr) continue;
      u.dropins.push_back(dropin->record);
      apply(*dropin, d);
    }
    u.directives = settings.directives();
    u.exec = settings.commands(u.diagnostics, refused);
    u.state = refused ? "bad-setting" : "loaded";
    if (u.type == "timer") {
      check_triggers(u, settings);
      for (Risk& r : assess_schedule(u.directives, options_.frequent_timer_usec)) u.risks.push_back(std::move(r));
      add_linger_risk(u, scope);
    }
    const std::string working_directory = settings.last("WorkingDirectory").value_or(std::string());
    for (const auto& [directive, commands] : u.exec)
      for (const ExecCommand& c : commands)
        for (Risk& r : assess_command(directive, c, working_directory)) u.risks.push_back(std::move(r));
    return u;
  }

  void check_triggers(UnitRecord& u, const UnitSettings& settings) {
    for (const Setting& s : settings.entries("OnCalendar")) {
      std::string why;
      if (!parse_calendar(s.value, &why))
        u.diagnostics.push_back(Diagnostic{s.path, s.line, Severity::kWarning, std::string(codes::kCalendarUnparsed),
                                           "cannot evaluate OnCalendar=" + s.value + ": " + why});
    }
    for (const char* key : {"OnBootSec", "OnStartupSec", "OnActiveSec", "OnUnitActiveSec", "OnUnitInactiveSec",
                            "RandomizedDelaySec"}) {
      for (const Setting& s : settings.entries(key))
        if (!parse_time_span_usec(s.value))
          u.diagnostics.push_back(Diagnostic{s.path, s.line, Severity::kWarning, std::string(codes::kTimeSpanInvalid),
                                             std::string(key) + "=" + s.value + " is not a time span; systemd ignores it"});
    }
  }

  void add_linger_risk(UnitRecord& u, const ScopeSpec& scope) {
    if (scope.user_scope && lingering_.contains(scope.user)) {
      u.risks.push_back(Risk{std::string(codes::kRiskLingering),
                             "user " + scope.user + " has lingering enabled (/var/lib/systemd/linger/" + scope.user +
                                 "): the timer runs without a login"});
    } else if (scope.id == "user" && !lingering_.empty() && !u.enabled_by.empty()) {
      std::string users;
      for (const std::string& n : lingering_) users += (users.empty() ? "" : ", ") + n;
      u.risks.push_back(Risk{std::string(codes::kRiskLingering),
                             "enabled for every user manager, and lingering users (" + users +
                                 ") run it without a login"});
    }
  }

  void add_access_risks(UnitRecord& u, const FileRecord& file, bool system_path) {
    auto add = [&](const FileAccess& access) {
      for (Risk& r : assess_access(access, system_path)) u.risks.push_back(std::move(r));
    };
    add(FileAccess{file.resolved, file.uid, file.gid, file.mode, false, file.owner, file.group});
    std::set<std::string> dirs{parent_path(file.resolved)};
    if (file.path != file.resolved) dirs.insert(parent_path(file.path));
    for (const std::string& d : dirs) {
      const std::optional<FileInfo>& info = dir_info(d);
      if (!info) continue;
      add(FileAccess{info->path, info->uid, info->gid, info->mode, true, accounts_.user_name(info->uid),
                     accounts_.group_name(info->gid)});
    }
  }

  const RootFs& fs_;
  ScanOptions options_;
  Baseline out_;
  Accounts accounts_;
  std::set<std::string> lingering_;
  std::map<std::string, std::optional<std::vector<std::string>>> listings_;  // by resolved path
  std::map<std::string, std::optional<LoadedFile>> files_;                    // by path and unit type
  std::map<std::string, std::optional<FileInfo>> dir_infos_;
};

}  // namespace

const std::vector<std::string>& system_unit_paths() {
  static const std::vector<std::string> kPaths = {
      "/etc/systemd/system.control", "/run/systemd/system.control",   "/run/systemd/transient",
      "/run/systemd/generator.early", "/etc/systemd/system",          "/etc/systemd/system.attached",
      "/run/systemd/system",          "/run/systemd/system.attached", "/run/systemd/generator",
      "/usr/local/lib/systemd/system", "/usr/lib/systemd/system",     "/lib/systemd/system",
      "/run/systemd/generator.late"};
  return kPaths;
}

const std::vector<std::string>& global_user_unit_paths() {
  static const std::vector<std::string> kPaths = {
      "/etc/xdg/systemd/user",         "/etc/systemd/user",       "/run/systemd/user",
      "/usr/local/share/systemd/user", "/usr/share/systemd/user", "/usr/local/lib/systemd/user",
      "/usr/lib/systemd/user"};
  return kPaths;
}

Baseline scan(const RootFs& fs, const ScanOptions& options) { return Scanner(fs, options).run(); }

Baseline scan(const std::filesystem::path& root, const ScanOptions& options) {
  auto fs = RootFs::open(root);
  if (!fs) {
    Baseline b;
    b.root = root.string();
    b.problems.push_back(Problem{fs.error().code, "/", fs.error().message});
    return b;
  }
  return scan(*fs, options);
}

}  // namespace jcorr::baseline
