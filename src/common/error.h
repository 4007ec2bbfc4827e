// The one error model of eddy: every fallible operation returns Result<T>, an expected
// value or an Error. An Error carries a stable machine-readable code (the word users see in
// `{"error":{"code":...}}`) and a message that says what was wrong and what to do.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace eddy {

enum class Errc {
  invalid_argument,  // a request field or flag is malformed
  invalid_event,     // a CloudEvent violates the spec
  invalid_pattern,   // an event pattern does not compile
  not_found,
  already_exists,
  conflict,          // exists with another configuration, or state forbids it
  too_large,         // over a size limit (413)
  unsupported,       // media type or feature not supported (415)
  throttled,         // 429
  unavailable,       // shutting down, or a dependency is gone (503)
  corrupt,           // on-disk data failed validation
  io_error,          // the OS refused a read, write or sync
  internal,
};

// The stable word for an error code, e.g. "invalid_event".
std::string_view errc_name(Errc code);
// The HTTP status the native API answers for an error code.
int errc_http_status(Errc code);

struct Error {
  Errc code;
  std::string message;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

// Result<T> holds a T or an Error. Result<void> holds nothing or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{Errc::internal, {}};
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace eddy
