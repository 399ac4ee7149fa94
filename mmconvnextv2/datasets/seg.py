"""mmseg's ``LoadAnnotations`` with label maps checked (:func:`check_label_map`)."""
from typing import Optional

import mmcv
import numpy as np
from mmengine import fileio
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from .checks import BadAnnotationError, check_label_map, check_on_error, raise_or_skip


@TRANSFORMS.register_module()
class CheckedLoadSegAnnotations(LoadAnnotations):
    """Load a label map, naming the file of every problem.

    mmseg's loader casts the map to 8 bits (a 16-bit value 300 silently becomes 44), squeezes
    colour-coded maps into three-channel labels, and leaves values outside the classes to
    fail inside the loss without a file name. This one raises
    :class:`~mmconvnextv2.datasets.checks.BadAnnotationError` naming the file for: a missing or
    undecodable file, a colour (multi-channel) map, values that do not fit in 8 bits, values
    outside ``0 .. num_classes - 1`` and ``ignore_index`` (after ``reduce_zero_label`` and the
    dataset's label map), and a map whose size differs from its image's. Otherwise it returns
    exactly what mmseg's loader returns.

    Args:
        num_classes (int, optional): The model's number of classes; None skips the range
            check. ``tools/train.py`` sets it from ``model.decode_head.num_classes``.
        ignore_index (int): The label the loss ignores. Defaults to 255.
        on_error (str): 'raise', or 'skip' to log the file and drop the sample (training
            datasets draw another). Defaults to 'raise'.
        **kwargs: The arguments of mmseg's ``LoadAnnotations``.
    """

    def __init__(self, num_classes: Optional[int] = None, ignore_index: int = 255,
                 on_error: str = 'raise', **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.on_error = check_on_error(on_error)

    def _read(self, path: str) -> np.ndarray:
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            raise FileNotFoundError(f'label file not found: {path}') from None
        try:
            raw = mmcv.imfrombytes(data, flag='unchanged', backend=self.imdecode_backend)
        except Exception as e:
            raise BadAnnotationError(f'{path}: cannot decode the label map ({len(data)} bytes; '
                                     f'{type(e).__name__}: {e})') from e
        if raw is None or raw.size == 0:
            raise BadAnnotationError(f'{path}: cannot decode the label map ({len(data)} bytes)')
        if raw.ndim == 3 and raw.shape[2] == 1:
            raw = raw[..., 0]
        elif raw.ndim == 3:
            if not (raw == raw[..., :1]).all():
                raise BadAnnotationError(
                    f'{path}: the label map has {raw.shape[2]} different channels (shape '
                    f'{raw.shape}); labels are single-channel class indices (convert '
                    'colour-coded maps first)')
            raw = raw[..., 0]
        if raw.dtype != np.uint8 and raw.max() > 255:
            raise BadAnnotationError(
                f'{path}: label values up to {int(raw.max())} (dtype {raw.dtype}) do not fit in '
                '8 bits; mmseg stores labels as uint8')
        return raw.astype(np.uint8)

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        raw = self._read(path)
        label = raw.copy()
        if self.reduce_zero_label is None:
            self.reduce_zero_label = results['reduce_zero_label']
        if self.reduce_zero_label != results['reduce_zero_label']:
            raise ValueError(f'the dataset has reduce_zero_label={results["reduce_zero_label"]} '
                             f'and LoadAnnotations has {self.reduce_zero_label}')
        if self.reduce_zero_label:  # 0 (unlabelled) -> 255, k -> k - 1
            label[raw == 0] = 255
            label = label - 1
            label[label == 254] = 255
        if results.get('label_map') is not None:
            mapped = label.copy()
            for old_id, new_id in results['label_map'].items():
                mapped[label == old_id] = new_id
            label = mapped
        check_label_map(label, path, self.num_classes, self.ignore_index, raw=raw)
        image_shape = results.get('ori_shape')
        if image_shape is not None and tuple(image_shape) != label.shape:
            raise BadAnnotationError(
                f'{path}: the label map is {label.shape[1]}x{label.shape[0]} (w x h) but its '
                f"image {results.get('img_path')} is {image_shape[1]}x{image_shape[0]}")
        results['gt_seg_map'] = label
        results['seg_fields'].append('gt_seg_map')

    def transform(self, results: dict) -> Optional[dict]:
        try:
            return super().transform(results)
        except (FileNotFoundError, BadAnnotationError) as e:
            raise_or_skip(e, self.on_error, 'a sample')
            return None

    def __repr__(self) -> str:
        return (super().__repr__()[:-1] + f', num_classes={self.num_classes}, '
                f"ignore_index={self.ignore_index}, on_error='{self.on_error}')")
