"""Start-up time of the command line against a bare `import torch`, repeats interleaved so that load on the machine
affects both alike; prints medians and their ratios, and which heavy modules `import deepmotif` loads.

    python benchmarks/startup.py [--repeats 9]
"""
import argparse, shutil, statistics, subprocess, sys, time

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0]); ap.add_argument('--repeats', type=int, default=9)
a = ap.parse_args()
cmds = {'python -c "import torch"': [sys.executable, '-c', 'import torch'],
        'python -c "import deepmotif"': [sys.executable, '-c', 'import deepmotif'],
        'deepmotif --help': [shutil.which('deepmotif') or 'deepmotif', '--help']}
times = {k: [] for k in cmds}
for _ in range(a.repeats):
    for k, c in cmds.items():
        t0 = time.perf_counter(); subprocess.run(c, check=True, capture_output=True); times[k].append(time.perf_counter() - t0)
base = statistics.median(times['python -c "import torch"'])
for k, v in times.items(): print(f'{k:32s} median {statistics.median(v):.2f} s  ({statistics.median(v) / base:.2f}x import torch)')
probe = "import sys, deepmotif; print(sorted(m for m in ('ipywidgets', 'matplotlib', 'sklearn', 'logomaker', 'pyfaidx') if m in sys.modules))"
print('heavy modules loaded by import deepmotif:', subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True).stdout.strip())
