"""Official FCMAE checkpoints (MinkowskiEngine encoder) convert to our FCMAE, key by key."""
import re

import pytest
import torch

from mmconvnextv2.checkpoint import convert_official, convert_official_fcmae
from tests.helpers import randomize_
from tests.test_models.test_fcmae import build_fcmae


def to_official(state_dict):
    """Our FCMAE state dict in the layout of the official FCMAE module: ``encoder`` is a
    SparseConvNeXtV2 (MinkowskiDepthwiseConvolution ``kernel`` (k*k, C) and ``bias`` (1, C),
    MinkowskiConvolution ``kernel`` (k*k, C_in, C_out), MinkowskiLayerNorm ``.ln``,
    MinkowskiLinear ``.linear``, MinkowskiGRN ``gamma``/``beta`` (1, C)); ``proj``,
    ``mask_token``, a dense ``decoder`` (GRN (1, 1, 1, C)) and ``pred``."""
    out = {}
    for k, v in state_dict.items():
        if k.startswith('backbone.'):
            k = 'encoder.' + k[len('backbone.'):]
            sparse = not k.startswith('encoder.downsample_layers.0.')
            if sparse and (k.endswith('dwconv.weight') or
                           re.search(r'downsample_layers\.\d\.1\.weight$', k)):
                # dense -> Minkowski: inverse of the official remap_checkpoint_keys
                c_out, c_in, kk, _ = v.shape
                w = v.transpose(3, 2).reshape(c_out, c_in, kk * kk)
                k, v = k[:-len('weight')] + 'kernel', (w[:, 0].T if c_in == 1 else
                                                       w.permute(2, 1, 0))
            elif sparse and (k.endswith('dwconv.bias') or
                             re.search(r'downsample_layers\.\d\.1\.bias$', k)):
                v = v.reshape(1, -1)
            elif sparse and re.search(r'(\.norm|downsample_layers\.\d\.0)\.(weight|bias)$', k):
                k = re.sub(r'\.(weight|bias)$', r'.ln.\1', k)
            elif sparse and re.search(r'pwconv\d\.(weight|bias)$', k):
                k = re.sub(r'\.(weight|bias)$', r'.linear.\1', k)
            elif '.grn.' in k:
                v = v.reshape(1, -1)
        elif k.startswith('neck.'):
            k = k[len('neck.'):]
            if '.grn.' in k:
                v = v.reshape(1, 1, 1, -1)
        out[k] = v.clone()
    return {'model': out}


@pytest.fixture
def fcmae():
    return randomize_(build_fcmae('atto'), std=0.05)


def test_official_fcmae_loads_into_our_fcmae(fcmae):
    ours = fcmae.state_dict()
    official = to_official(ours)
    assert 'encoder.stages.0.0.dwconv.kernel' in official['model']
    assert 'encoder.stages.0.0.pwconv1.linear.weight' in official['model']
    converted = convert_official_fcmae(official)
    assert converted.keys() == ours.keys()
    for k, v in ours.items():
        torch.testing.assert_close(converted[k], v, rtol=0, atol=0, msg=k)


def test_official_fcmae_encoder_as_backbone(fcmae):
    converted = convert_official(to_official(fcmae.state_dict()))
    expected = {k: v for k, v in fcmae.state_dict().items() if k.startswith('backbone.')}
    assert converted.keys() == expected.keys()
    for k, v in expected.items():
        torch.testing.assert_close(converted[k], v, rtol=0, atol=0, msg=k)
