"The command line: end-to-end runs and the bad-input table (exit status 2, one line, no traceback)."
import json, subprocess, sys
import pytest
from deepmotif.data import synthetic_dataset
from deepmotif.models import load_model
from conftest import write_fasta, write_deepbind


def run(*args, cwd=None):
    return subprocess.run(['deepmotif', *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.mark.slow
def test_demo_quick(tmp_path):
    r = run('demo', '--quick', '--quiet', '--out', tmp_path / 'demo')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / 'demo' / 'metrics.json').read_text())
    assert set(m['models']) == {'cnn', 'rnn', 'cnn-rnn'}
    for arch in m['models']:
        assert (tmp_path / 'demo' / 'models' / arch / 'model.safetensors').exists()
    assert (tmp_path / 'demo' / 'predictions.png').stat().st_size > 10_000
    assert m['models']['cnn']['test_auroc'] > 0.9


@pytest.mark.slow
def test_train_evaluate_predict(tmp_path):
    d = synthetic_dataset('single', n=400, seed=0)
    train = write_deepbind(tmp_path / 'tf_B.seq.gz', d.seqs, d.labels)
    r = run('train', train, '--arch', 'cnn', '--out', tmp_path / 'm', '--epochs', 3, '--test', train, '--quiet')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / 'm' / 'metrics.json').read_text())
    assert {'arch', 'epochs_run', 'best_epoch', 'valid_auroc', 'test_auroc', 'test_auprc'} <= set(m)
    r = run('evaluate', tmp_path / 'm', train, '--json')
    assert r.returncode == 0 and abs(json.loads(r.stdout)['auroc'] - m['test_auroc']) < 1e-9
    fa = tmp_path / 'x.fa'
    fa.write_text(''.join(f'>{i}\n{s}\n' for i, s in zip(d.ids, d.seqs)))
    r = run('predict', tmp_path / 'm', fa, '--out', tmp_path / 'p.tsv')
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / 'p.tsv').read_text().splitlines()) == len(d) + 1


@pytest.mark.slow
def test_train_reports_restarts(tmp_path):
    "A run held at chance (validation: one sequence of Ns, labelled both ways) restarts after patience runs out; train says so."
    d = synthetic_dataset('single', n=200, seed=0)
    train = write_fasta(tmp_path / 't.fa', d.seqs, d.labels)
    # all-N input is all zeros: every row's logit is exactly the same number however the batch is split over threads,
    # so the validation AUROC is exactly 0.5 in every epoch (a real sequence repeated can differ in the last bit)
    flat = write_fasta(tmp_path / 'v.fa', ['N' * len(d.seqs[0])] * 40, [0] * 20 + [1] * 20)
    r = run('train', train, '--valid', flat, '--arch', 'cnn', '--out', tmp_path / 'm', '--epochs', 12, '--quiet')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / 'm' / 'metrics.json').read_text())
    assert (m['restarts'], m['epochs_run']) == (1, 12), m                # patience 10: restarted after epoch 11
    assert '(1 restart from new weights: stuck at chance)' in r.stdout, r.stdout


@pytest.mark.slow
def test_train_pooling_option(tmp_path):
    "The paper's mean-pooled recurrent model from the command line; the CNN has no such option."
    d = synthetic_dataset('single', n=200, seed=0)
    f = write_fasta(tmp_path / 't.fa', d.seqs, d.labels)
    r = run('train', f, '--arch', 'rnn', '--pooling', 'mean', '--out', tmp_path / 'm', '--epochs', 1, '--quiet')
    assert r.returncode == 0, r.stderr
    assert load_model(tmp_path / 'm').pooling == 'mean'
    assert json.loads((tmp_path / 'm' / 'config.json').read_text())['hparams']['pooling'] == 'mean'
    r = run('train', f, '--arch', 'cnn', '--pooling', 'mean', '--out', tmp_path / 'c', '--epochs', 1, '--quiet')
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'only the recurrent models' in r.stderr, r.stderr
    assert not (tmp_path / 'c').exists()


@pytest.mark.slow
def test_train_weight_decay_option(tmp_path):
    "--weight-decay replaces the architecture's default; it is on once the validation AUROC has reached the preset's level."
    d = synthetic_dataset('single', n=300, seed=0)
    f = write_fasta(tmp_path / 't.fa', d.seqs, d.labels)
    for preset in ('default', 'paper'):  # decay from validation AUROC 0.9 on; from the start
        r = run('train', f, '--arch', 'cnn', '--weight-decay', '0.01', '--preset', preset, '--out', tmp_path / preset, '--epochs', 3, '--quiet')
        assert r.returncode == 0, r.stderr
        h = json.loads((tmp_path / preset / 'metrics.json').read_text())['history']
        after = 0.9 if preset == 'default' else 0.0
        best = [max([e['valid_auroc'] for e in h[:i]], default=-1) for i in range(len(h))]
        assert [e['weight_decay'] for e in h] == [0.01 if after == 0 or b >= after else 0.0 for b in best], (preset, h)
    assert [e['weight_decay'] for e in h] == [0.01] * 3


@pytest.mark.slow
def test_resume_continues_to_the_same_result(tmp_path):
    d = synthetic_dataset('single', n=300, seed=0)
    f = write_fasta(tmp_path / 't.fa', d.seqs, d.labels)
    a = run('train', f, '--arch', 'cnn', '--out', tmp_path / 'a', '--epochs', 4, '--quiet')
    b1 = run('train', f, '--arch', 'cnn', '--out', tmp_path / 'b', '--epochs', 2, '--quiet')
    b2 = run('train', f, '--arch', 'cnn', '--out', tmp_path / 'b', '--epochs', 4, '--resume', '--quiet')
    assert a.returncode == b1.returncode == b2.returncode == 0, (a.stderr, b2.stderr)
    ha = json.loads((tmp_path / 'a' / 'metrics.json').read_text())
    hb = json.loads((tmp_path / 'b' / 'metrics.json').read_text())
    assert [r['valid_auroc'] for r in ha['history']] == pytest.approx([r['valid_auroc'] for r in hb['history']], abs=1e-6)
    assert ha['best_epoch'] == hb['best_epoch']


def _files(tmp_path):
    d = synthetic_dataset('single', n=40, seed=0)
    write_fasta(tmp_path / 'ok.fa', d.seqs, d.labels)
    write_fasta(tmp_path / 'pos.fa', d.seqs[:5], [1] * 5)
    (tmp_path / 'bad.fa').write_text('>1\nACGT\n>0\nAC?T\n')
    (tmp_path / 'foreign').mkdir(); (tmp_path / 'foreign' / 'weights.pt').write_bytes(b'\x80\x04K\x01.')
    (tmp_path / 'unreadable.fa').write_text('>1\nACGT\n'); (tmp_path / 'unreadable.fa').chmod(0)


CASES = [  # (arguments, fragment of the one-line message)
    (['train', 'missing.fa', '--arch', 'cnn', '--out', 'm'], 'no such file'),
    (['train', 'bad.fa', '--arch', 'cnn', '--out', 'm'], 'bad.fa line 4 (record 2)'),
    (['train', 'pos.fa', '--arch', 'cnn', '--out', 'm'], 'only one class'),
    (['train', 'ok.fa', '--arch', 'transformer', '--out', 'm'], "invalid choice: 'transformer'"),
    (['train', 'ok.fa', '--arch', 'cnn', '--out', 'm', '--epochs', 'ten'], 'not an integer'),
    (['train', 'ok.fa', '--arch', 'cnn', '--out', 'm', '--lr', '-1'], 'positive number'),
    (['train', 'ok.fa', '--arch', 'rnn', '--out', 'm', '--weight-decay', '-0.1'], 'must be a number >= 0'),
    (['train', 'ok.fa', '--arch', 'rnn', '--out', 'm', '--weight-decay', 'nan'], 'must be a number >= 0'),
    (['train', 'ok.fa', '--arch', 'cnn', '--out', 'm', '--valid-frac', '2'], 'between 0 and 1'),
    (['evaluate', 'foreign', 'ok.fa'], 'no config.json'),
    (['evaluate', 'nowhere', 'ok.fa'], 'not a model folder'),
]


@pytest.mark.parametrize('args,fragment', CASES, ids=[' '.join(c[0][:2] + c[0][3:4]) + f'-{i}' for i, c in enumerate(CASES)])
def test_bad_input_exits_2_with_one_line(tmp_path, args, fragment):
    _files(tmp_path)
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert fragment in r.stderr and 'Traceback' not in r.stderr
    assert len([l for l in r.stderr.splitlines() if l.startswith('deepmotif: error') or 'error:' in l]) == 1
