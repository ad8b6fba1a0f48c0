// Seeding MPM bodies with particles: boxes, spheres (disks in 2D), cylinders
// and closed triangle meshes, in 2D and 3D.
//
// Why grid-aligned cells: particles are seeded per MPM grid cell (cells are
// [i*dx, (i+1)*dx) along every axis, counted from the world origin), so every
// cell fully inside a body gets the same particle count.  That keeps the mass
// per cell even, which is what MPM's transfers assume; seeding on a lattice
// attached to the shape instead gives beat patterns where its spacing drifts
// against the grid.
//
// How points are placed in a cell: if particles_per_cell = n^D for an integer
// n, the cell is split into n^D sub-cells and each gets one uniformly jittered
// point (stratified sampling: no clumps, no lattice artefacts).  Otherwise the
// cell gets particles_per_cell independent uniform points.  Candidates are made
// for every cell overlapping the shape's bounding box and kept when inside the
// shape (closed surface: points on it count as inside).
//
// Determinism: one std::mt19937_64 stream seeded with `seed` (its output is
// fixed by the C++ standard), bits turned into doubles here (53 high bits times
// 2^-53) instead of std::uniform_real_distribution, whose output differs
// between standard libraries.  Cells are visited in a fixed order (axis 0
// slowest), every cell draws the same number of values whether or not its
// points are kept, and the parallel inside tests only fill a mask.  So the
// positions are identical for a given seed and settings on every platform and
// thread count (up to points within rounding of the shape's surface, whose
// inside test may go either way).
//
// Per-particle volume is dx^D / particles_per_cell (particle_volume()), so the
// particle count times the particle volume approximates the shape's volume.
//
// Example:
//   pl::SamplingSettings s;
//   s.dx = 0.01;                  // meters, the MPM grid spacing
//   s.particles_per_cell = 8;     // 2^3: stratified in 3D
//   s.seed = 42;
//   auto x = pl::sample_sphere<3>({0.5, 0.5, 0.5}, 0.1, s, "scene.yaml: bodies[0]");
//   double vp = pl::particle_volume(s, 3);
//
// Errors a user can cause (bad dx, negative radius, NaN corners, a cylinder or
// mesh in 2D, an open mesh) throw pl::InputError whose message starts with
// `context` (e.g. "scene.yaml: bodies[2]") and names the parameter.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/geometry/triangle_mesh.hpp"

namespace pl {

struct SamplingSettings {
  double dx = 0.0;             // MPM grid cell size in meters; must be > 0 (no sensible default)
  int particles_per_cell = 8;  // >= 1; a perfect D-th power gives stratified sampling
  std::uint64_t seed = 0;      // same seed, same settings, same shape -> same points
};

/// "" when valid; otherwise which field is wrong and what was expected.
std::string validate(const SamplingSettings& settings);

/// dx^dim / particles_per_cell: the volume (area in 2D) each particle carries.
/// dim must be 2 or 3.  Throws InputError for invalid settings.
double particle_volume(const SamplingSettings& settings, int dim);

/// n when particles_per_cell == n^dim (stratified sampling), else 0.
int stratified_subdivisions(int particles_per_cell, int dim);

/// Largest number of candidate points (cells overlapping the bounding box
/// times particles_per_cell) a sampler accepts before throwing InputError:
/// beyond it dx is almost certainly wrong (wrong units) for the shape's size.
constexpr std::int64_t kMaxSamplingCandidates = std::int64_t(1) << 31;

/// Axis-aligned box [lower, upper] (meters).  upper > lower on every axis.
template <int D>
std::vector<std::array<double, D>> sample_box(const std::array<double, D>& lower,
                                              const std::array<double, D>& upper,
                                              const SamplingSettings& settings,
                                              const std::string& context = "");

/// Ball |x - center| <= radius (a disk in 2D).  radius > 0.
template <int D>
std::vector<std::array<double, D>> sample_sphere(const std::array<double, D>& center, double radius,
                                                 const SamplingSettings& settings,
                                                 const std::string& context = "");

/// Solid circular cylinder (3D only): `center` is the middle of its axis, which
/// is parallel to world axis `axis` (0 = x, 1 = y, 2 = z); `height` is its full
/// length.  radius > 0, height > 0.  For D = 2 throws InputError suggesting a
/// box or a sphere (disk).
template <int D>
std::vector<std::array<double, D>> sample_cylinder(const std::array<double, D>& center, double radius,
                                                   double height, int axis,
                                                   const SamplingSettings& settings,
                                                   const std::string& context = "");

/// Interior of a closed, outward-oriented triangle mesh (3D only), already in
/// world coordinates (see transform_mesh).  The mesh is checked with
/// validate_closed_manifold (errors name `context`, or "mesh"); inside means
/// generalized winding number > 1/2 (engine/geometry/winding_number.hpp).
/// Only cells the surface touches (exact triangle-box test) test every point;
/// any other cell lies wholly inside or outside, so it takes the class of its
/// untouched neighbour along the row, or of its centre.  Exact for closed
/// meshes, and it skips most of the work.
/// For D = 2 throws InputError suggesting a box or a sphere (disk).
template <int D>
std::vector<std::array<double, D>> sample_mesh(const TriangleMesh& mesh, const SamplingSettings& settings,
                                               const std::string& context = "");

// The samplers are defined and explicitly instantiated for D = 2 and 3 in sampling.cpp.

}  // namespace pl
