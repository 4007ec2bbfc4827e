#include "log/format.h"

#include <fmt/format.h>

#include "common/crc32c.h"

namespace eddy::log::format {

BatchHeader decode_header(const char* p) {
  BatchHeader h;
  h.length = load<uint32_t>(p + 0);
  h.crc = load<uint32_t>(p + 4);
  h.magic = load<uint8_t>(p + 8);
  h.attributes = load<uint8_t>(p + 9);
  h.record_count = load<uint32_t>(p + 12);
  h.base_offset = load<uint64_t>(p + 16);
  h.time_ms = load<int64_t>(p + 24);
  return h;
}

std::string_view batch_check_name(BatchCheck c) {
  switch (c) {
    case BatchCheck::ok:
      return "ok";
    case BatchCheck::bad_length:
      return "bad length field";
    case BatchCheck::bad_magic:
      return "bad magic byte";
    case BatchCheck::truncated:
      return "truncated batch";
    case BatchCheck::bad_crc:
      return "CRC32C mismatch";
    case BatchCheck::bad_records:
      return "record lengths do not fill the batch";
  }
  return "unknown";
}

BatchCheck check_header(const BatchHeader& h) {
  if (h.length < kBatchHeaderBytes || h.length > kMaxBatchBytes || h.record_count == 0 ||
      uint64_t{h.record_count} * kRecordHeaderBytes > h.length - kBatchHeaderBytes) {
    return BatchCheck::bad_length;
  }
  if (h.magic != kMagic) return BatchCheck::bad_magic;
  return BatchCheck::ok;
}

BatchCheck check_batch(const char* p, size_t available) {
  if (available < kBatchHeaderBytes) return BatchCheck::truncated;
  BatchHeader h = decode_header(p);
  if (BatchCheck c = check_header(h); c != BatchCheck::ok) return c;
  if (available < h.length) return BatchCheck::truncated;
  if (crc32c(p + 8, h.length - 8) != h.crc) return BatchCheck::bad_crc;
  size_t pos = kBatchHeaderBytes;
  for (uint32_t i = 0; i < h.record_count; ++i) {
    if (h.length - pos < kRecordHeaderBytes) return BatchCheck::bad_records;
    uint32_t n = load<uint32_t>(p + pos);
    pos += kRecordHeaderBytes;
    if (h.length - pos < n) return BatchCheck::bad_records;
    pos += n;
  }
  return pos == h.length ? BatchCheck::ok : BatchCheck::bad_records;
}

size_t batch_bytes(std::span<const std::string_view> payloads) {
  size_t n = kBatchHeaderBytes;
  for (std::string_view p : payloads) n += kRecordHeaderBytes + p.size();
  return n;
}

void encode_records(std::span<const std::string_view> payloads, std::string& out) {
  out.resize(batch_bytes(payloads));
  char* b = out.data();
  store<uint32_t>(b + 0, static_cast<uint32_t>(out.size()));
  store<uint8_t>(b + 8, kMagic);
  store<uint8_t>(b + 9, 0);
  store<uint16_t>(b + 10, 0);
  store<uint32_t>(b + 12, static_cast<uint32_t>(payloads.size()));
  char* p = b + kBatchHeaderBytes;
  for (std::string_view payload : payloads) {
    store<uint32_t>(p, static_cast<uint32_t>(payload.size()));
    if (!payload.empty()) std::memcpy(p + kRecordHeaderBytes, payload.data(), payload.size());
    p += kRecordHeaderBytes + payload.size();
  }
}

void seal_batch(std::string& batch, uint64_t base_offset, int64_t time_ms) {
  char* b = batch.data();
  store<uint64_t>(b + 16, base_offset);
  store<int64_t>(b + 24, time_ms);
  store<uint32_t>(b + 4, crc32c(b + 8, batch.size() - 8));
}

void encode_batch(std::span<const std::string_view> payloads, uint64_t base_offset, int64_t time_ms,
                  std::string& out) {
  encode_records(payloads, out);
  seal_batch(out, base_offset, time_ms);
}

static std::string name_with(uint64_t base, std::string_view ext) {
  return fmt::format("{:020d}.{}", base, ext);
}
std::string segment_name(uint64_t base) {
  return name_with(base, "log");
}
std::string index_name(uint64_t base) {
  return name_with(base, "index");
}
std::string time_index_name(uint64_t base) {
  return name_with(base, "timeindex");
}

bool parse_file_name(std::string_view name, std::string_view ext, uint64_t& base_offset) {
  if (name.size() != 21 + ext.size() || name[20] != '.' || name.substr(21) != ext) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  base_offset = v;
  return true;
}

}  // namespace eddy::log::format
