#include "engine/optim/target_files.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/core/error.hpp"

namespace pl::optim {

namespace {

std::string read_bytes(const std::string& path, const std::string& context) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(context + ": cannot open '" + path + "' for reading");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

std::uint32_t le32(const std::string& b, std::size_t at) {
  std::uint32_t v = 0;
  for (int k = 3; k >= 0; --k) v = (v << 8) | std::uint8_t(b[at + std::size_t(k)]);
  return v;
}
std::uint16_t le16(const std::string& b, std::size_t at) {
  return std::uint16_t(std::uint8_t(b[at]) | (std::uint8_t(b[at + 1]) << 8));
}

/// The value after 'key': in a NumPy header dict (up to the next ',' at depth 0 or '}').
std::string header_value(const std::string& header, const std::string& key, const std::string& what) {
  const std::size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) throw InputError(what + ": the .npy header lacks '" + key + "'");
  std::size_t i = header.find(':', k);
  if (i == std::string::npos) throw InputError(what + ": malformed .npy header");
  ++i;
  int depth = 0;
  std::string v;
  for (; i < header.size(); ++i) {
    const char c = header[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    v += c;
  }
  const auto a = v.find_first_not_of(" "), b = v.find_last_not_of(" ");
  return a == std::string::npos ? "" : v.substr(a, b - a + 1);
}

}  // namespace

NpyData parse_npy(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw InputError(what + ": not a NumPy .npy array (the file does not start with \\x93NUMPY)");
  const int major = std::uint8_t(bytes[6]);
  std::size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = le16(bytes, 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw InputError(what + ": truncated .npy header");
    header_len = le32(bytes, 8);
    start = 12;
  } else {
    throw InputError(what + ": .npy format version " + std::to_string(major) + " is not supported (1, 2 or 3)");
  }
  if (start + header_len > bytes.size()) throw InputError(what + ": truncated .npy header");
  const std::string header = bytes.substr(start, header_len);
  const std::string descr = header_value(header, "descr", what);
  if (header_value(header, "fortran_order", what) != "False")
    throw InputError(what + ": Fortran-order arrays are not supported; save with numpy.ascontiguousarray");
  const std::string shape_text = header_value(header, "shape", what);
  NpyData out;
  std::size_t count = 1;
  {
    std::string digits;
    for (char c : shape_text + ",") {
      if (c >= '0' && c <= '9') {
        digits += c;
      } else if (c == ',' || c == ')') {
        if (!digits.empty()) {
          out.shape.push_back(std::size_t(std::stoull(digits)));
          count *= out.shape.back();
          digits.clear();
        }
      }
    }
  }
  std::size_t item = 0;
  if (descr == "'<f4'" || descr == "'<i4'") item = 4;
  else if (descr == "'<f8'" || descr == "'<i8'") item = 8;
  else throw InputError(what + ": dtype " + descr + " is not supported (float32, float64, int32 or int64, little endian)");
  const std::size_t data = start + header_len;
  if (bytes.size() < data + count * item)
    throw InputError(what + ": the .npy data is truncated (" + std::to_string(bytes.size() - data) + " bytes for " +
                     std::to_string(count) + " values of " + std::to_string(item) + " bytes)");
  out.values.resize(count);
  const char* p = bytes.data() + data;
  for (std::size_t i = 0; i < count; ++i) {
    if (descr == "'<f4'") {
      float f;
      std::memcpy(&f, p + i * 4, 4);
      out.values[i] = f;
    } else if (descr == "'<f8'") {
      std::memcpy(&out.values[i], p + i * 8, 8);
    } else if (descr == "'<i4'") {
      std::int32_t v;
      std::memcpy(&v, p + i * 4, 4);
      out.values[i] = v;
    } else {
      std::int64_t v;
      std::memcpy(&v, p + i * 8, 8);
      out.values[i] = double(v);
    }
  }
  return out;
}

std::map<std::string, NpyData> read_npz(const std::string& path, const std::string& context,
                                        const std::vector<std::string>& wanted) {
  const std::string b = read_bytes(path, context);
  const std::string what = context + ": '" + path + "'";
  // End of central directory: the last "PK\5\6" within 64 KiB + 22 bytes of the end.
  std::size_t eocd = std::string::npos;
  for (std::size_t i = b.size() >= 22 ? b.size() - 22 : 0; b.size() >= 22; --i) {
    if (le32(b, i) == 0x06054b50) {
      eocd = i;
      break;
    }
    if (i == 0 || b.size() - i > 65557) break;
  }
  if (eocd == std::string::npos) throw InputError(what + ": not a ZIP/.npz archive (no end-of-central-directory record)");
  const std::size_t entries = le16(b, eocd + 10);
  std::size_t at = le32(b, eocd + 16);
  std::map<std::string, NpyData> out;
  for (std::size_t e = 0; e < entries; ++e) {
    if (at + 46 > b.size() || le32(b, at) != 0x02014b50) throw InputError(what + ": corrupt ZIP central directory");
    const int method = le16(b, at + 10);
    const std::uint32_t csize = le32(b, at + 20), usize = le32(b, at + 24);
    const std::size_t nlen = le16(b, at + 28), elen = le16(b, at + 30), clen = le16(b, at + 32);
    const std::size_t local = le32(b, at + 42);
    std::string name = b.substr(at + 46, nlen);
    at += 46 + nlen + elen + clen;
    if (csize == 0xffffffffu || usize == 0xffffffffu) throw InputError(what + ": ZIP64 archives are not supported");
    const std::string key = name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0 ? name.substr(0, name.size() - 4) : name;
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), key) == wanted.end()) continue;
    if (local + 30 > b.size() || le32(b, local) != 0x04034b50) throw InputError(what + ": corrupt ZIP member '" + name + "'");
    const std::size_t data = local + 30 + le16(b, local + 26) + le16(b, local + 28);
    if (data + csize > b.size()) throw InputError(what + ": truncated ZIP member '" + name + "'");
    std::string raw;
    if (method == 0) {
      raw = b.substr(data, csize);
    } else if (method == 8) {
      raw.resize(usize);
      z_stream z{};
      if (inflateInit2(&z, -15) != Z_OK) throw InputError(what + ": zlib inflateInit2 failed");
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(b.data() + data));
      z.avail_in = csize;
      z.next_out = reinterpret_cast<Bytef*>(raw.data());
      z.avail_out = usize;
      const int rc = inflate(&z, Z_FINISH);
      inflateEnd(&z);
      if (rc != Z_STREAM_END || z.total_out != usize) throw InputError(what + ": cannot inflate ZIP member '" + name + "'");
    } else {
      throw InputError(what + ": ZIP member '" + name + "' uses compression method " + std::to_string(method) +
                       " (only stored and deflate are read)");
    }
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    out[name] = parse_npy(raw, what + " member '" + name + "'");
  }
  return out;
}

namespace {

std::vector<double> read_ply_points(const std::string& path, int dim, const std::string& what) {
  const std::string b = read_bytes(path, what);
  const std::size_t end = b.find("end_header");
  if (b.compare(0, 3, "ply") != 0 || end == std::string::npos) throw InputError(what + ": not a PLY file");
  std::size_t data = b.find('\n', end);
  if (data == std::string::npos) throw InputError(what + ": truncated PLY header");
  ++data;
  std::istringstream header(b.substr(0, end));
  std::string line, format;
  struct Prop {
    std::string name, type;
  };
  std::vector<Prop> vertex_props;
  std::size_t vertices = 0;
  bool in_vertex = false, seen_vertex = false;
  while (std::getline(header, line)) {
    std::istringstream ls(line);
    std::string word;
    ls >> word;
    if (word == "format") {
      ls >> format;
    } else if (word == "element") {
      std::string name;
      ls >> name;
      in_vertex = name == "vertex";
      if (in_vertex) ls >> vertices, seen_vertex = true;
      else if (!seen_vertex) throw InputError(what + ": the PLY's first element must be 'vertex'");
    } else if (word == "property" && in_vertex) {
      Prop p;
      ls >> p.type;
      if (p.type == "list") throw InputError(what + ": list properties on vertices are not supported");
      ls >> p.name;
      vertex_props.push_back(p);
    }
  }
  if (format != "ascii" && format != "binary_little_endian")
    throw InputError(what + ": PLY format '" + format + "' is not supported (ascii or binary_little_endian)");
  int axis_prop[3] = {-1, -1, -1};
  const char* axis_name[3] = {"x", "y", "z"};
  for (int a = 0; a < dim; ++a) {
    for (std::size_t k = 0; k < vertex_props.size(); ++k)
      if (vertex_props[k].name == axis_name[a]) axis_prop[a] = int(k);
    if (axis_prop[a] < 0) throw InputError(what + ": the PLY vertices lack property '" + axis_name[a] + "'");
  }
  const auto size_of = [&](const std::string& t) -> std::size_t {
    if (t == "char" || t == "uchar" || t == "int8" || t == "uint8") return 1;
    if (t == "short" || t == "ushort" || t == "int16" || t == "uint16") return 2;
    if (t == "int" || t == "uint" || t == "int32" || t == "uint32" || t == "float" || t == "float32") return 4;
    if (t == "double" || t == "float64") return 8;
    throw InputError(what + ": unknown PLY property type '" + t + "'");
  };
  std::vector<double> out(vertices * std::size_t(dim));
  if (format == "ascii") {
    std::istringstream in(b.substr(data));
    std::vector<double> row(vertex_props.size());
    for (std::size_t v = 0; v < vertices; ++v) {
      for (auto& x : row)
        if (!(in >> x)) throw InputError(what + ": the PLY has fewer than " + std::to_string(vertices) + " vertices");
      for (int a = 0; a < dim; ++a) out[v * std::size_t(dim) + std::size_t(a)] = row[std::size_t(axis_prop[a])];
    }
  } else {
    std::size_t stride = 0;
    std::vector<std::size_t> offset;
    for (const auto& p : vertex_props) offset.push_back(stride), stride += size_of(p.type);
    if (data + vertices * stride > b.size()) throw InputError(what + ": the PLY vertex data is truncated");
    for (std::size_t v = 0; v < vertices; ++v)
      for (int a = 0; a < dim; ++a) {
        const Prop& p = vertex_props[std::size_t(axis_prop[a])];
        const char* src = b.data() + data + v * stride + offset[std::size_t(axis_prop[a])];
        double x = 0;
        if (p.type == "float" || p.type == "float32") {
          float f;
          std::memcpy(&f, src, 4);
          x = f;
        } else if (p.type == "double" || p.type == "float64") {
          std::memcpy(&x, src, 8);
        } else {
          throw InputError(what + ": PLY coordinates must be float or double, '" + p.name + "' is " + p.type);
        }
        out[v * std::size_t(dim) + std::size_t(a)] = x;
      }
  }
  return out;
}

}  // namespace

std::vector<double> read_point_cloud(const std::string& path, int dim, const std::string& context) {
  const std::string what = context + ": '" + path + "'";
  std::vector<double> pts;
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".ply") == 0) {
    pts = read_ply_points(path, dim, what);
  } else {
    const NpyData a = parse_npy(read_bytes(path, context), what);
    if (a.shape.size() != 2 || (a.shape[1] != std::size_t(dim) && a.shape[1] != 3))
      throw InputError(what + ": expected an array of shape (N, " + std::to_string(dim) + ") of target points");
    const std::size_t n = a.shape[0], cols = a.shape[1];
    for (std::size_t i = 0; i < n; ++i)
      for (int k = 0; k < dim; ++k) pts.push_back(a.values[i * cols + std::size_t(k)]);
  }
  if (pts.empty()) throw InputError(what + ": the target point cloud is empty");
  for (double v : pts)
    if (!std::isfinite(v)) throw InputError(what + ": the target point cloud holds a non-finite coordinate");
  return pts;
}

ObservedTrajectory read_trajectory(const std::string& path, int dim, const std::string& context) {
  const std::string what = context + ": '" + path + "'";
  const auto arrays = read_npz(path, context, {"positions", "frame"});
  const auto pos = arrays.find("positions"), fr = arrays.find("frame");
  if (pos == arrays.end() || fr == arrays.end())
    throw InputError(what + ": expected the arrays 'positions' and 'frame' of a `pliant run` trajectory.npz");
  const auto& s = pos->second.shape;
  if (s.size() != 3 || s[2] != std::size_t(dim) || fr->second.values.size() != s[0])
    throw InputError(what + ": 'positions' must have shape (frames, particles, " + std::to_string(dim) +
                     ") with one 'frame' number per frame");
  ObservedTrajectory t;
  t.particles = s[1];
  const std::size_t per = s[1] * s[2];
  for (std::size_t f = 0; f < s[0]; ++f) {
    t.frames.push_back(int(fr->second.values[f]));
    t.positions.emplace_back(pos->second.values.begin() + long(f * per), pos->second.values.begin() + long((f + 1) * per));
  }
  return t;
}

}  // namespace pl::optim
