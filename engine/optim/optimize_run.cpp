#include "engine/optim/optimize_run.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/optim/loss_curve.hpp"
#include "engine/optim/replay_scene.hpp"
#include "engine/render/png_writer.hpp"
#include "engine/scene/frame_output.hpp"
#include "engine/scene/npz_writer.hpp"

#ifndef PLIANT_VERSION
#define PLIANT_VERSION "unknown"
#endif

namespace pl::optim {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// The overrides that must match for a resume: all but the iteration cap.
std::vector<std::string> resume_overrides(const scene::SceneDesc& s) {
  std::vector<std::string> out;
  for (const auto& o : s.overrides)
    if (o.key_path != "optimizer.iterations") out.push_back(o.key_path + " <- " + o.text);
  return out;
}

/// Outputs of this command that a fresh run removes first.
bool is_optimize_output(const std::string& name) {
  static const char* fixed[] = {"state.json", "log.jsonl", "loss_curve.png", "best_controls.npz", "best_scene.yaml",
                                "summary.json"};
  for (const char* f : fixed)
    if (name == f) return true;
  return name.rfind("preview_initial_", 0) == 0 || name.rfind("preview_best_", 0) == 0 ||
         name.find(".tmp.") != std::string::npos;
}

std::vector<int> preview_frames(int frames) {
  std::vector<int> f = {0, frames / 3, 2 * frames / 3, frames};
  f.erase(std::unique(f.begin(), f.end()), f.end());
  return f;
}

/// Evaluates a batch: one after the other on all threads, or several at once
/// (each its own world) on `threads / workers` threads each.
class BatchRunner {
 public:
  BatchRunner(const Problem& problem, std::uint64_t seed, int threads) : problem_(problem), seed_(seed), threads_(threads) {}

  std::vector<Evaluation> operator()(const std::vector<std::vector<double>>& points, bool gradient) const {
    std::vector<Evaluation> out(points.size());
    const int workers = int(std::min<std::size_t>(std::size_t(threads_), points.size()));
    if (workers <= 1) {
      for (std::size_t k = 0; k < points.size(); ++k) out[k] = problem_.evaluate(points[k], seed_, gradient);
      return out;
    }
    const int per = std::max(1, threads_ / workers);
    std::atomic<std::size_t> next{0};
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(workers));
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w)
      pool.emplace_back([&, w] {
        try {
          set_cpu_threads(per);  // this thread's OpenMP team size
          for (std::size_t k; (k = next++) < points.size();) out[k] = problem_.evaluate(points[k], seed_, gradient);
        } catch (...) {
          errors[std::size_t(w)] = std::current_exception();
        }
      });
    for (auto& t : pool) t.join();
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);
    return out;
  }

 private:
  const Problem& problem_;
  std::uint64_t seed_;
  int threads_;
};

scene::NpyArray controls_npz_entry(const scene::ControlDesc& c, const std::vector<double>& values, int dim) {
  if (c.kind == "actuation")
    return scene::npy_float64(c.name, {std::size_t(c.segments), std::size_t(dim)}, values);
  return scene::npy_float64(c.name, {values.size()}, values);
}

// issue 7 (identify): the best controls by name in physical units -- for a
// material identification these values ARE the result, so the terminal and
// summary.json show them without decoding the flat u vector.  Controls with
// one value are named as in the scene ("E"), others "name[k]".
json named_controls(const ControlLayout& layout, const std::vector<double>& physical) {
  json j = json::object();
  for (std::size_t c = 0; c < layout.controls().size(); ++c) {
    const auto& d = layout.controls()[c];
    for (int k = 0; k < d.size(); ++k)
      j[d.size() == 1 ? d.name : d.name + "[" + std::to_string(k) + "]"] =
          num(physical[std::size_t(layout.offset(int(c)) + k)]);
  }
  return j;
}

}  // namespace

OptimizeResult optimize_scene(const scene::SceneDesc& scene, const OptimizeOptions& options) {
  const auto t_start = Clock::now();
  const auto say = [&](const std::string& m) {
    if (options.on_message) options.on_message(m);
  };
  const int threads = options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  set_cpu_threads(threads);
  const Problem problem(scene);
  const ControlLayout& layout = problem.layout();
  const scene::OptimizerDesc& od = scene.optimization.optimizer;

  OptimizeResult res;
  res.out_dir = options.out_dir.empty() ? scene.output.dir : options.out_dir;
  const fs::path dir(res.out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw InputError(res.out_dir + ": cannot create the output directory" + (ec ? ": " + ec.message() : ""));
  const std::string state_path = (dir / "state.json").string(), log_path = (dir / "log.jsonl").string();

  Optimizer opt(od, layout.initial_unit());
  std::vector<double> loss_curve, best_curve;
  double elapsed_before = 0;
  bool fresh = true;
  if (options.resume && fs::exists(state_path)) {
    json st;
    try {
      st = json::parse(read_text(state_path));
    } catch (const std::exception& e) {
      throw InputError(state_path + ": cannot read the saved state (" + e.what() + "); run without --resume to start over");
    }
    if (st.value("scene_sha256", "") != scene.source_sha256 ||
        st.value("overrides", std::vector<std::string>{}) != resume_overrides(scene))
      throw InputError(state_path + ": the saved state belongs to a different scene text or different --set overrides; "
                                    "run without --resume to start over");
    try {
      opt.load(st.at("optimizer").dump());
    } catch (const InputError& e) {
      throw InputError(state_path + ": " + e.what());
    }
    res.initial_loss = st.at("initial_loss").is_null() ? INFINITY : st.at("initial_loss").get<double>();
    elapsed_before = st.value("elapsed_s", 0.0);
    // Cut the log back to the iterations the state covers (a kill between the
    // log line and the state write leaves one line too many).
    const std::uintmax_t bytes = st.at("log_bytes").get<std::uintmax_t>();
    if (!fs::exists(log_path) || fs::file_size(log_path) < bytes)
      throw InputError(log_path + ": shorter than the saved state says (" + std::to_string(bytes) +
                       " bytes); the directory was modified; run without --resume to start over");
    fs::resize_file(log_path, bytes);
    std::ifstream in(log_path);
    for (std::string line; std::getline(in, line);) {
      const json j = json::parse(line);
      loss_curve.push_back(j.at("loss").is_null() ? INFINITY : j.at("loss").get<double>());
      best_curve.push_back(j.at("best_loss").is_null() ? INFINITY : j.at("best_loss").get<double>());
    }
    res.resumed_from = opt.iteration();
    fresh = false;
    say("resuming " + state_path + " after iteration " + std::to_string(opt.iteration()) + " (best loss " +
        std::to_string(opt.best_loss()) + ")");
  } else {
    if (options.resume) say("no saved state in " + res.out_dir + "; starting a new optimization");
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && is_optimize_output(e.path().filename().string())) fs::remove(e.path(), ec);
  }

  const int frames = scene.simulation.frames;
  if (fresh) {
    // The initial controls: their loss, and previews of their rollout.
    RolloutOutputs out;
    out.dir = res.out_dir;
    if (options.previews) out.preview_frames = preview_frames(frames), out.preview_prefix = "preview_initial_";
    const Evaluation e0 = problem.evaluate(layout.initial_unit(), od.seed, false, &out);
    if (!e0.ok) throw SimulationError(scene.path + ": the rollout at the initial controls failed: " + e0.error);
    res.initial_loss = e0.loss;
    say("initial loss " + std::to_string(e0.loss));
    std::ofstream(log_path, std::ios::trunc).close();
  }

  const BatchRunner runner(problem, od.seed, threads);
  const BatchEvaluate evaluate = [&](const std::vector<std::vector<double>>& points, bool gradient) {
    // issue 10: an external population evaluator (Ray, ...) replaces the thread pool
    if (options.evaluate_population) return checked_population(options.evaluate_population, points, od.seed, gradient);
    return runner(points, gradient);
  };
  double best_written = opt.iteration() > 0 ? opt.best_loss() : INFINITY;
  const auto write_best = [&]() {
    const std::vector<double> p = layout.to_physical(opt.best_u());
    std::vector<scene::NpyArray> arrays;
    for (std::size_t c = 0; c < layout.controls().size(); ++c) {
      const auto& d = layout.controls()[c];
      const auto first = p.begin() + layout.offset(int(c));
      arrays.push_back(controls_npz_entry(d, std::vector<double>(first, first + d.size()), scene.simulation.dim));
    }
    arrays.push_back(scene::npy_float64("u", {opt.best_u().size()}, opt.best_u()));
    arrays.push_back(scene::npy_float64("loss", {}, {opt.best_loss()}));
    scene::write_file_atomic((dir / "best_controls.npz").string(), scene::encode_npz(arrays));
    std::ostringstream comment;
    comment.precision(10);
    comment << "written by pliant optimize from " << scene.path << ": the best controls after "
            << opt.iteration() << " iterations (loss " << opt.best_loss() << ")";
    // best_scene.yaml is the scene file's text with the best controls; a scene
    // parsed from memory (tests, Python) has no file to start from.
    if (fs::is_regular_file(scene.path))
      scene::write_file_atomic((dir / "best_scene.yaml").string(),
                               replay_scene_yaml(scene, options.sets, p, comment.str()));
  };

  while (!opt.done()) {
    const auto t0 = Clock::now();
    const IterationRecord r = opt.iterate(evaluate);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    loss_curve.push_back(r.loss);
    best_curve.push_back(r.best_loss);
    const double elapsed = elapsed_before + std::chrono::duration<double>(Clock::now() - t_start).count();
    json line = {{"iteration", r.iteration}, {"phase", r.phase},         {"loss", num(r.loss)},
                 {"best_loss", num(r.best_loss)}, {"grad_norm", num(r.grad_norm)}, {"sigma", num(r.sigma)},
                 {"evaluations", r.evaluations}, {"failed", r.failed},   {"seconds", secs},
                 {"elapsed_s", elapsed}};
    if (!r.u.empty()) line["controls"] = layout.to_physical(r.u);
    json m = json::object();
    for (const auto& [k, v] : r.metrics) m[k] = num(v);
    line["metrics"] = m;
    {
      std::ofstream log(log_path, std::ios::app | std::ios::binary);
      log << line.dump() << "\n";
      log.flush();
      if (!log) throw SimulationError(log_path + ": cannot append to the iteration log");
    }
    if (opt.best_loss() < best_written) {
      write_best();
      best_written = opt.best_loss();
    }
    scene::write_file_atomic((dir / "loss_curve.png").string(), render::encode_png(plot_loss_curve(loss_curve, best_curve)));
    const json state = {{"version", 1},
                        {"pliant", PLIANT_VERSION},
                        {"scene", scene.path},
                        {"scene_sha256", scene.source_sha256},
                        {"overrides", resume_overrides(scene)},
                        {"threads", threads},
                        {"initial_loss", num(res.initial_loss)},
                        {"elapsed_s", elapsed},
                        {"log_bytes", fs::file_size(log_path)},
                        {"optimizer", json::parse(opt.save())}};
    scene::write_file_atomic(state_path, state.dump());
    if (options.on_iteration) options.on_iteration(r, secs);
  }
  if (!fs::exists(dir / "best_controls.npz")) write_best();

  res.iterations = opt.iteration();
  res.best_loss = opt.best_loss();
  res.best_controls = layout.to_physical(opt.best_u());
  res.best_metrics = opt.best_metrics();
  res.stop_reason = opt.stop_reason();
  const json best_named = named_controls(layout, res.best_controls);  // issue 7 (identify)
  if (best_named.size() <= 16) {
    std::ostringstream line;
    line.precision(6);
    line << "best controls:";
    for (const auto& [k, v] : best_named.items()) line << " " << k << " = " << (v.is_null() ? NAN : v.get<double>());
    say(line.str());
  }
  if (options.previews) {
    RolloutOutputs out;
    out.dir = res.out_dir;
    out.preview_frames = preview_frames(frames);
    out.preview_prefix = "preview_best_";
    problem.evaluate(opt.best_u(), od.seed, false, &out);
  }
  res.wall_time_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  json m = json::object();
  for (const auto& [k, v] : res.best_metrics) m[k] = num(v);
  const json summary = {{"scene", scene.path},
                        {"method", od.method},
                        {"iterations", res.iterations},
                        {"initial_loss", num(res.initial_loss)},
                        {"best_loss", num(res.best_loss)},
                        {"reduction", std::isfinite(res.initial_loss) && res.initial_loss != 0
                                          ? num(1 - res.best_loss / res.initial_loss) : json(nullptr)},
                        {"best_controls", res.best_controls},
                        {"best_controls_named", best_named},  // issue 7 (identify)
                        {"best_metrics", m},
                        {"stop_reason", res.stop_reason},
                        {"threads", threads},
                        {"wall_time_s", elapsed_before + res.wall_time_s}};
  scene::write_file_atomic((dir / "summary.json").string(), summary.dump(2) + "\n");
  return res;
}

ReplayResult replay_scene(const scene::SceneDesc& scene, const std::string& out_dir_in) {
  const auto t0 = Clock::now();
  const Problem problem(scene);
  ReplayResult r;
  r.out_dir = out_dir_in.empty() ? scene.output.dir : out_dir_in;
  std::error_code ec;
  fs::create_directories(r.out_dir, ec);
  if (ec || !fs::is_directory(r.out_dir))
    throw InputError(r.out_dir + ": cannot create the output directory" + (ec ? ": " + ec.message() : ""));
  RolloutOutputs out;
  out.dir = r.out_dir;
  out.ply = scene.output.writes("ply");
  out.npz = scene.output.writes("npz");
  out.every_n_frames = scene.output.every_n_frames;
  if (scene.preview.enabled)
    for (int f = 0; f <= scene.simulation.frames; f += scene.preview.every_n_frames) out.preview_frames.push_back(f);
  r.evaluation = problem.evaluate(problem.layout().initial_unit(), scene.optimization.optimizer.seed, false, &out);
  if (!r.evaluation.ok) throw SimulationError(scene.path + ": " + r.evaluation.error);
  r.files = out.written;
  json m = json::object();
  for (const auto& [k, v] : r.evaluation.metrics) m[k] = num(v);
  const json j = {{"scene", scene.path}, {"loss", num(r.evaluation.loss)}, {"metrics", m},
                  {"controls", problem.layout().to_physical(problem.layout().initial_unit())}};
  const std::string f = (fs::path(r.out_dir) / "objective.json").string();
  scene::write_file_atomic(f, j.dump(2) + "\n");
  r.files.push_back(f);
  r.wall_time_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

}  // namespace pl::optim
