"Motifs from a trained model: seqlets on planted sites, filter PPMs, TOMTOM names against JASPAR, files, CLI, bad input."
import argparse, gzip, sys
import numpy as np
import pytest
import torch
from deepmotif.data import DeepMotifError, synthetic_dataset, train_valid_split, planted_mask, one_hot
from deepmotif.models import build_model, save_model
from deepmotif.train import fit
from deepmotif.saliency import saliency
import deepmotif.motifs as mo
from deepmotif.motifs import (Motif, Seqlet, seqlets, cluster_seqlets, filter_motifs, optimized_motif, find_motifs, match_motifs,
                              jaspar, bh_qvalues, write_motifs, read_motifs, motifs_command, COLUMNS, SOURCES, EXTRA)
from conftest import write_deepbind

CTCF = 'MA0139.2'


pytestmark = pytest.mark.usefixtures('one_thread')  # torch at one thread in this module (conftest)


@pytest.fixture(scope='module')
def task():
    "A small CNN and CNN-RNN on the built-in `single` task (CTCF planted in positives, GATA1 in both classes), and held-out data."
    data = synthetic_dataset('single', n=2000, seed=0)
    tr, va = train_valid_split(data, 0.2, seed=0)
    models = {}
    for arch, hp in (('cnn', dict(n_filters=32)), ('cnn-rnn', dict(n_filters=16, hidden=8))):
        torch.manual_seed(0)
        models[arch] = build_model(arch, **hp)
        fit(models[arch], tr, va, epochs=6, lr=1e-2, verbose=False)
    held = synthetic_dataset('single', n=400, seed=2)
    return models, held


@pytest.fixture(scope='module')
def pos(task):
    held = task[1]
    return held.subset(np.flatnonzero(held.labels == 1))


def best_rows(rows):
    return {r['motif']: r for r in rows if r['rank'] == 1}


def test_seqlets_sit_on_planted_sites(task, pos):
    S = saliency(task[0]['cnn'], pos, kind='grad_x_input')
    sl = seqlets(S, pos.X, window=10, flank=5)
    mask = planted_mask(pos, CTCF)
    on = [mask[s.seq, max(s.start + 5, 0):s.end - 5].any() for s in sl]
    assert np.mean(on) > 0.9                                           # seqlets are CTCF sites ...
    assert len({s.seq for s, o in zip(sl, on) if o}) > 0.8 * len(pos)   # ... and most planted sites are found
    assert all(s.end - s.start == 20 for s in sl)
    for i in {s.seq for s in sl}:                                      # non-overlapping within a sequence
        cores = sorted((s.start + 5, s.end - 5) for s in sl if s.seq == i)
        assert all(b[0] >= a[1] for a, b in zip(cores, cores[1:]))
    assert sl == seqlets(S, pos.X, window=10, flank=5)                 # deterministic


def test_seqlets_against_a_brute_force_window_scan():
    g = np.random.default_rng(1)
    X = one_hot([''.join(g.choice(list('ACGT'), 40)) for _ in range(8)])
    S = torch.randn(X.shape) * X
    sl = seqlets(S, X, window=6, flank=0, threshold=0.2, max_per_seq=1)
    imp = (S * X).sum(1).double().numpy()
    for s in sl:
        sums = [imp[s.seq, j:j + 6].sum() for j in range(35)]
        assert s.start == int(np.argmax(sums)) and s.score == pytest.approx(max(sums))


def test_saliency_and_optimized_motifs_are_ctcf(task, pos):
    cnn, held = task[0]['cnn'], task[1]
    sal = find_motifs(cnn, held, source='saliency')
    opt = find_motifs(cnn, held, source='optimized', steps=300, n_starts=4)
    assert sal[0].n_seqlets > 0.8 * len(pos) and opt[0].ppm.shape == (4, 19)
    best = best_rows(match_motifs([sal[0], opt[0]]))
    assert best[sal[0].name]['jaspar_id'] == CTCF and best[sal[0].name]['q_value'] < 0.05
    assert best[opt[0].name]['jaspar_id'].startswith('MA0139') and best[opt[0].name]['q_value'] < 0.05


@pytest.mark.parametrize('arch', ['cnn', 'cnn-rnn'])
def test_filter_ppms_are_probability_matrices(task, arch):
    m, held = task[0][arch], task[1]
    fm = filter_motifs(m, held, top=None)
    k = mo.first_conv(m).kernel_size[0]
    assert 0 < len(fm) <= mo.first_conv(m).out_channels
    for f in fm:
        assert f.ppm.shape == (4, k) and (f.ppm > 0).all() and np.allclose(f.ppm.sum(0), 1) and f.n_seqlets >= 1
    assert [f.score for f in fm] == sorted((f.score for f in fm), reverse=True)
    again = filter_motifs(m, held, top=None, batch_size=7)           # batch-size invariant
    assert [f.name for f in again] == [f.name for f in fm]
    assert all(np.allclose(a.ppm, b.ppm) and a.n_seqlets == b.n_seqlets for a, b in zip(again, fm))


def test_filters_of_the_rnn_are_an_error():
    with pytest.raises(DeepMotifError, match='RNN without a convolution over the bases'):
        filter_motifs(build_model('rnn', hidden=4), one_hot(['ACGTACGTACGT']))


def test_clustering_recovers_two_planted_motifs_on_both_strands():
    g = np.random.default_rng(3)
    cons = ['GGGCGCATTA', 'TGATAAGC']
    seqs, spans = [], []
    for i in range(80):
        m = cons[i % 4 == 3]                     # 60 of the first, 20 of the second
        if g.random() < 0.5: m = m[::-1].translate(str.maketrans('ACGT', 'TGCA'))
        s = int(g.integers(0, 50 - len(m)))
        q = list(g.choice(list('ACGT'), 50)); q[s:s + len(m)] = m
        seqs.append(''.join(q)); spans.append((s, s + len(m)))
    X = one_hot(seqs)
    S = 0.05 * torch.rand(X.shape) * X
    for i, (a, b) in enumerate(spans): S[i, :, a:b] += X[i, :, a:b]
    ms = cluster_seqlets(seqlets(S, X, max_per_seq=1), S, X)
    assert [m.n_seqlets for m in ms] == [60, 20]
    rc = lambda s: s[::-1].translate(str.maketrans('ACGT', 'TGCA'))
    for m, c in zip(ms, cons):
        got = ''.join('ACGT'[k] for k in m.ppm.argmax(0))
        assert got in (c, rc(c)), (got, c)


def test_qvalues_are_benjamini_hochberg():
    from scipy.stats import false_discovery_control
    p = np.random.default_rng(0).uniform(size=200) ** 4
    np.testing.assert_allclose(bh_qvalues(p), false_discovery_control(p), rtol=1e-12)


def test_match_table_and_database_forms(tmp_path):
    db = jaspar()
    i = db.ids.index(CTCF)
    q = Motif('piece', db.ppms[i][:, 2:13], None, 1, 'test')
    rows = match_motifs([q], top=3)
    assert [r['rank'] for r in rows] == [1, 2, 3] and tuple(rows[0]) == COLUMNS
    assert rows[0]['jaspar_id'] == CTCF and rows[0]['offset'] == 2 and rows[0]['strand'] == '+'
    assert rows[0]['p_value'] <= rows[1]['p_value'] <= rows[2]['p_value'] and rows[0]['q_value'] < 1e-6
    # the same targets as a MEME file and as a list of Motifs give the same p-values
    sub = [Motif(db.ids[j], db.ppms[j], None, 10, db.names[j]) for j in range(i - 20, i + 20)]
    path = write_motifs(tmp_path / 'db.meme', sub)
    from_file = match_motifs([q], path, top=1)[0]
    from_list = match_motifs([q], sub, top=1)[0]
    assert (from_file['jaspar_id'], from_file['tf_name']) == (CTCF, 'CTCF') and from_list['jaspar_id'] == CTCF
    assert from_file['p_value'] == pytest.approx(from_list['p_value'], rel=1e-3)


def test_meme_round_trip(tmp_path):
    g = np.random.default_rng(0)
    ms = [Motif(f'm{k}', g.dirichlet(np.ones(4), size=w).T, None, n, src) for k, (w, n, src) in enumerate([(5, 12, 'saliency'), (9, 1, 'filters'), (19, 300, 'optimized')])]
    back = read_motifs(write_motifs(tmp_path / 'x.meme', ms))
    assert [(m.name, m.source, m.n_seqlets, m.ppm.shape) for m in back] == [(m.name, m.source, m.n_seqlets, m.ppm.shape) for m in ms]
    for a, b in zip(back, ms): np.testing.assert_allclose(a.ppm, b.ppm, atol=2e-6)


def test_missing_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'memelite', None)   # `import memelite` now raises ImportError
    with pytest.raises(DeepMotifError) as e:
        match_motifs([Motif('a', np.full((4, 5), 0.25), None, 1, 'test')])
    assert 'pip install "deepmotif[motifs]"' in str(e.value) and EXTRA in str(e.value)
    monkeypatch.setitem(sys.modules, 'pyjaspar', None)
    jaspar.cache_clear()
    try:
        with pytest.raises(DeepMotifError, match=r'pip install "deepmotif\[motifs\]"'): jaspar()
    finally: jaspar.cache_clear()


BAD = [  # (call, message fragment)
    (lambda m, X: seqlets(torch.zeros(3, 101), X), 'S has shape (3, 101); expected (N, 4, L)'),
    (lambda m, X: seqlets(X[:, :, :50], X), 'S has shape (5, 4, 50) but X has shape (5, 4, 101)'),
    (lambda m, X: seqlets(X, X, window=500), 'window = 500'),
    (lambda m, X: seqlets(X, X, threshold=2), 'threshold = 2'),
    (lambda m, X: find_motifs(m, X, source='magic'), "source = 'magic'; must be one of grad_x_input, filters, optimized, saliency"),
    (lambda m, X: find_motifs(m, None, source='filters'), 'data = None'),
    (lambda m, X: find_motifs(m, X[0, 0], source='saliency'), 'data has shape (101,); expected (N, 4, L)'),
    (lambda m, X: filter_motifs(m, X, fraction=1.5), 'fraction = 1.5'),
    (lambda m, X: optimized_motif(m, width=500, steps=1, n_starts=1), 'width = 500'),
    (lambda m, X: match_motifs([Motif('bad', np.ones((5, 3)) / 5, None, 1, 'x')]), "motif 'bad' has ppm of shape (5, 3)"),
    (lambda m, X: match_motifs('CTCF'), 'motifs must be a list of Motif'),
    (lambda m, X: match_motifs([Motif('a', np.full((4, 5), 0.25), None, 1, 'x')], top=0), 'top = 0'),
    (lambda m, X: match_motifs([Motif('a', np.full((4, 5), 0.25), None, 1, 'x')], 'JASPAR1999'), "database = 'JASPAR1999'"),
    (lambda m, X: match_motifs([Motif('a', np.full((4, 5), 0.25), None, 1, 'x')], '/no/such.meme'), '/no/such.meme'),
    (lambda m, X: match_motifs([Motif('a', np.full((4, 5), 0.25), None, 1, 'x')], [1, 2]), 'a list must hold Motifs'),
    (lambda m, X: write_motifs('/tmp/never.meme', [Motif('w', np.ones(4), None, 1, 'x')]), "motif 'w' has ppm of shape (4,)"),
]


@pytest.mark.parametrize('call,msg', BAD, ids=[b[1][:30] for b in BAD])
def test_bad_input(call, msg):
    m = build_model('cnn', n_filters=4).eval()
    X = synthetic_dataset('single', n=5, seed=0).X
    with pytest.raises(DeepMotifError) as e: call(m, X)
    assert msg in str(e.value)


def test_command_and_cli(task, tmp_path, capsys):
    cnn, held = task[0]['cnn'], task[1]
    save_model(cnn, tmp_path / 'cnn', seq_length=101)
    ac = write_deepbind(tmp_path / 'TF_AC.seq.gz', [s for s, l in zip(held.seqs, held.labels) if l == 1], [1] * int(held.labels.sum()))
    r = motifs_command(tmp_path / 'cnn', ac, tmp_path / 'out', sources=('saliency', 'filters'), verbose=False)
    lines = (tmp_path / 'out' / 'matches.tsv').read_text().splitlines()
    assert tuple(lines[0].split('\t')) == COLUMNS and len(lines) == 1 + 3 * r['n_motifs']
    ms = read_motifs(tmp_path / 'out' / 'motifs.meme')
    assert len(ms) == r['n_motifs'] and {m.source for m in ms} == {'saliency', 'filters'}
    assert r['best']['saliency_1'][:2] == (CTCF, 'CTCF') and r['best']['saliency_1'][2] < 0.05
    assert not list((tmp_path / 'out').glob('.*.tmp'))                       # no temporary files left
    from deepmotif.cli import _parser
    ap = _parser()
    args = ap.parse_args(['motifs', str(tmp_path / 'cnn'), str(ac), '--out', str(tmp_path / 'cli'), '--sources', 'filters', '--top', '2', '--quiet'])
    assert args.top == 2 and args.sources == ['filters'] and args.database == 'JASPAR2024'
    assert 'motifs written to' in args.run(args)
    n = len(read_motifs(tmp_path / 'cli' / 'motifs.meme'))
    assert len((tmp_path / 'cli' / 'matches.tsv').read_text().splitlines()) == 1 + 2 * n
    with pytest.raises(SystemExit): ap.parse_args(['motifs', 'm', 'd', '--out', 'o', '--top', '0'])
    with pytest.raises(SystemExit): ap.parse_args(['motifs', 'm', 'd', '--out', 'o', '--sources', 'magic'])
    with pytest.raises(DeepMotifError, match="source = 'magic'"):
        motifs_command(tmp_path / 'cnn', ac, tmp_path / 'bad', sources=('magic',), verbose=False)
