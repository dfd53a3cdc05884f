#!/usr/bin/env bash
# The surviving mutants of a group's session, one per line: module:line operator: old -> new.
#   bash tests/mutation/survivors.sh tests/mutation/out/verdicts.sqlite
set -euo pipefail
sqlite3 -separator $'\t' "$1" "select s.module_path || ':' || s.start_pos_row, s.operator_name,
  replace(r.diff, char(10), char(1)) from work_results r join mutation_specs s using (job_id)
  where r.test_outcome = 'SURVIVED' order by s.module_path, s.start_pos_row" |
  python3 -c '
import sys
for line in sys.stdin:
    where, op, diff = line.rstrip("\n").split("\t", 2)
    rows = diff.split("\x01")
    old = [r[1:].strip() for r in rows if r.startswith("-") and not r.startswith("---")]
    new = [r[1:].strip() for r in rows if r.startswith("+") and not r.startswith("+++")]
    op = op.removeprefix("core/")
    print(where, op + ":", " ".join(old)[:110], " ->  ", " ".join(new)[:110])
'
