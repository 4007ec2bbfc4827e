#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>

#include "events/cloud_event.h"

namespace eddy::events {
namespace {

// xoshiro256** (Blackman and Vigna): fast, 256 bits of state, fine for unguessable-enough
// unique ids (it is not a cryptographic generator, and ids are not secrets).
class Xoshiro256 {
 public:
  Xoshiro256() {
    std::random_device device;  // the one system call, per thread
    uint64_t seed = (uint64_t{device()} << 32) ^ device();
    seed ^= static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    seed ^= std::hash<std::thread::id>{}(std::this_thread::get_id()) * 0x9E3779B97F4A7C15ull;
    for (uint64_t& word : s_) word = splitmix(seed) ^ (uint64_t{device()} << 32);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
};

}  // namespace

std::string new_event_id() {
  thread_local Xoshiro256 random;
  const auto ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  const uint64_t a = random.next();
  const uint64_t b = random.next();

  uint8_t bytes[16];
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  bytes[6] = static_cast<uint8_t>(0x70 | (a & 0x0F));  // version 7
  bytes[7] = static_cast<uint8_t>(a >> 8);
  bytes[8] = static_cast<uint8_t>(0x80 | (b & 0x3F));  // variant 10
  for (int i = 9; i < 16; ++i) bytes[i] = static_cast<uint8_t>(b >> (8 * (i - 8)));

  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  size_t pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++pos;  // keep the dash
    id[pos++] = kHex[bytes[i] >> 4];
    id[pos++] = kHex[bytes[i] & 15];
  }
  return id;
}

}  // namespace eddy::events
