"""Taichi (CPU) side of the Pliant peer benchmark: S1 (mpm3d formulation),
S2 (mpm99 formulation), S3 (diffmpm-style differentiable rollout, the model of
tools/bench/diffmpm.hpp) and S4 (mass-spring cloth, cloth_simulation.py
formulation).  Written for this harness from the published formulations
(Hu et al. 2018 MLS-MPM; Stomakhin et al. 2013 snow; Hu et al. 2020
DiffTaichi); run by tools/peers/run_peers.py, one configuration per process so
that the peak RSS belongs to it.

  python peer_taichi.py --workload S1 --size n32 --threads 2 --particles DIR --json out.json
"""
import math
import time

import numpy as np

import peer_common as C

args = C.parse_args("taichi")
spec = C.W.spec(args.workload, args.size)

import taichi as ti  # noqa: E402  (after argument checks: importing taichi is slow)

ti.init(arch=ti.cpu, cpu_max_num_threads=args.threads, default_fp=ti.f32, random_seed=0,
        offline_cache=True, log_level=ti.WARN)

doc = {"engine": "taichi", "version": ".".join(map(str, ti.__version__)), "workload": args.workload,
       "size": args.size, "threads": args.threads}


def s1():
    dim, n_grid, dx, dt = 3, spec["n_grid"], spec["dx"], spec["dt"]
    inv_dx, p_vol, E, g, bound = 1.0 / dx, spec["p_vol"], spec["E"], spec["gravity"], spec["bound"]
    p_mass = p_vol * spec["rho"]
    x0, _ = C.load_particles(args, spec)
    n = x0.shape[0]
    x = ti.Vector.field(dim, float, n)
    v = ti.Vector.field(dim, float, n)
    Cm = ti.Matrix.field(dim, dim, float, n)
    J = ti.field(float, n)
    grid_v = ti.Vector.field(dim, float, (n_grid,) * dim)
    grid_m = ti.field(float, (n_grid,) * dim)
    x.from_numpy(x0)
    J.fill(1)

    @ti.kernel
    def substep():
        for I in ti.grouped(grid_m):
            grid_v[I] = ti.zero(grid_v[I])
            grid_m[I] = 0
        for p in x:  # P2G: MLS-MPM with the Kirchhoff stress E (J - 1) I
            Xp = x[p] * inv_dx
            base = int(Xp - 0.5)
            fx = Xp - base
            w = [0.5 * (1.5 - fx) ** 2, 0.75 - (fx - 1) ** 2, 0.5 * (fx - 0.5) ** 2]
            stress = -dt * 4 * E * p_vol * (J[p] - 1) * inv_dx * inv_dx
            affine = ti.Matrix.identity(float, dim) * stress + p_mass * Cm[p]
            for off in ti.static(ti.grouped(ti.ndrange(3, 3, 3))):
                dpos = (off - fx) * dx
                weight = w[off[0]][0] * w[off[1]][1] * w[off[2]][2]
                grid_v[base + off] += weight * (p_mass * v[p] + affine @ dpos)
                grid_m[base + off] += weight * p_mass
        for I in ti.grouped(grid_m):  # grid update, walls remove the inward component
            if grid_m[I] > 0:
                vi = grid_v[I] / grid_m[I]
                vi[1] -= dt * g
                for d in ti.static(range(dim)):
                    if (I[d] < bound and vi[d] < 0) or (I[d] >= n_grid - bound and vi[d] > 0):
                        vi[d] = 0
                grid_v[I] = vi
            else:
                grid_v[I] = ti.zero(grid_v[I])
        for p in x:  # G2P
            Xp = x[p] * inv_dx
            base = int(Xp - 0.5)
            fx = Xp - base
            w = [0.5 * (1.5 - fx) ** 2, 0.75 - (fx - 1) ** 2, 0.5 * (fx - 0.5) ** 2]
            new_v = ti.zero(v[p])
            new_C = ti.zero(Cm[p])
            for off in ti.static(ti.grouped(ti.ndrange(3, 3, 3))):
                dpos = (off - fx) * dx
                weight = w[off[0]][0] * w[off[1]][1] * w[off[2]][2]
                gv = grid_v[base + off]
                new_v += weight * gv
                new_C += 4 * weight * gv.outer_product(dpos) * inv_dx * inv_dx
            v[p] = new_v
            x[p] += dt * new_v
            J[p] *= 1 + dt * new_C.trace()
            Cm[p] = new_C

    def frames(k):
        for _ in range(k * spec["substeps_per_frame"]):
            substep()

    return n, frames


def s2():
    dim, n_grid, dx, dt = 2, spec["n_grid"], spec["dx"], spec["dt"]
    inv_dx, p_vol, g, bound = 1.0 / dx, spec["p_vol"], spec["gravity"], spec["bound"]
    p_mass = p_vol * spec["rho"]
    mu_0, lambda_0 = C.W.lame(spec["E"], spec["nu"])
    x0, mat0 = C.load_particles(args, spec)
    n = x0.shape[0]
    x = ti.Vector.field(dim, float, n)
    v = ti.Vector.field(dim, float, n)
    Cm = ti.Matrix.field(dim, dim, float, n)
    F = ti.Matrix.field(dim, dim, float, n)
    material = ti.field(int, n)
    Jp = ti.field(float, n)
    grid_v = ti.Vector.field(dim, float, (n_grid, n_grid))
    grid_m = ti.field(float, (n_grid, n_grid))
    x.from_numpy(x0)
    material.from_numpy(mat0)
    Jp.fill(1)
    F.from_numpy(np.tile(np.eye(2, dtype=np.float32), (n, 1, 1)))

    @ti.kernel
    def substep():
        for i, j in grid_m:
            grid_v[i, j] = [0, 0]
            grid_m[i, j] = 0
        for p in x:  # P2G (mpm99: fluid 0, jelly 1, snow 2)
            base = (x[p] * inv_dx - 0.5).cast(int)
            fx = x[p] * inv_dx - base.cast(float)
            w = [0.5 * (1.5 - fx) ** 2, 0.75 - (fx - 1) ** 2, 0.5 * (fx - 0.5) ** 2]
            F[p] = (ti.Matrix.identity(float, 2) + dt * Cm[p]) @ F[p]
            h = ti.exp(10 * (1.0 - Jp[p]))
            if material[p] == 1:
                h = 0.3
            mu, la = mu_0 * h, lambda_0 * h
            if material[p] == 0:
                mu = 0.0
            U, sig, V = ti.svd(F[p])
            J = 1.0
            for d in ti.static(range(2)):
                new_sig = sig[d, d]
                if material[p] == 2:
                    new_sig = ti.min(ti.max(sig[d, d], 1 - 2.5e-2), 1 + 4.5e-3)
                Jp[p] *= sig[d, d] / new_sig
                sig[d, d] = new_sig
                J *= new_sig
            if material[p] == 0:
                F[p] = ti.Matrix.identity(float, 2) * ti.sqrt(J)
            elif material[p] == 2:
                F[p] = U @ sig @ V.transpose()
            stress = 2 * mu * (F[p] - U @ V.transpose()) @ F[p].transpose() + \
                ti.Matrix.identity(float, 2) * la * J * (J - 1)
            stress = (-dt * p_vol * 4 * inv_dx * inv_dx) * stress
            affine = stress + p_mass * Cm[p]
            for i, j in ti.static(ti.ndrange(3, 3)):
                off = ti.Vector([i, j])
                dpos = (off.cast(float) - fx) * dx
                weight = w[i][0] * w[j][1]
                grid_v[base + off] += weight * (p_mass * v[p] + affine @ dpos)
                grid_m[base + off] += weight * p_mass
        for i, j in grid_m:
            if grid_m[i, j] > 0:
                vi = grid_v[i, j] / grid_m[i, j]
                vi[1] -= dt * g
                if (i < bound and vi[0] < 0) or (i >= n_grid - bound and vi[0] > 0):
                    vi[0] = 0
                if (j < bound and vi[1] < 0) or (j >= n_grid - bound and vi[1] > 0):
                    vi[1] = 0
                grid_v[i, j] = vi
            else:
                grid_v[i, j] = [0, 0]
        for p in x:  # G2P
            base = (x[p] * inv_dx - 0.5).cast(int)
            fx = x[p] * inv_dx - base.cast(float)
            w = [0.5 * (1.5 - fx) ** 2, 0.75 - (fx - 1.0) ** 2, 0.5 * (fx - 0.5) ** 2]
            new_v = ti.Vector.zero(float, 2)
            new_C = ti.Matrix.zero(float, 2, 2)
            for i, j in ti.static(ti.ndrange(3, 3)):
                dpos = ti.Vector([i, j]).cast(float) - fx
                gv = grid_v[base + ti.Vector([i, j])]
                weight = w[i][0] * w[j][1]
                new_v += weight * gv
                new_C += 4 * inv_dx * weight * gv.outer_product(dpos)
            v[p], Cm[p] = new_v, new_C
            x[p] += dt * v[p]

    def frames(k):
        for _ in range(k * spec["substeps_per_frame"]):
            substep()

    return n, frames


S3_NEWTON_POLAR_ITERATIONS = 8


def s3():
    """The model of tools/bench/diffmpm.hpp, differentiated by Taichi's autodiff
    with every step's particle state stored (DiffTaichi's scheme: the grid is
    recomputed step by step in the backward pass)."""
    dim, n_grid, dx, dt = spec["dim"], spec["n_grid"], spec["dx"], spec["dt"]
    steps = args.steps or spec["steps"]
    inv_dx, p_vol, grav, bound = 1.0 / dx, spec["p_vol"], spec["gravity"], spec["bound"]
    p_mass = p_vol * spec["rho"]
    mu, la = C.W.lame(spec["E"], spec["nu"])
    x0, group0 = C.load_particles(args, spec)
    theta0 = np.load(f"{args.particles}/S3_{args.size}_actuation.npy")[:steps]
    n, G = x0.shape[0], spec["groups"]
    x = ti.Vector.field(dim, float, (steps + 1, n), needs_grad=True)
    v = ti.Vector.field(dim, float, (steps + 1, n), needs_grad=True)
    Cm = ti.Matrix.field(dim, dim, float, (steps + 1, n), needs_grad=True)
    F = ti.Matrix.field(dim, dim, float, (steps + 1, n), needs_grad=True)
    group = ti.field(int, n)
    theta = ti.field(float, (steps, G), needs_grad=True)
    grid_p = ti.Vector.field(dim, float, (n_grid,) * dim, needs_grad=True)
    grid_m = ti.field(float, (n_grid,) * dim, needs_grad=True)
    grid_v = ti.Vector.field(dim, float, (n_grid,) * dim, needs_grad=True)
    loss = ti.field(float, (), needs_grad=True)
    group.from_numpy(group0)
    theta.from_numpy(theta0.astype(np.float32))
    x0_full = np.zeros((steps + 1, n, dim), np.float32)
    x0_full[0] = x0
    x.from_numpy(x0_full)
    F0 = np.zeros((steps + 1, n, dim, dim), np.float32)
    F0[0] = np.eye(dim, dtype=np.float32)
    F.from_numpy(F0)

    @ti.kernel
    def clear_grid():
        for I in ti.grouped(grid_m):
            grid_p[I] = ti.zero(grid_p[I])
            grid_m[I] = 0

    @ti.kernel
    def clear_grid_grad():
        for I in ti.grouped(grid_m):
            grid_p.grad[I] = ti.zero(grid_p[I])
            grid_m.grad[I] = 0
            grid_v.grad[I] = ti.zero(grid_v[I])

    @ti.func
    def polar_rotation(Fp):
        r = Fp
        if ti.static(dim == 2):
            r, _ = ti.polar_decompose(Fp)
        else:
            # Taichi 1.7.4's reverse mode rejects its 3D polar_decompose (SVD):
            # "auto_diff.cpp: Not supported".  Newton's iteration for the polar
            # factor, R <- (R + R^-T) / 2 (Higham 1986), differentiates; a fixed
            # count (static loop) keeps it reversible.
            for _ in ti.static(range(S3_NEWTON_POLAR_ITERATIONS)):
                r = 0.5 * (r + r.inverse().transpose())
        return r

    @ti.kernel
    def p2g(f: ti.i32):
        for p in range(n):
            Xp = x[f, p] * inv_dx
            base = ti.cast(Xp - 0.5, ti.i32)
            fx = Xp - ti.cast(base, float)
            w = [0.5 * (1.5 - fx) ** 2, 0.75 - (fx - 1) ** 2, 0.5 * (fx - 0.5) ** 2]
            Fp = F[f, p]
            r = polar_rotation(Fp)
            J = Fp.determinant()
            tau = 2 * mu * (Fp - r) @ Fp.transpose() + ti.Matrix.identity(float, dim) * (la * (J - 1) * J)
            affine = (-dt * p_vol * 4 * inv_dx * inv_dx) * tau + p_mass * Cm[f, p]
            mom = p_mass * v[f, p]
            mom[0] += dt * p_mass * theta[f, group[p]]  # actuation force m theta along x
            for off in ti.static(ti.grouped(ti.ndrange(*((3,) * dim)))):
                dpos = (off.cast(float) - fx) * dx
                weight = 1.0
                for d in ti.static(range(dim)):
                    weight *= w[off[d]][d]
                grid_p[base + off] += weight * (mom + affine @ dpos)
                grid_m[base + off] += weight * p_mass

    @ti.kernel
    def grid_op():
        for I in ti.grouped(grid_m):
            m = grid_m[I]
            vi = ti.zero(grid_p[I])
            if m > 0:
                vi = grid_p[I] * (1 / m)
                vi[1] -= dt * grav
                if I[1] < bound:  # sticky floor
                    vi = ti.zero(vi)
                for d in ti.static(range(dim)):  # frictionless separating walls elsewhere
                    if ti.static(d != 1):
                        if I[d] < bound and vi[d] < 0:
                            vi[d] = 0
                    if I[d] >= n_grid - bound and vi[d] > 0:
                        vi[d] = 0
            grid_v[I] = vi

    @ti.kernel
    def g2p(f: ti.i32):
        for p in range(n):
            Xp = x[f, p] * inv_dx
            base = ti.cast(Xp - 0.5, ti.i32)
            fx = Xp - ti.cast(base, float)
            w = [0.5 * (1.5 - fx) ** 2, 0.75 - (fx - 1) ** 2, 0.5 * (fx - 0.5) ** 2]
            new_v = ti.Vector.zero(float, dim)
            new_C = ti.Matrix.zero(float, dim, dim)
            for off in ti.static(ti.grouped(ti.ndrange(*((3,) * dim)))):
                dpos = (off.cast(float) - fx) * dx
                weight = 1.0
                for d in ti.static(range(dim)):
                    weight *= w[off[d]][d]
                gv = grid_v[base + off]
                new_v += weight * gv
                new_C += (4 * inv_dx * inv_dx * weight) * gv.outer_product(dpos)
            v[f + 1, p] = new_v
            Cm[f + 1, p] = new_C
            x[f + 1, p] = x[f, p] + dt * new_v
            F[f + 1, p] = (ti.Matrix.identity(float, dim) + dt * new_C) @ F[f, p]

    @ti.kernel
    def compute_loss():
        for p in range(n):
            loss[None] += x[steps, p][0] / n

    def forward():
        for s in range(steps):
            clear_grid()
            p2g(s)
            grid_op()
            g2p(s)
        loss[None] = 0
        compute_loss()

    def backward():
        for fld in (x, v, Cm, F, theta):
            fld.grad.fill(0)
        loss.grad[None] = 1
        compute_loss.grad()
        for s in reversed(range(steps)):
            clear_grid()  # recompute the step's grid, then reverse g2p, grid_op, p2g
            clear_grid_grad()
            p2g(s)
            grid_op()
            g2p.grad(s)
            grid_op.grad()
            p2g.grad(s)

    def sync():
        ti.sync()

    return n, steps, forward, backward, sync, loss, theta


def s4():
    n, dt, quad = spec["n"], spec["dt"], spec["quad"]
    Y, dashpot, drag, g = spec["spring_Y"], spec["dashpot"], spec["drag"], spec["gravity"]
    r, h = spec["ball_radius"], spec["height"]
    offs = C.W.S4_SPRING_OFFSETS
    x = ti.Vector.field(3, float, (n, n))
    v = ti.Vector.field(3, float, (n, n))
    offsets = ti.Vector.field(2, int, len(offs))
    offsets.from_numpy(np.array(offs, np.int32))
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    xinit = np.stack([ii * quad - 0.5, np.full((n, n), h), jj * quad - 0.5], -1).astype(np.float32)
    x.from_numpy(xinit)
    ball = ti.Vector(list(spec["ball_center"]))

    @ti.kernel
    def substep():
        for i in ti.grouped(x):
            v[i].y -= g * dt
        for i in ti.grouped(x):  # springs (Hooke on strain) + dashpots, cloth_simulation.py
            force = ti.Vector([0.0, 0.0, 0.0])
            for k in range(len(offs)):
                j = i + offsets[k]
                if 0 <= j[0] < n and 0 <= j[1] < n:
                    x_ij = x[i] - x[j]
                    v_ij = v[i] - v[j]
                    d = x_ij.normalized()
                    current = x_ij.norm()
                    original = quad * float(i - j).norm()
                    force += -Y * d * (current / original - 1)
                    force += -v_ij.dot(d) * d * dashpot * quad
            v[i] += force * dt
        for i in ti.grouped(x):
            v[i] *= ti.exp(-drag * dt)
            off = x[i] - ball
            if off.norm() <= r:
                nrm = off.normalized()
                v[i] -= ti.min(v[i].dot(nrm), 0) * nrm
            x[i] += dt * v[i]

    def frames(k):
        for _ in range(k * spec["substeps_per_frame"]):
            substep()

    def check():
        a = x.to_numpy()
        return bool(np.isfinite(a).all()), float(a[..., 1].mean())

    return n * n, frames, check


if args.workload in ("S1", "S2"):
    n, frames = s1() if args.workload == "S1" else s2()
    nf = args.frames or spec["default_frames"]
    doc.update(C.time_frames(frames, ti.sync, n, spec["substeps_per_frame"], nf, args.reps, args.warmup))
    doc["particles"] = n
elif args.workload == "S4":
    nv, frames, check = s4()
    nf = args.frames or spec["default_frames"]
    doc.update(C.time_frames(frames, ti.sync, nv, spec["substeps_per_frame"], nf, args.reps, args.warmup))
    ok, ymean = check()
    doc.update(vertices=nv, finite=ok, mean_height=ymean)
else:
    n, steps, forward, backward, sync, loss, theta = s3()
    doc.update(particles=n, steps=steps)
    forward(); backward(); sync()  # JIT of every kernel and its gradient (untimed)
    if args.grad_out:
        np.savez(args.grad_out, loss=np.float64(loss[None]), grad=theta.grad.to_numpy().astype(np.float64))
    doc["loss"] = float(loss[None])
    if not args.check_only:
        tf, tfb = [], []
        for _ in range(args.reps):
            a = time.perf_counter(); forward(); sync(); tf.append(time.perf_counter() - a)
            a = time.perf_counter(); forward(); backward(); sync(); tfb.append(time.perf_counter() - a)
        doc.update(t_forward_s=tf, t_forward_backward_s=tfb)
        # Stored per step: x, v, C, F and their gradients (fields sized steps + 1).
        per = 2 * (dim := spec["dim"]) * 4 + 2 * dim * dim * 4
        doc["tape_bytes_per_particle_step"] = 2 * per  # values + gradients
C.write_json(args.json, doc)
