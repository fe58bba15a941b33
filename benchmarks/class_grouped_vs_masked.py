"""Does the class-by-class same-class log-sum-exp (class_grouped.py) pay? Timed against masking.

Measures, in one process and alternating the two implementations call by call, the
cross-image term log Σ_{k∈Ĵ, y_k=y_p} e_pk computed class by class
(``class_grouped.same_class_logsumexp``: a loop over classes with a host read, groups padded
to the largest bag) or as the masked tiled kernel (``pair_logsumexp(..., same_class=True)``):

1. ``train_step`` of the synthetic stage-1 config (DeepLabV3+ R18, B = 4, 96×192 crops,
   cross-image paper loss at ``loss_resolution=(12, 24)``), two identically initialised models;
2. the loss alone, forward + backward, on a contrast set the size of a 512×1024 crop: one
   image, two views of 64×128 embeddings (output stride 8), D = 256, 19 blocky classes.

It swaps the two in the loss of commit 0ff42b8 (the last one whose loss calls class_grouped.py;
the loss no longer does, for its per-call host read), so run it on a tree of that commit::

    git archive 0ff42b8 | tar -x -C /tmp/base
    python benchmarks/class_grouped_vs_masked.py --root /tmp/base \\
        --out benchmarks/class_grouped_vs_masked
"""
import argparse
import copy
import importlib.util
import json
import os
import shlex
import statistics
import sys
import time


def load_tool(root: str, name: str):
    """tools/<name>.py of the tree ``root`` as a module (it puts ``root`` first on sys.path)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(root, 'tools', name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--root', required=True, help='a tree of commit 0ff42b8')
    parser.add_argument('--iters', type=int, default=6)
    parser.add_argument('--loss-repeats', type=int, default=3)
    parser.add_argument('--out', default=None)
    args = parser.parse_args()
    train = load_tool(args.root, 'benchmark_train')
    loss_tool = load_tool(args.root, 'benchmark_loss')
    import torch

    import mmseg_pixcon.models.losses.contrast_terms as terms
    from mmseg_pixcon.models.losses import PixelContrastLoss
    from mmseg_pixcon.models.losses.class_grouped import same_class_logsumexp
    from mmseg_pixcon.models.losses.tiled_contrast import pair_logsumexp
    from mmseg_pixcon.utils.benchmark_report import write_report
    assert os.path.samefile(os.path.dirname(terms.__file__),
                            os.path.join(args.root, 'mmseg_pixcon/models/losses'))

    def masked(anchors, contrast, anchor_labels, contrast_labels, temperature, tile_size,
               num_classes):
        return pair_logsumexp(anchors, contrast, anchor_labels, contrast_labels, temperature,
                              tile_size, same_class=True)

    kernels = {'grouped': same_class_logsumexp, 'masked': masked}

    def alternate(step, rounds):
        """Seconds of ``step(name)`` per kernel, the kernels taking turns, first one rotating."""
        times = {name: [] for name in kernels}
        for i in range(rounds):
            for name in list(kernels)[i % 2:] + list(kernels)[:i % 2]:
                terms.same_class_logsumexp = kernels[name]
                start = time.perf_counter()
                step(name)
                times[name].append(time.perf_counter() - start)
                print(f'{step.__name__} {name} {times[name][-1]:.3f} s', flush=True)
        return times

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    train.init_default_scope('mmseg')
    train.MMLogger.get_instance('class_grouped_vs_masked', log_level='WARNING')
    train_args = train.parse_args(['--batch-sizes', '4', '--no-stock'])
    cfgs, pretrain = train.model_configs(train_args)
    cfg = cfgs['stage1 cross:paper']
    batches = train.make_batches(pretrain, train.synthetic_root(train_args), 4, 2, 0)
    models = {name: train.build_model(copy.deepcopy(cfg), pretrain.optim_wrapper, 'cpu', 0)
              for name in kernels}
    losses = {name: [] for name in kernels}
    step_count = {name: 0 for name in kernels}

    def train_step(name):
        model, optim = models[name]
        torch.manual_seed(step_count[name])  # the same partners for both models
        out = model.train_step(batches[step_count[name] % 2], optim)
        losses[name].append(out['loss'].item())
        step_count[name] += 1

    alternate(train_step, 2)  # warm-up
    step_times = alternate(train_step, args.iters)

    spec = dict(batch_size=1, dim=256, size=[64, 128], device='cpu', dtype='float32')
    feats, labels, feats_aug, labels_aug = loss_tool._make_inputs(spec, torch)
    feats.requires_grad_()
    feats_aug.requires_grad_()
    loss = PixelContrastLoss(mode='cross', partner='roll')
    values = {}

    def loss_step(name):
        value = loss(feats, labels, feats_aug, labels_aug)
        value.backward()
        values[name] = value.item()
        feats.grad = feats_aug.grad = None

    alternate(loss_step, 1)  # warm-up
    loss_times = alternate(loss_step, args.loss_repeats)

    def row(what, times):
        grouped, masked_ = (statistics.median(times[k]) for k in kernels)
        return dict(what=what, grouped_s=grouped, masked_s=masked_, ratio=grouped / masked_,
                    times=times)

    rows = [row('synthetic stage-1 train_step (B = 4, 96×192, loss grid 12×24)', step_times),
            row('loss alone, fwd + bwd: one image, two views of 64×128, D = 256', loss_times)]
    command = 'python ' + ' '.join(shlex.quote(a) for a in
                                   ['benchmarks/class_grouped_vs_masked.py'] + sys.argv[1:])
    result = dict(command=command, rows=rows, load=os.getloadavg(),
                  train_loss_difference=max(abs(a - b) for a, b in zip(*losses.values())),
                  loss_values=values, date=time.strftime('%Y-%m-%d %H:%M'),
                  torch=torch.__version__, threads=torch.get_num_threads())
    lines = ['# Same-class log-sum-exp of the cross-image loss: class by class vs masked', '',
             f'Command: `{command}` (a tree of commit 0ff42b8). torch {torch.__version__}, '
             f'{torch.get_num_threads()} threads, 2-core AMD EPYC shared with other jobs '
             f'(load average at the end {os.getloadavg()[0]:.2f}); median seconds, the two '
             'kernels taking turns call by call.', '',
             '| what | class by class (s) | masked (s) | class by class / masked |',
             '|---|---|---|---|']
    lines += [f'| {r["what"]} | {r["grouped_s"]:.4f} | {r["masked_s"]:.4f} | '
              f'{r["ratio"]:.3f} |' for r in rows]
    lines += ['', f'Largest difference of the training losses of the two models over the '
              f'steps: {result["train_loss_difference"]:.2e}; loss alone: '
              f'{json.dumps(values)}.']
    write_report('\n'.join(lines) + '\n', result, args.out)


if __name__ == '__main__':
    main()
