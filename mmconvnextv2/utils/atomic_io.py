"""Checkpoints are written to a temporary file and renamed into place.

mmengine writes a checkpoint straight to its final name, so a run killed mid-write leaves a
truncated ``iter_N.pth`` that a later resume or evaluation may pick up. Our local file backend
writes ``NAME.tmp-PID``, flushes it to disk and renames it: the final name only ever holds a
complete file.
"""
import os
import os.path as osp
from typing import Union

from mmengine.fileio.backends import LocalBackend, register_backend

TMP_MARK = '.tmp-'


def write_atomic(filepath, data: Union[bytes, str]) -> None:
    """Write ``data`` to ``filepath.tmp-PID``, flush it to disk and rename it to ``filepath``:
    ``filepath`` holds either its old content or all of ``data``, never a part."""
    filepath = str(filepath)
    if isinstance(data, str):
        data = data.encode('utf-8')
    os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
    tmp = f'{filepath}{TMP_MARK}{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic ``put`` and ``put_text``."""

    def put(self, obj: bytes, filepath) -> None:
        write_atomic(filepath, obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)


def register_atomic_backend() -> None:
    """Make the atomic backend mmengine's backend for local paths (idempotent)."""
    from mmengine.fileio import io as fileio
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    # drop local backend instances that mmengine may already have cached
    for key in [k for k, v in fileio.backend_instances.items()
                if type(v) is LocalBackend]:
        del fileio.backend_instances[key]
