"""The results folder: study.yaml, manifest.json and replicate blocks in Parquet.

Layout::

    results/<study>/study.yaml, manifest.json
    results/<study>/store/<result_key>/reps-<start>-<stop>.parquet

Every write is atomic (a temporary file in the same folder, then ``os.replace``), so a run
killed at any instant leaves only complete blocks. Each block carries a SHA-256 of its column
data in the Parquet metadata; a block that fails to read or to verify is reported and treated
as missing, so it is recomputed. The store is the truth about what has been computed: a rerun
lists the blocks and computes only the replication ranges no valid block covers. A block this
:class:`Store` wrote itself is not read back to be verified (its checksum was computed from the
values written) as long as its file is unchanged since (same size and modification time).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import tempfile
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simstudy.errors import StoreError

CHECKSUM_KEY = b"simstudy.sha256"
_UMASK = os.umask(0o022)
os.umask(_UMASK)
_BLOCK_NAME = re.compile(r"^reps-(\d{9})-(\d{9})\.parquet$")


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    ``durable`` also forces the data to disk (fsync) before the rename, so the file survives an
    operating-system crash; a killed process never leaves a torn file either way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        # mkstemp makes the file 0600; give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def table_checksum(table: pa.Table) -> str:
    """SHA-256 over column names and the raw values of every column, in order (the bytes of
    a numeric column's values; the JSON of any other column's values)."""
    h = hashlib.sha256()
    for name in table.column_names:
        h.update(name.encode())
        values = column_values(table.column(name))
        if values is None:
            h.update(json.dumps(table.column(name).to_pylist()).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def _numpy_dtype(arrow_type: pa.DataType) -> np.dtype | None:
    if pa.types.is_floating(arrow_type):
        return np.dtype(f"f{arrow_type.bit_width // 8}")
    if pa.types.is_signed_integer(arrow_type):
        return np.dtype(f"i{arrow_type.bit_width // 8}")
    if pa.types.is_unsigned_integer(arrow_type):
        return np.dtype(f"u{arrow_type.bit_width // 8}")
    return None


def column_values(column) -> np.ndarray | None:
    """The values of a numeric, null-free Arrow column as a NumPy array, read from its data
    buffer; None for any other column. ``to_numpy`` would do the same but makes pyarrow import
    pandas (about half a second), which a run that only stores replicates never needs."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    dtype = _numpy_dtype(arr.type)
    if dtype is None or arr.null_count:
        return None
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize)


def arrow_array(values: np.ndarray) -> pa.Array:
    """A null-free Arrow array over a numeric NumPy array (what ``pa.array`` makes, without
    pyarrow's pandas import)."""
    values = np.ascontiguousarray(values)
    arrow_type = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(arrow_type, values.size, [None, pa.py_buffer(values)])


class StudyLock:
    """An exclusive lock on a results folder for one ``simstudy run``.

    ``<folder>/.lock`` holds the holder's PID and host, created with O_EXCL (atomic on local
    file systems). A lock whose process is gone (same host, PID not alive) is stale: it is taken
    over with a note. A lock held by a live process, or by another host (whose processes cannot
    be checked from here), refuses the run with a message saying how to proceed.
    """

    def __init__(self, root: Path):
        self.path = Path(root) / ".lock"
        self.took_over: dict | None = None

    def acquire(self) -> StudyLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._read()
                if self._alive(holder):
                    raise StoreError(
                        f"{self.path.parent} is being written by another simstudy run (PID "
                        f"{holder.get('pid')} on {holder.get('host')}, lock {self.path}); wait "
                        "for it to finish, or use another --out"
                    ) from None
                self.took_over = holder
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump(me, handle)
            return self
        raise StoreError(f"{self.path}: could not take the lock; remove it if no run is active")

    def release(self) -> None:
        holder = self._read()
        if holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> StudyLock:  # noqa: PYI034 - Python 3.10 has no typing.Self
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    @staticmethod
    def _alive(holder: dict) -> bool:
        """True unless the holder is provably gone (same host and no such process)."""
        pid, host = holder.get("pid"), holder.get("host")
        if not isinstance(pid, int) or host is None:
            return False  # unreadable or half-written lock: its writer died mid-write
        if host != socket.gethostname():
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


class CorruptBlock(Exception):
    """A block file that cannot be read or whose checksum does not match."""


class Store:
    """The replicate store of one study folder (``results/<study>``)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.blocks_dir = self.root / "store"
        self.corrupt: list[tuple[Path, str]] = []
        # Blocks written through this Store: path -> (size, mtime_ns) right after the write.
        self._written: dict[Path, tuple[int, int]] = {}

    # ---- blocks --------------------------------------------------------------------------
    def block_path(self, result_key: str, start: int, stop: int) -> Path:
        return self.blocks_dir / result_key / f"reps-{start:09d}-{stop:09d}.parquet"

    def write_block(self, result_key: str, start: int, stop: int, table: pa.Table) -> Path:
        table = table.replace_schema_metadata({CHECKSUM_KEY: table_checksum(table).encode()})
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        path = self.block_path(result_key, start, stop)
        # No fsync per block (~4 ms each): a block carries its checksum, verified on every
        # read, so one lost or torn by an operating-system crash is found and recomputed.
        atomic_write_bytes(path, sink.getvalue().to_pybytes(), durable=False)
        stat = path.stat()
        self._written[path] = (stat.st_size, stat.st_mtime_ns)
        return path

    def _unchanged_since_written(self, path: Path) -> bool:
        """Whether ``path`` is a block this Store wrote and its file has not changed since."""
        written = self._written.get(path)
        if written is None:
            return False
        try:
            stat = path.stat()
        except OSError:
            return False
        return (stat.st_size, stat.st_mtime_ns) == written

    def read_block(self, path: Path) -> pa.Table:
        try:
            # ParquetFile, not read_table: read_table goes through pyarrow.dataset, which
            # imports pandas.
            table = pq.ParquetFile(path).read()
        except Exception as exc:  # noqa: BLE001 - any read failure means a corrupt block
            raise CorruptBlock(f"unreadable Parquet ({type(exc).__name__}: {exc})") from None
        meta = table.schema.metadata or {}
        expected = meta.get(CHECKSUM_KEY)
        table = table.replace_schema_metadata(None)
        if expected is None or expected.decode() != table_checksum(table):
            raise CorruptBlock("checksum mismatch")
        return table

    def blocks(self, result_key: str) -> list[tuple[int, int, Path]]:
        """(start, stop, path) of every block file of a result key, sorted by start."""
        folder = self.blocks_dir / result_key
        if not folder.is_dir():
            return []
        found = []
        for path in folder.iterdir():
            m = _BLOCK_NAME.match(path.name)
            if m:
                found.append((int(m.group(1)), int(m.group(2)), path))
        return sorted(found)

    def valid_blocks(self, result_key: str) -> list[tuple[int, int, pa.Table]]:
        """Blocks that read and verify; corrupt ones are recorded in ``self.corrupt``."""
        out = []
        for start, stop, path in self.blocks(result_key):
            table = self._verified(path)
            if table is not None:
                out.append((start, stop, table))
        return out

    def _verified(self, path: Path) -> pa.Table | None:
        """The block's table if it reads and verifies; else None, recorded and warned about."""
        try:
            return self.read_block(path)
        except CorruptBlock as exc:
            self.corrupt.append((path, str(exc)))
            warnings.warn(f"{path}: {exc}; it will be recomputed", stacklevel=3)
            return None

    def missing_ranges(self, result_key: str, replications: int) -> list[tuple[int, int]]:
        """Sub-ranges of [0, replications) that no valid block covers. Blocks this Store wrote
        (unchanged since) count as valid unread; every other block is read and verified."""
        covered = []
        for start, stop, path in self.blocks(result_key):
            if self._unchanged_since_written(path) or self._verified(path) is not None:
                covered.append((start, stop))
        return subtract_ranges((0, replications), covered)

    def read_replicates(self, result_key: str, replications: int) -> pa.Table | None:
        """Replications 0..R-1 of a result key in rep order (None if any are missing)."""
        parts = []
        covered = []
        for start, stop, table in self.valid_blocks(result_key):
            parts.append(table)
            covered.append((start, stop))
        if subtract_ranges((0, replications), covered):
            return None
        table = pa.concat_tables(parts)
        reps = column_values(table.column("rep"))
        if reps.size == replications and np.array_equal(reps, np.arange(replications)):
            return table  # blocks tile 0..R-1 in order (the usual case): nothing to reorder
        # Overlapping blocks (different block sizes over time) hold identical rows: keep one.
        _, first = np.unique(reps, return_index=True)
        keep = first[reps[first] < replications]
        return table.take(arrow_array(keep))

    def read_stored(self, result_key: str) -> pa.Table | None:
        """Every stored replication of a result key in rep order (complete or not)."""
        blocks = self.valid_blocks(result_key)
        if not blocks:
            return None
        table = pa.concat_tables([t for _, _, t in blocks])
        _, first = np.unique(column_values(table.column("rep")), return_index=True)
        return table.take(arrow_array(first))

    def remove_result(self, result_key: str) -> None:
        for _, _, path in self.blocks(result_key):
            path.unlink(missing_ok=True)

    # ---- study files ---------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def read_manifest(self) -> dict[str, Any]:
        if not self.manifest_path.is_file():
            return {}
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(
                f"{self.manifest_path}: unreadable manifest ({exc}); delete it to rebuild it "
                "from the stored blocks"
            ) from None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write_json(self.manifest_path, manifest)


def subtract_ranges(whole: tuple[int, int], covered: Iterable[tuple[int, int]]):
    """The parts of the half-open range ``whole`` not covered by any of ``covered``."""
    lo, hi = whole
    gaps = []
    cursor = lo
    for a, b in sorted(covered):
        if b <= cursor:
            continue
        if a > cursor:
            gaps.append((cursor, min(a, hi)))
        cursor = max(cursor, b)
        if cursor >= hi:
            break
    if cursor < hi:
        gaps.append((cursor, hi))
    return [(a, b) for a, b in gaps if a < b]
