"""ContrastHead: stock head + projection head, its loss over [I; Î], prediction, joint training."""
import pickle

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from tiny_segmentors import (NUM_CLASSES, PIXCON_LOSS, STOCK_HEADS, build, head_cfg,
                             make_batch, segmentor_cfg)

from mmseg.models.decode_heads import ASPPHead, DepthwiseSeparableFCNHead
from mmseg.registry import MODELS
from mmseg_pixcon.models.decode_heads import ContrastASPPHead, ContrastHead, ProjectionHead
from mmseg_pixcon.models.losses import PixelContrastLoss
from mmseg_pixcon.models.grid_resize import resize_labels

PROJ_NAMES = {'conv_seg.convs.0.conv.weight', 'conv_seg.convs.0.conv.bias',
              'conv_seg.convs.1.conv.weight', 'conv_seg.convs.1.conv.bias',
              'conv_seg.convs.2.weight', 'conv_seg.convs.2.bias'}


def without_conv_seg(names):
    return {name for name in names if not name.startswith('conv_seg.')}


def features(batch: int = 2, seed: int = 0):
    """Backbone-like multi-level features of the tiny ResNet: 8/16/32/64 channels."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, c, s, s, generator=gen)
            for c, s in ((8, 8), (16, 4), (32, 4), (64, 4))]


# --- structure -------------------------------------------------------------------------------

@pytest.mark.parametrize('base_type', sorted(STOCK_HEADS))
def test_stock_tensor_names_kept(base_type):
    stock = MODELS.build(head_cfg(base_type, contrast=False))
    contrast = MODELS.build(head_cfg(base_type, contrast=True))
    assert type(contrast).__name__ == 'Contrast' + base_type
    assert isinstance(contrast, type(stock))
    stock_names, names = set(stock.state_dict()), set(contrast.state_dict())
    assert {n for n in stock_names if n.startswith('conv_seg.')} == {'conv_seg.weight',
                                                                      'conv_seg.bias'}
    assert without_conv_seg(names) == without_conv_seg(stock_names)
    assert names - stock_names == PROJ_NAMES
    for name in without_conv_seg(names):
        assert contrast.state_dict()[name].shape == stock.state_dict()[name].shape


def test_classes_cached_and_picklable():
    first = MODELS.build(head_cfg('ASPPHead', contrast=True))
    second = ContrastHead(**{k: v for k, v in head_cfg('ASPPHead', contrast=True).items()
                             if k != 'type'})
    assert type(first) is type(second)
    copy = pickle.loads(pickle.dumps(first))
    assert type(copy) is type(first)
    assert torch.equal(copy.conv_seg.convs[2].weight, first.conv_seg.convs[2].weight)


def test_stock_heads_are_registered_classes_and_others_are_made():
    """The recipe's heads are classes of their own (``type='ContrastASPPHead'`` works too);
    any other BaseDecodeHead gets the same kind of subclass, made once, picklable."""
    built = MODELS.build(head_cfg('ASPPHead', contrast=True))
    assert type(built) is ContrastASPPHead is MODELS.get('ContrastASPPHead')
    assert ContrastASPPHead.__bases__[1] is ASPPHead
    by_name = dict(head_cfg('ASPPHead', contrast=True), type='ContrastASPPHead')
    del by_name['base_type']
    assert type(MODELS.build(by_name)) is ContrastASPPHead
    other = dict(head_cfg('FCNHead', contrast=True), base_type='DepthwiseSeparableFCNHead')
    first, second = MODELS.build(other), MODELS.build(other)
    assert type(first).__name__ == 'ContrastDepthwiseSeparableFCNHead'
    assert type(first) is type(second) and isinstance(first, DepthwiseSeparableFCNHead)
    assert type(pickle.loads(pickle.dumps(first))) is type(first)


def test_the_loss_takes_the_head_num_classes():
    """A fixed class count keeps the loss's shapes the same from step to step."""
    head, samples = head_and_batch()
    assert head.loss_decode.num_classes == NUM_CLASSES
    with pytest.raises(ValueError, match='num_classes=5 differs from the head num_classes=3'):
        MODELS.build(head_cfg('ASPPHead', contrast=True,
                              loss_decode=dict(PIXCON_LOSS, num_classes=5)))
    samples[1].gt_sem_seg.data[0, 0, 0] = NUM_CLASSES  # a label the model has no class for
    embeddings = F.normalize(torch.randn(4, 16, 32, 32), dim=1)
    with pytest.raises(ValueError, match='below num_classes=3.*found class 3'):
        head.loss_by_feat(embeddings, samples)


def test_bad_configs_refused():
    cfg = head_cfg('ASPPHead', contrast=True)
    with pytest.raises(ValueError, match='not registered'):
        MODELS.build(dict(cfg, base_type='NoSuchHead'))
    with pytest.raises(ValueError, match='BaseDecodeHead subclass'):
        MODELS.build(dict(cfg, base_type='ResNetV1c'))
    with pytest.raises(ValueError, match='pixel sampler'):
        MODELS.build(dict(cfg, sampler=dict(type='OHEMPixelSampler')))
    with pytest.raises(ValueError, match='ignore_index'):
        MODELS.build(dict(cfg, loss_decode=dict(PIXCON_LOSS, ignore_index=0)))
    with pytest.raises(ValueError, match='at least one conv'):
        MODELS.build(dict(cfg, num_proj_convs=0))


def test_projection_init_survives_decode_head_init():
    """BaseDecodeHead's init_cfg sets all of conv_seg to Normal(0.01), norm weights included;
    the projection's own init (Kaiming, norms 1/0) must come after it."""
    head = MODELS.build(head_cfg('PSPHead', contrast=True, proj_norm_cfg=dict(type='BN')))
    with torch.no_grad():
        for p in head.conv_seg.parameters():
            p.fill_(7.0)
    head.init_weights()
    norms = [m for m in head.conv_seg.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(norms) == 2
    for norm in norms:
        assert torch.equal(norm.weight, torch.ones(16))
        assert torch.equal(norm.bias, torch.zeros(16))
    last = head.conv_seg.convs[2]
    kaiming_std = (2.0 / 16) ** 0.5  # fan_out of a 1x1 conv with 16 outputs
    assert 0.6 * kaiming_std < last.weight.std().item() < 1.4 * kaiming_std
    assert torch.equal(last.bias, torch.zeros(16))


def test_projection_layers():
    proj = ProjectionHead(8, channels=4, num_convs=1)
    assert [type(m).__name__ for m in proj.convs] == ['Conv2d']
    assert proj(torch.randn(1, 8, 3, 3)).shape == (1, 4, 3, 3)
    proj = ProjectionHead(8, channels=4, num_convs=2, norm_cfg=dict(type='BN'))
    hidden = proj.convs[0]
    assert hidden.conv.in_channels == 8 and hidden.with_norm and hidden.with_activation
    assert proj.convs[1].in_channels == 4


def test_projection_norm_per_view_normalises_each_half_on_its_own():
    torch.manual_seed(0)
    shared = ProjectionHead(8, channels=4, num_convs=3, norm_cfg=dict(type='BN'))
    per_view = ProjectionHead(8, channels=4, num_convs=3, norm_cfg=dict(type='BN'),
                              norm_per_view=True)
    per_view.load_state_dict(shared.state_dict())
    # Î brighter than I: with shared statistics each half is normalised by the pooled mean
    x = torch.cat([torch.randn(2, 8, 3, 3), 3 + torch.randn(2, 8, 3, 3)])
    out = per_view(x)
    torch.testing.assert_close(out, torch.cat([shared(x[:2]), shared(x[2:])]))
    assert not torch.allclose(out, shared(x), atol=1e-3)
    per_view.load_state_dict(shared.state_dict())
    per_view.eval()
    shared.eval()
    torch.testing.assert_close(per_view(x), shared(x))  # running statistics: no split
    with pytest.raises(ValueError, match='odd batch'):
        per_view.train()(x[:3])
    with pytest.raises(ValueError, match='norm_cfg'):
        ProjectionHead(8, norm_per_view=True)


@pytest.mark.parametrize('base_type', sorted(STOCK_HEADS))
def test_embeddings_unit_norm(base_type):
    head = MODELS.build(head_cfg(base_type, contrast=True))
    head.init_weights()
    head.eval()
    embeddings = head(features())
    assert embeddings.shape[:2] == (2, 16)
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones_like(embeddings[:, 0]))


# --- the loss --------------------------------------------------------------------------------

def head_and_batch(**overrides):
    head = MODELS.build(head_cfg('ASPPHead', contrast=True, **overrides))
    head.init_weights()
    batch = make_batch(2)
    samples = batch['data_samples'] + [s.clone() for s in batch['data_samples']]
    return head, samples


def test_loss_by_feat_matches_direct_loss_call():
    head, samples = head_and_batch(loss_decode=dict(PIXCON_LOSS, formulation='official'))
    embeddings = F.normalize(torch.randn(4, 16, 4, 4, dtype=torch.float64), dim=1)
    losses = head.loss_by_feat(embeddings, samples)
    assert set(losses) == {'loss_pixcon', 'pixcon_anchors'}
    labels = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    small = resize_labels(labels, (4, 4))
    # official within: every labelled pixel of both views is an anchor and its own positive
    assert losses['pixcon_anchors'].item() == (small != 255).sum().item()
    stride = labels.shape[1] // 4
    # the pixel at the centre of each stride cell (rounded down-right), not its top-left corner
    assert torch.equal(small[:, 1, 2], labels[:, stride + stride // 2, 2 * stride + stride // 2])
    expected = PixelContrastLoss(mode='within', formulation='official', temperature=0.1)(
        embeddings[:2], small[:2], embeddings[2:], small[2:])
    torch.testing.assert_close(losses['loss_pixcon'], expected)


def test_loss_resolution_resizes_embeddings_and_labels():
    head, samples = head_and_batch(loss_resolution=(8, 8))
    embeddings = F.normalize(torch.randn(4, 16, 4, 4, dtype=torch.float64), dim=1)
    big = F.normalize(F.interpolate(embeddings, size=(8, 8), mode='bilinear',
                                    align_corners=False), dim=1)
    labels = resize_labels(torch.stack([s.gt_sem_seg.data[0] for s in samples]), (8, 8))
    expected = PixelContrastLoss(mode='within', temperature=0.1)(big[:2], labels[:2], big[2:],
                                                                  labels[2:])
    torch.testing.assert_close(head.loss_by_feat(embeddings, samples)['loss_pixcon'], expected)
    with pytest.raises(ValueError, match='loss_resolution'):
        MODELS.build(head_cfg('ASPPHead', contrast=True, loss_resolution=(8, )))


def test_loss_resolution_projects_resized_features_in_training_only():
    """loss() resizes the decoder features before the projection (released code's
    resize_size); the test-time forward keeps the decoder grid."""
    head, samples = head_and_batch(loss_resolution=(3, 5), dropout_ratio=0)
    inputs = [f.repeat(2, 1, 1, 1) for f in features(batch=2)]
    seen = []
    hook = head.conv_seg.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape)))
    losses = head.loss(inputs, samples, train_cfg={})
    feats = head._forward_feature(inputs)  # (4, channels, 4, 4) decoder features
    small = F.interpolate(feats, size=(3, 5), mode='bilinear', align_corners=False)
    embeddings = F.normalize(head.conv_seg(small), dim=1)
    labels = resize_labels(torch.stack([s.gt_sem_seg.data[0] for s in samples]), (3, 5))
    expected = PixelContrastLoss(mode='within', temperature=0.1)(
        embeddings[:2], labels[:2], embeddings[2:], labels[2:])
    torch.testing.assert_close(losses['loss_pixcon'], expected)
    head.eval()
    assert tuple(head(inputs).shape) == (4, 16, 4, 4)
    hook.remove()
    assert seen[0] == (4, 16, 3, 5) and seen[-1] == (4, 16, 4, 4)
    assert head._projection_size is None


def test_loss_list_sums_same_names():
    twice = [PIXCON_LOSS, PIXCON_LOSS, dict(PIXCON_LOSS, loss_name='loss_other')]
    head, samples = head_and_batch(loss_decode=twice)
    embeddings = F.normalize(torch.randn(4, 16, 4, 4, dtype=torch.float64), dim=1)
    losses = head.loss_by_feat(embeddings, samples)
    assert set(losses) == {'loss_pixcon', 'loss_other', 'pixcon_anchors', 'other_anchors'}
    torch.testing.assert_close(losses['loss_pixcon'], 2 * losses['loss_other'])


def test_batch_without_second_view_refused():
    head, samples = head_and_batch()
    embeddings = F.normalize(torch.randn(3, 16, 4, 4), dim=1)
    with pytest.raises(ValueError, match='odd batch of 3.*PixConDataPreProcessor'):
        head.loss_by_feat(embeddings, samples[:3])
    with pytest.raises(ValueError, match='3 embedding maps but 4 data samples'):
        head.loss_by_feat(embeddings, samples)
    # An even batch of four different images (stock preprocessor, batch 4) is no [I; Î].
    distinct = make_batch(4)['data_samples']
    with pytest.raises(ValueError, match='samples 0 and 2 are different images'):
        head.loss_by_feat(F.normalize(torch.randn(4, 16, 4, 4), dim=1), distinct)


def test_stock_preprocessor_with_contrast_head_fails_clearly():
    model = build(segmentor_cfg(head_cfg('FCNHead', contrast=True), two_views=False))
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    with pytest.raises(ValueError, match='PixConDataPreProcessor'):
        model.train_step(make_batch(3), optim)


# --- training steps through EncoderDecoder ---------------------------------------------------

def train_step_changes(model, names, batch):
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log = model.train_step(batch, optim)
    after = dict(model.named_parameters())
    changed = {n for n in names if not torch.equal(before[n], after[n])}
    return log, changed


@pytest.mark.parametrize('base_type', ['DepthwiseSeparableASPPHead', 'ASPPHead', 'PSPHead'])
def test_stage_one_train_step(base_type):
    model = build(segmentor_cfg(head_cfg(base_type, contrast=True)))
    watched = ['backbone.stem.0.weight', 'decode_head.bottleneck.conv.weight',
               'decode_head.conv_seg.convs.0.conv.weight', 'decode_head.conv_seg.convs.2.weight']
    log, changed = train_step_changes(model, watched, make_batch(2))
    assert set(log) == {'loss', 'decode.loss_pixcon', 'decode.pixcon_anchors'}
    assert log['loss'] == log['decode.loss_pixcon']  # the count is logged, not added
    assert torch.isfinite(log['loss']) and log['loss'] > 0
    assert changed == set(watched)


def test_stage_two_stock_train_step():
    model = build(segmentor_cfg(head_cfg('DepthwiseSeparableASPPHead', contrast=False),
                                two_views=False))
    log, changed = train_step_changes(model, ['decode_head.conv_seg.weight'], make_batch(2))
    assert set(log) == {'loss', 'decode.loss_ce', 'decode.acc_seg'}
    assert changed == {'decode_head.conv_seg.weight'}


def test_auxiliary_contrast_head_beside_cross_entropy():
    aux = head_cfg('FCNHead', contrast=True, in_channels=32, in_index=2)
    model = build(segmentor_cfg(head_cfg('PSPHead', contrast=False), auxiliary_head=aux))
    data = model.data_preprocessor(make_batch(2), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg', 'aux.loss_pixcon',
                           'aux.pixcon_anchors'}
    grads = {}
    for key in ('decode.loss_ce', 'aux.loss_pixcon'):
        model.zero_grad()
        losses[key].backward(retain_graph=True)
        grads[key] = {n: p.grad is not None and p.grad.abs().sum().item() > 0
                      for n, p in model.named_parameters()}
    assert grads['decode.loss_ce']['decode_head.conv_seg.weight']
    assert not grads['decode.loss_ce']['auxiliary_head.conv_seg.convs.2.weight']
    assert grads['aux.loss_pixcon']['auxiliary_head.conv_seg.convs.2.weight']
    assert not grads['aux.loss_pixcon']['decode_head.conv_seg.weight']
    for key in grads:  # both reach the shared backbone
        assert grads[key]['backbone.stem.0.weight']


def paper_loss_floor(batch: dict, size=(4, 4)) -> float:
    """Lowest value of the paper loss on a batch: an anchor p cannot do better than
    log N_Î(y_p), reached when each class collapses to one point far from the others."""
    labels = resize_labels(torch.stack([s.gt_sem_seg.data[0] for s in batch['data_samples']]),
                           size)
    floors = []
    for image in labels:
        image = image[image != 255]
        floors.append(torch.bincount(image)[image].double().log().mean().item())
    return sum(floors) / len(floors)


def test_contrastive_loss_falls_on_blobs():
    """Colour-coded blob scenes: 8 SGD steps remove most of the loss above its floor."""
    model = build(segmentor_cfg(head_cfg('FCNHead', contrast=True)))
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    losses = [model.train_step(make_batch(2, seed=step % 4), optim)['loss'].item()
              for step in range(9)]
    floor = paper_loss_floor(make_batch(2, seed=0))
    assert losses[0] - floor > 1.0, (losses, floor)  # the untrained model is far from it
    assert losses[8] - floor < 0.5 * (losses[0] - floor), (losses, floor)


# --- prediction ------------------------------------------------------------------------------

def test_predict_embeddings_then_class_scores():
    head = MODELS.build(head_cfg('ASPPHead', contrast=True))
    head.init_weights()
    head.eval()
    metas = [dict(img_shape=(32, 32), pad_shape=(32, 32))] * 2
    feats = features()
    embeddings = head.predict(feats, metas, dict())
    assert embeddings.shape == (2, 16, 32, 32)
    prototypes = torch.randn(NUM_CLASSES, 16)
    head.set_prototypes(prototypes)
    assert 'prototypes' not in head.state_dict()
    scores = head.predict(feats, metas, dict())
    assert scores.shape == (2, NUM_CLASSES, 32, 32)
    small = torch.einsum('ndhw,cd->nchw', head(feats), F.normalize(prototypes, dim=1))
    expected = F.interpolate(small, size=(32, 32), mode='bilinear', align_corners=False)
    torch.testing.assert_close(scores, expected)
    assert scores.abs().max() <= 1 + 1e-5  # cosine similarities
    with pytest.raises(ValueError, match=r'\(3, 16\)'):
        head.set_prototypes(torch.randn(NUM_CLASSES, 8))


def test_prototypes_do_not_break_strict_loading():
    cfg = segmentor_cfg(head_cfg('PSPHead', contrast=True))
    model = build(cfg)
    model.decode_head.set_prototypes(torch.randn(NUM_CLASSES, 16))
    state = model.state_dict()
    assert not any('prototypes' in name for name in state)
    fresh = build(cfg, seed=1)
    fresh.load_state_dict(state, strict=True)
    assert fresh.decode_head.prototypes is None


def test_segmentor_predict_with_prototypes_returns_class_maps():
    model = build(segmentor_cfg(head_cfg('DepthwiseSeparableASPPHead', contrast=True)))
    model.decode_head.set_prototypes(torch.randn(NUM_CLASSES, 16))
    model.eval()
    data = model.data_preprocessor(make_batch(2), False)
    with torch.no_grad():
        results = model.predict(data['inputs'], data['data_samples'])
    assert results[0].seg_logits.data.shape == (NUM_CLASSES, 32, 32)
    assert results[0].pred_sem_seg.data.max() < NUM_CLASSES
    assert torch.equal(results[0].pred_sem_seg.data[0], results[0].seg_logits.data.argmax(0))
