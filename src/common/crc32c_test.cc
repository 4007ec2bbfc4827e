#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace eddy {

TEST(Crc32c, MatchesKnownVectors) {
  // RFC 3720 B.4 test vectors.
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  std::string ones(32, '\xFF');
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

TEST(Crc32c, ExtendingEqualsOneShot) {
  std::string s = "the quick brown fox jumps over the lazy dog, twice over";
  uint32_t whole = crc32c(s.data(), s.size());
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    uint32_t part = crc32c_extend(crc32c(s.data(), cut), s.data() + cut, s.size() - cut);
    EXPECT_EQ(part, whole) << "cut at " << cut;
  }
}

}  // namespace eddy
