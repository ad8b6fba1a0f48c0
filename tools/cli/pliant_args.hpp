// Command-line grammar of `pliant`, parsed with CLI11 when the build found it
// (PLIANT_HAVE_CLI11) and with a small hand parser otherwise.  Both accept the
// same commands and options; only the wording of help and error texts differs.
//
//   pliant run SCENE [--out DIR] [--frames N] [--backend cpu|cuda|auto]
//                    [--threads N] [--preview] [--set key.path=value ...] [--quiet | --verbose]
//   pliant validate SCENE [--set key.path=value ...] [--verbose]
//   pliant gradcheck SCENE [--steps N] [--seed N] [--threads N] [--set key.path=value ...]
//   pliant optimize SCENE [--out DIR] [--resume] [--threads N] [--no-preview] [--set key.path=value ...] [--quiet]
//                         [--executor local|ray] [--address ADDR] [--workers N] [--retries N] [--timeout S]
//   pliant sweep SCENE --grid key.path=v1,v2,... [--grid ...] [--set ...] [--out DIR] [--executor local|ray]
//                      [--address ADDR] [--workers N] [--retries N] [--timeout S] [--gradient] [--seed N]
//                      [--resume] [--quiet]
//   (issue 10: `sweep` and `optimize --executor ray` run the Python package: python -m pliant, pliant/cli.py)
//   pliant info
//   pliant --version | --help
#pragma once

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#ifdef PLIANT_HAVE_CLI11
#include <CLI/CLI.hpp>
#endif

namespace pliant_cli {

enum class CommandKind { None, Run, Validate, Gradcheck, Optimize, Info, Sweep /* issue 10 */ };

struct Args {
  CommandKind command = CommandKind::None;
  std::string scene;
  std::string out;
  std::optional<int> frames;
  std::string backend;
  std::optional<int> threads;
  std::vector<std::string> sets;
  bool preview = false;
  bool resume = false;      // optimize: continue from out/state.json
  bool no_preview = false;  // optimize: skip the initial/best preview images
  int steps = 20;           // gradcheck: substeps of the checked rollout
  unsigned long seed = 1;   // gradcheck: random loss weights and directions
  bool quiet = false;
  bool verbose = false;
  // --- issue 10 (executors): optimize --executor ray, sweep; forwarded to python -m pliant
  std::string executor = "local";      // local | ray
  std::string address;                 // ray: cluster address
  std::optional<int> workers;          // evaluations at once (local threads / CPUs of a local Ray)
  std::optional<int> retries;          // ray: new attempts of a lost candidate
  std::optional<double> timeout;       // ray: seconds per evaluation
  std::vector<std::string> grids;      // sweep: key.path=v1,v2,...
  bool gradient = false;               // sweep: also dL/du
  std::optional<long> sweep_seed;      // sweep: evaluation seed
  bool executor_options_given = false; // any of --address/--workers/--retries/--timeout
  // --- end issue 10
};

/// Result of parsing: either Args to execute, or an exit code to return now
/// (help/version printed: 0; misuse: 2, after printing the reason to stderr).
struct Parsed {
  Args args;
  std::optional<int> exit_code;
};

constexpr const char* kDescription =
    "Pliant: differentiable simulation of pliant matter (MPM).\n"
    "Scene files are described in docs/scene_format.md.";
constexpr const char* kPreviewHelp =
    "Render preview_NNNNN.png images (sets preview.enabled=true) and, if ffmpeg is installed, preview.mp4";
// issue 10
constexpr const char* kExecutorHelp = "Where populations are evaluated: local (this machine, default) or ray (a Ray cluster)";
constexpr const char* kGridHelp = "A scene key and its values, e.g. --grid materials.clay.E=1e4,3e4 (repeatable: the "
                                  "Cartesian product is swept; commas inside [..] belong to a value)";
constexpr const char* kSetHelp =
    "Override a scene value before validation, e.g. --set simulation.frames=10 "
    "--set bodies.jelly.velocity=[0,-1,0] (repeatable; the value is YAML)";

#ifdef PLIANT_HAVE_CLI11

inline Parsed parse_args(int argc, char** argv, const std::string& version) {
  Parsed result;
  Args& a = result.args;
  CLI::App app(kDescription, "pliant");
  app.set_version_flag("--version", "pliant " + version);
  app.require_subcommand(1);

  CLI::App* run = app.add_subcommand("run", "Simulate a scene and write frame_NNNNN.ply files and run.json");
  run->add_option("scene", a.scene, "Scene file (.yaml)")->required();
  run->add_option("--out", a.out, "Output directory (default: the scene's output.dir)");
  run->add_option("--frames", a.frames, "Number of frames to simulate (overrides simulation.frames)");
  run->add_option("--backend", a.backend, "cpu, cuda or auto (overrides simulation.backend)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  run->add_option("--threads", a.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  run->add_option("--set", a.sets, kSetHelp)->allow_extra_args(false);
  run->add_flag("--preview", a.preview, kPreviewHelp);
  auto* quiet = run->add_flag("-q,--quiet", a.quiet, "Print nothing but errors");
  run->add_flag("-v,--verbose", a.verbose, "Print the scene summary and stability check first")->excludes(quiet);

  CLI::App* validate = app.add_subcommand("validate", "Check a scene file and build its world, without running it");
  validate->add_option("scene", a.scene, "Scene file (.yaml)")->required();
  validate->add_option("--set", a.sets, kSetHelp)->allow_extra_args(false);
  validate->add_flag("-v,--verbose", a.verbose, "Also print materials and bodies");

  CLI::App* gradcheck = app.add_subcommand(
      "gradcheck", "Compare the scene's adjoint gradients with finite differences (double) and print a table");
  gradcheck->add_option("scene", a.scene, "Scene file (.yaml)")->required();
  gradcheck->add_option("--steps", a.steps, "Substeps of the checked rollout (default 20)")
      ->check(CLI::Range(1, 100000));
  gradcheck->add_option("--seed", a.seed, "Seed of the random loss and directions (default 1)");
  gradcheck->add_option("--threads", a.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  gradcheck->add_option("--set", a.sets, kSetHelp)->allow_extra_args(false);

  CLI::App* optimize = app.add_subcommand(
      "optimize", "Optimize the scene's controls for its objective (controls/objective/optimizer sections)");
  optimize->add_option("scene", a.scene, "Scene file (.yaml)")->required();
  optimize->add_option("--out", a.out, "Output directory (default: the scene's output.dir)");
  optimize->add_flag("--resume", a.resume, "Continue from the state saved in the output directory");
  optimize->add_option("--threads", a.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  optimize->add_flag("--no-preview", a.no_preview, "Do not render preview images of the initial and best rollout");
  optimize->add_option("--set", a.sets, kSetHelp)->allow_extra_args(false);
  optimize->add_flag("-q,--quiet", a.quiet, "Print nothing but errors");
  // --- issue 10: executors (python -m pliant)
  CLI::App* sweep = app.add_subcommand(
      "sweep", "The scene's objective at its initial controls for every combination of --grid values (one table)");
  sweep->add_option("scene", a.scene, "Scene file (.yaml)")->required();
  sweep->add_option("--grid", a.grids, kGridHelp)->required()->allow_extra_args(false);
  sweep->add_option("--set", a.sets, kSetHelp)->allow_extra_args(false);
  sweep->add_option("--out", a.out, "Output directory (default: <the scene's output.dir>/sweep)");
  sweep->add_flag("--resume", a.resume, "Keep the finished rows of an interrupted sweep");
  sweep->add_flag("--gradient", a.gradient, "Also compute dL/du per row (sweep.jsonl)");
  sweep->add_option("--seed", a.sweep_seed, "Evaluation seed (default: the scene's optimizer.seed)");
  sweep->add_flag("-q,--quiet", a.quiet, "Print nothing but errors");
  for (CLI::App* sub : {optimize, sweep}) {
    sub->add_option("--executor", a.executor, kExecutorHelp)->check(CLI::IsMember({"local", "ray"}));
    sub->add_option("--address", a.address, "Ray cluster address (HOST:6379, auto); none: a local Ray instance");
    sub->add_option("--workers", a.workers, "Evaluations at once (sweep threads, or CPUs of a local Ray instance)")
        ->check(CLI::PositiveNumber);
    sub->add_option("--retries", a.retries, "ray: new attempts for a candidate whose worker died or timed out")
        ->check(CLI::NonNegativeNumber);
    sub->add_option("--timeout", a.timeout, "ray: seconds one evaluation may run")->check(CLI::PositiveNumber);
  }
  // --- end issue 10

  app.add_subcommand("info", "Version, backends, threads and the registered material models");

  if (argc >= 2 && argv[1][0] != '-') {
    const std::string cmd = argv[1];
    if (cmd != "run" && cmd != "validate" && cmd != "gradcheck" && cmd != "optimize" && cmd != "info" && cmd != "sweep") {
      std::cerr << "pliant: unknown command '" << cmd << "'; expected run, validate, gradcheck, optimize, sweep or info\n"
                << "Run with --help for more information.\n";
      result.exit_code = 2;
      return result;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help / version / the error
    result.exit_code = code == 0 ? 0 : 2;
    return result;
  }
  if (run->parsed()) a.command = CommandKind::Run;
  if (validate->parsed()) a.command = CommandKind::Validate;
  if (gradcheck->parsed()) a.command = CommandKind::Gradcheck;
  if (optimize->parsed()) a.command = CommandKind::Optimize;
  if (app.get_subcommand("info")->parsed()) a.command = CommandKind::Info;
  if (sweep->parsed()) a.command = CommandKind::Sweep;  // issue 10
  for (const char* o : {"--address", "--workers", "--retries", "--timeout"})
    if ((optimize->parsed() && optimize->count(o)) || (sweep->parsed() && sweep->count(o))) a.executor_options_given = true;
  return result;
}

#else  // no CLI11: a hand parser for the same grammar

inline void print_usage(std::ostream& os) {
  os << kDescription << "\n\n"
     << "Usage:\n"
     << "  pliant run SCENE [--out DIR] [--frames N] [--backend cpu|cuda|auto] [--threads N]\n"
     << "                   [--preview] [--set key.path=value ...] [--quiet | --verbose]\n"
     << "  pliant validate SCENE [--set key.path=value ...] [--verbose]\n"
     << "  pliant gradcheck SCENE [--steps N] [--seed N] [--threads N] [--set key.path=value ...]\n"
     << "  pliant optimize SCENE [--out DIR] [--resume] [--threads N] [--no-preview] [--set key.path=value ...]\n"
     << "                   [--quiet] [--executor local|ray] [--address ADDR] [--workers N] [--retries N]\n"
     << "                   [--timeout S]\n"
     << "  pliant sweep SCENE --grid key.path=v1,v2,... [--grid ...] [--set ...] [--out DIR]\n"
     << "                   [--executor local|ray] [--address ADDR] [--workers N] [--retries N] [--timeout S]\n"
     << "                   [--gradient] [--seed N] [--resume] [--quiet]\n"
     << "  pliant info\n"
     << "  pliant --version | --help\n\n"
     << "--set: " << kSetHelp << "\n"
     << "--preview: " << kPreviewHelp << "\n"
     << "--grid: " << kGridHelp << "\n"
     << "--executor: " << kExecutorHelp << "\n";
}

inline Parsed parse_args(int argc, char** argv, const std::string& version) {
  Parsed result;
  Args& a = result.args;
  const auto misuse = [&](const std::string& why) {
    std::cerr << "pliant: " << why << "\nRun 'pliant --help' for usage.\n";
    result.exit_code = 2;
    return result;
  };
  std::vector<std::string> argsv(argv + 1, argv + argc);
  if (argsv.empty()) return misuse("a command is required: run, validate, gradcheck, optimize or info");
  const std::string cmd = argsv[0];
  if (cmd == "-h" || cmd == "--help") {
    print_usage(std::cout);
    result.exit_code = 0;
    return result;
  }
  if (cmd == "--version") {
    std::cout << "pliant " << version << "\n";
    result.exit_code = 0;
    return result;
  }
  if (cmd == "run") a.command = CommandKind::Run;
  else if (cmd == "validate") a.command = CommandKind::Validate;
  else if (cmd == "gradcheck") a.command = CommandKind::Gradcheck;
  else if (cmd == "optimize") a.command = CommandKind::Optimize;
  else if (cmd == "info") a.command = CommandKind::Info;
  else if (cmd == "sweep") a.command = CommandKind::Sweep;  // issue 10
  else return misuse("unknown command '" + cmd + "'; expected run, validate, gradcheck, optimize, sweep or info");
  const bool is_sweep = a.command == CommandKind::Sweep;
  const bool is_gradcheck = a.command == CommandKind::Gradcheck;
  const bool is_optimize = a.command == CommandKind::Optimize;

  const bool is_run = a.command == CommandKind::Run;
  const auto to_int = [](const std::string& s, int& out) {
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < 0 || v > 1000000000) return false;
    out = int(v);
    return true;
  };
  for (std::size_t i = 1; i < argsv.size(); ++i) {
    std::string opt = argsv[i], value;
    bool has_inline_value = false;
    if (opt.rfind("--", 0) == 0 && opt.find('=') != std::string::npos) {
      value = opt.substr(opt.find('=') + 1);
      opt = opt.substr(0, opt.find('='));
      has_inline_value = true;
    }
    const auto take_value = [&]() -> bool {
      if (has_inline_value) return true;
      if (i + 1 >= argsv.size()) return false;
      value = argsv[++i];
      return true;
    };
    if (opt == "-h" || opt == "--help") {
      print_usage(std::cout);
      result.exit_code = 0;
      return result;
    }
    if (a.command == CommandKind::Info) return misuse("'info' takes no arguments, got '" + argsv[i] + "'");
    if (opt == "--set") {
      if (!take_value()) return misuse("--set needs key.path=value");
      a.sets.push_back(value);
    } else if (opt == "-v" || opt == "--verbose") {
      a.verbose = true;
    } else if (is_run && opt == "--preview") {
      a.preview = true;
    } else if ((is_run || is_optimize || is_sweep) && (opt == "-q" || opt == "--quiet")) {
      a.quiet = true;
    } else if ((is_optimize || is_sweep) && opt == "--executor") {  // issue 10 options
      if (!take_value() || (value != "local" && value != "ray")) return misuse("--executor needs one of local, ray");
      a.executor = value;
    } else if ((is_optimize || is_sweep) && opt == "--address") {
      if (!take_value() || value.empty()) return misuse("--address needs a Ray cluster address");
      a.address = value;
      a.executor_options_given = true;
    } else if ((is_optimize || is_sweep) && (opt == "--workers" || opt == "--retries")) {
      int n = 0;
      if (!take_value() || !to_int(value, n) || (opt == "--workers" && n < 1))
        return misuse(opt + (opt == "--workers" ? " needs an integer >= 1" : " needs an integer >= 0"));
      (opt == "--workers" ? a.workers : a.retries) = n;
      a.executor_options_given = true;
    } else if ((is_optimize || is_sweep) && opt == "--timeout") {
      char* end = nullptr;
      const double t = take_value() ? std::strtod(value.c_str(), &end) : 0;
      if (value.empty() || end == nullptr || *end != '\0' || !(t > 0)) return misuse("--timeout needs seconds > 0");
      a.timeout = t;
      a.executor_options_given = true;
    } else if (is_sweep && opt == "--grid") {
      if (!take_value() || value.empty()) return misuse("--grid needs key.path=v1,v2,...");
      a.grids.push_back(value);
    } else if (is_sweep && opt == "--gradient") {
      a.gradient = true;
    } else if (is_sweep && opt == "--seed") {
      int n = 0;
      if (!take_value() || !to_int(value, n)) return misuse("--seed needs an integer >= 0");
      a.sweep_seed = n;
    } else if ((is_optimize || is_sweep) && opt == "--resume") {
      a.resume = true;
    } else if (is_optimize && opt == "--no-preview") {
      a.no_preview = true;
    } else if ((is_run || is_optimize || is_sweep) && opt == "--out") {
      if (!take_value() || value.empty()) return misuse("--out needs a directory");
      a.out = value;
    } else if (is_run && opt == "--frames") {
      int n = 0;
      if (!take_value() || !to_int(value, n)) return misuse("--frames needs an integer >= 0");
      a.frames = n;
    } else if (is_gradcheck && opt == "--steps") {
      int n = 0;
      if (!take_value() || !to_int(value, n) || n < 1) return misuse("--steps needs an integer >= 1");
      a.steps = n;
    } else if (is_gradcheck && opt == "--seed") {
      int n = 0;
      if (!take_value() || !to_int(value, n)) return misuse("--seed needs an integer >= 0");
      a.seed = (unsigned long)n;
    } else if ((is_run || is_gradcheck || is_optimize) && opt == "--threads") {
      int n = 0;
      if (!take_value() || !to_int(value, n)) return misuse("--threads needs an integer >= 0 (0 = all cores)");
      a.threads = n;
    } else if (is_run && opt == "--backend") {
      if (!take_value() || (value != "cpu" && value != "cuda" && value != "auto"))
        return misuse("--backend needs one of cpu, cuda, auto");
      a.backend = value;
    } else if (!opt.empty() && opt[0] == '-') {
      return misuse("unknown option '" + opt + "' for '" + cmd + "'");
    } else if (a.scene.empty()) {
      a.scene = opt;
    } else {
      return misuse("unexpected argument '" + opt + "' (only one scene file)");
    }
  }
  if (a.command != CommandKind::Info && a.scene.empty()) return misuse("'" + cmd + "' needs a scene file");
  if (is_sweep && a.grids.empty()) return misuse("'sweep' needs at least one --grid key.path=v1,v2,...");
  if (a.quiet && a.verbose) return misuse("--quiet and --verbose exclude each other");
  return result;
}

#endif

}  // namespace pliant_cli
