"""Peak memory (RSS) and wall time of `deepmotif evaluate` and `deepmotif explain` on a large DeepBind file.

Writes N random 101 bp sequences (labels alternating 1, 0) as a DeepBind .seq.gz, saves an untrained CNN
(`build_model('cnn')`, nothing is trained), then runs each command in its own subprocess and reports its peak resident
memory (ru_maxrss of that child, from os.wait4) and its wall time. The last line repeats
resource.getrusage(RUSAGE_CHILDREN).ru_maxrss: the largest peak of all the children.

usage: python benchmarks/large_input_rss.py [--n 1000000] [--dir DIR] [--keep]
"""
import argparse, gzip, os, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
from deepmotif.models import build_model, save_model


def write_data(path: Path, n: int, length: int = 101, seed: int = 0, chunk: int = 50_000) -> None:
    "N random sequences with alternating labels, as a gzipped DeepBind table, written chunk by chunk."
    rng = np.random.default_rng(seed)
    bases = np.frombuffer(b'ACGT', dtype=np.uint8)
    with gzip.open(path, 'wt', compresslevel=1) as f:
        f.write('FoldID\tEventID\tseq\tBound\n')
        for start in range(0, n, chunk):
            letters = bases[rng.integers(0, 4, (min(chunk, n - start), length))]
            f.write(''.join(f'A\tseq_{start + i}\t{row.tobytes().decode()}\t{(start + i + 1) % 2}\n' for i, row in enumerate(letters)))


def run(cmd: list[str], log: Path) -> tuple[int, float, float]:
    "(exit status, seconds, peak RSS in MB) of `cmd` run as a child process; its output goes to `log`."
    t0 = time.perf_counter()
    with open(log, 'w') as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)  # this child's own rusage (Linux: ru_maxrss in KiB)
        p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, time.perf_counter() - t0, usage.ru_maxrss / 1024


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=1_000_000, help='sequences in the file')
    ap.add_argument('--dir', help='folder for the data, model and outputs (default: a temporary folder)')
    ap.add_argument('--keep', action='store_true', help='keep the temporary folder')
    a = ap.parse_args()
    folder = Path(a.dir) if a.dir else Path(tempfile.mkdtemp(prefix='deepmotif_rss_'))
    folder.mkdir(parents=True, exist_ok=True)
    data, model = folder / f'random_{a.n}.seq.gz', folder / 'cnn'
    print(f'torch {torch.__version__}, OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS", "unset")}, {a.n} sequences of 101 bp in {folder}')
    t0 = time.perf_counter()
    if not data.exists(): write_data(data, a.n)
    print(f'data: {data.stat().st_size / 1e6:.0f} MB gzipped, written in {time.perf_counter() - t0:.0f} s')
    torch.manual_seed(0)
    save_model(build_model('cnn'), model, seq_length=101)
    exe = ['deepmotif'] if shutil.which('deepmotif') else [sys.executable, '-c', 'import sys; from deepmotif.cli import main; sys.exit(main())']
    commands = {'evaluate': [*exe, 'evaluate', str(model), str(data), '--quiet'],
                'explain --method saliency': [*exe, 'explain', str(model), str(data), '--method', 'saliency', '--out',
                                              str(folder / 'saliency.npz'), '--quiet']}
    print(f'{"command":28s} {"status":>6s} {"wall s":>9s} {"peak RSS MB":>12s}')
    for name, cmd in commands.items():
        log = folder / f'{name.split()[0]}.log'
        rc, seconds, rss = run(cmd, log)
        print(f'{name:28s} {rc:6d} {seconds:9.1f} {rss:12.0f}', flush=True)
        lines = log.read_text().strip().splitlines()
        if lines: print(f'  {lines[-1]}')
    out = folder / 'saliency.npz'
    if out.exists(): print(f'saliency.npz: {out.stat().st_size / 1e9:.2f} GB')
    print(f'max over children, getrusage(RUSAGE_CHILDREN).ru_maxrss: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB')
    if not a.dir and not a.keep: shutil.rmtree(folder)
