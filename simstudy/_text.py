"""Plain-text tables and numbers for the terminal (no pandas: commands that print a table must
not pay for importing it)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def text_table(header: Sequence[str], rows: Sequence[Sequence[object]], *,
               free_last: bool = False) -> str:  # fmt: skip
    """Columns left-aligned to their widest cell, a dashed rule under the header.
    ``free_last``: the last column (long free text) is not padded or measured."""
    cells = [[str(v) for v in header]] + [[_cell(v) for v in row] for row in rows]
    sized = len(header) - 1 if free_last else len(header)
    widths = [max(len(r[i]) for r in cells) for i in range(sized)]

    def line(r):
        padded = [v.ljust(w) for v, w in zip(r, widths)] + r[sized:]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths) + ("  " + "-" * 8 if free_last else "")
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
