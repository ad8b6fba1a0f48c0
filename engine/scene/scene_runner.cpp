#include "engine/scene/scene_runner.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <optional>
#include <regex>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"
#include "engine/render/png_writer.hpp"
#include "engine/scene/build_world.hpp"
#include "engine/scene/fem_loader.hpp"  // issue 5: FEM bodies
#include "engine/fem/fem_tool_contact.hpp"  // issue 6 (fem_tool): tools acting on FEM bodies
#include "engine/coupling/mpm_fem_scene.hpp"  // issue 6 (mpm_fem): two-way MPM <-> FEM contact
#include "engine/scene/frame_output.hpp"
#include "engine/scene/preview_renderer.hpp"
#include "engine/scene/trajectory_recorder.hpp"
#include "engine/scene/tool_reaction_csv.hpp"  // issue 6: tools.csv

#ifndef PLIANT_VERSION
#define PLIANT_VERSION "unknown"
#endif

namespace pl::scene {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

/// Calls f(Real{}, std::integral_constant<int, D>{}) for the scene's precision and dim.
template <class F>
decltype(auto) dispatch(const SceneDesc& scene, F&& f) {
  const bool dbl = scene.simulation.precision == Precision::Double;
  if (scene.simulation.dim == 2)
    return dbl ? f(double{}, std::integral_constant<int, 2>{}) : f(float{}, std::integral_constant<int, 2>{});
  return dbl ? f(double{}, std::integral_constant<int, 3>{}) : f(float{}, std::integral_constant<int, 3>{});
}

template <class Real, int D>
SceneSummary summarize(const SceneDesc& scene, const MpmWorld<Real, D>& world, const StabilityReport& stability) {
  SceneSummary s;
  s.backend = backend_name(world.backend());
  s.threads = cpu_threads();
  s.particles = world.num_particles();
  for (const BodyInfo& b : world.bodies())
    s.bodies.push_back({b.name, scene.materials[b.material].label, b.count});
  s.stability = stability;
  return s;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// Removes the outputs of an earlier run (only in a directory that has its
/// run.json): frames, previews, the trajectory and the video, and the
/// temporary files a killed run left behind (when their writer is gone).
/// Other files are the user's and stay.
void clear_previous_outputs(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir / "run.json", ec)) return;
  static const std::regex output_name(R"((frame_\d{5,}\.ply|preview_\d{5,}\.png|trajectory\.npz|preview\.mp4|tools\.csv))");
  static const std::regex temp_name(
      R"((frame_\d{5,}\.ply|preview_\d{5,}\.png|trajectory\.npz|preview\.mp4|tools\.csv|run\.json)\.tmp\.(\d+))");
  std::vector<fs::path> doomed;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(ec)) continue;
    std::smatch m;
    if (std::regex_match(name, output_name)) {
      doomed.push_back(entry.path());
    } else if (std::regex_match(name, m, temp_name)) {
      // kill(pid, 0) fails with ESRCH once the writer is gone; a live one may be another run's.
      const long pid = std::stol(m[2].str());
      if (pid != long(::getpid()) && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) doomed.push_back(entry.path());
    }
  }
  for (const auto& p : doomed) fs::remove(p, ec);
}

struct RunRecord {
  RunRecord(const SceneDesc& s, SceneSummary sum) : scene(s), summary(std::move(sum)), started_at(utc_now()) {}
  const SceneDesc& scene;
  SceneSummary summary;
  std::string started_at;
  std::string status = "running";
  std::string error;
  int frames_simulated = 0;
  int frames_written = 0;
  int previews_written = 0;
  double wall_time_s = 0;
  std::string last_file;
  std::string npz_file;
  std::string tools_file;  // issue 6: tools.csv

  std::string json_text() const {
    nlohmann::ordered_json j;
    j["pliant_version"] = PLIANT_VERSION;
    j["status"] = status;
    if (!error.empty()) j["error"] = error;
    j["started_at"] = started_at;
    std::error_code ec;
    const fs::path abs = fs::absolute(scene.path, ec);
    j["scene"] = {{"path", scene.path},
                  {"absolute_path", ec ? scene.path : abs.lexically_normal().string()},
                  {"sha256", scene.source_sha256}};
    nlohmann::ordered_json overrides = nlohmann::ordered_json::array();
    for (const auto& o : scene.overrides) overrides.push_back(o.text);
    j["overrides"] = overrides;
    const SimulationDesc& sim = scene.simulation;
    j["dim"] = sim.dim;
    j["precision"] = precision_name(sim.precision);
    j["backend"] = summary.backend;
    j["threads"] = summary.threads;
    j["particles"] = summary.particles;
    nlohmann::ordered_json bodies = nlohmann::ordered_json::array();
    for (const auto& b : summary.bodies)
      bodies.push_back({{"name", b.name}, {"material", b.material}, {"particles", b.particles}});
    j["bodies"] = bodies;
    j["dt"] = sim.dt;
    j["substeps_per_frame"] = sim.substeps_per_frame;
    j["frame_duration_s"] = sim.frame_duration();
    j["frames_requested"] = sim.frames;
    j["frames_simulated"] = frames_simulated;
    j["frames_written"] = frames_written;
    j["every_n_frames"] = scene.output.every_n_frames;
    j["format"] = scene.output.formats;
    if (!last_file.empty()) j["last_frame_file"] = last_file;
    if (!npz_file.empty()) j["trajectory_file"] = npz_file;
    if (!tools_file.empty()) j["tools_file"] = tools_file;  // issue 6
    j["previews_written"] = previews_written;
    j["wall_time_s"] = wall_time_s;
    return j.dump(2) + "\n";
  }
};

// issue 6 (mpm_fem) begin: fem.coupling turns on two-way contact between the tet bodies and the material.
template <class Real, int D>
std::unique_ptr<MpmFemCoupling<Real>> scene_coupling(const SceneDesc& scene, MpmWorld<Real, D>& world,
                                                     FemSceneRun<Real>* fem) {
  if constexpr (D == 3) return make_scene_coupling<Real>(scene, world, fem);
  return nullptr;
}
// issue 6 (mpm_fem) end

template <class Real, int D>
RunResult run_impl(const SceneDesc& scene, const RunOptions& options) {
  const auto start = Clock::now();
  const auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  auto world = build_world<Real, D>(scene);
  const StabilityReport stability = check_stability(scene, *world);
  std::unique_ptr<FemSceneRun<Real>> fem;  // issue 5: FEM bodies (3D scenes only; the loader checks)
  if constexpr (D == 3) fem = make_fem_scene_run<Real>(scene);
  const auto coupling = scene_coupling<Real, D>(scene, *world, fem.get());  // issue 6 (mpm_fem)

  RunResult result;
  result.out_dir = options.out_dir.empty() ? scene.output.dir : options.out_dir;
  const fs::path dir(result.out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw InputError(context(scene.output.loc, "output.dir") + ": cannot create the output directory '" +
                     result.out_dir + "'" + (ec ? ": " + ec.message() : std::string()));
  clear_previous_outputs(dir);

  // issue 5: a scene of FEM bodies only has an empty MPM world, which is never
  // stepped and writes no particle frames or trajectory (nothing to write).
  const bool mpm_active = world->num_particles() > 0;
  const bool write_ply = scene.output.writes("ply"), write_npz = scene.output.writes("npz") && mpm_active;
  std::optional<PreviewRenderer> preview;
  if (scene.preview.enabled) preview.emplace(scene);
  std::optional<TrajectoryRecorder> trajectory;
  if (write_npz) {
    std::vector<std::string> material_names, body_names;
    for (const auto& m : scene.materials) material_names.push_back(m.label);
    for (const auto& b : scene.bodies) body_names.push_back(b.name);
    trajectory.emplace(D, std::move(material_names), std::move(body_names));
  }

  RunRecord record(scene, summarize(scene, *world, stability));
  result.summary = record.summary;
  result.run_json = (dir / "run.json").string();
  write_file_atomic(result.run_json, record.json_text());
  if (options.on_start) options.on_start(result.summary);

  const SimulationDesc& sim = scene.simulation;
  // Writes what is due at `frame`; returns the PLY file written ("" when none).
  const auto write_outputs = [&](int frame) {
    std::string ply;
    if (frame % scene.output.every_n_frames == 0) {
      if (write_ply && mpm_active) {  // issue 5: mpm_active
        const fs::path file = dir / frame_file_name(frame);
        std::vector<std::string> comments = {
            "pliant " PLIANT_VERSION, "scene " + fs::path(scene.path).filename().string(),
            "frame " + std::to_string(frame), "time " + std::to_string(world->time()) + " s"};
        write_file_atomic(file.string(), encode_ply(world->particles(), comments));
        result.files.push_back(file.string());
        record.last_file = ply = file.string();
      }
      if (trajectory) trajectory->record(frame, world->time(), world->particles());
      if (fem && write_ply) result.files.push_back(fem->write_frame(dir.string(), frame));  // issue 5
      ++record.frames_written;
    }
    if (preview && frame % scene.preview.every_n_frames == 0) {
      const fs::path file = dir / preview_file_name(frame);
      if (fem) preview->set_fem_surfaces(fem->surface_meshes());  // issue 5: FEM bodies in previews
      if (fem && !mpm_active) {  // issue 6 (fem_tool): the MPM world is not stepped; tools at the FEM time
        std::vector<std::pair<const Tool<3>*, long>> tools;
        for (const auto& t : fem->world().tools()) tools.emplace_back(&t->tool(), fem->world().step_count());
        preview->set_tool_poses(tools, 0.5 * sim.dx);
      }
      write_file_atomic(file.string(), render::encode_png(preview->render(*world)));  // with tools (issue 6)
      result.previews.push_back(file.string());
      ++record.previews_written;
    }
    return ply;
  };
  // The trajectory so far, also after a failure (the frames before it are valid).
  const auto write_trajectory = [&]() {
    if (!trajectory || trajectory->frames() == 0) return;
    result.npz_file = (dir / "trajectory.npz").string();
    write_file_atomic(result.npz_file, trajectory->encode());
    record.npz_file = result.npz_file;
  };
  // issue 6: each tool's reaction per frame (tool_reaction_csv.hpp), rewritten atomically after every frame.
  const auto write_tool_reactions = [&](int frames) {
    if (fem && !mpm_active && !fem->world().tools().empty()) {  // issue 6 (fem_tool): the FEM world's tools
      std::vector<std::string> names;
      std::vector<std::vector<ToolReaction>> reactions;
      for (const auto& t : fem->world().tools()) {
        names.push_back(t->name());
        reactions.push_back(t->reactions());
        reactions.back().resize(std::size_t(frames) * std::size_t(scene.fem.steps_per_frame));
      }
      record.tools_file = (dir / "tools.csv").string();
      write_file_atomic(record.tools_file, encode_tool_reaction_csv(names, reactions, frames, scene.fem.steps_per_frame,
                                                                    fem->world().settings().dt));
      return;
    }
    if (world->tools().empty() || !mpm_active) return;
    std::vector<std::string> names;
    for (const auto& t : world->tools()) names.push_back(t.name());
    record.tools_file = (dir / "tools.csv").string();
    write_file_atomic(record.tools_file, encode_tool_reaction_csv(names, world->tool_reactions(), frames,
                                                                  sim.substeps_per_frame, sim.dt));
  };

  try {
    write_outputs(0);
    for (int frame = 1; frame <= sim.frames; ++frame) {
      const auto t0 = Clock::now();
      if (coupling) {  // issue 6 (mpm_fem): the worlds exchange forces every substep
        coupling->step_with(sim.substeps_per_frame, [&] { fem->step_once(); });
      } else {
        if (mpm_active) world->step(sim.substeps_per_frame);  // issue 5: mpm_active
        if (fem) fem->step_frame();  // issue 5: FEM bodies advance the same frame duration
      }
      const double step_s = seconds_since(t0);
      record.frames_simulated = frame;
      FrameProgress p;
      p.frame = frame;
      p.frames = sim.frames;
      p.particles = world->num_particles();
      p.substeps_per_second = step_s > 0 ? sim.substeps_per_frame / step_s : 0;
      p.sim_time_s = mpm_active ? world->time() : frame * sim.frame_duration();  // issue 5
      p.file = write_outputs(frame);
      write_tool_reactions(frame);  // issue 6
      p.elapsed_s = seconds_since(start);
      if (options.on_frame) options.on_frame(p);
    }
    write_trajectory();
  } catch (const std::exception& e) {
    record.status = "failed";
    record.error = e.what();
    record.wall_time_s = seconds_since(start);
    try {
      if (record.npz_file.empty()) write_trajectory();
    } catch (const std::exception&) {
      // The original error matters more than a failed trajectory file.
    }
    try {
      write_file_atomic(result.run_json, record.json_text());
    } catch (const std::exception&) {
      // The original error matters more than a failed record of it.
    }
    throw;
  }
  record.status = "completed";
  record.wall_time_s = seconds_since(start);
  write_file_atomic(result.run_json, record.json_text());
  result.frames_simulated = record.frames_simulated;
  result.frames_written = record.frames_written;
  result.previews_written = record.previews_written;
  result.wall_time_s = record.wall_time_s;
  return result;
}

}  // namespace

SceneSummary check_scene(const SceneDesc& scene) {
  return dispatch(scene, [&](auto real, auto dim) {
    using Real = decltype(real);
    constexpr int D = decltype(dim)::value;
    auto world = build_world<Real, D>(scene);
    const StabilityReport r = check_stability(scene, *world);
    if constexpr (D == 3) {
      auto fem = make_fem_scene_run<Real>(scene);  // issue 5: builds (validates) the FEM bodies
      scene_coupling<Real, D>(scene, *world, fem.get());  // issue 6 (mpm_fem): and their coupling
    }
    return summarize(scene, *world, r);
  });
}

RunResult run_scene(const SceneDesc& scene, const RunOptions& options) {
  return dispatch(scene, [&](auto real, auto dim) {
    using Real = decltype(real);
    constexpr int D = decltype(dim)::value;
    return run_impl<Real, D>(scene, options);
  });
}

render::VideoResult assemble_preview_video(const SceneDesc& scene, const RunResult& run) {
  render::VideoRequest request;
  request.dir = run.out_dir;
  request.fps = preview_fps(scene);
  return render::make_video(request);
}

}  // namespace pl::scene
