// Running a scene forward and writing its outputs: what `pliant run` does,
// as a library call (tests, Python and later the optimizer use the same path).
//
// Usage:
//   pl::scene::SceneDesc scene = pl::scene::load_scene(path, {"simulation.frames=5"});
//   pl::scene::RunOptions opt;
//   opt.out_dir = "/tmp/out";                          // default: scene.output.dir
//   opt.on_frame = [](const pl::scene::FrameProgress& f) { ... };
//   pl::scene::RunResult r = pl::scene::run_scene(scene, opt);
//
// Output directory after a run:
//   frame_00000.ply ...   the initial state (frame 0) and every
//                         output.every_n_frames-th frame (frame_output.hpp),
//                         when output.format has ply (the default)
//   trajectory.npz        when output.format has npz: the same frames in one
//                         NumPy archive (trajectory_recorder.hpp), written at
//                         the end (also after a failure, with the frames so far)
//   preview_00000.png ... when preview.enabled: every preview.every_n_frames-th
//                         frame rendered in software (preview_renderer.hpp)
//   tools.csv             with a tools: section, each tool's mean reaction
//                         force and torque per frame (tool_reaction_csv.hpp),
//                         rewritten after every frame (issue 6)
//   run.json              what ran: scene path and SHA-256, overrides, version,
//                         backend, threads, particles, frames, wall time, status
// Every file is written atomically (frame_output.hpp).  run.json is written
// when the run starts ("status": "running") and rewritten when it ends
// ("completed", or "failed" with the error).  When the directory holds a
// run.json from an earlier run, that run's outputs (frames, previews,
// trajectory.npz, preview.mp4) and the temporary files of a killed run are
// deleted first, so outputs of two runs never mix; other files are left alone.
// The MP4 is not made here: see assemble_preview_video().
//
// Errors: InputError before anything is written (invalid world, unstable dt,
// unwritable output directory); SimulationError when the run fails part-way
// (the frames written so far stay, run.json says "failed").
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/mpm/stability.hpp"
#include "engine/render/video.hpp"
#include "engine/scene/scene_desc.hpp"

namespace pl::scene {

struct BodySummary {
  std::string name;
  std::string material;
  std::size_t particles = 0;
};

/// What a scene turns into once its world is built (also `pliant validate`).
struct SceneSummary {
  std::string backend;  // "cpu" | "cuda" (resolved)
  int threads = 0;      // CPU threads (OpenMP)
  std::size_t particles = 0;
  std::vector<BodySummary> bodies;
  StabilityReport stability;
};

struct FrameProgress {
  int frame = 0;   // 1..frames
  int frames = 0;
  std::size_t particles = 0;
  double substeps_per_second = 0;  // of this frame's stepping
  double elapsed_s = 0;            // since the run started
  double sim_time_s = 0;           // simulated time at the end of this frame
  std::string file;                // the PLY written for this frame, "" when none
};

struct RunOptions {
  std::string out_dir;  // "" = scene.output.dir
  std::function<void(const SceneSummary&)> on_start;
  std::function<void(const FrameProgress&)> on_frame;
};

struct RunResult {
  std::string out_dir;
  SceneSummary summary;
  int frames_simulated = 0;
  int frames_written = 0;
  double wall_time_s = 0;
  int previews_written = 0;
  std::vector<std::string> files;     // PLY files written, in order
  std::vector<std::string> previews;  // preview PNGs written, in order
  std::string npz_file;               // trajectory.npz, "" when not asked for
  std::string run_json;               // path of run.json
};

/// Builds the world (the scene's dim and precision) and checks dt; writes nothing.
/// Throws InputError as build_world / check_stability do.
SceneSummary check_scene(const SceneDesc& scene);

RunResult run_scene(const SceneDesc& scene, const RunOptions& options = {});

/// After a run with previews: makes preview.mp4 in the output directory with
/// ffmpeg when it is on $PATH (atomically), else returns the command that
/// would (engine/render/video.hpp).  Never throws for ffmpeg's absence or failure.
render::VideoResult assemble_preview_video(const SceneDesc& scene, const RunResult& run);

}  // namespace pl::scene
