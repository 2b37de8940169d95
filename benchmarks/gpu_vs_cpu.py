"""The same work on the CPU and on a CUDA device, in one process: sequences per second on each and the GPU / CPU ratio.

Rows, each with the paper-sized default models (deepmotif.models.build_model) on random 101 bp sequences:
  train-<arch>  one epoch of deepmotif.train.fit on the built-in synthetic task (validation pass included)
  predict       deepmotif.train.predict, default CNN
  saliency      deepmotif.saliency.saliency (the paper's |gradient| x input), default CNN
  ism           deepmotif.attribution.ism, default CNN and CNN-RNN
  temporal      deepmotif.temporal.temporal_scores (every prefix and suffix), default RNN
  ig            deepmotif.attribution.integrated_gradients (zero baseline, 50 steps), default CNN
Every output computed on the GPU is checked against the CPU's (the largest difference is printed); training is checked
by its first-epoch loss. Timings are the best of --repeat calls (the first call warms the device up), with
torch.cuda.synchronize() around each.

With --devices cpu only the CPU column is measured (what CI runs, to keep the script working); without a CUDA device
and cuda asked for, the script says so and exits with status 2.

usage: python benchmarks/gpu_vs_cpu.py [--quick] [--devices cpu cuda] [--threads T] [--repeat 3]
"""
import argparse, os, platform, sys, time
import torch
from torch import nn
from deepmotif.attribution import ism, integrated_gradients
from deepmotif.data import synthetic_dataset, train_valid_split
from deepmotif.models import build_model
from deepmotif.saliency import saliency
from deepmotif.temporal import temporal_scores
from deepmotif.train import fit, predict

SIZES = {'train': (8_000, 512), 'predict': (20_000, 1_000), 'saliency': (5_000, 256), 'ism': (200, 8),
         'temporal': (200, 8), 'ig': (500, 16)}  # full, --quick


def random_X(n, L=101, seed=0):
    g = torch.Generator().manual_seed(seed)
    return nn.functional.one_hot(torch.randint(0, 4, (n, L), generator=g), 4).transpose(1, 2).float().contiguous()


def model(arch):
    torch.manual_seed(0)
    return build_model(arch).eval()


def timed(f, dev, repeat):
    "(best seconds, last result) of `repeat` calls of f, synchronising the device around each."
    best, out = float('inf'), None
    for _ in range(repeat):
        if dev.type == 'cuda': torch.cuda.synchronize()
        t = time.perf_counter(); out = f()
        if dev.type == 'cuda': torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return best, out


def as_tensor(v): return torch.as_tensor(v).detach().float().cpu()


def jobs(quick: bool) -> list:
    "(row name, n sequences, function(device) -> result) of every row."
    n = {k: v[quick] for k, v in SIZES.items()}
    out = []
    tr, va = train_valid_split(synthetic_dataset(n=n['train']))
    for arch in ('cnn', 'rnn', 'cnn-rnn'):
        def train(dev, arch=arch):
            h = fit(model(arch), tr, va, epochs=1, patience=None, restarts=0, device=dev, verbose=False)
            return torch.tensor([h.records[0]['train_loss']])
        out.append((f'train-{arch}', len(tr), train))
    X = random_X(n['predict'])
    out.append(('predict cnn', n['predict'], lambda dev, X=X: predict(model('cnn'), X, device=dev)))
    X = random_X(n['saliency'])
    out.append(('saliency cnn', n['saliency'], lambda dev, X=X: saliency(model('cnn'), X, device=dev)))
    X = random_X(n['ism'])
    for arch in ('cnn', 'cnn-rnn'):
        out.append((f'ism {arch}', n['ism'], lambda dev, X=X, arch=arch: ism(model(arch), X, device=dev)))
    X = random_X(n['temporal'])
    out.append(('temporal rnn', n['temporal'], lambda dev, X=X: temporal_scores(model('rnn'), X, device=dev)))
    X = random_X(n['ig'])
    out.append(('ig cnn', n['ig'], lambda dev, X=X: integrated_gradients(model('cnn'), X, rtol=None, device=dev)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='small inputs (a check that the script runs)')
    ap.add_argument('--devices', nargs='+', default=['cpu', 'cuda'], choices=['cpu', 'cuda'])
    ap.add_argument('--threads', type=int, default=os.cpu_count(), help='CPU threads (torch.set_num_threads)')
    ap.add_argument('--repeat', type=int, default=3)
    a = ap.parse_args(argv)
    if 'cuda' in a.devices and not torch.cuda.is_available():
        print('no CUDA device here: run with --devices cpu, or on a machine with a GPU', file=sys.stderr)
        return 2
    torch.set_num_threads(a.threads)
    devs = [torch.device(d) for d in a.devices]
    card = torch.cuda.get_device_name(0) if 'cuda' in a.devices else 'no GPU'
    print(f'{platform.machine()}, {a.threads} CPU threads, {card}; torch {torch.__version__}; best of {a.repeat}')
    head = ' | '.join(f'{d.type} seq/s' for d in devs)
    print(f'| row | sequences | {head} |' + (' GPU / CPU | max |difference| |' if len(devs) == 2 else ''))
    print('|---|---:|' + '---:|' * len(devs) + ('---:|---:|' if len(devs) == 2 else ''))
    for name, n, f in jobs(a.quick):
        res = [timed(lambda: f(d), d, a.repeat) for d in devs]
        rates = [n / t for t, _ in res]
        line = f'| {name} | {n:,} | ' + ' | '.join(f'{r:,.0f}' for r in rates) + ' |'
        if len(devs) == 2:
            diff = (as_tensor(res[0][1]) - as_tensor(res[1][1])).abs().max().item()
            line += f' {rates[1] / rates[0]:.1f}x | {diff:.1e} |'
        print(line, flush=True)
    return 0


if __name__ == '__main__': sys.exit(main())
