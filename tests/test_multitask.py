"Several factors in one model: labels (N, T) with unknown entries, the masked loss, per-task metrics, model selection on their mean."
import copy
import numpy as np
import pytest
import torch
from torch import nn
from deepmotif.core import DeepMotifError
from deepmotif.data import SeqData, multitask_dataset, synthetic_dataset, train_valid_split
from deepmotif.models import build_model, save_model, load_model
from deepmotif.train import fit, evaluate, predict
from conftest import write_fasta


@pytest.fixture(scope='module')
def two_factors(tmp_path_factory):
    "Two single-factor FASTA files: CTCF planted in one's positives, CEBPB in the other's."
    d = tmp_path_factory.mktemp('mt')
    a = synthetic_dataset('single', n=1000, motifs=('CTCF', 'GATA1'), seed=1)
    b = synthetic_dataset('single', n=1000, motifs=('CEBPB', 'GATA1'), seed=2)
    return multitask_dataset([write_fasta(d / 'CTCF_a.fa', a.seqs, a.labels), write_fasta(d / 'CEBPB_b.fa', b.seqs, b.labels)])


def test_labels_are_known_only_for_the_own_factor(two_factors):
    m = two_factors
    assert m.tasks == ['CTCF', 'CEBPB'] and m.labels.shape == (2000, 2)
    own = np.repeat([0, 1], 1000)
    assert (~np.isnan(m.labels[np.arange(2000), own])).all() and np.isnan(m.labels[np.arange(2000), 1 - own]).all()


def test_the_loss_leaves_unknown_labels_out(two_factors):
    "The first epoch's recorded loss (one batch: the loss before the one update) equals BCE over the known labels only."
    tr, va = train_valid_split(two_factors, 0.2, seed=0)
    torch.manual_seed(0)
    m = build_model('cnn', n_filters=4, n_outputs=2, dropout=0.0)
    before = copy.deepcopy(m).eval()
    h = fit(m, tr, va, epochs=1, batch_size=len(tr), lr=1e-3, verbose=False, restarts=0)
    with torch.no_grad(): z = before(tr.X)
    y = tr.y
    known = ~y.isnan()
    ref = nn.functional.binary_cross_entropy_with_logits(z[known], y[known], reduction='sum').item() / len(tr)
    assert h.records[0]['train_loss'] == pytest.approx(ref, rel=1e-5)
    assert set(h.records[0]['valid_auroc_tasks']) == {'CTCF', 'CEBPB'}
    assert h.records[0]['valid_auroc'] == pytest.approx(np.mean(list(h.records[0]['valid_auroc_tasks'].values())))


def test_one_model_learns_both_factors(two_factors, tmp_path):
    tr, va = train_valid_split(two_factors, 0.2, seed=0)
    torch.manual_seed(0)
    m = build_model('cnn', n_filters=16, n_outputs=2)
    h = fit(m, tr, va, epochs=12, lr=3e-3, verbose=False)  # at lr 1e-2 this CNN learned CEBPB only
    assert m.tasks == ['CTCF', 'CEBPB']                       # the outputs are named by the tasks
    r = evaluate(m, va)
    assert set(r['tasks']) == {'CTCF', 'CEBPB'} and min(t['auroc'] for t in r['tasks'].values()) > 0.8, r
    assert r['auroc'] == pytest.approx(np.mean([t['auroc'] for t in r['tasks'].values()]))
    assert r['worst'] == min(r['tasks'], key=lambda t: r['tasks'][t]['auroc'])
    assert h.best_auroc == pytest.approx(max(rec['valid_auroc'] for rec in h.records))
    one = va.task('CEBPB')                                    # a task's own sequences, evaluated through its output
    assert evaluate(m, one, target='CEBPB')['auroc'] == pytest.approx(r['tasks']['CEBPB']['auroc'])
    assert evaluate(m, va, target='CEBPB') == r['tasks']['CEBPB']
    save_model(m, tmp_path / 'mt', seq_length=tr.length)
    assert load_model(tmp_path / 'mt').tasks == ['CTCF', 'CEBPB']


def test_refusals(two_factors):
    tr, va = train_valid_split(two_factors, 0.2, seed=0)
    with pytest.raises(DeepMotifError, match='the model has 3 outputs and .* has labels for 2 tasks'):
        fit(build_model('cnn', n_filters=4, n_outputs=3), tr, va, epochs=1, verbose=False)
    one_class = SeqData(tr.ids, tr.seqs, np.where(np.isnan(tr.labels), np.nan, 1.0), tasks=tr.tasks)
    with pytest.raises(DeepMotifError, match="task 'CTCF' has only one class"):
        fit(build_model('cnn', n_filters=4, n_outputs=2), one_class, va, epochs=1, verbose=False)
    with pytest.raises(DeepMotifError, match='same tasks'):
        fit(build_model('cnn', n_filters=4, n_outputs=2), tr, va.task('CTCF'), epochs=1, verbose=False)


def test_train_command_with_one_file_per_factor(tmp_path):
    import json, subprocess
    files, tests = [], []
    for k, motif in enumerate(('CTCF', 'CEBPB')):
        d = synthetic_dataset('single', n=1000, motifs=(motif, 'GATA1'), seed=k)
        t = synthetic_dataset('single', n=200, motifs=(motif, 'GATA1'), seed=10 + k)
        files.append(write_fasta(tmp_path / f'{motif}_train.fa', d.seqs, d.labels))
        tests.append(write_fasta(tmp_path / f'{motif}_test.fa', t.seqs, t.labels))
    run = lambda *a: subprocess.run(['deepmotif', *map(str, a)], capture_output=True, text=True, timeout=600)
    r = run('train', *files, '--arch', 'cnn', '--test', *tests, '--out', tmp_path / 'm', '--epochs', 10, '--lr', 0.003, '--quiet')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / 'm' / 'metrics.json').read_text())
    assert m['tasks'] == ['CTCF', 'CEBPB'] and set(m['test_auroc_tasks']) == {'CTCF', 'CEBPB'}
    assert min(m['test_auroc_tasks'].values()) > 0.8 and 'valid AUROC by task: CTCF' in r.stdout, (m['test_auroc_tasks'], r.stdout)
    model = load_model(tmp_path / 'm')
    assert model.tasks == ['CTCF', 'CEBPB']
    te = multitask_dataset(tests)
    assert m['test_auroc'] == pytest.approx(evaluate(model, te)['auroc'], abs=1e-6)
    r = run('evaluate', tmp_path / 'm', tests[1], '--target', 'CEBPB', '--json', '--quiet')
    assert r.returncode == 0 and json.loads(r.stdout)['auroc'] == pytest.approx(m['test_auroc_tasks']['CEBPB'], abs=1e-6), r.stderr
    r = run('train', *files, '--arch', 'cnn', '--test', tests[0], '--out', tmp_path / 'x', '--quiet')
    assert r.returncode == 2 and '--test: 1 files for 2 DATA files' in r.stderr


@pytest.fixture(scope='module')
def two_factor_genome(tmp_path_factory):
    "Three 100 kb chromosomes; CTCF under the summits of one narrowPeak set, REST under the other's, both under shared peaks."
    from deepmotif.data import motif_by_name, _random_dna, _sample_site
    d = tmp_path_factory.mktemp('mtgenome')
    rng = np.random.default_rng(3)
    ppms = {m: motif_by_name(m)[1] for m in ('CTCF', 'REST')}
    chroms, beds = {f'chr{k}': list(_random_dna(rng, 100_000)) for k in (1, 2, 3)}, {"CTCF": [], "REST": []}
    for c, seq in chroms.items():
        for j, s in enumerate(range(300, 99_000, 250)):
            which = ('CTCF', 'REST', 'CTCF REST')[j % 3].split()
            for m, at in zip(which, (s, s + 22)):
                site = _sample_site(ppms[m], rng); seq[at:at + len(site)] = list(site)
            for m in which: beds[m].append(f'{c}\t{s - 20}\t{s + 60}\t{m}_{c}_{s}\t0\t.\t5\t-1\t-1\t30\n')
    (d / 'g.fa').write_text(''.join(f'>{c}\n' + ''.join(s) + '\n' for c, s in chroms.items()))
    for m, lines in beds.items(): (d / f'{m}_cell.narrowPeak').write_text(''.join(lines))
    return d


@pytest.mark.slow
def test_train_command_with_peaks_of_two_factors(two_factor_genome, capsys):
    "Two narrowPeak files on one genome: one model, every window labelled for both factors by the centre rule."
    from deepmotif.cli import main
    from deepmotif.genome import genome_dataset
    d = two_factor_genome
    files = [str(d / 'CTCF_cell.narrowPeak'), str(d / 'REST_cell.narrowPeak')]
    rc = main(['train', *files, '--genome', str(d / 'g.fa'), '--arch', 'cnn', '--out', str(d / 'm'), '--epochs', '12',
               '--valid-chroms', 'chr2', '--test-chroms', 'chr3', '--quiet'])
    assert rc == 0, capsys.readouterr().err
    m = __import__('json').loads((d / 'm' / 'metrics.json').read_text())
    assert m['tasks'] == ['CTCF_cell', 'REST_cell'] and load_model(d / 'm').tasks == m['tasks']
    assert min(m['test_auroc_tasks'].values()) > 0.8, m['test_auroc_tasks']
    te = genome_dataset(files, d / 'g.fa', valid_chroms=['chr2'], test_chroms=['chr3']).test
    assert te.labels.shape == (m['n_test'], 2) and not np.isnan(te.labels).any()
    both = te.labels.all(1)                                          # windows of shared peaks are positives for both factors
    assert both.sum() > 0 and (te.labels.sum(0) > both.sum()).all()
    assert m['test_auroc'] == pytest.approx(evaluate(load_model(d / 'm'), te)['auroc'], abs=1e-6)


@pytest.mark.parametrize('kind, extra, msg', [
    ('mixed', ['--genome'], 'all sequence files (FASTA, DeepBind), or all BED/narrowPeak'),
    ('peaks', [], 'give --genome'),
    ('peaks', ['--genome', '--test'], '--test: peaks on a genome are tested on --test-chroms'),
])
def test_several_files_refused_with_one_line(two_factor_genome, tmp_path, capsys, kind, extra, msg):
    from deepmotif.cli import main
    d = two_factor_genome
    a = synthetic_dataset('single', n=40, seed=1)
    fa = write_fasta(tmp_path / 'x.fa', a.seqs, a.labels)
    files = [str(d / 'CTCF_cell.narrowPeak'), str(fa if kind == 'mixed' else d / 'REST_cell.narrowPeak')]
    opts = []
    if '--genome' in extra: opts += ['--genome', str(d / 'g.fa')]
    if '--test' in extra: opts += ['--test', str(fa)]
    rc = main(['train', *files, *opts, '--arch', 'cnn', '--out', str(tmp_path / 'm'), '--epochs', '1', '--quiet'])
    err = capsys.readouterr().err
    assert rc == 2 and msg in err and err.count('\n') == 1 and 'Traceback' not in err, err
    assert not (tmp_path / 'm').exists()
