import os
import subprocess
import sys

import pytest
import timm
import torch
from mmpretrain.apis import get_model

from tests.conftest import ROOT
from tests.helpers import randomize_

TOOL = os.path.join(ROOT, 'tools', 'model_converters', 'convnextv2_to_mm.py')
CONFIG = os.path.join(ROOT, 'configs', 'convnextv2', 'convnextv2-atto_32xb32_in1k.py')


def run_tool(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT)


def test_timm_checkpoint_converts_and_loads_with_get_model(tmp_path):
    ref = randomize_(timm.create_model('convnextv2_atto', num_classes=1000), std=0.05).eval()
    src = tmp_path / 'timm_atto.pth'
    torch.save(ref.state_dict(), src)
    out = tmp_path / 'atto.pth'
    result = run_tool('--src', 'timm', src, out)
    assert result.returncode == 0, result.stderr
    assert 'arch atto' in result.stdout
    model = get_model(CONFIG, pretrained=str(out)).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x, mode='tensor'), ref(x), rtol=0, atol=1e-4)


def test_backbone_only_checkpoint(tmp_path):
    ref = timm.create_model('convnextv2_atto', num_classes=0)
    sd = {k: v for k, v in ref.state_dict().items() if not k.startswith('head.')}
    torch.save(sd, tmp_path / 'enc.pth')
    result = run_tool('--src', 'timm', tmp_path / 'enc.pth', tmp_path / 'out.pth')
    assert result.returncode == 0, result.stderr
    assert 'backbone only' in result.stdout
    keys = torch.load(tmp_path / 'out.pth')['state_dict'].keys()
    assert all(k.startswith('backbone.') for k in keys)


@pytest.mark.parametrize('content, message', [
    (None, 'checkpoint file not found'),
    (b'not a checkpoint', 'not a readable PyTorch checkpoint'),
])
def test_bad_files_get_clear_errors(tmp_path, content, message):
    src = tmp_path / 'in.pth'
    if content is not None:
        src.write_bytes(content)
    result = run_tool('--src', 'timm', src, tmp_path / 'out.pth')
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / 'out.pth').exists()


def test_incomplete_checkpoint_names_missing_keys(tmp_path):
    sd = timm.create_model('convnextv2_atto').state_dict()
    del sd['stages.2.blocks.3.mlp.grn.weight']
    torch.save(sd, tmp_path / 'in.pth')
    result = run_tool('--src', 'timm', tmp_path / 'in.pth', tmp_path / 'out.pth')
    assert result.returncode != 0
    assert 'backbone.stages.2.3.grn.gamma' in result.stderr
    assert not (tmp_path / 'out.pth').exists()


def test_code_carrying_pickle_is_refused_and_not_run(tmp_path):
    marker = tmp_path / 'ran'

    class Payload:

        def __reduce__(self):
            return (open, (str(marker), 'w'))

    torch.save({'stem.0.weight': Payload()}, tmp_path / 'evil.pth')
    result = run_tool('--src', 'timm', tmp_path / 'evil.pth', tmp_path / 'out.pth')
    assert result.returncode != 0
    assert 'refused to load' in result.stderr and 'Unsupported global' in result.stderr
    assert not marker.exists() and not (tmp_path / 'out.pth').exists()


def test_auto_recognizes_a_safetensors_checkpoint(tmp_path):
    from safetensors.torch import save_file
    ref = randomize_(timm.create_model('convnextv2_atto', num_classes=1000), std=0.05).eval()
    save_file(ref.state_dict(), tmp_path / 'model.safetensors')
    out = tmp_path / 'atto.pth'
    result = run_tool(tmp_path / 'model.safetensors', out)  # --src auto is the default
    assert result.returncode == 0, result.stderr
    assert 'timm ConvNeXt V2 format, arch atto, classifier, 1000 classes' in result.stdout
    assert torch.load(out)['meta']['source'] == 'timm'
    model = get_model(CONFIG, pretrained=str(out)).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x, mode='tensor'), ref(x), rtol=0, atol=1e-4)


def test_auto_names_an_unrecognized_file(tmp_path):
    torch.save({'fc.weight': torch.zeros(2, 2)}, tmp_path / 'other.pth')
    result = run_tool('--src', 'auto', tmp_path / 'other.pth', tmp_path / 'out.pth')
    assert result.returncode != 0
    assert 'other.pth: not a ConvNeXt V2 checkpoint in a known layout' in result.stderr
    assert "['fc.weight']" in result.stderr and not (tmp_path / 'out.pth').exists()
