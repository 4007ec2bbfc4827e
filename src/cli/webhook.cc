#include "cli/webhook.h"

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/http_client.h"
#include "cli/resource_command.h"

namespace eddy::cli {
namespace json = boost::json;

namespace {

struct Options {
  std::string name, spec, scheme, topic, function, payload_version, header, algorithm, encoding,
      prefix, timestamp_header, id_header, signed_payload;
  std::vector<std::string> secrets;
  std::optional<int64_t> tolerance_s;
};

Result<json::object> body_from(const Options& o) {
  auto spec = spec_arg(o.spec);
  if (!spec) return std::move(spec).error();
  json::object body = std::move(*spec);
  if (!o.scheme.empty() || !o.secrets.empty()) {
    json::object verify;
    if (auto* v = body.if_contains("verify"); v && v->is_object()) verify = v->as_object();
    if (!o.scheme.empty()) verify["scheme"] = o.scheme;
    if (!o.secrets.empty()) {
      json::array s;
      for (const auto& x : o.secrets) s.emplace_back(x);
      verify.erase("secret");
      verify["secrets"] = std::move(s);
    }
    for (auto [k, v] :
         {std::pair{"header", &o.header}, std::pair{"algorithm", &o.algorithm},
          std::pair{"encoding", &o.encoding}, std::pair{"prefix", &o.prefix},
          std::pair{"timestamp_header", &o.timestamp_header}, std::pair{"id_header", &o.id_header},
          std::pair{"signed_payload", &o.signed_payload}}) {
      if (!v->empty()) verify[k] = *v;
    }
    if (o.tolerance_s) verify["tolerance_s"] = *o.tolerance_s;
    body["verify"] = std::move(verify);
  }
  if (!o.topic.empty() && !o.function.empty()) {
    return make_error(Errc::invalid_argument, "give --topic or --function, not both");
  }
  if (!o.topic.empty()) body["target"] = json::object{{"topic", o.topic}};
  if (!o.function.empty()) body["target"] = json::object{{"function", o.function}};
  if (!o.payload_version.empty()) body["payload_version"] = o.payload_version;
  return body;
}

}  // namespace

Command add_webhook_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto [put, command] = add_resource_command(
      app, "webhook", "Receive verified webhooks at POST /hooks/{name}", "/v1/webhooks",
      std::shared_ptr<std::string>(o, &o->name), [o] { return body_from(*o); });
  put->add_option("--spec", o->spec, "the webhook as JSON, or @FILE (flags override its fields)");
  put->add_option("--scheme", o->scheme, "signature scheme: stripe, github or hmac");
  put->add_option("--secret", o->secrets, "signing secret (repeat while rotating)");
  put->add_option("--tolerance-s", o->tolerance_s,
                  "timestamp tolerance and replay window (default 300)");
  put->add_option("--topic", o->topic, "publish deliveries to this topic");
  put->add_option("--function", o->function, "invoke this function with each delivery");
  put->add_option("--payload-version", o->payload_version,
                  "proxy event format for --function: 1.0 or 2.0");
  put->add_option("--header", o->header, "hmac: the header holding the signature");
  put->add_option("--algorithm", o->algorithm, "hmac: sha1, sha256 or sha512");
  put->add_option("--encoding", o->encoding, "hmac: hex or base64");
  put->add_option("--prefix", o->prefix, "hmac: text before the signature, e.g. sha256=");
  put->add_option("--timestamp-header", o->timestamp_header,
                  "hmac: header with the signed unix time");
  put->add_option("--id-header", o->id_header,
                  "hmac: header with the delivery id (replay detection)");
  put->add_option("--signed-payload", o->signed_payload,
                  "hmac: what is signed, e.g. {timestamp}.{body}");
  return command;
}

}  // namespace eddy::cli
