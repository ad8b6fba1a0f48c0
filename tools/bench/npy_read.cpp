#include "tools/bench/npy_read.hpp"

#include <climits>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "engine/core/error.hpp"

namespace pl::bench {
namespace {

struct Header {
  std::string descr;
  std::vector<std::size_t> shape;
  std::size_t count = 1;
};

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (N, 3), }
// (numpy.lib.format).  Only the three keys numpy writes are read.
std::string dict_value(const std::string& dict, const std::string& key, const std::string& path) {
  const auto k = dict.find("'" + key + "'");
  if (k == std::string::npos) throw InputError(path + ": .npy header has no '" + key + "' key");
  const auto colon = dict.find(':', k);
  if (colon == std::string::npos) throw InputError(path + ": malformed .npy header");
  return dict.substr(colon + 1);
}

Header read_header(std::ifstream& in, const std::string& path) {
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw InputError(path + ": not a .npy file (bad magic)");
  std::size_t len = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char*>(b), 2)) throw InputError(path + ": truncated .npy header");
    len = std::size_t(b[0]) | (std::size_t(b[1]) << 8);
  } else if (magic[6] == 2 || magic[6] == 3) {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char*>(b), 4)) throw InputError(path + ": truncated .npy header");
    len = std::size_t(b[0]) | (std::size_t(b[1]) << 8) | (std::size_t(b[2]) << 16) | (std::size_t(b[3]) << 24);
  } else {
    throw InputError(path + ": unsupported .npy version " + std::to_string(int(magic[6])));
  }
  if (len > (1u << 20)) throw InputError(path + ": .npy header too long");
  std::string dict(len, '\0');
  if (!in.read(dict.data(), std::streamsize(len))) throw InputError(path + ": truncated .npy header");

  Header h;
  std::string d = dict_value(dict, "descr", path);
  const auto q0 = d.find('\''), q1 = d.find('\'', q0 + 1);
  if (q0 == std::string::npos || q1 == std::string::npos) throw InputError(path + ": malformed 'descr'");
  h.descr = d.substr(q0 + 1, q1 - q0 - 1);
  const std::string fo = dict_value(dict, "fortran_order", path);
  if (fo.find("True") < fo.find(',')) throw InputError(path + ": Fortran-ordered arrays are not supported, expected C order");
  std::string s = dict_value(dict, "shape", path);
  const auto p0 = s.find('('), p1 = s.find(')');
  if (p0 == std::string::npos || p1 == std::string::npos) throw InputError(path + ": malformed 'shape'");
  std::string dims = s.substr(p0 + 1, p1 - p0 - 1);
  std::size_t pos = 0;
  while (pos < dims.size()) {
    while (pos < dims.size() && (dims[pos] == ' ' || dims[pos] == ',')) ++pos;
    if (pos >= dims.size()) break;
    std::size_t used = 0;
    const unsigned long long v = std::stoull(dims.substr(pos), &used);
    h.shape.push_back(std::size_t(v));
    h.count *= std::size_t(v);
    pos += used;
  }
  return h;
}

template <class T>
NpyArray<T> read_body(std::ifstream& in, const Header& h, const std::string& path) {
  NpyArray<T> a;
  a.shape = h.shape;
  a.data.resize(h.count);
  if (!in.read(reinterpret_cast<char*>(a.data.data()), std::streamsize(h.count * sizeof(T))))
    throw InputError(path + ": truncated .npy data (expected " + std::to_string(h.count) + " elements)");
  return a;
}

std::ifstream open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot open '" + path + "' for reading");
  return in;
}

}  // namespace

NpyArray<float> read_npy_f32(const std::string& path) {
  std::ifstream in = open(path);
  const Header h = read_header(in, path);
  if (h.descr != "<f4") throw InputError(path + ": expected float32 ('<f4') data, got '" + h.descr + "'");
  return read_body<float>(in, h, path);
}

NpyArray<int> read_npy_i32(const std::string& path) {
  std::ifstream in = open(path);
  const Header h = read_header(in, path);
  if (h.descr == "<i4") return read_body<int>(in, h, path);
  if (h.descr == "<i8") {
    const NpyArray<std::int64_t> wide = read_body<std::int64_t>(in, h, path);
    NpyArray<int> a;
    a.shape = wide.shape;
    a.data.reserve(wide.data.size());
    for (std::int64_t v : wide.data) {
      if (v < INT_MIN || v > INT_MAX) throw InputError(path + ": int64 value " + std::to_string(v) + " does not fit int32");
      a.data.push_back(int(v));
    }
    return a;
  }
  throw InputError(path + ": expected int32 ('<i4') or int64 ('<i8') data, got '" + h.descr + "'");
}

}  // namespace pl::bench
