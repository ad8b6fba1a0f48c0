// fem.coupling -> MpmFemCoupling (see the header).
#include "engine/coupling/mpm_fem_scene.hpp"

namespace pl {

template <class Real>
std::unique_ptr<MpmFemCoupling<Real>> make_scene_coupling(const scene::SceneDesc& scene, MpmWorld<Real, 3>& world,
                                                          scene::FemSceneRun<Real>* fem) {
  const scene::FemSceneDesc& d = scene.fem;
  if (!fem || !d.coupling || world.num_particles() == 0) return nullptr;
  MpmFemCouplingSettings s;
  s.stiffness = d.coupling_stiffness;
  s.skin = d.coupling_skin;
  s.softness = d.coupling_softness;
  s.friction = d.coupling_friction;
  s.slip_speed = d.coupling_slip_speed;
  auto coupling = std::make_unique<MpmFemCoupling<Real>>(world, fem->coupled_world(), fem->tet_surface_triangles(), s,
                                                         d.coupling_where);
  for (const scene::ControlDesc& c : scene.optimization.controls)  // issue 7 (replay_fem): a replay scene's values
    if (c.kind == "fem_coupling" && !c.init.empty()) set_coupling_control(*coupling, c.parameter, c.init[0]);
  return coupling;
}

template std::unique_ptr<MpmFemCoupling<float>> make_scene_coupling(const scene::SceneDesc&, MpmWorld<float, 3>&,
                                                                    scene::FemSceneRun<float>*);
template std::unique_ptr<MpmFemCoupling<double>> make_scene_coupling(const scene::SceneDesc&, MpmWorld<double, 3>&,
                                                                     scene::FemSceneRun<double>*);

}  // namespace pl
