// The byte layout of segment and index files (docs/log_format.md is the prose version).
// Pure functions over byte spans: no I/O, no state. Every decoder is total: it reports
// malformed bytes instead of trusting them.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace eddy::log::format {

static_assert(std::endian::native == std::endian::little,
              "the log format is little-endian and eddy only builds for little-endian hosts");

// Batch header, 32 bytes, then `record_count` records of (u32 length, payload bytes).
//   0  u32 length        bytes of the whole batch, this header included
//   4  u32 crc           CRC32C of bytes [8, length)
//   8  u8  magic         kMagic (format version 1)
//   9  u8  attributes    0 (reserved: compression)
//  10  u16 reserved      0
//  12  u32 record_count  >= 1
//  16  u64 base_offset   offset of the first record
//  24  i64 time_ms       append time, ms since the Unix epoch
inline constexpr size_t kBatchHeaderBytes = 32;
inline constexpr size_t kRecordHeaderBytes = 4;
inline constexpr uint8_t kMagic = 0xE1;
// Upper bound of one batch; a length field above it is corruption, an append above it is
// refused. Keeps segment positions within 32 bits.
inline constexpr uint32_t kMaxBatchBytes = 256u << 20;

inline constexpr size_t kOffsetEntryBytes = 8;  // u32 relative offset, u32 position
inline constexpr size_t kTimeEntryBytes = 12;   // i64 time_ms, u32 relative offset

template <class T>
inline T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
inline void store(char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

struct BatchHeader {
  uint32_t length = 0;
  uint32_t crc = 0;
  uint8_t magic = 0;
  uint8_t attributes = 0;
  uint32_t record_count = 0;
  uint64_t base_offset = 0;
  int64_t time_ms = 0;

  uint64_t end_offset() const { return base_offset + record_count; }
};

// Reads the header fields from `p` (kBatchHeaderBytes readable bytes). No validation.
BatchHeader decode_header(const char* p);

// Why a batch was rejected; `ok` when it was not.
enum class BatchCheck { ok, bad_length, bad_magic, truncated, bad_crc, bad_records };
std::string_view batch_check_name(BatchCheck c);

// Cheap checks on a header alone: length within bounds and large enough for its records,
// known magic.
BatchCheck check_header(const BatchHeader& h);

// Full check of a batch whose first `available` bytes are at `p` (available may exceed the
// batch): header checks, the whole batch present, CRC, and record lengths that exactly
// fill the batch.
BatchCheck check_batch(const char* p, size_t available);

// Bytes a batch of these payloads takes on disk.
size_t batch_bytes(std::span<const std::string_view> payloads);

// Writes the batch into `out` (resized to batch_bytes): header with CRC over the rest.
void encode_batch(std::span<const std::string_view> payloads, uint64_t base_offset, int64_t time_ms,
                  std::string& out);
// The same in two steps, so the records can be laid out before the offset is known:
// encode_records fills everything but base offset, time and CRC; seal_batch sets those.
void encode_records(std::span<const std::string_view> payloads, std::string& out);
void seal_batch(std::string& batch, uint64_t base_offset, int64_t time_ms);

// Calls fn(index, payload) for each record of a batch that passed check_batch.
template <class Fn>
void for_each_record(const char* batch, Fn&& fn) {
  BatchHeader h = decode_header(batch);
  const char* p = batch + kBatchHeaderBytes;
  for (uint32_t i = 0; i < h.record_count; ++i) {
    uint32_t n = load<uint32_t>(p);
    fn(i, std::string_view(p + kRecordHeaderBytes, n));
    p += kRecordHeaderBytes + n;
  }
}

// Segment and index file names: the base offset as 20 decimal digits.
std::string segment_name(uint64_t base_offset);     // "00000000000000000042.log"
std::string index_name(uint64_t base_offset);       // "... .index"
std::string time_index_name(uint64_t base_offset);  // "... .timeindex"
// Parses "<20 digits>.<ext>" into the base offset; false for any other name.
bool parse_file_name(std::string_view name, std::string_view ext, uint64_t& base_offset);

}  // namespace eddy::log::format
