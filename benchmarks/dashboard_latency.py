"""How long the dashboard takes to switch to another sequence, with the three default-shaped models.

Builds a Dashboard with CNN, RNN and CNN-RNN at their default sizes (trained for --epochs epochs on
synthetic_dataset('single', n=200); 0 leaves them untrained) and draws it once; then times --switches presses of
the next button (`Dashboard.next`, what the button calls): every panel of the three models is recomputed and
redrawn for a sequence not seen before. Prints the first draw's time and the median and max seconds per switch.

usage: python benchmarks/dashboard_latency.py [--switches 20] [--epochs 1] [--opt-steps 200]
"""
import argparse, statistics, time
import torch
from deepmotif.data import synthetic_dataset, train_valid_split
from deepmotif.models import build_model
from deepmotif.train import fit
from deepmotif.dashboard import Dashboard

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--switches', type=int, default=20); ap.add_argument('--epochs', type=int, default=1)
    ap.add_argument('--opt-steps', type=int, default=200); ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    data = synthetic_dataset('single', n=200, seed=a.seed)
    train, valid = train_valid_split(data, 0.2, seed=a.seed)
    models = {}
    for arch in ('cnn', 'rnn', 'cnn-rnn'):
        torch.manual_seed(a.seed)
        models[arch] = build_model(arch)
        if a.epochs: fit(models[arch], train, valid, epochs=a.epochs, verbose=False)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads; models: '
          + ', '.join(f'{n} ({sum(p.numel() for p in m.parameters())} parameters)' for n, m in models.items()))
    t0 = time.perf_counter()
    d = Dashboard(models, data, opt_steps=a.opt_steps)
    print(f'first draw (with optimize_input, {a.opt_steps} steps per model): {time.perf_counter() - t0:.2f} s')
    if d.message: print('status:', d.message)
    times = []
    for _ in range(a.switches):
        t0 = time.perf_counter()
        d.next()
        times.append(time.perf_counter() - t0)
    assert not d.message, d.message
    print(f'{a.switches} switches (next sequence, 3 models, every panel): median {statistics.median(times):.3f} s, '
          f'max {max(times):.3f} s per switch')
