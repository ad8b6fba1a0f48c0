// `pliant`: the command line.  Thin on purpose: scene loading, world building
// and output writing live in engine/scene/ so that tests and Python take the
// same path.  This file maps commands to those calls, prints progress, and
// turns errors into exit codes:
//   0  success
//   1  the run failed (pl::SimulationError, or an unexpected error)
//   2  bad input: scene file, --set value, command-line misuse (pl::InputError)
// The reason always goes to stderr, prefixed with "pliant: error: ".
#include <unistd.h>

#include <cerrno>    // issue 10: exec of python -m pliant
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/pliant_args.hpp"
#include "engine/core/backend.hpp"
#include "engine/diff/scene_gradcheck.hpp"
#include "engine/core/error.hpp"
#include "engine/optim/optimize_run.hpp"
#include "engine/scene/scene_loader.hpp"
#include "engine/scene/scene_runner.hpp"
#include "materials/registry.hpp"

#ifndef PLIANT_VERSION
#define PLIANT_VERSION "unknown"
#endif

namespace {

namespace sc = pl::scene;
namespace fs = std::filesystem;
using pliant_cli::Args;
using pliant_cli::CommandKind;

std::string fmt(double v, int precision = 4) {
  std::ostringstream os;
  os << std::setprecision(precision) << v;
  return os.str();
}

/// The scene with the command line's overrides.  --frames and --backend are
/// overrides too, so they are validated like the file's values and named in messages.
sc::SceneDesc load(const Args& a) {
  sc::SceneDocument doc = sc::SceneDocument::from_file(a.scene);
  for (const auto& s : a.sets) doc.apply_override(s);
  if (a.frames) doc.apply_override("simulation.frames=" + std::to_string(*a.frames), "--frames " + std::to_string(*a.frames));
  if (!a.backend.empty()) doc.apply_override("simulation.backend=" + a.backend, "--backend " + a.backend);
  if (a.preview) doc.apply_override("preview.enabled=true", "--preview");
  return doc.parse();
}

void print_scene(std::ostream& os, const sc::SceneDesc& s, const sc::SceneSummary& sum) {
  const auto& sim = s.simulation;
  os << "scene      " << s.path << (s.description.empty() ? "" : "  (" + s.description + ")") << "\n";
  os << "simulation " << sim.dim << "D " << sc::precision_name(sim.precision) << ", backend " << sum.backend
     << ", " << sum.threads << " CPU threads\n";
  os << "grid       ";
  for (int a = 0; a < sim.dim; ++a) os << (a ? " x " : "") << sim.cells[a];
  os << " cells, dx " << fmt(sim.dx) << " m\n";
  os << "time       dt " << fmt(sim.dt) << " s x " << sim.substeps_per_frame << " substeps = "
     << fmt(sim.frame_duration()) << " s per frame, " << sim.frames << " frames ("
     << fmt(sim.frame_duration() * sim.frames) << " s)\n";
  os << "stability  " << sum.stability.message() << "\n";
  for (const auto& m : s.materials) {
    os << "material   " << m.label << ": " << m.model << ", density " << fmt(m.density) << " kg/m^3";
    const pl::materials::ModelInfo info = pl::materials::model_info(m.desc.model_id);
    for (int i = 0; i < info.num_params; ++i) os << ", " << info.params[i].name << " " << fmt(m.desc.params[i]);
    os << "\n";
  }
  for (const auto& b : sum.bodies)
    os << "body       " << b.name << ": " << b.particles << " particles of " << b.material << "\n";
  std::string formats;
  for (const auto& f : s.output.formats) formats += (formats.empty() ? "" : ", ") + f;
  os << "output     " << formats << " every " << s.output.every_n_frames << " frame(s)\n";
  if (s.preview.enabled)
    os << "preview    " << s.preview.width << " x " << s.preview.height << " px every " << s.preview.every_n_frames
       << " frame(s), color by " << sc::color_by_name(s.preview.color_by) << "\n";
}

int cmd_info() {
  std::cout << "pliant " << PLIANT_VERSION << "\n";
  std::cout << "scene format version " << sc::kSceneFormatVersion << "\n";
  std::cout << "backends:\n  cpu   OpenMP, " << pl::cpu_threads() << " threads\n";
  if (pl::cuda_compiled()) {
    const int n = pl::cuda_device_count();
    std::cout << "  cuda  compiled in, " << n << " GPU" << (n == 1 ? "" : "s") << " visible";
    if (n == 0) std::cout << " (" << pl::cuda_unavailable_reason() << ")";
    std::cout << "\n";
  } else {
    std::cout << "  cuda  not available: " << pl::cuda_unavailable_reason() << "\n";
  }
  std::cout << "GPU count: " << pl::cuda_device_count() << "\n";
  std::cout << "threads: " << pl::cpu_threads() << "\n";
  std::cout << "material models (scene key: materials.<label>.model; parameter [unit] = default):\n";
  const auto names = pl::materials::model_names();
  for (int id = 0; id < int(names.size()); ++id) {
    const pl::materials::ModelInfo info = pl::materials::model_info(id);
    std::cout << "  " << info.name;
    if (info.is_fluid) std::cout << "  (fluid)";
    else if (info.has_plasticity) std::cout << "  (plastic)";
    std::cout << "\n";
    for (int i = 0; i < info.num_params; ++i) {
      const auto& p = info.params[i];
      std::ostringstream lhs;
      lhs << p.name << " [" << p.unit << "] = " << fmt(p.default_value, 6);
      std::cout << "      " << std::left << std::setw(34) << lhs.str() << p.meaning << "\n";
    }
  }
  return 0;
}

int cmd_validate(const Args& a) {
  const sc::SceneDesc scene = load(a);
  const sc::SceneSummary sum = sc::check_scene(scene);
  if (a.verbose) print_scene(std::cout, scene, sum);
  std::cout << "ok: " << scene.path << ": " << scene.simulation.dim << "D, " << scene.materials.size()
            << " material" << (scene.materials.size() == 1 ? "" : "s") << ", " << sum.bodies.size() << " bod"
            << (sum.bodies.size() == 1 ? "y" : "ies") << ", " << sum.particles << " particles; dt "
            << fmt(scene.simulation.dt) << " s"
            << (sum.stability.ok() ? " <= stability limit " : " EXCEEDS the stability limit ")
            << fmt(sum.stability.dt_limit) << " s" << (sum.stability.ok() ? "" : " (allow_unstable_dt is set)")
            << "\n";
  return 0;
}

int cmd_gradcheck(const Args& a) {
  if (a.threads) pl::set_cpu_threads(*a.threads);
  const sc::SceneDesc scene = load(a);
  pl::GradcheckOptions opt;
  opt.steps = a.steps;
  opt.seed = a.seed;
  const pl::GradcheckReport report = pl::gradcheck_scene(scene, opt);
  std::cout << report.table();
  return report.passed() ? 0 : 1;
}

/// ffmpeg is optional: its absence or failure is reported, never an error of the run.
void report_video(const pl::render::VideoResult& v, bool quiet) {
  if (v.made) {
    if (!quiet) std::cout << "video " << v.path << std::endl;
  } else if (!v.ffmpeg_found) {
    if (!quiet) std::cout << "ffmpeg not found; to make a video of the previews run:\n  " << v.command << std::endl;
  } else {
    std::cerr << "pliant: warning: could not make " << v.path << ": " << v.error << "\n  command: " << v.command
              << "\n";
  }
}

/// `pliant run` on a scene with controls (e.g. an optimization's best_scene.yaml):
/// the rollout applies the controls' `init` values (actuation forces included)
/// and reports the objective, so the file replays what the optimizer found.
int cmd_replay(const Args& a, const sc::SceneDesc& scene) {
  if (!a.quiet)
    std::cout << "running " << scene.path << " with its controls at their init values (objective: "
              << scene.optimization.objective.size() << " term" << (scene.optimization.objective.size() == 1 ? "" : "s")
              << ")" << std::endl;
  const pl::optim::ReplayResult r = pl::optim::replay_scene(scene, a.out);
  if (!a.quiet) {
    std::cout << "wrote " << r.files.size() << " files to " << r.out_dir << " in " << fmt(r.wall_time_s, 3) << " s\n";
    std::cout << "objective loss " << std::setprecision(10) << r.evaluation.loss << "\n";
    for (const auto& [k, v] : r.evaluation.metrics) std::cout << "  " << k << " " << std::setprecision(6) << v << "\n";
    std::cout << std::flush;
  }
  return 0;
}

// --- issue 10: `pliant sweep` and `pliant optimize --executor ray` are the
// Python package's (python -m pliant, python/pliant/cli.py): executors and
// Ray live there.  The interpreter is $PLIANT_PYTHON or python3; in a build
// tree the package's two halves (python/ and <build>/bindings) are put on
// PYTHONPATH, found from this executable's location and the build's CMakeCache.
std::string build_tree_pythonpath() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  std::string paths;
  for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.parent_path(); dir = dir.parent_path()) {
    if (!fs::exists(dir / "CMakeCache.txt")) continue;
    std::ifstream cache(dir / "CMakeCache.txt");
    for (std::string line; std::getline(cache, line);)
      if (line.rfind("CMAKE_HOME_DIRECTORY:INTERNAL=", 0) == 0) paths = line.substr(line.find('=') + 1) + "/python";
    if (fs::is_directory(dir / "bindings" / "pliant")) paths += (paths.empty() ? "" : ":") + (dir / "bindings").string();
    break;
  }
  return paths;
}

int cmd_python(const Args& a, const std::string& command) {
  std::vector<std::string> args = {command, a.scene};
  const auto opt = [&](const std::string& name, const std::string& value) { args.push_back(name), args.push_back(value); };
  if (!a.out.empty()) opt("--out", a.out);
  for (const auto& s : a.sets) opt("--set", s);
  for (const auto& g : a.grids) opt("--grid", g);
  opt("--executor", a.executor);
  if (!a.address.empty()) opt("--address", a.address);
  if (a.workers) opt("--workers", std::to_string(*a.workers));
  if (a.retries) opt("--retries", std::to_string(*a.retries));
  if (a.timeout) opt("--timeout", fmt(*a.timeout, 17));
  if (a.sweep_seed) opt("--seed", std::to_string(*a.sweep_seed));
  if (command == "optimize" && a.threads) opt("--threads", std::to_string(*a.threads));
  if (a.resume) args.push_back("--resume");
  if (a.no_preview) args.push_back("--no-preview");
  if (a.gradient) args.push_back("--gradient");
  if (a.quiet) args.push_back("--quiet");
  const char* env_python = std::getenv("PLIANT_PYTHON");
  const std::string python = env_python && *env_python ? env_python : "python3";
  const std::string extra = build_tree_pythonpath();
  if (!extra.empty()) {
    const char* old = std::getenv("PYTHONPATH");
    ::setenv("PYTHONPATH", (extra + (old && *old ? std::string(":") + old : "")).c_str(), 1);
  }
  // A bootstrap that turns "no pliant package" into this CLI's exit 2 and message.
  const std::string bootstrap =
      "import sys\n"
      "try:\n"
      "    from pliant.cli import main\n"
      "except ImportError as e:\n"
      "    sys.stderr.write('pliant: error: `pliant " + command + (command == "sweep" ? "" : " --executor ray") +
      "` runs the Python package pliant, which ' + sys.executable + ' cannot import (' + str(e) + "
      "'); install it with pip install .[ray] from the repository or set PYTHONPATH=python:<build>/bindings\\n')\n"
      "    sys.exit(2)\n"
      "sys.exit(main(sys.argv[1:]))\n";
  std::vector<char*> argv = {const_cast<char*>(python.c_str()), const_cast<char*>("-c"),
                             const_cast<char*>(bootstrap.c_str())};
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::cout.flush();
  ::execvp(python.c_str(), argv.data());
  throw pl::InputError("`pliant " + command + "` runs the Python package pliant, but the interpreter '" + python +
                       "' could not be started (" + std::strerror(errno) + "); install Python 3 or set PLIANT_PYTHON");
}
// --- end issue 10

int cmd_optimize(const Args& a) {
  // issue 10: populations on a Ray cluster go through the Python executors
  if (a.executor == "ray") return cmd_python(a, "optimize");
  if (a.executor_options_given)
    throw pl::InputError("--address, --workers, --retries and --timeout belong to --executor ray; the local optimizer "
                         "uses --threads");
  const sc::SceneDesc scene = load(a);
  if (!scene.optimization.present())
    throw pl::InputError(scene.path + ": the scene has no controls, objective and optimizer sections; see "
                                      "docs/scene_format.md (Optimization) and scenes/*opt*.yaml");
  pl::optim::OptimizeOptions opt;
  opt.out_dir = a.out;
  opt.resume = a.resume;
  opt.threads = a.threads ? *a.threads : 0;
  opt.sets = a.sets;
  opt.previews = !a.no_preview;
  const auto& od = scene.optimization.optimizer;
  if (!a.quiet)
    std::cout << "optimizing " << scene.path << ": " << od.method << ", up to " << od.iterations << " iterations, "
              << scene.optimization.controls.size() << " control(s), " << scene.optimization.objective.size()
              << " objective term(s)" << std::endl;
  opt.on_message = [&](const std::string& m) {
    if (!a.quiet) std::cout << m << std::endl;
  };
  opt.on_iteration = [&](const pl::optim::IterationRecord& r, double secs) {
    if (a.quiet) return;
    std::ostringstream line;
    line << "iter " << std::setw(4) << r.iteration + 1 << "/" << od.iterations << "  " << std::left << std::setw(6)
         << r.phase << std::right << "  loss " << std::scientific << std::setprecision(4) << r.loss << "  best "
         << r.best_loss;
    if (!std::isnan(r.grad_norm)) line << "  |grad| " << std::setprecision(3) << r.grad_norm;
    if (!std::isnan(r.sigma)) line << "  sigma " << std::setprecision(3) << r.sigma;
    if (r.failed) line << "  failed " << r.failed << "/" << r.evaluations;
    line << std::fixed << std::setprecision(2) << "  " << secs << " s/it";
    std::cout << line.str() << std::endl;
  };
  const pl::optim::OptimizeResult r = pl::optim::optimize_scene(scene, opt);
  if (!a.quiet) {
    std::cout << "stopped: " << r.stop_reason << "\n";
    std::cout << "loss " << std::setprecision(6) << r.initial_loss << " -> " << r.best_loss;
    if (r.initial_loss > 0 && std::isfinite(r.initial_loss))
      std::cout << " (" << std::setprecision(3) << 100 * (1 - r.best_loss / r.initial_loss) << "% lower)";
    std::cout << " in " << r.iterations << " iterations, " << fmt(r.wall_time_s, 3) << " s\n";
    for (const auto& [k, v] : r.best_metrics) std::cout << "  " << k << " " << std::setprecision(6) << v << "\n";
    std::cout << "outputs in " << r.out_dir << " (log.jsonl, loss_curve.png, best_controls.npz, best_scene.yaml)"
              << std::endl;
  }
  return 0;
}

int cmd_run(const Args& a) {
  if (a.threads) pl::set_cpu_threads(*a.threads);
  const sc::SceneDesc scene = load(a);
  if (scene.optimization.present()) return cmd_replay(a, scene);
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  sc::RunOptions opt;
  opt.out_dir = a.out;
  opt.on_start = [&](const sc::SceneSummary& sum) {
    if (a.verbose) print_scene(std::cout, scene, sum);
    if (!a.quiet)
      std::cout << "running " << scene.path << ": " << sum.particles << " particles, " << scene.simulation.frames
                << " frames, backend " << sum.backend << std::endl;
  };
  std::size_t last_width = 0;
  opt.on_frame = [&](const sc::FrameProgress& f) {
    if (a.quiet) return;
    std::ostringstream line;
    line << "frame " << f.frame << "/" << f.frames << "  particles " << f.particles << "  substeps/s "
         << std::fixed << std::setprecision(0) << f.substeps_per_second << "  elapsed " << std::setprecision(1)
         << f.elapsed_s << " s";
    if (a.verbose && !f.file.empty()) line << "  -> " << f.file;
    const std::string text = line.str();
    if (tty) {
      std::cout << "\r" << text << std::string(last_width > text.size() ? last_width - text.size() : 0, ' ')
                << std::flush;
      last_width = text.size();
    } else {
      std::cout << text << "\n";
    }
  };
  try {
    const sc::RunResult r = sc::run_scene(scene, opt);
    if (tty && last_width) std::cout << "\n";
    if (!a.quiet) {
      std::cout << "wrote " << r.frames_written << " frame" << (r.frames_written == 1 ? "" : "s");
      if (r.previews_written) std::cout << " and " << r.previews_written << " preview image" << (r.previews_written == 1 ? "" : "s");
      std::cout << " to " << r.out_dir << " in " << fmt(r.wall_time_s, 3) << " s (" << r.run_json << ")" << std::endl;
      if (!r.npz_file.empty()) std::cout << "trajectory " << r.npz_file << std::endl;
    }
    if (r.previews_written > 0) report_video(sc::assemble_preview_video(scene, r), a.quiet);
  } catch (...) {
    if (tty && last_width) std::cout << "\n" << std::flush;
    throw;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const pliant_cli::Parsed parsed = pliant_cli::parse_args(argc, argv, PLIANT_VERSION);
  if (parsed.exit_code) return *parsed.exit_code;
  const Args& a = parsed.args;
  try {
    switch (a.command) {
      case CommandKind::Run: return cmd_run(a);
      case CommandKind::Validate: return cmd_validate(a);
      case CommandKind::Gradcheck: return cmd_gradcheck(a);
      case CommandKind::Optimize: return cmd_optimize(a);
      case CommandKind::Info: return cmd_info();
      case CommandKind::Sweep: return cmd_python(a, "sweep");  // issue 10
      case CommandKind::None: break;
    }
    std::cerr << "pliant: error: no command given; expected run, validate, gradcheck, optimize, sweep or info\n";
    return 2;
  } catch (const pl::InputError& e) {
    std::cout.flush();
    std::cerr << "pliant: error: " << e.what() << "\n";
    return 2;
  } catch (const pl::SimulationError& e) {
    std::cout.flush();
    std::cerr << "pliant: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "pliant: internal error: " << e.what() << "\n";
    return 1;
  }
}
