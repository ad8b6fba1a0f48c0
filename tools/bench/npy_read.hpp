// Minimal NumPy .npy reader (format 1.0/2.0, little-endian, C order) for the
// arrays the peer harness shares between engines (tools/peers/run_peers.py):
// float32 positions and actuation tables, int32 groups.  Any other layout is an
// InputError naming the file and what was expected.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace pl::bench {

template <class T>
struct NpyArray {
  std::vector<std::size_t> shape;
  std::vector<T> data;  // C order
};

/// Reads a '<f4' array.
NpyArray<float> read_npy_f32(const std::string& path);
/// Reads a '<i4' array ('<i8' is accepted too and narrowed, with a range check).
NpyArray<int> read_npy_i32(const std::string& path);

}  // namespace pl::bench
