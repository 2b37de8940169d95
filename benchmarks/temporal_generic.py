"""Temporal scores of a model written in plain torch (the definition: its own forward on every prefix and suffix).

The model is DanQ-like (Quang & Xie 2016, scaled down): Conv1d(4, 64, 19) without padding, ReLU, MaxPool1d(7), a
bidirectional GRU of 32 units kept in `self.rnn`, the maximum over positions and a linear head. deepmotif cannot
read its parts, so `temporal_scores` runs the definition: a prefix and a suffix of the same length go through the
model as one batch, with the batch's sequences, so a sequence costs L model calls. The reference is the plain loop,
one sequence and one cut at a time (2L calls per sequence); both results must agree within 1e-6.

usage: python benchmarks/temporal_generic.py [--lengths 101 1000] [--n 1 8] [--threads T]
"""
import argparse, time
import torch
from torch import nn
from deepmotif.temporal import temporal_scores


class DanQ(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.pool = nn.Conv1d(4, 64, 19), nn.MaxPool1d(7)
        self.rnn, self.head = nn.GRU(64, 32, batch_first=True, bidirectional=True), nn.Linear(64, 1)

    def forward(self, x):
        return self.head(self.rnn(self.pool(self.conv(x).relu()).transpose(1, 2))[0].amax(1))


def loop(model, X, shortest):
    "One model call per sequence, per prefix and per suffix."
    N, _, L = X.shape
    out = torch.full((N, 2, L), float('nan'))
    with torch.no_grad():
        for i in range(N):
            for t in range(L):
                if t + 1 >= shortest: out[i, 0, t] = torch.sigmoid(model(X[i:i + 1, :, :t + 1])[0, 0])
                if L - t >= shortest: out[i, 1, t] = torch.sigmoid(model(X[i:i + 1, :, t:])[0, 0])
    return out


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--lengths', type=int, nargs='+', default=[101, 1000])
    ap.add_argument('--n', type=int, nargs='+', default=[1, 8], help='sequences per call')
    ap.add_argument('--threads', type=int, default=None)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = DanQ().eval()
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads; DanQ-like CNN + BiGRU in plain torch')
    print(f'{"L":>5s} {"N":>3s} {"temporal_scores (s)":>20s} {"per-call loop (s)":>18s} {"ratio":>6s} {"max |diff|":>11s}')
    for L in a.lengths:
        for n in a.n:
            X = nn.functional.one_hot(torch.randint(0, 4, (n, L), generator=torch.Generator().manual_seed(L)), 4).float().transpose(1, 2)
            temporal_scores(model, X[:, :, :60])  # warm-up
            t = time.perf_counter(); S = temporal_scores(model, X); t_fast = time.perf_counter() - t
            t = time.perf_counter(); R = loop(model, X, 19 + 7 - 1); t_loop = time.perf_counter() - t
            diff = (S - R).nan_to_num().abs().max().item()
            assert torch.equal(S.isnan(), R.isnan()) and diff <= 1e-6, f'results differ by {diff:.2e}'
            print(f'{L:5d} {n:3d} {t_fast:20.3f} {t_loop:18.3f} {t_loop / t_fast:5.1f}x {diff:11.1e}')
    print('temporal_scores equals the per-call loop everywhere (NaN where the input is shorter than the model reads)')
