"""Executors: local (in-process threads, default) and dask (distributed)."""
