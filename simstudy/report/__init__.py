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


def build_report(result, *, formats=None, workers=None):
    """Write tables/, figures/, report.md and report.html for ``result``; return the paths.

    ``formats``: figure formats (default: the study's ``report.formats``, PNG unless set).

    ``workers``: processes drawing figures (default: decided by the amount of work; see
    :mod:`simstudy.report.render`).
    """
    from simstudy.report.document import build

    return build(result, formats=formats, workers=workers)
