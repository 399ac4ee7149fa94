"""mmdet's ``CocoDataset`` with its annotation file checked first (:func:`check_coco`)."""
from typing import List

from mmdet.datasets import CocoDataset
from mmdet.datasets.api_wrappers import COCO
from mmdet.registry import DATASETS
from mmengine.fileio import get_local_path

from .checks import check_coco, check_on_error, read_json, report


class _CheckedCOCO(COCO):
    """mmdet's COCO API built from an already parsed (and checked) file."""

    def __init__(self, dataset: dict):
        super().__init__()
        self.dataset = dataset
        self.createIndex()
        self.img_ann_map, self.cat_img_map = self.imgToAnns, self.catToImgs


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """``CocoDataset`` that checks its annotation file first
    (:func:`~mmconvnextv2.datasets.checks.check_coco`).

    Args:
        on_error (str): 'raise' stops on the first bad annotations, naming them; 'skip' drops
            each bad annotation and logs it. Defaults to 'raise'.
        **kwargs: The arguments of mmdet's ``CocoDataset``.

    Attributes:
        bad_annotations (list[str]): One message per annotation dropped with ``'skip'``.
    """

    def __init__(self, *args, on_error: str = 'raise', **kwargs):
        self.on_error = check_on_error(on_error)
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        with get_local_path(self.ann_file, backend_args=self.backend_args) as local:
            data = read_json(local, self.ann_file)
        data, self.bad_annotations = check_coco(data, self.ann_file, self.metainfo['classes'])
        report(self.bad_annotations, self.on_error)
        # CocoDataset.load_data_list builds its COCO API from the path; hand it the data
        self.COCOAPI = lambda _path: _CheckedCOCO(data)
        try:
            return super().load_data_list()
        finally:
            del self.COCOAPI
