#include "events/attribute_syntax.h"

#include <gtest/gtest.h>

namespace eddy::events {
namespace {

TEST(AttributeSyntax, NamesAreLowercaseLettersAndDigits) {
  for (const char* ok : {"id", "a", "x1", "0", "traceparent", "averyveryverylongextensionname"}) {
    EXPECT_TRUE(is_attribute_name(ok)) << ok;
  }
  for (const char* bad : {"", "Id", "my-ext", "my_ext", "a b", "é", "data.x"}) {
    EXPECT_FALSE(is_attribute_name(bad)) << bad;
  }
}

TEST(AttributeSyntax, UriReferences) {
  for (const char* ok : {"/s", "s", "https://example.com/a?b=c&d#frag", "urn:uuid:1234",
                         "mailto:a@example.com", "//host/path", "a/b:c", "%2F", "?q", "#f",
                         "x+y.z-1:rest", "//[::1]:8080/x", "~user/!$&'()*+,;="}) {
    EXPECT_TRUE(is_uri_reference(ok)) << ok;
  }
  for (const char* bad : {"a b", "/a%zz", "/a%4", "1a:b", ":x", "/é", "a\"b", "<x>", "a\\b", "a{b}",
                          "a|b", "a^b", "a`b"}) {
    EXPECT_FALSE(is_uri_reference(bad)) << bad;
  }
  EXPECT_TRUE(is_absolute_uri("https://x.io/s.json"));
  EXPECT_TRUE(is_absolute_uri("urn:x"));
  EXPECT_FALSE(is_absolute_uri("/s.json"));
  EXPECT_FALSE(is_absolute_uri("//x.io/s"));
  EXPECT_FALSE(is_absolute_uri(""));
  EXPECT_FALSE(is_absolute_uri("ht tp://x"));
}

TEST(AttributeSyntax, MediaTypes) {
  for (const char* ok : {"application/json", "text/plain; charset=utf-8", "image/png",
                         "application/vnd.a+json", "multipart/form-data; boundary=\"x y\""}) {
    EXPECT_TRUE(is_media_type(ok)) << ok;
  }
  for (const char* bad : {"", "json", "/json", "application/", "text/ plain", "te xt/plain",
                          "text/plain junk", "a/b/c"}) {
    EXPECT_FALSE(is_media_type(bad)) << bad;
  }
}

TEST(AttributeSyntax, JsonAndTextMediaTypes) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("APPLICATION/JSON; charset=utf-8"));
  EXPECT_TRUE(is_json_media_type("application/cloudevents+json"));
  EXPECT_TRUE(is_json_media_type("text/vnd.x+JSON"));
  EXPECT_FALSE(is_json_media_type(""));
  EXPECT_FALSE(is_json_media_type("+json"));
  EXPECT_FALSE(is_json_media_type("application/jsonx"));
  EXPECT_FALSE(is_json_media_type("text/plain"));
  EXPECT_TRUE(is_text_media_type("text/plain"));
  EXPECT_TRUE(is_text_media_type("Text/CSV; header=present"));
  EXPECT_FALSE(is_text_media_type("text/"));
  EXPECT_FALSE(is_text_media_type("application/text"));
}

TEST(AttributeSyntax, ShownTextIsPrintableAndShort) {
  EXPECT_EQ(shown("abc"), "abc");
  EXPECT_EQ(shown("a\nb\xc3\xa9"), "a?b??");
  EXPECT_EQ(shown(std::string(100, 'x'), 10), "xxxxxxxxxx...");
}

}  // namespace
}  // namespace eddy::events
