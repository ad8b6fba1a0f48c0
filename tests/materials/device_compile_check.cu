// Device-code instantiation of every model in AllModels (float and double,
// D = 2 and 3), through visit_model as the MPM kernels use it.  Compiled (not
// run) by the MaterialsDevice.AllModelsCompileUnderNvcc test in
// test_device_compile.cpp, or by hand:
//   nvcc -std=c++17 -arch=sm_90 -Werror all-warnings -I<repo> -c
//   tests/materials/device_compile_check.cu -o /tmp/m.o
// A model that uses something host-only in a PL_HD body (std::string, a
// non-constexpr global) fails here (nvcc only warns, hence -Werror).
#include "materials/model_list.hpp"

namespace {

template <class Real, int D>
__global__ void all_models_kernel(const Real* p, int id, pl::Mat<Real, D>* F, Real* s, Real dt) {
  pl::materials::visit_model(id, [&](auto m) {
    using M = decltype(m);
    s[0] = M::template initial_plastic_state<Real>(p);
    s[1] = M::template energy_density<Real, D>(p, F[0], s[0]);
    F[1] = M::template first_piola<Real, D>(p, F[0], s[0]);
    M::template project<Real, D>(p, F[0], s[0], dt);
    F[2] = M::template viscous_kirchhoff<Real, D>(p, F[0], F[1]);
  });
}

template __global__ void all_models_kernel<float, 2>(const float*, int, pl::Mat<float, 2>*, float*,
                                                     float);
template __global__ void all_models_kernel<float, 3>(const float*, int, pl::Mat<float, 3>*, float*,
                                                     float);
template __global__ void all_models_kernel<double, 2>(const double*, int, pl::Mat<double, 2>*,
                                                      double*, double);
template __global__ void all_models_kernel<double, 3>(const double*, int, pl::Mat<double, 3>*,
                                                      double*, double);

}  // namespace
