"Grammar experiments: marginalize, space, ablate against manual insertion and tangermeme; spacing tables; bad input."
import csv, subprocess, sys
import numpy as np
import pytest
import torch
from torch import nn
from deepmotif.core import DeepMotifError
from deepmotif.data import decode, one_hot, revcomp, motif_by_name
from deepmotif.models import build_model
from deepmotif.grammar import (marginalize, space, ablate, motif_matrix, spacing_table, best_spacing, write_spacing,
                               plot_spacing, COLUMNS)

L = 60
TOYS = [('cnn', dict(n_filters=6)), ('rnn', dict(hidden=4)), ('cnn-rnn', dict(n_filters=6, hidden=4))]


def toy(arch, **hp):
    torch.manual_seed(1)
    return build_model(arch, **hp).eval()


def backgrounds(n=12, length=L, seed=0, n_frac=0.0):
    "Random DNA strings (a few N when n_frac > 0)."
    rng = np.random.default_rng(seed)
    letters = rng.choice(list('ACGT'), (n, length))
    letters[rng.random((n, length)) < n_frac] = 'N'
    return [''.join(r) for r in letters]


def splice(seq, site, start):
    "Write `site` into `seq` at `start` by hand; N in the site keeps the background base."
    mid = ''.join(b if m == 'N' else m for b, m in zip(seq[start:start + len(site)], site))
    return seq[:start] + mid + seq[start + len(site):]


def logits(model, seqs):
    with torch.no_grad(): return model.eval()(one_hot(seqs))


@pytest.mark.parametrize('arch,hp', TOYS)
@pytest.mark.parametrize('start', [None, 0, 3, L - 6])
def test_marginalize_is_manual_insertion(arch, hp, start):
    model, seqs = toy(arch, **hp), backgrounds(n_frac=0.05)
    r = marginalize(model, one_hot(seqs), 'AGnTAA', start=start, device='cpu')
    s = L // 2 - 3 if start is None else start
    torch.testing.assert_close(r.before, logits(model, seqs), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(r.after, logits(model, [splice(q, 'AGNTAA', s) for q in seqs]), rtol=1e-5, atol=1e-5)
    assert not torch.allclose(r.after, r.before)  # the insertion changed something


def test_matrix_motifs_insert_their_consensus():
    model, seqs = toy('cnn', n_filters=6), backgrounds()
    _, ppm = motif_by_name('SPI1')
    cons = ''.join('ACGT'[i] for i in ppm.argmax(0))
    expect = logits(model, [splice(q, cons, 10) for q in seqs])
    for motif in ('SPI1', 'spi1', 'MA0080.7', ppm, torch.tensor(ppm * 37)):
        torch.testing.assert_close(marginalize(model, one_hot(seqs), motif, start=10, device='cpu').after, expect,
                                   rtol=1e-5, atol=1e-5)


def test_sampled_instances_follow_the_seed():
    model, X = toy('cnn', n_filters=6), one_hot(backgrounds(n=40))
    a, b, c = (marginalize(model, X, 'CEBPB', sample=True, seed=s, device='cpu').after for s in (0, 0, 1))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    cons = marginalize(model, X, 'CEBPB', device='cpu').after
    assert not torch.allclose(a, cons)  # instances are not all the consensus
    sharp = one_hot('GATTACA')[0].numpy()  # a matrix with one possible instance samples it every time
    torch.testing.assert_close(marginalize(model, X, sharp, sample=True, device='cpu').after,
                               marginalize(model, X, 'GATTACA', device='cpu').after)


def test_pyjaspar_fallback():
    pytest.importorskip('pyjaspar')
    from pyjaspar import jaspardb
    m = jaspardb().fetch_motif_by_id('MA0139.1')  # an older CTCF matrix, not among the shipped ones
    counts = np.array([m.counts[b] for b in 'ACGT'])
    torch.testing.assert_close(motif_matrix('MA0139.1'), torch.tensor(counts / counts.sum(0), dtype=torch.float32))


@pytest.mark.parametrize('arch,hp', TOYS)
@pytest.mark.parametrize('orientation', ['+', '-'])
@pytest.mark.parametrize('start', [None, 2])
def test_space_is_manual_insertion(arch, hp, orientation, start):
    model, seqs = toy(arch, **hp), backgrounds()
    a, b = 'GATAA', 'CCAANG'
    spacing = [0, 1, 5, 20]
    r = space(model, one_hot(seqs), [a, b], spacing, start=start, orientation=orientation, device='cpu')
    assert r.after.shape == (len(spacing), len(seqs), 1)
    b2 = b if orientation == '+' else revcomp(b)
    for k, g in enumerate(spacing):
        s = L // 2 - (len(a) + g + len(b)) // 2 if start is None else start
        edited = [splice(splice(q, a, s), b2, s + len(a) + g) for q in seqs]
        torch.testing.assert_close(r.after[k], logits(model, edited), rtol=1e-5, atol=1e-5)


def test_space_three_motifs_with_a_gap_per_pair():
    model, seqs = toy('cnn', n_filters=6), backgrounds()
    r = space(model, one_hot(seqs), ['GAT', 'TTG', 'CCC'], [(1, 4), (0, 0)], start=5, orientation='+-+', device='cpu')
    edited = [splice(splice(splice(q, 'GAT', 5), revcomp('TTG'), 9), 'CCC', 16) for q in seqs]
    torch.testing.assert_close(r.after[0], logits(model, edited), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('arch,hp', TOYS)
def test_batch_size_does_not_matter(arch, hp):
    model, X = toy(arch, **hp), one_hot(backgrounds(n=13))
    runs = [(marginalize(model, X, 'GATAA', batch_size=b, device='cpu'),
             space(model, X, ['GATAA', 'TTGC'], range(4), batch_size=b, device='cpu'),
             ablate(model, X, 10, 30, n=3, batch_size=b, device='cpu')) for b in (1, 5, 256)]
    for other in runs[1:]:
        for x, y in zip(runs[0], other):
            torch.testing.assert_close(x.before, y.before, rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(x.after, y.after, rtol=1e-5, atol=1e-5)


def test_single_sequence_and_callers_objects():
    model, X = toy('cnn', n_filters=6), one_hot(backgrounds(n=3))
    model.train()
    X0 = X.clone()
    r = marginalize(model, X[1], 'GATAA', device='cpu')
    assert r.before.shape == (1,) and r.after.shape == (1,)
    torch.testing.assert_close(r.after, marginalize(model, X, 'GATAA', device='cpu').after[1])
    assert space(model, X[1], ['GAT', 'TTG'], [0, 3], device='cpu').after.shape == (2, 1)
    assert ablate(model, X[1], 0, 10, n=4, device='cpu').after.shape == (4, 1)
    assert model.training and torch.equal(X, X0)


# --- tangermeme, the peer: same background, same motif, same positions ---

tm = pytest.importorskip('tangermeme')


@pytest.mark.parametrize('arch,hp', TOYS)
@pytest.mark.parametrize('start', [None, 7])
def test_marginalize_agrees_with_tangermeme(arch, hp, start):
    from tangermeme.marginalize import marginalize as tm_marginalize
    model, X = toy(arch, **hp), one_hot(backgrounds())
    ours = marginalize(model, X, 'AGNTAAC', start=start, device='cpu')
    theirs = tm_marginalize(model, X, 'AGNTAAC', start=start, device='cpu', batch_size=5)
    torch.testing.assert_close(ours.before, theirs.y_before, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.after, theirs.y_after, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('arch,hp', TOYS)
@pytest.mark.parametrize('orientation', ['+', '-'])
@pytest.mark.parametrize('start', [None, 4])
def test_space_agrees_with_tangermeme(arch, hp, orientation, start):
    from tangermeme.space import space as tm_space
    model, X = toy(arch, **hp), one_hot(backgrounds())
    spi1 = ''.join('ACGT'[i] for i in motif_by_name('SPI1')[1].argmax(0))
    cebpb = ''.join('ACGT'[i] for i in motif_by_name('CEBPB')[1].argmax(0))
    spacing = list(range(0, 31, 3))
    ours = space(model, X, ['SPI1', 'CEBPB'], spacing, start=start, orientation=orientation, device='cpu')
    second = cebpb if orientation == '+' else revcomp(cebpb)
    theirs = tm_space(model, X, [spi1, second], [[g] for g in spacing], start=start, device='cpu')
    torch.testing.assert_close(ours.before, theirs.y_before, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.after, theirs.y_afters.transpose(0, 1), rtol=1e-5, atol=1e-5)


def test_ablate_keeps_what_a_dinucleotide_shuffle_keeps():
    "Exact properties: the flanks are untouched, and a model blind to order beyond dinucleotides cannot tell."
    from tangermeme.ablate import ablate as tm_ablate
    from tangermeme.ersatz import dinucleotide_shuffle as tm_dinuc
    X = one_hot(backgrounds(n=10))
    torch.manual_seed(0)
    dinuc = nn.Sequential(nn.Conv1d(4, 3, 2), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten()).eval()
    flanks = nn.Sequential(nn.Flatten(), nn.Linear(4 * L, 2)).eval()
    with torch.no_grad(): flanks[1].weight.view(2, 4, L)[:, :, 15:40] = 0
    for model in (dinuc, flanks):
        ours = ablate(model, X, 15, 40, n=6, device='cpu')
        theirs = tm_ablate(model, X, 15, 40, n=6, shuffle_fn=tm_dinuc, random_state=0, device='cpu')
        assert ours.after.shape == theirs.y_after.shape == (10, 6, model(X[:1]).shape[1])
        for r in (ours.after, theirs.y_after):
            torch.testing.assert_close(r, ours.before[:, None].expand_as(r), rtol=1e-5, atol=1e-5)


def test_ablate_shuffle_distribution_matches_tangermeme():
    "A model that reads the region position by position: both samplers give the same distribution of logits."
    from tangermeme.ablate import ablate as tm_ablate
    from tangermeme.ersatz import dinucleotide_shuffle as tm_dinuc
    X = one_hot(backgrounds(n=8, seed=3))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4 * L, 1)).eval()
    ours = ablate(model, X, 10, 50, n=300, seed=0, device='cpu').after[..., 0]
    theirs = tm_ablate(model, X, 10, 50, n=300, shuffle_fn=tm_dinuc, random_state=0, device='cpu').y_after[..., 0]
    assert ours.std(1).min() > 0  # the shuffles do vary
    se = (ours.var(1) / 300 + theirs.var(1) / 300).sqrt()
    assert ((ours.mean(1) - theirs.mean(1)).abs() < 5 * se).all()  # per-sequence means agree
    torch.testing.assert_close(ours.std(1), theirs.std(1), rtol=0.2, atol=0)
    assert not torch.equal(ablate(model, X, 10, 50, n=5, seed=0).after, ablate(model, X, 10, 50, n=5, seed=1).after)


# --- spacing tables ---

def test_spacing_table_rows_are_space_summaries(tmp_path):
    models = {a: toy(a, **hp) for a, hp in TOYS}
    X = one_hot(backgrounds())
    rows = spacing_table(models, X, ['SPI1', 'CEBPB'], range(0, 7), device='cpu')
    assert len(rows) == 3 * 2 * 7 and set(rows[0]) == set(COLUMNS)
    for row in rows[::5]:
        r = space(models[row['model']], X, ['SPI1', 'CEBPB'], [row['spacing']], orientation=row['orientation'],
                  device='cpu')
        d = (r.after[0, :, 0] - r.before[:, 0]).double()
        assert row['n'] == len(X)
        assert row['mean_delta'] == pytest.approx(float(d.mean()), abs=1e-6)
        assert row['sd_delta'] == pytest.approx(float(d.std()), abs=1e-6)
    best = best_spacing(rows)
    assert set(best) == set(models)
    for name, b in best.items():
        assert b['mean_delta'] == max(r['mean_delta'] for r in rows if r['model'] == name)
    path = write_spacing(tmp_path / 'out', rows)
    with open(path) as f: back = list(csv.DictReader(f, delimiter='\t'))
    assert path.name == 'spacing.tsv' and len(back) == len(rows) and tuple(back[0]) == COLUMNS
    assert float(back[3]['mean_delta']) == pytest.approx(rows[3]['mean_delta'], rel=1e-5)
    assert not [p for p in path.parent.iterdir() if p.name != 'spacing.tsv']  # no temporaries left
    ax = plot_spacing(rows)
    assert len(ax.lines) == 3 * 2 + 1


def test_import_leaves_pyplot_alone():
    code = "import sys, deepmotif.grammar; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == 'False'


# --- bad input: (function, argument, value, message fragment) ---

_M, _X = toy('cnn', n_filters=4), one_hot(backgrounds(n=2))
_GOOD = {
    'marginalize': dict(motif='GATAA'),
    'space': dict(motifs=['GATAA', 'TTGC'], spacing=[0, 3]),
    'ablate': dict(start=5, end=20),
    'spacing_table': dict(models={'cnn': _M}, motifs=['GATAA', 'TTGC'], spacings=[0, 3]),
}
_CALLS = {'marginalize': lambda kw: marginalize(_M, kw.pop('X', _X), kw.pop('motif'), **kw),
          'space': lambda kw: space(_M, kw.pop('X', _X), kw.pop('motifs'), kw.pop('spacing'), **kw),
          'ablate': lambda kw: ablate(_M, kw.pop('X', _X), kw.pop('start'), kw.pop('end'), **kw),
          'spacing_table': lambda kw: spacing_table(kw.pop('models'), _X, kw.pop('motifs'), kw.pop('spacings'), **kw)}
BAD = [
    ('marginalize', 'motif', 'A' * 61, 'width 61; longer than the sequences (L = 60)'),
    ('marginalize', 'start', 56, 'start = 56; the motif (width 5) would end at 61, past the end'),
    ('marginalize', 'start', -1, 'start = -1; must be an integer >= 0'),
    ('marginalize', 'motif', 'NOT_A_FACTOR', "motif = 'NOT_A_FACTOR'; not a JASPAR name or matrix id"),
    ('marginalize', 'motif', 'AGRTAA', "'R' at position 2 (expected A, C, G, T or N)"),
    ('marginalize', 'motif', '', "motif = ''"),
    ('marginalize', 'motif', np.ones((3, 5)), 'motif has shape (3, 5); expected (4, W)'),
    ('marginalize', 'motif', -np.ones((4, 5)), 'negative or non-finite'),
    ('marginalize', 'X', torch.zeros(3, 60), 'X has shape (3, 60)'),
    ('marginalize', 'batch_size', 0, 'batch_size = 0'),
    ('space', 'spacing', [], 'spacing = []; expected a non-empty list'),
    ('space', 'spacing', [2, -1], 'spacing[1] = -1'),
    ('space', 'spacing', [52], 'arrangement with gaps [52] has width 61; longer than the sequences'),
    ('space', 'start', 55, 'start = 55; the arrangement with gaps [0] (width 9) would end at 64'),
    ('space', 'motifs', ['GATAA'], 'expected a list of two or more motifs'),
    ('space', 'orientation', 'x', "orientation = 'x'"),
    ('ablate', 'start', -3, 'start = -3'),
    ('ablate', 'end', 61, 'end = 61; past the end of the sequences (L = 60)'),
    ('ablate', 'end', 5, 'end = 5; must be an integer >= 6'),
    ('ablate', 'n', 0, 'n = 0'),
    ('ablate', 'X', torch.full((1, 4, 60), 0.25), 'X is not one-hot in [5, 20)'),
    ('spacing_table', 'models', {}, 'models = {}'),
    ('spacing_table', 'spacings', [], 'spacings = []'),
    ('spacing_table', 'orientations', '+', "orientations = '+'"),
    ('spacing_table', 'target', 1, 'target = 1; the model has 1 output'),
]


@pytest.mark.parametrize('func,argument,value,fragment', BAD, ids=[f'{f}-{a}-{i}' for i, (f, a, *_) in enumerate(BAD)])
def test_bad_input(func, argument, value, fragment):
    kw = dict(_GOOD[func], device='cpu') if func != 'spacing_table' else dict(_GOOD[func])
    if func == 'space' and argument == 'start': kw['spacing'] = [0]
    kw[argument] = value
    with pytest.raises(DeepMotifError) as e: _CALLS[func](kw)
    assert fragment in str(e.value), str(e.value)


def test_good_calls_of_the_bad_table_run():
    "The negative control: the table's defaults are valid, so each failure above comes from its one bad value."
    for func, kw in _GOOD.items(): _CALLS[func](dict(kw))
    _CALLS['space'](dict(_GOOD['space'], spacing=[0], start=60 - 9))  # the last start that fits


def test_write_and_plot_need_rows(tmp_path):
    with pytest.raises(DeepMotifError, match='nothing to write'): write_spacing(tmp_path, [])
    with pytest.raises(DeepMotifError, match='lack the columns'): write_spacing(tmp_path, [{'model': 'x'}])
    with pytest.raises(DeepMotifError, match='nothing to plot'): plot_spacing([])
