"""Saliency throughput (sequences per second) per architecture: batched, against a per-sequence loop
(batch size 1, as the original scripts ran), measured in one run.

usage: python benchmarks/saliency_speed.py [--n 1000] [--loop-n 100] [--length 101] [--device cpu]
"""
import argparse, time
import torch
from deepmotif.models import build_model
from deepmotif.saliency import saliency


def best_of(f, repeat=3):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return min(ts)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=1000); ap.add_argument('--loop-n', type=int, default=100)
    ap.add_argument('--length', type=int, default=101); ap.add_argument('--device', default=None)
    a = ap.parse_args()
    g = torch.Generator().manual_seed(0)
    X = torch.nn.functional.one_hot(torch.randint(0, 4, (a.n, a.length), generator=g), 4).transpose(1, 2).float()
    dev = a.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, device {dev}, N={a.n}, L={a.length}')
    print('| model | batched seq/s | batch-1 loop seq/s | speed-up |')
    print('|---|---|---|---|')
    for arch in ('cnn', 'rnn', 'cnn-rnn'):
        torch.manual_seed(0)
        m = build_model(arch).eval()
        saliency(m, X[:8], device=dev)  # warm-up
        t = best_of(lambda: saliency(m, X, batch_size=256, device=dev))
        t1 = best_of(lambda: saliency(m, X[:a.loop_n], batch_size=1, device=dev), repeat=1)
        assert torch.allclose(saliency(m, X[:a.loop_n], batch_size=1, device=dev), saliency(m, X[:a.loop_n], device=dev), atol=1e-5)
        print(f'| {arch} | {a.n / t:,.0f} | {a.loop_n / t1:,.0f} | {(t1 / a.loop_n) / (t / a.n):.1f}x |', flush=True)
