"""One-hot encoding throughput (bases per second) of deepmotif.data.one_hot, against a per-character loop.

usage: python benchmarks/onehot_speed.py [--n 100000] [--length 101]
"""
import argparse, random, time
import torch
from deepmotif.data import one_hot


def loop_one_hot(seqs):
    X = torch.zeros(len(seqs), 4, len(seqs[0]))
    for i, s in enumerate(seqs):
        for j, c in enumerate(s):
            k = 'ACGT'.find(c)
            if k >= 0: X[i, k, j] = 1
    return X


def best_of(f, repeat=5):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return min(ts)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=100_000); ap.add_argument('--length', type=int, default=101)
    a = ap.parse_args()
    rng = random.Random(0)
    seqs = [''.join(rng.choices('ACGTN', weights=[30, 20, 20, 30, 1], k=a.length)) for _ in range(a.n)]
    bases = a.n * a.length
    t = best_of(lambda: one_hot(seqs))
    small = seqs[:2000]
    t_loop = best_of(lambda: loop_one_hot(small), repeat=1) * a.n / len(small)
    assert torch.equal(one_hot(small), loop_one_hot(small))
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads')
    print(f'one_hot: {a.n} x {a.length} bp in {t:.3f} s = {bases / t / 1e6:.1f} million bases/s')
    print(f'per-character loop (extrapolated from 2000 sequences): {bases / t_loop / 1e6:.2f} million bases/s; speed-up {t_loop / t:.0f}x')
