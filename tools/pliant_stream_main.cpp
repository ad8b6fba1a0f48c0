// pliant_stream: STREAM-triad memory bandwidth of this machine (McCalpin's
// counting: 3 x array bytes per pass), the denominator of the roofline fraction
// reported by the peer harness (tools/peers/run_peers.py).
//
//   pliant_stream --threads 1,2 --mb 64 --reps 10 [--json FILE]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tools/bench/workloads.hpp"

namespace {

[[noreturn]] void usage(const std::string& error) {
  if (!error.empty()) std::cerr << "pliant_stream: " << error << "\n";
  (error.empty() ? std::cout : std::cerr)
      << "usage: pliant_stream [--threads LIST] [--mb MiB] [--reps N] [--json FILE]\n"
         "  --threads LIST  comma-separated thread counts (default 1,2)\n"
         "  --mb MiB        size of each of the three float64 arrays (default 64)\n"
         "  --reps N        timed passes after one untimed pass; the best counts (default 10)\n";
  std::exit(error.empty() ? 0 : 2);
}

int positive(const std::string& flag, const std::string& v) {
  std::size_t used = 0;
  int x = 0;
  try {
    x = std::stoi(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || x < 1) usage(flag + " expects a positive integer, got '" + v + "'");
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads{1, 2};
  int mb = 64, reps = 10;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") usage("");
    else if (a == "--threads") {
      threads.clear();
      std::istringstream is(value());
      for (std::string t; std::getline(is, t, ',');) threads.push_back(positive("--threads", t));
      if (threads.empty()) usage("--threads expects a list such as 1,2");
    } else if (a == "--mb") mb = positive(a, value());
    else if (a == "--reps") reps = positive(a, value());
    else if (a == "--json") json_path = value();
    else usage("unknown option '" + a + "'");
  }
  nlohmann::json results = nlohmann::json::array();
  for (int t : threads) {
    const auto r = pl::bench::stream_triad(std::size_t(mb) << 20, t, reps);
    std::printf("STREAM triad threads=%d  %.2f GB/s best, %.2f GB/s median (3 x %d MiB float64, %d passes)\n", t,
                r.bytes_per_second / 1e9, r.median_bytes_per_second / 1e9, mb, reps);
    results.push_back({{"threads", t},
                       {"triad_bytes_per_s_best", r.bytes_per_second},
                       {"triad_bytes_per_s_median", r.median_bytes_per_second},
                       {"array_bytes", r.array_bytes},
                       {"timed_passes", r.reps}});
  }
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << nlohmann::json{{"stream_triad", results}}.dump(2) << "\n";
    if (!out) {
      std::cerr << "pliant_stream: cannot write '" << json_path << "'\n";
      return 2;
    }
  }
  return 0;
}
