"""Time to the dashboard's pictures in a fresh process, as a class meets it: import, three saved models loaded, Dashboard built.

    python benchmarks/first_picture.py [--repeat 3] [--against OTHER_CHECKOUT]

Saves the paper's three models (CNN, RNN, CNN-RNN at their default sizes, untrained: the work per picture does not depend
on the weights) to a temporary folder, then in a fresh Python process per run: imports deepmotif, loads the three models
and 40 synthetic 101-bp sequences, and builds a Dashboard two ways, each in its own process: `progressive=False` draws
every panel of the first sequence (class optimization included) before it returns; `progressive=True` (what JupyterLab
gets) returns after the fast panels and fills class optimization in from a worker thread, timed to its first picture
and to `wait()` (complete). Prints the seconds to import and load, to each picture, and what the first and second
`optimize_input` of a process take (the first optimizer a process builds pays torch's one-time imports). With --against, the same runs with another checkout's deepmotif (e.g. a git worktree of an older commit),
interleaved, so both are measured under the same load.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import json, sys, time
t0 = time.perf_counter()
import torch, deepmotif
from deepmotif.models import load_model
from deepmotif.data import synthetic_dataset
from deepmotif.dashboard import Dashboard
models = {a: load_model(f'{sys.argv[1]}/{a}') for a in ('cnn', 'rnn', 'cnn-rnn')}
data = synthetic_dataset('single', n=40, seed=0)
t1 = time.perf_counter()
if sys.argv[2] == 'progressive':
    import inspect
    if 'progressive' not in inspect.signature(Dashboard).parameters:  # a checkout from before: it draws everything first
        Dashboard(models, data); t2 = t3 = time.perf_counter()
    else:
        d = Dashboard(models, data, progressive=True); t2 = time.perf_counter()
        d.wait(); t3 = time.perf_counter()
    print(json.dumps(dict(first=t2 - t1, complete=t3 - t1)))
else:
    import inspect
    kw = {'progressive': False} if 'progressive' in inspect.signature(Dashboard).parameters else {}
    Dashboard(models, data, **kw)
    t2 = time.perf_counter()
    print(json.dumps(dict(load=t1 - t0, dashboard=t2 - t1, total=t2 - t0, path=deepmotif.__file__)))
'''

CHILD_OPT = r'''
import json, sys, time
import torch
from deepmotif.models import load_model
from deepmotif.optimize import optimize_input
m = load_model(f'{sys.argv[1]}/cnn')
t0 = time.perf_counter(); optimize_input(m, n_starts=4, steps=200, device='cpu'); t1 = time.perf_counter()
optimize_input(m, n_starts=4, steps=200, device='cpu'); t2 = time.perf_counter()
print(json.dumps(dict(opt_first=t1 - t0, opt_second=t2 - t1)))
'''


def run(code, src, folder, mode='all'):
    env = dict(os.environ, PYTHONPATH=str(src), MPLBACKEND='Agg')
    r = subprocess.run([sys.executable, '-c', code, folder, mode], capture_output=True, text=True, env=env, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--against', help='another checkout (its root) to time the same way')
    a = ap.parse_args()
    import torch
    sys.path.insert(0, str(ROOT))
    from deepmotif.models import build_model, save_model
    tmp = tempfile.mkdtemp()
    for arch in ('cnn', 'rnn', 'cnn-rnn'):
        torch.manual_seed(0)
        save_model(build_model(arch), f'{tmp}/{arch}', length=101)
    srcs = {'this checkout': ROOT} | ({'against': Path(a.against).resolve()} if a.against else {})
    rows = {k: [] for k in srcs}
    for _ in range(a.repeat):
        for k, src in srcs.items(): rows[k].append(run(CHILD, src, tmp) | run(CHILD, src, tmp, 'progressive') | run(CHILD_OPT, src, tmp))
    print(f'torch {torch.__version__}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; median of {a.repeat} fresh processes')
    print('| deepmotif | import + load 3 models | Dashboard drawn, all first | progressive: first picture | progressive: complete | '
          'first optimize_input | second |')
    print('|---|---:|---:|---:|---:|---:|---:|')
    for k, rs in rows.items():
        med = {f: statistics.median(r[f] for r in rs) for f in ('load', 'dashboard', 'first', 'complete', 'opt_first', 'opt_second')}
        print(f"| {k} ({Path(rs[0]['path']).parent.parent.name}) | {med['load']:.2f} s | {med['dashboard']:.2f} s | {med['first']:.2f} s | "
              f"{med['complete']:.2f} s | {med['opt_first']:.2f} s | {med['opt_second']:.2f} s |")
