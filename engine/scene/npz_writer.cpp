#include "engine/scene/npz_writer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "engine/scene/zip_writer.hpp"

namespace pl::scene {

namespace {

std::size_t item_size(const std::string& descr) {
  // "<f4", "<i4", "<f8": the size is the number after the kind; "<U n": n UTF-32 code units.
  if (descr.size() < 3) throw std::logic_error("npy: bad descr '" + descr + "'");
  const std::size_t n = std::stoul(descr.substr(2));
  return descr[1] == 'U' ? 4 * n : n;
}

template <class T>
std::string raw_bytes(const std::vector<T>& values) {
  // The project targets little-endian hosts (x86-64, aarch64, CUDA), so the
  // in-memory bytes are the '<' layout; frame_output's PLY writer makes the same choice.
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

}  // namespace

std::string encode_npy(const NpyArray& a) {
  std::size_t count = 1;
  for (std::size_t n : a.shape) count *= n;
  if (count * item_size(a.descr) != a.data.size())
    throw std::logic_error("npy: array '" + a.name + "' has " + std::to_string(a.data.size()) +
                           " bytes, its shape and type need " + std::to_string(count * item_size(a.descr)));
  std::string shape = "(";
  for (std::size_t i = 0; i < a.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape[i]);
  if (a.shape.size() == 1) shape += ",";  // a Python 1-tuple
  shape += ")";
  std::string header = "{'descr': '" + a.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t preamble = 10;  // magic (6) + version (2) + header length (2)
  const std::size_t total = preamble + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 0xffff) throw std::logic_error("npy: header too long for format 1.0");
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(char(header.size() & 0xffu));
  out.push_back(char(header.size() >> 8));
  out += header;
  out += a.data;
  return out;
}

std::string encode_npz(const std::vector<NpyArray>& arrays) {
  ZipWriter zip;
  for (const auto& a : arrays) zip.add(a.name + ".npy", encode_npy(a));
  return zip.finish();
}

NpyArray npy_float32(const std::string& name, std::vector<std::size_t> shape, const std::vector<float>& values) {
  return {name, "<f4", std::move(shape), raw_bytes(values)};
}
NpyArray npy_float64(const std::string& name, std::vector<std::size_t> shape, const std::vector<double>& values) {
  return {name, "<f8", std::move(shape), raw_bytes(values)};
}
NpyArray npy_int32(const std::string& name, std::vector<std::size_t> shape, const std::vector<int>& values) {
  static_assert(sizeof(int) == 4, "npy_int32 assumes a 32-bit int");
  return {name, "<i4", std::move(shape), raw_bytes(values)};
}

NpyArray npy_strings(const std::string& name, const std::vector<std::string>& values) {
  std::size_t longest = 1;  // NumPy has no '<U0' for arrays of empty strings
  for (const auto& v : values) longest = std::max(longest, v.size());
  std::vector<std::uint32_t> units(values.size() * longest, 0);
  for (std::size_t i = 0; i < values.size(); ++i)
    for (std::size_t c = 0; c < values[i].size(); ++c) units[i * longest + c] = static_cast<unsigned char>(values[i][c]);
  return {name, "<U" + std::to_string(longest), {values.size()}, raw_bytes(units)};
}

}  // namespace pl::scene
