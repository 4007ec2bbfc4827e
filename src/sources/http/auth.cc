#include "sources/http/auth.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/json_util.h"
#include "common/text.h"
#include "sources/crypto.h"

namespace eddy::sources::http {
namespace json = boost::json;

namespace {

constexpr std::string_view kRedacted = "<redacted>";

Error bad(std::string message) {
  return make_error(Errc::invalid_argument, std::move(message));
}

std::shared_ptr<void> load_public_key(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return nullptr;
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) return nullptr;
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return std::shared_ptr<void>(key, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
}

bool rs256_verify(void* key, std::string_view input, std::string_view sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return false;
  bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, static_cast<EVP_PKEY*>(key)) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// A JSON object from a base64url token part.
Result<json::object> decode_part(std::string_view part, std::string_view what) {
  auto bytes = base64_any_decode(part);
  if (!bytes) return bad(fmt::format("the token's {} is not base64url", what));
  json::error_code ec;
  auto v = json::parse(*bytes, ec);
  if (ec || !v.is_object()) return bad(fmt::format("the token's {} is not a JSON object", what));
  return std::move(v.as_object());
}

// A NumericDate claim as seconds; nullopt when absent; an error when not a number.
Result<std::optional<double>> numeric_date(const json::object& claims, std::string_view name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::optional<double>();
  const auto& v = it->value();
  if (!v.is_number()) return bad(fmt::format("the token's '{}' claim is not a number", name));
  return std::optional<double>(v.to_number<double>());
}

}  // namespace

Result<RouteAuth> RouteAuth::parse(const json::value& v) {
  RouteAuth a;
  if (!v.is_object()) return bad("auth must be an object with a 'type' (none, api_key or jwt)");
  const auto& o = v.as_object();
  auto type = get_string(o, "type");
  if (!type) return bad("auth." + type.error().message);
  std::string t = type->value_or("");
  if (t == "none") {
    if (auto s = reject_unknown_fields(o, {"type"}); !s) return bad("auth: " + s.error().message);
    return a;
  }
  if (t == "api_key") {
    if (auto s = reject_unknown_fields(o, {"type", "keys", "header"}); !s) {
      return bad("auth: " + s.error().message);
    }
    a.type_ = Type::api_key;
    auto header = get_string(o, "header");
    if (!header) return bad("auth." + header.error().message);
    a.header_ = header->value_or("x-api-key");
    auto it = o.find("keys");
    if (it == o.end() || !it->value().is_array() || it->value().as_array().empty()) {
      return bad("auth.keys must be a non-empty array of API keys");
    }
    for (const auto& k : it->value().as_array()) {
      if (!k.is_string() || k.as_string().size() < 8 || k.as_string() == kRedacted) {
        return bad("auth.keys: every key must be a string of at least 8 characters");
      }
      a.keys_.emplace_back(k.as_string());
      a.key_digests_.push_back(sha256(k.as_string()));
    }
    return a;
  }
  if (t != "jwt") return bad("auth.type must be none, api_key or jwt");
  if (auto s = reject_unknown_fields(o, {"type", "algorithm", "secret", "public_key", "issuer",
                                         "audience", "header", "leeway_s"});
      !s) {
    return bad("auth: " + s.error().message);
  }
  a.type_ = Type::jwt;
  auto alg = get_string(o, "algorithm");
  auto secret = get_string(o, "secret");
  auto pem = get_string(o, "public_key");
  auto issuer = get_string(o, "issuer");
  auto header = get_string(o, "header");
  for (const auto* r : {&alg, &secret, &pem, &issuer, &header}) {
    if (!*r) return bad("auth." + r->error().message);
  }
  a.algorithm_ = alg->value_or("HS256");
  a.header_ = header->value_or("authorization");
  a.issuer_ = *issuer;
  if (a.algorithm_ == "HS256") {
    if (!*secret || (*secret)->empty() || **secret == kRedacted || *pem) {
      return bad("auth: HS256 takes a non-empty 'secret' (and no 'public_key')");
    }
    a.secret_ = **secret;
  } else if (a.algorithm_ == "RS256") {
    if (!*pem || *secret) return bad("auth: RS256 takes a PEM 'public_key' (and no 'secret')");
    a.public_key_pem_ = **pem;
    a.public_key_ = load_public_key(a.public_key_pem_);
    if (!a.public_key_) {
      return bad("auth.public_key is not a PEM RSA public key (-----BEGIN PUBLIC KEY-----)");
    }
  } else {
    return bad("auth.algorithm must be HS256 or RS256");
  }
  if (auto it = o.find("audience"); it != o.end() && !it->value().is_null()) {
    if (it->value().is_string()) {
      a.audiences_.emplace_back(it->value().as_string());
    } else if (it->value().is_array()) {
      for (const auto& e : it->value().as_array()) {
        if (!e.is_string()) return bad("auth.audience must be a string or an array of strings");
        a.audiences_.emplace_back(e.as_string());
      }
    } else {
      return bad("auth.audience must be a string or an array of strings");
    }
  }
  auto leeway = get_int(o, "leeway_s");
  if (!leeway) return bad("auth." + leeway.error().message);
  a.leeway_s_ = leeway->value_or(0);
  if (a.leeway_s_ < 0 || a.leeway_s_ > 3600) return bad("auth.leeway_s must be 0-3600");
  return a;
}

json::value RouteAuth::to_json(bool redact) const {
  switch (type_) {
    case Type::none:
      return json::object{{"type", "none"}};
    case Type::api_key: {
      json::array keys;
      for (const auto& k : keys_) keys.emplace_back(redact ? kRedacted : std::string_view(k));
      return json::object{{"type", "api_key"}, {"header", header_}, {"keys", std::move(keys)}};
    }
    case Type::jwt: {
      json::object o{{"type", "jwt"}, {"algorithm", algorithm_}, {"header", header_}};
      if (algorithm_ == "HS256") {
        o["secret"] = redact ? kRedacted : std::string_view(secret_);
      } else {
        o["public_key"] = public_key_pem_;
      }
      if (issuer_) o["issuer"] = *issuer_;
      if (!audiences_.empty()) {
        json::array aud;
        for (const auto& s : audiences_) aud.emplace_back(s);
        o["audience"] = std::move(aud);
      }
      if (leeway_s_) o["leeway_s"] = leeway_s_;
      return o;
    }
  }
  return nullptr;
}

Result<Principal> RouteAuth::authenticate(const HeaderLookup& headers, int64_t now_s) const {
  Principal p;
  if (type_ == Type::none) return p;
  std::string_view value = headers(header_);
  if (type_ == Type::api_key) {
    if (value.empty())
      return bad(fmt::format("missing API key: send it in the {} header", header_));
    std::string digest = sha256(value);
    bool found = false;
    // Every key is compared, so timing says nothing about which one (or whether one) matched.
    for (const auto& d : key_digests_) found |= constant_time_equal(digest, d);
    if (!found) return bad("invalid API key");
    p.kind = Principal::Kind::api_key;
    p.api_key = std::string(value);
    return p;
  }
  if (value.empty()) {
    return bad(fmt::format("missing token: send '{}: Bearer <JWT>'", header_));
  }
  if (value.size() > 7 && iequals(value.substr(0, 7), "bearer ")) value.remove_prefix(7);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  auto claims = verify_jwt(value, now_s);
  if (!claims) return std::move(claims).error();
  p.kind = Principal::Kind::jwt;
  if (auto it = claims->find("scope"); it != claims->end() && it->value().is_string()) {
    std::string_view s = it->value().as_string();
    while (!s.empty()) {
      size_t sp = s.find(' ');
      if (sp != 0) p.scopes.emplace_back(s.substr(0, sp));
      s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
    }
  } else if (auto it2 = claims->find("scp"); it2 != claims->end() && it2->value().is_array()) {
    for (const auto& e : it2->value().as_array()) {
      if (e.is_string()) p.scopes.emplace_back(e.as_string());
    }
  }
  p.claims = std::move(*claims);
  return p;
}

Result<json::object> RouteAuth::verify_jwt(std::string_view token, int64_t now_s) const {
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return bad("the token is not a JWT (header.payload.signature)");
  }
  auto header = decode_part(token.substr(0, d1), "header");
  if (!header) return std::move(header).error();
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->value().is_string() || alg->value().as_string() != algorithm_) {
    return bad(fmt::format("the token must be signed with {}", algorithm_));
  }
  auto sig = base64_any_decode(token.substr(d2 + 1));
  if (!sig) return bad("the token's signature is not base64url");
  std::string_view input = token.substr(0, d2);
  bool valid = algorithm_ == "HS256"
                   ? constant_time_equal(hmac(Digest::sha256, secret_, input), *sig)
                   : rs256_verify(public_key_.get(), input, *sig);
  if (!valid) return bad("the token's signature does not verify");
  auto claims = decode_part(token.substr(d1 + 1, d2 - d1 - 1), "payload");
  if (!claims) return std::move(claims).error();
  double now = static_cast<double>(now_s);
  auto exp = numeric_date(*claims, "exp");
  if (!exp) return std::move(exp).error();
  if (!*exp) return bad("the token has no 'exp' claim");
  if (now >= **exp + static_cast<double>(leeway_s_)) return bad("the token has expired");
  auto nbf = numeric_date(*claims, "nbf");
  if (!nbf) return std::move(nbf).error();
  if (*nbf && now + static_cast<double>(leeway_s_) < **nbf) {
    return bad("the token is not valid yet (nbf)");
  }
  if (issuer_) {
    auto iss = claims->find("iss");
    if (iss == claims->end() || !iss->value().is_string() || iss->value().as_string() != *issuer_) {
      return bad(fmt::format("the token's issuer must be '{}'", *issuer_));
    }
  }
  if (!audiences_.empty()) {
    auto accepted = [&](const json::value& v) {
      return v.is_string() && std::find(audiences_.begin(), audiences_.end(),
                                        std::string_view(v.as_string())) != audiences_.end();
    };
    bool ok = false;
    for (const char* name : {"aud", "client_id"}) {
      auto it = claims->find(name);
      if (it == claims->end()) continue;
      if (it->value().is_array()) {
        for (const auto& e : it->value().as_array()) ok |= accepted(e);
      } else {
        ok |= accepted(it->value());
      }
    }
    if (!ok) return bad("the token's audience is not accepted here");
  }
  return std::move(*claims);
}

}  // namespace eddy::sources::http
