"""Loading checkpoints from outside safely, and the conversion behind the converter tool and
``init_cfg=dict(type='Pretrained', ...)`` of the backbone."""
import logging
import os
import pickle
import re
from typing import Mapping, Optional

import torch
from mmengine.logging import print_log
from torch import nn

from .convert import (
    SOURCE_NAMES,
    StateDict,
    arch_name,
    check_state_dict,
    compare_state_dicts,
    convert,
    detect_source,
    fcmae_to_backbone,
    infer_arch,
    unwrap,
)


def load_checkpoint_file(path: str, mmap: bool = False) -> Mapping:
    """Load a checkpoint file with ``weights_only=True``: tensors and plain containers only.

    A pickle that would construct arbitrary objects (or run code) is refused with an error that
    names the file, instead of being executed. ``mmap=True`` maps the tensors instead of
    reading them (for a look at the metadata of a large file); files in torch's old format
    are then read as usual.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    try:
        try:
            return torch.load(path, map_location='cpu', weights_only=True, mmap=mmap)
        except RuntimeError as e:
            if not (mmap and 'mmap' in str(e)):
                raise
            return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as e:
        reason = _unpickler_reason(str(e))
        if 'Unsupported global' in reason or 'Unsupported operand' in reason:
            raise ValueError(f'{path}: refused to load; it holds objects other than tensors '
                             f'and plain containers, and loading it would run their code '
                             f'({reason})') from None
        raise ValueError(f'{path}: not a readable PyTorch checkpoint ({reason})') from None
    except (RuntimeError, EOFError, ValueError) as e:
        raise ValueError(f'{path}: not a readable PyTorch checkpoint (truncated or corrupt?): '
                         f'{_unpickler_reason(str(e))}') from None


def _unpickler_reason(message: str) -> str:
    """The informative line of torch's (long) weights-only error message."""
    for line in message.splitlines():
        if 'WeightsUnpickler error' in line:
            return line.strip().split('. Please use')[0]
    return message.strip().splitlines()[0] if message.strip() else 'unknown error'


def load_state_dict_file(path: str) -> StateDict:
    """The state dict in the checkpoint file at ``path``.

    A ``.safetensors`` file is read by the ``safetensors`` package, and only so: it is never
    unpickled, whatever it holds. Any other file (``.pth``, ``.pt``, ``.bin``) is read by
    :func:`load_checkpoint_file` (tensors and plain containers only) and unwrapped from its
    ``state_dict`` / ``model`` / ``module`` container. A URL (``https://``, ``open-mmlab://``
    and mmengine's other schemes) is read by mmengine's ``CheckpointLoader``, as mmengine's
    ``Pretrained`` init reads it (``torch.load``, weights only by torch's default).
    """
    if '://' in path and not path.endswith('.safetensors'):
        from mmengine.runner import CheckpointLoader
        return unwrap(CheckpointLoader.load_checkpoint(path, map_location='cpu'))
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    if not path.endswith('.safetensors'):
        return unwrap(load_checkpoint_file(path))
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    try:
        return load_file(path)
    except SafetensorError as e:
        with open(path, 'rb') as f:
            magic = f.read(2)
        if magic == b'PK' or magic[:1] == b'\x80':  # torch.save's zip, or a bare pickle
            raise ValueError(f'{path}: refused to load; it is a PyTorch (pickle) file under a '
                             f'.safetensors name, and .safetensors files are never unpickled '
                             f'(save it with safetensors.torch.save_file, or give it a .pth '
                             f'name to read it as a weights-only PyTorch checkpoint)') from None
        raise ValueError(f'{path}: not a readable safetensors file (truncated or corrupt?): '
                         f'{e}') from None


def load_pretrained(module: nn.Module, path: str, prefix: Optional[str] = 'backbone.') -> None:
    """Load the ConvNeXt V2 backbone weights of the checkpoint at ``path`` into ``module``,
    whatever its format (official, timm, Hugging Face, mmpretrain or ours, as
    :func:`detect_source` tells them apart), converted in memory.

    Logs the recognized format, and as warnings the weights of ``module`` that the checkpoint
    lacks (they keep their initialization: the output norms of an FCMAE encoder, for one) and
    those it has and ``module`` does not use, as mmengine's ``load_state_dict`` does.

    Args:
        module (nn.Module): A ``ConvNeXtV2`` backbone.
        path (str): A ``.pth``/``.pt`` or ``.safetensors`` file (see
            :func:`load_state_dict_file`).
        prefix (str, optional): Where the backbone is in the checkpoint, as mmengine's
            ``Pretrained`` init takes it: when keys start with it, only those are read, without
            it. Formats that name the backbone their own way (timm, official, Hugging Face) have
            no such keys and are read whole. Defaults to 'backbone.'.

    Raises:
        ValueError: When the format is not recognized (naming the file and its first keys),
            or a weight's shape differs from the module's (naming the key).
    """
    state_dict = load_state_dict_file(path)
    if prefix and any(k.startswith(prefix) for k in state_dict):
        state_dict = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    try:
        source = detect_source(state_dict)
        state_dict = convert(state_dict, source)
    except ValueError as e:
        raise ValueError(f'{path}: {e}') from None
    name = type(module).__name__
    print_log(f'{name} weights from {path}: recognized the {SOURCE_NAMES[source]} format' +
              ('' if source == 'ours' else ", converted to mmconvnextv2's layout"),
              logger='current')
    state_dict = {k[len('backbone.'):]: v for k, v in state_dict.items()
                  if k.startswith('backbone.')}
    _, _, shapes = compare_state_dicts(state_dict, module.state_dict())
    if shapes:
        shown = ', '.join(f'{k}: {g} in the checkpoint, {e} in the model'
                          for k, g, e in shapes[:5])
        raise ValueError(f'{path}: {len(shapes)} weights do not fit this {name} (another '
                         f'arch?): {shown}')
    missing, unexpected = module.load_state_dict(state_dict, strict=False)
    if missing:
        norms_only = all(re.match(r'norm\d+\.', k) for k in missing)
        print_log(f'{path} has no weights for {len(missing)} parameters of {name}, which keep '
                  f'their initialization' +
                  (' (output norms: an FCMAE encoder has none, a classifier only the last)'
                   if norms_only else '') + f': {", ".join(missing)}',
                  logger='current', level=logging.WARNING)
    if unexpected:
        print_log(f'{path} has {len(unexpected)} weights that {name} does not use: '
                  f'{", ".join(unexpected)}', logger='current', level=logging.WARNING)

def expected_state_dict(arch: Mapping, num_classes: Optional[int]) -> dict:
    """The ImageClassifier state dict (shapes only matter) of a ConvNeXt V2 ``arch``."""
    from ..models import ConvNeXtV2
    backbone = ConvNeXtV2(arch=dict(arch), init_cfg=None)
    expected = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    if num_classes is not None:
        expected['head.fc.weight'] = torch.empty(num_classes, arch['channels'][-1])
        expected['head.fc.bias'] = torch.empty(num_classes)
    return expected


def convert_checkpoint(src: str, in_path: str, out_path: str) -> dict:
    """Convert the checkpoint at ``in_path`` (``.pth``/``.pt`` or ``.safetensors``) from ``src``
    and save it to ``out_path``.

    ``src`` is one of :data:`SOURCES`, or ``'auto'`` to recognize the format from the keys
    (:func:`detect_source`). Returns the ``meta`` stored with it (``arch``, ``source``,
    ``num_classes``). Raises a ``ValueError`` naming missing, unexpected or mis-shaped keys
    when the result is not a complete ConvNeXt V2 (a classifier, or an encoder without head
    and final norm).
    """
    from ..models import ConvNeXtV2
    state_dict = load_state_dict_file(in_path)
    if src == 'auto':
        try:
            src = detect_source(state_dict)
        except ValueError as e:
            raise ValueError(f'{in_path}: {e}') from None
    state_dict = convert(state_dict, src)
    arch = infer_arch(state_dict)
    num_classes = state_dict['head.fc.weight'].shape[0] if 'head.fc.weight' in state_dict \
        else None
    ignore = () if 'backbone.norm3.weight' in state_dict else ('backbone.norm3.', )
    check_state_dict(state_dict, expected_state_dict(arch, num_classes), ignore=ignore,
                     what=f'{in_path} converted from {src}')
    meta = dict(arch=arch_name(arch, ConvNeXtV2.arch_settings) or arch, source=src,
                num_classes=num_classes)
    _save(dict(state_dict=state_dict, meta=meta), out_path)
    return meta


def _save(obj: dict, out_path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + '.tmp'
    torch.save(obj, tmp)
    os.replace(tmp, out_path)  # never leave a half-written file under the final name


def convert_fcmae_checkpoint(in_path: str, out_path: str) -> dict:
    """Our FCMAE checkpoint at ``in_path`` → a backbone checkpoint at ``out_path``.

    The output initializes a fine-tuning model with ``--cfg-options pretrained=OUT``.
    """
    from ..models import ConvNeXtV2
    state_dict = fcmae_to_backbone(load_checkpoint_file(in_path))
    arch = infer_arch(state_dict)
    check_state_dict(state_dict, expected_state_dict(arch, None), ignore=('backbone.norm',),
                     what=f'{in_path} (FCMAE encoder)')
    meta = dict(arch=arch_name(arch, ConvNeXtV2.arch_settings) or arch, source='fcmae',
                num_classes=None)
    _save(dict(state_dict=state_dict, meta=meta), out_path)
    return meta
