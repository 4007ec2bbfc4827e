// Binary mode in (parse_binary) and out (to_binary), and the round trip between them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "events/cloud_event.h"

namespace eddy::events {
namespace {

std::vector<Header> required_headers() {
  return {{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "/s"}, {"ce-type", "t"}};
}

std::vector<Header> plus(std::vector<Header> headers, std::vector<Header> more) {
  headers.insert(headers.end(), more.begin(), more.end());
  return headers;
}

const std::string kStoredRequired = R"({"specversion":"1.0","id":"1","source":"/s","type":"t")";

TEST(BinaryMode, CeHeadersInAnyCaseBecomeAttributesAndOtherHeadersAreIgnored) {
  const std::vector<Header> headers = {{"Host", "localhost"},
                                       {"CE-SpecVersion", "1.0"},
                                       {"Ce-Id", "abc"},
                                       {"ce-source", "/orders"},
                                       {"CE-TYPE", "order.created"},
                                       {"Content-Length", "9"},
                                       {"ce-partitionkey", "customer-7"},
                                       {"ce-count", "5"},
                                       {"cex-ignored", "x"}};
  auto event = parse_binary(headers, "application/json", R"({"a": 1 })", Limits{});
  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->json,
            R"({"specversion":"1.0","id":"abc","source":"/orders","type":"order.created",)"
            R"("datacontenttype":"application/json","partitionkey":"customer-7","count":"5",)"
            R"("data":{"a":1}})");
  EXPECT_EQ(event->id, "abc");
  EXPECT_EQ(event->partition_key, std::optional<std::string>("customer-7"));
}

TEST(BinaryMode, HeaderValuesArePercentDecoded) {
  auto event = parse_binary(plus(required_headers(), {{"ce-subject", "caf%C3%A9%20%2250%25%22+x"}}),
                            "", "", Limits{});
  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->json, kStoredRequired + R"(,"subject":"café \"50%\"+x"})");
}

TEST(BinaryMode, BodyBecomesDataAccordingToTheContentType) {
  struct Case {
    const char* behaviour;
    std::string content_type;
    std::string body;
    std::string stored_suffix;
  };
  const std::vector<Case> cases = {
      {"JSON body is parsed", "application/json", " [1, {\"b\" : null}] ",
       R"(,"datacontenttype":"application/json","data":[1,{"b":null}]})"},
      {"+json types are JSON", "application/vnd.acme+json; charset=utf-8", "\"x\"",
       R"(,"datacontenttype":"application/vnd.acme+json; charset=utf-8","data":"x"})"},
      {"content type case does not matter", "Application/JSON", "true",
       R"(,"datacontenttype":"Application/JSON","data":true})"},
      {"text becomes a JSON string", "text/plain; charset=utf-8", "héllo \"you\"\n",
       R"(,"datacontenttype":"text/plain; charset=utf-8","data":"héllo \"you\"\n"})"},
      {"text that is not UTF-8 is kept as base64", "text/plain", "\xff\xfe",
       R"(,"datacontenttype":"text/plain","data_base64":"//4="})"},
      {"other types are base64", "application/octet-stream", std::string("\x00\x01\x02\x03", 4),
       R"(,"datacontenttype":"application/octet-stream","data_base64":"AAECAw=="})"},
      {"no content type is base64 without a datacontenttype", "", "abc",
       R"(,"data_base64":"YWJj"})"},
      {"an empty body is no data", "application/json", "",
       R"(,"datacontenttype":"application/json"})"},
      {"an empty body without a content type is a bare event", "", "", "}"},
  };
  for (const Case& c : cases) {
    auto event = parse_binary(required_headers(), c.content_type, c.body, Limits{});
    ASSERT_TRUE(event.ok()) << c.behaviour << ": " << event.error().message;
    EXPECT_EQ(event->json, kStoredRequired + c.stored_suffix) << c.behaviour;
  }
}

TEST(BinaryMode, InvalidMessagesAreRejectedWithAMessageNamingTheHeader) {
  struct Case {
    const char* behaviour;
    std::vector<Header> headers;
    std::string content_type;
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"missing source",
       {{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-type", "t"}},
       "",
       "",
       "attribute 'source' (header ce-source) is required"},
      {"no ce headers at all",
       {{"content-type", "application/json"}},
       "application/json",
       "{}",
       "attribute 'specversion' (header ce-specversion) is required"},
      {"wrong specversion",
       plus({{"ce-specversion", "0.3"}}, {{"ce-id", "1"}, {"ce-source", "/s"}, {"ce-type", "t"}}),
       "", "", "attribute 'specversion' (header ce-specversion) must be \"1.0\""},
      {"malformed percent-encoding", plus(required_headers(), {{"ce-subject", "50% off"}}), "", "",
       "header 'ce-subject' is not properly percent-encoded"},
      {"truncated percent-encoding", plus(required_headers(), {{"ce-subject", "a%4"}}), "", "",
       "header 'ce-subject' is not properly percent-encoded"},
      {"decoded value is not UTF-8", plus(required_headers(), {{"ce-subject", "%FF"}}), "", "",
       "header 'ce-subject' is not UTF-8"},
      {"datacontenttype as a header",
       plus(required_headers(), {{"ce-datacontenttype", "text/plain"}}), "", "",
       "ce-datacontenttype is not used in binary mode"},
      {"a header twice", plus(required_headers(), {{"CE-ID", "2"}}), "", "",
       "attribute 'id' (header ce-id) appears more than once"},
      {"an extension twice", plus(required_headers(), {{"ce-x", "1"}, {"ce-X", "2"}}), "", "",
       "attribute 'x' (header ce-x) appears more than once"},
      {"invalid extension name", plus(required_headers(), {{"ce-my_ext", "1"}}), "", "",
       "attribute name 'my_ext' is invalid"},
      {"empty extension name", plus(required_headers(), {{"ce-", "1"}}), "", "",
       "attribute name '' is invalid"},
      {"data as a header", plus(required_headers(), {{"ce-data", "1"}}), "", "",
       "attribute 'data' (header ce-data) cannot be a header"},
      {"invalid time", plus(required_headers(), {{"ce-time", "now"}}), "", "",
       "attribute 'time' (header ce-time) is invalid"},
      {"invalid source",
       {{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "a%20b c"}, {"ce-type", "t"}},
       "",
       "",
       "attribute 'source' (header ce-source) must be a URI-reference"},
      {"JSON content type with a body that is not JSON", required_headers(), "application/json",
       "{\"a\":", "the body (Content-Type application/json) is not valid JSON"},
      {"content type that is not a media type", required_headers(), "garbage", "x",
       "Content-Type 'garbage' is not a media type"},
  };
  for (const Case& c : cases) {
    auto event = parse_binary(c.headers, c.content_type, c.body, Limits{});
    ASSERT_FALSE(event.ok()) << c.behaviour << " was accepted: " << event->json;
    EXPECT_EQ(event.error().code, Errc::invalid_event) << c.behaviour;
    EXPECT_NE(event.error().message.find(c.message), std::string::npos)
        << c.behaviour << ": got '" << event.error().message << "', want '" << c.message << "'";
  }
}

TEST(BinaryMode, StoredSizeLimitApplies) {
  auto event = parse_binary(required_headers(), "application/octet-stream", std::string(300, 'x'),
                            Limits{200});
  ASSERT_FALSE(event.ok());
  EXPECT_EQ(event.error().code, Errc::too_large);
}

TEST(ToBinary, AttributesBecomePercentEncodedCeHeaders) {
  auto message = to_binary(
      R"({"specversion":"1.0","id":"a b","source":"/s","type":"t","subject":"café \"50%\"",)"
      R"("count":42,"flag":false,"data":{"x":1}})");
  ASSERT_TRUE(message.ok()) << message.error().message;
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"ce-specversion", "1.0"},
      {"ce-id", "a%20b"},
      {"ce-source", "/s"},
      {"ce-type", "t"},
      {"ce-subject", "caf%C3%A9%20%2250%25%22"},
      {"ce-count", "42"},
      {"ce-flag", "false"}};
  EXPECT_EQ(message->headers, expected);
  EXPECT_EQ(message->content_type, "application/json");
  EXPECT_EQ(message->body, R"({"x":1})");
}

TEST(ToBinary, BodyFollowsTheDataAndItsContentType) {
  struct Case {
    const char* behaviour;
    std::string stored_suffix;
    std::string content_type;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"data_base64 is decoded", R"(,"datacontenttype":"image/png","data_base64":"AAECAw=="})",
       "image/png", std::string("\x00\x01\x02\x03", 4)},
      {"a string under a text type is the text",
       R"(,"datacontenttype":"text/plain","data":"hi\n\"x\""})", "text/plain", "hi\n\"x\""},
      {"a string under a JSON type stays JSON",
       R"(,"datacontenttype":"application/json","data":"hi"})", "application/json", "\"hi\""},
      {"data without a content type is JSON", R"(,"data":[1,2]})", "application/json", "[1,2]"},
      {"a non-string under a text type is its JSON", R"(,"datacontenttype":"text/plain","data":5})",
       "text/plain", "5"},
      {"no data, no body", "}", "", ""},
      {"a content type without data", R"(,"datacontenttype":"text/plain"})", "text/plain", ""},
  };
  for (const Case& c : cases) {
    auto message = to_binary(kStoredRequired + c.stored_suffix);
    ASSERT_TRUE(message.ok()) << c.behaviour << ": " << message.error().message;
    EXPECT_EQ(message->content_type, c.content_type) << c.behaviour;
    EXPECT_EQ(message->body, c.body) << c.behaviour;
    EXPECT_EQ(message->headers.size(), 4u) << c.behaviour;
  }
}

TEST(ToBinary, TextThatIsNotAStoredEventIsCorrupt) {
  for (const char* text : {"", "[]", "{", R"({"id":"1)", R"({"id":"\x"})",
                           R"({"data_base64":"**"})", R"({"id" "1"})"}) {
    auto message = to_binary(text);
    ASSERT_FALSE(message.ok()) << text;
    EXPECT_EQ(message.error().code, Errc::corrupt) << text;
  }
}

TEST(BinaryRoundTrip, ParseToBinaryParseReproducesTheEvent) {
  struct Case {
    const char* behaviour;
    std::vector<Header> headers;
    std::string content_type;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"JSON data", plus(required_headers(), {{"ce-partitionkey", "k"}}), "application/json",
       R"({"a":[1,2.50,"é"],"b":{"c":null}})"},
      {"every attribute",
       plus(required_headers(),
            {{"ce-subject", "a%20%25%22%C3%A9"},
             {"ce-dataschema", "https://example.com/s.json"},
             {"ce-time", "2026-11-27T13:33:34.123456+02:00"},
             {"ce-traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}),
       "application/cloudevents+json", "[]"},
      {"text data", required_headers(), "text/plain; charset=utf-8", "line 1\nline \"2\"\t\x01"},
      {"binary data", required_headers(), "application/octet-stream",
       std::string("\x00\xff\x10", 3)},
      {"text type with bytes that are not UTF-8", required_headers(), "text/csv", "a,\xc3"},
      {"no content type", required_headers(), "", "raw"},
      {"no data", required_headers(), "", ""},
      {"a JSON string", required_headers(), "application/json", "\"quoted\""},
      {"control and non-ASCII characters in values",
       plus(required_headers(), {{"ce-note", "%00%01%7F%E2%82%AC%20tab%09"}}), "", ""},
  };
  for (const Case& c : cases) {
    auto first = parse_binary(c.headers, c.content_type, c.body, Limits{});
    ASSERT_TRUE(first.ok()) << c.behaviour << ": " << first.error().message;
    auto message = to_binary(first->json);
    ASSERT_TRUE(message.ok()) << c.behaviour << ": " << message.error().message;
    std::vector<Header> headers;
    for (const auto& [name, value] : message->headers) headers.push_back({name, value});
    auto second = parse_binary(headers, message->content_type, message->body, Limits{});
    ASSERT_TRUE(second.ok()) << c.behaviour << ": " << second.error().message;
    EXPECT_EQ(second->json, first->json) << c.behaviour;
    EXPECT_EQ(second->id, first->id) << c.behaviour;
    EXPECT_EQ(second->partition_key, first->partition_key) << c.behaviour;
    // Header values are sent as the binding requires: printable ASCII only, no `"`, no bare %.
    for (const auto& [name, value] : message->headers) {
      for (size_t i = 0; i < value.size(); ++i) {
        const char ch = value[i];
        EXPECT_TRUE(ch > 0x20 && ch < 0x7f && ch != '"') << c.behaviour << ": " << name;
        if (ch == '%') {
          EXPECT_LE(i + 2, value.size() - 1) << c.behaviour << ": " << name;
        }
      }
    }
  }
}

TEST(BinaryRoundTrip, StructuredEventsKeepEveryAttributeAsText) {
  auto structured = parse_structured(
      R"({"specversion":"1.0","id":"1","source":"/s","type":"t","count":7,"on":true,"data":{"k":"v"}})",
      Limits{});
  ASSERT_TRUE(structured.ok());
  auto message = to_binary((*structured)[0].json);
  ASSERT_TRUE(message.ok());
  std::vector<Header> headers;
  for (const auto& [name, value] : message->headers) headers.push_back({name, value});
  auto back = parse_binary(headers, message->content_type, message->body, Limits{});
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->json,
            R"({"specversion":"1.0","id":"1","source":"/s","type":"t",)"
            R"("datacontenttype":"application/json","count":"7","on":"true","data":{"k":"v"}})");
}

}  // namespace
}  // namespace eddy::events
