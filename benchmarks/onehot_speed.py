"""One-hot encoding throughput (bases per second) of deepmotif.data.one_hot, against tangermeme's one_hot_encode and
a per-character loop, at 1 and 2 threads (`torch.set_num_threads` for ours, `n_jobs` for tangermeme).

Two regimes: one long sequence (a chromosome-sized string, 10 Mb with a run of N) and many short ones (20,000 x 101 bp,
a ChIP-seq data set). tangermeme encodes one string at a time, so the short sequences are encoded in a loop and
stacked. Both output types are compared: float32 (what the models take, our default) and int8 (tangermeme's default).
tangermeme returns a long sequence as a transposed view of an (L, 4) array; ours is a contiguous (4, L) array, the
layout a Conv1d reads, so the long int8 case is also timed with tangermeme's result made contiguous.
The timings are interleaved (ours, theirs, ours, ...) and the best of `--repeat` is kept; every output is checked to be
identical before timing.

usage: python benchmarks/onehot_speed.py [--long 10000000] [--n 20000] [--length 101] [--repeat 7] [--threads 1 2]
       python benchmarks/onehot_speed.py --fresh [--n 20000] [--length 1000] [--repeat 5]

`--fresh` times the first `one_hot` of a process (memory the process has not touched before), each run in a fresh
process, alternating between the output allocated by numpy's `np.empty` (what `one_hot` does) and by torch's
allocator: numpy asks for transparent huge pages on large arrays (madvise), torch does not, and on some machines
(virtual machines that hand free huge pages back to their host) a huge page touched the first time is slow.
"""
import os
for v in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[v] = '1'
import argparse, json, platform, random, statistics, subprocess, sys, time
import numpy as np
import torch
from deepmotif.data import one_hot

torch.set_num_threads(1)


def loop_one_hot(seqs):
    X = torch.zeros(len(seqs), 4, len(seqs[0]))
    for i, s in enumerate(seqs):
        for j, c in enumerate(s):
            k = 'ACGT'.find(c)
            if k >= 0: X[i, k, j] = 1
    return X


def interleaved(fs: dict, repeat: int) -> dict:
    "Best time of each function, the functions run in turn `repeat` times."
    ts = {k: [] for k in fs}
    for _ in range(repeat):
        for k, f in fs.items():
            t = time.perf_counter(); f(); ts[k].append(time.perf_counter() - t)
    return {k: min(v) for k, v in ts.items()}


def compare(label, seqs, repeat, tm, threads=1):
    "Print ours vs tangermeme for `seqs` in float32 and int8, after checking the outputs are identical."
    bases = len(seqs) * len(seqs[0])
    torch.set_num_threads(threads)
    theirs = ((lambda d: tm(seqs[0], dtype=d, n_jobs=threads)[None]) if len(seqs) == 1
              else (lambda d: torch.stack([tm(s, dtype=d, n_jobs=threads) for s in seqs])))
    print(f'\n{label}: {len(seqs)} x {len(seqs[0]):,} bp, {threads} thread(s)')
    rows = [('float32', torch.float32, False), ('int8', torch.int8, False)]
    if not theirs(torch.int8).is_contiguous():  # tangermeme returns a transposed view; a Conv1d first copies it
        rows.append(('int8, contiguous', torch.int8, True))
    for name, d, contiguous in rows:
        t_fn = (lambda: theirs(d).contiguous()) if contiguous else (lambda: theirs(d))
        assert torch.equal(one_hot(seqs, dtype=d), t_fn()), f'outputs differ ({d})'
        t = interleaved({'ours': lambda: one_hot(seqs, dtype=d), 'tangermeme': t_fn}, repeat)
        print(f'  {name:17s} ours {bases / t["ours"] / 1e6:8.0f} Mbases/s   tangermeme {bases / t["tangermeme"] / 1e6:8.0f} Mbases/s'
              f'   ours/tangermeme speed {t["tangermeme"] / t["ours"]:.2f}x   (outputs identical)')


FRESH = r"""
import json, sys, time, numpy as np, torch
torch.set_num_threads(int(sys.argv[4]))
import deepmotif.data as D
if sys.argv[1] == 'torch':  # this process only: every np.empty comes from torch's allocator (4 KiB pages)
    _empty = np.empty
    def _torch_empty(shape, dtype=float, **k):
        try: return torch.empty(shape, dtype=torch.from_numpy(_empty(0, dtype)).dtype).numpy()
        except TypeError: return _empty(shape, dtype, **k)
    np.empty = _torch_empty
n, L = int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
seqs = np.frombuffer(b'ACGT', np.uint8)[rng.integers(0, 4, (n, L))].tobytes().decode()
seqs = [seqs[i * L:(i + 1) * L] for i in range(n)]
t = time.perf_counter(); X = D.one_hot(seqs); first = time.perf_counter() - t
del X
t = time.perf_counter(); X = D.one_hot(seqs); second = time.perf_counter() - t
print(json.dumps({'first': first, 'second': second, 'sum': float(X.sum())}))
"""


def fresh(n: int, length: int, repeat: int, threads: list) -> None:
    "The first and second one_hot of fresh processes, torch's allocation against numpy's, alternating."
    thp = {k: open(f'/sys/kernel/mm/transparent_hugepage/{k}').read().strip() for k in ('enabled', 'defrag')
           if os.path.exists(f'/sys/kernel/mm/transparent_hugepage/{k}')}
    print(f'{platform.machine()}, numpy {np.__version__}, torch {torch.__version__}; {n:,} x {length:,} bp '
          f'({n * length * 16 / 2**20:.0f} MiB of float32 one-hot); transparent huge pages {thp or "unknown"}; '
          f'median of {repeat} fresh processes each; load average {os.getloadavg()[0]:.2f}')
    print('| threads | allocation | first one_hot | second one_hot |\n|---:|---|---:|---:|')
    for th in threads:
        runs = {'numpy': [], 'torch': []}
        for _ in range(repeat):
            for how in runs:
                out = subprocess.run([sys.executable, '-c', FRESH, how, str(n), str(length), str(th)],
                                     capture_output=True, text=True, check=True).stdout
                runs[how].append(json.loads(out.strip().splitlines()[-1]))
        assert len({r['sum'] for v in runs.values() for r in v}) == 1, 'outputs differ'
        for how, v in runs.items():
            print(f"| {th} | {'np.empty (one_hot today)' if how == 'numpy' else 'torch.empty'} | "
                  f"{statistics.median(r['first'] for r in v):.3f} s | {statistics.median(r['second'] for r in v):.3f} s |")


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--fresh', action='store_true', help='first one_hot of fresh processes, torch vs numpy allocation')
    ap.add_argument('--long', type=int, default=10_000_000); ap.add_argument('--n', type=int, default=20_000)
    ap.add_argument('--length', type=int, default=101); ap.add_argument('--repeat', type=int, default=7)
    ap.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    a = ap.parse_args()
    if a.fresh:
        fresh(a.n, a.length if a.length != 101 else 1000, min(a.repeat, 5), a.threads)
        sys.exit(0)
    rng = np.random.default_rng(0)
    acgt = lambda n: np.frombuffer(b'ACGT', dtype=np.uint8)[rng.integers(0, 4, n)].tobytes().decode()
    chrom = acgt(a.long)
    mid = a.long // 2
    chrom = chrom[:mid] + 'N' * 10_000 + chrom[mid + 10_000:]  # an assembly gap
    short = [acgt(a.length) for _ in range(a.n)]
    print(f'{platform.processor() or platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}, '
          f'torch {torch.__version__}; best of {a.repeat} interleaved runs; load average {os.getloadavg()[0]:.2f}')
    try:
        import tangermeme
        from tangermeme.utils import one_hot_encode
        print(f'tangermeme {tangermeme.__version__}')
        for t in a.threads:
            compare('one long sequence', [chrom], a.repeat, one_hot_encode, t)
            compare('many short sequences', short, a.repeat, one_hot_encode, t)
        torch.set_num_threads(1)
    except ImportError: print("tangermeme is not installed: pip install tangermeme")
    small = short[:2000]
    assert torch.equal(one_hot(small), loop_one_hot(small))
    t = interleaved({'ours': lambda: one_hot(small), 'loop': lambda: loop_one_hot(small)}, 1)
    print(f'\nper-character Python loop, {len(small)} x {a.length} bp: ours is {t["loop"] / t["ours"]:.0f}x faster')
