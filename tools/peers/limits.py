"""What limits each missed target: the analysis that goes into
docs/peer_results.md next to the numbers (kept apart from the rendering code
so it can be revised after a run without touching report.py).  Written from
the run of 2026-11-22 07:52 UTC (a quiet machine) and perf profiles of
pliant_bench at 1 thread."""

_TEXT = {
    ("S1", "taichi"): "1.8-1.9x at 2 threads (2.2-2.4x at 1): per-particle compute and the 2-thread scaling of the "
                      "small S1 grids; see Discussion (a)",
    ("S2", "taichi"): "per-particle compute: G2P gather (38%), stress, P2G scatter; see Discussion (b)",
    ("S1", "warp"): "Pliant carries and updates a full F where mpm3d/Warp keep a scalar J; see Discussion (a)",
    ("S2", "warp"): "G2P gather misses on randomly ordered particles + more instructions per node than Warp's "
                    "straight-line code; see Discussion (b)",
    ("S1", "roofline"): "compute-bound and cache-resident (working set < L3): DRAM bandwidth is not the limit; "
                        "see Discussion (c)",
    ("S3", "speed"): "3D 1.5x, 2D 1.6x at 1 thread: backward = ~4 forwards (checkpoint recompute + adjoint "
                     "kernels) vs Taichi's ~3; 2D at 2 threads: fork/join per kernel on 3k particles; "
                     "see Discussion (d)",
    ("S3", "memory"): "see Discussion (d)",
}


def text(workload, what):
    return _TEXT.get((workload, what), "see Discussion")


DISCUSSION = """## Discussion: what limits the missed targets

This run (S1-S3) had the 2-core machine to itself (`others` 0-1%); the S4
rows are reused from the earlier run of 02:53-03:58 UTC (a loaded machine,
see their `others`), as the harness's --resume does.

What changed since the previous run (03:34 UTC, load 14-21, so part of the
change is the quiet machine): fixed corotated and snow no longer take an SVD
for their rotation -- a closed form in 2D and Newton's iteration
X <- (X + X^-T)/2 in 3D (Higham 1986; kernels/math/polar.hpp, with an SVD
fallback for inverted or near-singular F) -- and their backward pass uses an
SVD-free polar VJP (kernels/math/polar_adjoint.hpp); snow's return mapping
uses a 2D SVD built on the closed-form rotation; the gamma = 1 fluid uses 1/J
instead of powf. Measured per CPU-second at 1 thread before/after on the
same binary pair: S3 3D forward 1.59x, forward+backward 1.48x; S2 1.10-1.23x;
S1 unchanged. With that, S3 3D went from 0.34x Taichi to 1.53x.

(a) S1 vs Taichi and Warp. Pliant is 2.2-2.4x Taichi at 1 thread but
1.8-1.9x at 2 threads (the S1 grids are small: 32^3/64^3 nodes, and each
substep has four parallel regions whose fork/join and per-thread P2G grid
copies do not halve), and 0.56-0.58x Warp at 1 thread. The formulations
differ in work: mpm3d (and the Warp and Taichi scripts that follow it) keep
one float J per particle and advance J *= 1 + dt tr(C); Pliant's weakly
compressible fluid keeps the full F (9 floats), advances F = (I + dt C) F,
takes det F, resets F = J^(1/3) I (cbrtf; no cheaper than the powf it
replaced), forms the general P F^T through the material dispatch, and checks
finiteness of every particle in G2P. perf (1 thread, S1/n32): P2G 30% +
stress 19% + G2P 28% + g2p_update 8% + grid update 3%. Warp compiles each
kernel into straight-line single-threaded code whose atomic_add on the CPU is
a plain add. Reaching 3x Warp needs a scalar-J fluid layout, fused G2P2G,
cell-sorted particles and SIMD across particles: not done (an interface change
across engine/ and materials/, and the P2G/G2P bodies must stay bit-identical
to what the backward pass mirrors).

(b) S2 vs Taichi and Warp. 1.3-1.5x Taichi, 0.61-0.64x Warp at 1 thread.
perf (1 thread, S2/q1, after the polar change): G2P gather + stores 38%,
stress 18%, P2G scatter 14%, g2p_update 13% (F update, plastic dispatch,
finite checks), snow's SVD 11%, grid update 2.5%. The G2P gather's hottest
instruction (~30% of G2P) stalls right after the stencil's weight rows and
grid velocities load: the particles are in random order (as in the peers'
scripts), so each particle's grid rows are L1 misses. Tried: one packed store
per weight row (suspected store-forwarding stall): within noise, reverted.
Next: per-node arithmetic made incremental (q0 + sum_a A_a off_a, ~8 instead
of ~20 flops per node), periodic cell sorting with an index map so downloads
keep the user's order.

(c) Roofline. The modeled traffic (444 B per particle-step in S1) times
Pliant's throughput is ~6% of the STREAM triad bandwidth. S1 is not
bandwidth-bound on this CPU: the working set is cache-resident (S1/n64:
65,536 particles x 112 B + 64^3 nodes x 28 B = 15 MB, under the 32 MiB L3;
S1/n32: 2 MB), so the DRAM bandwidth STREAM measures is not the resource in
use; per-particle compute (~250 ns per particle-step at 1 thread) is. 50% of
30 GB/s at 444 B would be ~34 M particle-steps/s, ~9x today's. The target is
meaningful for the GPU path, where the bytes model bounds the kernels
(docs/cuda_fast_path.md).

(d) S3. Forward: Pliant is now 1.9-2x faster than Taichi at 1 thread (2D
0.36 vs 0.70 s; 3D 3.4 vs 7.0 s at 2 threads). Backward: 3.7-4.3 forwards
(a binomial checkpoint schedule with ~2 sqrt(T) stored states recomputes
almost one extra forward; the adjoint kernels -- recorded P2G, AdjGridUpdate,
AdjG2P, AdjP2G -- cost ~2.2 forwards) against Taichi's 3.0-3.5 (it stores every
particle state and recomputes only each step's grid). Net fwd+bwd 1.5-1.6x
Taichi, not 2x. 2D at 2 threads is 0.76x: 2,976 particles are too few to
amortize the per-kernel fork/join (Pliant's 2-thread run is slower than its
1-thread run; Taichi's is faster). Next: fusing AdjG2P and AdjP2G (both
gather the same stencil), a larger checkpoint budget when memory allows
(trading memory for the recompute), running small worlds single-threaded.
Memory is the other way round: Pliant's peak RSS is 7-8% of Taichi's (Taichi
keeps x, v, C, F and their gradients for every step: 96 B per particle-step
in 2D, 192 B in 3D; Pliant's checkpoints are 3.3 and 9.2 B), so the <= 1/4
memory target is met with a wide margin. Part of Taichi's RSS is its runtime
(~160 MiB for an empty Python + Taichi process), which a Python user pays
too.

(e) S4. Pliant's cloth is an implicit FEM shell (Newton + sparse LDLT, ~2
Newton iterations per step) where the peers are explicit mass-spring; an
implicit step at 64^2 costs ~1000x an explicit one, so the S4 ratio says
nothing about like-for-like speed. A fair S4 needs either an explicit Pliant
cloth with the peers' parameters or implicit peers; there is no S4 target in
the issue.
"""
