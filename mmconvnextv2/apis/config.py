"""What tools/train.py and tools/test.py do to a config before the runner sees it."""
import os.path as osp
from typing import Optional

from mmengine.config import Config, DictAction  # noqa: F401  (DictAction for the tools)


def apply_pretrained(cfg: Config) -> Config:
    """Point the backbone at ``cfg.pretrained`` when it is set.

    Every config of this project has a top-level ``pretrained = None``; a user sets it with
    ``--cfg-options pretrained=PATH`` (a backbone checkpoint with ``backbone.`` keys, as
    written by ``tools/model_converters/fcmae_to_backbone.py`` or ``convnextv2_to_mm.py``).
    """
    pretrained = cfg.get('pretrained')
    if pretrained:
        if not osp.isfile(pretrained):
            raise FileNotFoundError(f'pretrained checkpoint not found: {pretrained}')
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=pretrained,
                                           prefix='backbone.')
    return cfg


def load_config(path: str,
                work_dir: Optional[str] = None,
                cfg_options: Optional[dict] = None,
                launcher: str = 'none',
                resume: Optional[str] = None,
                amp: bool = False,
                auto_scale_lr: bool = False) -> Config:
    """Load ``path`` and apply the command-line options of the train and test tools."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume is not None:
        cfg.resume, cfg.load_from = True, resume
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
    return apply_pretrained(cfg)


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
        vis.update(draw=True)
        cfg.visualizer['save_dir'] = show_dir
    else:
        raise ValueError(f'do not know how to enable drawing for {vis["type"]}')
    return cfg
