// libFuzzer target for the pattern compiler and the matcher (build and run commands in
// README.md). Input: a pattern, optionally followed by a newline and an event. Beyond "no
// crash": whatever compiles must be accepted by a Matcher, the matcher and the reference
// interpreter must agree on a well-formed event (also through the bounded fallback walk),
// explain() must agree with the interpreter, and removing the rule must leave an empty
// automaton. On malformed events the matcher only must not crash: it does not validate
// the parts no rule reads (README.md, "The automaton").
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "rules/event_json.h"
#include "rules/interpreter.h"
#include "rules/matcher.h"
#include "rules/pattern.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

constexpr std::string_view kDefaultEvent =
    R"({"specversion":"1.0","id":"1","source":"/s","type":"t.created","tenant":"a",)"
    R"("data":{"n":5,"s":"Hello","b":true,"z":null,"ip":"10.1.2.3","l":[1,"x",{"k":"v"}],)"
    R"("o":{"p":{"q":[{"r":1,"t":"u"},{"r":2,"t":"w"}]}}}})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view pattern_json = input.substr(0, newline);
  std::string_view event =
      newline == std::string_view::npos ? kDefaultEvent : input.substr(newline + 1);

  auto pattern = eddy::rules::compile_pattern(pattern_json);
  if (!pattern.ok()) {
    check(pattern.error().code == eddy::Errc::invalid_pattern);
    check(!pattern.error().message.empty() && pattern.error().message[0] == '$');
    return 0;
  }
  bool expected = eddy::rules::matches(*pattern, event);
  simdjson::dom::parser parser;
  std::string buffer;
  simdjson::dom::element root;
  bool well_formed = !eddy::rules::parse_lenient_json(parser, event, false, buffer, root);
  check(eddy::rules::explain(*pattern, event).match == expected);

  std::vector<uint64_t> out;
  for (size_t budget : {size_t{4096}, size_t{0}}) {
    eddy::rules::Matcher matcher(eddy::rules::MatcherOptions{budget});
    check(matcher.add(7, *pattern).ok());
    matcher.match(event, out);
    if (well_formed) check(out.empty() == !expected);
    matcher.remove(7);
    eddy::rules::MatcherStats stats = matcher.stats();
    check(stats.states == 1 && stats.edges == 0 && stats.value_sets == 0 && stats.fields == 1);
  }
  return 0;
}
