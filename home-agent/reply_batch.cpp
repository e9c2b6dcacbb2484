#include "home-agent/reply_batch.hpp"

namespace vmroam::ha {

void ReplyBatch::add(Ipv4 dst, std::uint16_t port, ByteView payload) {
  if (payload.empty()) return;
  // Most batches hold replies to a handful of FAs: a linear search over the open groups,
  // newest first, beats a map here.
  for (auto it = groups_.rbegin(); segmented_ && it != groups_.rend(); ++it) {
    Group& g = *it;
    if (g.dst != dst || g.port != port || g.size != payload.size()) continue;
    if (g.data.size() / g.size >= kMaxSegments || g.data.size() + payload.size() > kMaxBytes) break;
    g.data.insert(g.data.end(), payload.begin(), payload.end());
    return;
  }
  groups_.push_back({dst, port, payload.size(), Bytes(payload.begin(), payload.end())});
}

std::size_t ReplyBatch::flush() {
  std::size_t refused = 0;
  for (const Group& g : groups_) {
    const std::size_t count = g.data.size() / g.size;
    if (count > 1 && segmented_) {
      refused += count - segmented_(g.dst, g.port, ByteView(g.data), g.size);
      continue;
    }
    for (std::size_t at = 0; at < g.data.size(); at += g.size)
      one_(g.dst, g.port, ByteView(g.data).subspan(at, g.size));
  }
  groups_.clear();
  return refused;
}

}  // namespace vmroam::ha
