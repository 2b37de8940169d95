"""Windows per second and peak memory of `deepmotif.genome` on a generated genome.

    python benchmarks/genome_windows.py TMP_DIR [--size-gb 1] [--n 100000] [--length 1000]

Writes a random FASTA of about `--size-gb` gigabases (several chromosomes, written block by block) and a BED of `--n`
random intervals into TMP_DIR, then times `genome_windows` and `iter_windows` against a plain pyfaidx slicing loop
over the same intervals, checks that they agree, and prints the peak resident memory of the process.
"""
import argparse, os, resource, time
from pathlib import Path
import numpy as np
import pyfaidx
from deepmotif.genome import Genome, genome_windows, iter_windows, genome_dataset, read_intervals, centre_window
from deepmotif.data import one_hot

LETTERS = np.frombuffer(b'ACGTacgt', dtype=np.uint8)


def write_genome(path: Path, size: int, n_chroms: int, seed: int = 0, width: int = 60) -> dict:
    "A random soft-masked FASTA of `size` bases in `n_chroms` chromosomes, written 6 Mb at a time."
    rng = np.random.default_rng(seed)
    sizes = {f'chr{i + 1}': size // n_chroms for i in range(n_chroms)}
    block = width * 100_000
    with open(path, 'wb') as f:
        for name, n in sizes.items():
            f.write(f'>{name}\n'.encode())
            for start in range(0, n, block):
                codes = LETTERS[rng.integers(0, 8, size=min(block, n - start))]
                rows = len(codes) // width
                full = np.concatenate([codes[:rows * width].reshape(rows, width),
                                       np.full((rows, 1), ord('\n'), np.uint8)], axis=1)
                f.write(full.tobytes())
                if len(codes) > rows * width: f.write(codes[rows * width:].tobytes() + b'\n')
    return sizes


def write_bed(path: Path, sizes: dict, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    names = list(sizes)
    with open(path, 'w') as f:
        for c in rng.integers(0, len(names), n):
            s = int(rng.integers(0, sizes[names[c]] - 500))
            f.write(f'{names[c]}\t{s}\t{s + int(rng.integers(50, 500))}\n')


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stages(bed: Path, g: Genome, length: int, repeat: int = 3) -> None:
    """The floor of a bytes-only cut: each stage of cutting every window into one (N, L) byte block, timed alone (best
    of `repeat`): parse the BED, window offsets, one os.preadv per window into one buffer, line ends dropped, strings
    made, and the one-hot of the block. Plain FASTA only; windows must lie inside their chromosome."""
    best = {}
    for _ in range(repeat):
        ts = [time.perf_counter()]
        ivs = read_intervals(bed); ts.append(time.perf_counter())
        g._plain(); fai = g._fai
        lo = np.array([centre_window(iv, length)[0] for iv in ivs], np.int64)
        off, lb, lw = (np.array(v, np.int64) for v in zip(*(fai[iv.chrom] for iv in ivs)))
        hi = lo + length
        b0 = off + lo // lb * lw + lo % lb
        span = off + (hi - 1) // lb * lw + (hi - 1) % lb + 1 - b0
        ends = np.cumsum(span); ts.append(time.perf_counter())
        buf = np.empty(int(ends[-1]), np.uint8); mv = memoryview(buf)
        for b, e, n in zip(b0.tolist(), ends.tolist(), span.tolist()): os.preadv(g._mm, [mv[e - n:e]], b)
        ts.append(time.perf_counter())
        raw = buf[buf != ord('\n')].reshape(len(ivs), length); ts.append(time.perf_counter())
        text = np.bitwise_and(raw, 0xDF).tobytes().decode('ascii'); seqs = [text[i * length:(i + 1) * length] for i in range(len(ivs))]
        ts.append(time.perf_counter())
        X = one_hot(seqs, strict=False); ts.append(time.perf_counter())
        for k, (a, b) in zip(('parse BED', 'offsets', 'preadv', 'line ends', 'strings', 'one_hot'), zip(ts, ts[1:])):
            best[k] = min(best.get(k, 1e9), b - a)
    assert seqs == genome_windows(bed, g, length).seqs, 'the stages cut other windows'
    print('stages of a bytes-only cut (best of %d): ' % repeat + ', '.join(f'{k} {v:.3f} s' for k, v in best.items()) +
          f'; cut {sum(v for k, v in best.items() if k != "one_hot"):.3f} s')
    del X


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('tmp_dir')
    ap.add_argument('--size-gb', type=float, default=1.0)
    ap.add_argument('--n', type=int, default=100_000)
    ap.add_argument('--length', type=int, default=1000)
    ap.add_argument('--chroms', type=int, default=8)
    ap.add_argument('--stages', action='store_true', help='also time the stages of a bytes-only cut (the floor)')
    a = ap.parse_args()
    tmp = Path(a.tmp_dir)
    tmp.mkdir(parents=True, exist_ok=True)
    fa, bed = tmp / 'bench_genome.fa', tmp / 'bench_peaks.bed'
    for p in (fa, Path(f'{fa}.fai')): p.unlink(missing_ok=True)
    t = time.perf_counter()
    sizes = write_genome(fa, int(a.size_gb * 1e9), a.chroms)
    write_bed(bed, sizes, a.n)
    print(f'genome: {sum(sizes.values()) / 1e9:.2f} Gb in {len(sizes)} chromosomes, {fa.stat().st_size / 2**30:.2f} GiB '
          f'file, written in {time.perf_counter() - t:.1f} s; {a.n:,} intervals, window {a.length} bp')
    print(f'peak RSS after writing: {peak_rss_mb():.0f} MB')

    t = time.perf_counter()
    g = Genome(fa)
    print(f'Genome(): index built in {time.perf_counter() - t:.1f} s; peak RSS {peak_rss_mb():.0f} MB')

    t = time.perf_counter()
    w = genome_windows(bed, g, a.length)
    dt_ours = time.perf_counter() - t
    print(f'genome_windows: {a.n / dt_ours:,.0f} windows/s ({dt_ours:.1f} s); peak RSS {peak_rss_mb():.0f} MB')

    t = time.perf_counter()
    n_stream = sum(len(c) for c in iter_windows(bed, g, a.length))
    dt_iter = time.perf_counter() - t
    print(f'iter_windows:   {n_stream / dt_iter:,.0f} windows/s ({dt_iter:.1f} s)')

    ref = pyfaidx.Fasta(str(fa), sequence_always_upper=True, as_raw=True)
    t = time.perf_counter()
    plain = []
    for line in open(bed):
        c, s, e = line.split('\t')[:3]
        m = (int(s) + int(e)) // 2 - a.length // 2
        plain.append(ref[c][m:m + a.length])
    dt_ref = time.perf_counter() - t
    print(f'pyfaidx loop:   {a.n / dt_ref:,.0f} windows/s ({dt_ref:.1f} s); ours / loop = {dt_ref / dt_ours:.2f}x speed')
    assert plain == w.seqs, 'genome_windows differs from the pyfaidx loop'
    print('genome_windows == pyfaidx loop: True')
    del w

    n_pos = min(a.n, 10_000)
    head = tmp / 'bench_head.bed'
    head.write_text(''.join(l for _, l in zip(range(n_pos), open(bed))))
    t = time.perf_counter()
    d = genome_dataset(head, g, length=a.length, negatives='gc')
    print(f"genome_dataset(negatives='gc'), {n_pos:,} peaks: {time.perf_counter() - t:.1f} s, "
          f'{int((d.train.labels == 0).sum()):,} negatives')
    print(f'peak RSS (ru_maxrss): {peak_rss_mb():.0f} MB (target < 500 MB)')
    # cut and one-hot encode (after the memory check: the two (N, 4, L) float32 tensors are held at once)
    t = time.perf_counter(); X_ref = one_hot(plain, length=a.length, strict=False); dt_hot = time.perf_counter() - t
    t = time.perf_counter(); X_ours = genome_windows(bed, g, a.length).X; dt_both = time.perf_counter() - t
    assert (X_ours == X_ref).all(), 'one-hot windows differ'
    print(f'cut + one-hot:  ours {dt_both:.2f} s; pyfaidx loop + one_hot {dt_ref + dt_hot:.2f} s '
          f'({dt_ref:.2f} + {dt_hot:.2f}); ours / loop = {(dt_ref + dt_hot) / dt_both:.2f}x speed')
    # the same, warm: each side's tensor is freed before the other is made, so both reuse memory already touched
    del X_ref, X_ours
    t = time.perf_counter(); X_ref = one_hot(plain, length=a.length, strict=False); dt_hot = time.perf_counter() - t
    del X_ref
    t = time.perf_counter(); X_ours = genome_windows(bed, g, a.length).X; dt_both = time.perf_counter() - t
    print(f'  again (memory warm): ours {dt_both:.2f} s; pyfaidx loop + one_hot {dt_ref + dt_hot:.2f} s '
          f'({dt_ref:.2f} + {dt_hot:.2f}); ours / loop = {(dt_ref + dt_hot) / dt_both:.2f}x speed')
    del plain, X_ours
    if a.stages: stages(bed, g, a.length)


if __name__ == '__main__': main()
