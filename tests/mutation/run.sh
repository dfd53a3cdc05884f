#!/usr/bin/env bash
# Mutation testing of simstudy with cosmic-ray (not part of CI: hours on 2 cores).
#
#   bash tests/mutation/run.sh [GROUP ...]      # default: every group in tests/mutation/groups
#
# Needs cosmic-ray (`pip install cosmic-ray`, >= 8.3; COSMIC_RAY_BIN names its bin folder if it
# lives in another virtual environment) and the project's dev environment for the tests
# (PYTHON_BIN: the bin folder whose `python` runs them; default: the one on PATH). Cosmic-ray
# edits source files in place, so the run works on a copy of the checkout in a temporary
# folder; the session databases and reports land in tests/mutation/out/ (not committed).
# One worker, niced; the Numba cache is pinned for the whole run (pin_numba_cache.py).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cr_bin="${COSMIC_RAY_BIN:-$(dirname "$(command -v cosmic-ray)")}"
py_bin="${PYTHON_BIN:-$(dirname "$(command -v python)")}"
out="$here/out"
mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/simstudy-mutation.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | grep -zv '^results/' |
  xargs -0 cp --parents -t "$work")
export SIMSTUDY_MUTATION_NUMBA_CACHE="$work/.numba-cache"
export PYTHONPATH="$work/tests/mutation${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$py_bin:$PATH" NUMBA_NUM_THREADS="${NUMBA_NUM_THREADS:-1}"
groups=("$@")
if [ ${#groups[@]} -eq 0 ]; then
  groups=($(cd "$here/groups" && ls *.toml | sed 's/\.toml$//'))
fi
cd "$work"
for group in "${groups[@]}"; do
  config="$work/$group.toml"
  cat "tests/mutation/groups/$group.toml" tests/mutation/operators.toml > "$config"
  session="$out/$group.sqlite"
  rm -f "$session"
  echo "== $group: baseline" >&2
  nice -n 10 "$cr_bin/cosmic-ray" baseline "$config"
  "$cr_bin/cosmic-ray" init "$config" "$session"
  "$cr_bin/cr-filter-operators" "$session" "$config"
  "$cr_bin/cr-filter-pragma" "$session"
  echo "== $group: $(sqlite3 "$session" 'select count(*) from work_items' 2>/dev/null || echo '?') mutants" >&2
  nice -n 10 "$cr_bin/cosmic-ray" exec "$config" "$session"
  "$cr_bin/cr-report" --show-pending "$session" > "$out/$group.txt" || true
  tail -n 3 "$out/$group.txt" >&2
done
