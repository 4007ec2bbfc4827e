#include "common/error.h"

namespace eddy {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::invalid_event: return "invalid_event";
    case Errc::invalid_pattern: return "invalid_pattern";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::conflict: return "conflict";
    case Errc::too_large: return "too_large";
    case Errc::unsupported: return "unsupported_media_type";
    case Errc::throttled: return "throttled";
    case Errc::unavailable: return "unavailable";
    case Errc::corrupt: return "corrupt";
    case Errc::io_error: return "io_error";
    case Errc::internal: return "internal";
  }
  return "internal";
}

int errc_http_status(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
    case Errc::invalid_event:
    case Errc::invalid_pattern: return 400;
    case Errc::not_found: return 404;
    case Errc::already_exists:
    case Errc::conflict: return 409;
    case Errc::too_large: return 413;
    case Errc::unsupported: return 415;
    case Errc::throttled: return 429;
    case Errc::unavailable: return 503;
    case Errc::corrupt:
    case Errc::io_error:
    case Errc::internal: return 500;
  }
  return 500;
}

}  // namespace eddy
