#include "sources/webhooks/signature.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <map>

#include "common/text.h"

namespace eddy::sources::webhooks {
namespace {

namespace json = boost::json;
constexpr int64_t kT = 1700000000;
constexpr std::string_view kStripeBody = R"({"id":"evt_1","type":"payment_intent.succeeded"})";
// HMAC-SHA256("whsec_test_secret", "1700000000." + kStripeBody), computed with openssl dgst.
constexpr std::string_view kStripeSig =
    "22d8dc182f5c588077683bd378368e29765bfe5df2560112b4f28fef120f0e31";

HeaderLookup headers(std::map<std::string, std::string> h) {
  return [h = std::move(h)](std::string_view name) -> std::string_view {
    for (const auto& [k, v] : h) {
      if (iequals(k, name)) return v;
    }
    return {};
  };
}

VerifyConfig config(const char* text) {
  auto c = VerifyConfig::parse(json::parse(text));
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? *c : VerifyConfig();
}

TEST(StripeSignatureTest, KnownVectorVerifiesAndCarriesIdAndType) {
  auto c = config(R"({"scheme":"stripe","secret":"whsec_test_secret"})");
  std::string header = "t=1700000000,v1=" + std::string(kStripeSig);
  auto d = verify(c, headers({{"Stripe-Signature", header}}), kStripeBody, kT + 10);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->id, "evt_1");
  EXPECT_EQ(d->type, "payment_intent.succeeded");
  EXPECT_EQ(d->timestamp_s, kT);
  EXPECT_EQ(stripe_signature_header("whsec_test_secret", kStripeBody, kT), header);
}

TEST(StripeSignatureTest, AnyOfSeveralV1ValuesAndAnyOfSeveralSecrets) {
  std::string good = "v1=" + std::string(kStripeSig);
  std::string other = "v1=" + std::string(64, 'a');
  auto c = config(R"({"scheme":"stripe","secret":"whsec_test_secret"})");
  EXPECT_TRUE(
      verify(c, headers({{"Stripe-Signature", "t=1700000000," + other + "," + good + ",v0=ff"}}),
             kStripeBody, kT)
          .ok());
  auto rotated = config(R"({"scheme":"stripe","secrets":["whsec_new","whsec_test_secret"]})");
  EXPECT_TRUE(
      verify(rotated, headers({{"Stripe-Signature", "t=1700000000," + good}}), kStripeBody, kT)
          .ok());
}

TEST(StripeSignatureTest, RefusesTamperingStaleAndFutureTimestampsAndMalformedHeaders) {
  auto c = config(R"({"scheme":"stripe","secret":"whsec_test_secret"})");
  std::string header = "t=1700000000,v1=" + std::string(kStripeSig);
  auto h = headers({{"Stripe-Signature", header}});
  std::string body(kStripeBody);
  body.back() = ' ';
  EXPECT_FALSE(verify(c, h, body, kT).ok());
  EXPECT_FALSE(verify(c, h, kStripeBody, kT + 301).ok());  // stale: beyond 300 s
  EXPECT_TRUE(verify(c, h, kStripeBody, kT + 300).ok());
  EXPECT_FALSE(verify(c, h, kStripeBody, kT - 301).ok());  // from the future
  auto wrong = config(R"({"scheme":"stripe","secret":"whsec_other"})");
  EXPECT_FALSE(verify(wrong, h, kStripeBody, kT).ok());
  for (const char* bad : {"", "v1=abc", "t=1700000000",
                          "t=x,v1="
                          "22d8",
                          "garbage"}) {
    EXPECT_FALSE(verify(c, headers({{"Stripe-Signature", bad}}), kStripeBody, kT).ok()) << bad;
  }
  // A signature for another timestamp does not carry over to this one.
  EXPECT_FALSE(verify(c,
                      headers({{"Stripe-Signature", "t=1700000001,v1=" + std::string(kStripeSig)}}),
                      kStripeBody, kT)
                   .ok());
  auto tight = config(R"({"scheme":"stripe","secret":"whsec_test_secret","tolerance_s":5})");
  EXPECT_FALSE(verify(tight, h, kStripeBody, kT + 6).ok());
}

TEST(GithubSignatureTest, DocumentedVector) {
  // GitHub's documentation: secret "It's a Secret to Everybody", payload "Hello, World!".
  auto c = config(R"({"scheme":"github","secret":"It's a Secret to Everybody"})");
  auto h = headers({{"X-Hub-Signature-256",
                     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
                    {"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
                    {"X-GitHub-Event", "push"}});
  auto d = verify(c, h, "Hello, World!", kT);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  EXPECT_EQ(d->type, "push");
  EXPECT_FALSE(verify(c, h, "Hello, World?", kT).ok());
  EXPECT_FALSE(verify(c, headers({{"X-Hub-Signature-256", "757107ea"}}), "Hello, World!", kT).ok());
  EXPECT_FALSE(verify(c, headers({}), "Hello, World!", kT).ok());
}

TEST(HmacSignatureTest, SlackStyleTemplateWithTimestamp) {
  auto c = config(R"({"scheme":"hmac","secret":"slack_secret","header":"X-Slack-Signature",
      "prefix":"v0=","timestamp_header":"X-Slack-Request-Timestamp",
      "signed_payload":"v0:{timestamp}:{body}"})");
  auto h = headers(
      {{"X-Slack-Signature", "v0=f4f363b55b437d6da62b856ebbffcfdc017ea45d0b8f5e33087de05ac3c33d81"},
       {"X-Slack-Request-Timestamp", "1700000000"}});
  EXPECT_TRUE(verify(c, h, "token=abc&team_id=T1", kT).ok());
  EXPECT_FALSE(verify(c, h, "token=abc&team_id=T2", kT).ok());
  EXPECT_FALSE(verify(c, h, "token=abc&team_id=T1", kT + 1000).ok());
  EXPECT_FALSE(
      verify(c, headers({{"X-Slack-Signature", "v0=f4f3"}}), "token=abc&team_id=T1", kT).ok());
}

TEST(HmacSignatureTest, Base64Sha1AndHexSha512) {
  auto sha1 = config(R"({"scheme":"hmac","secret":"k3y","header":"X-Sig","algorithm":"sha1",
                         "encoding":"base64","id_header":"X-Id"})");
  auto d = verify(sha1, headers({{"X-Sig", "4Q3Ul+IU08Eklu9KIVp5Uy4yTio="}, {"X-Id", "d-1"}}),
                  "payload", kT);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->id, "d-1");
  auto sha512 = config(R"({"scheme":"hmac","secret":"k3y","header":"X-Sig","algorithm":"sha512"})");
  EXPECT_TRUE(
      verify(sha512,
             headers({{"X-Sig",
                       "bogus 26e49ff37676cb0db9a8328b0ed24cb028616db675e7330beb6f59eb15890ca4"
                       "dfeb32bdbef5d672200b0742e584364daf2b3754280c92e3267f2c9cc73ffe40"}}),
             "payload", kT)
          .ok());
  EXPECT_FALSE(verify(sha512, headers({{"X-Sig", "26e49ff3"}}), "payload", kT).ok());
}

TEST(VerifyConfigTest, RefusesIncompleteConfigs) {
  for (const char* bad :
       {R"({"scheme":"stripe"})", R"({"scheme":"paypal","secret":"s"})",
        R"({"scheme":"stripe","secret":""})", R"({"scheme":"stripe","secret":"s","tolerance_s":0})",
        R"({"scheme":"stripe","secret":"s","header":"X"})", R"({"scheme":"hmac","secret":"s"})",
        R"({"scheme":"hmac","secret":"s","header":"X","algorithm":"md5"})",
        R"({"scheme":"hmac","secret":"s","header":"X","signed_payload":"{timestamp}"})",
        R"({"scheme":"hmac","secret":"s","header":"X","signed_payload":"{timestamp}.{body}"})",
        R"({"scheme":"github","secret":"<redacted>"})"}) {
    EXPECT_FALSE(VerifyConfig::parse(json::parse(bad)).ok()) << bad;
  }
}

TEST(VerifyConfigTest, RoundTripsThroughItsStoredForm) {
  auto c = config(R"({"scheme":"hmac","secret":"k","header":"X-Sig","prefix":"sha256=",
                      "timestamp_header":"X-Ts","tolerance_s":60})");
  auto again = VerifyConfig::parse(c.to_json(false));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->secrets, c.secrets);
  EXPECT_EQ(again->signed_payload, "{timestamp}.{body}");
  EXPECT_EQ(again->tolerance_s, 60);
  EXPECT_EQ(c.to_json(true).as_object().at("secrets").as_array()[0], "<redacted>");
}

}  // namespace
}  // namespace eddy::sources::webhooks
