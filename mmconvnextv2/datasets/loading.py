"""Image loading that names the file it fails on, defines what non-RGB images become, and can
skip a bad file (logged) instead of stopping a long run.

mmcv's ``LoadImageFromFile`` stops on a missing or undecodable file with a bare assertion
(removed under ``python -O``) or a decoder message without the path, and its ``ignore_empty``
skips silently. :class:`CheckedLoadImageFromFile` is a drop-in replacement: on good files it
returns exactly what mmcv returns.
"""
import io
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmcv.transforms.builder import TRANSFORMS
from mmengine import fileio

from .checks import check_on_error, raise_or_skip


class BadImageError(ValueError):
    """An image file that cannot be used; the message names the file and the reason."""


def _decode_pillow_color(img_bytes: bytes, channel_order: str = 'bgr') -> np.ndarray:
    """Decode to 8-bit, 3 channels with Pillow, scaling 16-bit images instead of clipping them
    (Pillow's own ``convert('RGB')`` clips 16-bit grayscale to 255)."""
    from PIL import Image, ImageOps
    img = ImageOps.exif_transpose(Image.open(io.BytesIO(img_bytes)))
    if img.mode in ('I;16', 'I;16B', 'I;16L', 'I'):
        array = np.asarray(img).astype(np.uint32)
        array = np.repeat((array >> 8).clip(0, 255).astype(np.uint8)[..., None], 3, axis=-1)
    else:
        array = np.asarray(img.convert('RGB'))
    return np.ascontiguousarray(array[..., ::-1] if channel_order == 'bgr' else array)


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` with clear errors and an explicit skip option.

    A missing, empty, corrupt or truncated file raises :class:`BadImageError` (or
    ``FileNotFoundError``) naming the file; with ``on_error='skip'`` the file is logged as
    skipped and the transform returns ``None``, on which a training dataset draws another
    sample (mmengine's ``BaseDataset``; a test-mode dataset stops instead); mmengine's
    logger shows each skipped file once, not at every epoch. With
    ``color_type='color'`` every image becomes 8-bit, 3-channel: grayscale is replicated,
    the alpha channel of RGBA is dropped and 16-bit values are scaled by 1/256 (for the cv2
    and Pillow backends alike).

    Args:
        on_error (str): 'raise' or 'skip'. Defaults to 'raise'.
        **kwargs: The arguments of mmcv's ``LoadImageFromFile`` (``ignore_empty`` is not
            accepted: use ``on_error='skip'``, which logs).
    """

    def __init__(self, on_error: str = 'raise', **kwargs) -> None:
        if kwargs.get('ignore_empty'):
            raise ValueError("ignore_empty skips files silently; use on_error='skip', which "
                             'logs each skipped file')
        super().__init__(**kwargs)
        self.on_error = check_on_error(on_error)

    def _read(self, filename: str) -> np.ndarray:
        try:
            if self.file_client_args is not None:
                img_bytes = fileio.FileClient.infer_client(self.file_client_args,
                                                           filename).get(filename)
            else:
                img_bytes = fileio.get(filename, backend_args=self.backend_args)
        except FileNotFoundError:
            raise FileNotFoundError(f'image file not found: {filename}') from None
        if not img_bytes:
            raise BadImageError(f'{filename}: the image file is empty (0 bytes)')
        try:
            if self.imdecode_backend == 'pillow' and self.color_type == 'color':
                img = _decode_pillow_color(img_bytes)
            else:
                img = mmcv.imfrombytes(img_bytes, flag=self.color_type,
                                       backend=self.imdecode_backend)
        except Exception as e:  # decoders raise OSError, UnidentifiedImageError, cv2.error
            raise BadImageError(f'{filename}: cannot decode the image ({len(img_bytes)} bytes; '
                                f'{type(e).__name__}: {e})') from e
        if img is None:  # cv2 returns None for corrupt and truncated files
            raise BadImageError(f'{filename}: cannot decode the image ({len(img_bytes)} bytes, '
                                f'starting {img_bytes[:8]!r}): corrupt, truncated or not an '
                                'image')
        if img.size == 0:
            raise BadImageError(f'{filename}: the image has no pixels (shape {img.shape})')
        return img

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            img = self._read(filename)
        except (FileNotFoundError, BadImageError) as e:
            raise_or_skip(e, self.on_error, 'an image')
            return None
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", on_error='{self.on_error}')"
