#!/bin/sh
# Makes assets/targets/sculpt_dent_2d.ply, the target of scenes/sculpt_opt_2d.yaml:
# the last frame of that scene run with known stamp keys (a 4.5 cm press at
# x = 0.42 m, then a lift).  Deterministic: same binary, same file.
#   assets/targets/make_sculpt_target.sh [path/to/pliant]
set -e
here=$(cd "$(dirname "$0")" && pwd)
pliant=${1:-pliant}
out=$(mktemp -d)
"$pliant" run "$here/../../scenes/sculpt_opt_2d.yaml" --quiet --out "$out" \
  --set 'controls.press.init=[0.42, 0.27, 0.42, 0.36]' \
  --set objective.shape.file=../assets/targets/plasticine_squashed.ply  # any target: only the frames are used
cp "$out/frame_00020.ply" "$here/sculpt_dent_2d.ply"
rm -rf "$out"
echo "wrote $here/sculpt_dent_2d.ply"
