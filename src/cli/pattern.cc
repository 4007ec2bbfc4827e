#include "cli/pattern.h"

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>

#include <iostream>
#include <memory>

#include "cli/http_client.h"
#include "common/json_util.h"

namespace eddy::cli {
namespace json = boost::json;

Command add_pattern_command(CLI::App& app) {
  auto* pattern = app.add_subcommand("pattern", "Work with event patterns");
  pattern->require_subcommand(1);
  auto* test = pattern->add_subcommand(
      "test", "Test a pattern against an event; exit 0 on a match, 1 on none, 2 on an error");
  auto args = std::make_shared<std::tuple<std::string, std::string, bool>>();
  test->add_option("--pattern", std::get<0>(*args), "the pattern as JSON, or @FILE")->required();
  test->add_option("--event", std::get<1>(*args), "the CloudEvent as JSON, or @FILE")->required();
  test->add_flag("--explain", std::get<2>(*args), "say which field failed and why");
  return Command{[test] { return test->parsed(); },
                 [args](const std::string& endpoint) -> int {
                   auto pattern = json_arg("--pattern", std::get<0>(*args));
                   auto event = json_arg("--event", std::get<1>(*args));
                   for (const auto* r : {&pattern, &event}) {
                     if (!*r) {
                       std::cerr << "eddy: " << r->error().message << "\n";
                       return 2;
                     }
                   }
                   json::object body{
                       {"pattern", *pattern}, {"event", *event}, {"explain", std::get<2>(*args)}};
                   auto client = HttpClient::connect_to(endpoint);
                   if (!client) {
                     std::cerr << "eddy: " << client.error().message << "\n";
                     return 2;
                   }
                   auto r = (*client)->request("POST", "/v1/patterns/test", json_text(body));
                   if (!r) {
                     std::cerr << "eddy: " << r.error().message << "\n";
                     return 2;
                   }
                   if (r->status >= 300) {
                     std::cerr << "eddy: " << error_message(*r) << "\n";
                     return 2;
                   }
                   std::cout << r->body << "\n";
                   auto reply = json::parse(r->body);
                   return reply.as_object().at("match").as_bool() ? 0 : 1;
                 }};
}

}  // namespace eddy::cli
