"""Windows per second and peak memory (RSS) of a genome scan on one long generated chromosome.

Writes a random single-chromosome genome FASTA of --size-mb megabases (60 letters a line, a block at a time, with a
1 Mb run of N in the middle) to DIR, indexes it, and writes a bedGraph track of a small untrained CNN
(`build_model('cnn', n_filters=16)`, L = 101, stride 20) with `deepmotif.scan.scan_to_track`. The scan runs in a child
process, whose own peak resident memory (ru_maxrss from os.wait4) is reported with its wall time.

usage: python benchmarks/scan_rss.py DIR [--size-mb 250] [--stride 20] [--device cpu] [--keep]
"""
import argparse, os, shutil, subprocess, sys, time
from pathlib import Path
import numpy as np


def write_genome(path: Path, size: int, seed: int = 0, block: int = 6_000_000) -> None:
    "One chromosome `chrB` of `size` random bases, 60 a line, with 1 Mb of N at its middle, written a block at a time."
    rng = np.random.default_rng(seed)
    bases = np.frombuffer(b'ACGT', dtype=np.uint8)
    gap = (size // 2, size // 2 + 1_000_000)
    with open(path, 'wb') as f:
        f.write(b'>chrB\n')
        for a in range(0, size, block):  # block is a multiple of 60, so lines never straddle blocks
            n = min(block, size - a)
            letters = bases[rng.integers(0, 4, n)]
            lo, hi = max(gap[0] - a, 0), min(gap[1] - a, n)
            if lo < hi: letters[lo:hi] = ord('N')
            rows = np.full((-(-n // 60), 61), ord('\n'), dtype=np.uint8)
            padded = np.full(rows.shape[0] * 60, ord('N'), dtype=np.uint8)
            padded[:n] = letters
            rows[:, :60] = padded.reshape(-1, 60)
            data = rows.tobytes()
            if n % 60: data = data[:len(data) - 61] + rows[-1, :n % 60].tobytes() + b'\n'
            f.write(data)


def child(args) -> None:
    "The scan itself, in its own process."
    import torch
    from deepmotif.models import build_model, save_model
    from deepmotif.scan import scan_to_track
    from deepmotif.genome import Genome
    torch.manual_seed(0)
    d = Path(args.dir)
    save_model(build_model('cnn', n_filters=16), d / 'cnn', seq_length=101)
    t0 = time.perf_counter()
    g = Genome(d / 'genome.fa')
    t1 = time.perf_counter()
    st = scan_to_track(d / 'cnn', g, d / 'track.bedGraph', stride=args.stride, device=args.device, verbose=False,
                       batch_size=args.batch_size)
    t2 = time.perf_counter()
    print(f"index: {t1 - t0:.1f} s; scan + write: {t2 - t1:.1f} s; {st.windows:,} windows, {st.rows:,} rows; "
          f"{st.windows / (t2 - t1):,.0f} windows/s")


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('dir', help='a folder for the genome, its index, the model and the track')
    ap.add_argument('--size-mb', type=float, default=250, help='chromosome length in megabases')
    ap.add_argument('--stride', type=int, default=20)
    ap.add_argument('--batch-size', type=int, default=1024)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--keep', action='store_true', help='keep the files in DIR')
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child: child(args); sys.exit()
    d = Path(args.dir); d.mkdir(parents=True, exist_ok=True)
    size = int(args.size_mb * 1_000_000)
    t0 = time.perf_counter()
    write_genome(d / 'genome.fa', size)
    print(f"genome: 1 chromosome, {size:,} bp ({(d / 'genome.fa').stat().st_size / 2**20:,.0f} MiB FASTA), "
          f"written in {time.perf_counter() - t0:.1f} s")
    import torch
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, device {args.device}, "
          f"torch threads {torch.get_num_threads()}, L = 101, stride {args.stride}, batch {args.batch_size}")
    sys.stdout.flush()
    cmd = [sys.executable, __file__, str(d), '--child', '--stride', str(args.stride), '--device', args.device,
           '--batch-size', str(args.batch_size)]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd)
    _, status, usage = os.wait4(p.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(f"exit {code}; wall {time.perf_counter() - t0:.1f} s; peak RSS of the scan process {usage.ru_maxrss / 1024:,.0f} MB "
          f"(target < 1,500 MB)")
    if not args.keep: shutil.rmtree(d, ignore_errors=True)
    sys.exit(code)
