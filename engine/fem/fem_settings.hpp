// Settings of a FemWorld: time step, integrator, gravity, Rayleigh damping,
// ground contact, Newton solver.  SI units.
#pragma once

#include <array>
#include <string>

namespace pl::fem {

enum class FemIntegrator {
  kImplicitEuler,   // backward Euler as energy minimization (Newton); stable at large dt
  kSymplecticEuler  // v += dt M^-1 f(x, v); x += dt v; cheap, dt below the CFL limit
};

/// The sparse solve of Newton steps and adjoints (engine/fem/linear_solver.hpp).
enum class FemLinearSolver {
  kDirectLdlt,        // Eigen SimplicialLDLT (CPU)
  kConjugateGradient  // Jacobi-preconditioned CG on the kernel layer (the CUDA build's solve)
};

struct FemGroundSettings {
  bool enabled = false;
  std::array<double, 3> normal{0, 0, 1};  // out of the ground (normalized on use)
  double offset = 0;                      // plane: normal . x = offset [m]
  double stiffness = 1e5;                 // k [1/s^2] per unit vertex mass (kernels/fem/tet_ground_contact.hpp)
  double delta = 1e-3;                    // penetration [m] at which the stiffness reaches 2 m k
  double friction = 0.5;                  // Coulomb coefficient mu
  double slip_speed = 1e-3;               // [m/s] tangential speed below which contact sticks (smoothing)
};

struct FemSettings {
  double dt = 1e-3;  // [s]
  FemIntegrator integrator = FemIntegrator::kImplicitEuler;
  std::array<double, 3> gravity{0, 0, -9.81};  // [m/s^2]
  // Rayleigh damping force -(alpha M + beta K0) v; K0 = rest stiffness of the
  // energy terms that provide one (energy_term.hpp): linear in v, so it is
  // exact for small vibrations about rest; it also damps large rigid rotations
  // a little, since K0 is not rotated with the body (documented in docs/fem.md).
  double damping_mass = 0;       // alpha [1/s]
  double damping_stiffness = 0;  // beta [s]
  FemGroundSettings ground;
  // Newton (implicit Euler and static solves): stop when the infinity norm of
  // the Newton step is below newton_tolerance * (size of the rest bounding box).
  int newton_max_iterations = 50;
  double newton_tolerance = 1e-9;
  int line_search_max_halvings = 40;
  FemLinearSolver linear_solver = FemLinearSolver::kDirectLdlt;
  double cg_tolerance = 1e-12;  // relative residual (float runs need ~1e-6)
  int cg_max_iterations = 10000;
};

/// "" when valid, else a message naming the setting and the expected range.
std::string validate(const FemSettings& s);

}  // namespace pl::fem
