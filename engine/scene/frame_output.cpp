#include "engine/scene/frame_output.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/core/error.hpp"

namespace pl::scene {

namespace fs = std::filesystem;

void write_file_atomic(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw SimulationError(tmp + ": cannot create output file: " + std::strerror(errno));
    out.write(data.data(), std::streamsize(data.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw SimulationError(tmp + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw SimulationError(path + ": cannot move the finished file into place: " + ec.message());
  }
}

std::string frame_file_name(int frame) {
  char name[32];
  std::snprintf(name, sizeof(name), "frame_%05d.ply", frame);
  return name;
}

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xffu));
}
void put_float(std::string& out, float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  put_u32(out, bits);
}
void put_int(std::string& out, int i) { put_u32(out, std::uint32_t(i)); }

}  // namespace

template <class Real, int D>
std::string encode_ply(const ParticleSet<Real, D>& p, const std::vector<std::string>& comments) {
  std::string out = "ply\nformat binary_little_endian 1.0\n";
  for (const auto& c : comments) out += "comment " + c + "\n";
  out += "element vertex " + std::to_string(p.size()) + "\n";
  out +=
      "property float x\nproperty float y\nproperty float z\n"
      "property float vx\nproperty float vy\nproperty float vz\n"
      "property int material\nproperty int body\nend_header\n";
  out.reserve(out.size() + p.size() * 32);
  for (std::size_t i = 0; i < p.size(); ++i) {
    for (int a = 0; a < 3; ++a) put_float(out, a < D ? float(p.x[i][a]) : 0.0f);
    for (int a = 0; a < 3; ++a) put_float(out, a < D ? float(p.v[i][a]) : 0.0f);
    put_int(out, p.material[i]);
    put_int(out, p.body[i]);
  }
  return out;
}

template std::string encode_ply(const ParticleSet<float, 2>&, const std::vector<std::string>&);
template std::string encode_ply(const ParticleSet<float, 3>&, const std::vector<std::string>&);
template std::string encode_ply(const ParticleSet<double, 2>&, const std::vector<std::string>&);
template std::string encode_ply(const ParticleSet<double, 3>&, const std::vector<std::string>&);

}  // namespace pl::scene
