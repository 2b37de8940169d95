"""Records per second of the VCF reader of `deepmotif.variants` against pysam, and variants scored per second.

    python benchmarks/variants_speed.py TMP_DIR [--n 200000] [--score 20000] [--length 101] [--device cpu]

Writes a random genome (two 5 Mb chromosomes) and a VCF of `--n` records (SNVs, a few multi-allelic records and
indels, eight INFO fields per record, as real call sets carry) into TMP_DIR, bgzips it with pysam, and times:
`read_variants` on the plain and the bgzip file against pysam's `VariantFile` reading the same five columns, checking
that both give the same SNVs; then `variant_effects` of the default CNN on the first `--score` SNVs.
"""
import argparse, time, warnings
from pathlib import Path
import numpy as np
import torch

CHROMS = {'chr1': 5_000_000, 'chr2': 5_000_000}


def write_genome(path: Path, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b'ACGT', np.uint8)
    seqs = {}
    with open(path, 'wb') as f:
        for c, n in CHROMS.items():
            s = letters[rng.integers(0, 4, n)]
            seqs[c] = s
            f.write(f'>{c}\n'.encode())
            rows = s[: n // 60 * 60].reshape(-1, 60)
            f.write(np.concatenate([rows, np.full((len(rows), 1), ord('\n'), np.uint8)], 1).tobytes())
            if n % 60: f.write(s[n // 60 * 60:].tobytes() + b'\n')
    return seqs


def write_vcf(path: Path, seqs: dict, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    names = list(seqs)
    info = 'DP=31;AF=0.25;AC=1;AN=4;MQ=60;QD=12.5;FS=0.0;SOR=0.7'
    recs = []
    for c in names:
        for p in np.sort(rng.integers(1, CHROMS[c] + 1, n // len(names))):
            ref = chr(seqs[c][p - 1])
            r = rng.random()
            alt = ref + 'T' if r < 0.05 else ','.join(b for b in 'ACGT' if b != ref)[:1 if r < 0.9 else 3]
            recs.append(f'{c}\t{p}\t.\t{ref}\t{alt}\t50\tPASS\t{info}\tGT\t0/1\n')
    head = '##fileformat=VCFv4.2\n' + ''.join(f'##contig=<ID={c},length={CHROMS[c]}>\n' for c in names) + \
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="d">\n##INFO=<ID=AF,Number=A,Type=Float,Description="a">\n' \
        '##INFO=<ID=AC,Number=A,Type=Integer,Description="a">\n##INFO=<ID=AN,Number=1,Type=Integer,Description="a">\n' \
        '##INFO=<ID=MQ,Number=1,Type=Float,Description="m">\n##INFO=<ID=QD,Number=1,Type=Float,Description="q">\n' \
        '##INFO=<ID=FS,Number=1,Type=Float,Description="f">\n##INFO=<ID=SOR,Number=1,Type=Float,Description="s">\n' \
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\n'
    path.write_text(head + ''.join(recs))


def pysam_iter(path: Path):
    "The SNVs of `path` as (chrom, pos, ref, alt), read by pysam."
    import pysam
    with pysam.VariantFile(str(path)) as f:
        for r in f:
            for a in r.alts or ():
                if len(r.ref) == 1 and len(a) == 1 and a in 'ACGT': yield r.chrom, r.pos, r.ref, a


def count(it) -> int:
    return sum(1 for _ in it)


def timed(fn, *a, repeat=2):
    best = float('inf')
    for _ in range(repeat):
        t = time.perf_counter(); res = fn(*a); best = min(best, time.perf_counter() - t)
    return res, best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('tmp'); ap.add_argument('--n', type=int, default=200_000); ap.add_argument('--score', type=int, default=5_000)
    ap.add_argument('--length', type=int, default=101); ap.add_argument('--device', default='cpu')
    a = ap.parse_args()
    import pysam
    from deepmotif.variants import read_variants, variant_effects
    from deepmotif.models import build_model
    from deepmotif.genome import Genome
    tmp = Path(a.tmp); tmp.mkdir(parents=True, exist_ok=True)
    seqs = write_genome(tmp / 'genome.fa')
    vcf, bgz = tmp / 'calls.vcf', tmp / 'calls.vcf.gz'
    write_vcf(vcf, seqs, a.n)
    pysam.tabix_compress(str(vcf), str(bgz), force=True)
    print(f'VCF: {a.n:,} records, {vcf.stat().st_size / 1e6:.1f} MB plain, {bgz.stat().st_size / 1e6:.1f} MB bgzip; '
          f'pysam {pysam.__version__}, torch {torch.__version__}, {torch.get_num_threads()} threads')
    warnings.simplefilter('ignore')
    from deepmotif.variants import iter_variants
    for name, p in [('plain', vcf), ('bgzip', bgz)]:
        ours, t1 = timed(read_variants, p)
        theirs, t2 = timed(lambda p: list(pysam_iter(p)), p)
        assert [(v.chrom, v.pos, v.ref, v.alt) for v in ours] == theirs
        _, s1 = timed(lambda p: count(iter_variants(p)), p)
        _, s2 = timed(lambda p: count(pysam_iter(p)), p)
        print(f'{name:6s} into a list: read_variants {a.n / t1:>9,.0f} records/s, pysam VariantFile {a.n / t2:>9,.0f}; '
              f'streamed: iter_variants {a.n / s1:>9,.0f}, pysam {a.n / s2:>9,.0f}  ({len(ours):,} SNVs agree)')
    torch.manual_seed(0)
    model = build_model('cnn')
    vs = read_variants(vcf)[:a.score]
    with Genome(tmp / 'genome.fa') as g:
        variant_effects(model, vs[:256], g, length=a.length, device=a.device)  # warm-up
        fx, t = timed(lambda: variant_effects(model, vs, g, length=a.length, device=a.device, batch_size=512), repeat=1)
    print(f'variant_effects: {len(fx):,} SNVs, L={a.length}, default CNN on {a.device}: {len(fx) / t:,.0f} variants/s')


if __name__ == '__main__': main()
