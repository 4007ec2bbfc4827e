#include "events/base64.h"

#include <gtest/gtest.h>

#include <random>

namespace eddy::events {
namespace {

TEST(Base64, EncodesRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    std::string out;
    append_base64(out, plain);
    EXPECT_EQ(out, encoded);
    EXPECT_EQ(base64_decode(encoded), std::optional<std::string>(plain));
  }
}

TEST(Base64, AcceptsMissingPaddingButNotBrokenPadding) {
  EXPECT_EQ(base64_decode("Zg"), std::optional<std::string>("f"));
  EXPECT_EQ(base64_decode("Zm8"), std::optional<std::string>("fo"));
  for (const char* bad :
       {"Z", "Zg=", "Zg===", "Zm9v=", "=", "Zm 9v", "Zm9v\n", "Zm-_", "Zg==Zg==", "Z==="}) {
    EXPECT_FALSE(is_base64(bad)) << bad;
    EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
  }
}

TEST(Base64, DecodeInvertsEncodeForAllByteValues) {
  std::mt19937 rng(7);
  for (size_t size = 0; size < 70; ++size) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string encoded;
    append_base64(encoded, bytes);
    EXPECT_TRUE(is_base64(encoded));
    EXPECT_EQ(base64_decode(encoded), std::optional<std::string>(bytes));
  }
}

}  // namespace
}  // namespace eddy::events
