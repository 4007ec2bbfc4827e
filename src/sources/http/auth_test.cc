#include "sources/http/auth.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <map>

#include "common/text.h"
#include "events/base64.h"
#include "sources/crypto.h"

namespace eddy::sources::http {
namespace {

namespace json = boost::json;
constexpr int64_t kNow = 1700000000;

std::string b64url(std::string_view bytes) {
  std::string out;
  events::append_base64(out, bytes);
  for (auto& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string hs256(const json::object& header, const json::object& claims, std::string_view secret) {
  std::string input = b64url(json::serialize(header)) + "." + b64url(json::serialize(claims));
  return input + "." + b64url(hmac(Digest::sha256, secret, input));
}

RouteAuth parse(const std::string& text) {
  auto a = RouteAuth::parse(json::parse(text));
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
  return a.ok() ? *a : RouteAuth();
}

HeaderLookup headers(std::map<std::string, std::string> h) {
  return [h = std::move(h)](std::string_view name) -> std::string_view {
    for (const auto& [k, v] : h) {
      if (iequals(k, name)) return v;
    }
    return {};
  };
}

TEST(ApiKeyAuthTest, AcceptsAnyConfiguredKeyAndRefusesOthers) {
  auto a = parse(R"({"type":"api_key","keys":["key-one-123","key-two-456"]})");
  auto ok = a.authenticate(headers({{"X-Api-Key", "key-two-456"}}), kNow);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->kind, Principal::Kind::api_key);
  EXPECT_EQ(ok->api_key, "key-two-456");
  EXPECT_FALSE(a.authenticate(headers({{"x-api-key", "key-two-45"}}), kNow).ok());
  EXPECT_FALSE(a.authenticate(headers({}), kNow).ok());
  auto custom = parse(R"({"type":"api_key","keys":["abcdefgh"],"header":"X-Token"})");
  EXPECT_TRUE(custom.authenticate(headers({{"x-token", "abcdefgh"}}), kNow).ok());
}

TEST(ApiKeyAuthTest, SpecIsRedactedWhenShown) {
  auto a = parse(R"({"type":"api_key","keys":["key-one-123"]})");
  EXPECT_EQ(json::serialize(a.to_json(true)),
            R"({"type":"api_key","header":"x-api-key","keys":["<redacted>"]})");
  EXPECT_EQ(a.to_json(false).as_object().at("keys").as_array()[0], "key-one-123");
}

TEST(RouteAuthTest, RefusesBadSpecs) {
  for (const char* bad :
       {R"({"type":"magic"})", R"({"type":"api_key"})", R"({"type":"api_key","keys":["short"]})",
        R"({"type":"jwt","algorithm":"HS256"})",
        R"({"type":"jwt","algorithm":"none","secret":"s"})",
        R"({"type":"jwt","algorithm":"RS256","public_key":"not a key"})",
        R"({"type":"jwt","secret":"s","audience":5})", R"({"type":"jwt","secret":"s","extra":1})",
        R"("jwt")"}) {
    EXPECT_FALSE(RouteAuth::parse(json::parse(bad)).ok()) << bad;
  }
}

TEST(JwtAuthTest, KnownHs256VectorVerifiesButNeedsExp) {
  // The widely published example token (secret "your-256-bit-secret"): its signature is
  // valid, so the check reaches the claims and stops at the missing exp.
  auto a = parse(R"({"type":"jwt","algorithm":"HS256","secret":"your-256-bit-secret"})");
  std::string token =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwi"
      "aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  auto r = a.authenticate(headers({{"Authorization", "Bearer " + token}}), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("exp"), std::string::npos) << r.error().message;
  token[token.size() - 10] = token[token.size() - 10] == 'A' ? 'B' : 'A';
  r = a.authenticate(headers({{"Authorization", "Bearer " + token}}), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("signature"), std::string::npos) << r.error().message;
}

TEST(JwtAuthTest, Hs256ChecksExpiryIssuerAudienceAndAlgorithm) {
  auto a = parse(R"({"type":"jwt","algorithm":"HS256","secret":"s3cret","issuer":"https://issuer",
                     "audience":["api","other"]})");
  json::object hdr{{"alg", "HS256"}, {"typ", "JWT"}};
  json::object claims{{"sub", "u1"},
                      {"iss", "https://issuer"},
                      {"aud", "api"},
                      {"exp", kNow + 60},
                      {"scope", "read write"}};
  auto bearer = [](const std::string& t) { return headers({{"authorization", "Bearer " + t}}); };

  auto ok = a.authenticate(bearer(hs256(hdr, claims, "s3cret")), kNow);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->claims.at("sub"), "u1");
  EXPECT_EQ(ok->scopes, (std::vector<std::string>{"read", "write"}));

  EXPECT_FALSE(a.authenticate(bearer(hs256(hdr, claims, "wrong")), kNow).ok());
  EXPECT_FALSE(a.authenticate(bearer(hs256(hdr, claims, "s3cret")), kNow + 60).ok());  // expired
  auto c = claims;
  c["iss"] = "https://evil";
  EXPECT_FALSE(a.authenticate(bearer(hs256(hdr, c, "s3cret")), kNow).ok());
  c = claims;
  c["aud"] = json::array{"x", "other"};
  EXPECT_TRUE(a.authenticate(bearer(hs256(hdr, c, "s3cret")), kNow).ok());
  c["aud"] = "nope";
  EXPECT_FALSE(a.authenticate(bearer(hs256(hdr, c, "s3cret")), kNow).ok());
  c = claims;
  c["nbf"] = kNow + 10;
  EXPECT_FALSE(a.authenticate(bearer(hs256(hdr, c, "s3cret")), kNow).ok());
  // alg "none" and unsigned tokens never pass.
  json::object none{{"alg", "none"}};
  std::string unsigned_token =
      b64url(json::serialize(none)) + "." + b64url(json::serialize(claims)) + ".";
  EXPECT_FALSE(a.authenticate(bearer(unsigned_token), kNow).ok());
  EXPECT_FALSE(a.authenticate(bearer("a.b"), kNow).ok());
  EXPECT_FALSE(a.authenticate(headers({}), kNow).ok());
}

TEST(JwtAuthTest, Rs256VerifiesWithThePublicKey) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  ASSERT_NE(key, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);

  auto sign = [&](const json::object& claims, const char* alg) {
    json::object hdr{{"alg", alg}};
    std::string input = b64url(json::serialize(hdr)) + "." + b64url(json::serialize(claims));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t n = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(n, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    return input + "." + b64url(sig.substr(0, n));
  };

  json::object spec{{"type", "jwt"}, {"algorithm", "RS256"}, {"public_key", pem}};
  auto a = RouteAuth::parse(spec);
  ASSERT_TRUE(a.ok()) << a.error().message;
  json::object claims{{"sub", "svc"}, {"exp", kNow + 5}};
  auto token = sign(claims, "RS256");
  EXPECT_TRUE(a->authenticate(headers({{"Authorization", "Bearer " + token}}), kNow).ok());
  // The same bytes claimed as HS256 (the classic key-confusion attack) are refused.
  EXPECT_FALSE(
      a->authenticate(headers({{"Authorization", "Bearer " + sign(claims, "HS256")}}), kNow).ok());
  claims["sub"] = "other";
  std::string tampered = token.substr(0, token.find('.')) + "." + b64url(json::serialize(claims)) +
                         token.substr(token.rfind('.'));
  EXPECT_FALSE(a->authenticate(headers({{"Authorization", "Bearer " + tampered}}), kNow).ok());
  EVP_PKEY_free(key);
}

}  // namespace
}  // namespace eddy::sources::http
