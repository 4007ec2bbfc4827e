// Webhook signature schemes: what a sender signs and how eddy checks it, before anything
// acts on a delivery. Pure functions over the request's headers and body; thread-safe.
//
//   stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, one
//           or more v1 values (Stripe sends several while a secret is being rolled); the
//           timestamp must be within `tolerance_s` of now (default 300), either way.
//   github: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`; the delivery id is
//           `X-GitHub-Delivery`, the event type `X-GitHub-Event`.
//   hmac:   a configurable header holding `<prefix><hex|base64 HMAC-SHA1|256|512>` over a
//           template of the body, an optional timestamp header (seconds, checked against
//           `tolerance_s`) and an optional id header: e.g. "{timestamp}.{body}" or Slack's
//           "v0:{timestamp}:{body}" with prefix "v0=". Several signatures in the header may be
//           separated by spaces or commas.
//
// Every configured secret is tried (rotation), and every comparison is constant-time.
#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "sources/crypto.h"

namespace eddy::sources::webhooks {

enum class Scheme { stripe, github, hmac };
enum class Encoding { hex, base64 };

struct VerifyConfig {
  Scheme scheme = Scheme::stripe;
  std::vector<std::string> secrets;  // any one may match
  int64_t tolerance_s = 300;         // timestamp window, and the replay window
  // hmac only:
  std::string header;  // where the signature is
  Digest algorithm = Digest::sha256;
  Encoding encoding = Encoding::hex;
  std::string prefix;            // before each signature, e.g. "sha256="
  std::string timestamp_header;  // "" = no timestamp
  std::string id_header;         // "" = no delivery id (no replay detection)
  std::string signed_payload;    // template of {body} {timestamp} {id}

  // {"scheme":"stripe"|"github"|"hmac","secret":S | "secrets":[S...],"tolerance_s":N, and
  // for hmac "header","algorithm":"sha1|sha256|sha512","encoding":"hex|base64","prefix",
  // "timestamp_header","id_header","signed_payload"}. Errors are invalid_argument.
  static Result<VerifyConfig> parse(const boost::json::value& v);
  // The config as stored (`redact`: secrets replaced by "<redacted>").
  boost::json::value to_json(bool redact) const;
};

// Looks up a request header by name (any case); "" when absent.
using HeaderLookup = std::function<std::string_view(std::string_view name)>;

// What a verified delivery says about itself.
struct Delivery {
  std::string id;           // the provider's event or delivery id; "" when the scheme has none
  std::string type;         // the provider's event type; "" when none
  int64_t timestamp_s = 0;  // the signed timestamp; 0 when none
};

// Verifies a delivery. Fails with Errc::invalid_argument saying what was wrong (missing
// or malformed header, timestamp outside the tolerance, no signature matches) — the
// gateway answers 401 with it.
Result<Delivery> verify(const VerifyConfig& config, const HeaderLookup& headers,
                        std::string_view body, int64_t now_s);

// The Stripe-Signature header value Stripe's own libraries produce for a test delivery.
std::string stripe_signature_header(std::string_view secret, std::string_view body,
                                    int64_t timestamp_s);

}  // namespace eddy::sources::webhooks
