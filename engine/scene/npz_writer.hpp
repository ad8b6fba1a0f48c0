// NumPy arrays on disk: .npy encoding and .npz archives (a ZIP of .npy files).
//
// .npy (NumPy, "numpy.lib.format" / NEP 1, format version 1.0): the magic
// "\x93NUMPY", the version bytes 1, 0, a little-endian uint16 header length,
// and an ASCII header that is a Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 100, 2), }
// padded with spaces and ended by '\n' so that the data starts at a multiple
// of 64 bytes; then the raw C-order data.
//
// An .npz is a ZIP archive whose members are "<name>.npy" (numpy.savez_compressed
// uses deflate, as here); numpy.load(path) returns a mapping name -> array.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace pl::scene {

struct NpyArray {
  std::string name;                 // the key numpy.load shows (".npy" is appended in the archive)
  std::string descr;                // NumPy type string: "<f4", "<f8", "<i4", "<U16", ...
  std::vector<std::size_t> shape;   // C order; {} is a 0-d scalar
  std::string data;                 // raw little-endian bytes, product(shape) * itemsize of them
};

/// The .npy file for one array.  Throws std::logic_error when data.size()
/// does not match the shape and type (a programmer error).
std::string encode_npy(const NpyArray& array);

/// The .npz archive holding `arrays` (deflate-compressed).  Throws
/// SimulationError beyond the ZIP limits (zip_writer.hpp).
std::string encode_npz(const std::vector<NpyArray>& arrays);

/// Helpers that lay out host values as NumPy data.
NpyArray npy_float32(const std::string& name, std::vector<std::size_t> shape, const std::vector<float>& values);
NpyArray npy_float64(const std::string& name, std::vector<std::size_t> shape, const std::vector<double>& values);
NpyArray npy_int32(const std::string& name, std::vector<std::size_t> shape, const std::vector<int>& values);
/// A 1-D array of strings, dtype '<U<longest>' (UTF-32; `values` must be ASCII).
NpyArray npy_strings(const std::string& name, const std::vector<std::string>& values);

}  // namespace pl::scene
