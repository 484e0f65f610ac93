#include <cstdio>
int main() {
  std::puts("jcorr");
  return 0;
}
