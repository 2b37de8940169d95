"""Speed of deepmotif.temporal.temporal_scores against the brute-force loop it replaces.

Two loops serve as references, both exact:
  batched loop:        temporal_scores_reference with all N sequences in one batch: for each t, one model run on the
                       2N prefixes and suffixes of length k (L runs in all);
  per-sequence loop:   the same, one sequence at a time (2L model runs per sequence), timed on a few sequences and
                       extrapolated to N.
Each timing is the best of --repeat runs; the results of the fast function and of the batched loop must agree within 1e-5.

usage: python benchmarks/temporal_speed.py [--n 50] [--length 101] [--repeat 3] [--per-seq 3] [--threads T]
"""
import argparse, time
import torch
from tqdm.auto import tqdm
from deepmotif.models import build_model
from deepmotif.temporal import temporal_scores, temporal_scores_reference


def best_of(f, repeat):
    "Smallest wall time of `repeat` calls of f, and its last result."
    ts = []
    for _ in range(repeat):
        t = time.perf_counter(); out = f(); ts.append(time.perf_counter() - t)
    return min(ts), out


def measure(model, X, cut, repeat, per_seq):
    "Times (fast, batched loop, per-sequence loop extrapolated) and the largest difference from the batched loop."
    N = len(X)
    temporal_scores(model, X[:2], cut=cut); temporal_scores_reference(model, X[:2], cut=cut)  # warm-up
    t_fast, S = best_of(lambda: temporal_scores(model, X, cut=cut, batch_size=N), repeat)
    t_ref, R = best_of(lambda: temporal_scores_reference(model, X, cut=cut, batch_size=N), repeat)
    k = min(per_seq, N)
    t_seq, _ = best_of(lambda: [temporal_scores_reference(model, X[i:i + 1], cut=cut, batch_size=1) for i in range(k)], 1)
    return t_fast, t_ref, t_seq * N / k, (S - R).abs().max().item()


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=50, help='sequences')
    ap.add_argument('--length', type=int, default=101, help='sequence length L')
    ap.add_argument('--repeat', type=int, default=3, help='timed runs per measurement (best is kept)')
    ap.add_argument('--per-seq', type=int, default=3, help='sequences timed with the per-sequence loop')
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch\'s own choice)')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(1)
    X = torch.nn.functional.one_hot(torch.randint(0, 4, (a.n, a.length), generator=g), 4).float().transpose(1, 2).contiguous()
    cases = [('CNN-RNN', 'cnn-rnn', 'recurrence'), ('CNN-RNN', 'cnn-rnn', 'input'), ('RNN', 'rnn', 'recurrence')]
    rows = []
    for name, arch, cut in tqdm(cases, desc='temporal benchmark'):
        torch.manual_seed(0)
        model = build_model(arch).eval()  # paper sizes: 128 maps of width 9 (CNN-RNN), 32 LSTM units per direction
        rows.append((f'{name} {cut}', *measure(model, X, cut, a.repeat, a.per_seq)))
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads; {a.n} random sequences of length {a.length}; '
          f'best of {a.repeat}; per-sequence loop timed on {min(a.per_seq, a.n)} sequences and scaled to {a.n}')
    print(f'{"model":20s} {"fast (s)":>9s} {"batched loop (s)":>17s} {"ratio":>7s} {"per-seq loop (s)":>17s} {"ratio":>7s} {"max |diff|":>11s}')
    for name, t_fast, t_ref, t_seq, diff in rows:
        print(f'{name:20s} {t_fast:9.3f} {t_ref:17.3f} {t_ref / t_fast:6.1f}x {t_seq:17.2f} {t_seq / t_fast:6.1f}x {diff:11.1e}')
    worst = max(r[-1] for r in rows)
    assert worst <= 1e-5, f'fast and reference results differ by {worst:.2e}'
    print('all results agree with the batched loop within 1e-5')
