#!/bin/sh
# Runs `pliant validate` on every scene in the malformed corpus and checks that
# each one is refused as bad input, cleanly:
#   - exit code 2 (not 0, not 1 = runtime failure, not a crash or a sanitizer abort);
#   - stderr holds "pliant: error: " and the substring the file's first line
#     promises ("# expect: materials.jelly.nu"), i.e. the offending key;
#   - no "internal error" and no sanitizer report.
# A zero-byte file cannot carry the comment; it must say that the scene is empty.
#
# Usage: run_malformed_corpus.sh PLIANT CORPUS_DIR
# (ctest: cli.malformed_corpus; .ci/run also runs it against an AddressSanitizer build)
set -u
pliant=$1
corpus=$2
[ -x "$pliant" ] || { echo "not executable: $pliant" >&2; exit 2; }
cd "$corpus" || exit 2   # relative mesh paths in the corpus resolve from here

failures=0
count=0
err=$(mktemp)
trap 'rm -f "$err"' EXIT
for scene in *.yaml; do
  count=$((count + 1))
  if [ -s "$scene" ]; then
    expect=$(sed -n '1s/^# expect: //p' "$scene")
    if [ -z "$expect" ]; then
      echo "FAIL $scene: the first line must be '# expect: <substring of the error>'"
      failures=$((failures + 1))
      continue
    fi
  else
    expect="the scene is empty"
  fi
  "$pliant" validate "$scene" >/dev/null 2>"$err"
  code=$?
  problem=""
  if [ "$code" -ne 2 ]; then
    problem="exit code $code, expected 2"
  elif ! grep -q "^pliant: error: " "$err"; then
    problem="stderr lacks 'pliant: error: '"
  elif ! grep -qF -- "$expect" "$err"; then
    problem="stderr lacks '$expect'"
  elif grep -qE "internal error|Sanitizer|runtime error" "$err"; then
    problem="internal error or sanitizer report"
  fi
  if [ -n "$problem" ]; then
    echo "FAIL $scene: $problem"
    sed 's/^/    /' "$err" | head -n 20
    failures=$((failures + 1))
  fi
done
echo "malformed corpus: $count scenes, $failures failed"
[ "$count" -ge 25 ] || { echo "FAIL: the corpus must hold at least 25 scenes"; exit 1; }
[ "$failures" -eq 0 ]
