"`deepmotif benchmark`: the PWM baseline against a brute-force loop, data-set discovery, the resumable results table."
import csv, gzip, math, warnings
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
import deepmotif.train
from deepmotif.data import DeepMotifError, DeepMotifWarning, one_hot, revcomp, synthetic_dataset, jaspar_motifs, motif_by_name
from deepmotif.models import load_model
from deepmotif.benchmark import (COLUMNS, benchmark, find_datasets, jaspar_motif, log_odds, pwm_scores, read_results,
                                 _subsample)


def write_deepbind(path, seqs, labels):
    with gzip.open(path, 'wt') as f:
        f.write('FoldID\tEventID\tseq\tBound\n' + ''.join(f'A\tseq_{i:05d}_peak\t{s}\t{l}\n' for i, (s, l) in enumerate(zip(seqs, labels))))


def write_fasta(path, seqs, labels):
    path.write_text(''.join(f'>{l}\n{s}\n' for s, l in zip(seqs, labels)))


def loop_scores(pwm, seqs, **kw):
    "Best site score by brute force: every start on both strands, adding the weight of each letter read (N adds 0)."
    W = log_odds(pwm, **kw).numpy()
    w = W.shape[1]
    out = []
    for s in seqs:
        best = -math.inf
        for strand in (s, revcomp(s)):
            for t in range(len(s) - w + 1):
                best = max(best, sum(W['ACGT'.index(c), j] for j, c in enumerate(strand[t:t + w]) if c != 'N'))
        out.append(best)
    return np.array(out)


@pytest.fixture
def data_dir(tmp_path):
    "A DeepBind pair with planted CTCF (positives-only training table) and a DeepMotif folder with positives-only train.fa."
    pos = synthetic_dataset('single', n=240, seed=11)  # CTCF planted in positives
    train_pos = [s for s, l in zip(pos.seqs, pos.labels) if l == 1][:100]
    test = synthetic_dataset('single', n=60, seed=12)
    write_deepbind(tmp_path / 'CTCF_K562_CTCF_(sc-1)_Lab_AC.seq.gz', train_pos, [1] * len(train_pos))
    write_deepbind(tmp_path / 'CTCF_K562_CTCF_(sc-1)_Lab_B.seq.gz', test.seqs, test.labels)
    sub = tmp_path / 'deepmotif_format' / 'REST_GM12878_NRSF_Lab'
    sub.mkdir(parents=True)
    write_fasta(sub / 'train.fa', train_pos[:60], [1] * 60)
    write_fasta(sub / 'test.fa', test.seqs, test.labels)
    return tmp_path


# --- the PWM baseline ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('kw', [{}, dict(pseudocount=0.5), dict(background=[0.3, 0.2, 0.2, 0.3])])
@pytest.mark.parametrize('tf', ['CTCF', 'YY1', 'MAX'])
def test_pwm_scores_match_loop(tf, kw):
    rng = np.random.default_rng(0)
    seqs = [''.join(rng.choice(list('ACGTN'), p=[0.24, 0.24, 0.24, 0.24, 0.04], size=int(L))) for L in rng.integers(20, 40, 25)]
    L = max(map(len, seqs))
    padded = [s.center(L, 'N') if len(s) < L else s for s in seqs]
    X = one_hot(padded)
    _, ppm = motif_by_name(tf)
    got = pwm_scores(ppm, X, **kw).numpy()
    np.testing.assert_allclose(got, loop_scores(ppm, padded, **kw), atol=1e-9)
    np.testing.assert_allclose(pwm_scores(ppm * 977, X, **kw).numpy(), got, atol=1e-9)      # counts give the same weights
    np.testing.assert_allclose(pwm_scores(ppm, X, batch_size=3, **kw).numpy(), got, atol=1e-12)
    np.testing.assert_allclose(pwm_scores(ppm, one_hot([revcomp(s) for s in padded]), **kw).numpy(), got, atol=1e-9)


def test_pwm_scores_planted_sites_and_n():
    d = synthetic_dataset('single', n=300, seed=4)
    _, ctcf = motif_by_name('CTCF')
    assert roc_auc_score(d.labels, pwm_scores(ctcf, d.X).numpy()) > 0.95
    # the best site of a positive is at least the planted instance's score
    W = log_odds(ctcf).numpy()
    for i in np.flatnonzero(d.labels)[:20]:
        mid, s, e, strand = next(x for x in d.meta['sites'][i] if x[0] == 'MA0139.2')
        site = d.seqs[i][s:e] if strand == '+' else revcomp(d.seqs[i][s:e])
        assert pwm_scores(ctcf, d.X[i:i + 1]).item() >= sum(W['ACGT'.index(c), j] for j, c in enumerate(site)) - 1e-9
    assert pwm_scores(ctcf, one_hot(['N' * 30])).item() == 0.0
    assert pwm_scores(ctcf, torch.zeros(0, 4, 30)).shape == (0,)


@pytest.mark.parametrize('pwm, kw, msg', [
    (np.ones((3, 5)), {}, 'expected (4, W)'),
    (np.ones((4, 0)), {}, 'expected (4, W)'),
    (-np.ones((4, 5)), {}, 'negative or non-finite'),
    (np.full((4, 5), np.nan), {}, 'negative or non-finite'),
    (np.c_[np.ones((4, 2)), np.zeros((4, 1))], {}, 'column 2 is all zero'),
    (np.eye(4), dict(pseudocount=0), 'pseudocount > 0'),
    (np.ones((4, 5)), dict(pseudocount=-1), 'pseudocount = -1'),
    (np.ones((4, 5)), dict(background=[0.5, 0.5]), 'background'),
    (np.ones((4, 5)), dict(background=[0.4, 0.4, 0.4, 0.4]), 'summing to 1'),
])
def test_log_odds_bad_input(pwm, kw, msg):
    with pytest.raises(DeepMotifError, match=None) as e: pwm_scores(pwm, one_hot(['ACGTACGTAC']), **kw)
    assert msg in str(e.value)


def test_pwm_scores_bad_x():
    _, ctcf = motif_by_name('CTCF')
    with pytest.raises(DeepMotifError, match=r'\(8, 101\); expected \(N, 4, L\)'): pwm_scores(ctcf, torch.zeros(8, 101))
    with pytest.raises(DeepMotifError, match='shorter than the motif'): pwm_scores(ctcf, one_hot(['ACGTACGT']))


# --- JASPAR matrices by name ------------------------------------------------------------------------------------------

def test_jaspar_motif_shipped():
    for mid, m in jaspar_motifs().items():
        got = jaspar_motif(m['name'].lower(), use_pyjaspar=False)
        assert got[0] == mid and np.array_equal(got[1], m['ppm'])
    assert jaspar_motif('ZBTB7A', use_pyjaspar=False) is None
    assert jaspar_motif('NOT_A_FACTOR') is None
    with pytest.raises(DeepMotifError, match='factor name'): jaspar_motif('  ')


@pytest.mark.parametrize('tf', ['REST', 'CTCFL', 'GABPA', 'USF1', 'SP1', 'MYC', 'ELK1', 'FOXA1', 'YY1', 'ZBTB7A', 'ARID3A', 'USF2', 'CTCF'])
def test_jaspar_motif_pyjaspar(tf):
    jaspardb = pytest.importorskip('pyjaspar').jaspardb
    mid, mat = jaspar_motif(tf)
    # reference: pyjaspar's own lookup by id gives the latest version, vertebrate CORE, with that name
    ref = jaspardb(release='JASPAR2024').fetch_motif_by_id(mid.split('.')[0])
    assert ref.matrix_id == mid and ref.name.upper() == tf and ref.collection == 'CORE' and ref.tax_group == 'vertebrates'
    counts = np.array([ref.counts[b] for b in 'ACGT'])
    np.testing.assert_allclose(mat / mat.sum(0), counts / counts.sum(0), atol=1e-3)  # the shipped ones are rounded probabilities
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        same_name = jaspardb(release='JASPAR2024').fetch_motifs(collection='CORE', tax_group=['vertebrates'], tf_name=tf)
    assert int(mid[2:].split('.')[0]) == min(int(m.base_id[2:]) for m in same_name if m.name.upper() == tf)


# --- data sets ------------------------------------------------------------------------------------------------------

def test_find_datasets(data_dir):
    sets = find_datasets(data_dir)
    assert [(d.name, d.tf) for d in sets] == [('CTCF_K562_CTCF_(sc-1)_Lab', 'CTCF'), ('REST_GM12878_NRSF_Lab', 'REST')]
    assert sets[0].test.name == 'CTCF_K562_CTCF_(sc-1)_Lab_B.seq.gz' and sets[1].train.name == 'train.fa'
    assert find_datasets(data_dir / 'deepmotif_format')[0].name == 'REST_GM12878_NRSF_Lab'  # two levels down and one


def test_find_datasets_errors(tmp_path):
    with pytest.raises(DeepMotifError, match='no such folder'): find_datasets(tmp_path / 'nope')
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(DeepMotifError, match=r'no data sets found; expected DeepBind pairs NAME_AC.seq.gz \+ NAME_B.seq.gz'):
        find_datasets(tmp_path)
    write_deepbind(tmp_path / 'SP1_x_AC.seq.gz', ['ACGT' * 10], [1])
    with pytest.warns(DeepMotifWarning, match='SP1_x_B.seq.gz'), pytest.raises(DeepMotifError, match='no data sets found'):
        find_datasets(tmp_path)
    write_deepbind(tmp_path / 'SP1_x_B.seq.gz', ['ACGT' * 10], [1])
    (tmp_path / 'a' / 'SP1_x').mkdir(parents=True)
    write_fasta(tmp_path / 'a' / 'SP1_x' / 'train.fa', ['ACGT'], [1]); write_fasta(tmp_path / 'a' / 'SP1_x' / 'test.fa', ['ACGT'], [1])
    with pytest.raises(DeepMotifError, match="'SP1_x' appears twice"): find_datasets(tmp_path)


def test_subsample_stratified(small):
    s = _subsample(small, 50, seed=3)
    assert len(s) == 50 and int(s.labels.sum()) == round(50 * small.labels.mean())
    assert set(s.ids) <= set(small.ids) and s.ids == _subsample(small, 50, seed=3).ids and s.ids != _subsample(small, 50, seed=4).ids


# --- the benchmark --------------------------------------------------------------------------------------------------

def test_benchmark_rows_and_resume(data_dir, tmp_path, monkeypatch):
    out = tmp_path / 'out'
    calls = []
    real_fit = deepmotif.train.fit
    monkeypatch.setattr(deepmotif.train, 'fit', lambda *a, **k: calls.append(1) or real_fit(*a, **k))
    rows = benchmark(data_dir, out, archs=('cnn', 'cnn-rnn'), epochs=1, verbose=False)
    assert len(calls) == 4
    with open(out / 'results.tsv', newline='') as f: table = list(csv.DictReader(f, delimiter='\t'))
    assert list(table[0]) == list(COLUMNS)
    assert [(r['dataset'], r['arch']) for r in table] == [('CTCF_K562_CTCF_(sc-1)_Lab', 'cnn'), ('CTCF_K562_CTCF_(sc-1)_Lab', 'cnn-rnn'),
                                                          ('REST_GM12878_NRSF_Lab', 'cnn'), ('REST_GM12878_NRSF_Lab', 'cnn-rnn')]
    ctcf, rest = rows[0], rows[2]
    assert ctcf['tf'] == 'CTCF' and ctcf['pwm_id'] == 'MA0139.2' and ctcf['pwm_auroc'] > 0.9
    assert rest['pwm_id'] == 'MA0138.3' and rest['pwm_auroc'] < 0.8      # REST's matrix on CTCF-planted data
    assert ctcf['n_train'] + ctcf['n_valid'] == 200 and rest['n_train'] + rest['n_valid'] == 120  # one shuffled negative per positive
    assert ctcf['n_test'] == 60 and ctcf['epochs_run'] == 1 and ctcf['best_epoch'] == 1 and ctcf['restarts'] == 0
    for r in rows: assert 0 <= r['test_auroc'] <= 1 and 0 <= r['test_auprc'] <= 1 and r['seconds'] > 0
    # the PWM columns are the baseline recomputed from scratch on the test file
    test = synthetic_dataset('single', n=60, seed=12)
    assert ctcf['pwm_auroc'] == pytest.approx(roc_auc_score(test.labels, loop_scores(motif_by_name('CTCF')[1], test.seqs)), abs=1e-6)
    # saved models give the reported test AUROC
    m = load_model(out / 'models' / 'CTCF_K562_CTCF_(sc-1)_Lab_cnn')
    assert deepmotif.train.evaluate(m, test)['auroc'] == pytest.approx(ctcf['test_auroc'], abs=1e-6)
    md = (out / 'results.md').read_text()
    assert '| REST_GM12878_NRSF_Lab | REST |' in md and '| **mean** (2 sets) |' in md and (out / 'auroc.png').stat().st_size > 1000
    assert not (out / 'checkpoints').exists()

    # a rerun trains nothing and leaves the table as it was
    before = (out / 'results.tsv').read_bytes()
    monkeypatch.setattr(deepmotif.train, 'fit', lambda *a, **k: pytest.fail('fit called on a finished benchmark'))
    assert benchmark(data_dir, out, archs=('cnn', 'cnn-rnn'), epochs=1, verbose=False) == read_results(out / 'results.tsv')
    assert (out / 'results.tsv').read_bytes() == before

    # a missing row (an interrupted run) is trained again, and only that one
    lines = before.decode().splitlines(keepends=True)
    (out / 'results.tsv').write_text(''.join(lines[:-1]))
    calls.clear()
    monkeypatch.setattr(deepmotif.train, 'fit', lambda *a, **k: calls.append(1) or real_fit(*a, **k))
    again = benchmark(data_dir, out, archs=('cnn', 'cnn-rnn'), epochs=1, verbose=False)
    assert len(calls) == 1 and len(again) == 4
    assert (out / 'results.tsv').read_text().splitlines()[-1].split('\t')[:4] == lines[-1].split('\t')[:4]  # same seed, same result

    # resuming with other settings is refused (the table would mix two protocols); another architecture is fine
    with pytest.raises(DeepMotifError, match=r'settings.json: this folder holds a run with epochs=1'):
        benchmark(data_dir, out, archs=('cnn',), epochs=3, verbose=False)
    with pytest.raises(DeepMotifError, match=r'max_train=None'): benchmark(data_dir, out, archs=('cnn',), epochs=1, max_train=50, verbose=False)
    calls.clear()
    assert len(benchmark(data_dir, out, archs=('cnn', 'rnn'), epochs=1, verbose=False)) == 6 and len(calls) == 2
    assert '| RNN |' in (out / 'results.md').read_text().splitlines()[4]


def test_benchmark_matches_train_command(data_dir, tmp_path):
    "A benchmark row is what `deepmotif train DATA --test TEST` reports for the same seed."
    from deepmotif.cli import train_command
    rows = benchmark(data_dir / 'deepmotif_format', tmp_path / 'b', archs=['cnn'], epochs=2, seed=5, verbose=False, save_models=False)
    assert not (tmp_path / 'b' / 'models').exists()
    d = find_datasets(data_dir)[0]
    m = train_command(str(d.train), 'cnn', str(tmp_path / 'm'), test=str(d.test), epochs=2, seed=5, quiet=True)
    rows = benchmark(data_dir, tmp_path / 'b2', archs=['cnn'], epochs=2, seed=5, verbose=False)
    assert rows[0]['test_auroc'] == pytest.approx(m['test_auroc'], abs=1e-6)
    assert rows[0]['n_train'] == m['n_train'] and rows[0]['best_epoch'] == m['best_epoch']


def test_benchmark_max_train(data_dir, tmp_path):
    rows = benchmark(data_dir, tmp_path / 'o', archs=['cnn'], epochs=1, max_train=50, verbose=False)
    assert all(r['n_train'] + r['n_valid'] == 50 for r in rows)


@pytest.mark.parametrize('kw, msg', [
    (dict(archs=('mlp',)), "'mlp'; must be among cnn, rnn, cnn-rnn"),
    (dict(archs=()), 'archs is empty'),
    (dict(epochs=0), 'epochs = 0'),
    (dict(epochs=1.5), 'epochs = 1.5'),
    (dict(max_train=3), 'max_train = 3'),
    (dict(seed=-1), 'seed = -1'),
])
def test_benchmark_bad_options(data_dir, tmp_path, kw, msg):
    with pytest.raises(DeepMotifError) as e: benchmark(data_dir, tmp_path / 'o', verbose=False, **kw)
    assert msg in str(e.value)
    assert not (tmp_path / 'o').exists()


def test_benchmark_bad_folders(data_dir, tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DeepMotifError, match='no data sets found'): benchmark(tmp_path / 'empty', tmp_path / 'o', verbose=False)
    (tmp_path / 'file').write_text('x')
    with pytest.raises(DeepMotifError, match='exists and is not a folder'): benchmark(data_dir, tmp_path / 'file', verbose=False)
    (tmp_path / 'o2').mkdir(); (tmp_path / 'o2' / 'results.tsv').write_text('a\tb\n1\t2\n')
    with pytest.raises(DeepMotifError, match='not a benchmark results table'): benchmark(data_dir, tmp_path / 'o2', verbose=False)


def test_cli_parser(data_dir, tmp_path, capsys):
    from deepmotif.cli import _parser
    p = _parser()
    a = p.parse_args(['benchmark', str(data_dir / 'deepmotif_format'), '--out', str(tmp_path / 'o'), '--archs', 'cnn', '--epochs', '1',
                      '--max-train', '40', '--seed', '3', '--quiet'])
    assert (a.archs, a.epochs, a.max_train, a.seed, a.device, a.quiet) == (['cnn'], 1, 40, 3, None, True)
    assert 'results.md' in a.run(a)
    assert [(r['dataset'], r['n_train'] + r['n_valid']) for r in read_results(tmp_path / 'o' / 'results.tsv')] == [('REST_GM12878_NRSF_Lab', 40)]
    with pytest.raises(SystemExit): p.parse_args(['benchmark', 'x', '--out', 'y', '--archs', 'mlp'])


def test_benchmark_seeds_cli(data_dir, tmp_path):
    from deepmotif.cli import main
    rc = main(['benchmark', str(data_dir / 'deepmotif_format'), '--out', str(tmp_path / 'o'), '--archs', 'cnn', '--epochs', '1',
               '--max-train', '40', '--seeds', '0', '1', '--quiet'])
    assert rc == 0
    per_seed = {s: read_results(tmp_path / 'o' / f'seed_{s}' / 'results.tsv') for s in (0, 1)}
    assert all(len(r) == 1 for r in per_seed.values())
    lines = (tmp_path / 'o' / 'results_seeds.tsv').read_text().splitlines()
    assert lines[0].split('\t')[:3] == ['seed', 'dataset', 'tf'] and [l.split('\t')[0] for l in lines[1:]] == ['0', '1']
    v = np.array([per_seed[s][0]['test_auroc'] for s in (0, 1)])
    md = (tmp_path / 'o' / 'results.md').read_text()
    assert f'{v.mean():.3f} ± {v.std(ddof=1):.3f}' in md, md


def test_benchmark_multitask_cli(data_dir, tmp_path, capsys):
    "One model with one output per set against one model per set, on the same sequences; every refusal in one line."
    from deepmotif.cli import main
    from deepmotif.benchmark import MULTI_COLUMNS, _prepare
    from deepmotif.train import evaluate
    out = tmp_path / 'o'
    rc = main(['benchmark', str(data_dir), '--out', str(out), '--multitask', '--archs', 'cnn', '--epochs', '2', '--lr', '0.003', '--quiet'])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    rows, single = read_results(out / 'multitask.tsv'), read_results(out / 'results.tsv')
    assert list(rows[0]) == list(MULTI_COLUMNS) and [r['dataset'] for r in rows] == [r['dataset'] for r in single]
    m, sets = load_model(out / 'models' / 'multitask_cnn'), find_datasets(data_dir)
    assert m.tasks == [d.name for d in sets] and m(torch.zeros(1, 4, 101)).shape == (1, len(sets))
    for k, (d, r, s) in enumerate(zip(sets, rows, single)):
        tr, va, te, _ = _prepare(d, None, 0)
        assert r['n_train'] == s['n_train'] == len(tr)                         # both sides trained on the same sequences
        assert evaluate(m, te, target=k)['auroc'] == pytest.approx(r['multi_auroc'], abs=1e-5)
        assert r['single_auroc'] == pytest.approx(s['test_auroc'], abs=1e-6)
    mean = sum(r['multi_auroc'] for r in rows) / len(rows)
    assert f'{mean:.3f} with one model for all' in cap.out and '| **mean** (2 sets) |' in (out / 'multitask.md').read_text()
    for args, msg in ((['--multitask', '--seeds', '0', '1'], 'leave out --seeds'), (['--multitask', '--archs', 'cnn', 'rnn'], 'one architecture'),
                      (['--lr', '0.01'], '--lr sets the learning rate of the --multitask model')):
        rc = main(['benchmark', str(data_dir), '--out', str(tmp_path / 'x'), *args, '--quiet'])
        err = capsys.readouterr().err
        assert rc == 2 and msg in err and err.count('\n') == 1, err
    rc = main(['benchmark', str(data_dir / 'deepmotif_format'), '--out', str(tmp_path / 'y'), '--multitask', '--archs', 'cnn', '--epochs', '1', '--quiet'])
    err = capsys.readouterr().err
    assert rc == 2 and 'needs at least two' in err, err
    assert not (tmp_path / 'y').exists()                                     # refused before anything was trained or written
