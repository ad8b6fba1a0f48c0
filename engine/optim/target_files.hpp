// Reading optimization targets: point clouds (.npy, .ply) and observed
// trajectories (.npz written by `pliant run` with output.format: npz).
//
// Formats:
//  - .npy: NumPy format 1.0/2.0 (NEP 1): magic "\x93NUMPY", version, header
//    length, a Python-dict header {'descr', 'fortran_order', 'shape'}, then
//    C-order data.  Read: '<f4', '<f8', '<i4', '<i8' of any shape.
//  - .npz: a ZIP archive of .npy members (PKWARE APPNOTE 6.3: the central
//    directory at the end locates each member; stored or deflate, no ZIP64).
//  - .ply: ascii or binary_little_endian, the x, y (, z) properties of the
//    `vertex` element (other properties and elements are skipped).
// Every problem is an InputError that starts with `context` (the scene key)
// and names the file.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace pl::optim {

struct NpyData {
  std::vector<std::size_t> shape;
  std::vector<double> values;  // converted to double, C order
};

/// Parses one .npy file's bytes; `what` names it in messages.
NpyData parse_npy(const std::string& bytes, const std::string& what);
/// The members of an .npz archive named in `wanted` (all when empty), by name
/// without ".npy"; members not asked for are not decoded (they may have types
/// this reader does not know, e.g. the strings of a trajectory.npz).
std::map<std::string, NpyData> read_npz(const std::string& path, const std::string& context,
                                        const std::vector<std::string>& wanted = {});

/// A point cloud as N x dim (flattened), from .npy (shape (N, dim) or (N, 3)
/// with a zero third column in 2D) or .ply.
std::vector<double> read_point_cloud(const std::string& path, int dim, const std::string& context);

/// An observed trajectory: positions[frame index][particle * dim + axis].
struct ObservedTrajectory {
  std::vector<int> frames;                    // the scene frame of each record
  std::vector<std::vector<double>> positions;
  std::size_t particles = 0;
};
ObservedTrajectory read_trajectory(const std::string& path, int dim, const std::string& context);

}  // namespace pl::optim
