#include "jcorr/baseline/risk.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <span>
#include <utility>

#include "jcorr/baseline/codes.h"
#include "jcorr/baseline/timer_schedule.h"

namespace jcorr::baseline {
namespace {

// Nesting of shell code inside shell code (sh -c "bash -c '…'") followed at most.
constexpr int kMaxDepth = 6;

std::string_view basename_of(std::string_view word) {
  const auto slash = word.rfind('/');
  return slash == std::string_view::npos ? word : word.substr(slash + 1);
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <std::size_t N>
bool one_of(std::string_view word, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), word) != set.end();
}

constexpr std::array<std::string_view, 14> kShells = {"sh",  "bash", "dash", "zsh",  "ksh",  "mksh", "ash",
                                                       "fish", "csh", "tcsh", "yash", "posh", "rbash", "busybox"};
constexpr std::array<std::string_view, 10> kDownloaders = {"curl",         "wget",        "wget2", "aria2c", "fetch",
                                                           "lwp-download", "lwp-request", "GET",   "axel",   "tftp"};
constexpr std::array<std::string_view, 7> kNetcats = {"nc",     "ncat",         "netcat", "nc.traditional",
                                                      "nc.openbsd", "telnet", "socat"};

bool is_versioned(std::string_view name, std::string_view stem) {
  if (!name.starts_with(stem)) return false;
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(stem.size()), name.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

// The language of a script interpreter, or empty.
std::string_view interpreter_language(std::string_view name) {
  if (is_versioned(name, "python") || is_versioned(name, "pypy")) return "python";
  if (is_versioned(name, "perl")) return "perl";
  if (is_versioned(name, "ruby")) return "ruby";
  if (is_versioned(name, "php")) return "php";
  if (name == "node" || name == "nodejs") return "node";
  if (is_versioned(name, "lua")) return "lua";
  if (name == "pwsh" || name == "powershell") return "powershell";
  return {};
}

bool is_assignment(std::string_view word) {
  const auto eq = word.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  if (std::isdigit(static_cast<unsigned char>(word[0]))) return false;
  return std::all_of(word.begin(), word.begin() + static_cast<std::ptrdiff_t>(eq),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 120;
  std::string out(text.substr(0, kMax));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  if (text.size() > kMax) out += "…";
  return out;
}

std::string join(std::span<const std::string> words) {
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// --- a small shell reader: enough structure to find command positions and pipelines ---

struct ShellCommand {
  std::vector<std::string> words;
  std::vector<std::string> redirects;      // redirection targets (> x, 2>&1, < y)
  std::vector<std::string> substitutions;  // inner text of $(…), `…`, <(…) and >(…)
};
using Pipeline = std::vector<ShellCommand>;

class ShellReader {
 public:
  explicit ShellReader(std::string_view text) : t_(text) {}

  std::vector<Pipeline> read() {
    while (i_ < t_.size()) step();
    end_pipeline();
    return std::move(out_);
  }

 private:
  char at(std::size_t k) const { return k < t_.size() ? t_[k] : '\0'; }

  void end_word() {
    if (!in_word_) return;
    if (redirect_pending_)
      command_.redirects.push_back(std::move(word_));
    else
      command_.words.push_back(std::move(word_));
    word_.clear();
    in_word_ = false;
    redirect_pending_ = false;
  }
  void end_command() {
    end_word();
    redirect_pending_ = false;
    if (!command_.words.empty() || !command_.redirects.empty() || !command_.substitutions.empty())
      pipeline_.push_back(std::move(command_));
    command_ = {};
  }
  void end_pipeline() {
    end_command();
    if (!pipeline_.empty()) out_.push_back(std::move(pipeline_));
    pipeline_ = {};
  }

  // Reads from i_ (just after an opening parenthesis) to the matching ')'.
  std::string capture_parens() {
    const std::size_t start = i_;
    int depth = 1;
    while (i_ < t_.size()) {
      const char c = t_[i_];
      if (c == '\\') {
        i_ += 2;
      } else if (c == '\'' || c == '"') {
        const auto close = t_.find(c, i_ + 1);
        i_ = close == std::string_view::npos ? t_.size() : close + 1;
      } else if (c == '(') {
        ++depth;
        ++i_;
      } else if (c == ')') {
        if (--depth == 0) {
          std::string inner(t_.substr(start, i_ - start));
          ++i_;
          return inner;
        }
        ++i_;
      } else {
        ++i_;
      }
    }
    return std::string(t_.substr(std::min(start, t_.size())));
  }

  // Reads from i_ (just after an opening backquote) to the closing one.
  std::string capture_backquote() {
    std::string inner;
    while (i_ < t_.size() && t_[i_] != '`') {
      if (t_[i_] == '\\' && i_ + 1 < t_.size()) ++i_;
      inner += t_[i_++];
    }
    ++i_;
    return inner;
  }

  void substitution(std::string inner, std::string_view placeholder) {
    command_.substitutions.push_back(std::move(inner));
    word_ += placeholder;
    in_word_ = true;
  }

  void step() {
    const char c = t_[i_];
    const char next = at(i_ + 1);
    if (c == ' ' || c == '\t') {
      end_word();
      ++i_;
    } else if (c == '\n' || c == ';') {
      end_pipeline();
      ++i_;
    } else if (c == '&') {
      if (next == '>') {  // &> and &>>: a redirection of both streams
        end_word();
        i_ += at(i_ + 2) == '>' ? 3u : 2u;
        redirect_pending_ = true;
        return;
      }
      end_pipeline();
      i_ += next == '&' ? 2u : 1u;
    } else if (c == '|') {
      if (next == '|') {
        end_pipeline();
        i_ += 2;
      } else {
        end_command();
        i_ += next == '&' ? 2u : 1u;
      }
    } else if (c == '(' || c == ')') {
      end_command();
      ++i_;
    } else if ((c == '<' || c == '>') && next == '(') {
      end_word();
      i_ += 2;
      substitution(capture_parens(), "/dev/fd/63");
      end_word();
    } else if (c == '<' || c == '>') {
      if (in_word_ && !word_.empty() &&
          std::all_of(word_.begin(), word_.end(), [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
        word_.clear();  // "2>": the digits name a descriptor, not an argument
        in_word_ = false;
      }
      end_word();
      ++i_;
      while (i_ < t_.size() && (t_[i_] == '<' || t_[i_] == '>' || t_[i_] == '&' || t_[i_] == '|')) ++i_;
      redirect_pending_ = true;
    } else if (c == '\\') {
      if (next == '\n') {
        i_ += 2;
      } else {
        if (i_ + 1 < t_.size()) word_ += next;
        in_word_ = true;
        i_ += 2;
      }
    } else if (c == '\'') {
      const auto close = t_.find('\'', i_ + 1);
      const std::size_t end = close == std::string_view::npos ? t_.size() : close;
      word_ += t_.substr(i_ + 1, end - i_ - 1);
      in_word_ = true;
      i_ = end + 1;
    } else if (c == '"') {
      in_word_ = true;
      ++i_;
      while (i_ < t_.size() && t_[i_] != '"') {
        const char d = t_[i_];
        if (d == '\\' && i_ + 1 < t_.size() && std::string_view("\"\\$`\n").find(t_[i_ + 1]) != std::string_view::npos) {
          if (t_[i_ + 1] != '\n') word_ += t_[i_ + 1];
          i_ += 2;
        } else if (d == '$' && at(i_ + 1) == '(') {
          i_ += 2;
          substitution(capture_parens(), "$(…)");
        } else if (d == '`') {
          ++i_;
          substitution(capture_backquote(), "$(…)");
        } else {
          word_ += d;
          ++i_;
        }
      }
      ++i_;
    } else if (c == '$' && next == '(') {
      i_ += 2;
      substitution(capture_parens(), "$(…)");
    } else if (c == '`') {
      ++i_;
      substitution(capture_backquote(), "$(…)");
    } else if (c == '#' && !in_word_) {
      while (i_ < t_.size() && t_[i_] != '\n') ++i_;
    } else {
      word_ += c;
      in_word_ = true;
      ++i_;
    }
  }

  std::string_view t_;
  std::size_t i_ = 0;
  std::string word_;
  bool in_word_ = false;
  bool redirect_pending_ = false;
  ShellCommand command_;
  Pipeline pipeline_;
  std::vector<Pipeline> out_;
};

// What one simple command is, for the pipeline rules.
struct Summary {
  std::string name;          // the command's base name
  bool downloader = false;   // curl, wget, … (or shell code containing one)
  bool interpreter = false;  // a shell or script interpreter
  bool decoder = false;      // base64 -d and friends
  bool network = false;      // nc, ncat, socat, telnet
  bool fifo = false;         // mkfifo
};

class Analyzer {
 public:
  Analyzer(std::string_view directive, std::string_view working_directory, std::vector<Risk>& out)
      : directive_(directive), out_(out) {
    std::string_view wd = working_directory;
    if (wd.starts_with('-')) wd.remove_prefix(1);
    working_directory_ = std::string(wd);
  }

  // Analyses one simple command given as words; substituted_download tells that one of
  // its $(…)/<(…) runs a downloader.
  Summary command(std::span<const std::string> words, int depth, bool substituted_download) {
    Summary s;
    if (depth > kMaxDepth || words.empty()) return s;
    std::vector<const std::string*> outer = std::exchange(code_words_, {});
    s = analyse_command(words, depth, substituted_download);
    const std::vector<const std::string*> mine = std::exchange(code_words_, std::move(outer));
    // Shell code handed to an interpreter was searched on its own; do not flag it twice.
    for (const std::string& w : words)
      if (std::find(mine.begin(), mine.end(), &w) == mine.end()) check_dev_tcp(w);
    return s;
  }

  // Analyses shell code; the summary's downloader tells whether any command in it downloads.
  Summary shell(std::string_view text, int depth) {
    Summary total;
    if (depth > kMaxDepth) return total;
    bool fifo = false;
    bool network = false;
    for (const Pipeline& pipeline : ShellReader(text).read()) {
      std::vector<Summary> parts;
      for (const ShellCommand& c : pipeline) {
        bool substituted_download = false;
        for (const std::string& sub : c.substitutions) substituted_download |= shell(sub, depth + 1).downloader;
        for (const std::string& r : c.redirects) check_dev_tcp(r);
        parts.push_back(command(c.words, depth, substituted_download));
        total.downloader = total.downloader || parts.back().downloader || substituted_download;
        fifo = fifo || parts.back().fifo;
        network = network || parts.back().network;
      }
      for (std::size_t a = 0; a < parts.size(); ++a) {
        for (std::size_t b = a + 1; b < parts.size(); ++b) {
          if (parts[a].downloader && parts[b].interpreter)
            add(codes::kRiskDownloadAndRun, "pipes a download (" + parts[a].name + ") into " + parts[b].name);
          if (parts[a].decoder && parts[b].interpreter)
            add(codes::kRiskEncoded, "pipes decoded data (" + parts[a].name + ") into " + parts[b].name);
        }
        for (std::size_t b = 0; b < parts.size(); ++b) {
          if (a != b && parts[a].network && parts[b].interpreter)
            add(codes::kRiskReverseShell,
                "connects " + parts[a].name + " and " + parts[b].name + " in one pipeline: " + excerpt(text));
        }
      }
    }
    if (fifo && network) add(codes::kRiskReverseShell, "combines mkfifo with a network client: " + excerpt(text));
    return total;
  }

 private:
  // command() without the /dev/tcp check of its words.
  Summary analyse_command(std::span<const std::string> words, int depth, bool substituted_download) {
    Summary s;
    std::size_t i = 0;
    while (i < words.size() && is_assignment(words[i])) ++i;
    if (!unwrap(words, i, depth, s)) return s;
    if (i >= words.size()) return s;
    const std::string& exe = words[i];
    check_path(exe, "executable");
    const std::string_view name = basename_of(exe);
    s.name = std::string(name);
    const std::span<const std::string> args = words.subspan(i + 1);
    const std::string_view language = interpreter_language(name);
    if (one_of(name, kShells)) {
      s.interpreter = true;
      shell_arguments(name, args, depth);
    } else if (!language.empty()) {
      s.interpreter = true;
      interpreter_arguments(language, args);
    } else if (one_of(name, kDownloaders)) {
      s.downloader = true;
    } else if (name == "base64" || name == "basenc") {
      for (const std::string& a : args)
        if (a == "--decode" || (a.size() > 1 && a[0] == '-' && a[1] != '-' && (contains(a, "d") || contains(a, "D"))))
          s.decoder = true;
      if (s.decoder) add(codes::kRiskEncoded, "decodes base64 (" + excerpt(join(words.subspan(i))) + ")");
    } else if (name == "openssl") {
      const bool decode = std::find(args.begin(), args.end(), "-d") != args.end();
      const bool base64 = std::any_of(args.begin(), args.end(),
                                      [](const std::string& a) { return a == "base64" || a == "-a" || a == "-base64"; });
      if (decode && base64) {
        s.decoder = true;
        add(codes::kRiskEncoded, "decodes base64 with openssl (" + excerpt(join(words.subspan(i))) + ")");
      }
    } else if (name == "xxd" || name == "uudecode") {
      if (name == "uudecode" || std::find(args.begin(), args.end(), "-r") != args.end()) {
        s.decoder = true;
        add(codes::kRiskEncoded, "decodes an encoded payload with " + s.name);
      }
    } else if (one_of(name, kNetcats)) {
      s.network = true;
      for (const std::string& a : args) {
        const std::string l = lower(a);
        if (name == "socat" ? (contains(l, "exec:") || contains(l, "system:"))
                            : (a == "-e" || a == "-c" || a.starts_with("--exec") || a.starts_with("--sh-exec") ||
                               a.starts_with("--lua-exec"))) {
          add(codes::kRiskReverseShell, s.name + " attaches a program to a network connection (" +
                                            excerpt(join(words.subspan(i))) + ")");
          break;
        }
      }
    } else if (name == "mkfifo") {
      s.fifo = true;
    } else if (name == "eval") {
      const Summary inner = shell(join(args), depth + 1);
      s.downloader = inner.downloader;
    } else if (name == "." || name == "source") {
      s.interpreter = true;
      if (!args.empty()) check_path(args[0], "script");
    }
    const bool runs_substitution = exe.starts_with("$(") || exe.starts_with("/dev/fd/");
    if (substituted_download && (s.interpreter || runs_substitution || name == "eval"))
      add(codes::kRiskDownloadAndRun, "runs downloaded code (" + excerpt(join(words.subspan(i))) + ")");
    return s;
  }

  void add(std::string_view code, std::string reason) {
    out_.push_back(Risk{std::string(code), directive_ + " " + std::move(reason)});
  }

  void check_dev_tcp(std::string_view word) {
    if (contains(word, "/dev/tcp/") || contains(word, "/dev/udp/"))
      add(codes::kRiskReverseShell, "opens a network connection through bash's /dev/tcp: " + excerpt(word));
  }

  // Steps i over wrappers that run the rest of their arguments as a command (env, nohup,
  // sudo, timeout, …). Returns false when the wrapper ran shell code handled here.
  bool unwrap(std::span<const std::string> words, std::size_t& i, int depth, Summary& s) {
    static constexpr std::array<std::string_view, 20> kWrappers = {
        "nohup", "setsid", "exec",   "command", "builtin", "time",    "chronic", "unbuffer", "nice",  "ionice",
        "stdbuf", "sudo",  "doas",   "runuser", "timeout", "systemd-cat", "xargs", "chroot", "taskset", "env"};
    while (i < words.size()) {
      const std::string_view name = basename_of(words[i]);
      if (name == "busybox" && i + 1 < words.size() && !words[i + 1].starts_with('-')) {
        ++i;  // "busybox wget …": the next word is the applet
        continue;
      }
      if (name == "su" || name == "flock") {
        for (std::size_t j = i + 1; j < words.size(); ++j) {
          const std::string& w = words[j];
          if ((w == "-c" || w == "--command") && j + 1 < words.size()) {
            code_words_.push_back(&words[j + 1]);
            s.downloader = shell(words[j + 1], depth + 1).downloader;
            return false;
          }
          if (w.starts_with("--command=")) {
            code_words_.push_back(&w);
            s.downloader = shell(std::string_view(w).substr(10), depth + 1).downloader;
            return false;
          }
        }
        if (name == "su") return false;
        // flock [options] FILE COMMAND…
        ++i;
        while (i < words.size() && words[i].starts_with('-')) i += (words[i] == "-w" || words[i] == "-E") ? 2u : 1u;
        ++i;
        continue;
      }
      if (!one_of(name, kWrappers)) return true;
      ++i;
      while (i < words.size() && words[i].size() > 1 && words[i][0] == '-') {
        const std::string& w = words[i];
        if (w == "--") {
          ++i;
          break;
        }
        if (name == "env" && (w == "-S" || w == "--split-string") && i + 1 < words.size()) {
          code_words_.push_back(&words[i + 1]);
          s.downloader = shell(words[i + 1], depth + 1).downloader;
          return false;
        }
        static constexpr std::array<std::string_view, 14> kWithArgument = {
            "-u", "-g", "-C", "-D", "-n", "-c", "-s", "-k", "-p", "-t", "-I", "-P", "-d", "-G"};
        const bool takes_argument = one_of(std::string_view(w), kWithArgument) && name != "nohup";
        i += takes_argument ? 2u : 1u;
      }
      if (name == "env")
        while (i < words.size() && is_assignment(words[i])) ++i;
      if ((name == "timeout" || name == "chroot" || name == "taskset") && i < words.size()) ++i;
    }
    return true;
  }

  void shell_arguments(std::string_view name, std::span<const std::string> args, int depth) {
    bool command_string = false;
    std::size_t j = 0;
    for (; j < args.size(); ++j) {
      const std::string& w = args[j];
      if (w == "--") {
        ++j;
        break;
      }
      if (w.size() < 2 || (w[0] != '-' && w[0] != '+')) break;
      if (w[0] == '-' && w[1] != '-' && contains(w, "c")) command_string = true;
      if (w == "-o" || w == "+o" || w == "-O" || w == "+O") ++j;
    }
    if (name == "busybox") return;
    if (j >= args.size()) return;
    if (command_string) {
      code_words_.push_back(&args[j]);
      shell(args[j], depth + 1);
    } else {
      check_path(args[j], "script");
    }
  }

  void interpreter_arguments(std::string_view language, std::span<const std::string> args) {
    for (std::size_t j = 0; j < args.size(); ++j) {
      const std::string& w = args[j];
      const bool code_flag =
          (language == "python" && w == "-c") || ((language == "perl") && (w == "-e" || w == "-E")) ||
          (language == "ruby" && w == "-e") || (language == "php" && w == "-r") ||
          (language == "node" && (w == "-e" || w == "--eval" || w == "-p" || w == "--print")) ||
          (language == "lua" && w == "-e") ||
          (language == "powershell" && (lower(w) == "-c" || lower(w) == "-command"));
      if (language == "powershell" && (lower(w) == "-enc" || lower(w) == "-e" || lower(w) == "-encodedcommand")) {
        add(codes::kRiskEncoded, "runs an encoded PowerShell command");
        return;
      }
      if (code_flag) {
        if (j + 1 < args.size()) check_code(language, args[j + 1]);
        return;
      }
      if (language == "python" && w == "-m") return;
      if (w.starts_with('-')) continue;
      check_path(w, "script");
      return;
    }
  }

  void check_code(std::string_view language, std::string_view code) {
    const std::string l = lower(code);
    const auto any = [&l](std::initializer_list<std::string_view> needles) {
      return std::any_of(needles.begin(), needles.end(), [&l](std::string_view n) { return contains(l, n); });
    };
    const std::string what = std::string(language) + " code";
    if (any({"b64decode", "base64", "decode_base64", "base64_decode", "unpack('m", "unpack(\"m", "zlib.decompress",
             "marshal.loads", "codecs.decode", "fromcharcode", "frombase64string"}))
      add(codes::kRiskEncoded, "runs " + what + " that decodes a payload: " + excerpt(code));
    else if (language == "python" && any({"exec(", "eval("}))
      add(codes::kRiskEncoded, "runs " + what + " through exec/eval: " + excerpt(code));
    const bool socket = any({"socket", "fsockopen", "tcpsocket", "net.connect", "net.socket"});
    const bool spawn = any({"subprocess", "pty.spawn", "dup2", "exec", "system(", "spawn", "popen", "proc_open",
                            "child_process", "/bin/sh", "/bin/bash"});
    if (socket && spawn) add(codes::kRiskReverseShell, "runs " + what + " that connects a socket to a shell: " + excerpt(code));
    if (any({"urlopen", "urllib", "requests.get", "lwp::simple", "net::http", "file_get_contents('http",
             "file_get_contents(\"http", "http.get", "invoke-webrequest", "downloadstring"}) &&
        any({"exec(", "eval(", "eval ", "invoke-expression", "iex"}))
      add(codes::kRiskDownloadAndRun, "runs " + what + " that downloads and evaluates code: " + excerpt(code));
  }

  // Flags path when it names something in a temporary directory or with a hidden
  // component. Bare names (PATH lookups) are not paths.
  void check_path(std::string_view word, std::string_view role) {
    std::string p;
    for (std::size_t k = 0; k < word.size(); ++k) {
      if (word[k] == '%' && k + 1 < word.size() && (word[k + 1] == 'T' || word[k + 1] == 'V')) {
        p += word[k + 1] == 'T' ? "/tmp" : "/var/tmp";  // systemd's temporary-directory specifiers
        ++k;
      } else {
        p += word[k];
      }
    }
    if (p.find('/') == std::string::npos || p.starts_with("$(") || p.starts_with("/dev/fd/")) return;
    if (p[0] != '/' && p[0] != '~' && !working_directory_.empty() && working_directory_[0] == '/')
      p = working_directory_ + "/" + p;
    std::vector<std::string_view> parts;
    std::string_view rest = p;
    while (!rest.empty()) {
      const auto slash = rest.find('/');
      const std::string_view c = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
      if (c.empty() || c == ".") continue;
      if (c == "..") {
        if (!parts.empty()) parts.pop_back();
        continue;
      }
      parts.push_back(c);
    }
    const bool absolute = p[0] == '/';
    const bool in_temp = absolute && ((parts.size() >= 2 && parts[0] == "tmp") ||
                                      (parts.size() >= 3 && parts[0] == "var" && parts[1] == "tmp") ||
                                      (parts.size() >= 3 && parts[0] == "dev" && parts[1] == "shm"));
    if (in_temp)
      add(codes::kRiskTempPath, "runs " + std::string(role) + " " + excerpt(word) + " from a temporary directory");
    for (const std::string_view c : parts) {
      if (c.size() > 1 && c[0] == '.') {
        add(codes::kRiskHiddenPath, "runs " + std::string(role) + " " + excerpt(word) + " with a hidden path component '" +
                                        std::string(c) + "'");
        break;
      }
    }
  }

  std::string directive_;
  std::string working_directory_;
  std::vector<Risk>& out_;
  std::vector<const std::string*> code_words_;  // words of the current command read as shell code
};

void sort_unique(std::vector<Risk>& risks) {
  std::sort(risks.begin(), risks.end());
  risks.erase(std::unique(risks.begin(), risks.end()), risks.end());
}

}  // namespace

std::vector<Risk> assess_command(std::string_view directive, const ExecCommand& command,
                                 std::string_view working_directory) {
  std::vector<Risk> risks;
  std::vector<std::string> words;
  words.push_back(command.path);
  // With "@" argv[0] is only a name; the executable is command.path either way.
  for (std::size_t i = 1; i < command.argv.size(); ++i) words.push_back(command.argv[i]);
  Analyzer(directive, working_directory, risks).command(words, 0, false);
  sort_unique(risks);
  return risks;
}

std::vector<Risk> assess_schedule(const std::map<std::string, std::vector<std::string>>& directives,
                                  std::uint64_t threshold_usec) {
  std::vector<Risk> risks;
  const std::string limit = format_time_span(threshold_usec);
  if (const auto it = directives.find("OnCalendar"); it != directives.end()) {
    for (const std::string& value : it->second) {
      const auto spec = parse_calendar(value);
      if (spec && spec->min_interval_usec && *spec->min_interval_usec < threshold_usec)
        risks.push_back(Risk{std::string(codes::kRiskFrequentTimer),
                             "OnCalendar=" + value + " fires every " + format_time_span(*spec->min_interval_usec) +
                                 ", more often than every " + limit});
    }
  }
  for (const std::string_view key : {"OnUnitActiveSec", "OnUnitInactiveSec"}) {
    const auto it = directives.find(std::string(key));
    if (it == directives.end()) continue;
    for (const std::string& value : it->second) {
      const auto span = parse_time_span_usec(value);
      if (span && *span < threshold_usec)
        risks.push_back(Risk{std::string(codes::kRiskFrequentTimer),
                             std::string(key) + "=" + value + " repeats every " + format_time_span(*span) +
                                 ", more often than every " + limit});
    }
  }
  sort_unique(risks);
  return risks;
}

std::vector<Risk> assess_access(const FileAccess& access, bool system_path) {
  std::vector<Risk> risks;
  const std::string what = std::string(access.directory ? "directory " : "unit file ") + access.path;
  const std::string owner =
      "uid " + std::to_string(access.uid) + (access.owner.empty() ? "" : " (" + access.owner + ")");
  const std::string group =
      "gid " + std::to_string(access.gid) + (access.group.empty() ? "" : " (" + access.group + ")");
  const std::string mode = format_mode(access.mode);
  if (system_path) {
    if (access.uid != 0) {
      risks.push_back(Risk{std::string(codes::kRiskWritable), what + " is owned by " + owner + ", who can rewrite it"});
      if (!access.directory)
        risks.push_back(Risk{std::string(codes::kRiskNonRootOwner), what + " is owned by " + owner + ", not root"});
    }
    if ((access.mode & 020u) != 0)
      risks.push_back(Risk{std::string(codes::kRiskWritable), what + " is group-writable (" + mode + ", " + group + ")"});
  }
  if ((access.mode & 002u) != 0)
    risks.push_back(Risk{std::string(codes::kRiskWritable), what + " is world-writable (" + mode + ")"});
  sort_unique(risks);
  return risks;
}

}  // namespace jcorr::baseline
