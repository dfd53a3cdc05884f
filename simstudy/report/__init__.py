"""Reports: tables, figures and report.md/report.html regenerated from stored results.

Never refits and never imports the Numba engine: everything comes from the metrics table,
the verdicts, the manifest and the stored replicates of a :class:`simstudy.study.StudyResult`.

- :mod:`~simstudy.report.tables`: performance and verdict tables (CSV, Markdown, LaTeX).
- :mod:`~simstudy.report.prepare`: per-replicate tables (standardized estimates, Wald
  intervals, Mahalanobis statistics) for the distribution figures.
- :mod:`~simstudy.report.figures`: one function per figure, table in, Figure out; ``save_figure``.
- :mod:`~simstudy.report.render`: figure jobs, the content-keyed cache, parallel drawing.
- :mod:`~simstudy.report.document`: report.md and report.html.
"""

FIGURE_FORMATS = ("png", "pdf", "svg")


#: The record of the last report: its inputs' digest and the files it wrote.
STAMP_NAME = ".report-stamp.json"
#: The inputs a report is made of (besides the formats and the report code itself).
_INPUTS = ("study.yaml", "manifest.json", "metrics.parquet", "verdicts.json")


def build_report(result, *, formats=None, workers=None):
    """Write tables/, figures/, report.md and report.html for ``result``; return the paths.

    ``formats``: figure formats (default: the study's ``report.formats``, PNG unless set).

    ``workers``: processes drawing figures (default: decided by the amount of work; see
    :mod:`simstudy.report.render`).

    When the study's files, the formats and the report code are those of the last report and
    every file it wrote is still there, nothing is redone (no table is read, no plotting
    library imported): the report is current.
    """
    from pathlib import Path

    from simstudy.store import atomic_write_json

    root = Path(result.root)
    formats = tuple(formats or result.config.report.formats)
    key = _inputs_digest(root, formats)
    current = current_report(result, formats)
    if current is not None:
        return current
    from simstudy.report.document import build

    written = build(result, formats=formats, workers=workers)
    atomic_write_json(root / STAMP_NAME, {
        "key": key, "files": [str(Path(f).resolve().relative_to(root.resolve())) for f in written],
    })  # fmt: skip
    return written


def current_report(result, formats=None):
    """The files of the last report if it is current (same inputs, formats and report code,
    every file still there), else None."""
    from pathlib import Path

    root = Path(result.root)
    formats = tuple(formats or result.config.report.formats)
    stamp = _read_stamp(root)
    if stamp is None or stamp.get("key") != _inputs_digest(root, formats):
        return None
    files = [root / f for f in stamp.get("files", [])]
    return files if files and all(f.is_file() for f in files) else None


def _inputs_digest(root, formats) -> str:
    """SHA-256 of the report's inputs, the figure formats and the report package's source."""
    import hashlib
    from pathlib import Path

    digest = hashlib.sha256(",".join(formats).encode())
    for name in _INPUTS:
        path = root / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _read_stamp(root):
    import json

    try:
        return json.loads((root / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None
