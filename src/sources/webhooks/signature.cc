#include "sources/webhooks/signature.h"

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <optional>

#include "common/json_util.h"
#include "common/text.h"
#include "events/base64.h"

namespace eddy::sources::webhooks {
namespace json = boost::json;

namespace {

constexpr std::string_view kRedacted = "<redacted>";
constexpr int64_t kMaxTolerance = 7 * 86400;

Error bad(std::string message) {
  return make_error(Errc::invalid_argument, std::move(message));
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return n;
}

Status check_timestamp(int64_t ts, int64_t now_s, int64_t tolerance_s) {
  int64_t age = now_s - ts;
  if (age > tolerance_s) {
    return bad(
        fmt::format("the signed timestamp is {} s old, beyond the {} s tolerance "
                    "(a stale or replayed delivery)",
                    age, tolerance_s));
  }
  if (-age > tolerance_s) {
    return bad(
        fmt::format("the signed timestamp is {} s in the future, beyond the {} s "
                    "tolerance; check the sender's clock",
                    -age, tolerance_s));
  }
  return {};
}

// True when any secret's MAC of `payload` equals any of `candidates` (raw bytes). Every
// pair is compared, in constant time each.
bool any_matches(const VerifyConfig& c, std::string_view payload,
                 const std::vector<std::string>& candidates) {
  bool match = false;
  for (const auto& secret : c.secrets) {
    std::string mac = hmac(c.algorithm, secret, payload);
    for (const auto& cand : candidates) match |= constant_time_equal(mac, cand);
  }
  return match;
}

Result<Delivery> verify_stripe(const VerifyConfig& c, const HeaderLookup& headers,
                               std::string_view body, int64_t now_s) {
  std::string_view header = headers("stripe-signature");
  if (header.empty()) return bad("missing Stripe-Signature header");
  std::string_view t;
  std::vector<std::string> v1;
  std::string_view rest = header;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = trim_ows(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view k = item.substr(0, eq), v = item.substr(eq + 1);
    if (k == "t" && t.empty()) {
      t = v;
    } else if (k == "v1") {
      if (auto bytes = hex_decode(v)) v1.push_back(std::move(*bytes));
    }
  }
  auto ts = parse_int(t);
  if (!ts) return bad("Stripe-Signature has no valid timestamp (t=...)");
  if (v1.empty()) return bad("Stripe-Signature has no v1 signature");
  if (auto s = check_timestamp(*ts, now_s, c.tolerance_s); !s) return std::move(s).error();
  std::string payload;
  payload.reserve(t.size() + 1 + body.size());
  payload.append(t).append(".").append(body);
  if (!any_matches(c, payload, v1)) {
    return bad("no v1 signature in Stripe-Signature matches the payload and secret");
  }
  Delivery d;
  d.timestamp_s = *ts;
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    if (auto it = o.find("id"); it != o.end() && it->value().is_string())
      d.id = it->value().as_string();
    if (auto it = o.find("type"); it != o.end() && it->value().is_string()) {
      d.type = it->value().as_string();
    }
  }
  return d;
}

Result<Delivery> verify_github(const VerifyConfig& c, const HeaderLookup& headers,
                               std::string_view body) {
  std::string_view header = trim_ows(headers("x-hub-signature-256"));
  if (header.empty()) return bad("missing X-Hub-Signature-256 header");
  if (!header.starts_with("sha256=")) {
    return bad("X-Hub-Signature-256 must be sha256=<hex HMAC-SHA256 of the body>");
  }
  auto sig = hex_decode(header.substr(7));
  if (!sig) return bad("X-Hub-Signature-256 is not sha256=<hex>");
  if (!any_matches(c, body, {*sig})) {
    return bad("X-Hub-Signature-256 does not match the payload and secret");
  }
  Delivery d;
  d.id = std::string(trim_ows(headers("x-github-delivery")));
  d.type = std::string(trim_ows(headers("x-github-event")));
  return d;
}

Result<Delivery> verify_hmac(const VerifyConfig& c, const HeaderLookup& headers,
                             std::string_view body, int64_t now_s) {
  std::string_view header = trim_ows(headers(c.header));
  if (header.empty()) return bad(fmt::format("missing {} header", c.header));
  Delivery d;
  std::string_view ts_text;
  if (!c.timestamp_header.empty()) {
    ts_text = trim_ows(headers(c.timestamp_header));
    auto ts = parse_int(ts_text);
    if (!ts)
      return bad(fmt::format("missing or malformed {} header (unix seconds)", c.timestamp_header));
    if (auto s = check_timestamp(*ts, now_s, c.tolerance_s); !s) return std::move(s).error();
    d.timestamp_s = *ts;
  }
  if (!c.id_header.empty()) d.id = std::string(trim_ows(headers(c.id_header)));
  std::vector<std::string> candidates;
  std::string_view rest = header;
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    std::string_view item = trim_ows(rest.substr(0, sp));
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    if (item.empty() || !item.starts_with(c.prefix)) continue;
    item.remove_prefix(c.prefix.size());
    auto bytes = c.encoding == Encoding::hex ? hex_decode(item) : base64_any_decode(item);
    if (bytes) candidates.push_back(std::move(*bytes));
  }
  if (candidates.empty()) {
    return bad(fmt::format("{} holds no signature of the form {}<{}>", c.header, c.prefix,
                           c.encoding == Encoding::hex ? "hex" : "base64"));
  }
  std::string payload;
  std::string_view tmpl = c.signed_payload;
  while (!tmpl.empty()) {
    size_t open = tmpl.find('{');
    payload.append(tmpl.substr(0, open));
    if (open == std::string_view::npos) break;
    tmpl.remove_prefix(open);
    if (tmpl.starts_with("{body}")) {
      payload.append(body);
      tmpl.remove_prefix(6);
    } else if (tmpl.starts_with("{timestamp}")) {
      payload.append(ts_text);
      tmpl.remove_prefix(11);
    } else if (tmpl.starts_with("{id}")) {
      payload.append(d.id);
      tmpl.remove_prefix(4);
    } else {
      payload.push_back('{');
      tmpl.remove_prefix(1);
    }
  }
  if (!any_matches(c, payload, candidates)) {
    return bad(fmt::format("the signature in {} does not match the payload and secret", c.header));
  }
  return d;
}

}  // namespace

Result<VerifyConfig> VerifyConfig::parse(const json::value& v) {
  if (!v.is_object()) {
    return bad("verify must be an object like {\"scheme\":\"stripe\",\"secret\":\"whsec_...\"}");
  }
  const auto& o = v.as_object();
  VerifyConfig c;
  auto scheme = get_string(o, "scheme");
  if (!scheme) return bad("verify." + scheme.error().message);
  std::string s = scheme->value_or("");
  if (s == "stripe") {
    c.scheme = Scheme::stripe;
  } else if (s == "github") {
    c.scheme = Scheme::github;
  } else if (s == "hmac") {
    c.scheme = Scheme::hmac;
  } else {
    return bad("verify.scheme must be stripe, github or hmac");
  }
  std::initializer_list<std::string_view> common = {"scheme", "secret", "secrets", "tolerance_s"};
  std::initializer_list<std::string_view> hmac_fields = {
      "scheme",   "secret", "secrets",          "tolerance_s", "header",        "algorithm",
      "encoding", "prefix", "timestamp_header", "id_header",   "signed_payload"};
  if (auto st = reject_unknown_fields(o, c.scheme == Scheme::hmac ? hmac_fields : common); !st) {
    return bad("verify: " + st.error().message);
  }
  if (auto it = o.find("secret"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_string()) return bad("verify.secret must be a string");
    c.secrets.emplace_back(it->value().as_string());
  }
  if (auto it = o.find("secrets"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return bad("verify.secrets must be an array of strings");
    for (const auto& e : it->value().as_array()) {
      if (!e.is_string()) return bad("verify.secrets must be an array of strings");
      c.secrets.emplace_back(e.as_string());
    }
  }
  if (c.secrets.empty()) {
    return bad("verify needs the signing 'secret' (or 'secrets' while rotating)");
  }
  for (const auto& sec : c.secrets) {
    if (sec.empty() || sec == kRedacted)
      return bad("verify: every secret must be a non-empty string");
  }
  auto tol = get_int(o, "tolerance_s");
  if (!tol) return bad("verify." + tol.error().message);
  c.tolerance_s = tol->value_or(300);
  if (c.tolerance_s < 1 || c.tolerance_s > kMaxTolerance) {
    return bad(fmt::format("verify.tolerance_s must be 1-{} seconds", kMaxTolerance));
  }
  if (c.scheme != Scheme::hmac) return c;

  auto header = get_string(o, "header");
  auto alg = get_string(o, "algorithm");
  auto enc = get_string(o, "encoding");
  auto prefix = get_string(o, "prefix");
  auto ts = get_string(o, "timestamp_header");
  auto id = get_string(o, "id_header");
  auto tmpl = get_string(o, "signed_payload");
  for (const auto* r : {&header, &alg, &enc, &prefix, &ts, &id, &tmpl}) {
    if (!*r) return bad("verify." + r->error().message);
  }
  if (!*header || (*header)->empty()) {
    return bad("verify.header is required for hmac: the header holding the signature");
  }
  c.header = **header;
  std::string a = alg->value_or("sha256");
  if (a == "sha256") {
    c.algorithm = Digest::sha256;
  } else if (a == "sha1") {
    c.algorithm = Digest::sha1;
  } else if (a == "sha512") {
    c.algorithm = Digest::sha512;
  } else {
    return bad("verify.algorithm must be sha1, sha256 or sha512");
  }
  std::string e = enc->value_or("hex");
  if (e == "hex") {
    c.encoding = Encoding::hex;
  } else if (e == "base64") {
    c.encoding = Encoding::base64;
  } else {
    return bad("verify.encoding must be hex or base64");
  }
  c.prefix = prefix->value_or("");
  c.timestamp_header = ts->value_or("");
  c.id_header = id->value_or("");
  c.signed_payload = tmpl->value_or(c.timestamp_header.empty() ? "{body}" : "{timestamp}.{body}");
  if (c.signed_payload.find("{body}") == std::string::npos) {
    return bad("verify.signed_payload must include {body}");
  }
  if (c.signed_payload.find("{timestamp}") != std::string::npos && c.timestamp_header.empty()) {
    return bad("verify.signed_payload uses {timestamp}: set verify.timestamp_header");
  }
  if (c.signed_payload.find("{id}") != std::string::npos && c.id_header.empty()) {
    return bad("verify.signed_payload uses {id}: set verify.id_header");
  }
  return c;
}

json::value VerifyConfig::to_json(bool redact) const {
  json::object o;
  o["scheme"] = scheme == Scheme::stripe ? "stripe" : scheme == Scheme::github ? "github" : "hmac";
  json::array secrets_json;
  for (const auto& s : secrets) secrets_json.emplace_back(redact ? kRedacted : std::string_view(s));
  o["secrets"] = std::move(secrets_json);
  o["tolerance_s"] = tolerance_s;
  if (scheme == Scheme::hmac) {
    o["header"] = header;
    o["algorithm"] = algorithm == Digest::sha1     ? "sha1"
                     : algorithm == Digest::sha512 ? "sha512"
                                                   : "sha256";
    o["encoding"] = encoding == Encoding::hex ? "hex" : "base64";
    o["prefix"] = prefix;
    if (!timestamp_header.empty()) o["timestamp_header"] = timestamp_header;
    if (!id_header.empty()) o["id_header"] = id_header;
    o["signed_payload"] = signed_payload;
  }
  return o;
}

Result<Delivery> verify(const VerifyConfig& config, const HeaderLookup& headers,
                        std::string_view body, int64_t now_s) {
  switch (config.scheme) {
    case Scheme::stripe:
      return verify_stripe(config, headers, body, now_s);
    case Scheme::github:
      return verify_github(config, headers, body);
    case Scheme::hmac:
      return verify_hmac(config, headers, body, now_s);
  }
  return bad("unknown scheme");
}

std::string stripe_signature_header(std::string_view secret, std::string_view body,
                                    int64_t timestamp_s) {
  std::string t = std::to_string(timestamp_s);
  std::string payload = t + "." + std::string(body);
  return fmt::format("t={},v1={}", t, hex_encode(hmac(Digest::sha256, secret, payload)));
}

}  // namespace eddy::sources::webhooks
