"""What tools/train.py and tools/test.py do to a config before the runner sees it."""
import os.path as osp
from typing import Optional

from mmengine.config import Config, DictAction

from ..datasets.config_swap import use_checked_data
from ..engine.resume import keep_seed, latest_checkpoint, remove_partial_writes


def add_runner_args(parser) -> None:
    """The options tools/train.py and tools/test.py share: --cfg-options, --launcher and the
    local rank that launchers pass (also exported as LOCAL_RANK, as mmengine reads it)."""
    import argparse
    import os

    class LocalRank(argparse.Action):

        def __call__(self, parser, namespace, value, option_string=None):
            setattr(namespace, self.dest, value)
            os.environ.setdefault('LOCAL_RANK', str(value))

    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (e.g. pretrained=PATH, '
                        'data_root=PATH)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0, action=LocalRank)


def apply_pretrained(cfg: Config) -> Config:
    """Point the backbone at ``cfg.pretrained`` when it is set.

    Every config of this project has a top-level ``pretrained = None``; a user sets it with
    ``--cfg-options pretrained=PATH``: a ``.pth``/``.pt`` or ``.safetensors`` checkpoint of
    ours (``backbone.`` keys, or a backbone state dict), or an official, timm, Hugging Face or
    mmpretrain ConvNeXt V2 one, which the backbone recognizes by its keys and converts when
    it initializes its weights (:func:`mmconvnextv2.checkpoint.io.load_pretrained`).
    """
    pretrained = cfg.get('pretrained')
    if pretrained:
        if not osp.isfile(pretrained):
            raise FileNotFoundError(f'pretrained checkpoint not found: {pretrained}')
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=pretrained,
                                           prefix='backbone.')
    return cfg


def use_cpu_distributed(cfg: Config) -> Config:
    """Without CUDA, distributed training runs on the gloo backend and DDP gets no device ids
    (mmengine's defaults, nccl and ``device_ids=[LOCAL_RANK]``, are GPU-only)."""
    import torch
    if torch.cuda.is_available():
        return cfg
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel',
                                                    broadcast_buffers=False)
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return cfg


def init_cpu_distributed(cfg: Config) -> None:
    """Start the gloo process group for a CPU-only ``--launcher pytorch`` run.

    mmengine's pytorch launcher calls ``torch.cuda.set_device`` unconditionally; when the
    group already exists, the runner uses it as it is.
    """
    import datetime

    import torch
    import torch.distributed as dist
    if cfg.get('launcher') != 'pytorch' or torch.cuda.is_available() or dist.is_initialized():
        return
    timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout', 1800)
    dist.init_process_group('gloo', timeout=datetime.timedelta(seconds=timeout))


def close_distributed() -> None:
    """Tear down the process group at the end of a distributed run, before the interpreter
    exits.

    mmengine never does. Left to the interpreter's shutdown, a gloo worker thread may still
    be releasing the tensors of a finished collective when Python finalizes; it then cannot
    take the GIL, is unwound, and the process aborts after a run that succeeded (``terminate
    called without an active exception``, exit code -6; 2 of about 70 successful 2-process
    runs here, the stack read from a core dump). Waiting for every process (barrier), then
    destroying the group and collecting the objects that still hold it (the DDP wrapper)
    ends those threads while Python is alive. The caller drops its runner first.
    """
    import gc

    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return
    dist.barrier()
    dist.destroy_process_group()
    gc.collect()


RELIABILITY_HOOKS = ('RNGStateHook', 'FiniteLossHook', 'NumClassesCheckHook')


def add_reliability_hooks(cfg: Config) -> Config:
    """Every run resumes exactly (``RNGStateHook``), stops at a non-finite loss
    (``FiniteLossHook``) and checks that model and data agree on the classes
    (``NumClassesCheckHook``); checkpoints are written by ``AtomicCheckpointHook``. The
    config's own custom hooks are kept."""
    hooks = list(cfg.get('custom_hooks') or [])
    present = {h.get('type') for h in hooks}
    hooks += [dict(type=name) for name in RELIABILITY_HOOKS if name not in present]
    cfg.custom_hooks = hooks
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint is not None and checkpoint.get('type') in ('CheckpointHook',
                                                             'mmengine.CheckpointHook'):
        checkpoint['type'] = 'AtomicCheckpointHook'
    return cfg


def rebase_data_root(cfg: Config, old: str, new: str) -> Config:
    """Re-point every path under ``old`` in the data loaders and evaluators to ``new``.

    Configs spell their data paths from a top-level ``data_root``; overriding it with
    ``--cfg-options data_root=PATH`` must move them all, which a plain merge does not do
    (they were formatted when the config was parsed).
    """
    def rebase(node):
        if isinstance(node, str):
            return new.rstrip('/') + node[len(old.rstrip('/')):] \
                if node.startswith(old.rstrip('/')) else node
        if isinstance(node, dict):
            return type(node)({k: rebase(v) for k, v in node.items()})
        if isinstance(node, (list, tuple)):
            return type(node)(rebase(v) for v in node)
        return node

    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
                'test_evaluator'):
        if cfg.get(key) is not None:
            cfg[key] = rebase(cfg[key])
    return cfg


def load_config(path: str,
                work_dir: Optional[str] = None,
                cfg_options: Optional[dict] = None,
                launcher: str = 'none',
                resume: Optional[str] = None,
                amp: bool = False,
                auto_scale_lr: bool = False,
                skip_bad_samples: bool = False) -> Config:
    """Load ``path`` and apply the command-line options of the train and test tools.

    ``resume='auto'`` continues from :func:`latest_checkpoint` of the work dir (and starts
    afresh when there is none); ``skip_bad_samples`` (or ``skip_bad_samples = True`` in the
    config) makes the training loader log and skip bad files (:func:`use_checked_data`).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    old_root = cfg.get('data_root')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if old_root and cfg.get('data_root') != old_root:
        rebase_data_root(cfg, old_root, cfg.data_root)
    cfg.launcher = launcher
    if launcher != 'none':
        use_cpu_distributed(cfg)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    if resume is not None and osp.isdir(cfg.work_dir):
        remove_partial_writes(cfg.work_dir)
    if resume == 'auto':
        cfg.load_from = latest_checkpoint(cfg.work_dir)
        cfg.resume = cfg.load_from is not None
        if not cfg.resume:
            from mmengine.logging import print_log
            print_log(f'--resume: no checkpoint in {cfg.work_dir}, training from the start',
                      logger='current')
    elif resume is not None:
        if not osp.isfile(resume):
            raise FileNotFoundError(f'checkpoint to resume from not found: {resume}')
        cfg.resume, cfg.load_from = True, resume
    if resume is not None and cfg.resume:
        keep_seed(cfg, cfg.load_from)
    if amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper == 'AmpOptimWrapper':
            pass
        elif optim_wrapper != 'OptimWrapper':
            raise ValueError(f'--amp needs an OptimWrapper, the config has {optim_wrapper}')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ValueError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    add_reliability_hooks(cfg)
    use_checked_data(cfg, skip_bad_samples or bool(cfg.get('skip_bad_samples')))
    unscope_collate_fns(cfg)
    return apply_pretrained(cfg)


def unscope_collate_fns(cfg: Config) -> Config:
    """Drop the ``_scope_`` key from each dataloader's ``collate_fn``.

    mmengine gives every setting a config inherits by package scope (``_base_ =
    'mmconvnextv2::...'``) a ``_scope_`` key, and its runner passes a ``collate_fn`` dict's keys
    other than ``type`` to the function as keyword arguments: ``default_collate`` then fails
    with an unexpected ``_scope_``.
    """
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if isinstance(loader, dict) and isinstance(loader.get('collate_fn'), dict):
            loader['collate_fn'].pop('_scope_', None)
    return cfg


def enable_show_dir(cfg: Config, show_dir: str) -> Config:
    """Make the test run draw its predictions into ``show_dir``, whichever library's
    visualization hook the config uses (mmpretrain, mmdet or mmseg)."""
    vis = cfg.get('default_hooks', {}).get('visualization')
    if vis is None:
        raise ValueError('the config has no default_hooks.visualization to draw with')
    hook = vis['type'].split('.')[-1]
    if hook == 'VisualizationHook':             # mmpretrain
        vis.update(enable=True, out_dir=show_dir)
    elif hook == 'DetVisualizationHook':        # mmdet
        vis.update(draw=True, test_out_dir=show_dir)
    elif hook == 'SegVisualizationHook':        # mmseg draws into the visualizer's save_dir
        vis.update(draw=True, interval=1)
        cfg.visualizer['save_dir'] = show_dir
    else:
        raise ValueError(f'do not know how to enable drawing for {vis["type"]}')
    return cfg
