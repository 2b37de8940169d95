"Genomic windows against slices of the FASTA text the tests write; negatives, splits, index placement and bad input."
import gzip, os, random
from collections import Counter
import numpy as np
import pytest
from deepmotif.core import DeepMotifError, DeepMotifWarning
from deepmotif.genome import (Genome, GenomeData, Interval, genome_dataset, genome_windows, is_interval_file,
                              iter_windows, read_intervals)
import deepmotif.genome as genome_mod


def random_chroms(seed=0, sizes=(3000, 1700, 950)):
    "Soft-masked random chromosomes: runs of lower case among upper case."
    rng = random.Random(seed)
    out = {}
    for i, n in enumerate(sizes, 1):
        s = ''.join(rng.choice('ACGT') for _ in range(n))
        out[f'chr{i}'] = ''.join(c.lower() if (j // 37) % 3 == 0 else c for j, c in enumerate(s))
    return out


def write_fasta(path, chroms, width=60):
    with open(path, 'w') as f:
        for c, s in chroms.items():
            f.write(f'>{c} description\n' + ''.join(s[i:i + width] + '\n' for i in range(0, len(s), width)))
    return path


def ref_window(chroms, chrom, start, end):
    "The slow reference: one letter at a time, N outside the chromosome."
    s = chroms[chrom]
    return ''.join(s[i].upper() if 0 <= i < len(s) else 'N' for i in range(start, end))


@pytest.fixture
def genome(tmp_path):
    chroms = random_chroms()
    return chroms, write_fasta(tmp_path / 'genome.fa', chroms)


def random_peaks(chroms, n=150, seed=1):
    "narrowPeak rows, some with summits, some near both chromosome ends."
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        c = rng.choice(list(chroms))
        size = len(chroms[c])
        start = rng.choice([0, 1, size - 30, rng.randrange(size - 30)])
        end = min(size, start + rng.randint(0, 120))
        summit = rng.choice([-1, rng.randrange(max(end - start, 1))]) if end > start else -1
        name = rng.choice(['.', f'peak{i}'])
        rows.append((c, start, end, name, summit))
    return rows


def test_windows_equal_fasta_slices(genome, tmp_path):
    chroms, fa = genome
    rows = random_peaks(chroms)
    p = tmp_path / 'peaks.narrowPeak'
    p.write_text('track name=peaks\n' + ''.join(f'{c}\t{s}\t{e}\t{n}\t0\t.\t1\t1\t1\t{m}\n' for c, s, e, n, m in rows))
    for L in (1, 50, 101):
        w = genome_windows(p, fa, L)
        for i, (c, s, e, n, m) in enumerate(rows):
            centre = s + m if m != -1 else (s + e) // 2
            ws = centre - L // 2
            assert w.seqs[i] == ref_window(chroms, c, ws, ws + L)
            assert w.ids[i] == (n if n != '.' else f'{c}:{ws}-{ws + L}')
            assert (w.meta['chrom'][i], w.meta['start'][i], w.meta['end'][i]) == (c, ws, ws + L)
    assert any(s.startswith('N') for s in w.seqs) and any(s.endswith('N') for s in w.seqs)  # both ends were padded
    assert w.X.shape == (len(rows), 4, 101)


def test_bed_and_gzip_bed_read_alike(genome, tmp_path):
    chroms, fa = genome
    text = '# header\nbrowser x\nchr1\t10\t20\tx\t0\t+\n\nchr2\t5\t900\n'
    (tmp_path / 'a.bed').write_text(text)
    with gzip.open(tmp_path / 'a.txt', 'wt') as f: f.write(text)  # gzip found by its magic bytes, not its name
    a, b = read_intervals(tmp_path / 'a.bed'), read_intervals(tmp_path / 'a.txt')
    assert a == b == [Interval('chr1', 10, 20, 'x', '+', None, 3), Interval('chr2', 5, 900, None, '.', None, 5)]
    assert genome_windows(a, fa, 30, stranded=True).seqs[0] == ref_window(chroms, 'chr1', 0, 30)
    assert genome_windows(a, fa, 30, labels=[0, 1]).labels.tolist() == [0, 1]


def test_iter_windows_match_genome_windows(genome, tmp_path):
    chroms, fa = genome
    p = tmp_path / 'p.bed'
    p.write_text(''.join(f'{c}\t{s}\t{e}\n' for c, s, e, _, _ in random_peaks(chroms, 50)))
    whole = genome_windows(p, fa, 40)
    with Genome(fa) as g: chunks = list(iter_windows(p, g, 40, chunk_size=16))
    assert [c.meta['start'] for c in chunks] == [0, 16, 32, 48]
    assert sum((c.seqs for c in chunks), []) == whole.seqs
    assert sum((c.meta['window_start'] for c in chunks), []) == whole.meta['start']


def test_bgzip_equals_plain(genome, tmp_path):
    pysam = pytest.importorskip('pysam')
    chroms, fa = genome
    bgz = tmp_path / 'genome.fa.gz'
    pysam.tabix_compress(str(fa), str(bgz))
    rng = random.Random(3)
    with Genome(fa) as a, Genome(bgz) as b:
        assert a.chroms == b.chroms == {c: len(s) for c, s in chroms.items()}
        for _ in range(300):
            c = rng.choice(list(chroms))
            s = rng.randint(-50, len(chroms[c]))
            e = s + rng.randint(0, 200)
            assert b.fetch(c, s, e) == a.fetch(c, s, e) == ref_window(chroms, c, s, e)
    assert (tmp_path / 'genome.fa.gz.gzi').exists()


def test_lower_case_reads_upper(tmp_path):
    fa = write_fasta(tmp_path / 'l.fa', {'c': 'acgtnACGTN'})
    with Genome(fa) as g: assert g.fetch('c', 0, 10) == 'ACGTNACGTN'


def test_index_beside_when_writable(genome):
    _, fa = genome
    with Genome(fa) as g: assert g.index == fa.with_name('genome.fa.fai') and g.index.exists()


def test_index_goes_to_cache_when_folder_not_writable(genome, tmp_path, monkeypatch):
    chroms, fa = genome
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    monkeypatch.setattr(genome_mod, '_writable', lambda folder: False)
    with Genome(fa) as g:
        assert g.index.parent == tmp_path / 'cache' / 'deepmotif' / 'fai' and g.index.exists()
        assert g.fetch('chr2', 0, 70) == ref_window(chroms, 'chr2', 0, 70)
    assert not fa.with_name('genome.fa.fai').exists()
    first = g.index
    write_fasta(fa, {'chr1': 'ACGT' * 10})  # a changed FASTA gets a new index
    os.utime(fa, ns=(os.stat(fa).st_mtime_ns - 10**10,) * 2)
    with Genome(fa) as g2: assert g2.index != first and g2.chroms == {'chr1': 40}


def test_index_dir_argument(genome, tmp_path):
    _, fa = genome
    with Genome(fa, index_dir=tmp_path / 'idx') as g: assert g.index.parent == tmp_path / 'idx'
    assert not fa.with_name('genome.fa.fai').exists()


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes into read-only folders')
def test_read_only_folder(genome, tmp_path, monkeypatch):
    chroms, fa = genome
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    ro = tmp_path / 'ro'
    ro.mkdir()
    write_fasta(ro / 'g.fa', chroms)
    ro.chmod(0o555)
    try:
        with Genome(ro / 'g.fa') as g: assert g.index.parent == tmp_path / 'cache' / 'deepmotif' / 'fai'
    finally: ro.chmod(0o755)


def gc_bin(seq, bins):
    gc = sum(c in 'GC' for c in seq)
    n = sum(c in 'ACGT' for c in seq)
    return min(gc * bins // n, bins - 1)


@pytest.fixture
def toy(tmp_path):
    "A genome with GC-rich and AT-rich stretches, peaks on every chromosome, and a blacklist."
    rng = random.Random(7)
    chroms = {}
    for i in range(1, 5):
        parts = [''.join(rng.choice('GCGCGCAT' if k % 2 else 'ATATATGC') for _ in range(1000)) for k in range(12)]
        chroms[f'chr{i}'] = ''.join(parts)
    fa = write_fasta(tmp_path / 'toy.fa', chroms)
    peaks = tmp_path / 'toy.bed'
    peaks.write_text(''.join(f'{c}\t{s}\t{s + 40}\n' for c in chroms for s in range(300, 11000, 700)))
    black = tmp_path / 'black.bed'
    black.write_text(''.join(f'{c}\t5000\t6500\n' for c in chroms))
    return chroms, fa, peaks, black


class _no_warning:
    "Fail when a DeepMotifWarning is raised inside the block."
    def __enter__(self):
        import warnings
        self.cm = warnings.catch_warnings()
        self.cm.__enter__()
        warnings.simplefilter('error', DeepMotifWarning)
    def __exit__(self, *exc): return self.cm.__exit__(*exc)


def test_gc_negatives_match_histogram_and_avoid_peaks(toy):
    chroms, fa, peaks, black = toy
    L, flank, bins = 80, 30, 10
    with _no_warning():
        d = genome_dataset(peaks, fa, length=L, ratio=2, flank=flank, blacklist=black, gc_bins=bins, seed=4).train
    pos = [i for i in range(len(d)) if d.labels[i] == 1]
    neg = [i for i in range(len(d)) if d.labels[i] == 0]
    assert len(neg) == 2 * len(pos)
    for c in chroms:  # per chromosome, per bin
        hp = Counter(gc_bin(d.seqs[i], bins) for i in pos if d.meta['chrom'][i] == c)
        hn = Counter(gc_bin(d.seqs[i], bins) for i in neg if d.meta['chrom'][i] == c)
        assert hn == Counter({b: 2 * n for b, n in hp.items()})
    ivs = read_intervals(peaks)
    for i in neg:
        c, s, e = d.meta['chrom'][i], d.meta['start'][i], d.meta['end'][i]
        assert d.seqs[i] == ref_window(chroms, c, s, e) and 'N' not in d.seqs[i]
        assert not (s < 6500 and e > 5000)  # blacklist
        for iv in ivs:
            if iv.chrom != c: continue
            ws = (iv.start + iv.end) // 2 - L // 2
            assert e <= min(iv.start, ws) - flank or s >= max(iv.end, ws + L) + flank
    again = genome_dataset(peaks, fa, length=L, ratio=2, flank=flank, blacklist=black, gc_bins=bins, seed=4).train
    other = genome_dataset(peaks, fa, length=L, ratio=2, flank=flank, blacklist=black, gc_bins=bins, seed=5).train
    assert again.seqs == d.seqs and other.seqs != d.seqs


def test_unfillable_bins_warn(tmp_path):
    fa = write_fasta(tmp_path / 'at.fa', {'c': 'GCGCGCGCGC' * 3 + 'AT' * 2000})
    (tmp_path / 'p.bed').write_text('c\t0\t30\n')
    with pytest.warns(DeepMotifWarning, match='neighbouring GC bins'):
        d = genome_dataset(tmp_path / 'p.bed', fa, length=30, flank=0)
    assert d.train.labels.tolist() == [1, 0]


@pytest.mark.parametrize('negatives', ['gc', 'shuffle', 'bed'])
def test_chromosome_splits_are_disjoint(toy, tmp_path, negatives):
    chroms, fa, peaks, black = toy
    if negatives == 'bed':
        negatives = tmp_path / 'neg.bed'
        negatives.write_text(''.join(f'{c}\t{s}\t{s + 10}\n' for c in chroms for s in (100, 4000, 9000)))
    d = genome_dataset(peaks, fa, length=50, negatives=negatives, valid_chroms=['chr2'], test_chroms='chr3,chr4')
    assert isinstance(d, GenomeData)
    assert set(d.train.meta['chrom']) == {'chr1'}
    assert set(d.valid.meta['chrom']) == {'chr2'}
    assert set(d.test.meta['chrom']) == {'chr3', 'chr4'}
    for part in d:
        assert set(part.labels.tolist()) == {0, 1}
        for i in range(len(part)):
            if negatives != 'shuffle' or part.labels[i]:
                m = part.meta
                assert part.seqs[i] == ref_window(chroms, m['chrom'][i], m['start'][i], m['end'][i])
    assert not set(d.train.seqs) & (set(d.valid.seqs) | set(d.test.seqs))
    nosplit = genome_dataset(peaks, fa, length=50, negatives=negatives)
    assert nosplit.valid is None and nosplit.test is None


@pytest.mark.parametrize('name,ok', [('a.bed', True), ('A.BED.GZ', True), ('p.narrowPeak', True),
                                     ('p.narrowpeak.gz', True), ('x.broadPeak', True), ('x.fa', False),
                                     ('x.seq.gz', False), ('bed', False), ('a.bed.txt', False)])
def test_is_interval_file(name, ok):
    assert is_interval_file(name) == ok


BAD_BED = [
    ('chr1\t10\n', 'line 1: 2 column'),
    ('chr1\t1\t5\nchr1\tten\t20\n', "line 2: start 'ten' is not an integer"),
    ('chr1\t1\t2.5\n', "line 1: end '2.5' is not an integer"),
    ('chr1\t-5\t20\n', 'line 1: start -5 is negative'),
    ('track x\nchr1\t30\t20\n', 'line 2: start 30 > end 20'),
    ('chr1\t10\t20\tp\t0\t*\n', "line 1: strand '*'"),
    ('chr1\t10\t20\tp\t0\t.\t1\t1\t1\t10\n', 'line 1: summit offset 10 is outside the peak'),
    ('chr1\t10\t20\tp\t0\t.\t1\t1\t1\tx\n', "line 1: summit 'x' is not an integer"),
    ('chr1\t10\t20\tp\t0\t.\t1\t1\t1\t-2\n', 'line 1: summit offset -2'),
    ('# only a comment\n', 'no intervals'),
    ('chr1\t1\t2\nchr1\t\xff\t3\n', 'line 2'),
]


@pytest.mark.parametrize('text,fragment', BAD_BED)
def test_bad_interval_files(tmp_path, text, fragment):
    p = tmp_path / 'bad.bed'
    p.write_bytes(text.encode('latin-1'))
    with pytest.raises(DeepMotifError, match='bad.bed') as e: read_intervals(p)
    assert fragment in str(e.value)


def test_corrupt_gzip_bed(tmp_path):
    p = tmp_path / 'c.bed.gz'
    p.write_bytes(gzip.compress(b'chr1\t1\t2\n' * 1000)[:-30])
    with pytest.raises(DeepMotifError, match='c.bed.gz line .*: corrupt or truncated gzip'): read_intervals(p)


BAD_ON_GENOME = [
    ('chrZ\t1\t5\n', "p.bed line 1: chromosome 'chrZ' is not in"),
    ('chr1\t1\t5\nchr3\t10\t951\n', 'p.bed line 2: end 951 is past the end of chr3'),
]


@pytest.mark.parametrize('text,fragment', BAD_ON_GENOME)
def test_intervals_not_on_genome(genome, tmp_path, text, fragment):
    _, fa = genome
    (tmp_path / 'p.bed').write_text(text)
    with pytest.raises(DeepMotifError) as e: genome_windows(tmp_path / 'p.bed', fa, 10)
    assert fragment in str(e.value)


BAD_FASTA = [
    (b'chr1\t1\t2\n', 'x.fa line 1'),
    (b'', 'x.fa line 1'),
    (gzip.compress(b'>c\nACGT\n'), 'gzip but not bgzip'),
    (b'>a\nACGTACGT\nACG\nACGTACGT\n', 'x.fa line 3: record >a has lines of unequal length'),
    (b'>a\nACGT\n>a\nACGT\n', "x.fa: two records are named 'a'"),
]


@pytest.mark.parametrize('data,fragment', BAD_FASTA)
def test_bad_fasta(tmp_path, data, fragment):
    (tmp_path / 'x.fa').write_bytes(data)
    with pytest.raises(DeepMotifError) as e: Genome(tmp_path / 'x.fa')
    assert fragment in str(e.value)


def test_missing_fasta_and_unknown_chrom(genome, tmp_path):
    _, fa = genome
    with pytest.raises(DeepMotifError, match='no such file'): Genome(tmp_path / 'none.fa')
    with Genome(fa) as g, pytest.raises(DeepMotifError, match="no chromosome 'chrX'"): g.fetch('chrX', 0, 4)


BAD_ARGS = [
    (dict(negatives='random'), "negatives = 'random'"),
    (dict(ratio=0), 'ratio = 0'),
    (dict(length=0), 'length = 0'),
    (dict(flank=-1), 'flank = -1'),
    (dict(valid_chroms=['chr2'], test_chroms=['chr2', 'chr3']), "share ['chr2']"),
    (dict(test_chroms=['chrM']), "test_chroms: 'chrM' is not a chromosome"),
    (dict(test_chroms=['chr1', 'chr2', 'chr3', 'chr4']), 'no windows left for training'),
]


@pytest.mark.parametrize('kwargs,fragment', BAD_ARGS)
def test_bad_dataset_arguments(toy, kwargs, fragment):
    _, fa, peaks, _ = toy
    with pytest.raises(DeepMotifError) as e: genome_dataset(peaks, fa, **kwargs)
    assert fragment in str(e.value)
