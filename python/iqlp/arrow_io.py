"""Arrow IPC *file* format, the store's encoding (the engine's src/store/arrow-io.ts agrees)."""

from __future__ import annotations

import os


def read_table(path: str | os.PathLike):
    """Reads an Arrow IPC file into memory (the file may be removed afterwards)."""
    import pyarrow as pa

    with pa.OSFile(os.fspath(path), "rb") as f:
        return pa.ipc.open_file(f).read_all()


def map_table(path: str | os.PathLike):
    """Memory-maps a read-only Arrow IPC file: no copy, columns are views of the page cache."""
    import pyarrow as pa

    return pa.ipc.open_file(pa.memory_map(os.fspath(path), "r")).read_all()


def write_table(table, path: str | os.PathLike) -> None:
    """Writes ``table`` as an Arrow IPC file, via a temp name so a reader never sees half a file."""
    import pyarrow as pa

    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    with pa.OSFile(tmp, "wb") as sink:
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    os.replace(tmp, path)
