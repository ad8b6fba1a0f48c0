// The list of constitutive models, and compile-time dispatch over it.
//
// ADDING A MODEL = one new header in materials/ (a struct deriving ModelDefaults,
// see model_base.hpp) + one entry at the END of AllModels below.  Nothing else:
// the registry (registry.cpp) iterates AllModels to map scene-file names to
// models, the engine dispatches on model_id through visit_model, and the typed
// tests in tests/materials/ run every model in AllModels.  Append rather than
// insert, so that existing model ids (which may be stored in outputs) keep
// their meaning.
//
// Dispatch is a chain of `if (id == I)` over the list, expanded at compile time:
// no virtual calls and no function pointers, so it works in CUDA kernels.
#pragma once

#include <type_traits>
#include <utility>

#include "materials/drucker_prager.hpp"
#include "materials/fixed_corotated.hpp"
#include "materials/herschel_bulkley.hpp"
#include "materials/snow.hpp"
#include "materials/stable_neo_hookean.hpp"
#include "materials/stvk_hencky.hpp"
#include "materials/von_mises.hpp"
#include "materials/weakly_compressible_fluid.hpp"

namespace pl::materials {

template <class... Ms>
struct ModelList {
  static constexpr int kSize = sizeof...(Ms);
};

using AllModels = ModelList<FixedCorotated, StableNeoHookean, StvkHencky, VonMises, DruckerPrager,
                            Snow, WeaklyCompressibleFluid, HerschelBulkley>;
constexpr int kNumModels = AllModels::kSize;

namespace model_list_detail {

template <int I, class List>
struct At;
template <int I, class M, class... Ms>
struct At<I, ModelList<M, Ms...>> {
  using type = typename At<I - 1, ModelList<Ms...>>::type;
};
template <class M, class... Ms>
struct At<0, ModelList<M, Ms...>> {
  using type = M;
};

template <class M, class List>
struct IndexOf;
template <class M>
struct IndexOf<M, ModelList<>> {
  static constexpr int value = -1;
};
template <class M, class First, class... Rest>
struct IndexOf<M, ModelList<First, Rest...>> {
  static constexpr int next = IndexOf<M, ModelList<Rest...>>::value;
  static constexpr int value = std::is_same<M, First>::value ? 0 : (next < 0 ? -1 : next + 1);
};

#if defined(__CUDACC__)
#pragma nv_exec_check_disable
#endif
template <int I, class F>
PL_HD PL_INLINE void visit_from(int id, F& f) {
  if constexpr (I < kNumModels) {
    if (id == I) {
      f(typename At<I, AllModels>::type{});
    } else {
      visit_from<I + 1>(id, f);
    }
  }
}

template <class F, int... Is>
void for_each_impl(F& f, std::integer_sequence<int, Is...>) {
  (f(typename At<Is, AllModels>::type{}), ...);
}

}  // namespace model_list_detail

/// The model type at index I of AllModels.
template <int I>
using ModelAt = typename model_list_detail::At<I, AllModels>::type;

/// Index of M in AllModels (compile error if M is not in the list).
template <class M>
PL_HD constexpr int model_id() {
  constexpr int id = model_list_detail::IndexOf<M, AllModels>::value;
  static_assert(id >= 0, "model_id<M>(): M is not in AllModels (materials/model_list.hpp)");
  return id;
}

/// Calls f(M{}) for the model whose index is id (no-op if id is out of range).
/// Host and device; f is typically a generic lambda `[&](auto m) { using M = decltype(m); ... }`.
#if defined(__CUDACC__)
#pragma nv_exec_check_disable
#endif
template <class F>
PL_HD PL_INLINE void visit_model(int id, F&& f) {
  model_list_detail::visit_from<0>(id, f);
}

/// Host only: calls f(M{}) for each model, in AllModels order.
template <class F>
void for_each_model(F&& f) {
  model_list_detail::for_each_impl(f, std::make_integer_sequence<int, kNumModels>{});
}

}  // namespace pl::materials
