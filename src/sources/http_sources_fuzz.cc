// libFuzzer target for what routes and webhooks read from the network or from functions:
// webhook signature headers, JWTs, path templates, proxy events built from arbitrary
// requests (which must always be valid JSON) and function replies mapped back to HTTP.
// The first byte picks the entry point; the rest is split into fields at 0xFF bytes.
//
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
//     src/sources/http_sources_fuzz.cc src/sources/crypto.cc src/sources/http/auth.cc \
//     src/sources/http/cors.cc src/sources/http/path_template.cc src/sources/http/route.cc \
//     src/sources/http/proxy_event.cc src/sources/webhooks/signature.cc \
//     src/events/base64.cc src/events/attribute_syntax.cc src/common/json_util.cc \
//     src/common/error.cc -lfmt -lboost_json -lsimdjson -lcrypto -o build-fuzz/http_sources_fuzz
//   build-fuzz/http_sources_fuzz -max_len=4096 CORPUS_DIR
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>

#include "sources/http/auth.h"
#include "sources/http/path_template.h"
#include "sources/http/proxy_event.h"
#include "sources/webhooks/signature.h"

namespace {

namespace http = eddy::sources::http;
namespace webhooks = eddy::sources::webhooks;

void check(bool condition) {
  if (!condition) std::abort();
}

std::vector<std::string_view> fields(std::string_view data, size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    size_t cut = data.find('\xff');
    if (cut == std::string_view::npos) break;
    out.push_back(data.substr(0, cut));
    data.remove_prefix(cut + 1);
  }
  out.push_back(data);
  while (out.size() < n) out.push_back({});
  return out;
}

const webhooks::VerifyConfig& config(int which) {
  static const auto make = [](const char* text) {
    return *webhooks::VerifyConfig::parse(boost::json::parse(text));
  };
  static const webhooks::VerifyConfig configs[] = {
      make(R"({"scheme":"stripe","secrets":["whsec_a","whsec_b"]})"),
      make(R"({"scheme":"github","secret":"s"})"),
      make(R"({"scheme":"hmac","secret":"k","header":"x-sig","prefix":"v0=","encoding":"base64",
               "timestamp_header":"x-ts","id_header":"x-id","signed_payload":"v0:{timestamp}:{id}:{body}"})"),
  };
  return configs[which % 3];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {  // webhook signatures
      auto f = fields(in, 3);
      auto lookup = [&](std::string_view) { return f[0]; };
      (void)webhooks::verify(config(data[0] / 5), lookup, f[1], 1700000000);
      break;
    }
    case 1: {  // JWTs
      static const auto auth = *http::RouteAuth::parse(boost::json::parse(
          R"({"type":"jwt","algorithm":"HS256","secret":"s","issuer":"i","audience":["a"]})"));
      auto lookup = [&](std::string_view) { return in; };
      (void)auth.authenticate(lookup, 1700000000);
      break;
    }
    case 2: {  // path templates
      auto t = http::PathTemplate::parse(in);
      if (t) check(http::PathTemplate::parse(t->text()).ok());
      break;
    }
    case 3: {  // proxy events from arbitrary requests are always JSON
      auto f = fields(in, 6);
      http::ProxyRequest req;
      req.method = f[0];
      req.target = f[1];
      req.headers = {{f[2], f[3]}, {"cookie", f[3]}, {"content-type", f[4]}};
      req.body = f[5];
      std::vector<std::pair<std::string, std::string>> params{{"p", std::string(f[1])}};
      http::ProxyRoute route;
      route.resource = f[0];
      route.route_key = f[1];
      route.path_params = &params;
      for (auto v : {http::PayloadVersion::v1, http::PayloadVersion::v2}) {
        boost::system::error_code ec;
        boost::json::parse(http::build_proxy_event(v, req, route), ec);
        check(!ec);
      }
      break;
    }
    case 4: {  // function replies
      for (auto v : {http::PayloadVersion::v1, http::PayloadVersion::v2}) {
        auto r = http::map_proxy_reply(v, in);
        if (!r) continue;
        check(r->status >= 100 && r->status <= 599);
        for (const auto& [k, val] : r->headers) {
          check(!k.empty() && val.find_first_of("\r\n") == std::string::npos);
        }
      }
      break;
    }
  }
  return 0;
}
