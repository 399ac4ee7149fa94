"""Find every bad file of a dataset before a long run meets it (tools/misc/verify_dataset.py)."""
import copy
from typing import List

from mmengine.config import Config

from ..datasets.checks import HINT

LOADERS = ('CheckedLoadImageFromFile', 'CheckedLoadSegAnnotations', 'LoadAnnotations')


class _Probe:
    """Runs a dataset's loading transforms on one sample; returns the problem or None."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        info = self.dataset.get_data_info(index)
        try:
            self.dataset.pipeline(info)
        except Exception as e:  # every failure is a finding, reported with its file
            message = str(e).replace(HINT, '')
            path = info.get('img_path') or info.get('seg_map_path') or f'sample {index}'
            return message if path in message else f'{path}: {type(e).__name__}: {message}'
        return None


def _first(batch):
    return batch[0]


def verify_dataset(cfg: Config, split: str = 'train', num_workers: int = 0) -> List[str]:
    """Every problem of ``cfg``'s ``split`` dataset: its annotation file (each bad annotation)
    and every sample's image and labels, decoded by the checked loaders of
    :func:`~mmconvnextv2.datasets.use_checked_data`. Nothing is skipped or fixed.

    Args:
        cfg (Config): A config as returned by :func:`~mmconvnextv2.apis.load_config`.
        split (str): 'train', 'val' or 'test'. Defaults to 'train'.
        num_workers (int): Processes that decode in parallel. Defaults to 0.

    Returns:
        list[str]: One message per problem, naming the file.
    """
    from mmengine.registry import DefaultScope, init_default_scope
    from torch.utils.data import DataLoader

    from ..datasets import base_type, iter_datasets, iter_transforms
    loader = cfg.get(f'{split}_dataloader')
    if not loader:
        raise KeyError(f'the config has no {split}_dataloader')
    dataset_cfg = copy.deepcopy(loader['dataset'])
    for node in iter_datasets(dataset_cfg):
        node['pipeline'] = [
            step if base_type(step.get('type')) == 'LoadAnnotations'
            else dict(step, on_error='raise')
            for step in iter_transforms(node.get('pipeline') or [])
            if base_type(step.get('type')) in LOADERS]
        if node.get('type') == 'CheckedCocoDataset':
            node['on_error'] = 'skip'  # the dataset keeps them in bad_annotations
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        from mmengine.registry import DATASETS
        dataset = DATASETS.build(dataset_cfg)
    while hasattr(dataset, 'times') and hasattr(dataset, 'dataset'):  # RepeatDataset
        dataset = dataset.dataset
    samples = DataLoader(_Probe(dataset), batch_size=1, num_workers=num_workers,
                         collate_fn=_first)
    problems = list(getattr(dataset, 'bad_annotations', []))
    return problems + [p for p in samples if p is not None]
