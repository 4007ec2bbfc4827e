#include "functions/config.h"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/json_util.h"

namespace eddy::functions {
namespace json = boost::json;

namespace {

constexpr int64_t kMaxMemoryMb = 10240;
constexpr int64_t kMaxTimeoutMs = 900000;
constexpr int64_t kMaxConcurrency = 1000;
constexpr size_t kMaxEnvBytes = 4096;  // Lambda's limit on all variables together

// Variables eddy sets for every instance; a function may not replace them because the
// runtime client or the instance's identity depends on them.
constexpr std::string_view kReservedEnv[] = {
    "AWS_LAMBDA_RUNTIME_API", "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "LAMBDA_RUNTIME_DIR"};

Error bad(std::string message) { return make_error(Errc::invalid_argument, std::move(message)); }

// An integer field within [min, max], or `fallback` when absent.
Result<int64_t> int_field(const json::object& o, std::string_view field, int64_t fallback,
                          int64_t min, int64_t max) {
  auto v = get_int(o, field);
  if (!v) return std::move(v).error();
  if (!*v) return fallback;
  if (**v < min || **v > max) {
    return bad(fmt::format("'{}' must be an integer from {} to {}, got {}", field, min, max, **v));
  }
  return **v;
}

Result<std::optional<Destination>> destination_field(const json::object& o,
                                                     std::string_view field) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return std::optional<Destination>();
  const auto* d = it->value().if_object();
  if (!d || d->size() != 1) {
    return bad(fmt::format("'{}' must be {{\"topic\":NAME}} or {{\"function\":NAME}}", field));
  }
  const auto& [key, value] = *d->begin();
  Destination dest;
  if (key == "topic") {
    dest.kind = Destination::Kind::topic;
  } else if (key == "function") {
    dest.kind = Destination::Kind::function;
  } else {
    return bad(fmt::format("'{}' must be {{\"topic\":NAME}} or {{\"function\":NAME}}, not '{}'",
                           field, std::string_view(key)));
  }
  if (!value.is_string() || value.get_string().empty()) {
    return bad(fmt::format("'{}.{}' must be a non-empty name", field, std::string_view(key)));
  }
  dest.name = std::string(value.get_string());
  if (dest.kind == Destination::Kind::function) {
    if (auto s = validate_function_name(dest.name); !s) return std::move(s).error();
  }
  return std::optional<Destination>(std::move(dest));
}

json::value destination_json(const Destination& d) {
  return json::object{{d.kind == Destination::Kind::topic ? "topic" : "function", d.name}};
}

Status valid_env_name(std::string_view k) {
  bool ok = !k.empty() && (std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_');
  for (char c : k) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) {
    return bad(fmt::format("env variable name '{}' must match [A-Za-z_][A-Za-z0-9_]*", k));
  }
  if (std::find(std::begin(kReservedEnv), std::end(kReservedEnv), k) != std::end(kReservedEnv)) {
    return bad(fmt::format("env variable '{}' is set by eddy and cannot be replaced", k));
  }
  return {};
}

}  // namespace

std::string_view runtime_name(Runtime r) {
  switch (r) {
    case Runtime::nodejs: return "nodejs";
    case Runtime::python: return "python";
    case Runtime::provided: return "provided";
  }
  return "provided";
}

Result<Runtime> parse_runtime(std::string_view text) {
  // Lambda's versioned identifiers (nodejs20.x, python3.11, provided.al2023) name the same
  // runtimes here: eddy runs whatever node and python the server was given.
  if (text.starts_with("nodejs")) return Runtime::nodejs;
  if (text.starts_with("python")) return Runtime::python;
  if (text.starts_with("provided")) return Runtime::provided;
  return bad(fmt::format("unknown runtime '{}': use nodejs, python or provided", text));
}

int64_t RetryPolicy::backoff_ms(int64_t next_attempt) const {
  int64_t delay = initial_backoff_ms;
  for (int64_t i = 2; i < next_attempt && delay < max_backoff_ms; ++i) delay *= 2;
  return std::min(delay, max_backoff_ms);
}

Status validate_function_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  }
  if (ok) return {};
  return bad(fmt::format("invalid function name '{}': use 1-64 characters of A-Z a-z 0-9 - _",
                         name));
}

Result<FunctionConfig> parse_function_config(std::string_view name, const json::object& body,
                                             const FunctionDefaults& defaults,
                                             const FunctionConfig* previous) {
  if (auto s = validate_function_name(name); !s) return std::move(s).error();
  // `name`, `version`, `instances` and `stats` are what GET returns; a client may PUT back
  // what it read.
  if (auto s = reject_unknown_fields(
          body, {"name", "runtime", "handler", "code", "memory_mb", "timeout_ms",
                 "max_concurrency", "min_instances", "idle_timeout_ms", "env", "retry",
                 "on_success", "on_failure", "version", "instances", "stats"});
      !s) {
    return std::move(s).error();
  }
  FunctionConfig c;
  c.name = std::string(name);

  auto runtime = get_string(body, "runtime");
  if (!runtime) return std::move(runtime).error();
  if (!*runtime) return bad("'runtime' is required: nodejs, python or provided");
  auto rt = parse_runtime(**runtime);
  if (!rt) return std::move(rt).error();
  c.runtime = *rt;

  auto handler = get_string(body, "handler");
  if (!handler) return std::move(handler).error();
  if (*handler) c.handler = **handler;
  if (c.runtime != Runtime::provided) {
    auto dot = c.handler.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == c.handler.size()) {
      return bad(fmt::format("'handler' must be FILE.FUNCTION (e.g. {}), got '{}'",
                             c.runtime == Runtime::nodejs ? "index.handler" : "app.handler",
                             c.handler));
    }
  }

  auto code_it = body.find("code");
  if (code_it == body.end() || code_it->value().is_null()) {
    if (!previous || (previous->code_path.empty() && previous->code_upload == 0)) {
      return bad(fmt::format("'code' is required: {{\"path\":DIR}} on the server's disk, or "
                             "upload a zip or tar.gz to PUT /v1/functions/{}/code first",
                             name));
    }
    c.code_path = previous->code_path;
    c.code_upload = previous->code_upload;
  } else {
    const auto* code = code_it->value().if_object();
    if (!code) return bad("'code' must be an object: {\"path\":DIR}");
    if (auto s = reject_unknown_fields(*code, {"path", "upload"}); !s) return std::move(s).error();
    auto path = get_string(*code, "path");
    if (!path) return std::move(path).error();
    auto upload = get_int(*code, "upload");
    if (!upload) return std::move(upload).error();
    if (*path) {
      if (path->value().empty() || path->value().front() != '/') {
        return bad("'code.path' must be an absolute directory path on the server");
      }
      c.code_path = **path;
    } else if (*upload) {
      // Only the stored form names an upload; it must be the one the function has.
      if (!previous || previous->code_upload != **upload) {
        return bad("'code.upload' refers to an archive this function does not have; upload "
                   "code with PUT /v1/functions/{name}/code");
      }
      c.code_upload = **upload;
    } else {
      return bad("'code' must be {\"path\":DIR}");
    }
  }

  struct IntField {
    std::string_view name;
    int64_t* slot;
    int64_t fallback, min, max;
  };
  for (const auto& f : {IntField{"memory_mb", &c.memory_mb, defaults.memory_mb, 16, kMaxMemoryMb},
                        IntField{"timeout_ms", &c.timeout_ms, defaults.timeout_ms, 1, kMaxTimeoutMs},
                        IntField{"max_concurrency", &c.max_concurrency, defaults.max_concurrency,
                                 1, kMaxConcurrency},
                        IntField{"idle_timeout_ms", &c.idle_timeout_ms, defaults.idle_timeout_ms,
                                 0, 24 * 3600 * 1000}}) {
    auto v = int_field(body, f.name, f.fallback, f.min, f.max);
    if (!v) return std::move(v).error();
    *f.slot = *v;
  }
  auto min_instances = int_field(body, "min_instances", 0, 0, c.max_concurrency);
  if (!min_instances) return std::move(min_instances).error();
  c.min_instances = *min_instances;

  if (auto it = body.find("env"); it != body.end() && !it->value().is_null()) {
    const auto* env = it->value().if_object();
    if (!env) return bad("'env' must be an object of string values");
    size_t bytes = 0;
    for (const auto& [k, v] : *env) {
      if (auto s = valid_env_name(k); !s) return std::move(s).error();
      if (!v.is_string()) {
        return bad(fmt::format("env variable '{}' must be a string", std::string_view(k)));
      }
      std::string_view value = v.get_string();
      if (value.find('\0') != std::string_view::npos) {
        return bad(fmt::format("env variable '{}' contains a NUL byte", std::string_view(k)));
      }
      bytes += k.size() + value.size();
      c.env.emplace(std::string(k), std::string(value));
    }
    if (bytes > kMaxEnvBytes) {
      return bad(fmt::format("'env' is {} bytes; the limit is {}", bytes, kMaxEnvBytes));
    }
  }

  if (auto it = body.find("retry"); it != body.end() && !it->value().is_null()) {
    const auto* r = it->value().if_object();
    if (!r) return bad("'retry' must be an object");
    if (auto s = reject_unknown_fields(
            *r, {"max_attempts", "initial_backoff_ms", "max_backoff_ms", "max_age_ms"});
        !s) {
      return std::move(s).error();
    }
    RetryPolicy d;
    for (const auto& f :
         {IntField{"max_attempts", &c.retry.max_attempts, d.max_attempts, 1, 100},
          IntField{"initial_backoff_ms", &c.retry.initial_backoff_ms, d.initial_backoff_ms, 0,
                   3600000},
          IntField{"max_backoff_ms", &c.retry.max_backoff_ms, d.max_backoff_ms, 0, 3600000},
          IntField{"max_age_ms", &c.retry.max_age_ms, d.max_age_ms, 1, 7ll * 24 * 3600000}}) {
      auto v = int_field(*r, f.name, f.fallback, f.min, f.max);
      if (!v) return std::move(v).error();
      *f.slot = *v;
    }
    if (c.retry.max_backoff_ms < c.retry.initial_backoff_ms) {
      return bad("'retry.max_backoff_ms' must be at least 'retry.initial_backoff_ms'");
    }
  }
  for (auto [field, slot] : {std::pair{"on_success", &c.on_success},
                             std::pair{"on_failure", &c.on_failure}}) {
    auto d = destination_field(body, field);
    if (!d) return std::move(d).error();
    *slot = std::move(*d);
  }
  return c;
}

json::object to_json(const FunctionConfig& c) {
  json::object o;
  o["name"] = c.name;
  o["runtime"] = runtime_name(c.runtime);
  o["handler"] = c.handler;
  if (c.code_upload > 0) {
    o["code"] = json::object{{"upload", c.code_upload}};
  } else {
    o["code"] = json::object{{"path", c.code_path}};
  }
  o["memory_mb"] = c.memory_mb;
  o["timeout_ms"] = c.timeout_ms;
  o["max_concurrency"] = c.max_concurrency;
  o["min_instances"] = c.min_instances;
  o["idle_timeout_ms"] = c.idle_timeout_ms;
  json::object env;
  for (const auto& [k, v] : c.env) env[k] = v;
  o["env"] = std::move(env);
  o["retry"] = json::object{{"max_attempts", c.retry.max_attempts},
                            {"initial_backoff_ms", c.retry.initial_backoff_ms},
                            {"max_backoff_ms", c.retry.max_backoff_ms},
                            {"max_age_ms", c.retry.max_age_ms}};
  o["on_success"] = c.on_success ? destination_json(*c.on_success) : json::value(nullptr);
  o["on_failure"] = c.on_failure ? destination_json(*c.on_failure) : json::value(nullptr);
  o["version"] = c.version;
  return o;
}

Result<FunctionConfig> from_stored_json(std::string_view name, std::string_view text,
                                        const FunctionDefaults& defaults) {
  auto body = parse_json_object(text);
  if (!body) return std::move(body).error();
  FunctionConfig previous;
  if (auto it = body->find("code"); it != body->end() && it->value().is_object()) {
    if (auto u = it->value().as_object().find("upload");
        u != it->value().as_object().end() && u->value().is_int64()) {
      previous.code_upload = u->value().get_int64();
    }
  }
  auto c = parse_function_config(name, *body, defaults, &previous);
  if (!c) return c;
  auto version = get_int(*body, "version");
  if (version && *version) c->version = **version;
  return c;
}

}  // namespace eddy::functions
