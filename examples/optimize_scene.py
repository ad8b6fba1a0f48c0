#!/usr/bin/env python3
"""Run a scene's optimizer from Python with a callback per iteration.

scenes/throw_opt_2d.yaml asks for the initial velocity that lands a jelly
block on a target (Adam through the differentiable rollout).  pliant.optimize
runs it exactly as `pliant optimize` does (logs, loss curve, best controls,
resume) and calls back after every iteration, here to print and to stop early
once the loss is below 1 mm^2.

    python3 examples/optimize_scene.py           # up to the scene's 40 iterations
    python3 examples/optimize_scene.py --quick   # 3 iterations (CI)
"""
import argparse
import pathlib
import tempfile

import pliant

REPO = pathlib.Path(__file__).resolve().parents[1]


class Converged(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help="output directory (default: a temporary one)")
    parser.add_argument("--quick", action="store_true", help="3 iterations (for CI)")
    args = parser.parse_args()
    overrides = {"optimizer.iterations": 3} if args.quick else {}
    scene = pliant.Scene.load(REPO / "scenes" / "throw_opt_2d.yaml", overrides=overrides)

    def report(record, seconds):
        print(f"iter {record['iteration'] + 1:3d}  {record['phase']}  loss {record['loss']:.4e}  "
              f"best {record['best_loss']:.4e}  |grad| {record['grad_norm']:.3e}  {seconds:.2f} s")
        if record["best_loss"] < 1e-6:
            raise Converged()

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or tmp
        try:
            result = pliant.optimize(scene, out_dir=out, threads=2, previews=False, callback=report)
            print(f"stopped: {result['stop_reason']}; loss {result['initial_loss']:.4e} -> {result['best_loss']:.4e}; "
                  f"best initial velocity {result['best_controls']} m/s")
            if not result["best_loss"] < result["initial_loss"]:
                raise SystemExit("the optimizer did not lower the loss")
        except Converged:
            print("stopped by the callback: best loss below 1 mm^2 (resume=True would continue)")


if __name__ == "__main__":
    main()
