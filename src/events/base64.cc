#include "events/base64.h"

#include <array>
#include <cstdint>

namespace eddy::events {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr std::array<int8_t, 256> kDecode = make_decode_table();

int sextet(char c) {
  return kDecode[static_cast<unsigned char>(c)];
}

// The length of `text` without its padding, or npos when the padding or length is wrong.
size_t unpadded_length(std::string_view text) {
  size_t n = text.size();
  size_t pad = 0;
  while (pad < 2 && n > 0 && text[n - 1] == '=') {
    --n;
    ++pad;
  }
  if (pad > 0 && text.size() % 4 != 0) return std::string_view::npos;
  if (n % 4 == 1) return std::string_view::npos;  // one leftover character encodes no byte
  return n;
}

}  // namespace

bool is_base64(std::string_view text) {
  const size_t n = unpadded_length(text);
  if (n == std::string_view::npos) return false;
  for (size_t i = 0; i < n; ++i) {
    if (sextet(text[i]) < 0) return false;
  }
  return true;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (!is_base64(text)) return std::nullopt;
  const size_t n = unpadded_length(text);
  std::string out;
  out.reserve(n / 4 * 3 + 2);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t v = (sextet(text[i]) << 18) | (sextet(text[i + 1]) << 12) |
                       (sextet(text[i + 2]) << 6) | sextet(text[i + 3]);
    out.push_back(static_cast<char>(v >> 16));
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v));
  }
  if (n - i == 2) {
    const uint32_t v = (sextet(text[i]) << 18) | (sextet(text[i + 1]) << 12);
    out.push_back(static_cast<char>(v >> 16));
  } else if (n - i == 3) {
    const uint32_t v =
        (sextet(text[i]) << 18) | (sextet(text[i + 1]) << 12) | (sextet(text[i + 2]) << 6);
    out.push_back(static_cast<char>(v >> 16));
    out.push_back(static_cast<char>(v >> 8));
  }
  return out;
}

void append_base64(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&bytes](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = byte(i) << 16;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
}

}  // namespace eddy::events
