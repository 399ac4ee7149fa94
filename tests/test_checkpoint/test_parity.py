"""Parity of converted weights with independent implementations (timm, mmpretrain), fp32."""
import pytest
import timm
import torch
from mmpretrain.models import ConvNeXt as MMPretrainConvNeXt
from timm.models.convnext import checkpoint_filter_fn

from mmconvnextv2.checkpoint import (
    check_state_dict,
    convert_mmpretrain,
    convert_official,
    convert_timm,
)
from mmconvnextv2.models import ConvNeXtV2
from tests.helpers import randomize_

ARCHS = list(ConvNeXtV2.arch_settings)
ATOL = 1e-4
NUM_CLASSES = 10


class Classifier(torch.nn.Module):
    """Our backbone with the official head (GAP, LayerNorm in the backbone, Linear)."""

    def __init__(self, arch):
        super().__init__()
        self.backbone = ConvNeXtV2(arch, init_cfg=None)
        self.head = torch.nn.Module()
        self.head.fc = torch.nn.Linear(self.backbone.channels[-1], NUM_CLASSES)

    def forward(self, x):
        return self.head.fc(self.backbone(x)[-1])


def load_ours(arch, state_dict):
    model = Classifier(arch).eval()
    check_state_dict(state_dict, model.state_dict())
    model.load_state_dict(state_dict)
    return model


def timm_model(arch):
    model = timm.create_model(f'convnextv2_{arch}', pretrained=False, num_classes=NUM_CLASSES)
    return randomize_(model, std=0.05).eval()


def official_state_dict(timm_sd):
    """The official key layout, written from the official model definition: ``stages.i.j``
    blocks with ``dwconv``, ``pwconv1/2`` (Linear), ``grn.gamma/beta`` of shape (1, 1, 1, C),
    ``downsample_layers``, final ``norm`` and ``head``."""
    out = {}
    for k, v in timm_sd.items():
        k = k.replace('stem.', 'downsample_layers.0.')
        for i in range(1, 4):
            k = k.replace(f'stages.{i}.downsample.', f'downsample_layers.{i}.')
        k = k.replace('.blocks.', '.').replace('conv_dw', 'dwconv')
        k = k.replace('mlp.fc', 'pwconv').replace('mlp.grn.weight', 'grn.gamma')
        k = k.replace('mlp.grn.bias', 'grn.beta').replace('head.norm.', 'norm.')
        k = k.replace('head.fc.', 'head.')
        if 'grn.' in k:
            v = v.reshape(1, 1, 1, -1)
        if 'pwconv' in k and v.ndim == 4:
            v = v.flatten(1)
        out[k] = v
    return {'model': out}


@pytest.mark.parametrize('arch', ARCHS)
def test_timm_parity(arch):
    ref = timm_model(arch)
    ours = load_ours(arch, convert_timm(ref.state_dict()))
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), rtol=0, atol=ATOL)


@pytest.mark.parametrize('arch', ARCHS)
def test_mmpretrain_parity(arch):
    ref = MMPretrainConvNeXt(arch=arch, use_grn=True, layer_scale_init_value=0.,
                             gap_before_final_norm=True)
    randomize_(ref, std=0.05)
    ref.eval()  # mmpretrain's ConvNeXt.train() returns None: no chaining
    head = torch.nn.Linear(ref.channels[-1], NUM_CLASSES)
    sd = {f'backbone.{k}': v for k, v in ref.state_dict().items()}
    sd.update({f'head.fc.{k}': v for k, v in head.state_dict().items()})
    ours = load_ours(arch, convert_mmpretrain(sd))
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), head(ref(x)[-1]), rtol=0, atol=ATOL)


@pytest.mark.parametrize('arch', ['atto', 'tiny'])
def test_official_parity(arch):
    """The official layout, loaded into timm by timm's own official->timm filter and into ours
    by ``convert_official``, gives the same logits."""
    source = timm_model(arch)
    official = official_state_dict(source.state_dict())
    ref = timm.create_model(f'convnextv2_{arch}', pretrained=False, num_classes=NUM_CLASSES)
    ref.load_state_dict(checkpoint_filter_fn(official, ref))
    ours = load_ours(arch, convert_official(official))
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref.eval()(x), rtol=0, atol=ATOL)


def test_mmpretrain_layer_scale_is_refused():
    ref = MMPretrainConvNeXt(arch='atto', use_grn=True, layer_scale_init_value=1e-6)
    with pytest.raises(ValueError, match='layer scale'):
        convert_mmpretrain({f'backbone.{k}': v for k, v in ref.state_dict().items()})


def test_wrong_arch_names_keys_and_shapes():
    sd = convert_timm(timm_model('atto').state_dict())
    with pytest.raises(ValueError) as e:
        load_ours('femto', sd)
    msg = str(e.value)
    assert 'shape mismatches' in msg and 'backbone.downsample_layers.0.0.weight' in msg
    assert '(40, 3, 4, 4) vs expected (48, 3, 4, 4)' in msg
    del sd['backbone.stages.0.0.grn.gamma']
    sd['backbone.extra.weight'] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"missing keys, e.g. \['backbone.stages.0.0.grn.gamma'\]"
                       r".*unexpected keys, e.g. \['backbone.extra.weight'\]"):
        load_ours('atto', sd)
