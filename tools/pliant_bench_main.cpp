// pliant_bench: forward-throughput benchmark of the MPM workloads S1 and S2 of
// /work/shared/BENCHMARKS.md, with a STREAM-triad bandwidth probe and the
// roofline fraction of each run.  docs/benchmarks.md explains every number.
//
//   pliant_bench --workload all --size all --threads 1,2 --reps 5 --json bench.json
//
// Per (workload, size, threads): build the world (untimed), run --warmup
// frames (untimed), then --reps repetitions of --frames frames each, timing
// each repetition (frames * substeps substeps) with a steady clock.  The
// repetitions continue one simulation (no reset between them), so a peer run
// with the same schedule sees the same states.  Reported: min and median
// particle-steps/s over the repetitions (max in the JSON too).
//
// S3 (--workload S3; small = diffmpm 2D, large = diffmpm3d sizes) times the
// forward and the checkpointed forward+backward of tools/bench/diffmpm.hpp and
// writes the loss and dL/dtheta to the JSON for the peer harness's check.
// --particles DIR loads the initial state shared with the peers
// (tools/peers/run_peers.py) instead of generating it.
#include "tools/bench/diffmpm.hpp"
#include "tools/bench/npy_read.hpp"
#include "tools/bench/workloads.hpp"

#include <sys/resource.h>

#include <omp.h>

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/core/backend.hpp"
#include "engine/core/error.hpp"

namespace {

using nlohmann::json;
using pl::bench::WorkloadSpec;

struct Options {
  std::vector<std::string> workloads{"S1", "S2"};
  std::vector<std::string> sizes{"small", "large"};
  std::vector<int> threads{1, 2};
  int reps = 5;
  int warmup = 2;
  int frames = 0;  // 0: the workload's default
  std::string json_path;
  bool quiet = false;
  std::string save_particles;
  bool save_only = false;
  std::uint64_t seed = 42;
  std::size_t stream_mb = 64;
  int stream_reps = 10;
  std::string particles;  // --particles DIR
  int steps = 0;          // S3: substeps (0: the workload's)
  double checkpoint_mb = 0;
};

const char* kUsage =
    "usage: pliant_bench [options]\n"
    "  --workload S1|S2|S3|all    workloads of BENCHMARKS.md (default all = S1 and S2)\n"
    "  --size small|large|all     S1: n_grid 32 | 64; S2: quality 1 | 2; S3: 2d | 3d (default all)\n"
    "  --threads LIST             comma-separated CPU thread counts, each run in turn (default 1,2)\n"
    "  --reps N                   timed repetitions (default 5; S3 accepts 0: loss and gradient only)\n"
    "  --warmup N                 untimed frames before the first repetition (default 2)\n"
    "  --frames N                 frames per repetition (default: ~2.5e6 particle-steps per repetition;\n"
    "                             S1/n32 12, S1/n64 2, S2/q1 15, S2/q2 2)\n"
    "  --json FILE                write the results as JSON to FILE (atomically), or '-' for stdout\n"
    "                             (the readable lines then go to stderr)\n"
    "  --quiet                    no readable lines (errors still go to stderr)\n"
    "  --save-particles DIR       write each workload's initial positions to DIR/<W>_<size>_x.npy\n"
    "                             (float32, N x dim) and material groups to DIR/<W>_<size>_material.npy (int32, N)\n"
    "  --save-only                with --save-particles: write the files and exit without timing\n"
    "  --seed N                   seed of the initial positions (default 42)\n"
    "  --particles DIR            load the initial state from DIR/<W>_<size>_x.npy and _material.npy\n"
    "                             (S3 also _actuation.npy) instead of generating it\n"
    "  --steps N                  S3: substeps of the rollout (default 1024 in 2D, 512 in 3D)\n"
    "  --checkpoint-mb MB         S3: checkpoint budget (default: the rollout's, ~2 sqrt(steps) states)\n"
    "  --stream-mb N              STREAM triad array size in MiB, 3 arrays (default 64)\n"
    "  --stream-reps N            STREAM triad timed passes, best counts (default 10)\n"
    "  --help\n";

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "pliant_bench: " << msg << "\n" << kUsage;
  std::exit(2);
}

int parse_int(const std::string& flag, const std::string& v, int lo) {
  try {
    std::size_t used = 0;
    const long x = std::stol(v, &used);
    if (used != v.size() || x < lo || x > 1000000000L) throw std::invalid_argument(v);
    return int(x);
  } catch (const std::exception&) {
    usage_error(flag + " expects an integer >= " + std::to_string(lo) + ", got '" + v + "'");
  }
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream is(s);
  while (std::getline(is, cur, sep)) out.push_back(cur);
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--workload") {
      const std::string v = value();
      if (v == "all") o.workloads = {"S1", "S2"};
      else if (v == "S1" || v == "S2" || v == "S3") o.workloads = {v};
      else usage_error("--workload expects S1, S2, S3 or all, got '" + v + "'");
    } else if (a == "--size") {
      const std::string v = value();
      if (v == "all") o.sizes = {"small", "large"};
      else if (v == "small" || v == "large") o.sizes = {v};
      else usage_error("--size expects small, large or all, got '" + v + "'");
    } else if (a == "--threads") {
      o.threads.clear();
      for (const std::string& t : split(value(), ',')) o.threads.push_back(parse_int("--threads", t, 1));
      if (o.threads.empty()) usage_error("--threads expects a list such as 1,2");
    } else if (a == "--reps") {
      o.reps = parse_int(a, value(), 0);
    } else if (a == "--warmup") {
      o.warmup = parse_int(a, value(), 0);
    } else if (a == "--frames") {
      o.frames = parse_int(a, value(), 1);
    } else if (a == "--json") {
      o.json_path = value();
    } else if (a == "--quiet") {
      o.quiet = true;
    } else if (a == "--save-particles") {
      o.save_particles = value();
    } else if (a == "--save-only") {
      o.save_only = true;
    } else if (a == "--seed") {
      o.seed = std::uint64_t(parse_int(a, value(), 0));
    } else if (a == "--stream-mb") {
      o.stream_mb = std::size_t(parse_int(a, value(), 1));
    } else if (a == "--stream-reps") {
      o.stream_reps = parse_int(a, value(), 1);
    } else if (a == "--particles") {
      o.particles = value();
    } else if (a == "--steps") {
      o.steps = parse_int(a, value(), 1);
    } else if (a == "--checkpoint-mb") {
      o.checkpoint_mb = double(parse_int(a, value(), 1));
    } else {
      usage_error("unknown option '" + a + "'");
    }
  }
  if (o.save_only && o.save_particles.empty()) usage_error("--save-only needs --save-particles DIR");
  if (o.reps == 0 && std::find(o.workloads.begin(), o.workloads.end(), "S3") == o.workloads.end())
    usage_error("--reps 0 (no timing) is only meaningful for S3 (loss and gradient only)");
  return o;
}

// --- Machine description ------------------------------------------------------------

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

json machine_description() {
  json m;
  std::string model;
  std::set<std::pair<std::string, std::string>> cores;  // (physical id, core id)
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line, phys = "0";
    while (std::getline(in, line)) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string key = line.substr(0, colon);
      key.erase(key.find_last_not_of(" \t") + 1);
      std::string val = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
      if (key == "model name" && model.empty()) model = val;
      if (key == "physical id") phys = val;
      if (key == "core id") cores.insert({phys, val});
    }
  }
  m["cpu_model"] = model.empty() ? "unknown" : model;
  m["logical_cpus"] = std::thread::hardware_concurrency();
  m["physical_cores"] = cores.empty() ? json(nullptr) : json(cores.size());
  m["omp_num_procs"] = omp_get_num_procs();
  json caches = json::object();
  for (int idx = 0; idx < 8; ++idx) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(idx) + "/";
    if (!std::filesystem::exists(dir + "size")) break;
    const std::string type = read_first_line(dir + "type");
    if (type == "Instruction") continue;
    caches["L" + read_first_line(dir + "level")] = read_first_line(dir + "size");
  }
  m["caches_per_cpu0"] = caches;
  {
    std::ifstream in("/proc/meminfo");
    std::string key;
    long kb = 0;
    if (in >> key >> kb && key == "MemTotal:") m["memory_total_bytes"] = double(kb) * 1024.0;
  }
  utsname u{};
  if (uname(&u) == 0) {
    m["os"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
    m["hostname"] = u.nodename;
  }
#if defined(__clang__)
  m["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  m["compiler"] = std::string("g++ ") + __VERSION__;
#else
  m["compiler"] = "unknown";
#endif
#ifdef NDEBUG
  m["build"] = "optimized (NDEBUG)";
#else
  m["build"] = "debug (asserts on)";
#endif
  m["openmp"] = _OPENMP;
  return m;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// CPU time of the whole machine and of this process, to flag runs disturbed by
// other work on a shared machine: others = (busy_all - self) / total_all over
// the timed interval (1.0 = every CPU busy with someone else's work).
struct CpuSample {
  long long busy = 0, total = 0, self = 0;  // clock ticks
};

CpuSample cpu_sample() {
  CpuSample c;
  {
    std::ifstream in("/proc/stat");
    std::string cpu;
    long long v[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // user nice system idle iowait irq softirq steal
    in >> cpu;
    for (long long& x : v) in >> x;
    c.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    c.total = c.busy + v[3] + v[4];
  }
  {
    std::ifstream in("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close != std::string::npos && close + 2 < text.size()) {
      std::istringstream is(text.substr(close + 2));
      std::string field;
      long long utime = 0, stime = 0;
      for (int i = 3; i <= 15 && is >> field; ++i) {  // field numbers of proc(5), after "pid (comm)"
        if (i == 14) utime = std::atoll(field.c_str());
        if (i == 15) stime = std::atoll(field.c_str());
      }
      c.self = utime + stime;
    }
  }
  return c;
}

/// Fraction of the machine's CPU time used by other processes between a and b
/// (null when the interval is too short to tell).
json others_fraction(const CpuSample& a, const CpuSample& b) {
  const long long total = b.total - a.total;
  if (total <= 0) return nullptr;
  const double f = double((b.busy - a.busy) - (b.self - a.self)) / double(total);
  return std::clamp(f, 0.0, 1.0);
}

// --- Output helpers -----------------------------------------------------------------------

void write_atomically(const std::string& path, const std::string& text) {
  const std::filesystem::path target(path);
  const std::filesystem::path tmp =
      target.parent_path() / (target.filename().string() + ".tmp-" + std::to_string(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw pl::InputError("--json: cannot open '" + tmp.string() + "' for writing");
    out << text;
    out.flush();
    if (!out) throw pl::InputError("--json: error while writing '" + tmp.string() + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw pl::InputError("--json: cannot rename '" + tmp.string() + "' to '" + path + "': " + ec.message());
  }
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string grid_text(const WorkloadSpec& s) {
  return std::to_string(s.n_grid) + "^" + std::to_string(s.dim);
}

void save_particles(const std::string& dir, const WorkloadSpec& spec, const pl::bench::Workload& w) {
  std::filesystem::create_directories(dir);
  const std::string stem = (std::filesystem::path(dir) / (spec.workload + "_" + spec.size)).string();
  const std::size_t n = w.num_particles();
  pl::bench::write_npy_f32(stem + "_x.npy", w.positions_f32(), {n, std::size_t(spec.dim)});
  pl::bench::write_npy_i32(stem + "_material.npy", w.materials(), {n});
}

void save_s3(const std::string& dir, const pl::bench::S3Spec& spec, const pl::bench::InitialState& st) {
  std::filesystem::create_directories(dir);
  const std::string stem = (std::filesystem::path(dir) / ("S3_" + spec.size)).string();
  const std::vector<float> x(st.positions.begin(), st.positions.end());
  pl::bench::write_npy_f32(stem + "_x.npy", x, {spec.num_particles, std::size_t(spec.dim)});
  pl::bench::write_npy_i32(stem + "_material.npy", st.material_of, {spec.num_particles});
  pl::bench::write_npy_f32(stem + "_actuation.npy", pl::bench::s3_actuation(spec, spec.steps),
                           {std::size_t(spec.steps), std::size_t(spec.groups)});
}

double peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) * 1024.0;  // Linux reports KiB
}

std::unique_ptr<pl::bench::Workload> build_workload(const Options& o, const WorkloadSpec& spec) {
  if (o.particles.empty()) return pl::bench::make_workload(spec, o.seed);
  return pl::bench::make_workload(spec,
                                  pl::bench::load_initial_state(spec, o.particles, spec.workload == "S1" ? 1 : 3));
}

// S3: forward and checkpointed forward+backward, loss and dL/dtheta.
json run_s3(const Options& o, const pl::bench::S3Spec& spec, int threads, std::ostream& out, bool talk) {
  pl::set_cpu_threads(threads);
  pl::bench::InitialState st;
  std::vector<float> theta;
  const int steps = o.steps ? o.steps : spec.steps;
  if (o.particles.empty()) {
    st = pl::bench::s3_initial_state(spec, o.seed);
    theta = pl::bench::s3_actuation(spec, steps);
  } else {
    st = pl::bench::load_initial_state(spec.as_workload(), o.particles, spec.groups);
    const std::string path = o.particles + "/S3_" + spec.size + "_actuation.npy";
    const auto a = pl::bench::read_npy_f32(path);
    if (a.shape.size() != 2 || a.shape[1] != std::size_t(spec.groups) || a.shape[0] < std::size_t(steps))
      throw pl::InputError(path + ": expected shape (>= " + std::to_string(steps) + ", " +
                           std::to_string(spec.groups) + ")");
    theta = a.data;
  }
  const CpuSample c0 = cpu_sample();
  const pl::bench::S3Result r =
      pl::bench::run_s3(spec, st, theta, steps, o.reps, std::size_t(o.checkpoint_mb * double(1 << 20)));
  const json others = others_fraction(c0, cpu_sample());
  const double psteps = double(r.particles) * steps;
  json j = {{"workload", "S3"},
            {"size", spec.size},
            {"dim", spec.dim},
            {"particles", r.particles},
            {"grid_nodes_per_axis", spec.n_grid},
            {"dt", spec.dt},
            {"steps", steps},
            {"threads", threads},
            {"t_forward_s", r.t_forward},
            {"t_forward_backward_s", r.t_forward_backward},
            {"loss", r.loss},
            {"grad_theta", r.grad_theta},
            {"checkpoints", r.report.checkpoints},
            {"peak_checkpoints", r.report.peak_checkpoints},
            {"bytes_per_state", r.report.bytes_per_state},
            {"checkpoint_bytes", r.report.checkpoint_bytes},
            {"tape_bytes_per_particle_step", double(r.report.checkpoint_bytes) / psteps},
            {"recompute_factor", r.report.recompute_factor},
            {"others_cpu_fraction", others}};
  if (talk) {
    char line[512];
    if (r.t_forward.empty()) {
      std::snprintf(line, sizeof line, "S3/%s N=%zu steps=%d thr=%d  loss %.9g (no timing: --reps 0)", spec.size.c_str(),
                    r.particles, steps, threads, r.loss);
    } else {
      const double tf = median_of(r.t_forward), tfb = median_of(r.t_forward_backward);
      std::snprintf(line, sizeof line,
                    "S3/%s N=%zu steps=%d thr=%d  fwd %.3f s  fwd+bwd %.3f s (medians of %d)  overhead %.2fx  "
                    "tape %.2f B/p-step  loss %.9g",
                    spec.size.c_str(), r.particles, steps, threads, tf, tfb, o.reps, tfb / tf,
                    j["tape_bytes_per_particle_step"].get<double>(), r.loss);
    }
    out << line << std::endl;
  }
  return j;
}

int run(const Options& o) {
  const bool json_to_stdout = o.json_path == "-";
  std::ostream& out = json_to_stdout ? std::cerr : std::cout;
  const bool talk = !o.quiet;

  std::vector<WorkloadSpec> specs;
  std::vector<pl::bench::S3Spec> s3specs;
  for (const auto& w : o.workloads)
    for (const auto& s : o.sizes) {
      if (w == "S3") s3specs.push_back(pl::bench::s3_spec(s == "small" ? "2d" : "3d"));
      else specs.push_back(pl::bench::spec_for(w, s));
    }

  if (o.save_only) {
    for (const auto& spec : specs) {
      const auto w = pl::bench::make_workload(spec, o.seed);
      save_particles(o.save_particles, spec, *w);
      if (talk) out << "saved " << spec.label() << " (" << spec.num_particles << " particles) to " << o.save_particles << "\n";
    }
    for (const auto& spec : s3specs) {
      save_s3(o.save_particles, spec, pl::bench::s3_initial_state(spec, o.seed));
      if (talk) out << "saved S3/" << spec.size << " (" << spec.num_particles << " particles) to " << o.save_particles << "\n";
    }
    return 0;
  }

  // Fail before the (long) run when the JSON file cannot be written.
  if (!o.json_path.empty() && !json_to_stdout) write_atomically(o.json_path + ".probe", "");
  if (!o.json_path.empty() && !json_to_stdout) std::filesystem::remove(o.json_path + ".probe");

  json doc;
  doc["schema"] = "pliant-bench/1";
  doc["pliant_version"] = PLIANT_VERSION;
  doc["timestamp_utc"] = utc_now();
  doc["machine"] = machine_description();
  doc["settings"] = {{"reps", o.reps},
                     {"warmup_frames", o.warmup},
                     {"frames_override", o.frames ? json(o.frames) : json(nullptr)},
                     {"seed", o.seed},
                     {"precision", "float32"},
                     {"backend", "cpu"},
                     {"timing", "steady_clock around frames * substeps substeps; setup and warm-up excluded"}};

  const std::size_t hw = std::thread::hardware_concurrency();
  for (int t : o.threads)
    if (hw && std::size_t(t) > hw)
      std::cerr << "pliant_bench: warning: " << t << " threads on a machine with " << hw
                << " logical CPUs: timings will be oversubscribed\n";

  // Memory bandwidth, once per thread count, before the workloads.
  std::map<int, pl::bench::StreamResult> bandwidth;
  json bw = json::array();
  for (int t : o.threads) {
    if (bandwidth.count(t)) continue;
    const CpuSample c0 = cpu_sample();
    const auto r = pl::bench::stream_triad(o.stream_mb << 20, t, o.stream_reps);
    const json others = others_fraction(c0, cpu_sample());
    bandwidth[t] = r;
    bw.push_back({{"threads", t},
                  {"triad_bytes_per_s_best", r.bytes_per_second},
                  {"triad_bytes_per_s_median", r.median_bytes_per_second},
                  {"array_bytes", r.array_bytes},
                  {"arrays", 3},
                  {"element", "float64"},
                  {"timed_passes", r.reps},
                  {"counting", "3 * array_bytes per pass (read b, read c, write a; no write-allocate)"},
                  {"others_cpu_fraction", others}});
    if (talk)
      out << "STREAM triad  threads=" << t << "  " << std::fixed << std::setprecision(2)
          << r.bytes_per_second / 1e9 << " GB/s best (" << r.median_bytes_per_second / 1e9 << " median), 3 x "
          << (r.array_bytes >> 20) << " MiB float64";
    if (talk && others.is_number()) out << "  others " << int(100 * others.get<double>() + 0.5) << "%";
    if (talk) out << "\n";
  }
  doc["bandwidth"] = bw;

  json results = json::array();
  for (const auto& spec : specs) {
    const int frames = o.frames ? o.frames : spec.default_frames;
    const pl::bench::BytesModel bytes = pl::bench::model_bytes(spec);
    for (int t : o.threads) {
      pl::set_cpu_threads(t);
      const auto t_setup0 = std::chrono::steady_clock::now();
      const auto w = build_workload(o, spec);
      const auto t_setup1 = std::chrono::steady_clock::now();
      if (!o.save_particles.empty() && t == o.threads.front()) save_particles(o.save_particles, spec, *w);
      w->step_frames(o.warmup);
      const auto t_warm = std::chrono::steady_clock::now();

      std::vector<double> secs, cpu_secs;
      const CpuSample c0 = cpu_sample();
      for (int r = 0; r < o.reps; ++r) {
        // CPU time of all threads too: on a loaded machine it is the more robust
        // measure of the work done (the peer harness compares both).
        const double ca = process_cpu_seconds();
        const auto a = std::chrono::steady_clock::now();
        w->step_frames(frames);
        const auto b = std::chrono::steady_clock::now();
        secs.push_back(std::chrono::duration<double>(b - a).count());
        cpu_secs.push_back(process_cpu_seconds() - ca);
      }
      const json others = others_fraction(c0, cpu_sample());
      const double psteps = double(spec.num_particles) * double(frames) * spec.substeps_per_frame;
      std::vector<double> tput;
      for (double s : secs) tput.push_back(psteps / s);
      const double tmin = *std::min_element(tput.begin(), tput.end());
      const double tmax = *std::max_element(tput.begin(), tput.end());
      const double tmed = median_of(tput);
      const double bwt = bandwidth[t].bytes_per_second;
      const double roof_med = bytes.total() * tmed / bwt;
      const double roof_max = bytes.total() * tmax / bwt;

      if (talk) {
        char line[512];
        std::snprintf(line, sizeof line,
                      "%s/%-3s N=%-6zu grid=%-5s thr=%d  %d x %2d frames x %d substeps  "
                      "Mp-steps/s min %6.2f median %6.2f max %6.2f | %3.0f B/p-step  BW %5.2f GB/s  roofline %4.1f%%",
                      spec.workload.c_str(), spec.size.c_str(), spec.num_particles, grid_text(spec).c_str(), t,
                      o.reps, frames, spec.substeps_per_frame, tmin / 1e6, tmed / 1e6, tmax / 1e6, bytes.total(),
                      bwt / 1e9, 100.0 * roof_med);
        out << line;
        if (others.is_number()) out << "  others " << int(100 * others.get<double>() + 0.5) << "%";
        out << std::endl;
      }

      results.push_back(
          {{"workload", spec.workload},
           {"size", spec.size},
           {"dim", spec.dim},
           {"particles", spec.num_particles},
           {"grid_nodes_per_axis", spec.n_grid},
           {"grid_nodes", spec.num_nodes()},
           {"dx", spec.dx},
           {"dt", spec.dt},
           {"gravity", spec.gravity},
           {"particle_volume", spec.particle_volume},
           {"substeps_per_frame", spec.substeps_per_frame},
           {"frames_per_rep", frames},
           {"substeps_per_rep", frames * spec.substeps_per_frame},
           {"threads", t},
           {"setup_seconds", std::chrono::duration<double>(t_setup1 - t_setup0).count()},
           {"warmup_frames", o.warmup},
           {"warmup_seconds", std::chrono::duration<double>(t_warm - t_setup1).count()},
           {"rep_seconds", secs},
           {"rep_cpu_seconds", cpu_secs},
           {"particle_steps_per_cpu_s",
            {{"median", psteps / median_of(cpu_secs)},
             {"min", psteps / *std::max_element(cpu_secs.begin(), cpu_secs.end())},
             {"max", psteps / *std::min_element(cpu_secs.begin(), cpu_secs.end())}}},
           {"particle_steps_per_s", {{"min", tmin}, {"median", tmed}, {"max", tmax}}},
           {"bytes_per_particle_step",
            {{"total", bytes.total()},
             {"p2g_read", bytes.p2g_read},
             {"g2p_read", bytes.g2p_read},
             {"g2p_write", bytes.g2p_write},
             {"grid_per_node", bytes.grid_per_node},
             {"grid_amortized", bytes.grid_per_particle}}},
           {"bandwidth_bytes_per_s", bwt},
           {"roofline_fraction", {{"median", roof_med}, {"max", roof_max}}},
           {"others_cpu_fraction", others}});
    }
  }
  for (const auto& spec : s3specs)
    for (int t : o.threads) results.push_back(run_s3(o, spec, t, out, talk));
  doc["results"] = results;
  doc["peak_rss_bytes"] = peak_rss_bytes();
  pl::set_cpu_threads(0);

  if (!o.json_path.empty()) {
    const std::string text = doc.dump(2) + "\n";
    if (json_to_stdout) std::cout << text << std::flush;
    else write_atomically(o.json_path, text);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    return run(o);
  } catch (const pl::InputError& e) {
    std::cerr << "pliant_bench: " << e.what() << "\n";
    return 2;
  } catch (const pl::SimulationError& e) {
    std::cerr << "pliant_bench: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "pliant_bench: " << e.what() << "\n";
    return 1;
  }
}
