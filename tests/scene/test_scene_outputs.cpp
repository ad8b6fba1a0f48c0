// The optional outputs of a run: the `preview:` section and its PNG images,
// `output.format: [ply, npz]`, the MP4 step (with stand-in ffmpeg programs),
// and how a rerun cleans up after an earlier, possibly killed, run.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "engine/core/error.hpp"
#include "engine/render/camera.hpp"
#include "engine/scene/frame_output.hpp"
#include "engine/scene/preview_renderer.hpp"
#include "engine/scene/scene_loader.hpp"
#include "engine/scene/scene_runner.hpp"

namespace {

namespace fs = std::filesystem;
namespace sc = pl::scene;

const std::string kSourceDir = PLIANT_SOURCE_DIR;

const char* kScene3d = R"(version: 1
simulation:
  dim: 3
  dt: 1.0e-3
  substeps_per_frame: 2
  frames: 2
  dx: 0.05
  domain: {origin: [0, 0, 0], size: [1, 0.5, 0.8]}
  gravity: [0, -9.81, 0]
materials:
  jelly: {model: fixed_corotated, E: 1.0e4, nu: 0.3}
bodies:
  cube:
    material: jelly
    shape: {type: box, lower: [0.4, 0.2, 0.3], upper: [0.6, 0.3, 0.5]}
)";

const char* kScene2d = R"(version: 1
simulation:
  dim: 2
  dt: 1.0e-4
  substeps_per_frame: 10
  frames: 2
  dx: 0.02
  domain: {origin: [0, 0], size: [1, 0.5]}
  gravity: [0, -9.81]
materials:
  jelly: {model: fixed_corotated, E: 1.0e4, nu: 0.3}
bodies:
  block:
    material: jelly
    shape: {type: box, lower: [0.3, 0.1], upper: [0.5, 0.3]}
)";

std::string error_of(const std::string& text, const std::vector<std::string>& overrides) {
  try {
    sc::parse_scene(text, "test.yaml", ".", overrides);
  } catch (const pl::InputError& e) {
    return e.what();
  }
  return "";
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::temp_directory_path() / ("pliant_test_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// Sets $PATH for the scope of one test.
struct PathOverride {
  std::string saved;
  explicit PathOverride(const std::string& path) : saved(std::getenv("PATH") ? std::getenv("PATH") : "") {
    ::setenv("PATH", path.c_str(), 1);
  }
  ~PathOverride() { ::setenv("PATH", saved.c_str(), 1); }
};

void write_script(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  ::chmod(p.c_str(), 0755);
}

// --- the preview section -------------------------------------------------------

TEST(ScenePreview, DefaultsAreOffWithACameraThatSeesTheDomain) {
  const sc::SceneDesc s = sc::parse_scene(kScene3d);
  EXPECT_FALSE(s.preview.enabled);
  EXPECT_EQ(s.preview.width, 640);
  EXPECT_EQ(s.preview.height, 480);
  EXPECT_EQ(s.preview.color_by, sc::ColorBy::Material);
  EXPECT_EQ(s.preview.camera.up, (std::array<double, 3>{0, 1, 0})) << "up is against gravity";
  EXPECT_NEAR(s.preview.camera.look_at[0], 0.5, 1e-12);
  EXPECT_NEAR(s.preview.camera.look_at[1], 0.25, 1e-12);
  EXPECT_NEAR(s.preview.camera.look_at[2], 0.4, 1e-12);
  EXPECT_GT(s.preview.camera.position[1], 0.5);
  // Gravity along -z puts z up.
  const sc::SceneDesc z = sc::parse_scene(kScene3d, "t.yaml", ".", {"simulation.gravity=[0, 0, -9.81]"});
  EXPECT_EQ(z.preview.camera.up, (std::array<double, 3>{0, 0, 1}));

  // 2D: the image keeps the domain's aspect ratio (1 x 0.5 m -> 640 x 320).
  const sc::SceneDesc flat = sc::parse_scene(kScene2d);
  EXPECT_EQ(flat.preview.width, 640);
  EXPECT_EQ(flat.preview.height, 320);
  const sc::SceneDesc tall = sc::parse_scene(kScene2d, "t.yaml", ".", {"preview.height=100"});
  EXPECT_EQ(tall.preview.width, 200);
}

TEST(ScenePreview, ValuesAreReadAndChecked) {
  const sc::SceneDesc s = sc::parse_scene(
      kScene3d, "t.yaml", ".",
      {"preview={enabled: true, every_n_frames: 2, width: 320, height: 200, color_by: speed, colormap: inferno, "
       "range: [0, 3], background: [0, 0, 0.1], camera: {position: [2, 2, 2], look_at: [0.5, 0, 0.5], fov_deg: 30}}"});
  EXPECT_TRUE(s.preview.enabled);
  EXPECT_EQ(s.preview.every_n_frames, 2);
  EXPECT_EQ(s.preview.width, 320);
  EXPECT_EQ(s.preview.color_by, sc::ColorBy::Speed);
  EXPECT_EQ(s.preview.colormap, "inferno");
  EXPECT_TRUE(s.preview.fixed_range);
  EXPECT_EQ(s.preview.range[1], 3);
  EXPECT_EQ(s.preview.camera.position, (std::array<double, 3>{2, 2, 2}));
  EXPECT_EQ(s.preview.camera.fov_deg, 30);

  EXPECT_NE(error_of(kScene3d, {"preview.color_by=sped"}).find("preview.color_by"), std::string::npos);
  EXPECT_NE(error_of(kScene3d, {"preview.color_by=sped"}).find("did you mean 'speed'"), std::string::npos);
  EXPECT_NE(error_of(kScene3d, {"preview.width=0"}).find("preview.width"), std::string::npos);
  EXPECT_NE(error_of(kScene3d, {"preview.range=[2, 1]"}).find("preview.range"), std::string::npos);
  EXPECT_NE(error_of(kScene3d, {"preview.camera.fov_deg=180"}).find("preview.camera.fov_deg"), std::string::npos);
  EXPECT_NE(error_of(kScene3d, {"preview.camera.position=[0.5, 0.25, 0.4]", "preview.camera.look_at=[0.5, 0.25, 0.4]"})
                .find("preview.camera: position and look_at must differ"),
            std::string::npos);
  EXPECT_NE(error_of(kScene3d, {"preview.camera.zoom=2"}).find("unknown key 'zoom'"), std::string::npos);
  EXPECT_NE(error_of(kScene2d, {"preview.camera.fov_deg=30"}).find("a camera applies to 3D scenes only"),
            std::string::npos);
  EXPECT_NE(error_of(kScene3d, {"preview.enabled=yes"}).find("preview.enabled: expected true or false"),
            std::string::npos);
}

TEST(SceneOutputFormat, OneFormatOrAList) {
  EXPECT_EQ(sc::parse_scene(kScene2d).output.formats, std::vector<std::string>{"ply"});
  const auto both = sc::parse_scene(kScene2d, "t.yaml", ".", {"output.format=[ply, npz]"}).output;
  EXPECT_TRUE(both.writes("ply"));
  EXPECT_TRUE(both.writes("npz"));
  EXPECT_FALSE(sc::parse_scene(kScene2d, "t.yaml", ".", {"output.format=npz"}).output.writes("ply"));
  EXPECT_NE(error_of(kScene2d, {"output.format=[ply, ply]"}).find("listed twice"), std::string::npos);
  EXPECT_NE(error_of(kScene2d, {"output.format=[]"}).find("output.format"), std::string::npos);
  EXPECT_NE(error_of(kScene2d, {"output.format=vtk"}).find("output.format: expected one of ply, npz"),
            std::string::npos);
}

// --- runs --------------------------------------------------------------------------

TEST(SceneOutputs, RunWritesPreviewsAndTrajectory) {
  TempDir out("outputs_run");
  const sc::SceneDesc scene = sc::parse_scene(
      kScene3d, "t.yaml", ".",
      {"simulation.frames=3", "preview.enabled=true", "preview.every_n_frames=2", "preview.width=96",
       "preview.height=64", "output.format=[ply, npz]"});
  sc::RunOptions opt;
  opt.out_dir = out.path.string();
  const sc::RunResult r = sc::run_scene(scene, opt);
  EXPECT_EQ(r.previews_written, 2);  // frames 0 and 2
  ASSERT_EQ(r.previews.size(), 2u);
  EXPECT_TRUE(fs::exists(out.path / "preview_00000.png"));
  EXPECT_TRUE(fs::exists(out.path / "preview_00002.png"));
  EXPECT_FALSE(fs::exists(out.path / "preview_00001.png"));
  EXPECT_EQ(r.frames_written, 4);
  EXPECT_EQ(r.npz_file, (out.path / "trajectory.npz").string());
  ASSERT_TRUE(fs::exists(r.npz_file));
  // 4 frames x N particles x 3 x 2 floats, compressed: more than nothing, less than raw.
  EXPECT_GT(fs::file_size(r.npz_file), 1000u);
  EXPECT_LT(fs::file_size(r.npz_file), 4 * r.summary.particles * 24 + 4096);
  std::ifstream in(out.path / "run.json");
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["previews_written"], 2);
  EXPECT_EQ(j["format"], nlohmann::json::array({"ply", "npz"}));
  EXPECT_EQ(j["trajectory_file"], r.npz_file);
}

TEST(SceneOutputs, FailedRunStillWritesTheTrajectorySoFar) {
  TempDir out("outputs_failed");
  // A dt far beyond the stability limit blows up within a few frames.
  const sc::SceneDesc scene = sc::load_scene(
      kSourceDir + "/scenes/jelly_drop_3d.yaml",
      {"simulation.dt=0.2", "simulation.allow_unstable_dt=true", "simulation.frames=50",
       "bodies.cube.velocity=[0, -5, 0]", "output.format=npz"});
  sc::RunOptions opt;
  opt.out_dir = out.path.string();
  EXPECT_THROW(sc::run_scene(scene, opt), pl::SimulationError);
  EXPECT_TRUE(fs::exists(out.path / "trajectory.npz")) << "the frames before the failure are kept";
  EXPECT_FALSE(fs::exists(out.path / "frame_00000.ply")) << "format npz writes no PLY";
  std::ifstream in(out.path / "run.json");
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["trajectory_file"], (out.path / "trajectory.npz").string());
}

TEST(SceneOutputs, PreviewShowsTheBodyWhereTheCameraSeesIt) {
  // 2D: the planar camera maps the 1 x 0.5 m domain onto 640 x 320 pixels;
  // the block [0.3, 0.5] x [0.1, 0.3] m covers pixels x 192..320, y 128..256.
  const sc::SceneDesc scene = sc::parse_scene(kScene2d);
  sc::PreviewRenderer preview(scene);
  pl::ParticleSet<float, 2> p;
  p.x = {{0.4f, 0.2f}};
  p.v = {{0.f, 0.f}};
  p.volume = {0.0001f};  // spacing 1 cm -> radius 6 mm -> ~3.8 px
  p.plastic = {0.f};
  p.material = {0};
  p.body = {0};
  const pl::render::RgbImage img = preview.render(p);
  ASSERT_EQ(img.width, 640);
  ASSERT_EQ(img.height, 320);
  const auto at = img.at(256, 192);  // (0.4 * 640, (0.5 - 0.2) * 640)
  EXPECT_LT(at[0], 200) << "the particle (material 0: blue) covers its projected pixel";
  EXPECT_GT(at[2], at[0]);
  const auto far = img.at(300, 192);
  EXPECT_EQ(far[0], 255) << "background away from the particle";
}

TEST(SceneOutputs, RerunRemovesThePreviousRunsOutputsAndStaleTemporaries) {
  TempDir out("outputs_rerun");
  const fs::path dir = out.path;
  // An earlier run: run.json, frames, previews, a video, and the temporaries of a killed writer.
  for (const char* name : {"run.json", "frame_00000.ply", "frame_00009.ply", "preview_00009.png", "preview.mp4",
                           "trajectory.npz", "frame_00010.ply.tmp.999999999", "run.json.tmp.999999999",
                           "notes.txt", "frame_00010.ply.tmp.1"})
    std::ofstream(dir / name) << "old";
  const sc::SceneDesc scene = sc::parse_scene(kScene2d, "t.yaml", ".", {"simulation.frames=1"});
  sc::RunOptions opt;
  opt.out_dir = dir.string();
  sc::run_scene(scene, opt);
  EXPECT_TRUE(fs::exists(dir / "frame_00001.ply"));
  for (const char* gone : {"frame_00009.ply", "preview_00009.png", "preview.mp4", "trajectory.npz",
                           "frame_00010.ply.tmp.999999999", "run.json.tmp.999999999"})
    EXPECT_FALSE(fs::exists(dir / gone)) << gone;
  EXPECT_TRUE(fs::exists(dir / "notes.txt")) << "files that are not Pliant outputs stay";
  // pid 1 is alive (init): its temporary might be another writer's and stays.
  EXPECT_TRUE(fs::exists(dir / "frame_00010.ply.tmp.1"));
}

// --- MP4 assembly ---------------------------------------------------------------------

TEST(PreviewVideo, WithoutFfmpegTheCommandIsReturned) {
  TempDir out("video_none");
  PathOverride path(out.path.string());  // a directory without ffmpeg
  sc::SceneDesc scene = sc::parse_scene(kScene2d);  // frame = 10 x 1e-4 s = 1 ms -> 1000 fps, clamped to 60
  sc::RunResult run;
  run.out_dir = (out.path / "my run").string();
  const auto v = sc::assemble_preview_video(scene, run);
  EXPECT_FALSE(v.ffmpeg_found);
  EXPECT_FALSE(v.made);
  EXPECT_EQ(v.command,
            "cd '" + run.out_dir + "' && ffmpeg -y -framerate 60 -pattern_type glob -i 'preview_*.png' -vf "
            "'pad=ceil(iw/2)*2:ceil(ih/2)*2' -pix_fmt yuv420p preview.mp4");
  scene.simulation.substeps_per_frame = 400;  // 40 ms per frame -> 25 fps
  EXPECT_EQ(sc::preview_fps(scene), 25);
}

TEST(PreviewVideo, FfmpegOutputIsRenamedIntoPlaceOnlyOnSuccess) {
  TempDir out("video_fake");
  const fs::path bin = out.path / "bin";
  fs::create_directories(bin);
  const fs::path dir = out.path / "run";
  fs::create_directories(dir);
  sc::RunResult run;
  run.out_dir = dir.string();
  const sc::SceneDesc scene = sc::parse_scene(kScene2d);
  {
    // A stand-in ffmpeg that writes its last argument (the output) in the current directory.
    write_script(bin / "ffmpeg", "#!/bin/sh\nfor last; do :; done\necho video > \"$last\"\n");
    PathOverride path(bin.string());
    const auto v = sc::assemble_preview_video(scene, run);
    EXPECT_TRUE(v.ffmpeg_found);
    EXPECT_TRUE(v.made) << v.error;
    EXPECT_TRUE(fs::exists(dir / "preview.mp4"));
  }
  fs::remove(dir / "preview.mp4");
  {
    // One that fails half-way: no preview.mp4, no temporary left, the reason reported.
    write_script(bin / "ffmpeg", "#!/bin/sh\nfor last; do :; done\necho partial > \"$last\"\necho 'no encoder' >&2\nexit 1\n");
    PathOverride path(bin.string());
    const auto v = sc::assemble_preview_video(scene, run);
    EXPECT_FALSE(v.made);
    EXPECT_NE(v.error.find("no encoder"), std::string::npos) << v.error;
    EXPECT_FALSE(fs::exists(dir / "preview.mp4"));
    EXPECT_TRUE(fs::is_empty(dir)) << "the partial output must be removed";
  }
}

}  // namespace
