"""Resume discovery: which checkpoint ``--resume`` continues from, the seed it keeps, and the
temporary files of killed checkpoint writes it cleans up (used by
:func:`mmconvnextv2.apis.load_config`)."""
import glob
import logging
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import find_latest_checkpoint

from ..checkpoint.io import load_checkpoint_file
from ..utils.atomic_io import TMP_MARK


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint a ``--resume`` without a path continues from.

    ``last_checkpoint`` names it; when that file is missing, empty or names a checkpoint that
    is gone, the newest ``*.pth`` in ``work_dir`` is taken (checkpoints are written
    atomically, so every ``*.pth`` there is complete). None when there is none.
    """
    if not osp.isdir(work_dir):
        return None
    named = find_latest_checkpoint(work_dir) if osp.isfile(
        osp.join(work_dir, 'last_checkpoint')) else None
    if named:  # as written, or in this work dir if the folder was moved
        for candidate in (named, osp.join(work_dir, osp.basename(named))):
            if osp.isfile(candidate):
                return candidate
    found = glob.glob(osp.join(work_dir, '*.pth'))  # temporary files end in .tmp-PID
    if not found:
        return None
    newest = max(found, key=os.path.getmtime)
    print_log(f'last_checkpoint in {work_dir} is missing, empty or names a file that is not '
              f'there ({named!r}); resuming from the newest checkpoint, {newest}',
              logger='current', level=logging.WARNING)
    return newest


def keep_seed(cfg: Config, checkpoint: str) -> Config:
    """Give a resumed run the seed of the run it continues, when the config sets none (and
    refuse, naming it, a checkpoint that cannot be read safely).

    mmengine restores the seed from the checkpoint only after it has built the data loaders,
    whose samplers have by then drawn their shuffling seed from a new random seed: the
    resumed run would see the data in another order.
    """
    # read (memory-mapped) in any case: a truncated or unsafe file is named here
    meta = load_checkpoint_file(checkpoint, mmap=True).get('meta') or {}
    seed = meta.get('seed')
    if seed is not None and (cfg.get('randomness') or {}).get('seed') is None:
        cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    return cfg


def remove_partial_writes(work_dir: str) -> List[str]:
    """Delete the temporary files of checkpoint writes that were killed (rank 0 only)."""
    if int(os.environ.get('RANK', 0)) != 0:
        return []
    removed = glob.glob(osp.join(work_dir, f'*{TMP_MARK}*'))
    for path in removed:
        os.remove(path)
        print_log(f'removed {path}, left by a checkpoint write that was interrupted',
                  logger='current')
    return removed
