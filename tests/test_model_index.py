"""The model zoo: model-index.yml and the metafiles it imports, in OpenMMLab's format (the
``model-index`` package reads them; ``mim search`` and mmpretrain's ``list_models`` use them),
list every config exactly once, and mmpretrain finds the classifier and FCMAE entries."""
import glob
import os
import os.path as osp

import pytest
import yaml

from tests.conftest import ROOT

# Not model-zoo entries: _base_ holds fragments, and the demo configs train on the demo's
# generated images, with no paper result and no checkpoint (tests/test_configs.py builds them).
EXCLUDED = ('_base_', 'demo')
CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if not set(osp.relpath(p, ROOT).split(os.sep)) & set(EXCLUDED))


def load_yaml(path):
    with open(osp.join(ROOT, path), encoding='utf-8') as f:
        return yaml.safe_load(f)


def metafiles():
    return load_yaml('model-index.yml')['Import']


def models():
    """(metafile, entry) for every model of every metafile."""
    return [(m, entry) for m in metafiles() for entry in load_yaml(m)['Models']]


def test_model_index_imports_every_family():
    families = {osp.dirname(c).split(os.sep)[1] for c in CONFIGS}
    assert sorted(osp.dirname(m) for m in metafiles()) == sorted(
        f'configs/{family}' for family in families)
    for metafile in metafiles():
        assert osp.isfile(osp.join(ROOT, metafile)), metafile


def test_model_index_package_reads_it():
    modelindex = pytest.importorskip('modelindex')
    index = modelindex.load(osp.join(ROOT, 'model-index.yml'))
    assert index.check(silent=True) == []  # what `mi check model-index.yml` reports
    index.build_models_with_collections()
    assert len(index.models) == len(models())
    collections = {c.name for c in index.collections}
    for model in index.models:
        assert model.in_collection in collections, model.name


def test_every_config_listed_once():
    listed = [osp.normpath(entry['Config']) for _, entry in models()]
    duplicated = sorted({c for c in listed if listed.count(c) > 1})
    assert duplicated == []
    assert sorted(listed) == CONFIGS


def test_names_unique():
    names = [entry['Name'].lower() for _, entry in models()]  # mmpretrain lower-cases them
    assert sorted({n for n in names if names.count(n) > 1}) == []


@pytest.mark.parametrize('metafile,entry',
                         [pytest.param(m, e, id=e['Name']) for m, e in models()])
def test_entry(metafile, entry):
    assert set(entry) >= {'Name', 'Config', 'Metadata', 'In Collection'}, entry['Name']
    collections = {c['Name'] for c in load_yaml(metafile)['Collections']}
    assert entry['In Collection'] in collections
    assert entry['Metadata'].get('Training Data')
    # mmengine takes a `pkg::family/name.py` config from the part of Config after the first '/'
    assert entry['Config'].startswith(f'{osp.dirname(metafile)}/')
    for result in entry.get('Results') or []:
        assert result['Task'] and result['Dataset'] and result['Metrics']
        for metric, value in result['Metrics'].items():
            assert isinstance(value, (int, float)) and not isinstance(value, bool), metric
    weights = entry.get('Weights')
    if weights is not None:
        assert weights.startswith('https://'), weights
        source = entry['Converted From']
        assert source['Weights'] == weights
        # the command converts the file the URL names
        command = source['Command'].split()
        assert command[:2] == ['python', 'tools/model_converters/convnextv2_to_mm.py']
        assert osp.basename(weights) in command
        assert osp.isfile(osp.join(ROOT, command[1]))


def test_listed_configs_parse():
    """Every listed config is one tests/test_configs.py parses with ``Config.fromfile`` and
    builds. Parsing them again here would cost about a second each (mmengine re-reads the
    installed packages for every ``mmdet::`` and ``mmseg::`` base): 85 s for 82 configs."""
    from tests.test_configs import CONFIGS as PARSED
    listed = [osp.normpath(entry['Config']) for _, entry in models()]
    assert set(listed) <= set(PARSED)


def test_mmpretrain_model_hub():
    """``import mmconvnextv2`` (conftest) registered the classifier and FCMAE entries, which
    mmpretrain builds by name; the mmdet and mmseg ones it cannot build are not there."""
    from mmpretrain.apis import get_model, list_models

    from mmconvnextv2.apis.model_zoo import MMPRETRAIN_METAFILES
    assert set(MMPRETRAIN_METAFILES) == {'configs/convnextv2/metafile.yml',
                                         'configs/fcmae/metafile.yml'}
    listed = set(list_models('*convnextv2*'))
    for metafile, entry in models():
        assert (entry['Name'].lower() in listed) == (metafile in MMPRETRAIN_METAFILES), \
            entry['Name']
    model = get_model('fcmae_convnextv2-atto_32xb128-800e_in1k')
    assert type(model).__name__ == 'FCMAE'
    assert type(model.backbone).__name__ == 'ConvNeXtV2'
