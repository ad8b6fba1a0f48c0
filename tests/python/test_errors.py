"""Bad calls raise clear exceptions (never a crash): the engine's InputError and
SimulationError keep their messages; shapes and dtypes are checked in Python."""
import numpy as np
import pytest

import pliant
from conftest import SCENES, throw_scene


def test_exception_types():
    assert issubclass(pliant.InputError, ValueError)
    assert issubclass(pliant.SimulationError, RuntimeError)


def test_missing_scene_file_names_the_path(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(pliant.InputError, match="nope.yaml"):
        pliant.Scene.load(missing)


def test_override_error_names_the_key_and_the_override():
    with pytest.raises(pliant.InputError, match=r"simulation\.dt.*> 0"):
        pliant.Scene.load(SCENES / "dam_break_2d.yaml", overrides={"simulation.dt": -1})


def test_builder_errors_name_the_key():
    with pytest.raises(pliant.InputError, match=r"materials\.jelly.*'nuu'"):
        throw_scene(nuu=0.3, E=1e3)
    with pytest.raises(pliant.InputError, match=r"materials\.jelly.*nu"):
        throw_scene(nu=0.7, E=1e3)
    with pytest.raises(pliant.InputError, match="did you mean 'fixed_corotated'"):
        throw_scene(model="fixed_corotate")


def test_bad_override_container():
    with pytest.raises(TypeError, match="overrides"):
        pliant.Scene.load(SCENES / "dam_break_2d.yaml", overrides="simulation.dt=1")


def test_simulation_arguments(scene64):
    with pytest.raises(ValueError, match="dtype"):
        pliant.Simulation(scene64, dtype="int8")
    with pytest.raises(ValueError, match="backend"):
        pliant.Simulation(scene64, backend="gpu")
    with pytest.raises(ValueError, match="threads"):
        pliant.Simulation(scene64, threads=0)
    with pytest.raises(TypeError, match="Scene"):
        pliant.Simulation(42)


@pytest.mark.skipif(pliant.cuda_available(), reason="a usable GPU is present")
def test_cuda_where_it_cannot_run_says_why():
    scene = throw_scene("float")
    with pytest.raises(pliant.InputError, match="cuda"):
        pliant.Simulation(scene, backend="cuda")


def test_setters_check_shape_dtype_and_finiteness(sim64):
    n = sim64.num_particles
    with pytest.raises(ValueError, match=rf"set_positions: expected shape \({n}, 2\), got \(3,\)"):
        sim64.set_positions([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="dtype"):
        sim64.set_velocities(np.full((n, 2), "a"))
    bad = np.zeros((n, 2))
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        sim64.set_velocities(bad)
    with pytest.raises(ValueError, match="set_external_forces"):
        sim64.set_external_forces(np.zeros((n, 3)))
    with pytest.raises(ValueError, match="body forces"):
        sim64.set_body_forces(np.zeros((2, 2)))


def test_compiled_layer_rejects_bad_arrays_too(sim64):
    # The Python layer checks first; the compiled one refuses on its own as well.
    with pytest.raises(ValueError, match="expected shape"):
        sim64._core.set_external_forces(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="array of numbers"):
        sim64._core.set_external_forces(np.array(["x"] * 2 * sim64.num_particles).reshape(-1, 2))


def test_material_parameters_are_validated(sim64):
    with pytest.raises(pliant.InputError, match="'E'"):
        sim64.set_material("jelly", E=-5)
    with pytest.raises(pliant.InputError, match="unknown parameter 'youngs'"):
        sim64.set_material("jelly", youngs=5)
    with pytest.raises(KeyError, match="water"):
        sim64.set_material("water", E=5)
    with pytest.raises(pliant.InputError, match="density"):
        sim64.set_material(0, density=-1)
    assert sim64.materials[0]["params"]["E"] == 2e3  # nothing changed


def test_unstable_velocities_are_refused(sim64):
    with pytest.raises(pliant.InputError, match="dt"):
        sim64.set_velocities(np.full((sim64.num_particles, 2), 500.0))


def test_stepping_after_a_failure_raises_until_reset(sim64):
    sim64.step(1)          # the dt guard runs before the first step only
    sim64.v[:, 0] = 400.0  # written through the view afterwards: particles leave the domain
    with pytest.raises(pliant.SimulationError, match=r"body 'block'.*particle \d+"):
        sim64.step(20)
    with pytest.raises(pliant.SimulationError, match=r"step: the simulation failed earlier \(.*body 'block'.*reset"):
        sim64.step(1)
    with pytest.raises(pliant.SimulationError, match="rollout: the simulation failed earlier"):
        sim64.rollout(2)
    sim64.reset()
    sim64.step(2)
    assert sim64.step_count == 2 and np.all(np.isfinite(sim64.x))


def test_a_failed_rollout_also_stops_stepping(sim64):
    sim64.F[5] = np.nan  # a corrupted state written through the view (the dt guard does not read F)
    with pytest.raises(pliant.SimulationError, match=r"body 'block'.*particle \d+ of \d+: .*not finite"):
        sim64.rollout(20)
    with pytest.raises(pliant.SimulationError, match="failed earlier"):
        sim64.step(1)
    sim64.reset()
    rec = sim64.rollout(2)
    assert np.all(np.isfinite(rec[2].x))


def test_step_arguments(sim64):
    with pytest.raises(TypeError, match="integer"):
        sim64.step(1.5)
    with pytest.raises(ValueError, match=">= 0"):
        sim64.step(-1)


def test_backward_misuse(sim64):
    n = sim64.num_particles
    with pytest.raises(ValueError, match="rollout first"):
        sim64.backward({3: {"x": np.zeros((n, 2))}})
    with pytest.raises(ValueError, match=r"loss step 9 is outside \[0, 3\]"):
        sim64.rollout(3, loss_frames=[9])
    sim64.reset()
    sim64.rollout(3)
    with pytest.raises(ValueError, match="step 2 was not recorded"):
        sim64.backward({2: {"x": np.zeros((n, 2))}})
    with pytest.raises(ValueError, match=r"dL/dF: expected shape"):
        sim64.backward({3: {"F": np.zeros((n, 2))}})
    with pytest.raises(ValueError, match="unknown state quantity 'q'"):
        sim64.backward({3: {"q": np.zeros((n, 2))}})
    with pytest.raises(TypeError, match="dict"):
        sim64.backward({3: np.zeros((n, 2))})
    g = sim64.backward({3: {"x": np.ones((n, 2))}})  # still usable after refused calls
    assert np.allclose(g.v, 3 * sim64.dt, rtol=1e-2)  # nearly free flight for 3 substeps: dx_T/dv_0 ~ T dt
    with pytest.raises(ValueError, match="already reversed"):
        sim64.backward({3: {"x": np.ones((n, 2))}})
    with pytest.raises(ValueError, match="forces"):
        sim64.rollout(3, forces=np.zeros(4))


def test_a_simulation_running_in_another_thread_is_not_touched():
    import threading
    import time

    sim = pliant.Simulation(pliant.Scene.load(SCENES / "dam_break_2d.yaml"), backend="cpu", threads=2)
    worker = threading.Thread(target=sim.step, args=(1500,))  # seconds of work, without the GIL
    refused = []
    worker.start()
    while worker.is_alive():
        try:
            sim.set_external_forces(None)
        except RuntimeError as err:
            refused.append(str(err))
            break
        time.sleep(0.01)
    worker.join()
    assert refused and "running" in refused[0] and "another thread" in refused[0]
    assert sim.step_count == 1500  # the run itself was not disturbed
