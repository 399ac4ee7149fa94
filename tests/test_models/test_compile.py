"""``torch.compile``: the dense backbone and the FCMAE training step (gather backend) compile,
with the graph breaks named here and nowhere else, and give the eager results.

Dynamo's ``explain`` lists every graph break; Inductor (C++ code generation on the CPU)
compiles a small network, whose outputs and gradients must match eager execution.
"""
import pytest
import torch
from mmpretrain.registry import MODELS

from mmconvnextv2.models import ConvNeXtV2, random_patch_mask

SMALL = dict(depths=(1, 1, 2, 1), channels=(8, 16, 32, 64))
# The one break the FCMAE step keeps, on purpose: the backend's setup from the mask (which
# positions are visible: data-dependent shapes) runs eagerly, once per forward, before the
# encoder; the stem, every block, the decoder and the loss are one graph after it.
FCMAE_BREAKS = 1


def small_fcmae(backend='gather'):
    return MODELS.build(dict(
        type='FCMAE',
        backbone=dict(type='ConvNeXtV2', arch=SMALL, final_norm=False,
                      gap_before_final_norm=False, sparse_backend=backend, out_indices=(3, )),
        neck=dict(type='FCMAENeck', in_channels=SMALL['channels'][-1], embed_dim=32),
        head=dict(type='FCMAEHead')))


def forward_loss(model):
    def fn(imgs, mask):
        return model.head.loss(model.neck(model.backbone(imgs, mask), mask), imgs, mask)
    return fn


@pytest.fixture
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def test_dense_backbone_has_no_graph_break(fresh_dynamo):
    model = ConvNeXtV2(SMALL, out_indices=(0, 1, 2, 3), gap_before_final_norm=False)
    explain = torch._dynamo.explain(model)(torch.randn(2, 3, 64, 64))
    assert explain.graph_break_count == 0, explain.break_reasons
    assert explain.graph_count == 1


def test_fcmae_step_breaks_only_at_the_mask_setup(fresh_dynamo):
    model = small_fcmae()
    imgs = torch.randn(2, 3, 64, 64)
    mask = random_patch_mask(2, 2, 2, 0.5, generator=torch.Generator().manual_seed(0))
    explain = torch._dynamo.explain(forward_loss(model))(imgs, mask)
    # without the setup run eagerly, `nonzero` and the mask checks break the graph 4 times
    assert explain.graph_break_count == FCMAE_BREAKS, [str(r) for r in explain.break_reasons]
    assert explain.graph_count == FCMAE_BREAKS + 1


def test_compiled_fcmae_step_gives_the_eager_loss_and_gradients(fresh_dynamo):
    """Inductor's C++ code for the gather backend's step (109 s here with an empty Inductor
    cache, 15 s with the cache Inductor keeps under /tmp)."""
    torch.manual_seed(0)
    model = small_fcmae('gather')
    imgs = torch.randn(2, 3, 64, 64)
    mask = random_patch_mask(2, 2, 2, 0.5, generator=torch.Generator().manual_seed(0))
    results = []
    for fn in (forward_loss(model), torch.compile(forward_loss(model))):
        model.zero_grad()
        loss = fn(imgs, mask)
        loss.backward()
        results.append((loss.detach(), {n: p.grad.clone() for n, p in
                                        model.named_parameters() if p.grad is not None}))
    (eager, eager_grads), (compiled, compiled_grads) = results
    torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-6)
    assert set(compiled_grads) == set(eager_grads) and len(eager_grads) > 20
    for name, grad in eager_grads.items():
        torch.testing.assert_close(compiled_grads[name], grad, rtol=1e-3, atol=1e-5,
                                   msg=lambda m, name=name: f'{name}: {m}')
