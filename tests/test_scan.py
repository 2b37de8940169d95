"Genome-wide scans: fast tracks against a one-window-at-a-time loop, both track formats, the region and N rules, bad input, atomic output, two ranks."
import os
import numpy as np
import pytest
import torch
from deepmotif.core import DeepMotifError
from deepmotif.data import one_hot
from deepmotif.genome import Genome, Interval
from deepmotif.models import build_model, save_model
from deepmotif.scan import ScanRow, ScanStats, scan, scan_blocks, scan_to_track, window_runs, write_track

L = 101
SIZES = dict(chr2=1900, chr1=2500, chrM=80)  # (stride 3 scans chr2 only, to keep the loop short)  # written out of name order; chrM is shorter than a window
GAP = ('chr1', 900, 1200)


def write_genome(path, sizes=SIZES, gap=GAP, width=60, seed=0):
    "Random DNA, an N gap on one chromosome, `width` letters a line; returns {name: sequence}."
    rng = np.random.default_rng(seed)
    seqs = {c: ''.join(rng.choice(list('ACGT'), n)) for c, n in sizes.items()}
    c, a, b = gap
    seqs[c] = seqs[c][:a] + 'N' * (b - a) + seqs[c][b:]
    with open(path, 'w') as f:
        for c, s in seqs.items(): f.write(f'>{c}\n' + ''.join(s[i:i + width] + '\n' for i in range(0, len(s), width)))
    return seqs


def brute(model, seqs, stride, length=L, regions=None):
    "Each window cut from the strings and scored alone; regions: windows on the k*stride grid wholly inside one."
    rows = []
    for c in sorted(seqs):
        n = len(seqs[c])
        for k in range(0, n):
            a = k * stride
            if a + length > n: break
            if regions is not None and not any(rc == c and rs <= a and a + length <= re for rc, rs, re in regions): continue
            w = seqs[c][a:a + length]
            if 2 * w.count('N') > length: continue
            with torch.no_grad(): p = torch.sigmoid(model(one_hot(w)))[0, 0].item()
            b = a + length // 2 - stride // 2
            rows.append((c, b, min(b + stride, n), p))
    return rows


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('scan')
    seqs = write_genome(tmp / 'g.fa')
    torch.manual_seed(0)
    model = build_model('cnn', n_filters=8).eval()
    save_model(model, tmp / 'cnn', seq_length=L)
    return tmp, seqs, model


def same(rows, ref, eps=1e-5):
    assert [tuple(r[:3]) for r in rows] == [r[:3] for r in ref]
    np.testing.assert_allclose([r[3] for r in rows], [r[3] for r in ref], atol=eps, rtol=0)


@pytest.mark.parametrize('stride', [3, 20, L])
def test_scan_equals_window_loop(toy, stride):
    tmp, seqs, model = toy
    chroms = ['chr2'] if stride < 7 else None
    ref = brute(model, {c: s for c, s in seqs.items() if chroms is None or c in chroms}, stride)
    if chroms is None: assert len(ref) < sum((len(s) - L) // stride + 1 for s in seqs.values() if len(s) >= L)  # the gap removes windows
    same(list(scan(model, tmp / 'g.fa', length=L, stride=stride, chroms=chroms, chunk_windows=13, batch_size=7, device='cpu')), ref)


def test_n_rule_boundary(tmp_path):
    "A window with exactly half N... rounded: 50 N of 101 is kept, 51 is not."
    seq = 'A' * 50 + 'N' * 51 + 'C' * 50 + 'N' * 0
    (tmp_path / 'n.fa').write_text('>c\n' + seq + '\n')
    model = build_model('cnn', n_filters=4).eval()
    rows = list(scan(model, tmp_path / 'n.fa', length=L, stride=50, device='cpu'))
    # windows [0,101): 51 N, dropped; [50,151): 51 N, dropped; none has <= 50 N -> shift by one base
    assert rows == []
    (tmp_path / 'm.fa').write_text('>c\n' + 'A' * 51 + 'N' * 50 + 'C' * 50 + '\n')
    rows = list(scan(model, tmp_path / 'm.fa', length=L, stride=50, device='cpu'))
    assert [r[:3] for r in rows] == [('c', 25, 75), ('c', 75, 125)]  # both windows have exactly 50 N


def test_batch_and_chunk_invariance(toy):
    tmp, _, model = toy
    a = list(scan(model, tmp / 'g.fa', length=L, chunk_windows=1, batch_size=1, device='cpu'))
    b = list(scan(model, tmp / 'g.fa', length=L, chunk_windows=10_000, batch_size=4096, device='cpu'))
    same(a, [tuple(r) for r in b], eps=1e-6)


def test_bins_adjacent_and_inside(toy):
    tmp, seqs, model = toy
    for stride in (20, 33, L):
        for b in scan_blocks(model, tmp / 'g.fa', length=L, stride=stride, device='cpu'):
            assert (b.end - b.start == stride).all() and (b.end <= len(seqs[b.chrom])).all()
            assert (b.start[1:] >= b.end[:-1]).all()


def test_regions_on_the_grid(toy):
    tmp, seqs, model = toy
    regs = [('chr1', 233, 700), ('chr1', 650, 1000), ('chr2', 1800, 1900), ('chr2', 10, 140), ('chr1', 2000, 2099)]
    (tmp / 'r.bed').write_text(''.join(f'{c}\t{s}\t{e}\n' for c, s, e in regs))
    rows = list(scan(model, tmp / 'g.fa', length=L, regions=tmp / 'r.bed', device='cpu'))
    merged = [('chr1', 233, 1000), ('chr2', 1800, 1900), ('chr2', 10, 140), ('chr1', 2000, 2099)]  # touching/overlapping merge
    same(rows, brute(model, seqs, 20, regions=merged))
    full = {r[:3]: r[3] for r in scan(model, tmp / 'g.fa', length=L, device='cpu')}
    assert all(full[r[:3]] == pytest.approx(r[3], abs=1e-6) for r in rows)  # a subset of the whole scan's rows
    assert rows[0][:3] == ('chr1', 240 + 40, 240 + 60)  # first window starts at 240, the first grid point >= 233
    iv = [Interval('chr2', 10, 140)]
    assert [r[:3] for r in scan(model, tmp / 'g.fa', length=L, regions=iv, device='cpu')] == [('chr2', 60, 80)]


def test_chroms_and_order(toy):
    tmp, _, model = toy
    assert window_runs(Genome(tmp / 'g.fa').chroms, L) == [('chr1', 0, 120), ('chr2', 0, 90)]
    rows = list(scan(model, tmp / 'g.fa', length=L, chroms='chr2', device='cpu'))
    assert {r.chrom for r in rows} == {'chr2'} and len(rows) == 90


def test_bedgraph_and_bigwig_agree(toy):
    pyBigWig = pytest.importorskip('pyBigWig')
    tmp, seqs, model = toy
    ref = brute(model, seqs, 20)
    for out in ('t.bedGraph', 't.bg', 't.bw', 't.bigWig'):
        st = scan_to_track(tmp / 'cnn', tmp / 'g.fa', tmp / out, device='cpu', verbose=False)
        assert st == ScanStats(120 + 90, len(ref))
    bg = [l.split('\t') for l in (tmp / 't.bedGraph').read_text().splitlines()]
    same([(c, int(s), int(e), float(v)) for c, s, e, v in bg], ref)
    assert (tmp / 't.bg').read_text() == (tmp / 't.bedGraph').read_text()
    bw = pyBigWig.open(str(tmp / 't.bw'))
    assert bw.chroms() == {c: len(s) for c, s in seqs.items()}
    back = [(c, s, e, v) for c in ('chr1', 'chr2') for s, e, v in (bw.intervals(c) or ())]
    assert bw.intervals('chrM') is None
    bw.close()
    same(back, ref)
    same(back, [(c, int(s), int(e), float(v)) for c, s, e, v in bg])


def test_track_line(toy):
    tmp, _, model = toy
    scan_to_track(tmp / 'cnn', tmp / 'g.fa', tmp / 'named.bedGraph', name='cnn scan', chroms=['chr2'], device='cpu', verbose=False)
    first, second = (tmp / 'named.bedGraph').read_text().splitlines()[:2]
    assert first == 'track type=bedGraph name="cnn scan"' and second.startswith('chr2\t40\t60\t')


BAD = [
    (dict(chroms=['chrX']), "chroms: no chromosome 'chrX'"),
    (dict(stride=0), 'stride = 0; must be an integer >= 1'),
    (dict(stride=L + 1), f'stride = {L + 1}; must be at most the window length L = {L}'),
    (dict(chroms=['chrM']), f'no window of L = {L} bp fits in any chromosome scanned (the longest, chrM, has 80 bp)'),
    (dict(regions=[('chr2', 1800, 2000)]), 'end 2000 is past the end of chr2 (1,900 bp)'),
    (dict(regions=[('chrX', 0, 200)]), "chromosome 'chrX' is not in the genome"),
    (dict(regions=[('chr1', 10, 90)]), f'no window of L = {L} bp fits inside the regions'),
    (dict(batch_size=0), 'batch_size = 0'),
    (dict(length=50), 'length = 50; the model was trained on 101 bp windows'),
]


@pytest.mark.parametrize('kw, msg', BAD)
@pytest.mark.parametrize('ext', ['bedGraph', 'bw'])
def test_bad_input_leaves_no_track(toy, kw, msg, ext):
    tmp, _, _ = toy
    out = tmp / f'bad.{ext}'
    with pytest.raises(DeepMotifError, match=None) as e:
        scan_to_track(tmp / 'cnn', tmp / 'g.fa', out, device='cpu', verbose=False, **kw)
    assert msg in str(e.value) and '\n' not in str(e.value)
    assert not [p for p in tmp.iterdir() if p.name.startswith(('bad.', '.bad.'))]


def test_bad_region_file_line(toy):
    tmp, _, _ = toy
    (tmp / 'far.bed').write_text('chr1\t0\t500\nchr2\t100\t5000\n')
    with pytest.raises(DeepMotifError, match=r'far.bed line 2: end 5000 is past the end of chr2'):
        scan_to_track(tmp / 'cnn', tmp / 'g.fa', tmp / 'far.bw', regions=tmp / 'far.bed', device='cpu', verbose=False)
    assert not (tmp / 'far.bw').exists()


def test_bad_output_name(toy):
    tmp, _, _ = toy
    with pytest.raises(DeepMotifError, match=r"out = .*x.tsv'; must end in"):
        scan_to_track(tmp / 'cnn', tmp / 'g.fa', tmp / 'x.tsv', verbose=False)
    (tmp / 'dir.bw').mkdir()
    with pytest.raises(DeepMotifError, match='is a folder'):
        scan_to_track(tmp / 'cnn', tmp / 'g.fa', tmp / 'dir.bw', verbose=False)


def test_model_without_length(toy):
    tmp, _, model = toy
    with pytest.raises(DeepMotifError, match='the model has no seq_length; pass length='):
        scan(model, tmp / 'g.fa')


@pytest.mark.parametrize('ext', ['bedGraph', 'bw'])
def test_error_midway_keeps_old_track(toy, ext):
    "A failure after some rows were written leaves the previous file as it was and no temporary."
    tmp, _, model = toy
    out = tmp / f'keep.{ext}'
    out.write_bytes(b'old')
    def rows():
        yield from scan(model, tmp / 'g.fa', length=L, device='cpu')
        raise RuntimeError('interrupted')
    with pytest.raises(RuntimeError, match='interrupted'): write_track(rows(), out, tmp / 'g.fa')
    assert out.read_bytes() == b'old'
    assert [p.name for p in tmp.iterdir() if f'keep.{ext}' in p.name] == [out.name]


@pytest.mark.parametrize('rows, msg', [
    ([('chr2', 0, 20, .5), ('chr1', 0, 20, .5)], 'comes after chr2; rows must be sorted'),
    ([('chr1', 0, 20, .5), ('chr1', 10, 30, .5)], 'track row chr1:10-30: starts before the previous bin ends'),
    ([('chr1', 2490, 2510, .5)], 'not a bin inside chr1'),
    ([('chrZ', 0, 20, .5)], "chromosome 'chrZ' is not in the genome"),
])
def test_write_track_checks_rows(toy, rows, msg):
    tmp, _, _ = toy
    for ext in ('bedGraph', 'bw'):
        with pytest.raises(DeepMotifError, match=None) as e: write_track(rows, tmp / f'rows.{ext}', tmp / 'g.fa')
        assert msg in str(e.value)
        assert not (tmp / f'rows.{ext}').exists()


def test_model_left_as_it_was(toy):
    tmp, _, _ = toy
    m = build_model('cnn', n_filters=4)
    m.train()
    list(scan(m, tmp / 'g.fa', length=L, chroms='chr2', device='cpu'))
    assert m.training


def test_scan_on_cuda(toy, device):
    tmp, seqs, model = toy
    rows = list(scan(model, tmp / 'g.fa', length=L, stride=50, device=device))
    same(rows, brute(model, seqs, 50), eps=1e-4)


def _two_rank_worker(tmp: str) -> None:
    "On each of 2 CPU ranks: scan into a bedGraph and a bigWig (rank 0 writes)."
    from deepmotif.distributed import distributed
    with distributed('cpu') as (ctx, dev):
        assert ctx.world == 2
        for ext in ('bedGraph', 'bw'):
            st = scan_to_track(os.path.join(tmp, 'cnn'), os.path.join(tmp, 'g.fa'), os.path.join(tmp, f'two.{ext}'),
                               device=dev, chunk_windows=17, verbose=False)
            with open(os.path.join(tmp, f'stats{ctx.rank}.{ext}'), 'w') as f: f.write(repr(tuple(st)))


@pytest.mark.slow
def test_two_ranks_write_the_one_process_track(toy, monkeypatch):
    from deepmotif.distributed import launch_local
    tmp, _, _ = toy
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    launch_local(2, _two_rank_worker, str(tmp))
    for ext in ('bedGraph', 'bw'):
        scan_to_track(tmp / 'cnn', tmp / 'g.fa', tmp / f'one.{ext}', device='cpu', chunk_windows=17, verbose=False)
        assert (tmp / f'two.{ext}').read_bytes() == (tmp / f'one.{ext}').read_bytes()
        assert (tmp / f'stats1.{ext}').read_text() == '(210, 0)'
        assert (tmp / f'stats0.{ext}').read_text() == repr(tuple(ScanStats(210, (tmp / 'one.bedGraph').read_text().count('\n'))))
