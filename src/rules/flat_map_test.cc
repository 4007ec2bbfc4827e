#include "rules/flat_map.h"

#include <gtest/gtest.h>

#include <string>

namespace eddy::rules {
namespace {

TEST(FlatMap, SameBytesAgreesWithStringEqualityAtEveryLengthAndPosition) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'k');
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + i % 26);
    EXPECT_TRUE(same_bytes(a, std::string(a))) << n;
    EXPECT_FALSE(same_bytes(a, a + "x")) << n;
    for (size_t at = 0; at < n; ++at) {
      std::string b = a;
      b[at] ^= 1;
      EXPECT_FALSE(same_bytes(a, b)) << n << " " << at;
    }
  }
}

TEST(FlatMap, FindsKeysOfEveryLengthAndNotTheirNeighbours) {
  FlatMap<int> m;
  std::string key;
  for (int n = 0; n <= 40; ++n) {
    m.at(key, hash_bytes(key)) = n;
    key += static_cast<char>('a' + n % 26);
  }
  key.clear();
  for (int n = 0; n <= 40; ++n) {
    const int* v = m.find(key, hash_bytes(key));
    ASSERT_NE(v, nullptr) << n;
    EXPECT_EQ(*v, n);
    std::string other = key + "?";
    EXPECT_EQ(m.find(other, hash_bytes(other)), nullptr);
    key += static_cast<char>('a' + n % 26);
  }
}

}  // namespace
}  // namespace eddy::rules
