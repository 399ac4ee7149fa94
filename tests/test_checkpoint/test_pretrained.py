"""Checkpoints of every format, ``.pth`` or ``.safetensors``, go as they are into the backbone's
``init_cfg=dict(type='Pretrained', ...)``: recognized by their keys, converted in memory, and
equal to the model they came from."""
import os
import re
from collections import namedtuple

import pytest
import timm
import torch
import torch.nn.functional as F
from mmpretrain.models import ConvNeXt as MMPretrainConvNeXt
from safetensors.torch import save_file

from mmconvnextv2.apis import load_config
from mmconvnextv2.checkpoint import SOURCE_NAMES, convert_timm, detect_source, unwrap
from mmconvnextv2.models import ConvNeXtV2
from tests.conftest import ROOT
from tests.helpers import randomize_
from tests.test_checkpoint.test_official_fcmae import to_official
from tests.test_checkpoint.test_parity import official_state_dict
from tests.test_configs import build_model
from tests.test_models.test_fcmae import build_fcmae

ARCH = 'atto'
DEPTHS, CHANNELS = (list(ConvNeXtV2.arch_settings[ARCH][k]) for k in ('depths', 'channels'))
TOL = dict(rtol=1e-5, atol=1e-5)
ALL_MAPS = dict(out_indices=(0, 1, 2, 3), gap_before_final_norm=False)
MASK_RCNN_ATTO = 'configs/mask_rcnn/mask-rcnn_convnextv2-atto_fpn_1x_coco.py'

# checkpoint: what a file of that format holds; reference: the source model's backbone
# outputs, a tuple as ours returns; kwargs: of our ConvNeXtV2 that computes the same
Case = namedtuple('Case', 'checkpoint reference source kwargs')


def timm_reference():
    model = timm.create_model(f'convnextv2_{ARCH}', num_classes=10)
    model = randomize_(model, std=0.05).eval()
    return model, lambda x: (model.forward_head(model.forward_features(x), pre_logits=True), )


def official_case():
    """A fine-tuned classifier as the official code writes it, here an ImageNet-22K one
    (``*_22k_224_ema.pt``, a 21841-class head, which the backbone does not use)."""
    ref, reference = timm_reference()
    checkpoint = official_state_dict(ref.state_dict())
    checkpoint['model'].update({'head.weight': torch.randn(21841, CHANNELS[-1]),
                                'head.bias': torch.randn(21841)})
    return Case(checkpoint, reference, 'official', {})


def official_fcmae_case():
    """A ``*_fcmae.pt`` pretraining checkpoint: ``encoder.`` with MinkowskiEngine kernels."""
    fcmae = randomize_(build_fcmae(ARCH), std=0.05).eval()
    return Case(to_official(fcmae.state_dict()), fcmae.backbone, 'official',
                dict(final_norm=False, gap_before_final_norm=False, out_indices=(3, )))


def timm_case():
    ref, reference = timm_reference()
    return Case(ref.state_dict(), reference, 'timm', {})


def hf_state_dict(timm_sd):
    """The ``facebook/convnextv2-*`` layout (``ConvNextV2ForImageClassification``), written from
    transformers' ``modeling_convnextv2.py`` (the key names and shapes of transformers 5.24's
    model). transformers is not a test dependency: with it installed, mmpretrain 1.2.0's
    multimodal models fail to import."""
    out = {}
    for k, v in timm_sd.items():
        k = re.sub(r'^head\.norm\.', 'layernorm.', k)
        k = re.sub(r'^stem\.0\.', 'embeddings.patch_embeddings.', k)
        k = re.sub(r'^stem\.1\.', 'embeddings.layernorm.', k)
        k = re.sub(r'^stages\.(\d)\.downsample\.', r'encoder.stages.\1.downsampling_layer.', k)
        k = re.sub(r'^stages\.(\d)\.blocks\.', r'encoder.stages.\1.layers.', k)
        k = k.replace('.conv_dw.', '.dwconv.').replace('.norm.', '.layernorm.')
        k = k.replace('.mlp.fc', '.pwconv').replace('.mlp.grn.', '.grn.')
        if '.grn.' in k:
            v = v.reshape(1, 1, 1, -1)
        if '.pwconv' in k and v.ndim == 4:
            v = v.flatten(1)
        out['classifier.' + k[len('head.fc.'):] if k.startswith('head.fc.') else
            'convnextv2.' + k] = v
    return out


def hf_classifier_case():
    """``ConvNextV2ForImageClassification``: ``convnextv2.`` prefix, ``classifier``."""
    ref, reference = timm_reference()
    return Case(hf_state_dict(ref.state_dict()), reference, 'hf', {})


def hf_model_case():
    """A bare ``ConvNextV2Model``: no prefix, no classifier."""
    ref, reference = timm_reference()
    sd = {k[len('convnextv2.'):]: v for k, v in hf_state_dict(ref.state_dict()).items()
          if k.startswith('convnextv2.')}
    return Case(sd, reference, 'hf', {})


def hf_backbone_case():
    """``ConvNextV2Backbone``: no final norm, a LayerNorm on each stage's output
    (``hidden_states_norms.stage{k}``), which are our ``norm{k-1}`` of NCHW outputs."""
    ref, _ = timm_reference()
    sd = {k[len('convnextv2.'):]: v for k, v in hf_state_dict(ref.state_dict()).items()
          if k.startswith('convnextv2.') and not k.startswith('convnextv2.layernorm.')}
    for k, c in enumerate(CHANNELS, 1):
        sd[f'hidden_states_norms.stage{k}.weight'] = 1 + 0.05 * torch.randn(c)
        sd[f'hidden_states_norms.stage{k}.bias'] = 0.05 * torch.randn(c)

    def reference(x):
        maps = ref.forward_intermediates(x, intermediates_only=True)
        return tuple(  # a channels-first LayerNorm, as transformers' ConvNextV2LayerNorm
            F.layer_norm(t.permute(0, 2, 3, 1), t.shape[1:2],
                         sd[f'hidden_states_norms.stage{k}.weight'],
                         sd[f'hidden_states_norms.stage{k}.bias'], eps=1e-6).permute(0, 3, 1, 2)
            for k, t in enumerate(maps, 1))

    return Case(sd, reference, 'hf', ALL_MAPS)


def mmpretrain_case():
    """An mmpretrain ``ImageClassifier`` checkpoint with ``ConvNeXt(use_grn=True)``."""
    ref = MMPretrainConvNeXt(arch=ARCH, use_grn=True, layer_scale_init_value=0.)
    randomize_(ref, std=0.05).eval()
    sd = {f'backbone.{k}': v for k, v in ref.state_dict().items()}
    sd.update({'head.fc.weight': torch.randn(10, CHANNELS[-1]), 'head.fc.bias': torch.zeros(10)})
    return Case(dict(state_dict=sd, meta=dict(epoch=1)), ref, 'mmpretrain', {})


def ours_case():
    ref = randomize_(ConvNeXtV2(ARCH, init_cfg=None), std=0.05).eval()
    sd = {f'backbone.{k}': v for k, v in ref.state_dict().items()}
    return Case(dict(state_dict=sd, meta=dict(arch=ARCH)), ref, 'ours', {})


def ours_backbone_case():
    """A backbone state dict of ours, without ``backbone.``."""
    ref = randomize_(ConvNeXtV2(ARCH, init_cfg=None, **ALL_MAPS), std=0.05).eval()
    return Case(ref.state_dict(), ref, 'ours', ALL_MAPS)


CASES = dict(official=official_case, official_fcmae=official_fcmae_case, timm=timm_case,
             hf_classifier=hf_classifier_case, hf_model=hf_model_case,
             hf_backbone=hf_backbone_case, mmpretrain=mmpretrain_case, ours=ours_case,
             ours_backbone=ours_backbone_case)


def save(checkpoint, path):
    """``checkpoint`` as a PyTorch file, or its flat state dict as safetensors."""
    if str(path).endswith('.safetensors'):
        save_file({k: v.clone(memory_format=torch.contiguous_format)
                   for k, v in unwrap(checkpoint).items()}, str(path))
    else:
        torch.save(checkpoint, path)
    return str(path)


def pretrained(path, **kwargs):
    """Our backbone initialized from ``path`` as an OpenMMLab config asks for it."""
    init_cfg = dict(type='Pretrained', checkpoint=path, prefix='backbone.')
    model = ConvNeXtV2(ARCH, init_cfg=init_cfg, **kwargs)
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('suffix', ['.pth', '.safetensors'])
@pytest.mark.parametrize('name', list(CASES))
def test_every_format_loads_and_matches_its_source(name, suffix, tmp_path, log_text):
    case = CASES[name]()
    assert detect_source(unwrap(case.checkpoint)) == case.source
    path = save(case.checkpoint, tmp_path / f'{name}{suffix}')
    model = pretrained(path, **case.kwargs)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), tuple(case.reference(x)), **TOL)
    assert f'ConvNeXtV2 weights from {path}: recognized the {SOURCE_NAMES[case.source]} ' \
           f'format' in log_text()


@pytest.mark.parametrize('name', ['timm', 'ours'])
def test_pretrained_without_prefix(name, tmp_path):
    """``init_cfg=dict(type='Pretrained', checkpoint=...)`` without ``prefix`` takes the
    backbone's weights all the same."""
    case = CASES[name]()
    path = save(case.checkpoint, tmp_path / f'{name}.pth')
    model = ConvNeXtV2(ARCH, init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), tuple(case.reference(x)), **TOL)


def test_encoder_only_checkpoint_logs_the_norms_it_lacks(tmp_path, log_text):
    path = save(official_fcmae_case().checkpoint, tmp_path / 'convnextv2_atto_1k_224_fcmae.pt')
    model = pretrained(path)  # a classifier backbone: a final norm the encoder has not
    torch.testing.assert_close(model.norm3.weight, torch.ones(CHANNELS[-1]), rtol=0, atol=0)
    log = log_text()
    assert 'recognized the official ConvNeXt V2' in log
    assert re.search(r'has no weights for 2 parameters of ConvNeXtV2, which keep their '
                     r'initialization \(output norms: .*\): norm3.weight, norm3.bias', log)


def test_url_schemes_go_through_mmengine(tmp_path):
    """``https://`` and mmengine's other schemes are read by its ``CheckpointLoader``, as
    mmengine's ``Pretrained`` init reads them (here a scheme of the test's own)."""
    from mmengine.runner import CheckpointLoader
    case = timm_case()
    path = save(case.checkpoint, tmp_path / 'timm.pth')
    CheckpointLoader.register_scheme(
        'mmconvnextv2-test://', force=True,
        loader=lambda filename, map_location: torch.load(path, map_location=map_location))
    model = pretrained('mmconvnextv2-test://convnextv2_atto.pth')
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), tuple(case.reference(x)), **TOL)


@pytest.mark.parametrize('suffix', ['.pth', '.safetensors'])
def test_unrecognized_file_names_itself_and_its_keys(suffix, tmp_path):
    path = save({'encoder.layer1.weight': torch.zeros(3), 'fc.bias': torch.zeros(2)},
                tmp_path / f'resnet{suffix}')
    with pytest.raises(ValueError, match=re.escape(path) + r': not a ConvNeXt V2 checkpoint in '
                       r"a known layout.*\['encoder.layer1.weight', 'fc.bias'\]"):
        pretrained(path)


def test_safetensors_name_on_a_pickle_is_refused_and_not_run(tmp_path):
    marker = tmp_path / 'ran'

    class Payload:

        def __reduce__(self):
            return (open, (str(marker), 'w'))

    path = tmp_path / 'evil.safetensors'
    torch.save({'stem.0.weight': Payload()}, path)
    with pytest.raises(ValueError, match='refused to load; it is a PyTorch .pickle. file under '
                       'a .safetensors name, and .safetensors files are never unpickled'):
        pretrained(str(path))
    assert not marker.exists()


def test_corrupt_safetensors_file(tmp_path):
    path = tmp_path / 'cut.safetensors'
    save(timm_case().checkpoint, path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match='not a readable safetensors file'):
        pretrained(str(path))


def test_shape_mismatch_is_an_error_naming_the_key(tmp_path):
    path = save(timm_case().checkpoint, tmp_path / 'atto.safetensors')
    model = ConvNeXtV2('femto', init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(ValueError, match=r'weights do not fit this ConvNeXtV2 \(another arch\?\)'
                       r': downsample_layers.0.0.weight: \(40, 3, 4, 4\) in the checkpoint, '
                       r'\(48, 3, 4, 4\) in the model'):
        model.init_weights()


def test_convnext_v1_is_refused(tmp_path):
    path = save(timm.create_model('convnext_atto').state_dict(), tmp_path / 'v1.pth')
    with pytest.raises(ValueError, match='layer scale is not part of ConvNeXt V2'):
        pretrained(path)


def test_pretrained_option_end_to_end(tmp_path, log_text):
    """``--cfg-options pretrained=<timm .safetensors>`` on the Mask R-CNN config: after
    ``init_weights`` the detector's backbone holds the source's weights."""
    ref, _ = timm_reference()
    path = save(ref.state_dict(), tmp_path / 'convnextv2_atto.safetensors')
    cfg = load_config(os.path.join(ROOT, MASK_RCNN_ATTO), work_dir=str(tmp_path),
                      cfg_options=dict(pretrained=path))
    model = build_model(cfg)
    model.init_weights()
    got = model.backbone.state_dict()
    expected = {k[len('backbone.'):]: v for k, v in convert_timm(ref.state_dict()).items()
                if k.startswith('backbone.')}
    assert set(expected) <= set(got)
    for k, v in expected.items():
        torch.testing.assert_close(got[k], v, rtol=0, atol=0, msg=k)
    assert 'recognized the timm ConvNeXt V2 format' in log_text()
