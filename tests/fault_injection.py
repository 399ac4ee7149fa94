"""Hooks that stop, kill or freeze a training process on purpose, for the reliability tests
(in-process, or in subprocesses through ``custom_imports=['tests.fault_injection']``)."""
import os
import signal

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


class Killed(Exception):
    pass


@HOOKS.register_module()
class KillAfterIter(Hook):
    """Stands, in-process, for a SIGKILL right after iteration ``iters`` (and its
    checkpoint)."""

    priority = 'LOWEST'

    def __init__(self, iters):
        self.iters = iters

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.iters:
            raise Killed(f'killed after iteration {self.iters}')


@HOOKS.register_module()
class SignalHook(Hook):
    """Send the signal ``sig`` to this process at iteration ``at_iter``.

    Args:
        at_iter (int): The iteration (1-based).
        sig (str): 'SIGKILL' (the process dies) or 'SIGSTOP' (it freezes). Defaults to
            'SIGKILL'.
        rank (int, optional): Only this rank. Defaults to all.
        during (str): 'after_iter': right after the iteration's other hooks; 'checkpoint':
            while the iteration's checkpoint is being written (the bytes are in the
            temporary file, the rename has not happened). Defaults to 'after_iter'.
    """

    priority = 'LOWEST'

    def __init__(self, at_iter: int, sig: str = 'SIGKILL', rank=None,
                 during: str = 'after_iter'):
        self.at_iter = at_iter
        self.sig = getattr(signal, sig)
        self.rank = rank
        self.during = during

    def _due(self, runner) -> bool:
        return runner.iter + 1 == self.at_iter and self.rank in (None, get_rank())

    def _send(self, *args):
        os.kill(os.getpid(), self.sig)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if self.during == 'after_iter' and self._due(runner):
            self._send()

    def before_save_checkpoint(self, runner, checkpoint):
        if self.during == 'checkpoint' and self._due(runner):
            os.fsync = self._send  # the atomic writer syncs the temporary file, then renames

