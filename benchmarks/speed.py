"""Speed of deepmotif against its peers, in one process: a table of ours / theirs time ratios (lower is better).

Rows (each on the same model, inputs and device for both sides; the numbers are checked to agree where they can):
  one-hot     deepmotif.data.one_hot  vs  tangermeme.utils.one_hot_encode, one sequence per call (its API), stacked
  saliency    deepmotif.saliency.saliency(kind='gradient').abs()  vs  captum.attr.Saliency(abs=True), default CNN
  ism         deepmotif.attribution.ism  vs  tangermeme.saturation_mutagenesis, default CNN
  temporal    deepmotif.temporal.temporal_scores  vs  temporal_scores_reference (one model run per prefix and suffix),
              default CNN-RNN
  train-<arch> deepmotif.train.fit for one epoch  vs  a plain PyTorch loop (Adam at fit's learning rate, BCEWithLogits,
              same model weights, same tensors, same batch size 64; no gradient clipping, no validation pass)
  dashboard   seconds per switch of Dashboard.next() with the three default models (no peer: absolute time only),
              as in benchmarks/dashboard_latency.py

The peers are not part of the core install: pip install "deepmotif[bench]" (tangermeme, captum). Rows whose peer or
whose deepmotif module is missing say so and are skipped.

usage: OMP_NUM_THREADS=1 python benchmarks/speed.py [--quick] [--device cpu|cuda] [--repeat 3]
"""
import argparse, copy, importlib, statistics, sys, time, warnings
import numpy as np
import torch
from torch import nn
from deepmotif.data import one_hot, synthetic_dataset, train_valid_split
from deepmotif.models import build_model, get_device
from deepmotif.saliency import saliency
from deepmotif.temporal import temporal_scores, temporal_scores_reference
from deepmotif.train import fit, DEFAULT_LR

SIZES = {  # full, quick
    'onehot_n': (20_000, 5_000), 'saliency_n': (2_000, 500), 'ism_n': (100, 10), 'temporal_n': (50, 10),
    'train_n': (2_000, 500), 'train_archs': (('cnn', 'rnn', 'cnn-rnn'), ('cnn', 'cnn-rnn')), 'switches': (20, 3),
    'opt_steps': (200, 20),
}


def timed(f, repeat, dev, warm=None):
    "(best seconds over `repeat` calls, last result), after an untimed warm-up call `warm` (e.g. on a small input)."
    if warm is not None: warm()
    best, out = float('inf'), None
    for _ in range(repeat):
        if dev.type == 'cuda': torch.cuda.synchronize()
        t = time.perf_counter()
        out = f()
        if dev.type == 'cuda': torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return best, out


def peer(name):
    try: return importlib.import_module(name)
    except ImportError: return None


def random_X(n, L, seed=0):
    g = torch.Generator().manual_seed(seed)
    return nn.functional.one_hot(torch.randint(0, 4, (n, L), generator=g), 4).transpose(1, 2).float().contiguous()


def model(arch, seed=0):
    torch.manual_seed(seed)
    return build_model(arch).eval()


def row_onehot(n, repeat, dev):
    tm = peer('tangermeme.utils')
    if tm is None: return dict(note='tangermeme missing: pip install "deepmotif[bench]"')
    rng = np.random.default_rng(0)
    seqs = [''.join(rng.choice(list('ACGTN'), p=[.249, .249, .249, .249, .004], size=101)) for _ in range(n)]
    encode = lambda seqs: torch.stack([tm.one_hot_encode(s, dtype=torch.float32) for s in seqs])
    ours, X = timed(lambda: one_hot(seqs), repeat, dev, lambda: one_hot(seqs[:8]))
    theirs, Y = timed(lambda: encode(seqs), repeat, dev, lambda: encode(seqs[:8]))
    assert torch.equal(X, Y), 'one-hot encodings differ'
    return dict(size=f'{n} x 101 bp', ours=ours, theirs=theirs, same='equal')


def row_saliency(n, repeat, dev):
    captum = peer('captum.attr')
    if captum is None: return dict(note='captum missing: pip install "deepmotif[bench]"')
    m, X = model('cnn').to(dev), random_X(n, 101)
    Xd = X.to(dev)
    ours, S = timed(lambda: saliency(m, X, kind='gradient', device=dev).abs(), repeat, dev, lambda: saliency(m, X[:8], device=dev))
    sal = captum.Saliency(m)
    theirs, C = timed(lambda: sal.attribute(Xd, target=0, abs=True).cpu(), repeat, dev, lambda: sal.attribute(Xd[:8], target=0))
    torch.testing.assert_close(S, C, rtol=1e-4, atol=1e-6)
    return dict(size=f'{n} x 101 bp, CNN', ours=ours, theirs=theirs, same='allclose')


def row_ism(n, repeat, dev):
    try: from deepmotif.attribution import ism
    except ImportError: return dict(note='ism: not available (deepmotif.attribution missing)')
    sm = peer('tangermeme.saturation_mutagenesis')
    if sm is None: return dict(note='tangermeme missing: pip install "deepmotif[bench]"')
    m, X = model('cnn'), random_X(n, 101)
    run_ours = lambda X: ism(m, X, target=0, batch_size=256, device=dev)
    run_theirs = lambda X: sm.saturation_mutagenesis(m, X, target=0, batch_size=256, raw_outputs=True, device=dev)
    ours, A = timed(lambda: run_ours(X), repeat, dev, lambda: run_ours(X[:1]))
    theirs, raw = timed(lambda: run_theirs(X), repeat, dev, lambda: run_theirs(X[:1]))
    A = (A[0] if isinstance(A, tuple) else A).detach().float().cpu()
    delta = (raw.y_hat[..., 0] - raw.y0[:, None, None, 0]).float().cpu()  # logit(mutant) - logit(original), (N, 4, L)
    centred = delta - delta.mean(1, keepdim=True)                          # tangermeme's attribution (hypothetical=True)
    same = 'differ'
    for label, ref in (('= delta logit', delta), ('= centred delta', centred), ('= x * centred', X * centred), ('= -delta', -delta)):
        if A.shape == ref.shape and torch.allclose(A, ref, rtol=1e-3, atol=1e-4): same = label; break
    return dict(size=f'{n} x 101 bp x 3 subst., CNN', ours=ours, theirs=theirs, same=same)


def row_temporal(n, repeat, dev):
    m, X = model('cnn-rnn'), random_X(n, 101)
    ours, T = timed(lambda: temporal_scores(m, X, device=dev), repeat, dev, lambda: temporal_scores(m, X[:2], device=dev))
    theirs, R = timed(lambda: temporal_scores_reference(m, X, device=dev), max(1, repeat // 3), dev,
                      lambda: temporal_scores_reference(m, X[:2, :, :20], device=dev))
    torch.testing.assert_close(T, R, rtol=1e-4, atol=1e-5)
    return dict(size=f'{n} x 101 bp, CNN-RNN', ours=ours, theirs=theirs, same='allclose')


def plain_epoch(m, X, y, lr, batch_size, seed, dev):
    "One epoch of the textbook loop."
    m.to(dev).train()
    opt = torch.optim.Adam(m.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
    for i in range(0, len(X), batch_size):
        idx = order[i:i + batch_size]
        loss = loss_fn(m(X[idx].to(dev))[:, 0], y[idx].to(dev))
        opt.zero_grad()
        loss.backward()
        opt.step()


def row_train(arch, n, repeat, dev):
    data = synthetic_dataset('single', n=n + n // 10, seed=0)
    tr, va = train_valid_split(data, n // 10 / len(data), seed=0)
    m0 = model(arch).train()
    small = tr.subset(range(128))
    def ours_once(tr): fit(copy.deepcopy(m0), tr, va, epochs=1, device=dev, verbose=False)
    def theirs_once(tr): plain_epoch(copy.deepcopy(m0), tr.X, tr.y, DEFAULT_LR[arch], 64, 0, dev)
    ours, _ = timed(lambda: ours_once(tr), repeat, dev, lambda: ours_once(small))
    theirs, _ = timed(lambda: theirs_once(tr), repeat, dev, lambda: theirs_once(small))
    return dict(size=f'{len(tr)} seq, 1 epoch ({len(tr) / ours:,.0f} vs {len(tr) / theirs:,.0f} seq/s)', ours=ours, theirs=theirs, same='-')


def row_dashboard(switches, opt_steps, dev):
    try: from deepmotif.dashboard import Dashboard
    except ImportError as e: return dict(note=f'dashboard: not available ({e})')
    data = synthetic_dataset('single', n=200, seed=0)
    models = {a: model(a) for a in ('cnn', 'rnn', 'cnn-rnn')}
    d = Dashboard(models, data, opt_steps=opt_steps, device=dev)
    times = []
    for _ in range(switches):
        t = time.perf_counter(); d.next(); times.append(time.perf_counter() - t)
    assert not d.message, d.message
    return dict(size=f'3 models, median of {switches} switches', ours=statistics.median(times), theirs=None, same='-')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='small sizes: a few minutes on one CPU thread')
    ap.add_argument('--device', default=None, help='cpu, cuda, ...; default: CUDA when available')
    ap.add_argument('--repeat', type=int, default=None, help='timed calls per side (best is kept); default 3')
    a = ap.parse_args(argv)
    q = 1 if a.quick else 0
    S = {k: v[q] for k, v in SIZES.items()}
    repeat = a.repeat or 3
    dev = get_device(a.device)
    warnings.filterwarnings('ignore', module='captum')
    versions = ', '.join(f'{p} {getattr(peer(p), "__version__", "missing")}' for p in ('tangermeme', 'captum'))
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, device {dev}; {versions}; '
          f'{"quick" if a.quick else "full"} sizes, best of {repeat}')
    if peer('tangermeme') is None or peer('captum') is None: print('some peers are missing: pip install "deepmotif[bench]"')
    rows = [('one-hot', 'tangermeme one_hot_encode', lambda: row_onehot(S['onehot_n'], max(repeat, 3), dev)),
            ('saliency', 'captum Saliency', lambda: row_saliency(S['saliency_n'], repeat, dev)),
            ('ism', 'tangermeme saturation_mutagenesis', lambda: row_ism(S['ism_n'], repeat, dev)),
            ('temporal', 'reference loop', lambda: row_temporal(S['temporal_n'], repeat, dev))]
    rows += [(f'train {arch}', 'plain PyTorch loop', (lambda arch=arch: row_train(arch, S['train_n'], repeat, dev))) for arch in S['train_archs']]
    rows.append(('dashboard', '-', lambda: row_dashboard(S['switches'], S['opt_steps'], dev)))
    print('| task | size | vs | ours (s) | theirs (s) | ours/theirs | numbers |')
    print('|---|---|---|---:|---:|---:|---|')
    for name, vs, run in rows:
        r = run()
        if 'note' in r:
            print(f'| {name} | | {vs} | | | | {r["note"]} |', flush=True)
            continue
        theirs = r['theirs']
        ratio = f'{r["ours"] / theirs:.3f}' if theirs else '-'
        print(f'| {name} | {r["size"]} | {vs} | {r["ours"]:.3f} | {f"{theirs:.3f}" if theirs else "-"} | {ratio} | {r["same"]} |', flush=True)


if __name__ == '__main__':
    sys.exit(main())
