#include "cli/resource_command.h"

#include <CLI/CLI.hpp>

#include "cli/http_client.h"
#include "common/json_util.h"

namespace eddy::cli {

ResourceCommand add_resource_command(CLI::App& app, const std::string& noun,
                                     const std::string& description, const std::string& collection,
                                     std::shared_ptr<std::string> name,
                                     std::function<Result<boost::json::object>()> put_body) {
  auto* cmd = app.add_subcommand(noun, description);
  cmd->require_subcommand(1);
  auto* put = cmd->add_subcommand("put", "Create or replace a " + noun);
  put->add_option("name", *name, noun + " name")->required();
  auto* list = cmd->add_subcommand("list", "List " + noun + "s");
  auto* get = cmd->add_subcommand("get", "Show a " + noun);
  get->add_option("name", *name, noun + " name")->required();
  auto* del = cmd->add_subcommand("delete", "Delete a " + noun);
  del->add_option("name", *name, noun + " name")->required();
  auto run = [=](const std::string& endpoint) -> int {
    auto connected = HttpClient::connect_to(endpoint);
    if (!connected) return fail(connected.error().message);
    HttpClient& http = **connected;
    std::string one = collection + "/" + path_segment(*name);
    if (put->parsed()) {
      auto body = put_body();
      if (!body) return fail(body.error().message);
      return http.print("PUT", one, json_text(*body));
    }
    if (list->parsed()) return http.print("GET", collection);
    if (get->parsed()) return http.print("GET", one);
    if (del->parsed()) return http.print("DELETE", one);
    return fail("choose put, list, get or delete");
  };
  return ResourceCommand{put, Command{[cmd] { return cmd->parsed(); }, run}};
}

}  // namespace eddy::cli
