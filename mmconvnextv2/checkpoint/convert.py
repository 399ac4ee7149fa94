"""Pure conversions of ConvNeXt V2 checkpoints from the rest of the world to ours.

Our layout is mmpretrain's ``ImageClassifier`` with our ``ConvNeXtV2`` backbone:
``backbone.downsample_layers.*``, ``backbone.stages.{i}.{j}.{dwconv,norm,pwconv1,grn,pwconv2}``,
``backbone.norm3`` (the final LayerNorm after global pooling) and ``head.fc`` (the classifier).
Encoder-only sources (FCMAE pretraining) give ``backbone.*`` keys only.

Each function takes a state dict of tensors and returns a new one; none reads files or runs
anything stored in a checkpoint. :func:`detect_source` names the format of a state dict from its
keys, so that a checkpoint of any of them can be given as it is (``pretrained=PATH``).
"""
import math
import re
from collections import OrderedDict
from typing import Dict, Iterable, Mapping, Optional, Tuple

import torch

StateDict = Dict[str, torch.Tensor]

SOURCES = ('official', 'timm', 'hf', 'mmpretrain')
# the formats :func:`detect_source` tells apart, as a log line names them
SOURCE_NAMES = dict(
    official='official ConvNeXt V2 (facebookresearch/ConvNeXt-V2)',
    timm='timm ConvNeXt V2',
    hf='Hugging Face transformers ConvNextV2',
    mmpretrain='mmpretrain ConvNeXt (use_grn=True)',
    ours='mmconvnextv2',
)


def unwrap(checkpoint: Mapping) -> StateDict:
    """The state dict inside a checkpoint (``model``, ``state_dict`` or ``module`` wrappers)."""
    for key in ('state_dict', 'model', 'module'):
        if isinstance(checkpoint, Mapping) and key in checkpoint and \
                isinstance(checkpoint[key], Mapping):
            return unwrap(checkpoint[key])
    return dict(checkpoint)


def _minkowski_kernel_to_dense(v: torch.Tensor) -> torch.Tensor:
    """A MinkowskiEngine kernel as the equivalent ``nn.Conv2d`` weight.

    Dense convs are ``(K*K, C_in, C_out)``; channelwise (depthwise) ones are ``(K*K, C)``.
    The spatial offsets are stored x-major, hence the final transpose (as the official
    ``remap_checkpoint_keys``).
    """
    if v.ndim == 3:
        kk, c_in, c_out = v.shape
        k = math.isqrt(kk)
        return v.permute(2, 1, 0).reshape(c_out, c_in, k, k).transpose(3, 2).contiguous()
    kk, c = v.shape
    k = math.isqrt(kk)
    return v.permute(1, 0).reshape(c, 1, k, k).transpose(3, 2).contiguous()


def convert_official(state_dict: Mapping) -> StateDict:
    """facebookresearch/ConvNeXt-V2 → ours.

    Handles the fine-tuned classifiers (``convnextv2_*_224_ema.pt``: dense keys, GRN
    parameters shaped ``(1, 1, 1, C)``) and the FCMAE pretraining checkpoints
    (``*_fcmae.pt``: ``encoder.`` prefix, MinkowskiEngine ``kernel`` tensors, ``ln``/``linear``
    wrappers). Decoder weights of an FCMAE checkpoint are dropped here; see
    :func:`convert_official_fcmae` to keep them.
    """
    out = OrderedDict()
    for k, v in unwrap(state_dict).items():
        _refuse_layer_scale(k, r'stages\.\d+\.\d+\.gamma$', ' (a ConvNeXt V1 checkpoint?)')
        if k.startswith('encoder.'):
            k = k[len('encoder.'):]
        elif k.startswith(('proj.', 'decoder.', 'pred.', 'mask_token')):
            continue
        if k.endswith('.kernel'):
            k, v = k[:-len('.kernel')] + '.weight', _minkowski_kernel_to_dense(v)
        k = re.sub(r'\.(ln|linear)\.', '.', k)
        if '.grn.' in k or (k.endswith('bias') and v.ndim > 1):
            v = v.reshape(-1)
        if k.startswith('head.'):
            out['head.fc.' + k[len('head.'):]] = v
        elif k.startswith('norm.'):
            out['backbone.norm3.' + k[len('norm.'):]] = v
        else:
            out['backbone.' + k] = v
    return out


def convert_official_fcmae(state_dict: Mapping) -> StateDict:
    """An official FCMAE checkpoint → our ``FCMAE`` model (encoder, decoder, mask token).

    The decoder keys map to our ``FCMAENeck``: ``proj`` → ``neck.proj``, ``mask_token`` →
    ``neck.mask_token``, ``decoder.{j}`` → ``neck.decoder.{j}``, ``pred`` → ``neck.pred``.
    """
    sd = unwrap(state_dict)
    out = convert_official({k: v for k, v in sd.items() if k.startswith('encoder.')})
    for k, v in sd.items():
        if k.startswith(('proj.', 'pred.', 'mask_token')):
            out['neck.' + k] = v
        elif k.startswith('decoder.'):
            out['neck.' + k] = v.reshape(-1) if '.grn.' in k else v
    return out


def convert_timm(state_dict: Mapping) -> StateDict:
    """timm ``convnextv2_*`` → ours."""
    out = OrderedDict()
    for k, v in unwrap(state_dict).items():
        _refuse_layer_scale(k, r'stages\.\d+\.blocks\.\d+\.gamma$', ' (a ConvNeXt V1 checkpoint?)')
        k = k.replace('stem.', 'downsample_layers.0.')
        k = re.sub(r'stages\.(\d+)\.downsample\.', r'downsample_layers.\1.', k)
        k = re.sub(r'stages\.(\d+)\.blocks\.(\d+)\.', r'stages.\1.\2.', k)
        k = k.replace('.conv_dw.', '.dwconv.').replace('.mlp.fc1.', '.pwconv1.')
        k = k.replace('.mlp.fc2.', '.pwconv2.').replace('.mlp.grn.weight', '.grn.gamma')
        k = k.replace('.mlp.grn.bias', '.grn.beta')
        if re.search(r'\.pwconv[12]\.weight$', k) and v.ndim == 4:  # timm's 1x1 conv MLP
            v = v.flatten(1)
        if k.startswith('head.norm.'):
            out['backbone.norm3.' + k[len('head.norm.'):]] = v
        elif k.startswith('head.fc.'):
            out[k] = v
        elif k.startswith('norm_pre.'):
            raise ValueError(f'{k}: timm models with a pre-head norm are not ConvNeXt V2')
        else:
            out['backbone.' + k] = v
    return out


_HF_KEYS = (  # transformers ConvNextV2 → ours, after the ``convnextv2.`` prefix
    (r'embeddings\.patch_embeddings\.', 'backbone.downsample_layers.0.0.'),
    (r'embeddings\.layernorm\.', 'backbone.downsample_layers.0.1.'),
    (r'encoder\.stages\.(\d+)\.downsampling_layer\.([01])\.', r'backbone.downsample_layers.\1.\2.'),
    (r'encoder\.stages\.(\d+)\.layers\.(\d+)\.layernorm\.', r'backbone.stages.\1.\2.norm.'),
    (r'encoder\.stages\.(\d+)\.layers\.(\d+)\.grn\.weight$', r'backbone.stages.\1.\2.grn.gamma'),
    (r'encoder\.stages\.(\d+)\.layers\.(\d+)\.grn\.bias$', r'backbone.stages.\1.\2.grn.beta'),
    (r'encoder\.stages\.(\d+)\.layers\.(\d+)\.(dwconv|pwconv1|pwconv2)\.',
     r'backbone.stages.\1.\2.\3.'),
    (r'layernorm\.', 'backbone.norm3.'),
    (r'classifier\.', 'head.fc.'),
)


def convert_hf(state_dict: Mapping) -> StateDict:
    """Hugging Face transformers ``ConvNextV2*`` → ours.

    ``ConvNextV2ForImageClassification`` (``convnextv2.`` prefix, ``classifier``) and
    ``ConvNextV2Model`` (no prefix) checkpoints, as the ``facebook/convnextv2-*`` models; the
    per-stage output norms of ``ConvNextV2Backbone`` (``hidden_states_norms.stage{k}``) become
    ``backbone.norm{k-1}``. GRN ``weight``/``bias`` ``(1, 1, 1, C)`` become ``gamma``/``beta``
    ``(C,)``.

    Note that transformers builds the final LayerNorm with ``config.layer_norm_eps`` (1e-12 by
    default) where ours, as the official model, uses 1e-6.
    """
    out = OrderedDict()
    for key, v in unwrap(state_dict).items():
        k = key[len('convnextv2.'):] if key.startswith('convnextv2.') else key
        m = re.match(r'hidden_states_norms\.stage(\d+)\.(weight|bias)$', k)
        if m:
            out[f'backbone.norm{int(m.group(1)) - 1}.{m.group(2)}'] = v
            continue
        for pattern, repl in _HF_KEYS:
            if re.match(pattern, k):
                k = re.sub('^' + pattern, repl, k)
                break
        else:
            raise ValueError(f'{key}: not a weight of a transformers ConvNextV2 model')
        out[k] = v.reshape(-1) if '.grn.' in k else v
    return out


def convert_mmpretrain(state_dict: Mapping) -> StateDict:
    """mmpretrain ``ConvNeXt(use_grn=True, layer_scale_init_value=0)`` → ours.

    An ``ImageClassifier`` checkpoint keeps its keys; a backbone state dict (no ``backbone.``
    prefix) gets the prefix.
    """
    out = OrderedDict()
    for k, v in unwrap(state_dict).items():
        _refuse_layer_scale(k, r'stages\.\d+\.\d+\.gamma$', ' (build the mmpretrain model '
                            'with layer_scale_init_value=0)')
        k = k.replace('.depthwise_conv.', '.dwconv.')
        k = k.replace('.pointwise_conv1.', '.pwconv1.').replace('.pointwise_conv2.', '.pwconv2.')
        out[k] = v
    return _with_backbone_prefix(out)


def convert_ours(state_dict: Mapping) -> StateDict:
    """Ours → ours: a backbone state dict (no ``backbone.`` prefix) gets the prefix."""
    return _with_backbone_prefix(unwrap(state_dict))


def _with_backbone_prefix(state_dict: StateDict) -> StateDict:
    """``state_dict`` as it is when it is a whole model's, else with ``backbone.`` keys."""
    if any(k.startswith(('backbone.', 'head.')) for k in state_dict):
        return OrderedDict(state_dict)
    return OrderedDict(('backbone.' + k, v) for k, v in state_dict.items())


def _refuse_layer_scale(key: str, pattern: str, hint: str) -> None:
    """ConvNeXt (V1) blocks have a layer scale ``gamma``; V2 blocks have GRN instead."""
    if re.search(pattern, key):
        raise ValueError(f'{key}: layer scale is not part of ConvNeXt V2{hint}')


def fcmae_to_backbone(state_dict: Mapping) -> StateDict:
    """An FCMAE checkpoint of ours → the encoder as a backbone checkpoint (``backbone.*``).

    The decoder (``neck.*``) and loss head are dropped; the encoder has no final norm, so a
    fine-tuning model initializes its ``norm3`` (as the official fine-tuning does).
    """
    sd = unwrap(state_dict)
    out = OrderedDict((k, v) for k, v in sd.items() if k.startswith('backbone.'))
    if not out:
        raise ValueError(f'no "backbone." keys: not an FCMAE checkpoint of ours (first keys: '
                         f'{list(sd)[:5]}); official *_fcmae.pt files convert with '
                         f'convnextv2_to_mm.py --src official')
    return out


CONVERTERS = dict(official=convert_official, timm=convert_timm, hf=convert_hf,
                  mmpretrain=convert_mmpretrain, ours=convert_ours)


def convert(state_dict: Mapping, src: str) -> StateDict:
    """Convert ``state_dict`` from ``src`` (one of :data:`SOURCES`, ``'ours'``, or ``'auto'``
    for :func:`detect_source`) to our layout."""
    if src == 'auto':
        src = detect_source(state_dict)
    if src not in CONVERTERS:
        raise ValueError(f'unknown checkpoint source {src!r}; choose from '
                         f'{("auto", ) + tuple(CONVERTERS)}')
    return CONVERTERS[src](state_dict)


def detect_source(state_dict: Mapping) -> str:
    """The format of a ConvNeXt V2 ``state_dict``, from its keys: one of :data:`SOURCES` or
    ``'ours'``.

    ``official`` covers the fine-tuned classifiers (``*_ema.pt``, ``*_224.pt``, ImageNet-22K
    ones) and the FCMAE checkpoints (``encoder.`` prefix, MinkowskiEngine kernels). A bare
    backbone state dict of ours has the official keys; it differs in its GRN parameters,
    ``(C,)`` here and ``(1, 1, 1, C)`` there, in its final norm (``norm3``, not ``norm``) and
    in having no MinkowskiEngine ``kernel``.
    Raises a ``ValueError`` naming the first keys when no format fits.
    """
    sd = unwrap(state_dict)
    keys = list(sd)

    def has(pattern):
        return any(re.search(pattern, k) for k in keys)

    if has(r'(^|\.)(embeddings\.patch_embeddings|encoder\.stages\.\d+\.layers\.\d+)\.'):
        return 'hf'
    if has(r'^(stem\.0|stages\.\d+\.blocks\.\d+\.conv_dw)\.weight$'):
        return 'timm'
    if has(r'(^|\.)stages\.\d+\.\d+\.depthwise_conv\.weight$'):
        return 'mmpretrain'
    if has(r'^encoder\.stages\.\d+\.\d+\.dwconv\.(kernel|weight)$'):
        return 'official'
    if has(r'^backbone\.stages\.\d+\.\d+\.dwconv\.weight$'):
        return 'ours'
    if has(r'^stages\.\d+\.\d+\.dwconv\.(weight|kernel)$'):
        official = has(r'^(norm|head)\.weight$|\.kernel$') or any(
            v.ndim > 1 for k, v in sd.items() if re.search(r'\.grn\.(gamma|beta)$', k))
        return 'official' if official else 'ours'
    raise ValueError(f'not a ConvNeXt V2 checkpoint in a known layout ({", ".join(SOURCES)} '
                     f'or ours); its first keys are {keys[:8]}')


def infer_arch(state_dict: Mapping, prefix: str = 'backbone.') -> Dict[str, list]:
    """Depths and channels of the ConvNeXt V2 whose weights ``state_dict`` holds."""
    depths: Dict[int, int] = {}
    channels: Dict[int, int] = {}
    pattern = re.compile(re.escape(prefix) + r'stages\.(\d+)\.(\d+)\.dwconv\.weight$')
    for k, v in state_dict.items():
        m = pattern.match(k)
        if m:
            i, j = int(m.group(1)), int(m.group(2))
            depths[i] = max(depths.get(i, 0), j + 1)
            channels[i] = v.shape[0]
    if not depths:
        raise ValueError(f'no "{prefix}stages.<i>.<j>.dwconv.weight" keys: this is not a '
                         f'ConvNeXt V2 state dict in our layout')
    stages = sorted(depths)
    return dict(depths=[depths[i] for i in stages], channels=[channels[i] for i in stages])


def arch_name(arch: Mapping, settings: Mapping) -> Optional[str]:
    """The name in ``settings`` of ``arch`` (depths and channels), or None."""
    for name, setting in settings.items():
        if list(setting['depths']) == list(arch['depths']) and \
                list(setting['channels']) == list(arch['channels']):
            return name
    return None


def compare_state_dicts(got: Mapping, expected: Mapping,
                        ignore: Iterable[str] = ()) -> Tuple[list, list, list]:
    """Missing keys, unexpected keys and ``(key, got_shape, expected_shape)`` mismatches."""
    ignore = tuple(ignore)
    missing = [k for k in expected if k not in got and not k.startswith(ignore)]
    unexpected = [k for k in got if k not in expected and not k.startswith(ignore)]
    shapes = [(k, tuple(got[k].shape), tuple(expected[k].shape)) for k in expected
              if k in got and tuple(got[k].shape) != tuple(expected[k].shape)]
    return missing, unexpected, shapes


def check_state_dict(got: Mapping, expected: Mapping, ignore: Iterable[str] = (),
                     what: str = 'checkpoint', limit: int = 5) -> None:
    """Raise a ``ValueError`` naming the first missing, unexpected and mis-shaped keys."""
    missing, unexpected, shapes = compare_state_dicts(got, expected, ignore)
    problems = []
    if missing:
        problems.append(f'{len(missing)} missing keys, e.g. {missing[:limit]}')
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected keys, e.g. {unexpected[:limit]}')
    if shapes:
        shown = ', '.join(f'{k}: {g} vs expected {e}' for k, g, e in shapes[:limit])
        problems.append(f'{len(shapes)} shape mismatches, e.g. {shown}')
    if problems:
        raise ValueError(f'{what} does not fit the model: ' + '; '.join(problems))
