#include "gateway/http.h"

#include <boost/json/value.hpp>

#include "common/json_util.h"

namespace eddy::gateway {

Response json_reply(http::status status, std::string body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

Response json_reply(http::status status, const boost::json::value& body) {
  return json_reply(status, json_text(body));
}

Response error_reply(const Error& error) {
  std::string body = R"({"error":{"code":)";
  append_json_string(body, errc_name(error.code));
  body += R"(,"message":)";
  append_json_string(body, error.message);
  body += "}}";
  return json_reply(static_cast<http::status>(errc_http_status(error.code)), std::move(body));
}

Response error_reply(Errc code, std::string message) {
  return error_reply(Error{code, std::move(message)});
}

}  // namespace eddy::gateway
