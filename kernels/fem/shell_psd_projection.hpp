// Projection of a small symmetric matrix onto the positive semi-definite cone,
// for Newton descent directions of shell elements (membrane 6x6 stress
// derivative, hinge 12x12 Hessian).
//
// The nearest PSD matrix in the Frobenius norm keeps the eigenvectors and
// clamps negative eigenvalues to zero (Higham 1988, "Computing a nearest
// symmetric positive semidefinite matrix"; used per element by Teran et al.
// 2005 and by IPC).  Eigenvectors come from the cyclic Jacobi method (Golub &
// Van Loan, "Matrix Computations", sec. 8.5): plain loops, no allocation, no
// library, so the same body runs on host and device.  Jacobi converges
// quadratically; a dozen sweeps bound the work even for clustered spectra.
#pragma once

#include <cmath>
#include <math.h>  // float overloads of sqrt/fabs/isfinite in the global namespace (as kernels/math/vec.hpp)

#include "engine/core/config.hpp"

namespace pl::fem {

/// In place: A <- V max(Λ, 0) Vᵀ for symmetric A = V Λ Vᵀ (N x N, row-major).
/// Returns false (and leaves A unchanged) only if A has non-finite entries.
template <class Real, int N>
PL_HD inline bool project_psd(Real (&A)[N][N]) {
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j)
      if (!isfinite(A[i][j])) return false;
  Real D[N][N];  // rotated towards diagonal
  Real V[N][N];  // accumulated rotations (columns are eigenvectors)
  Real scale = Real(0);
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      D[i][j] = Real(0.5) * (A[i][j] + A[j][i]);
      V[i][j] = (i == j) ? Real(1) : Real(0);
      scale += D[i][j] * D[i][j];
    }
  if (scale == Real(0)) return true;
  // Quick exit: already PSD when diagonally dominant with non-negative diagonal
  // (Gershgorin).  Common for stretched membranes; saves the eigen-solve.
  bool dominant = true;
  for (int i = 0; i < N && dominant; ++i) {
    Real off = Real(0);
    for (int j = 0; j < N; ++j)
      if (j != i) off += fabs(D[i][j]);
    dominant = D[i][i] >= off;
  }
  if (dominant) return true;

  // Stop when the off-diagonal mass is below (1e-6 float, 1e-12 double) of
  // the norm: eigenvalues are then that accurate relative to the largest, and
  // asking for more only burns sweeps against rounding.
  const Real tol = scale * (sizeof(Real) == 4 ? Real(1e-12) : Real(1e-24));
  for (int sweep = 0; sweep < 16; ++sweep) {
    Real off = Real(0);
    for (int p = 0; p < N; ++p)
      for (int q = p + 1; q < N; ++q) off += D[p][q] * D[p][q];
    if (off <= tol) break;
    for (int p = 0; p < N; ++p) {
      for (int q = p + 1; q < N; ++q) {
        const Real apq = D[p][q];
        if (apq == Real(0)) continue;
        // Symmetric Schur decomposition of the (p, q) 2x2 block (Golub & Van Loan alg. 8.5.1).
        const Real tau = (D[q][q] - D[p][p]) / (Real(2) * apq);
        const Real t = (tau >= Real(0) ? Real(1) : Real(-1)) / (fabs(tau) + sqrt(Real(1) + tau * tau));
        const Real c = Real(1) / sqrt(Real(1) + t * t);
        const Real s = t * c;
        // D <- Jᵀ D J touches only rows and columns p and q; the (p, q)
        // entry becomes zero and the diagonal moves by ∓ t a_pq (G&VL 8.5.2).
        for (int k = 0; k < N; ++k) {
          if (k == p || k == q) continue;
          const Real dkp = D[k][p], dkq = D[k][q];
          D[k][p] = D[p][k] = c * dkp - s * dkq;
          D[k][q] = D[q][k] = s * dkp + c * dkq;
        }
        D[p][p] -= t * apq;
        D[q][q] += t * apq;
        D[p][q] = D[q][p] = Real(0);
        for (int k = 0; k < N; ++k) {  // V <- V J
          const Real vkp = V[k][p], vkq = V[k][q];
          V[k][p] = c * vkp - s * vkq;
          V[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  bool any_negative = false;
  for (int k = 0; k < N; ++k) any_negative = any_negative || D[k][k] < Real(0);
  if (!any_negative) return true;
  for (int i = 0; i < N; ++i)
    for (int j = i; j < N; ++j) {
      Real sum = Real(0);
      for (int k = 0; k < N; ++k)
        if (D[k][k] > Real(0)) sum += V[i][k] * D[k][k] * V[j][k];
      A[i][j] = A[j][i] = sum;
    }
  return true;
}

/// project_psd for the Hessian A (3 NV x 3 NV, vertex-major: row 3 v + axis)
/// of an energy that is invariant to translations: A annihilates the three
/// translation modes, so A = Q (Qᵀ A Q) Qᵀ with Q an orthonormal basis of the
/// zero-sum subspace, and the nearest PSD matrix is Q psd(Qᵀ A Q) Qᵀ: the same
/// result as project_psd on the full matrix from a (3 NV - 3)-sized
/// eigenproblem (for a hinge, 9x9 instead of 12x12: Jacobi costs ~N³, 2.4x
/// less).  Q = B ⊗ I₃ with B the 4x3 (NV x NV-1) Helmert basis, columns
/// (1, -1, 0, ...)/√2, (1, 1, -2, 0, ...)/√6, ...
template <class Real, int NV>
PL_HD inline bool project_psd_translation_invariant(Real (&A)[3 * NV][3 * NV]) {
  constexpr int R = NV - 1;
  Real B[NV][R];
  for (int p = 0; p < R; ++p) {
    const Real norm = sqrt(Real((p + 1) * (p + 2)));
    for (int v = 0; v < NV; ++v) B[v][p] = v <= p ? Real(1) / norm : (v == p + 1 ? -Real(p + 1) / norm : Real(0));
  }
  // Ar = Qᵀ A Q, in two passes (A Q, then Qᵀ (A Q)).
  Real AQ[3 * NV][3 * R];
  for (int i = 0; i < 3 * NV; ++i)
    for (int q = 0; q < R; ++q)
      for (int b = 0; b < 3; ++b) {
        Real sum = Real(0);
        for (int u = 0; u < NV; ++u) sum += A[i][3 * u + b] * B[u][q];
        AQ[i][3 * q + b] = sum;
      }
  Real Ar[3 * R][3 * R];
  for (int p = 0; p < R; ++p)
    for (int a = 0; a < 3; ++a)
      for (int j = 0; j < 3 * R; ++j) {
        Real sum = Real(0);
        for (int v = 0; v < NV; ++v) sum += B[v][p] * AQ[3 * v + a][j];
        Ar[3 * p + a][j] = sum;
      }
  if (!project_psd(Ar)) return false;
  // A = Q Ar Qᵀ.
  Real QAr[3 * NV][3 * R];
  for (int v = 0; v < NV; ++v)
    for (int a = 0; a < 3; ++a)
      for (int j = 0; j < 3 * R; ++j) {
        Real sum = Real(0);
        for (int p = 0; p < R; ++p) sum += B[v][p] * Ar[3 * p + a][j];
        QAr[3 * v + a][j] = sum;
      }
  for (int i = 0; i < 3 * NV; ++i)
    for (int u = 0; u < NV; ++u)
      for (int b = 0; b < 3; ++b) {
        Real sum = Real(0);
        for (int q = 0; q < R; ++q) sum += QAr[i][3 * q + b] * B[u][q];
        A[i][3 * u + b] = sum;
      }
  return true;
}

}  // namespace pl::fem
