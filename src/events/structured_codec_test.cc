// Structured and batch mode, plain bodies: the CloudEvents 1.0.2 rules and the stored form.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>
#include <string>
#include <vector>

#include "events/cloud_event.h"

namespace eddy::events {
namespace {

const std::string kRequired = R"("specversion":"1.0","id":"1","source":"/s","type":"t")";
const std::string kStoredRequired = R"({"specversion":"1.0","id":"1","source":"/s","type":"t")";

// An event body: the required attributes plus `more` members.
std::string with(const std::string& more) {
  return "{" + kRequired + (more.empty() ? "" : "," + more) + "}";
}

struct Valid {
  const char* behaviour;
  std::string body;
  std::string stored;
};

TEST(StructuredMode, ValidEventsAreStoredInCanonicalForm) {
  const std::vector<Valid> cases = {
      {"minimal", with(""), kStoredRequired + "}"},
      {"whitespace removed and attributes put in canonical order",
       "\n{ \"type\" : \"t\" ,\t\"source\":\"/s\",\r\n \"id\":\"1\", \"specversion\" : \"1.0\" }\n",
       kStoredRequired + "}"},
      {"optional attributes after the required ones",
       R"({"time":"2026-11-27T13:33:34.5+01:00","subject":"sub","dataschema":"https://x.io/s.json",)"
       R"("datacontenttype":"application/json; charset=utf-8",)" +
           kRequired + "}",
       kStoredRequired + R"(,"datacontenttype":"application/json; charset=utf-8",)"
                         R"("dataschema":"https://x.io/s.json","subject":"sub",)"
                         R"("time":"2026-11-27T13:33:34.5+01:00"})"},
      {"extensions keep their order and types, after the spec attributes",
       R"({"zeta":"z","count":42,"flag":true,"neg":-7,"off":false,)" + kRequired + "}",
       kStoredRequired + R"(,"zeta":"z","count":42,"flag":true,"neg":-7,"off":false})"},
      {"null attributes are dropped",
       with(R"("subject":null,"ext":null,"time":null,"data_base64":null)"), kStoredRequired + "}"},
      {"integer range limits are accepted", with(R"("max":2147483647,"min":-2147483648,"zero":-0)"),
       kStoredRequired + R"(,"max":2147483647,"min":-2147483648,"zero":0})"},
      {"a name longer than the spec's recommended 20 characters is accepted",
       with(R"("averyveryverylongextensionname123":"v")"),
       kStoredRequired + R"(,"averyveryverylongextensionname123":"v"})"},
      {"raw UTF-8 is kept", with(R"("subject":"é中😀")"), kStoredRequired + R"(,"subject":"é中😀"})"},
      {"escapes are decoded to their canonical form",
       with(R"("subject":"\u00e9\u4e2d\ud83d\ude00 a\/b \u0041 \"q\" \\ \n\t\u001f\u007f")"),
       kStoredRequired + R"(,"subject":"é中😀 a/b A \"q\" \\ \n\t\u001f)"
                         "\x7f"
                         R"("})"},
      {"an escaped attribute name is its unescaped name",
       R"({"specversion":"1.0","\u0069d":"1","source":"/s","type":"t"})", kStoredRequired + "}"},
      {"data is minified and comes last",
       "{\"data\": { \"a\" : [ 1 , 2 ] , \"b\" : { } }, " + kRequired + "}",
       kStoredRequired + R"(,"data":{"a":[1,2],"b":{}}})"},
      {"numbers in data are kept exactly as written",
       with(
           R"("data":[123456789012345678901234567890,-0.000001e-400,1.50E+3,1e999,-0,1e0000123456])"),
       kStoredRequired +
           R"(,"data":[123456789012345678901234567890,-0.000001e-400,1.50E+3,1e999,-0,1e0000123456]})"},
      {"strings inside data are canonicalised too", with(R"("data":{"k\u0041":"\u00e9\/"})"),
       kStoredRequired + R"(,"data":{"kA":"é/"}})"},
      {"duplicate keys inside data are kept", with(R"("data":{"a":1,"a":2})"),
       kStoredRequired + R"(,"data":{"a":1,"a":2}})"},
      {"data may be a string", with(R"("data":"hello")"), kStoredRequired + R"(,"data":"hello"})"},
      {"data may be null (JSON null is data)", with(R"("data":null)"),
       kStoredRequired + R"(,"data":null})"},
      {"data may be a number or boolean", with(R"("data":true)"),
       kStoredRequired + R"(,"data":true})"},
      {"data_base64 is kept as sent", with(R"("data_base64":"aGVsbG8=")"),
       kStoredRequired + R"(,"data_base64":"aGVsbG8="})"},
      {"unpadded data_base64 is accepted", with(R"("data_base64":"aGVsbG8")"),
       kStoredRequired + R"(,"data_base64":"aGVsbG8"})"},
      {"empty data_base64 is empty data", with(R"("data_base64":"")"),
       kStoredRequired + R"(,"data_base64":""})"},
      {"null data_base64 alongside data is absent", with(R"("data_base64":null,"data":1)"),
       kStoredRequired + R"(,"data":1})"},
      {"sources may be any URI-reference",
       R"({"specversion":"1.0","id":"1","source":"urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66","type":"t"})",
       R"({"specversion":"1.0","id":"1","source":"urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66","type":"t"})"},
      {"empty extension strings are values", with(R"("ext":"")"),
       kStoredRequired + R"(,"ext":""})"},
  };
  for (const Valid& c : cases) {
    auto result = parse_structured(c.body, Limits{});
    ASSERT_TRUE(result.ok()) << c.behaviour << ": " << result.error().message;
    ASSERT_EQ(result->size(), 1u) << c.behaviour;
    EXPECT_EQ((*result)[0].json, c.stored) << c.behaviour;
    // The stored form is a fixed point: parsing it again gives it back.
    auto again = parse_structured((*result)[0].json, Limits{});
    ASSERT_TRUE(again.ok()) << c.behaviour << ": " << again.error().message;
    EXPECT_EQ((*again)[0].json, c.stored) << c.behaviour;
  }
}

TEST(StructuredMode, LeadingByteOrderMarkIsIgnored) {
  auto single = parse_structured("\xEF\xBB\xBF" + with(""), Limits{});
  ASSERT_TRUE(single.ok()) << single.error().message;
  EXPECT_EQ((*single)[0].json, kStoredRequired + "}");
  auto batch = parse_batch("\xEF\xBB\xBF[" + with("") + "]", Limits{});
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  auto plain = wrap_plain("\xEF\xBB\xBF{}", "t", "id", 0, Limits{});
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  // Only at the very start.
  EXPECT_FALSE(parse_structured(" \xEF\xBB\xBF" + with(""), Limits{}).ok());
}

TEST(StructuredMode, IdAndPartitionKeyAreExtractedUnescaped) {
  auto result = parse_structured(
      R"({"specversion":"1.0","id":"a\u00e9\"b","source":"/s","type":"t","partitionkey":"k\n1"})",
      Limits{});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)[0].id, "aé\"b");
  EXPECT_EQ((*result)[0].partition_key, std::optional<std::string>("k\n1"));

  auto without = parse_structured(with(""), Limits{});
  ASSERT_TRUE(without.ok());
  EXPECT_FALSE((*without)[0].partition_key.has_value());
}

struct Invalid {
  const char* behaviour;
  std::string body;
  std::string message;  // a part of the expected message
};

TEST(StructuredMode, InvalidEventsAreRejectedWithAMessageNamingTheAttribute) {
  const std::vector<Invalid> cases = {
      {"specversion missing", R"({"id":"1","source":"/s","type":"t"})",
       "attribute 'specversion' is required"},
      {"id missing", R"({"specversion":"1.0","source":"/s","type":"t"})",
       "attribute 'id' is required"},
      {"source missing", R"({"specversion":"1.0","id":"1","type":"t"})",
       "attribute 'source' is required"},
      {"type missing", R"({"specversion":"1.0","id":"1","source":"/s"})",
       "attribute 'type' is required"},
      {"a null required attribute is missing",
       R"({"specversion":"1.0","id":null,"source":"/s","type":"t"})", "attribute 'id' is required"},
      {"specversion 0.3", R"({"specversion":"0.3","id":"1","source":"/s","type":"t"})",
       "attribute 'specversion' must be \"1.0\""},
      {"specversion as a number", R"({"specversion":1.0,"id":"1","source":"/s","type":"t"})",
       "attribute 'specversion'"},
      {"specversion as an integer", R"({"specversion":1,"id":"1","source":"/s","type":"t"})",
       "attribute 'specversion' must be a string"},
      {"empty id", R"({"specversion":"1.0","id":"","source":"/s","type":"t"})",
       "attribute 'id' must be a non-empty string"},
      {"id as a number", R"({"specversion":"1.0","id":5,"source":"/s","type":"t"})",
       "attribute 'id' must be a string"},
      {"empty type", R"({"specversion":"1.0","id":"1","source":"/s","type":""})",
       "attribute 'type' must be a non-empty string"},
      {"type as a boolean", R"({"specversion":"1.0","id":"1","source":"/s","type":true})",
       "attribute 'type' must be a string"},
      {"empty source", R"({"specversion":"1.0","id":"1","source":"","type":"t"})",
       "attribute 'source' must be a non-empty URI-reference"},
      {"source with a space", R"({"specversion":"1.0","id":"1","source":"a b","type":"t"})",
       "attribute 'source' must be a URI-reference"},
      {"source with a bad escape", R"({"specversion":"1.0","id":"1","source":"/a%zz","type":"t"})",
       "attribute 'source' must be a URI-reference"},
      {"source with a colon in a relative first segment",
       R"({"specversion":"1.0","id":"1","source":"1a:b","type":"t"})",
       "attribute 'source' must be a URI-reference"},
      {"datacontenttype without a subtype", with(R"("datacontenttype":"json")"),
       "attribute 'datacontenttype' must be a media type"},
      {"datacontenttype with a space", with(R"("datacontenttype":"text/ plain")"),
       "attribute 'datacontenttype' must be a media type"},
      {"relative dataschema", with(R"("dataschema":"/schema.json")"),
       "attribute 'dataschema' must be an absolute URI"},
      {"empty dataschema", with(R"("dataschema":"")"),
       "attribute 'dataschema' must be an absolute URI"},
      {"empty subject", with(R"("subject":"")"), "attribute 'subject' must be a non-empty string"},
      {"time in words", with(R"("time":"yesterday")"), "attribute 'time' is invalid"},
      {"time on a day that does not exist", with(R"("time":"2023-02-29T00:00:00Z")"),
       "attribute 'time' is invalid"},
      {"time without a zone", with(R"("time":"2023-02-01T00:00:00")"),
       "attribute 'time' is invalid"},
      {"time as a number", with(R"("time":1700000000)"), "attribute 'time' must be a string"},
      {"uppercase extension name", with(R"("Ext":"v")"), "attribute name 'Ext' is invalid"},
      {"dash in an extension name", with(R"("my-ext":"v")"), "attribute name 'my-ext' is invalid"},
      {"underscore in an extension name", with(R"("my_ext":"v")"),
       "attribute name 'my_ext' is invalid"},
      {"empty attribute name", with(R"("":"v")"), "attribute name '' is invalid"},
      {"non-ASCII attribute name", with(R"("ünï":"v")"), "attribute name '"},
      {"object attribute", with(R"("ext":{"a":1})"),
       "attribute 'ext' must be a string, integer or boolean, not an object"},
      {"array attribute", with(R"("ext":[1])"),
       "attribute 'ext' must be a string, integer or boolean, not an array"},
      {"fractional attribute", with(R"("ext":1.5)"),
       "attribute 'ext' must be a string, a boolean or an integer"},
      {"exponent attribute", with(R"("ext":1e3)"),
       "attribute 'ext' must be a string, a boolean or an integer"},
      {"attribute above the Integer range", with(R"("ext":2147483648)"),
       "from -2147483648 to 2147483647 (got 2147483648)"},
      {"attribute below the Integer range", with(R"("ext":-2147483649)"),
       "from -2147483648 to 2147483647"},
      {"huge integer attribute", with(R"("ext":123456789012345678901234567890)"),
       "attribute 'ext' must be a string, a boolean or an integer"},
      {"non-string partitionkey", with(R"("partitionkey":5)"),
       "attribute 'partitionkey' must be a string"},
      {"data and data_base64 together", with(R"("data":1,"data_base64":"aGk=")"),
       "'data' and 'data_base64' are both present"},
      {"data_base64 with a bad character", with(R"("data_base64":"aGV$bG8=")"),
       "attribute 'data_base64' is not valid base64"},
      {"data_base64 with whitespace", with(R"("data_base64":"aGVs bG8=")"),
       "attribute 'data_base64' is not valid base64"},
      {"data_base64 badly padded", with(R"("data_base64":"aGk==")"),
       "attribute 'data_base64' is not valid base64"},
      {"data_base64 as a number", with(R"("data_base64":5)"),
       "attribute 'data_base64' must be a base64 string"},
      {"duplicate id", with(R"("id":"2")"), "attribute 'id' appears more than once"},
      {"duplicate id spelled with an escape", with(R"("\u0069d":"2")"),
       "attribute 'id' appears more than once"},
      {"duplicate null attribute", with(R"("subject":null,"subject":"x")"),
       "attribute 'subject' appears more than once"},
      {"duplicate extension", with(R"("ext":"a","ext":1)"),
       "attribute 'ext' appears more than once"},
      {"duplicate data", with(R"("data":1,"data":2)"), "attribute 'data' appears more than once"},
      {"duplicate data_base64", with(R"("data_base64":"","data_base64":"")"),
       "attribute 'data_base64' appears more than once"},
      {"invalid literal in data", with(R"("data":{"a":tru})"),
       "attribute 'data' is not valid JSON"},
      {"trailing comma in data", with(R"("data":[1,])"), "not valid JSON"},
      {"leading zero in data", with(R"("data":01)"), "attribute 'data' is not valid JSON"},
      {"bare minus in data", with(R"("data":-)"), "attribute 'data' is not valid JSON"},
      {"exponent beyond any number type", with(R"("data":[1e1234567])"),
       "attribute 'data' is not valid JSON: a number's exponent has more than 6 digits"},
      {"lone surrogate", with(R"("subject":"\ud800")"), "not valid JSON"},
      {"bad escape", with(R"("subject":"\x")"), "not valid JSON"},
      {"raw control character", with("\"subject\":\"a\tb\""), "not valid JSON"},
      {"invalid UTF-8", with("\"subject\":\"\xff\""), "not valid JSON"},
      {"string value followed by a colon", with(R"("data":"a":1)"), "not valid JSON"},
      {"string value followed by a colon, with the braces balanced again",
       with(R"("data":"a":[1,-2.5e3],"b":"\"q\""})"), "not valid JSON"},
      {"string attribute followed by a colon", with(R"("subject":"a":"b")"), "not valid JSON"},
      {"string in a data array followed by a colon", with(R"("data":["a":1])"), "not valid JSON"},
      {"number value followed by a colon", with(R"("data":1:2)"), "not valid JSON"},
      {"integer attribute followed by a colon", with(R"("ext":1:2)"), "not valid JSON"},
      {"literal attribute followed by a colon", with(R"("ext":true:2)"), "not valid JSON"},
      {"key without a value", with(R"("data")"), "not valid JSON"},
      {"empty body", "", "the request body is empty"},
      {"blank body", " \n ", "the request body is empty"},
      {"not JSON", "hello", "not valid JSON"},
      {"unterminated object", "{", "not valid JSON"},
      {"unterminated string", R"({"id":"1)", "not valid JSON"},
      {"array body", "[]", "must be a JSON object; the body is an array"},
      {"string body", "\"x\"", "must be a JSON object; the body is a string"},
      {"number body", "42", "must be a JSON object; the body is a number"},
      {"text after the event", with("") + " {}", "not valid JSON"},
      {"extra closing brace", with("") + "}", "not valid JSON"},
  };
  for (const Invalid& c : cases) {
    auto result = parse_structured(c.body, Limits{});
    ASSERT_FALSE(result.ok()) << c.behaviour << " was accepted: " << (*result)[0].json;
    EXPECT_EQ(result.error().code, Errc::invalid_event) << c.behaviour;
    EXPECT_NE(result.error().message.find(c.message), std::string::npos)
        << c.behaviour << ": got '" << result.error().message << "', want '" << c.message << "'";
  }
}

std::string nested(int depth) {
  return std::string(static_cast<size_t>(depth), '[') +
         std::string(static_cast<size_t>(depth), ']');
}

TEST(StructuredMode, DeepDataIsAcceptedUpToTheNestingLimit) {
  auto ok = parse_structured(with("\"data\":" + nested(200)), Limits{});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ((*ok)[0].json, kStoredRequired + ",\"data\":" + nested(200) + "}");

  auto deep = parse_structured(with("\"data\":" + nested(300)), Limits{});
  auto deeper = parse_structured(with("\"data\":" + nested(100000)), Limits{});
  ASSERT_FALSE(deeper.ok());
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().code, Errc::invalid_event);
  EXPECT_NE(deep.error().message.find("nested"), std::string::npos) << deep.error().message;
}

TEST(StructuredMode, ManyExtensionsAreCheckedForDuplicates) {
  std::string more;
  for (int i = 0; i < 100; ++i) more += "\"x" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  auto ok = parse_structured(with(more + "\"last\":1"), Limits{});
  ASSERT_TRUE(ok.ok()) << ok.error().message;

  auto dup = parse_structured(with(more + "\"x57\":1"), Limits{});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("attribute 'x57' appears more than once"), std::string::npos)
      << dup.error().message;
}

TEST(EventLimits, StoredSizeAtTheLimitIsAcceptedAndOneByteMoreIsTooLarge) {
  const std::string body = with(R"("data":{ "text" : "some payload here" })");
  auto sized = parse_structured(body, Limits{});
  ASSERT_TRUE(sized.ok());
  const size_t stored = (*sized)[0].json.size();

  EXPECT_TRUE(parse_structured(body, Limits{stored}).ok());
  auto over = parse_structured(body, Limits{stored - 1});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::too_large);
  EXPECT_NE(over.error().message.find(std::to_string(stored - 1)), std::string::npos)
      << over.error().message;
  // The limit applies to the stored form, not the body: whitespace does not count.
  const std::string padded =
      with(std::string(5000, ' ') + R"("data":{ "text" : "some payload here" })");
  EXPECT_TRUE(parse_structured(padded, Limits{stored}).ok());
}

std::string event_with_id(int i) {
  return R"({"specversion":"1.0","id":"e)" + std::to_string(i) +
         R"(","source":"/s","type":"t","data":)" + std::to_string(i) + "}";
}

TEST(BatchMode, EmptyArrayGivesNoEvents) {
  auto result = parse_batch(" [ ] ", Limits{});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(result->empty());
}

TEST(BatchMode, EventsComeBackInOrder) {
  auto result = parse_batch(
      "[" + event_with_id(0) + ",\n " + event_with_id(1) + " , " + event_with_id(2) + "]",
      Limits{});
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(result->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*result)[static_cast<size_t>(i)].id, "e" + std::to_string(i));
    EXPECT_EQ((*result)[static_cast<size_t>(i)].json, event_with_id(i));
  }
}

TEST(BatchMode, OneBadEventRejectsTheWholeBatchNamingItsIndex) {
  const std::string bad = R"({"specversion":"1.0","id":"x","type":"t"})";
  auto result = parse_batch("[" + event_with_id(0) + "," + event_with_id(1) + "," +
                                event_with_id(2) + "," + bad + "," + event_with_id(4) + "]",
                            Limits{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::invalid_event);
  EXPECT_EQ(result.error().message, "event[3]: attribute 'source' is required");
}

TEST(BatchMode, ErrorsInsideABatchAreIndexed) {
  struct Case {
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"[" + event_with_id(0) + ",42]",
       "event[1]: must be a CloudEvent (a JSON object), not a number"},
      {"[" + event_with_id(0) + ",[]]",
       "event[1]: must be a CloudEvent (a JSON object), not an array"},
      {"[" + event_with_id(0) + "," + with(R"("data":[1,,2])") + "]",
       "event[1]: attribute 'data' is not valid JSON"},
      {"[" + with(R"("Bad":1)") + "]", "event[0]: attribute name 'Bad' is invalid"},
      {"[" + event_with_id(0) + "," + with(R"("ext":{})") + "]",
       "event[1]: attribute 'ext' must be a string, integer or boolean"},
  };
  for (const Case& c : cases) {
    auto result = parse_batch(c.body, Limits{});
    ASSERT_FALSE(result.ok()) << c.body;
    EXPECT_EQ(result.error().message.rfind(c.message, 0), 0u)
        << "got '" << result.error().message << "', want it to start with '" << c.message << "'";
  }
}

TEST(BatchMode, BodyMustBeOneJsonArray) {
  auto object = parse_batch(event_with_id(0), Limits{});
  ASSERT_FALSE(object.ok());
  EXPECT_NE(object.error().message.find("must be a JSON array of events; the body is an object"),
            std::string::npos);
  EXPECT_FALSE(parse_batch("[" + event_with_id(0) + "] []", Limits{}).ok());
  EXPECT_FALSE(parse_batch("[" + event_with_id(0) + ",]", Limits{}).ok());
  EXPECT_FALSE(parse_batch("[" + event_with_id(0), Limits{}).ok());
  EXPECT_FALSE(parse_batch("", Limits{}).ok());
}

TEST(BatchMode, AnOversizedEventRejectsTheBatch) {
  const std::string big = with("\"data\":\"" + std::string(300, 'x') + "\"");
  auto result = parse_batch("[" + event_with_id(0) + "," + big + "]", Limits{200});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::too_large);
  EXPECT_EQ(result.error().message.rfind("event[1]: ", 0), 0u) << result.error().message;
  EXPECT_NE(result.error().message.find("200 bytes"), std::string::npos) << result.error().message;
}

TEST(WrapPlain, WrapsAJsonBodyAsAnEddyPublishedEvent) {
  auto event = wrap_plain(" { \"order\" : 17, \"items\": [ \"a\" ] } ", "orders", "abc-1",
                          1795786414123, Limits{});
  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(
      event->json,
      R"({"specversion":"1.0","id":"abc-1","source":"/topics/orders","type":"eddy.published",)"
      R"("datacontenttype":"application/json","time":"2026-11-27T13:33:34.123Z",)"
      R"("data":{"order":17,"items":["a"]}})");
  EXPECT_EQ(event->id, "abc-1");
  EXPECT_FALSE(event->partition_key.has_value());
}

TEST(WrapPlain, AnyJsonValueIsData) {
  for (auto [body, data] :
       std::vector<std::pair<std::string, std::string>>{{"42", "42"},
                                                        {" \"hi\\u0021\" ", "\"hi!\""},
                                                        {"null", "null"},
                                                        {"[1, 2]", "[1,2]"},
                                                        {"true", "true"},
                                                        {"-1.5e300", "-1.5e300"}}) {
    auto event = wrap_plain(body, "t", "id", 0, Limits{});
    ASSERT_TRUE(event.ok()) << body << ": " << event.error().message;
    const std::string suffix = ",\"data\":" + data + "}";
    EXPECT_EQ(event->json.substr(event->json.size() - suffix.size()), suffix) << body;
  }
}

TEST(WrapPlain, RejectsBodiesThatAreNotOneJsonValue) {
  for (const char* body :
       {"", "  ", "{", "1 2", "nul", "[1,]", "{\"a\":1}}", "\"x\" \"y\"", "01"}) {
    auto event = wrap_plain(body, "t", "id", 0, Limits{});
    ASSERT_FALSE(event.ok()) << "accepted '" << body << "'";
    EXPECT_EQ(event.error().code, Errc::invalid_event);
  }
  auto bad = wrap_plain("{\"a\":tru}", "t", "id", 0, Limits{});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("the request body is not valid JSON", 0), 0u)
      << bad.error().message;
}

TEST(WrapPlain, TopicIsPercentEncodedIntoTheSource) {
  auto event = wrap_plain("1", "a b/c%é", "id", 0, Limits{});
  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_NE(event->json.find(R"("source":"/topics/a%20b%2Fc%25%C3%A9")"), std::string::npos)
      << event->json;
}

TEST(WrapPlain, LimitAppliesToTheWrappedEvent) {
  auto event = wrap_plain("\"" + std::string(500, 'x') + "\"", "t", "id", 0, Limits{400});
  ASSERT_FALSE(event.ok());
  EXPECT_EQ(event.error().code, Errc::too_large);
}

// Random edits of valid events: whatever is accepted must be valid JSON (checked with
// Boost.JSON, an independent parser) and its stored form must parse back to itself.
TEST(StructuredMode, MutatedInputIsNeverAcceptedAsInvalidJson) {
  const std::vector<std::string> seeds = {
      with(
          R"("subject":"x\u00e9\n","ext":5,"flag":true,"data":{"a":[1,-2.5e3,"s",null,{}],"b":"\"q\""})"),
      with(R"("data_base64":"aGVsbG8=","time":"2026-01-01T00:00:00Z")"),
      "[" + with(R"("data":[[{"k":[]}]])") + "," + with("") + "]",
      with(R"("a":"x","b":"y","c":1,"data":{"s":"t","u":["v","w"],"x":{"y":"z"}})"),
  };
  const std::string alphabet = "{}[]\":,\\ u0123456789aefnlrst-+.eE\xc3\xa9\x01";
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int iteration = 0; iteration < 200000; ++iteration) {
    std::string text = seeds[static_cast<size_t>(iteration) % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t pos = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text[pos] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(pos), c);
          break;
        default:
          text.erase(pos, 1);
          break;
      }
    }
    auto result =
        text.front() == '[' ? parse_batch(text, Limits{}) : parse_structured(text, Limits{});
    if (!result.ok()) {
      ASSERT_TRUE(result.error().code == Errc::invalid_event) << text;
      continue;
    }
    ++accepted;
    boost::system::error_code ec;
    boost::json::parse(text, ec);
    ASSERT_FALSE(ec) << "accepted input that is not JSON: " << text;
    for (const Event& event : *result) {
      boost::json::parse(event.json, ec);
      ASSERT_FALSE(ec) << "stored form is not JSON: " << event.json;
      auto again = parse_structured(event.json, Limits{});
      ASSERT_TRUE(again.ok()) << event.json << ": " << again.error().message;
      ASSERT_EQ((*again)[0].json, event.json);
    }
  }
  EXPECT_GT(accepted, 100);  // the edits must leave enough valid events to test anything
}

}  // namespace
}  // namespace eddy::events
