"""Loading checkpoints from outside safely, and the conversion behind the converter tool."""
import os
import pickle
from typing import Mapping, Optional

import torch

from .convert import arch_name, check_state_dict, convert, fcmae_to_backbone, infer_arch, unwrap


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
    """Convert the checkpoint at ``in_path`` from ``src`` and save it to ``out_path``.

    Returns the ``meta`` stored with it (``arch``, ``source``, ``num_classes``). Raises a
    ``ValueError`` naming missing, unexpected or mis-shaped keys when the result is not a
    complete ConvNeXt V2 (a classifier, or an encoder without head and final norm).
    """
    from ..models import ConvNeXtV2
    state_dict = convert(unwrap(load_checkpoint_file(in_path)), src)
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
