"""One-hot encoding throughput (bases per second) of deepmotif.data.one_hot, against tangermeme's one_hot_encode and
a per-character loop, on one thread.

Two regimes: one long sequence (a chromosome-sized string, 10 Mb with a run of N) and many short ones (20,000 x 101 bp,
a ChIP-seq data set). tangermeme encodes one string at a time, so the short sequences are encoded in a loop and
stacked. Both output types are compared: float32 (what the models take, our default) and int8 (tangermeme's default).
The timings are interleaved (ours, theirs, ours, ...) and the best of `--repeat` is kept; every output is checked to be
identical before timing.

usage: python benchmarks/onehot_speed.py [--long 10000000] [--n 20000] [--length 101] [--repeat 7]
"""
import os
for v in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'NUMBA_NUM_THREADS'): os.environ[v] = '1'
import argparse, platform, random, time
import numpy as np
import torch
from deepmotif.data import one_hot

torch.set_num_threads(1)


def loop_one_hot(seqs):
    X = torch.zeros(len(seqs), 4, len(seqs[0]))
    for i, s in enumerate(seqs):
        for j, c in enumerate(s):
            k = 'ACGT'.find(c)
            if k >= 0: X[i, k, j] = 1
    return X


def interleaved(fs: dict, repeat: int) -> dict:
    "Best time of each function, the functions run in turn `repeat` times."
    ts = {k: [] for k in fs}
    for _ in range(repeat):
        for k, f in fs.items():
            t = time.perf_counter(); f(); ts[k].append(time.perf_counter() - t)
    return {k: min(v) for k, v in ts.items()}


def compare(label, seqs, repeat, tm):
    "Print ours vs tangermeme for `seqs` in float32 and int8, after checking the outputs are identical."
    bases = len(seqs) * len(seqs[0])
    theirs = (lambda d: tm(seqs[0], dtype=d)[None]) if len(seqs) == 1 else (lambda d: torch.stack([tm(s, dtype=d) for s in seqs]))
    print(f'\n{label}: {len(seqs)} x {len(seqs[0]):,} bp')
    for d in (torch.float32, torch.int8):
        assert torch.equal(one_hot(seqs, dtype=d), theirs(d)), f'outputs differ ({d})'
        t = interleaved({'ours': lambda: one_hot(seqs, dtype=d), 'tangermeme': lambda: theirs(d)}, repeat)
        print(f'  {str(d):14s} ours {bases / t["ours"] / 1e6:8.0f} Mbases/s   tangermeme {bases / t["tangermeme"] / 1e6:8.0f} Mbases/s'
              f'   ours/tangermeme speed {t["tangermeme"] / t["ours"]:.2f}x   (outputs identical)')


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--long', type=int, default=10_000_000); ap.add_argument('--n', type=int, default=20_000)
    ap.add_argument('--length', type=int, default=101); ap.add_argument('--repeat', type=int, default=7)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    acgt = lambda n: np.frombuffer(b'ACGT', dtype=np.uint8)[rng.integers(0, 4, n)].tobytes().decode()
    chrom = acgt(a.long)
    mid = a.long // 2
    chrom = chrom[:mid] + 'N' * 10_000 + chrom[mid + 10_000:]  # an assembly gap
    short = [acgt(a.length) for _ in range(a.n)]
    print(f'{platform.processor() or platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}, '
          f'torch {torch.__version__}, {torch.get_num_threads()} thread; best of {a.repeat} interleaved runs')
    try:
        import tangermeme
        from tangermeme.utils import one_hot_encode
        print(f'tangermeme {tangermeme.__version__}')
        compare('one long sequence', [chrom], a.repeat, one_hot_encode)
        compare('many short sequences', short, a.repeat, one_hot_encode)
    except ImportError: print("tangermeme is not installed: pip install tangermeme")
    small = short[:2000]
    assert torch.equal(one_hot(small), loop_one_hot(small))
    t = interleaved({'ours': lambda: one_hot(small), 'loop': lambda: loop_one_hot(small)}, 1)
    print(f'\nper-character Python loop, {len(small)} x {a.length} bp: ours is {t["loop"] / t["ours"]:.0f}x faster')
