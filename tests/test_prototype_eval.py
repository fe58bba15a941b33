"""Stage-1 evaluation: class prototypes from the training images, prototype mIoU."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.structures import PixelData
from tiny_segmentors import (NUM_CLASSES, build, dataset_cfg, head_cfg, runner_kwargs,
                             segmentor_cfg, write_dataset)

from mmseg.registry import DATASETS, METRICS
from mmseg.structures import SegDataSample
from mmseg_pixcon.engine.hooks import PrototypeHook
from mmseg_pixcon.engine.hooks.prototype_hook import heads_of_kind
from mmseg_pixcon.evaluation import PrototypeAccumulator, labels_on_input_grid
from mmseg_pixcon.models.grid_resize import resize_labels

STAGE_ONE = segmentor_cfg(head_cfg('FCNHead', contrast=True))


# --- the arithmetic --------------------------------------------------------------------------

def test_accumulator_gives_normalised_class_means():
    gen = torch.Generator().manual_seed(0)
    embeddings = F.normalize(torch.randn(2, 3, 2, 2, generator=gen, dtype=torch.float64), dim=1)
    labels = torch.tensor([[[0, 1], [255, 1]], [[0, 0], [2, 255]]])
    acc = PrototypeAccumulator(num_classes=4, channels=3)
    acc.add(embeddings[:1], labels[:1])
    acc.add(embeddings[1:], labels[1:])
    prototypes, counts = acc.result()
    e = embeddings.permute(0, 2, 3, 1)  # (b, i, j, D)
    by_hand = torch.stack([
        (e[0, 0, 0] + e[1, 0, 0] + e[1, 0, 1]) / 3,  # class 0
        (e[0, 0, 1] + e[0, 1, 1]) / 2,                # class 1
        e[1, 1, 0],                                   # class 2
    ])
    torch.testing.assert_close(prototypes[:3], F.normalize(by_hand, dim=1).float())
    assert torch.equal(prototypes[3], torch.zeros(3))  # class 3 has no pixel
    assert counts.tolist() == [3, 2, 1, 0]


def test_accumulator_refuses_bad_labels():
    acc = PrototypeAccumulator(num_classes=2, channels=3)
    with pytest.raises(ValueError, match=r'outside \[0, 2\).*\[5\]'):
        acc.add(torch.zeros(1, 3, 1, 2), torch.tensor([[[1, 5]]]))
    with pytest.raises(ValueError, match='grid'):
        acc.add(torch.zeros(1, 3, 2, 2), torch.zeros(1, 1, 2, dtype=torch.long))


def test_labels_resized_to_image_then_padded_like_the_input():
    sample = SegDataSample(metainfo=dict(img_shape=(4, 6), img_padding_size=[0, 2, 0, 1]))
    sample.gt_sem_seg = PixelData(data=torch.tensor([[[0, 1, 2], [3, 4, 5]]]))
    labels = labels_on_input_grid(sample, (5, 8), ignore_index=255)
    expected = torch.tensor([[0, 0, 1, 1, 2, 2, 255, 255],
                             [0, 0, 1, 1, 2, 2, 255, 255],
                             [3, 3, 4, 4, 5, 5, 255, 255],
                             [3, 3, 4, 4, 5, 5, 255, 255],
                             [255] * 8])
    assert torch.equal(labels, expected)
    with pytest.raises(ValueError, match=r'do not match the input \(6, 8\)'):
        labels_on_input_grid(sample, (6, 8), ignore_index=255)


# --- the metric ------------------------------------------------------------------------------

def prediction(logits: torch.Tensor, gt: torch.Tensor) -> dict:
    return dict(seg_logits=dict(data=logits), pred_sem_seg=dict(data=logits.argmax(0)[None]),
                gt_sem_seg=dict(data=gt[None]))


def test_metric_reports_under_proto_prefix():
    metric = METRICS.build(dict(type='PrototypeIoUMetric'))
    metric.dataset_meta = dict(classes=('a', 'b'))
    gt = torch.tensor([[0, 0], [1, 1]])
    logits = F.one_hot(torch.tensor([[0, 1], [1, 1]]), 2).permute(2, 0, 1).float()
    metric.process({}, [prediction(logits, gt)])
    results = metric.evaluate(1)
    # class a: intersection 1, union 2; class b: 2 of 3; 3 of 4 pixels right.
    assert results == {'proto/aAcc': 75.0, 'proto/mIoU': 58.33, 'proto/mAcc': 75.0}


def test_metric_refuses_raw_embeddings():
    metric = METRICS.build(dict(type='PrototypeIoUMetric'))
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    with pytest.raises(ValueError, match='16 channels.*PrototypeHook'):
        metric.process({}, [prediction(torch.randn(16, 2, 2), torch.zeros(2, 2).long())])


# --- the hook --------------------------------------------------------------------------------

def test_dataloader_reads_training_images_with_eval_pipeline(tmp_path):
    write_dataset(tmp_path, 3)
    cfg = Config(dict(
        train_dataloader=dict(num_workers=0, dataset=dict(
            type='RepeatDataset', times=5, dataset=dataset_cfg(tmp_path))),
        val_dataloader=dict(dataset=dataset_cfg(tmp_path, test=True))))
    loader = PrototypeHook().build_dataloader(cfg, 'val_dataloader')
    batch = next(iter(loader))
    limited = PrototypeHook(max_images=2).build_dataloader(cfg, 'val_dataloader')
    assert len(loader.dataset) == 3  # RepeatDataset looked through
    assert batch['inputs'][0].shape == (3, 48, 48)  # the test pipeline's Resize
    assert batch['data_samples'][0].gt_sem_seg.shape == (32, 32)
    assert len(limited.dataset) == 2
    with pytest.raises(ValueError, match='test_dataloader.dataset.pipeline'):
        PrototypeHook().build_dataloader(cfg, 'test_dataloader')
    with pytest.raises(ValueError, match='train_dataloader'):
        PrototypeHook().build_dataloader(Config(dict()), 'val_dataloader')


def test_contrast_heads_found_in_decode_and_auxiliary_heads():
    aux = head_cfg('FCNHead', contrast=True, in_channels=32, in_index=2)
    joint = build(segmentor_cfg(head_cfg('FCNHead', contrast=False), auxiliary_head=[aux, aux]))
    assert list(heads_of_kind(joint)) == ['auxiliary_head.0', 'auxiliary_head.1']
    assert list(heads_of_kind(build(STAGE_ONE))) == ['decode_head']
    with pytest.raises(ValueError, match='no ContrastHead'):
        heads_of_kind(build(segmentor_cfg(head_cfg('FCNHead', contrast=False))))


def hand_prototypes(model, data_root) -> torch.Tensor:
    """Class means of the decode head's embeddings over the training images, one class mask
    at a time, with the labels brought to the 48x48 test input then to the embedding grid."""
    dataset = DATASETS.build(dataset_cfg(data_root, test=True))
    sums = torch.zeros(NUM_CLASSES, model.decode_head.proj_channels, dtype=torch.float64)
    counts = torch.zeros(NUM_CLASSES)
    model.eval()
    with torch.no_grad():
        for i in range(len(dataset)):
            data = model.data_preprocessor(
                dict(inputs=[dataset[i]['inputs']], data_samples=[dataset[i]['data_samples']]),
                False)
            embeddings = model.decode_head(model.extract_feat(data['inputs']))[0]
            label = data['data_samples'][0].gt_sem_seg.data[None].float()
            label = F.interpolate(label, size=(48, 48), mode='nearest')[0].long()
            # the pixel nearest each cell's centre, PrototypeHook's (and training's) rule
            label = resize_labels(label, tuple(embeddings.shape[1:]))[0]
            for cls in range(NUM_CLASSES):
                mask = label == cls
                sums[cls] += embeddings[:, mask].double().sum(dim=1)
                counts[cls] += mask.sum()
    assert (counts > 0).all()
    return F.normalize(sums / counts[:, None], dim=1).float()


class Metrics(Hook):
    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics = metrics


def eval_kwargs(data) -> dict:
    loader = dict(batch_size=1, num_workers=0, dataset=dataset_cfg(data, test=True),
                  sampler=dict(type='DefaultSampler', shuffle=False))
    return dict(custom_hooks=[dict(type='PrototypeHook')],
                val_dataloader=loader, val_cfg=dict(type='ValLoop'),
                val_evaluator=dict(type='PrototypeIoUMetric'),
                test_dataloader=loader, test_cfg=dict(type='TestLoop'),
                test_evaluator=dict(type='PrototypeIoUMetric'))


def test_separable_embeddings_give_prototype_iou_near_100(tmp_path):
    """Embeddings = the normalised input colour (identity decoder and projection): the
    colour-coded classes separate, so nearest-prototype prediction is right almost everywhere."""
    data = tmp_path / 'data'
    write_dataset(data, 4)
    head = head_cfg('FCNHead', contrast=True, in_channels=3, in_index=0, channels=3,
                    num_convs=0, dropout_ratio=0, norm_cfg=None, proj_channels=3,
                    num_proj_convs=1)
    runner = Runner.from_cfg(Config(runner_kwargs(
        tmp_path / 'work', data, segmentor_cfg(head), max_iters=1, **eval_kwargs(data))))
    model = runner.model
    model.extract_feat = lambda inputs: [inputs]
    with torch.no_grad():
        model.decode_head.conv_seg.convs[0].weight.copy_(torch.eye(3)[:, :, None, None])
        model.decode_head.conv_seg.convs[0].bias.zero_()
    metrics = runner.val()
    assert metrics['proto/mIoU'] >= 99, metrics  # 100.0 on this data
    expected = hand_prototypes(model, data)
    torch.testing.assert_close(model.decode_head.prototypes, expected, atol=1e-5, rtol=1e-5)
    model.decode_head.prototypes = None  # the test loop (tools/test.py) recomputes them
    assert runner.test()['proto/mIoU'] >= 99
    torch.testing.assert_close(model.decode_head.prototypes, expected, atol=1e-5, rtol=1e-5)


def test_stage_one_validation_through_the_runner(tmp_path):
    """Stage 1 trains and validates: the hook sets the prototypes (equal to class means by
    hand) before the validation, which reports proto/ keys."""
    data = tmp_path / 'data'
    write_dataset(data, 4)
    runner = Runner.from_cfg(Config(runner_kwargs(tmp_path / 'work', data, STAGE_ONE,
                                                  max_iters=2, **eval_kwargs(data))))
    probe = Metrics()
    runner.register_hook(probe)
    runner.train()
    assert set(probe.metrics) == {'proto/aAcc', 'proto/mIoU', 'proto/mAcc'}
    expected = hand_prototypes(runner.model, data)
    torch.testing.assert_close(runner.model.decode_head.prototypes, expected,
                               atol=1e-5, rtol=1e-5)
    runner.model.decode_head.prototypes = None
    runner.model.train()
    PrototypeHook().update_prototypes(runner, 'val_dataloader')
    assert runner.model.training  # the hook restores the mode it found
    torch.testing.assert_close(runner.model.decode_head.prototypes, expected,
                               atol=1e-5, rtol=1e-5)
