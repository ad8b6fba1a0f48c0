"""What limits each missed target: the analysis that goes into
docs/peer_results.md next to the numbers (kept apart from the rendering code
so it can be revised after a run without touching report.py)."""

_TEXT = {
    ("S1", "taichi"): "see Discussion: S1 P2G/G2P are latency-bound on unsorted particles",
    ("S2", "taichi"): "see Discussion: per-particle SVD/polar cost dominates S2",
    ("S1", "warp"): "Warp's single-threaded LLVM kernels are compute-lean (scalar J, no F); see Discussion",
    ("S2", "warp"): "Warp's svd2 and fused per-particle code vs Pliant's general material path; see Discussion",
    ("S1", "roofline"): "not bandwidth-bound: stencil gather/scatter latency and per-particle compute; see Discussion",
    ("S3", "speed"): "see Discussion: Pliant recomputes ~1 extra forward (checkpointing) and its adjoint scatters",
    ("S3", "memory"): "interpreter + runtime baseline of both processes; see Discussion",
}


def text(workload, what):
    return _TEXT.get((workload, what), "see Discussion")


DISCUSSION = """## Discussion

(Filled in from the run above; see /tmp/notes/issue9_harness.md for the closing note.)
"""
