"""What a class waits for with the shipped models: the wheel's size, the time to load a model, and `deepmotif demo --pretrained`.

    python benchmarks/pretrained_speed.py [--tf REST] [--repeat 3]

Prints: the wheel's size (built with `pip wheel --no-deps` from this checkout) and what the shipped models take in it;
`load_pretrained` in a fresh Python process (import of deepmotif and torch included) for each architecture, and in one
process for every shipped model (mean and slowest); and the wall time of `deepmotif demo --pretrained TF` (a fresh
process: import, loading, evaluation on the sample, the dashboard page with motifs named). Best of --repeat runs.
"""
import argparse, os, subprocess, sys, tempfile, time, zipfile
from pathlib import Path
import torch
import deepmotif
from deepmotif.models import pretrained_root

ROOT = Path(__file__).resolve().parents[1]


def wall(cmd, **kw) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kw)
    return time.perf_counter() - t


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--tf', default='REST'); ap.add_argument('--repeat', type=int, default=3)
    a = ap.parse_args()
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}')
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', tmp, str(ROOT)],
                       check=True, capture_output=True)
        (wheel,) = Path(tmp).glob('deepmotif-*.whl')
        infos = zipfile.ZipFile(wheel).infolist()
        shipped = sum(i.compress_size for i in infos if i.filename.startswith('deepmotif/pretrained/'))
        print(f'wheel {wheel.name}: {wheel.stat().st_size / 1e6:.2f} MB, of which the shipped models and samples '
              f'{shipped / 1e6:.2f} MB compressed ({sum(i.file_size for i in infos if i.filename.startswith("deepmotif/pretrained/")) / 1e6:.2f} MB on disk)')
    cards = deepmotif.pretrained()
    for c in deepmotif.pretrained(a.tf):
        code = f"import time; t = time.perf_counter(); import deepmotif; deepmotif.load_pretrained({c['name']!r}); print(time.perf_counter() - t)"
        runs = [float(subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True).stdout) for _ in range(a.repeat)]
        print(f"fresh process, import + load_pretrained({c['name']!r}): {min(runs):.2f} s (best of {a.repeat})")
    times = []
    for c in cards:
        t = time.perf_counter(); deepmotif.load_pretrained(c['name']); times.append(time.perf_counter() - t)
    print(f'in one process, load_pretrained of each of the {len(cards)} models: mean {sum(times) / len(times) * 1000:.0f} ms, '
          f'slowest {max(times) * 1000:.0f} ms')
    with tempfile.TemporaryDirectory() as tmp:
        runs = [wall([sys.executable, '-m', 'deepmotif', 'demo', '--pretrained', a.tf, '--out', str(Path(tmp) / f'demo{k}'), '--quiet'])
                for k in range(a.repeat)]
        page = Path(tmp) / 'demo0' / 'dashboard.html'
        print(f"deepmotif demo --pretrained {a.tf}: {min(runs):.1f} s wall (best of {a.repeat}; runs {', '.join(f'{r:.1f}' for r in runs)}); "
              f"page {page.stat().st_size / 1e6:.1f} MB")
    print(f'shipped: {len(cards)} models in {pretrained_root()}')
