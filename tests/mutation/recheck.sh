#!/usr/bin/env bash
# Rerun a group's surviving mutants against the current tests (after adding tests for them):
#
#   bash tests/mutation/recheck.sh GROUP [PREVIOUS]   # reads tests/mutation/out/GROUP.sqlite
#
# With PREVIOUS (the output of an earlier recheck), only the mutants it lists as SURVIVED.
# Prints KILLED or SURVIVED per mutant and writes tests/mutation/out/GROUP-recheck.txt. Same
# environment variables and the same temporary copy of the checkout as run.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
group="$1"
previous="${2:-}"
if [ -n "$previous" ]; then previous="$(cd "$(dirname "$previous")" && pwd)/$(basename "$previous")"; fi
session="$here/out/$group.sqlite"
cr_bin="${COSMIC_RAY_BIN:-$(dirname "$(command -v cosmic-ray)")}"
py_bin="${PYTHON_BIN:-$(dirname "$(command -v python)")}"
work="$(mktemp -d "${TMPDIR:-/tmp}/simstudy-recheck.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | grep -zv '^results/' |
  xargs -0 cp --parents -t "$work")
export SIMSTUDY_MUTATION_NUMBA_CACHE="${SIMSTUDY_MUTATION_NUMBA_CACHE:-$work/.numba-cache}"
export PYTHONPATH="$work/tests/mutation${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$py_bin:$PATH" NUMBA_NUM_THREADS="${NUMBA_NUM_THREADS:-1}"
command="$(python -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["cosmic-ray"]["test-command"])' \
  "$here/groups/$group.toml")"
cd "$work"
report="$here/out/$group-recheck${previous:+-again}.txt"
: > "$report"
sqlite3 -separator $'\t' "$session" "select s.module_path, s.operator_name, s.occurrence,
  s.start_pos_row from work_results r join mutation_specs s using (job_id)
  where r.test_outcome = 'SURVIVED' order by s.module_path, s.start_pos_row" |
while IFS=$'\t' read -r module operator occurrence line; do
  if [ -n "$previous" ] && ! grep -qF "SURVIVED $module:$line $operator #$occurrence" "$previous"; then
    continue
  fi
  cp "$repo/$module" "$module"
  "$cr_bin/cosmic-ray" apply "$module" "$operator" "$occurrence" > /dev/null
  if nice -n 10 bash -c "$command" > /dev/null 2>&1; then outcome=SURVIVED; else outcome=KILLED; fi
  cp "$repo/$module" "$module"
  echo "$outcome $module:$line $operator #$occurrence" | tee -a "$report"
done
