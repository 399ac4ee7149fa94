"""The contenders of ``tools/analysis/benchmark.py``: each a (group, name, step) case."""
import copy
from contextlib import nullcontext
from typing import Callable, Dict, Sequence, Tuple

import torch

from .timing import autocast

Case = Tuple[str, str, Callable[[], None]]  # (group, name, step)


def build_fcmae(arch: str, backend: str, decoder_type: str = 'convnext'):
    """The FCMAE model of the official recipe (decoder width 512, one block) for ``arch``."""
    from mmpretrain.registry import MODELS

    from ..models import ConvNeXtV2
    channels = ConvNeXtV2.arch_settings[arch]['channels']
    unet = decoder_type == 'unet'
    return MODELS.build(
        dict(type='FCMAE',
             backbone=dict(type='ConvNeXtV2', arch=arch, final_norm=False,
                           gap_before_final_norm=False, sparse_backend=backend,
                           out_indices=(0, 1, 2, 3) if unet else (3, )),
             neck=dict(type='FCMAENeck', in_channels=channels[-1], embed_dim=512,
                       decoder_type=decoder_type, skip_channels=channels[:3], num_heads=16),
             head=dict(type='FCMAEHead')))


def adamw(params, device) -> torch.optim.AdamW:
    """AdamW as the shipped recipes build it: ``fused`` (one kernel for every parameter)."""
    return torch.optim.AdamW(params, lr=1e-4, fused=torch.device(device).type in ('cpu', 'cuda'))


def train_step(model, imgs, enc_mask, loss_mask, device, dtype, compiled=False):
    """One FCMAE training step as a closure: forward, loss on ``loss_mask``, backward, AdamW;
    with ``compiled``, the forward and the loss run through ``torch.compile``."""
    from torch.autograd.profiler import record_function
    optimizer = adamw(model.parameters(), device)

    def forward_loss(imgs, enc_mask, loss_mask):
        feats = model.backbone(imgs, enc_mask)
        pred = model.neck(feats, loss_mask)
        # a label for benchmark.profile (left out of compiled graphs)
        with nullcontext() if compiled else record_function('fcmae::loss'):
            return model.head.loss(pred.float(), imgs, loss_mask)

    fn = torch.compile(forward_loss) if compiled else forward_loss

    def step():
        optimizer.zero_grad(set_to_none=True)
        with autocast(device, dtype):
            loss = fn(imgs, enc_mask, loss_mask)
        loss.backward()
        optimizer.step()

    step.model = model
    return step


def fcmae_cases(arch: str = 'tiny', size: int = 224, batch: int = 8,
                ratios: Sequence[float] = (0.0, 0.6, 0.75),
                backends: Sequence[str] = ('masked_dense', 'gather'), device: str = 'cpu',
                dtype: str = 'fp32', compile: bool = False, seed: int = 0) -> Dict[str, Case]:
    """One FCMAE training step (forward, backward, AdamW) per sparse backend and mask ratio,
    and the dense step (no mask; loss on every patch) as group ``dense``; with ``compile``,
    each also through ``torch.compile`` (named ``<backend>+compile``)."""
    from ..models import random_patch_mask
    g = torch.Generator().manual_seed(seed)
    imgs = torch.randn(batch, 3, size, size, generator=g).to(device)
    grid = size // 32
    cases = {}
    dense = build_fcmae(arch, 'gather').to(device)
    every_patch = torch.ones(batch, grid, grid, device=device)
    cases['dense'] = ('fcmae_step', 'dense (no mask)',
                      train_step(dense, imgs, None, every_patch, device, dtype))
    for ratio in ratios:
        if ratio == 0:
            enc_mask, loss_mask = torch.zeros(batch, grid, grid, device=device), every_patch
        else:
            enc_mask = random_patch_mask(batch, grid, grid, ratio, generator=g).to(device)
            loss_mask = enc_mask
        for backend in backends:
            for compiled in ((False, True) if compile else (False, )):
                model = build_fcmae(arch, backend).to(device)
                model.load_state_dict(dense.state_dict())
                name = f'{backend}+compile' if compiled else backend
                cases[f'{name}@{ratio}'] = (
                    f'fcmae_step mask {ratio}', name,
                    train_step(model, imgs, enc_mask, loss_mask, device, dtype, compiled))
    return cases


def decoder_cases(arch: str = 'tiny', size: int = 224, batch: int = 8, device: str = 'cpu',
                  dtype: str = 'fp32', seed: int = 0) -> Dict[str, Case]:
    """The FCMAE step (mask 0.6, gather) per decoder type, for the decoder ablation's speed."""
    from ..models import random_patch_mask
    g = torch.Generator().manual_seed(seed)
    imgs = torch.randn(batch, 3, size, size, generator=g).to(device)
    mask = random_patch_mask(batch, size // 32, size // 32, 0.6, generator=g).to(device)
    cases = {}
    for decoder_type, depth in (('unet', 1), ('transformer', 4), ('convnext', 1)):
        model = build_fcmae(arch, 'gather', decoder_type).to(device)
        if decoder_type == 'transformer':
            model.neck = type(model.neck)(in_channels=model.neck.proj.in_channels,
                                          embed_dim=512, depth=depth,
                                          decoder_type='transformer').to(device)
        cases[decoder_type] = ('fcmae_step by decoder', decoder_type,
                               train_step(model, imgs, mask, mask, device, dtype))
    return cases


def backbone_cases(arch: str = 'tiny', size: int = 224, batch: int = 8, device: str = 'cpu',
                   dtype: str = 'fp32', channels_last: bool = False, compile: bool = False,
                   backward: bool = False, maps: bool = False, seed: int = 0
                   ) -> Dict[str, Case]:
    """This project's ConvNeXt V2, timm's ``convnextv2_<arch>`` and mmpretrain's
    ``ConvNeXt(use_grn=True)``, all with the same weights (through our converters).

    By default each returns the pooled, normalized features of a classifier. With ``maps``,
    each returns the maps of its four stages, as a detection or segmentation backbone does:
    ours and mmpretrain's with a LayerNorm on each map (contiguous NCHW), timm's through
    ``forward_intermediates`` (no norms).
    """
    import timm
    from mmpretrain.models import ConvNeXt as MMPretrainConvNeXt

    from ..checkpoint import convert_timm
    from ..models import ConvNeXtV2
    torch.manual_seed(seed)
    ref = timm.create_model(f'convnextv2_{arch}', num_classes=0)
    outputs = dict(out_indices=(0, 1, 2, 3), gap_before_final_norm=False) if maps else \
        dict(out_indices=(3, ), gap_before_final_norm=True)
    ours = ConvNeXtV2(arch, init_cfg=None, **outputs)
    sd = {k[len('backbone.'):]: v for k, v in convert_timm(ref.state_dict()).items()}
    mm = MMPretrainConvNeXt(arch=arch, use_grn=True, layer_scale_init_value=0., **outputs)
    mm_sd = {k.replace('.dwconv.', '.depthwise_conv.').replace('.pwconv1.', '.pointwise_conv1.')
             .replace('.pwconv2.', '.pointwise_conv2.'): v for k, v in sd.items()}
    for model, state in ((ours, sd), (mm, mm_sd)):
        missing, unexpected = model.load_state_dict(state, strict=False)
        # only the norms of the extra output maps are not in a classifier's weights
        if unexpected or not all(k.startswith(('norm0', 'norm1', 'norm2')) for k in missing):
            raise RuntimeError(f'{type(model).__name__}: weights do not match, missing '
                               f'{missing[:4]}, unexpected {unexpected[:4]}')
    x = torch.randn(batch, 3, size, size).to(device)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    x = x.contiguous(memory_format=memory_format)
    group = (f'backbone {arch} {size}px {"maps " if maps else ""}'
             f'{"fwd+bwd" if backward else "fwd"}')
    cases = {}
    for name, model in (('mmconvnextv2', ours), ('timm', ref), ('mmpretrain', mm)):
        model = model.to(device).to(memory_format=memory_format)
        model.train(backward)
        forward = model
        if maps and name == 'timm':
            def forward(x, model=model):
                return model.forward_intermediates(x, intermediates_only=True)
        fn = torch.compile(forward) if compile else forward

        def step(fn=fn, model=model):
            if backward:
                model.zero_grad(set_to_none=True)
                with autocast(device, dtype):
                    out = fn(x)
                    out = out if isinstance(out, (tuple, list)) else (out, )
                sum(o.float().sum() for o in out).backward()
            else:
                with torch.no_grad(), autocast(device, dtype):
                    fn(x)

        cases[name] = (group, name, step)
    return cases


DOWNSTREAM = dict(
    detector=('mmdet', 'mask_rcnn/mask-rcnn_convnextv2-{arch}_fpn_1x_coco.py', 'Mask R-CNN'),
    segmentor=('mmseg', 'upernet/upernet_convnextv2-{arch}_8xb2-160k_ade20k-512x512.py',
               'UperNet'))


def _detection_batch(batch: int, size: int, num_classes: int, seed: int) -> dict:
    """Packed inputs of ``batch`` random images with 5 random boxes and masks each."""
    from mmdet.testing import demo_mm_inputs
    torch.manual_seed(seed)
    import numpy as np
    np.random.seed(seed)
    return demo_mm_inputs(batch, (3, size, size), num_items=[5] * batch,
                          num_classes=num_classes, with_mask=True)


def _segmentation_batch(batch: int, size: int, num_classes: int, seed: int) -> dict:
    """Packed inputs of ``batch`` random images with random label maps."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8))
        sample = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                             pad_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, size, size),
                                                         generator=g))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def downstream_cases(task: str, arch: str = 'tiny', size: int = 224, batch: int = 8,
                     device: str = 'cpu', dtype: str = 'fp32', with_cp: bool = False,
                     seed: int = 0) -> Dict[str, Case]:
    """A training step (forward, losses, backward, AdamW) of the shipped Mask R-CNN
    (``task='detector'``) or UperNet (``'segmentor'``) config of ``arch``, with our backbone
    and with mmpretrain's ``ConvNeXt(use_grn=True, layer_scale_init_value=0)`` in its place,
    the same weights in both (mmpretrain's, converted); ``with_cp`` adds ours with gradient
    checkpointing. Random images of ``size`` px with random targets."""
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    scope, path, title = DOWNSTREAM[task]
    from ..apis.model_zoo import get_config_path
    cfg = Config.fromfile(get_config_path(path.format(arch=arch)))
    ours_cfg = copy.deepcopy(cfg.model)
    if task == 'segmentor':
        ours_cfg.data_preprocessor.size = (size, size)
    ref_cfg = copy.deepcopy(ours_cfg)
    ref_cfg.backbone = dict(type='mmpretrain.ConvNeXt', arch=arch, use_grn=True,
                            layer_scale_init_value=0., gap_before_final_norm=False,
                            out_indices=(0, 1, 2, 3),
                            drop_path_rate=ours_cfg.backbone.get('drop_path_rate', 0.))
    torch.manual_seed(seed)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs every parameter
    try:
        contenders, packed = _build_downstream(task, scope, cfg, ours_cfg, ref_cfg, batch,
                                               size, with_cp, seed)
    finally:
        logger.setLevel(level)
    group = f'{title} {size}px train step'
    cases = {}
    for name in ('mmconvnextv2', 'mmconvnextv2 with_cp', 'mmpretrain'):
        if name not in contenders:
            continue
        model = contenders[name].to(device).train()
        data = model.data_preprocessor(copy.deepcopy(packed), True)
        optimizer = adamw([p for p in model.parameters() if p.requires_grad], device)

        def step(model=model, data=data, optimizer=optimizer):
            optimizer.zero_grad(set_to_none=True)
            with autocast(device, dtype):
                losses = model(**data, mode='loss')
            loss, _ = model.parse_losses(losses)
            loss.backward()
            optimizer.step()

        step.model = model
        cases[name] = (group, name, step)
        if name != 'mmconvnextv2 with_cp':
            cases[name + ' backbone'] = (f'{title} {size}px in-model backbone fwd+bwd', name,
                                         _backbone_step(model, data['inputs'], device, dtype,
                                                        seed))
    return cases


def _backbone_step(model, inputs: torch.Tensor, device: str, dtype: str,
                   seed: int) -> Callable[[], None]:
    """The forward and backward of ``model.backbone`` alone on the step's inputs, with fixed
    random gradients on its maps: the backbone's share of :func:`downstream_cases`' step."""
    backbone = model.backbone
    with torch.no_grad(), autocast(device, dtype):
        shapes = [o.shape for o in backbone(inputs)]
    g = torch.Generator().manual_seed(seed)
    grads = [torch.randn(s, generator=g).to(device) for s in shapes]

    def step():
        backbone.zero_grad(set_to_none=True)
        with autocast(device, dtype):
            outs = backbone(inputs)
        torch.autograd.backward([o.float() for o in outs], grads)

    return step


def backbone_shares(results) -> Dict[str, Dict[str, float]]:
    """Per train-step group of :func:`downstream_cases`: the reference backbone's share of the
    reference step, and the step ratio our backbone alone would give (the reference step with
    its backbone's time replaced by ours), to set beside the measured ratio."""
    by_key = {(r.group, r.name): r.median_s for r in results}
    out = {}
    for (group, name), t_ref in by_key.items():
        if name != 'mmpretrain' or not group.endswith('train step'):
            continue
        bb_group = group.replace('train step', 'in-model backbone fwd+bwd')
        b_ref = by_key.get((bb_group, 'mmpretrain'))
        b_ours = by_key.get((bb_group, 'mmconvnextv2'))
        t_ours = by_key.get((group, 'mmconvnextv2'))
        if None in (b_ref, b_ours, t_ours):
            continue
        out[group] = dict(backbone_share=b_ref / t_ref, backbone_ratio=b_ours / b_ref,
                          expected_step_ratio=(t_ref - b_ref + b_ours) / t_ref,
                          measured_step_ratio=t_ours / t_ref)
    return out


def _build_downstream(task, scope, cfg, ours_cfg, ref_cfg, batch, size, with_cp, seed):
    """The contenders of :func:`downstream_cases` (mmpretrain's weights in all) and a batch."""
    from mmengine.registry import MODELS, DefaultScope

    from ..checkpoint import convert_mmpretrain
    with DefaultScope.overwrite_default_scope(scope):
        ref = MODELS.build(ref_cfg)
        ref.init_weights()
        contenders = {'mmpretrain': ref}
        weights = convert_mmpretrain(ref.state_dict())
        for name, cp in (('mmconvnextv2', False), ('mmconvnextv2 with_cp', True)):
            if cp and not with_cp:
                continue
            model_cfg = copy.deepcopy(ours_cfg)
            model_cfg.backbone.with_cp = cp
            model = MODELS.build(model_cfg)
            model.load_state_dict(weights)
            contenders[name] = model
        if task == 'detector':
            num_classes = cfg.model.roi_head.bbox_head.num_classes
            packed = _detection_batch(batch, size, num_classes, seed)
        else:
            packed = _segmentation_batch(batch, size, cfg.model.decode_head.num_classes, seed)
    return contenders, packed


def detector_cases(**kwargs) -> Dict[str, Case]:
    """A Mask R-CNN training step per backbone (:func:`downstream_cases`)."""
    return downstream_cases('detector', **kwargs)


def segmentor_cases(**kwargs) -> Dict[str, Case]:
    """An UperNet training step per backbone (:func:`downstream_cases`)."""
    return downstream_cases('segmentor', **kwargs)


def dwconv_cases(arch: str = 'tiny', size: int = 224, batch: int = 8,
                 ratios: Sequence[float] = (0.6, 0.75), device: str = 'cpu', dtype: str = 'fp32',
                 seed: int = 0) -> Dict[str, Case]:
    """The 7x7 depthwise convolution of each stage on the visible tokens, forward and
    backward: the gather backend's two ways, ``dense map`` (scatter into a zero map, the dense
    convolution, gather: ``gather_dense_conv``) and ``sparse operator`` (``gather``). The
    operator's neighbour table is built on the first call and kept, as a forward builds it once
    per stage for all of the stage's blocks (the FCMAE suite times it as part of the step)."""
    from ..models import ConvNeXtV2, random_patch_mask
    from ..models.sparse import build_sparse_backend
    from ..ops import ops_available, ops_import_error
    if not ops_available():
        raise RuntimeError(f'the dwconv suite needs mmconvnextv2._ext ({ops_import_error()}); '
                           f'run `make install`')
    if dtype != 'fp32':
        raise ValueError('the dwconv suite compares fp32 operators (the sparse one has no bf16)')
    g = torch.Generator().manual_seed(seed)
    channels = ConvNeXtV2.arch_settings[arch]['channels']
    grid = size // 32
    cases = {}
    for ratio in ratios:
        if ratio == 0:
            continue
        mask = random_patch_mask(batch, grid, grid, ratio, generator=g).to(device)
        for stage, C in enumerate(channels):
            conv = torch.nn.Conv2d(C, C, 7, padding=3, groups=C).to(device)
            H = size // 4 // 2**stage
            dense = torch.randn(batch, C, H, H, generator=g).to(device)
            grad = None
            for name in ('gather_dense_conv', 'gather'):  # the same tokens and gradient
                backend = build_sparse_backend(name, mask, 4, (size, size), len(channels))
                backend.stage = stage
                x = backend.enter(dense).detach().requires_grad_(True)
                grad = torch.randn(x.shape, generator=g).to(device) if grad is None else grad

                def step(backend=backend, x=x, conv=conv, grad=grad):
                    y = backend.spatial(conv, x)
                    y.backward(grad)
                    return y.detach()

                step.tokens = x
                label = 'sparse operator' if name == 'gather' else 'dense map'
                cases[f'{label}@{ratio}/{stage}'] = (
                    f'depthwise conv fwd+bwd, stage {stage} ({H}x{H}x{C}), mask {ratio}', label,
                    step)
    return cases


SUITES = dict(backbone=backbone_cases, fcmae=fcmae_cases, decoder=decoder_cases,
              detector=detector_cases, segmentor=segmentor_cases, dwconv=dwconv_cases)
