// The floor for reading Journal Export Format on this machine: maps the file and splits
// every entry into fields (memchr to each line's end, memchr to its first '='), skipping
// binary values by their length, and does nothing else; the issue's "export text
// mmap-and-split-every-field" reference. Prints entries, fields and the CPU time.
//
//   g++ -O2 -std=c++20 -o build/split-export bench/split-export.cpp
//   build/split-export FILE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  const int fd = ::open(argv[1], O_RDONLY);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size == 0) {
    std::perror(argv[1]);
    return 1;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  ::madvise(map, size, MADV_SEQUENTIAL);
  const char* p = static_cast<const char*>(map);
  const char* const end = p + size;
  std::uint64_t entries = 0;
  std::uint64_t fields = 0;
  std::uint64_t name_bytes = 0;  // kept so the splitting cannot be optimised away
  bool in_entry = false;
  while (p < end) {
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (nl == nullptr) break;
    if (nl == p) {  // blank line
      if (in_entry) ++entries;
      in_entry = false;
      p = nl + 1;
      continue;
    }
    in_entry = true;
    ++fields;
    const auto* eq = static_cast<const char*>(std::memchr(p, '=', static_cast<std::size_t>(nl - p)));
    if (eq != nullptr) {
      name_bytes += static_cast<std::uint64_t>(eq - p);
      p = nl + 1;
    } else {  // binary field: 64-bit little-endian length, value, newline
      name_bytes += static_cast<std::uint64_t>(nl - p);
      std::uint64_t len = 0;
      if (end - nl < 9) break;
      std::memcpy(&len, nl + 1, 8);
      if (len > static_cast<std::uint64_t>(end - nl - 9)) break;
      p = nl + 9 + len + 1;
    }
  }
  if (in_entry) ++entries;
  rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf("%llu entries, %llu fields, %llu name bytes, %.3f s CPU, %.0f entries/s per CPU second\n",
              static_cast<unsigned long long>(entries), static_cast<unsigned long long>(fields),
              static_cast<unsigned long long>(name_bytes), cpu, cpu > 0 ? static_cast<double>(entries) / cpu : 0.0);
  return 0;
}
