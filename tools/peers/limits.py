"""What limits each missed target: the analysis that goes into
docs/peer_results.md next to the numbers (kept apart from the rendering code
so it can be revised after a run without touching report.py).  Written from
the run of 2026-11-22 and a perf profile of pliant_bench at 1 thread."""

_TEXT = {
    ("S1", "taichi"): "noise first (see CPU-time ratio); then per-particle compute, see Discussion (a)",
    ("S2", "taichi"): "per-particle compute: 2x2 SVD + general material path; see Discussion (b)",
    ("S1", "warp"): "Pliant carries and updates a full F with a Tait EOS (powf) where mpm3d/Warp keep a scalar J; "
                    "see Discussion (a)",
    ("S2", "warp"): "Pliant's general SVD (up to two per particle-step) and material dispatch vs Warp's svd2; "
                    "see Discussion (b)",
    ("S1", "roofline"): "compute-bound and cache-resident (working set < L3): DRAM bandwidth is not the limit; "
                        "see Discussion (c)",
    ("S3", "speed"): "checkpoint recompute (~1 extra forward) + adjoint kernels; in 3D the 3x3 SVD (34% of the "
                     "time); see Discussion (d)",
    ("S3", "memory"): "see Discussion (d)",
}


def text(workload, what):
    return _TEXT.get((workload, what), "see Discussion")


DISCUSSION = """## Discussion: what limits the missed targets

The machine was heavily loaded by other engineers' builds and test suites during
this run (load average 14-21 on 2 cores; each benchmark process got about a
quarter of a core -- CPU time / wall time 0.24-0.41 -- see `others`; only the
last S4 rows ran on a quiet machine). Wall-time ratios between processes run one
after another are therefore noisy (±30% or worse, 2-thread rows worst); the
CPU-time ratios (particle-steps per CPU-second of all the process's threads) are
the steadier reading of how much work each engine does per step, and they agree
with the quiet-machine figures of docs/benchmarks.md (Pliant S1 ~3.8 M
particle-steps per CPU-second at 1 thread, Taichi ~1.6). A 2-thread speed-up
cannot be judged on this machine today: every process shared the cores with
~15 runnable others.

(a) S1 vs Warp (and Taichi). Per CPU-second Pliant does S1 about 2.4x faster
than Taichi but about 0.6x as fast as Warp. The formulations differ in work,
by design of the engine: mpm3d (and the Warp and Taichi scripts that follow it)
keep one float J per particle and advance J *= 1 + dt tr(C); Pliant's
weakly compressible fluid keeps the full F (9 floats), advances
F = (I + dt C) F, takes det F, resets F = J^(1/3) I, evaluates the Tait
equation of state with powf and forms the general P F^T, then runs the
material's plastic-projection dispatch and finite/domain checks for every
particle in G2P. perf (1 thread, S1/n32): P2G 30% + stress
(P2GContribution::make) 19% + G2P 28% + g2p_update 8% + powf 6% + grid update 3%.
Warp compiles each kernel into straight-line single-threaded code whose
atomic_add on the CPU is a plain add. Reaching 3x Warp would need a
scalar-J fluid path (a specialized material layout), fused G2P2G and
cell-sorted particles with SIMD across particles -- none of which fits in a
small edit to the shared forward kernels today (the issue-4 engineer was editing
the same kernel files), so no forward tuning was attempted in this session.

(b) S2 vs Warp and Taichi. Per CPU-second Pliant is about level with Taichi
(1.0-1.3x) and about half of Warp. perf (1 thread, S2/q1): the fused G2P loop
32%, stress 20%, svd_rotation_variant<2> 14% (the engine's general one-sided
Jacobi SVD with canonical order and signs -- one closed-form rotation plus a
cleanup test in 2D -- called for jelly and snow in P2G and again for snow's
plastic projection in G2P),
g2p_update 10%, P2G scatter 9%, powf 3.5% (fluid EOS). Warp's svd2 is a
closed form; mpm99 calls one SVD per particle and step, Pliant up to two.

(c) Roofline. The modeled traffic (444 B per particle-step in S1) times
Pliant's throughput is a few percent of the STREAM triad bandwidth. S1 is not
bandwidth-bound on this CPU: the whole working set is cache-resident
(S1/n64: 65,536 particles x 112 B + 64^3 nodes x 28 B = 15 MB, under the
32 MiB L3; S1/n32: 2 MB), so the DRAM bandwidth STREAM measures is not the
resource being used, and per-particle compute (~260 ns per particle-step at
1 thread) is. 50% of 14 GB/s at 444 B would mean ~16 M particle-steps/s per
core, about 4x fewer instructions per particle than today's kernels. The target
is meaningful for the GPU path (issue 9 part 2), where the bytes model bounds
the kernels.

(d) S3. Pliant's forward step costs the same as Taichi's here (the diffmpm model
is light: one polar decomposition per particle), and the backward pass is
3.5-3.7x the forward: a binomial checkpoint schedule with ~2 sqrt(T) stored
states (65 for T = 1024) recomputes almost one extra forward (recompute factor
1.94) and the adjoint kernels (AdjP2G, AdjGridUpdate, AdjG2P with SVD VJPs)
cost about 1.6 forward steps. Taichi stores every particle state (its backward
recomputes only each step's grid) and its backward overhead is 3.1-3.2x.
In 3D Pliant's forward is itself about 2x slower than Taichi's: perf of the
3D rollout (1 thread, forward + backward) puts 34% of the time in the 3x3 SVD
(svd_rotation_variant<3>, one-sided Jacobi sweeps, called for the polar factor
in P2G, again in the stress recompute of the backward pass and in its VJP),
against Taichi's 8 Newton steps on a 3x3 inverse; AdjG2P 14%, AdjP2G 10%, the
forward kernels ~27%. A closed-form or Newton polar factor for
fixed-corotated, and caching the forward SVD for the adjoint, are the
obvious next steps.
Net: fwd+bwd about 1x Taichi in 2D and ~0.35x in 3D, not 2x; the
issue-4 work on the backward pass is where the factor must come from. Memory is
the other way round: Pliant's peak RSS is a small fraction of Taichi's (Taichi
keeps x, v, C, F and their gradients for every step: 96 B per particle-step in
2D, 192 B in 3D, as DiffTaichi documents; Pliant's checkpoints are 3.3 B per
particle-step in 2D), so the <= 1/4 memory target is met with a wide margin.
Part of Taichi's RSS is its runtime (~160 MiB for an empty Python + Taichi
process), which a Python user pays too.

(e) S4. Pliant's cloth tool appeared in the tree during this session and was
run at the end (with --resume, 03:56-03:58 UTC, on a half-loaded machine): it
is an implicit FEM shell (Newton + sparse LDLT, ~1.7-2 Newton iterations per
step) where the peers are explicit mass-spring; an implicit step at 64^2 costs
~1000x an explicit one, so the S4 ratio says nothing about like-for-like speed.
A fair S4 needs either an explicit Pliant cloth with the peers' parameters or
implicit peers; there is no S4 target in the issue.
"""
