"""Parameters of the benchmark workloads S1-S4 (/work/shared/BENCHMARKS.md), in
one place for every peer script.  They mirror tools/bench/workloads.cpp
(S1, S2) and tools/bench/diffmpm.cpp (S3); docs/peer_results.md lists them.
"""
import math


def python_floordiv_substeps(frame_dt, dt):
    # mpm99.py: int(2e-3 // dt) under Python float floor division (19 at q 1, 39 at q 2).
    return int(frame_dt // dt)


def spec(workload, size):
    if workload == "S1":
        n = {"n32": 32, "n64": 64}[size]
        dx = 1.0 / n
        s = dict(dim=3, n_grid=n, dx=dx, num_particles=n ** 3 // 4, dt=8e-5, substeps_per_frame=25,
                 gravity=9.8, E=400.0, p_vol=(0.5 * dx) ** 2, rho=1.0, bound=3)
        s["default_frames"] = max(1, round(2.5e6 / (s["num_particles"] * 25)))
    elif workload == "S2":
        q = {"q1": 1, "q2": 2}[size]
        n = 128 * q
        dx = 1.0 / n
        dt = 1e-4 / q
        sub = python_floordiv_substeps(2e-3, dt)
        s = dict(dim=2, n_grid=n, dx=dx, num_particles=9000 * q * q, dt=dt, substeps_per_frame=sub,
                 gravity=50.0, E=1e3, nu=0.2, p_vol=(0.5 * dx) ** 2, rho=1.0, bound=3)
        s["default_frames"] = max(1, round(2.5e6 / (s["num_particles"] * sub)))
    elif workload == "S3":
        # diffmpm-like soft robot, see tools/bench/diffmpm.hpp for the model.
        if size == "2d":
            s = dict(dim=2, n_grid=128, num_particles=2976, dt=1e-3, steps=1024)
        else:
            s = dict(dim=3, n_grid=64, num_particles=30495, dt=2e-3, steps=512)
        s.update(dx=1.0 / s["n_grid"], gravity=3.8, E=25.0, nu=0.25, p_vol=1.0, rho=1.0, bound=3, groups=4)
    elif workload == "S4":
        # Mass-spring cloth (taichi's cloth_simulation.py formulation) over a ball.
        # spring_Y 500 and dashpot 1e3 instead of the example's 3e4 and 1e4: the
        # example takes dt = 4e-2 / n (53 substeps per frame at 128^2); with the
        # protocol's 16 substeps the explicit update is stable at all three sizes
        # only with softer springs and dashpots (measured: Y 1e3 / dashpot 1e4 give
        # NaN at 32^2 within 60 frames).
        n = {"v32": 32, "v64": 64, "v128": 128}[size]
        s = dict(dim=3, n=n, num_vertices=n * n, frame_dt=1.0 / 60.0, substeps_per_frame=16, frames=60,
                 gravity=9.8, spring_Y=500, dashpot=1e3, drag=1.0, ball_radius=0.3, ball_center=(0.0, 0.0, 0.0),
                 height=0.6)
        s["dt"] = s["frame_dt"] / s["substeps_per_frame"]
        s["quad"] = 1.0 / n
        s["default_frames"] = 60
    else:
        raise SystemExit(f"unknown workload {workload}")
    s["workload"], s["size"] = workload, size
    return s


def lame(E, nu):
    return E / (2 * (1 + nu)), E * nu / ((1 + nu) * (1 - 2 * nu))


# S4: springs to every neighbour (i, j) with (i, j) != 0, |i| + |j| <= 2, as in
# taichi's cloth_simulation.py (structural, shear and bending springs).
S4_SPRING_OFFSETS = [(i, j) for i in range(-2, 3) for j in range(-2, 3) if (i, j) != (0, 0) and abs(i) + abs(j) <= 2]
