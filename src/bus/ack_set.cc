#include "bus/ack_set.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace eddy::bus {
namespace json = boost::json;

uint64_t AckSet::add_range(uint64_t begin, uint64_t end) {
  begin = std::max(begin, committed_);
  if (begin >= end) return 0;
  // Merge with every run that overlaps or touches [begin, end).
  uint64_t added = end - begin;
  auto it = runs_.upper_bound(begin);
  if (it != runs_.begin() && std::prev(it)->second >= begin) --it;
  while (it != runs_.end() && it->first <= end) {
    uint64_t overlap_begin = std::max(begin, it->first);
    uint64_t overlap_end = std::min(end, it->second);
    if (overlap_end > overlap_begin) added -= overlap_end - overlap_begin;
    begin = std::min(begin, it->first);
    end = std::max(end, it->second);
    it = runs_.erase(it);
  }
  above_ += added;
  if (begin == committed_) {
    above_ -= end - begin;
    committed_ = end;
  } else {
    runs_.emplace(begin, end);
  }
  return added;
}

bool AckSet::contains(uint64_t offset) const {
  if (offset < committed_) return true;
  auto it = runs_.upper_bound(offset);
  if (it == runs_.begin()) return false;
  return std::prev(it)->second > offset;
}

void AckSet::reset(uint64_t committed) {
  committed_ = committed;
  runs_.clear();
  above_ = 0;
}

json::object AckSet::to_json() const {
  json::array acks;
  for (const auto& [b, e] : runs_) acks.push_back(json::array{b, e});
  return json::object{{"committed", committed_}, {"acks", std::move(acks)}};
}

Result<AckSet> AckSet::from_json(const json::value& v) {
  auto bad = [](std::string_view what) {
    return make_error(Errc::corrupt, "subscription ack state is malformed: " + std::string(what));
  };
  if (!v.is_object()) return bad("not an object");
  const auto& o = v.as_object();
  auto c = o.find("committed");
  if (c == o.end() || !c->value().is_number()) return bad("no 'committed' offset");
  json::error_code ec;
  auto committed = c->value().to_number<uint64_t>(ec);
  if (ec) return bad("'committed' is not an offset");
  AckSet set(committed);
  auto a = o.find("acks");
  if (a == o.end()) return set;
  if (!a->value().is_array()) return bad("'acks' is not an array");
  uint64_t prev_end = committed;
  for (const auto& run : a->value().as_array()) {
    if (!run.is_array() || run.as_array().size() != 2) return bad("a run is not [begin, end]");
    auto b = run.as_array()[0].to_number<uint64_t>(ec);
    if (ec) return bad("a run's begin is not an offset");
    auto e = run.as_array()[1].to_number<uint64_t>(ec);
    if (ec) return bad("a run's end is not an offset");
    if (b <= prev_end || e <= b) return bad("runs overlap, touch or are out of order");
    set.runs_.emplace(b, e);
    set.above_ += e - b;
    prev_end = e;
  }
  return set;
}

}  // namespace eddy::bus
