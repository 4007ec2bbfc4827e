#include "rules/rules_bench.h"

#include <fmt/format.h>
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <fstream>
#include <random>
#include <string>

#include "rules/interpreter.h"
#include "rules/matcher.h"
#include "rules/pattern.h"

namespace eddy::rules {

namespace {

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

size_t heap_in_use() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

double rss_mb() {
  std::ifstream f("/proc/self/statm");
  size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return static_cast<double>(resident) * 4096.0 / (1024.0 * 1024.0);
}

const char* kEntities[] = {"order",   "payment", "shipment", "customer",  "cart",
                           "invoice", "refund",  "review",   "inventory", "session"};
const char* kActions[] = {"created", "updated", "deleted", "paid", "shipped", "cancelled", "failed", "completed"};
const char* kStatuses[] = {"created", "paid", "packed", "shipped", "delivered", "cancelled", "failed"};
const char* kTiers[] = {"free", "silver", "gold", "platinum"};
const char* kCountries[] = {"DE", "FR", "US", "GB", "ES", "IT", "NL", "PL", "SE", "JP", "BR", "IN"};
const char* kCities[] = {"Berlin", "Paris", "Austin", "London", "Madrid", "Rome", "Utrecht", "Krakow"};
const char* kRegions[] = {"eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1"};
const char* kServices[] = {"orders", "payments", "shipping", "accounts", "catalog"};
const char* kCurrencies[] = {"EUR", "USD", "GBP", "JPY", "PLN", "SEK"};
const char* kMethods[] = {"standard", "express", "pickup"};
const char* kTags[] = {"sale", "new", "gift", "fragile", "bulk", "eco"};

// The vocabularies of one run; they grow with the number of rules.
struct Vocabulary {
  size_t type_variants, tenants, customers, skus, domains;
  explicit Vocabulary(size_t rules)
      : type_variants(std::max<size_t>(1, rules / 800)),
        tenants(std::max<size_t>(10, rules / 20)),
        customers(std::max<size_t>(100, rules / 2)),
        skus(std::max<size_t>(100, rules / 2)),
        domains(std::max<size_t>(20, rules / 50)) {}
};

class Generator {
 public:
  Generator(uint64_t seed, const Vocabulary& v) : rng_(seed), v_(v) {}

  size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  template <size_t N>
  const char* pick(const char* (&a)[N]) {
    return a[below(N)];
  }

  std::string type() {
    return fmt::format("com.shop.{}.{}.v{}", pick(kEntities), pick(kActions), below(v_.type_variants));
  }
  std::string tenant() { return fmt::format("t{}", below(v_.tenants)); }
  std::string customer() { return fmt::format("cus-{}", below(v_.customers)); }
  std::string sku() { return fmt::format("SKU-{}", below(v_.skus)); }
  std::string domain() { return fmt::format("mail{}.example.com", below(v_.domains)); }

  std::string event() {
    std::string items;
    size_t n = 1 + below(4);
    for (size_t i = 0; i < n; ++i) {
      items += fmt::format(R"({}{{"sku":"{}","qty":{},"price":{}.{:02},"tags":["{}","{}"]}})", i ? "," : "",
                           sku(), 1 + below(5), below(200), below(100), pick(kTags), pick(kTags));
    }
    std::string ord = fmt::format("ord-{}", below(1000000));
    return fmt::format(
        R"({{"specversion":"1.0","id":"{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}","source":"/shop/{}/{}",)"
        R"("type":"{}","subject":"orders/{}","time":"2026-11-{:02}T{:02}:{:02}:{:02}.{:03}Z",)"
        R"("datacontenttype":"application/json","tenant":"{}",)"
        R"("traceparent":"00-{:016x}{:016x}-{:016x}-01","data":{{"order":{{"id":"{}","status":"{}",)"
        R"("total":{}.{:02},"currency":"{}","items":[{}],"shipping":{{"method":"{}","address":{{)"
        R"("city":"{}","zip":"{:05}","country":"{}"}}}}}},"customer":{{"id":"{}","tier":"{}",)"
        R"("email":"User.{}@{}","country":"{}"}},"client":{{"ip":"10.{}.{}.{}",)"
        R"("user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}},)"
        R"("flags":{{"gift":{},"priority":{},"note":null}}}}}})",
        rng_() & 0xFFFFFFFF, rng_() & 0xFFFF, rng_() & 0xFFF, rng_() & 0xFFF, rng_() & 0xFFFFFFFFFFFF,
        pick(kRegions), pick(kServices), type(), ord, 1 + below(28), below(24), below(60), below(60),
        below(1000), tenant(), rng_(), rng_(), rng_(), ord, pick(kStatuses), below(2000), below(100),
        pick(kCurrencies), items, pick(kMethods), pick(kCities), below(100000), pick(kCountries), customer(),
        pick(kTiers), below(100000), domain(), pick(kCountries), below(256), below(256), below(256),
        below(2) ? "true" : "false", below(2) ? "true" : "false");
  }

  std::string rule() {
    size_t r = below(100);
    if (r < 25) {
      return fmt::format(
          R"({{"type":["{}"],"data":{{"customer":{{"tier":["gold","platinum"]}},"order":{{"total":[{{"numeric":[">",{}]}}]}}}}}})",
          type(), below(1500));
    }
    if (r < 40) {
      return fmt::format(R"({{"tenant":["{}"],"source":[{{"prefix":"/shop/{}"}}]}})", tenant(),
                         below(2) ? "eu-" : "us-");
    }
    if (r < 50) {
      return fmt::format(
          R"({{"data":{{"customer":{{"id":["{}"]}},"order":{{"status":[{{"anything-but":["cancelled","failed"]}}]}}}}}})",
          customer());
    }
    if (r < 60) {
      return fmt::format(
          R"({{"type":[{{"prefix":"com.shop.{}."}}],"data":{{"customer":{{"email":[{{"suffix":{{"equals-ignore-case":"@{}"}}}}]}}}}}})",
          pick(kEntities), domain());
    }
    if (r < 70) {
      return fmt::format(
          R"({{"data":{{"order":{{"items":{{"sku":["{}"],"qty":[{{"numeric":[">=",{}]}}]}}}}}}}})", sku(),
          1 + below(3));
    }
    if (r < 78) {
      return fmt::format(R"({{"type":["{}"],"subject":[{{"wildcard":"orders/ord-{}*"}}]}})", type(), 1 + below(9));
    }
    if (r < 85) {
      return fmt::format(R"({{"tenant":["{}"],"data":{{"client":{{"ip":[{{"cidr":"10.{}.0.0/16"}}]}}}}}})",
                         tenant(), below(256));
    }
    if (r < 90) {
      return fmt::format(
          R"({{"$or":[{{"type":["{}"]}},{{"data":{{"customer":{{"id":["{}"]}}}}}}],"data":{{"flags":{{"priority":[true]}}}}}})",
          type(), customer());
    }
    if (r < 95) {
      return fmt::format(
          R"({{"tenant":["{}"],"data":{{"customer":{{"country":[{{"equals-ignore-case":"{}"}}]}},"flags":{{"coupon":[{{"exists":false}}]}}}}}})",
          tenant(), pick(kCountries));
    }
    double lo = static_cast<double>(below(200000)) / 100.0;
    return fmt::format(
        R"({{"data":{{"order":{{"currency":["{}"],"total":[{{"numeric":[">=",{},"<",{}]}}]}}}}}})",
        pick(kCurrencies), lo, lo + 0.5);
  }

 private:
  std::mt19937_64 rng_;
  const Vocabulary& v_;
};

}  // namespace

boost::json::object bench_rules(const BenchRulesOptions& options) {
  boost::json::object out;
  std::vector<size_t> counts = options.rule_counts;
  std::sort(counts.begin(), counts.end());
  if (counts.empty()) return out;

  double event_bytes_total = 0;
  size_t event_count = 0;
  double compile_seconds = 0;
  size_t compiled_total = 0;
  size_t verified = 0;
  std::map<size_t, double> rates;  // events per second by rule count

  for (size_t n : counts) {
    Vocabulary vocab(n);
    Generator gen(options.seed + n, vocab);

    // Compile first, so that the heap growth measured below is the matcher's alone.
    std::vector<Pattern> patterns;
    patterns.reserve(n);
    double t0 = thread_cpu_seconds();
    for (size_t i = 0; i < n; ++i) {
      auto p = compile_pattern(gen.rule());
      if (!p.ok()) {
        out["error"] = "benchmark pattern did not compile: " + p.error().message;
        return out;
      }
      patterns.push_back(std::move(*p));
    }
    compile_seconds += thread_cpu_seconds() - t0;
    compiled_total += n;

    std::vector<std::string> events;
    for (size_t i = 0; i < options.distinct_events; ++i) {
      events.push_back(gen.event());
      event_bytes_total += static_cast<double>(events.back().size());
      ++event_count;
    }

    auto matcher = std::make_unique<Matcher>();
    malloc_trim(0);
    size_t heap_before = heap_in_use();
    t0 = thread_cpu_seconds();
    for (size_t i = 0; i < n; ++i) {
      if (!matcher->add(i, patterns[i]).ok()) {
        out["error"] = "Matcher::add failed";
        return out;
      }
    }
    double add_seconds = thread_cpu_seconds() - t0;
    size_t heap_after = heap_in_use();

    // Check a sample against the reference interpreter.
    std::vector<uint64_t> ids;
    if (n <= 10000) {
      for (size_t e = 0; e < options.verify_events && e < events.size(); ++e) {
        matcher->match(events[e], ids);
        std::vector<uint64_t> expected;
        for (size_t i = 0; i < n; ++i) {
          if (matches(patterns[i], events[e])) expected.push_back(i);
        }
        if (ids != expected) {
          out["error"] = fmt::format("matcher and reference disagree at {} rules on event {}", n, e);
          return out;
        }
        ++verified;
      }
    }

    // Match until the CPU budget is spent, in rounds over all distinct events.
    size_t matched = 0, total_ids = 0;
    double cpu0 = thread_cpu_seconds(), wall0 = wall_seconds(), cpu = 0;
    do {
      for (const std::string& e : events) {
        matcher->match(e, ids);
        total_ids += ids.size();
      }
      matched += events.size();
      cpu = thread_cpu_seconds() - cpu0;
    } while (cpu < options.match_seconds);
    double wall = wall_seconds() - wall0;

    MatcherStats stats = matcher->stats();
    std::string k = fmt::format("rules_{}_", n);
    double eps = static_cast<double>(matched) / cpu;
    out[k + "events_per_sec"] = std::round(eps);
    out[k + "ns_per_event"] = std::round(1e9 / eps);
    out[k + "wall_events_per_sec"] = std::round(static_cast<double>(matched) / wall);
    out[k + "matches_per_event"] = std::round(100.0 * static_cast<double>(total_ids) / static_cast<double>(matched)) / 100.0;
    out[k + "rules_added_per_sec"] = std::round(static_cast<double>(n) / std::max(add_seconds, 1e-9));
    // Heap growth from malloc's statistics; allocators that keep none (sanitizers) get the
    // matcher's own estimate.
    size_t grown = heap_after > heap_before ? heap_after - heap_before : stats.memory_bytes;
    out[k + "bytes_per_rule"] = std::round(static_cast<double>(grown) / static_cast<double>(n));
    out[k + "estimated_bytes_per_rule"] =
        std::round(static_cast<double>(stats.memory_bytes) / static_cast<double>(n));
    out[k + "states"] = stats.states;
    rates[n] = eps;
    if (n == counts.back()) {
      out["bytes_per_rule"] = out[k + "bytes_per_rule"];
      out["rules_added_per_sec"] = out[k + "rules_added_per_sec"];
      out["rss_mb"] = std::round(rss_mb());
    }
  }
  out["events_per_sec"] = std::round(rates.count(10000) ? rates[10000] : rates.rbegin()->second);
  out["patterns_compiled_per_sec"] = std::round(static_cast<double>(compiled_total) / std::max(compile_seconds, 1e-9));
  out["event_bytes"] = std::round(event_bytes_total / static_cast<double>(std::max<size_t>(event_count, 1)));
  out["verified_events"] = verified;
  out["timing"] = "thread CPU time, one thread";
  return out;
}

}  // namespace eddy::rules
