#include "log/format.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/crc32c.h"

namespace eddy::log::format {
namespace {

std::string encode(std::vector<std::string_view> payloads, uint64_t base = 42,
                   int64_t time_ms = 1'700'000'000'123) {
  std::string out;
  encode_batch(payloads, base, time_ms, out);
  return out;
}

TEST(FormatTest, EncodedBatchHasTheDocumentedHeader) {
  std::string b = encode({"ab", "", "cde"});
  ASSERT_EQ(b.size(), kBatchHeaderBytes + 3 * kRecordHeaderBytes + 5);
  BatchHeader h = decode_header(b.data());
  EXPECT_EQ(h.length, b.size());
  EXPECT_EQ(h.magic, kMagic);
  EXPECT_EQ(h.attributes, 0);
  EXPECT_EQ(h.record_count, 3u);
  EXPECT_EQ(h.base_offset, 42u);
  EXPECT_EQ(h.end_offset(), 45u);
  EXPECT_EQ(h.time_ms, 1'700'000'000'123);
  EXPECT_EQ(h.crc, crc32c(b.data() + 8, b.size() - 8));
  // Byte-level layout, little-endian.
  EXPECT_EQ(static_cast<uint8_t>(b[0]), b.size());
  EXPECT_EQ(static_cast<uint8_t>(b[8]), 0xE1);
  EXPECT_EQ(static_cast<uint8_t>(b[16]), 42);
  EXPECT_EQ(static_cast<uint8_t>(b[32]), 2);  // first record's length
  EXPECT_EQ(b.substr(36, 2), "ab");
  EXPECT_EQ(check_batch(b.data(), b.size()), BatchCheck::ok);
}

TEST(FormatTest, RecordsDecodeInOrder) {
  std::string b = encode({"x", "yy", "", "zzz"});
  std::vector<std::string> got;
  for_each_record(b.data(), [&](uint32_t i, std::string_view p) {
    EXPECT_EQ(i, got.size());
    got.emplace_back(p);
  });
  EXPECT_EQ(got, (std::vector<std::string>{"x", "yy", "", "zzz"}));
}

TEST(FormatTest, EveryFlippedBitIsCaught) {
  const std::string good = encode({"hello", "world"});
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string b = good;
      b[i] = static_cast<char>(b[i] ^ (1 << bit));
      ASSERT_NE(check_batch(b.data(), b.size()), BatchCheck::ok) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(FormatTest, ChecksTellWhatIsWrong) {
  const std::string good = encode({"hello"});
  EXPECT_EQ(check_batch(good.data(), good.size() - 1), BatchCheck::truncated);
  EXPECT_EQ(check_batch(good.data(), 10), BatchCheck::truncated);
  EXPECT_EQ(check_batch(good.data(), good.size() + 100), BatchCheck::ok);  // more is fine

  std::string b = good;
  store<uint32_t>(b.data(), 31);
  EXPECT_EQ(check_batch(b.data(), b.size()), BatchCheck::bad_length);
  b = good;
  store<uint32_t>(b.data() + 12, 0);  // no records
  EXPECT_EQ(check_batch(b.data(), b.size()), BatchCheck::bad_length);
  b = good;
  store<uint32_t>(b.data() + 12, 1000);  // more records than bytes for their lengths
  EXPECT_EQ(check_batch(b.data(), b.size()), BatchCheck::bad_length);
  b = good;
  b[8] = 0x01;
  EXPECT_EQ(check_batch(b.data(), b.size()), BatchCheck::bad_magic);
  b = good;
  b[kBatchHeaderBytes + 5] ^= 1;
  EXPECT_EQ(check_batch(b.data(), b.size()), BatchCheck::bad_crc);
  b = good;
  store<uint32_t>(b.data() + kBatchHeaderBytes, 4);  // record shorter than the batch
  store<uint32_t>(b.data() + 4, crc32c(b.data() + 8, b.size() - 8));
  EXPECT_EQ(check_batch(b.data(), b.size()), BatchCheck::bad_records);
}

TEST(FormatTest, FileNamesCarryTheBaseOffsetInTwentyDigits) {
  EXPECT_EQ(segment_name(0), "00000000000000000000.log");
  EXPECT_EQ(index_name(1234), "00000000000000001234.index");
  EXPECT_EQ(time_index_name(UINT64_MAX), "18446744073709551615.timeindex");
  uint64_t base = 0;
  EXPECT_TRUE(parse_file_name("00000000000000001234.log", "log", base));
  EXPECT_EQ(base, 1234u);
  EXPECT_TRUE(parse_file_name("18446744073709551615.log", "log", base));
  EXPECT_EQ(base, UINT64_MAX);
  for (const char* bad :
       {"0000000000000001234.log", "00000000000000001234.index", "0000000000000000123x.log",
        "99999999999999999999.log", "x.log", "00000000000000001234.log.tmp"}) {
    EXPECT_FALSE(parse_file_name(bad, "log", base)) << bad;
  }
}

}  // namespace
}  // namespace eddy::log::format
