// Device-code instantiation of the FEM kernel bodies (tet element for every tet
// model, ground contact and friction, CG vector/matrix bodies), float and
// double.  Compiled (not run) by FemDevice.TetKernelsCompileUnderNvcc in
// test_tet_device_compile.cpp, or by hand:
//   nvcc -std=c++17 -arch=sm_90 -Werror all-warnings -I<repo> -c
//   tests/fem/test_tet_device_compile_check.cu -o /tmp/t.o
#include "kernels/fem/tet_cg_kernels.hpp"
#include "kernels/fem/tet_ground_contact.hpp"
#include "kernels/fem/tet_kernels.hpp"
#include "materials/fixed_corotated.hpp"
#include "materials/stable_neo_hookean.hpp"
#include "materials/stvk_hencky.hpp"

namespace {

template <class M, class Real>
__global__ void tet_kernels(pl::fem::TetView<Real> v, const Real* u, Real* out, std::size_t e) {
  pl::fem::TetEnergyKernel<M, Real>{v, out}(e);
  pl::fem::TetGradientKernel<M, Real>{v, out}(e);
  pl::fem::TetHessianKernel<M, Real>{v, out}(e);
  pl::fem::TetHessianVectorKernel<M, Real>{v, u, out}(e);
  pl::fem::TetParameterVjpKernel<M, Real>{v, u, out}(e);
}

template <class Real>
__global__ void contact_and_cg(pl::fem::GroundPlane<Real> g, pl::Vec<Real, 3>* x, Real* s, pl::fem::CsrView<Real> A,
                               Real* y) {
  s[0] = pl::fem::ground_normal_energy(g, s[1], x[0]);
  x[1] = pl::fem::ground_normal_gradient(g, s[1], x[0]) + pl::fem::friction_gradient(g, s[2], x[2]);
  x[3] = pl::fem::friction_hessian_vector(g, s[2], x[2], x[4]) + pl::fem::ground_normal_force_gradient(g, s[1], x[0]);
  s[3] = pl::fem::friction_energy(g, s[2], x[2]) + pl::fem::ground_normal_curvature(g, s[1], x[0]);
  pl::fem::CsrMultiplyKernel<Real>{A, s, y}(0);
  pl::fem::JacobiKernel<Real>{s, y, s}(0);
  pl::fem::CgUpdateKernel<Real>{s[0], s, y, s, y}(0);
  pl::fem::CgDirectionKernel<Real>{s[0], y, s}(0);
}

template <class Real>
void instantiate_all() {
  tet_kernels<pl::materials::StableNeoHookean, Real><<<1, 1>>>({}, nullptr, nullptr, 0);
  tet_kernels<pl::materials::FixedCorotated, Real><<<1, 1>>>({}, nullptr, nullptr, 0);
  tet_kernels<pl::materials::StvkHencky, Real><<<1, 1>>>({}, nullptr, nullptr, 0);
  contact_and_cg<Real><<<1, 1>>>({}, nullptr, nullptr, {}, nullptr);
}

}  // namespace

void pliant_fem_device_compile_check() {
  instantiate_all<float>();
  instantiate_all<double>();
}
