// AckSet: which offsets of one partition a subscription is done with, kept compactly as a
// committed low-water offset (every offset below it is done) plus the runs of done offsets
// above it. Acking the offset at the low-water mark advances it over the runs that follow,
// so a subscription whose consumers ack roughly in order holds at most a few runs however
// many events it has seen. This is also the persisted form of a subscription's ack state.
//
// Threading: a value type; not thread-safe.
#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <map>

#include "common/error.h"

namespace eddy::bus {

class AckSet {
 public:
  explicit AckSet(uint64_t committed = 0) : committed_(committed) {}

  // One past the highest offset below which everything is done.
  uint64_t committed() const { return committed_; }
  // Marks `offset` done; returns false if it already was.
  bool add(uint64_t offset) { return add_range(offset, offset + 1) > 0; }
  // Marks [begin, end) done; returns how many offsets were newly marked.
  uint64_t add_range(uint64_t begin, uint64_t end);
  bool contains(uint64_t offset) const;
  // Done offsets at or above committed().
  uint64_t count_above() const { return above_; }
  // The runs above committed(), begin -> end (exclusive), disjoint and not touching.
  const std::map<uint64_t, uint64_t>& runs() const { return runs_; }
  // Forgets every ack and moves the low-water mark to `committed` (a seek).
  void reset(uint64_t committed);

  // {"committed":N,"acks":[[begin,end],...]}
  boost::json::object to_json() const;
  // Reads to_json()'s form; rejects overlapping, unsorted or inverted runs.
  static Result<AckSet> from_json(const boost::json::value& v);

 private:
  uint64_t committed_;
  std::map<uint64_t, uint64_t> runs_;
  uint64_t above_ = 0;
};

}  // namespace eddy::bus
