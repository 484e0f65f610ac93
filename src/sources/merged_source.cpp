#include <algorithm>
#include <utility>

#include "jcorr/sources/source.h"

namespace jcorr::sources {

struct MergedSource::Impl {
  std::vector<std::unique_ptr<Source>> inputs;
  std::vector<core::Event> heads;  // the next event of each input still in the heap
  std::vector<std::uint32_t> heap;  // input indices, earliest head on top
  bool primed = false;

  // std::*_heap keep the largest on top, so "less" means "comes later".
  bool later(std::uint32_t a, std::uint32_t b) const {
    const auto ta = heads[a].realtime_us;
    const auto tb = heads[b].realtime_us;
    return ta != tb ? ta > tb : a > b;
  }
  auto comparator() {
    return [this](std::uint32_t a, std::uint32_t b) { return later(a, b); };
  }

  void prime() {
    primed = true;
    for (std::uint32_t i = 0; i < inputs.size(); ++i)
      if (inputs[i]->next(heads[i])) heap.push_back(i);
    std::make_heap(heap.begin(), heap.end(), comparator());
  }
};

MergedSource::MergedSource(std::vector<std::unique_ptr<Source>> inputs) : impl_(std::make_unique<Impl>()) {
  for (auto& in : inputs) {
    if (!in) continue;
    if (!name_.empty()) name_.push_back(',');
    name_.append(in->name());
    impl_->inputs.push_back(std::move(in));
  }
  impl_->heads.resize(impl_->inputs.size());
}

MergedSource::~MergedSource() = default;

bool MergedSource::next(core::Event& out) {
  auto& m = *impl_;
  if (!m.primed) m.prime();
  if (m.heap.empty()) {
    out.clear();
    return false;
  }
  std::pop_heap(m.heap.begin(), m.heap.end(), m.comparator());
  const std::uint32_t i = m.heap.back();
  std::swap(out, m.heads[i]);  // hand over the event; its old buffers are reused below
  out.input = i;
  if (m.inputs[i]->next(m.heads[i]))
    std::push_heap(m.heap.begin(), m.heap.end(), m.comparator());
  else
    m.heap.pop_back();
  return true;
}

Progress MergedSource::progress() const {
  Progress sum;
  for (const auto& in : impl_->inputs) {
    const auto p = in->progress();
    sum.done += p.done;
    sum.total += p.total;
  }
  return sum;
}

}  // namespace jcorr::sources
