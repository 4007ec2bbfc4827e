// CRC-32C (Castagnoli), the checksum of every log record batch. Uses the SSE4.2 crc32
// instruction when the CPU has it, a table otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>

namespace eddy {

// Extends `crc` (0 to start) over `n` bytes at `data`.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(const void* data, size_t n) { return crc32c_extend(0, data, n); }

}  // namespace eddy
