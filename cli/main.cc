// pa-match: the operator CLI of the pa-match service.
//
//   pa-match [global flags] <command> [flags] [args]
//   pa-match help [command]        pa-match <command> --help
//
// Global flags may appear before or after the command. This file only
// dispatches; the commands live in commands_*.cc.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"

namespace pamatch::cli {
namespace {

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto group : {SearchCommands(), ProfileCommands(), ImportCommands(),
                     JobCommands(), JobImportCommands(), MatchJobsCommands(),
                     WatchCommands(), PolicyCommands(), AdminCommands()}) {
    for (auto& command : group) all.push_back(std::move(command));
  }
  return all;
}

const Command* Find(const std::vector<Command>& commands,
                    const std::string& name) {
  for (const Command& command : commands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

std::string GeneralUsage(const std::vector<Command>& commands) {
  std::string out =
      "usage: pa-match [global flags] <command> [flags] [args]\n\ncommands:\n";
  size_t width = 0;
  std::vector<std::string> heads;
  for (const Command& c : commands) {
    heads.push_back(c.args.empty() ? c.name
                                   : absl::StrCat(c.name, " ", c.args));
    width = std::max(width, heads.back().size());
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    absl::StrAppend(&out, "  ", heads[i],
                    std::string(width - heads[i].size() + 3, ' '),
                    commands[i].summary, "\n");
  }
  absl::StrAppend(&out, "\nglobal flags:\n", FormatFlagHelp(GlobalFlagSpecs()),
                  "\nRun 'pa-match help <command>' or "
                  "'pa-match <command> --help' for its flags.\n"
                  "Exit codes: 0 ok, 1 partial (import rejections, unhealthy), "
                  "2 error.\n");
  return out;
}

std::string CommandUsage(const Command& c) {
  std::string out = absl::StrCat(
      "usage: pa-match ", c.name, c.flags.empty() ? "" : " [flags]",
      c.args.empty() ? "" : " ", c.args, "\n", c.summary, "\n");
  if (!c.flags.empty()) {
    absl::StrAppend(&out, "\nflags:\n", FormatFlagHelp(c.flags));
  }
  absl::StrAppend(&out, "\nglobal flags:\n", FormatFlagHelp(GlobalFlagSpecs()));
  return out;
}

int Usage(const absl::Status& status, const std::string& hint) {
  std::cerr << "error: " << status.message() << "\n" << hint << "\n";
  return kExitError;
}

int Main(const std::vector<std::string>& args) {
  const std::vector<Command> commands = AllCommands();
  auto leading =
      ParseFlags(args, GlobalFlagSpecs(), {.stop_at_positional = true});
  if (!leading.ok()) return Usage(leading.status(), "run 'pa-match help'");
  std::vector<std::string> rest = leading->rest;
  if (rest.empty()) {
    if (leading->flags.GetBool("help")) {
      std::cout << GeneralUsage(commands);
      return kExitOk;
    }
    std::cerr << GeneralUsage(commands);
    return kExitError;
  }

  std::string name = rest[0];
  rest.erase(rest.begin());
  if (name == "help") {
    const std::string topic = absl::StrJoin(rest, " ");
    if (topic.empty() || topic == "policy" || topic == "job") {
      std::cout << GeneralUsage(commands);
      return kExitOk;
    }
    const Command* command = Find(commands, topic);
    if (command == nullptr) {
      return Usage(absl::InvalidArgumentError("unknown command " + topic),
                   "run 'pa-match help'");
    }
    std::cout << CommandUsage(*command);
    return kExitOk;
  }
  if (name == "policy" || name == "job") {
    if (rest.empty() || rest[0].rfind("-", 0) == 0) {
      return Usage(
          absl::InvalidArgumentError(absl::StrCat(
              name, " needs a subcommand: ",
              name == "policy" ? "set, get, list or delete"
                               : "post, get, delete or import")),
          "run 'pa-match help'");
    }
    name = absl::StrCat(name, " ", rest[0]);
    rest.erase(rest.begin());
  }
  const Command* command = Find(commands, name);
  if (command == nullptr) {
    return Usage(absl::InvalidArgumentError("unknown command " + name),
                 "run 'pa-match help'");
  }
  const std::string hint = absl::StrCat("run 'pa-match ", name, " --help'");

  std::vector<FlagSpec> specs = command->flags;
  specs.insert(specs.end(), GlobalFlagSpecs().begin(), GlobalFlagSpecs().end());
  auto parsed = ParseFlags(rest, specs);
  if (!parsed.ok()) return Usage(parsed.status(), hint);
  if (parsed->flags.GetBool("help")) {
    std::cout << CommandUsage(*command);
    return kExitOk;
  }
  Invocation inv;
  inv.flags = leading->flags;
  inv.flags.Merge(parsed->flags);
  const size_t n = inv.flags.positional().size();
  if (n < command->min_args || n > command->max_args) {
    return Usage(absl::InvalidArgumentError(absl::StrCat(
                     name, " takes ",
                     command->args.empty() ? "no arguments" : command->args,
                     ", got ", n, " argument", n == 1 ? "" : "s")),
                 hint);
  }
  auto config = ResolveClientConfig(inv.flags, RealEnv, ReadWholeFile);
  if (!config.ok()) return Usage(config.status(), hint);
  inv.config = *config;
  return command->run(inv);
}

}  // namespace
}  // namespace pamatch::cli

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return pamatch::cli::Main(args);
}
