// Membrane (in-plane) energy of one shell triangle: energy, gradient (9),
// Hessian (9x9) and parameter VJPs side by side.
//
// Kinematics (constant-strain triangle; e.g. Bonet & Wood, "Nonlinear
// Continuum Mechanics for FEA", ch. 9 membranes; Volino et al. 2009): the rest
// triangle X0, X1, X2 is laid into its own plane with an orthonormal frame,
// Dm = [X1 - X0, X2 - X0] in that frame (2x2).  The deformed edges
// Ds = [x1 - x0, x2 - x0] (3x2) give the 3x2 deformation gradient
//   F = Ds Dm⁻¹,   C = Fᵀ F (2x2),   E_G = ½ (C - I)  (Green strain).
// With g_v the rows of ∂F/∂x_v (g_1 = row 0 of Dm⁻¹, g_2 = row 1,
// g_0 = -g_1 - g_2), F_ia = Σ_v x_v[i] g_v[a].
//
// Energy: E = h Ā Ψ(F), h the thickness, Ā the rest area; Ψ = μ Ψ_μ + λ Ψ_λ is
// linear in the Lamé parameters for both models, which makes the parameter
// VJPs one contraction each:
//   StVK (Bonet & Wood eq. 6.29):   Ψ_μ = tr(E_G²),  Ψ_λ = ½ tr(E_G)²
//                                   P = F (2μ E_G + λ tr(E_G) I)
//   Neo-Hookean (compressible, Bonet & Wood eq. 6.27, on the 2D metric,
//   J = √det C):                    Ψ_μ = ½ (tr C - 2) - ln J,  Ψ_λ = ½ (ln J)²
//                                   P = μ (F - F C⁻¹) + λ ln J F C⁻¹
//   using ∂ ln J / ∂F = F C⁻¹ for a 3x2 F.
// For a membrane in plane stress the Lamé parameters are the plane-stress ones,
// μ = E/(2(1+ν)), λ = E ν/(1-ν²) (membrane_lame(); Bonet & Wood sec. 9.5).
//
// Gradient: ∂E/∂x_v[i] = h Ā Σ_a P_ia g_v[a].
// Hessian:  ∂²E/∂x_v[i]∂x_u[j] = h Ā Σ_ab g_v[a] K_(ia)(jb) g_u[b], K = ∂P/∂F
// (6x6) built column by column from the directional derivative dP(dF):
//   StVK: dP = dF S + F (2μ dE + λ tr(dE) I),  dE = ½ (dFᵀF + FᵀdF)
//   NH:   dP = μ dF + λ tr(C⁻¹FᵀdF) F C⁻¹ + (λ ln J - μ)(dF C⁻¹ - F C⁻¹ dC C⁻¹)
// With project_psd, K is projected to PSD (then so is Gᵀ K G): the per-element
// projection of Teran et al. 2005, on the 6x6 stress derivative.
//
// Degenerate triangles: a zero-area rest triangle has no Dm⁻¹ (the mesh loader
// rejects it).  A deformed triangle collapsed to a segment has J = 0: StVK is
// smooth there; Neo-Hookean energy is +inf (ln J → -∞), which the Newton line
// search rejects — membrane_energy returns +inf rather than NaN.
#pragma once

#include "kernels/fem/dihedral_angle.hpp"
#include "kernels/fem/shell_psd_projection.hpp"

namespace pl::fem {

enum class MembraneModel : int { kStVK = 0, kNeoHookean = 1 };

/// Per-triangle rest data: Dm⁻¹ (row-major 2x2) and the rest area.
template <class Real>
struct MembraneRest {
  Real dm_inv[2][2];
  Real area;
};

/// 3x2 matrix (deformation gradient and friends).
template <class Real>
struct Mat32 {
  Real a[3][2];
};

template <class Real>
struct Lame {
  Real mu;
  Real lambda;
};

/// Plane-stress Lamé parameters from Young's modulus (Pa) and Poisson's ratio.
template <class Real>
PL_HD inline Lame<Real> membrane_lame(Real youngs_modulus, Real poisson_ratio) {
  return {youngs_modulus / (Real(2) * (Real(1) + poisson_ratio)),
          youngs_modulus * poisson_ratio / (Real(1) - poisson_ratio * poisson_ratio)};
}

/// Accumulates the VJP of membrane_lame.
template <class Real>
PL_HD inline void adj_membrane_lame(Real youngs_modulus, Real poisson_ratio, Real adj_mu, Real adj_lambda,
                                    Real& adj_E, Real& adj_nu) {
  const Real one_p = Real(1) + poisson_ratio;
  const Real one_m2 = Real(1) - poisson_ratio * poisson_ratio;
  adj_E += adj_mu / (Real(2) * one_p) + adj_lambda * poisson_ratio / one_m2;
  adj_nu += -adj_mu * youngs_modulus / (Real(2) * one_p * one_p) +
            adj_lambda * youngs_modulus * (Real(1) + poisson_ratio * poisson_ratio) / (one_m2 * one_m2);
}

/// Rest data from the rest positions; area 0 marks a degenerate triangle.
template <class Real>
PL_HD inline MembraneRest<Real> membrane_rest(const V3<Real> (&X)[3]) {
  MembraneRest<Real> r{};
  const V3<Real> e1 = X[1] - X[0];
  const V3<Real> e2 = X[2] - X[0];
  const V3<Real> n = cross(e1, e2);
  const Real len1 = norm(e1);
  const Real twice_area = norm(n);
  r.area = Real(0.5) * twice_area;
  if (!(len1 > Real(0)) || !(twice_area > Real(0))) {
    r.area = Real(0);
    return r;
  }
  const V3<Real> t1 = e1 * (Real(1) / len1);
  const V3<Real> t2 = cross(n * (Real(1) / twice_area), t1);
  // Dm = [[e1·t1, e2·t1], [0, e2·t2]] (upper triangular in the local frame).
  const Real a = len1, b = dot(e2, t1), d = dot(e2, t2);
  r.dm_inv[0][0] = Real(1) / a;
  r.dm_inv[0][1] = -b / (a * d);
  r.dm_inv[1][0] = Real(0);
  r.dm_inv[1][1] = Real(1) / d;
  return r;
}

/// g[v][a] = ∂F_ia/∂x_v[i].
template <class Real>
PL_HD inline void membrane_shape_gradients(const MembraneRest<Real>& rest, Real (&g)[3][2]) {
  for (int a = 0; a < 2; ++a) {
    g[1][a] = rest.dm_inv[0][a];
    g[2][a] = rest.dm_inv[1][a];
    g[0][a] = -g[1][a] - g[2][a];
  }
}

template <class Real>
PL_HD inline Mat32<Real> membrane_deformation_gradient(const V3<Real> (&x)[3], const Real (&g)[3][2]) {
  Mat32<Real> F;
  for (int i = 0; i < 3; ++i)
    for (int a = 0; a < 2; ++a) F.a[i][a] = x[0][i] * g[0][a] + x[1][i] * g[1][a] + x[2][i] * g[2][a];
  return F;
}

/// Quantities of F shared by energy, stress and stress derivative.
template <class Real>
struct MembraneStrain {
  Mat32<Real> F;
  Real C[2][2];
  Real C_inv[2][2];
  Real E[2][2];  // Green strain
  Real J;        // √det C (area ratio)
  Real FCi[3][2];  // F C⁻¹
};

template <class Real>
PL_HD inline MembraneStrain<Real> membrane_strain(const Mat32<Real>& F) {
  MembraneStrain<Real> s;
  s.F = F;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      Real c = Real(0);
      for (int i = 0; i < 3; ++i) c += F.a[i][a] * F.a[i][b];
      s.C[a][b] = c;
      s.E[a][b] = Real(0.5) * (c - (a == b ? Real(1) : Real(0)));
    }
  const Real det = s.C[0][0] * s.C[1][1] - s.C[0][1] * s.C[1][0];
  s.J = det > Real(0) ? sqrt(det) : Real(0);
  const Real inv = det > Real(0) ? Real(1) / det : Real(0);
  s.C_inv[0][0] = s.C[1][1] * inv;
  s.C_inv[1][1] = s.C[0][0] * inv;
  s.C_inv[0][1] = -s.C[0][1] * inv;
  s.C_inv[1][0] = -s.C[1][0] * inv;
  for (int i = 0; i < 3; ++i)
    for (int a = 0; a < 2; ++a) s.FCi[i][a] = F.a[i][0] * s.C_inv[0][a] + F.a[i][1] * s.C_inv[1][a];
  return s;
}

/// Ψ_μ and Ψ_λ (energy density per unit rest volume = μ Ψ_μ + λ Ψ_λ).
template <class Real>
PL_HD inline void membrane_density_parts(MembraneModel model, const MembraneStrain<Real>& s, Real& psi_mu,
                                         Real& psi_lambda) {
  if (model == MembraneModel::kStVK) {
    const Real tr = s.E[0][0] + s.E[1][1];
    psi_mu = s.E[0][0] * s.E[0][0] + s.E[1][1] * s.E[1][1] + s.E[0][1] * s.E[1][0] + s.E[1][0] * s.E[0][1];
    psi_lambda = Real(0.5) * tr * tr;
  } else {
    if (!(s.J > Real(0))) {
      psi_mu = psi_lambda = Real(INFINITY);
      return;
    }
    const Real lnJ = log(s.J);
    psi_mu = Real(0.5) * (s.C[0][0] + s.C[1][1] - Real(2)) - lnJ;
    psi_lambda = Real(0.5) * lnJ * lnJ;
  }
}

/// P_μ = ∂Ψ_μ/∂F and P_λ = ∂Ψ_λ/∂F.
template <class Real>
PL_HD inline void membrane_stress_parts(MembraneModel model, const MembraneStrain<Real>& s, Mat32<Real>& P_mu,
                                        Mat32<Real>& P_lambda) {
  if (model == MembraneModel::kStVK) {
    const Real tr = s.E[0][0] + s.E[1][1];
    for (int i = 0; i < 3; ++i)
      for (int a = 0; a < 2; ++a) {
        P_mu.a[i][a] = Real(2) * (s.F.a[i][0] * s.E[0][a] + s.F.a[i][1] * s.E[1][a]);
        P_lambda.a[i][a] = tr * s.F.a[i][a];
      }
  } else {
    const Real lnJ = s.J > Real(0) ? log(s.J) : Real(0);
    for (int i = 0; i < 3; ++i)
      for (int a = 0; a < 2; ++a) {
        P_mu.a[i][a] = s.F.a[i][a] - s.FCi[i][a];
        P_lambda.a[i][a] = lnJ * s.FCi[i][a];
      }
  }
}

/// dP for a direction dF (the stress derivative K applied to dF).
template <class Real>
PL_HD inline Mat32<Real> membrane_stress_differential(MembraneModel model, const MembraneStrain<Real>& s,
                                                      Lame<Real> lame, const Mat32<Real>& dF) {
  Mat32<Real> dP;
  // dC = dFᵀF + FᵀdF
  Real dC[2][2];
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      Real c = Real(0);
      for (int i = 0; i < 3; ++i) c += dF.a[i][a] * s.F.a[i][b] + s.F.a[i][a] * dF.a[i][b];
      dC[a][b] = c;
    }
  if (model == MembraneModel::kStVK) {
    const Real tr = s.E[0][0] + s.E[1][1];
    const Real dtr = Real(0.5) * (dC[0][0] + dC[1][1]);
    Real S[2][2], dS[2][2];
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        const Real id = (a == b) ? Real(1) : Real(0);
        S[a][b] = Real(2) * lame.mu * s.E[a][b] + lame.lambda * tr * id;
        dS[a][b] = lame.mu * dC[a][b] + lame.lambda * dtr * id;
      }
    for (int i = 0; i < 3; ++i)
      for (int a = 0; a < 2; ++a)
        dP.a[i][a] = dF.a[i][0] * S[0][a] + dF.a[i][1] * S[1][a] + s.F.a[i][0] * dS[0][a] + s.F.a[i][1] * dS[1][a];
  } else {
    const Real lnJ = s.J > Real(0) ? log(s.J) : Real(0);
    // d ln J = tr(C⁻¹ Fᵀ dF) = (F C⁻¹) : dF
    Real dlnJ = Real(0);
    for (int i = 0; i < 3; ++i)
      for (int a = 0; a < 2; ++a) dlnJ += s.FCi[i][a] * dF.a[i][a];
    // dC⁻¹ = -C⁻¹ dC C⁻¹
    Real dCi[2][2];
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) {
        Real v = Real(0);
        for (int c = 0; c < 2; ++c)
          for (int d = 0; d < 2; ++d) v += s.C_inv[a][c] * dC[c][d] * s.C_inv[d][b];
        dCi[a][b] = -v;
      }
    const Real coef = lame.lambda * lnJ - lame.mu;
    for (int i = 0; i < 3; ++i)
      for (int a = 0; a < 2; ++a) {
        const Real dFCi = dF.a[i][0] * s.C_inv[0][a] + dF.a[i][1] * s.C_inv[1][a] + s.F.a[i][0] * dCi[0][a] +
                          s.F.a[i][1] * dCi[1][a];
        dP.a[i][a] = lame.mu * dF.a[i][a] + lame.lambda * dlnJ * s.FCi[i][a] + coef * dFCi;
      }
  }
  return dP;
}

/// E = h Ā Ψ(F).
template <class Real>
PL_HD inline Real membrane_energy(MembraneModel model, const V3<Real> (&x)[3], const MembraneRest<Real>& rest,
                                  Lame<Real> lame, Real thickness) {
  Real g[3][2];
  membrane_shape_gradients(rest, g);
  const MembraneStrain<Real> s = membrane_strain(membrane_deformation_gradient(x, g));
  Real pm, pl;
  membrane_density_parts(model, s, pm, pl);
  return thickness * rest.area * (lame.mu * pm + lame.lambda * pl);
}

/// grad[3 v + i] = ∂E/∂x_v[i]  (overwritten).
template <class Real>
PL_HD inline void membrane_gradient(MembraneModel model, const V3<Real> (&x)[3], const MembraneRest<Real>& rest,
                                    Lame<Real> lame, Real thickness, Real (&grad)[9]) {
  Real g[3][2];
  membrane_shape_gradients(rest, g);
  const MembraneStrain<Real> s = membrane_strain(membrane_deformation_gradient(x, g));
  Mat32<Real> Pm, Pl;
  membrane_stress_parts(model, s, Pm, Pl);
  const Real scale = thickness * rest.area;
  for (int v = 0; v < 3; ++v)
    for (int i = 0; i < 3; ++i) {
      Real sum = Real(0);
      for (int a = 0; a < 2; ++a) sum += (lame.mu * Pm.a[i][a] + lame.lambda * Pl.a[i][a]) * g[v][a];
      grad[3 * v + i] = scale * sum;
    }
}

/// hess[3 v + i][3 u + j] = ∂²E/∂x_v[i]∂x_u[j]  (overwritten).
template <class Real>
PL_HD inline void membrane_hessian(MembraneModel model, const V3<Real> (&x)[3], const MembraneRest<Real>& rest,
                                   Lame<Real> lame, Real thickness, bool project, Real (&hess)[9][9]) {
  Real g[3][2];
  membrane_shape_gradients(rest, g);
  const MembraneStrain<Real> s = membrane_strain(membrane_deformation_gradient(x, g));
  Real K[6][6];  // K[2 i + a][2 j + b] = ∂P_ia/∂F_jb
  for (int j = 0; j < 3; ++j)
    for (int b = 0; b < 2; ++b) {
      Mat32<Real> dF{};
      for (int i = 0; i < 3; ++i)
        for (int a = 0; a < 2; ++a) dF.a[i][a] = Real(0);
      dF.a[j][b] = Real(1);
      const Mat32<Real> dP = membrane_stress_differential(model, s, lame, dF);
      for (int i = 0; i < 3; ++i)
        for (int a = 0; a < 2; ++a) K[2 * i + a][2 * j + b] = dP.a[i][a];
    }
  if (project) project_psd(K);
  const Real scale = thickness * rest.area;
  for (int v = 0; v < 3; ++v)
    for (int i = 0; i < 3; ++i)
      for (int u = 0; u < 3; ++u)
        for (int j = 0; j < 3; ++j) {
          Real sum = Real(0);
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b) sum += g[v][a] * K[2 * i + a][2 * j + b] * g[u][b];
          hess[3 * v + i][3 * u + j] = scale * sum;
        }
}

/// VJPs of the gradient with respect to μ, λ and h, with w9 a 9-vector
/// (accumulating): ∂(∂E/∂x)/∂μ · w = h Ā P_μ : dF(w), dF(w)_ia = Σ_v w_v[i] g_v[a];
/// likewise for λ; ∂/∂h = Ā (μ P_μ + λ P_λ) : dF(w).
template <class Real>
PL_HD inline void membrane_gradient_vjp(MembraneModel model, const V3<Real> (&x)[3], const MembraneRest<Real>& rest,
                                        Lame<Real> lame, Real thickness, const Real (&w9)[9], Real& adj_mu,
                                        Real& adj_lambda, Real& adj_thickness) {
  Real g[3][2];
  membrane_shape_gradients(rest, g);
  const MembraneStrain<Real> s = membrane_strain(membrane_deformation_gradient(x, g));
  Mat32<Real> Pm, Pl;
  membrane_stress_parts(model, s, Pm, Pl);
  Real cm = Real(0), cl = Real(0);
  for (int i = 0; i < 3; ++i)
    for (int a = 0; a < 2; ++a) {
      const Real dFw = w9[i] * g[0][a] + w9[3 + i] * g[1][a] + w9[6 + i] * g[2][a];
      cm += Pm.a[i][a] * dFw;
      cl += Pl.a[i][a] * dFw;
    }
  adj_mu += thickness * rest.area * cm;
  adj_lambda += thickness * rest.area * cl;
  adj_thickness += rest.area * (lame.mu * cm + lame.lambda * cl);
}

}  // namespace pl::fem
