"""Attribution throughput of deepmotif against its peers on the same models, inputs and settings, measured in one run.

  ism      deepmotif.attribution.ism  vs  tangermeme saturation_mutagenesis (raw outputs), exactness checked to 1e-4
  basset   the same on a user's Basset-like model (Kelley et al. 2016 sizes: conv 300x19, 200x11, 200x7 with BatchNorm,
           ELU and pools of 3, 4, 4; dense 1000, 1000) at 1,000 and 2,000 bp: the cropped route of deepmotif.fastism
  saliency saliency(kind='gradient')  vs  captum Saliency (abs=False)
  ig       integrated_gradients (zero baseline, 20 nodes, no refinement)  vs  captum IntegratedGradients (gausslegendre, 20)
  deeplift deeplift (zero baseline)  vs  captum DeepLift  and  tangermeme deep_lift_shap (zero reference)

Each pair is timed alternately `--repeat` times (the median is kept), at each thread count of `--threads`; models are the
paper's sizes from build_model with a fixed seed. Throughput is sequences per second; ratio = ours / theirs time, inverted
(theirs / ours: above 1 is faster).

usage: python benchmarks/attribution_speed.py [--part ism|basset|grad|all] [--threads 1 2] [--repeat 3] [--quick] [--profile]
--profile: where ism's time goes (torch.profiler, 1 thread, 40 x 101 bp): the top operators by own CPU time.
(ISM: the CNN and the CNN-RNN at 40 x 101 bp, 10 and 4 with --quick; the CNN at 1 x 1000 bp)
"""
import argparse, statistics, time, warnings
import torch
from speed import random_X, model
from deepmotif.attribution import ism, integrated_gradients, deeplift
from deepmotif.saliency import saliency


def race(fs, repeat):
    "Median seconds of each function, calls interleaved; and each one's last result."
    ts, outs = [[] for _ in fs], [None] * len(fs)
    for _ in range(repeat):
        for k, f in enumerate(fs):
            t = time.perf_counter(); outs[k] = f(); ts[k].append(time.perf_counter() - t)
    return [statistics.median(t) for t in ts], outs


def ism_rows(quick, repeat):
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis
    cases = [('cnn', 10 if quick else 40, 101, 256), ('cnn', 10 if quick else 40, 101, 32), ('cnn-rnn', 4 if quick else 40, 101, 256),
             ('cnn', 1, 1000, 256)]
    for arch, n, L, bs in cases:
        m, X = model(arch), random_X(n, L)
        def theirs():
            r = saturation_mutagenesis(m, X, batch_size=bs, raw_outputs=True, device='cpu')
            return r.y_hat[..., 0] - r.y0[:, None, None, 0]
        (to, tt), (S, R) = race([lambda: ism(m, X, batch_size=bs, device='cpu'), theirs], repeat)
        err = float((S - R).abs().max())
        assert err < 1e-4, f'ism differs from tangermeme by {err}'
        yield f'ism {arch}', f'{n} x {L} bp, batch {bs}', 'tangermeme saturation_mutagenesis', n / to, n / tt, f'max |diff| {err:.1e}'


def basset_model(L, seed=0):
    "A Basset-like user's model (an nn.Sequential, eval mode, BatchNorm statistics set away from the identity)."
    from torch import nn
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Conv1d(4, 300, 19, padding=9), nn.BatchNorm1d(300), nn.ELU(), nn.MaxPool1d(3),
                      nn.Conv1d(300, 200, 11, padding=5), nn.BatchNorm1d(200), nn.ELU(), nn.MaxPool1d(4),
                      nn.Conv1d(200, 200, 7, padding=3), nn.BatchNorm1d(200), nn.ELU(), nn.MaxPool1d(4),
                      nn.Flatten(), nn.Linear(200 * (L // 48), 1000), nn.BatchNorm1d(1000), nn.ELU(), nn.Dropout(0.3),
                      nn.Linear(1000, 1000), nn.BatchNorm1d(1000), nn.ELU(), nn.Dropout(0.3), nn.Linear(1000, 1))
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm1d): mod.running_mean.normal_(0, 0.1); mod.running_var.uniform_(0.5, 1.5)
    return m.eval()


def basset_rows(quick, repeat):
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis
    from deepmotif.fastism import layer_plan
    for L in ((1000,) if quick else (1000, 2000)):
        m, X = basset_model(L), random_X(1, L)
        assert layer_plan(m, X) is not None
        def theirs():
            r = saturation_mutagenesis(m, X, batch_size=256, raw_outputs=True, device='cpu')
            return (r.y_hat[..., 0] - r.y0[:, None, None, 0]) * (1 - X)
        (to, tt), (S, R) = race([lambda: ism(m, X, batch_size=256, device='cpu'), theirs], repeat)
        err = float((S - R).abs().max())
        assert err < 1e-4 * max(float(R.abs().max()), 1e-3), f'ism differs from tangermeme by {err}'
        yield 'ism basset-like', f'1 x {L} bp, batch 256', 'tangermeme saturation_mutagenesis', 1 / to, 1 / tt, f'max |diff| {err:.1e} (|ism| <= {float(R.abs().max()):.1e})'


def grad_rows(quick, repeat):
    from captum.attr import Saliency, IntegratedGradients, DeepLift
    from tangermeme.deep_lift_shap import deep_lift_shap
    n = 64 if quick else 256
    for arch in ('cnn', 'rnn', 'cnn-rnn'):
        m, X = model(arch), random_X(n, 101)
        sal = Saliency(m)
        (to, tt), (S, C) = race([lambda: saliency(m, X, kind='gradient', device='cpu'),
                                 lambda: sal.attribute(X, target=0, abs=False).detach()], repeat)
        yield f'saliency {arch}', f'{n} x 101 bp', 'captum Saliency', n / to, n / tt, f'max |diff| {float((S - C).abs().max()):.1e}'
        k = n // 8
        ig = IntegratedGradients(m)
        (to, tt), (S, C) = race([lambda: integrated_gradients(m, X[:k], steps=20, rtol=None, device='cpu'),
                                 lambda: ig.attribute(X[:k], target=0, n_steps=20, method='gausslegendre', internal_batch_size=256).detach()], repeat)
        yield f'ig {arch}', f'{k} x 101 bp, 20 nodes', 'captum IntegratedGradients', k / to, k / tt, f'max |diff| {float((S - C).abs().max()):.1e}'
    m, X = model('cnn'), random_X(n, 101)
    dl = DeepLift(m)
    Z = torch.zeros_like(X)
    (to, tc, tt), (S, C, T) = race([lambda: deeplift(m, X, baseline='zero', device='cpu'),
                                     lambda: (dl.attribute(X, baselines=Z, target=0).detach()),
                                     lambda: deep_lift_shap(m, X, references=Z[:, None], device='cpu', warning_threshold=1e9)], repeat)
    yield 'deeplift cnn', f'{n} x 101 bp, zero ref.', 'captum DeepLift', n / to, n / tc, f'max |diff| {float((S - C * X).abs().max()):.1e} (x input)'
    yield 'deeplift cnn', f'{n} x 101 bp, zero ref.', 'tangermeme deep_lift_shap', n / to, n / tt, f'max |diff| {float((S - T).abs().max()):.1e}'


def profile_ism(top=12):
    "Own CPU time per operator of one ism call on the CNN and the CNN-RNN (40 x 101 bp, batch 256, 1 thread)."
    from torch.profiler import profile, ProfilerActivity
    torch.set_num_threads(1)
    for arch in ('cnn', 'cnn-rnn'):
        m, X = model(arch), random_X(40, 101)
        ism(m, X[:2], device='cpu')
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as p: ism(m, X, device='cpu')
        ev = sorted(p.key_averages(group_by_input_shape=True), key=lambda e: -e.self_cpu_time_total)
        total = sum(e.self_cpu_time_total for e in ev)
        print(f'\n## profile: ism {arch}, 40 x 101 bp, 1 thread: {total / 1e6:.2f} s own CPU time (profiled)')
        print('| operator | input shapes | calls | share |')
        print('|---|---|---:|---:|')
        for e in ev[:top]:
            print(f'| {e.key} | {str(e.input_shapes)[:60]} | {e.count} | {100 * e.self_cpu_time_total / total:.1f} % |')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--part', default='all', choices=['ism', 'basset', 'grad', 'all'])
    ap.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--profile', action='store_true')
    a = ap.parse_args()
    warnings.filterwarnings('ignore')
    if a.profile: profile_ism(); raise SystemExit
    import tangermeme, captum
    print(f'torch {torch.__version__}, tangermeme {tangermeme.__version__}, captum {captum.__version__}; CPU; median of {a.repeat} interleaved runs')
    print('| threads | method | size | vs | ours seq/s | theirs seq/s | speed-up | numbers |')
    print('|---:|---|---|---|---:|---:|---:|---|')
    for th in a.threads:
        torch.set_num_threads(th)
        parts = ([ism_rows] if a.part in ('ism', 'all') else []) + ([basset_rows] if a.part in ('basset', 'all') else []) + \
                ([grad_rows] if a.part in ('grad', 'all') else [])
        for rows in parts:
            for name, size, vs, ours, theirs, same in rows(a.quick, a.repeat):
                print(f'| {th} | {name} | {size} | {vs} | {ours:,.3g} | {theirs:,.3g} | {ours / theirs:.2f}x | {same} |', flush=True)
