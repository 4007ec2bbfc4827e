// The few cryptographic primitives webhooks and route auth need, over OpenSSL: HMAC,
// SHA-256, constant-time comparison and the encodings signatures travel in.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eddy::sources {

enum class Digest { sha1, sha256, sha512 };

// HMAC of `data` under `key`, as raw bytes (20, 32 or 64 of them).
std::string hmac(Digest digest, std::string_view key, std::string_view data);
// SHA-256 of `data`, raw bytes.
std::string sha256(std::string_view data);

// Compares two byte strings in time that depends only on their lengths (CRYPTO_memcmp):
// for signatures and keys, never compare with == .
bool constant_time_equal(std::string_view a, std::string_view b);

// Lower-case hex of `bytes`.
std::string hex_encode(std::string_view bytes);
// Bytes of a hex string (either case); nullopt when it is not hex of whole bytes.
std::optional<std::string> hex_decode(std::string_view hex);
// Bytes of standard or URL-safe base64, padded or not; nullopt when malformed.
std::optional<std::string> base64_any_decode(std::string_view text);

}  // namespace eddy::sources
