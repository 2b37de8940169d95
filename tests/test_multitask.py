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
