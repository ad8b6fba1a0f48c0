"""NVIDIA Warp (device "cpu", single-threaded) side of the Pliant peer
benchmark: S1 (mpm3d formulation), S2 (mpm99 formulation) and S4 (mass-spring
cloth), the same discretizations as peer_taichi.py, written for this harness
from the published formulations (Hu et al. 2018 MLS-MPM; Stomakhin et al. 2013).
S3 is not run in Warp: its target compares with Taichi only.

  python peer_warp.py --workload S1 --size n32 --particles DIR --json out.json
"""
import numpy as np

import peer_common as C

args = C.parse_args("warp")
spec = C.W.spec(args.workload, args.size)
if args.workload == "S3":
    raise SystemExit("peer_warp.py: S3 is compared with Taichi only")
if args.threads != 1:
    print("peer_warp.py: note: Warp's CPU backend is single-threaded; --threads is recorded only")

import warp as wp  # noqa: E402

wp.config.quiet = True
wp.init()
DEV = "cpu"
doc = {"engine": "warp", "version": wp.__version__, "workload": args.workload, "size": args.size,
       "threads": 1}


@wp.func
def bspline_weights(fx: float):
    # Quadratic B-spline weights of the three nodes base, base + 1, base + 2.
    return wp.vec3(0.5 * (1.5 - fx) * (1.5 - fx), 0.75 - (fx - 1.0) * (fx - 1.0), 0.5 * (fx - 0.5) * (fx - 0.5))


# ---------------------------------------------------------------- S1 (3D fluid)
@wp.kernel
def s1_clear(gv: wp.array3d(dtype=wp.vec3), gm: wp.array3d(dtype=float)):
    i, j, k = wp.tid()
    gv[i, j, k] = wp.vec3(0.0)
    gm[i, j, k] = 0.0


@wp.kernel
def s1_p2g(x: wp.array(dtype=wp.vec3), v: wp.array(dtype=wp.vec3), Cm: wp.array(dtype=wp.mat33),
           J: wp.array(dtype=float), gv: wp.array3d(dtype=wp.vec3), gm: wp.array3d(dtype=float),
           dt: float, dx: float, inv_dx: float, p_vol: float, p_mass: float, E: float):
    p = wp.tid()
    Xp = x[p] * inv_dx
    bx, by, bz = int(Xp[0] - 0.5), int(Xp[1] - 0.5), int(Xp[2] - 0.5)
    fx = Xp - wp.vec3(float(bx), float(by), float(bz))
    wx, wy, wz = bspline_weights(fx[0]), bspline_weights(fx[1]), bspline_weights(fx[2])
    stress = -dt * 4.0 * E * p_vol * (J[p] - 1.0) * inv_dx * inv_dx
    affine = wp.identity(n=3, dtype=float) * stress + p_mass * Cm[p]
    mv = p_mass * v[p]
    for i in range(3):
        for j in range(3):
            for k in range(3):
                dpos = (wp.vec3(float(i), float(j), float(k)) - fx) * dx
                w = wx[i] * wy[j] * wz[k]
                wp.atomic_add(gv, bx + i, by + j, bz + k, w * (mv + affine * dpos))
                wp.atomic_add(gm, bx + i, by + j, bz + k, w * p_mass)


@wp.kernel
def s1_grid(gv: wp.array3d(dtype=wp.vec3), gm: wp.array3d(dtype=float), dt: float, g: float, n: int, bound: int):
    i, j, k = wp.tid()
    m = gm[i, j, k]
    vi = wp.vec3(0.0)
    if m > 0.0:
        vi = gv[i, j, k] / m
        vi = vi - wp.vec3(0.0, dt * g, 0.0)
        I = wp.vec3i(i, j, k)
        for d in range(3):
            if (I[d] < bound and vi[d] < 0.0) or (I[d] >= n - bound and vi[d] > 0.0):
                vi[d] = 0.0
    gv[i, j, k] = vi


@wp.kernel
def s1_g2p(x: wp.array(dtype=wp.vec3), v: wp.array(dtype=wp.vec3), Cm: wp.array(dtype=wp.mat33),
           J: wp.array(dtype=float), gv: wp.array3d(dtype=wp.vec3), dt: float, dx: float, inv_dx: float):
    p = wp.tid()
    Xp = x[p] * inv_dx
    bx, by, bz = int(Xp[0] - 0.5), int(Xp[1] - 0.5), int(Xp[2] - 0.5)
    fx = Xp - wp.vec3(float(bx), float(by), float(bz))
    wx, wy, wz = bspline_weights(fx[0]), bspline_weights(fx[1]), bspline_weights(fx[2])
    new_v = wp.vec3(0.0)
    new_C = wp.mat33(0.0)
    for i in range(3):
        for j in range(3):
            for k in range(3):
                dpos = (wp.vec3(float(i), float(j), float(k)) - fx) * dx
                w = wx[i] * wy[j] * wz[k]
                gvi = gv[bx + i, by + j, bz + k]
                new_v += w * gvi
                new_C += (4.0 * w * inv_dx * inv_dx) * wp.outer(gvi, dpos)
    v[p] = new_v
    x[p] = x[p] + dt * new_v
    J[p] = J[p] * (1.0 + dt * wp.trace(new_C))
    Cm[p] = new_C


def s1():
    n_grid, dx, dt = spec["n_grid"], spec["dx"], spec["dt"]
    p_mass = spec["p_vol"] * spec["rho"]
    x0, _ = C.load_particles(args, spec)
    n = x0.shape[0]
    x = wp.array(x0, dtype=wp.vec3, device=DEV)
    v = wp.zeros(n, dtype=wp.vec3, device=DEV)
    Cm = wp.zeros(n, dtype=wp.mat33, device=DEV)
    J = wp.array(np.ones(n, np.float32), dtype=float, device=DEV)
    shape = (n_grid,) * 3
    gv = wp.zeros(shape, dtype=wp.vec3, device=DEV)
    gm = wp.zeros(shape, dtype=float, device=DEV)

    def substep():
        wp.launch(s1_clear, shape, [gv, gm], device=DEV)
        wp.launch(s1_p2g, n, [x, v, Cm, J, gv, gm, dt, dx, 1 / dx, spec["p_vol"], p_mass, spec["E"]], device=DEV)
        wp.launch(s1_grid, shape, [gv, gm, dt, spec["gravity"], n_grid, spec["bound"]], device=DEV)
        wp.launch(s1_g2p, n, [x, v, Cm, J, gv, dt, dx, 1 / dx], device=DEV)

    def frames(k):
        for _ in range(k * spec["substeps_per_frame"]):
            substep()

    return n, frames


# ---------------------------------------------------------------- S2 (2D multi-material)
@wp.kernel
def s2_clear(gv: wp.array2d(dtype=wp.vec2), gm: wp.array2d(dtype=float)):
    i, j = wp.tid()
    gv[i, j] = wp.vec2(0.0)
    gm[i, j] = 0.0


@wp.kernel
def s2_p2g(x: wp.array(dtype=wp.vec2), v: wp.array(dtype=wp.vec2), Cm: wp.array(dtype=wp.mat22),
           F: wp.array(dtype=wp.mat22), Jp: wp.array(dtype=float), material: wp.array(dtype=int),
           gv: wp.array2d(dtype=wp.vec2), gm: wp.array2d(dtype=float),
           dt: float, dx: float, inv_dx: float, p_vol: float, p_mass: float, mu_0: float, lambda_0: float):
    p = wp.tid()
    Xp = x[p] * inv_dx
    bx, by = int(Xp[0] - 0.5), int(Xp[1] - 0.5)
    fx = Xp - wp.vec2(float(bx), float(by))
    wx, wy = bspline_weights(fx[0]), bspline_weights(fx[1])
    Fp = (wp.identity(n=2, dtype=float) + dt * Cm[p]) * F[p]
    mat = material[p]
    h = wp.exp(10.0 * (1.0 - Jp[p]))
    if mat == 1:
        h = 0.3
    mu = mu_0 * h
    la = lambda_0 * h
    if mat == 0:
        mu = 0.0
    U, sig, V = wp.svd2(Fp)
    J = float(1.0)
    jp = Jp[p]
    for d in range(2):
        new_sig = sig[d]
        if mat == 2:
            new_sig = wp.min(wp.max(sig[d], 1.0 - 2.5e-2), 1.0 + 4.5e-3)
        jp = jp * sig[d] / new_sig
        sig[d] = new_sig
        J = J * new_sig
    Jp[p] = jp
    if mat == 0:
        Fp = wp.identity(n=2, dtype=float) * wp.sqrt(J)
    elif mat == 2:
        Fp = U * wp.diag(sig) * wp.transpose(V)
    F[p] = Fp
    stress = 2.0 * mu * (Fp - U * wp.transpose(V)) * wp.transpose(Fp) + wp.identity(n=2, dtype=float) * (la * J * (J - 1.0))
    affine = (-dt * p_vol * 4.0 * inv_dx * inv_dx) * stress + p_mass * Cm[p]
    mv = p_mass * v[p]
    for i in range(3):
        for j in range(3):
            dpos = (wp.vec2(float(i), float(j)) - fx) * dx
            w = wx[i] * wy[j]
            wp.atomic_add(gv, bx + i, by + j, w * (mv + affine * dpos))
            wp.atomic_add(gm, bx + i, by + j, w * p_mass)


@wp.kernel
def s2_grid(gv: wp.array2d(dtype=wp.vec2), gm: wp.array2d(dtype=float), dt: float, g: float, n: int, bound: int):
    i, j = wp.tid()
    m = gm[i, j]
    vi = wp.vec2(0.0)
    if m > 0.0:
        vi = gv[i, j] / m
        vi = vi - wp.vec2(0.0, dt * g)
        if (i < bound and vi[0] < 0.0) or (i >= n - bound and vi[0] > 0.0):
            vi[0] = 0.0
        if (j < bound and vi[1] < 0.0) or (j >= n - bound and vi[1] > 0.0):
            vi[1] = 0.0
    gv[i, j] = vi


@wp.kernel
def s2_g2p(x: wp.array(dtype=wp.vec2), v: wp.array(dtype=wp.vec2), Cm: wp.array(dtype=wp.mat22),
           gv: wp.array2d(dtype=wp.vec2), dt: float, dx: float, inv_dx: float):
    p = wp.tid()
    Xp = x[p] * inv_dx
    bx, by = int(Xp[0] - 0.5), int(Xp[1] - 0.5)
    fx = Xp - wp.vec2(float(bx), float(by))
    wx, wy = bspline_weights(fx[0]), bspline_weights(fx[1])
    new_v = wp.vec2(0.0)
    new_C = wp.mat22(0.0)
    for i in range(3):
        for j in range(3):
            dpos = wp.vec2(float(i), float(j)) - fx
            w = wx[i] * wy[j]
            gvi = gv[bx + i, by + j]
            new_v += w * gvi
            new_C += (4.0 * inv_dx * w) * wp.outer(gvi, dpos)
    v[p] = new_v
    Cm[p] = new_C
    x[p] = x[p] + dt * new_v


def s2():
    n_grid, dx, dt = spec["n_grid"], spec["dx"], spec["dt"]
    p_mass = spec["p_vol"] * spec["rho"]
    mu_0, lambda_0 = C.W.lame(spec["E"], spec["nu"])
    x0, mat0 = C.load_particles(args, spec)
    n = x0.shape[0]
    x = wp.array(x0, dtype=wp.vec2, device=DEV)
    v = wp.zeros(n, dtype=wp.vec2, device=DEV)
    Cm = wp.zeros(n, dtype=wp.mat22, device=DEV)
    F = wp.array(np.tile(np.eye(2, dtype=np.float32), (n, 1, 1)), dtype=wp.mat22, device=DEV)
    Jp = wp.array(np.ones(n, np.float32), dtype=float, device=DEV)
    material = wp.array(mat0, dtype=int, device=DEV)
    shape = (n_grid, n_grid)
    gv = wp.zeros(shape, dtype=wp.vec2, device=DEV)
    gm = wp.zeros(shape, dtype=float, device=DEV)

    def substep():
        wp.launch(s2_clear, shape, [gv, gm], device=DEV)
        wp.launch(s2_p2g, n, [x, v, Cm, F, Jp, material, gv, gm, dt, dx, 1 / dx, spec["p_vol"], p_mass, mu_0,
                              lambda_0], device=DEV)
        wp.launch(s2_grid, shape, [gv, gm, dt, spec["gravity"], n_grid, spec["bound"]], device=DEV)
        wp.launch(s2_g2p, n, [x, v, Cm, gv, dt, dx, 1 / dx], device=DEV)

    def frames(k):
        for _ in range(k * spec["substeps_per_frame"]):
            substep()

    return n, frames


# ---------------------------------------------------------------- S4 (cloth)
@wp.kernel
def s4_gravity(v: wp.array2d(dtype=wp.vec3), g: float, dt: float):
    i, j = wp.tid()
    v[i, j] = v[i, j] - wp.vec3(0.0, g * dt, 0.0)


@wp.kernel
def s4_springs(x: wp.array2d(dtype=wp.vec3), v: wp.array2d(dtype=wp.vec3), offsets: wp.array(dtype=wp.vec2i),
               n: int, quad: float, Y: float, dashpot: float, dt: float):
    # In place, like the reference: later vertices see earlier ones' updated v.
    i, j = wp.tid()
    force = wp.vec3(0.0)
    for k in range(offsets.shape[0]):
        o = offsets[k]
        a = i + o[0]
        b = j + o[1]
        if a >= 0 and a < n and b >= 0 and b < n:
            x_ij = x[i, j] - x[a, b]
            v_ij = v[i, j] - v[a, b]
            d = wp.normalize(x_ij)
            current = wp.length(x_ij)
            original = quad * wp.sqrt(float(o[0] * o[0] + o[1] * o[1]))
            force += -Y * d * (current / original - 1.0)
            force += -wp.dot(v_ij, d) * d * dashpot * quad
    v[i, j] = v[i, j] + force * dt


@wp.kernel
def s4_collide(x: wp.array2d(dtype=wp.vec3), v: wp.array2d(dtype=wp.vec3), ball: wp.vec3, r: float, drag: float,
               dt: float):
    i, j = wp.tid()
    vi = v[i, j] * wp.exp(-drag * dt)
    off = x[i, j] - ball
    if wp.length(off) <= r:
        nrm = wp.normalize(off)
        vi = vi - wp.min(wp.dot(vi, nrm), 0.0) * nrm
    v[i, j] = vi
    x[i, j] = x[i, j] + dt * vi


def s4():
    n, dt, quad = spec["n"], spec["dt"], spec["quad"]
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    xinit = np.stack([ii * quad - 0.5, np.full((n, n), spec["height"]), jj * quad - 0.5], -1).astype(np.float32)
    x = wp.array(xinit, dtype=wp.vec3, device=DEV)
    v = wp.zeros((n, n), dtype=wp.vec3, device=DEV)
    offsets = wp.array(np.array(C.W.S4_SPRING_OFFSETS, np.int32), dtype=wp.vec2i, device=DEV)
    ball = wp.vec3(*spec["ball_center"])

    def substep():
        wp.launch(s4_gravity, (n, n), [v, spec["gravity"], dt], device=DEV)
        wp.launch(s4_springs, (n, n), [x, v, offsets, n, quad, spec["spring_Y"], spec["dashpot"], dt], device=DEV)
        wp.launch(s4_collide, (n, n), [x, v, ball, spec["ball_radius"], spec["drag"], dt], device=DEV)

    def frames(k):
        for _ in range(k * spec["substeps_per_frame"]):
            substep()

    def check():
        a = x.numpy()
        return bool(np.isfinite(a).all()), float(a[..., 1].mean())

    return n * n, frames, check


def sync():
    wp.synchronize_device(DEV)


if args.workload in ("S1", "S2"):
    n, frames = s1() if args.workload == "S1" else s2()
    nf = args.frames or spec["default_frames"]
    doc.update(C.time_frames(frames, sync, n, spec["substeps_per_frame"], nf, args.reps, args.warmup))
    doc["particles"] = n
else:
    nv, frames, check = s4()
    nf = args.frames or spec["default_frames"]
    doc.update(C.time_frames(frames, sync, nv, spec["substeps_per_frame"], nf, args.reps, args.warmup))
    ok, ymean = check()
    doc.update(vertices=nv, finite=ok, mean_height=ymean)
C.write_json(args.json, doc)
