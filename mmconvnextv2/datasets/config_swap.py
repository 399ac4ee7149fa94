"""The checked-data swap: what ``tools/train.py`` and ``tools/test.py`` do to a config's data
loading so that a bad image, label map or annotation stops the run naming the file (or, with
``--skip-bad-samples``, is logged and skipped). The checked classes are in :mod:`.loading`,
:mod:`.coco` and :mod:`.seg`; the checks themselves in :mod:`.checks`.
"""
from mmengine.config import Config


def iter_datasets(node):
    """The datasets of a dataloader's ``dataset`` config, through wrappers (Repeat, Concat,
    ClassBalanced)."""
    if not isinstance(node, dict):
        return
    if 'pipeline' in node or 'ann_file' in node:
        yield node
    inner = node.get('dataset')
    if inner is not None:
        yield from iter_datasets(inner)
    for inner in node.get('datasets') or []:
        yield from iter_datasets(inner)


def iter_transforms(pipeline):
    """The transforms of a pipeline, including those nested in TestTimeAug and the like."""
    for step in pipeline:
        if isinstance(step, (list, tuple)):
            yield from iter_transforms(step)
        elif isinstance(step, dict):
            yield step
            yield from iter_transforms(step.get('transforms') or [])


def base_type(t) -> str:
    """A registry type name without its scope (``'mmdet.CocoDataset'`` -> ``'CocoDataset'``);
    '' for a class given directly."""
    return t.split('.')[-1] if isinstance(t, str) else ''


def use_checked_data(cfg: Config, skip_bad_samples: bool = False) -> Config:
    """Swap the data loading of every dataloader for the checked versions of this project.

    ``LoadImageFromFile`` becomes ``CheckedLoadImageFromFile``, mmdet's ``CocoDataset``
    becomes ``CheckedCocoDataset`` and mmseg's ``LoadAnnotations`` becomes
    ``CheckedLoadSegAnnotations`` (with the decode head's ``num_classes``): the same data
    on good files, an error naming the file and the problem on bad ones. With
    ``skip_bad_samples`` the training loader logs and skips bad images, labels and
    annotations instead of stopping. A config with ``data_checks = False`` is left alone.
    """
    import importlib
    if cfg.get('data_checks', True) is False:
        return cfg
    scope = cfg.get('default_scope')
    modules = ['mmconvnextv2.datasets.loading']
    num_classes, ignore_index = None, 255
    model = cfg.get('model') or {}
    while 'decode_head' not in model and isinstance(model.get('module'), dict):
        model = model['module']  # a test-time augmentation wrapper
    head = model.get('decode_head')
    head = head[-1] if isinstance(head, (list, tuple)) else head
    if head:
        num_classes, ignore_index = head.get('num_classes'), head.get('ignore_index', 255)
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        on_error = 'skip' if skip_bad_samples and split == 'train' else 'raise'
        for dataset in iter_datasets(loader.get('dataset')):
            if scope == 'mmdet' and base_type(dataset.get('type', '')) in (
                    'CocoDataset', 'CheckedCocoDataset'):
                dataset.update(type='CheckedCocoDataset', on_error=on_error)
                modules.append('mmconvnextv2.datasets.coco')
            for step in iter_transforms(dataset.get('pipeline') or []):
                kind = base_type(step.get('type', ''))
                if kind in ('LoadImageFromFile', 'CheckedLoadImageFromFile'):
                    skip = on_error == 'skip' or step.pop('ignore_empty', False)
                    step.update(type='CheckedLoadImageFromFile',
                                on_error='skip' if skip else 'raise')
                elif scope == 'mmseg' and kind in ('LoadAnnotations',
                                                   'CheckedLoadSegAnnotations'):
                    step.update(type='CheckedLoadSegAnnotations', on_error=on_error,
                                num_classes=num_classes, ignore_index=ignore_index)
                    modules.append('mmconvnextv2.datasets.seg')
    modules = list(dict.fromkeys(modules))
    for module in modules:
        importlib.import_module(module)
    imports = cfg.get('custom_imports') or dict(imports=[], allow_failed_imports=False)
    imports['imports'] = list(dict.fromkeys(list(imports.get('imports', [])) + modules))
    cfg.custom_imports = imports
    return cfg
