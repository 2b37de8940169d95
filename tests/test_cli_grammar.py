"`deepmotif grammar`: spacing curves of several saved models, and its one-line errors."
import torch
import pytest
from deepmotif.cli import main
from deepmotif.models import build_model, save_model, load_model
from deepmotif.grammar import space
from deepmotif.data import synthetic_dataset


def test_grammar_command(tmp_path, capsys):
    torch.manual_seed(0)
    save_model(build_model('cnn', n_filters=8), tmp_path / 'cnn', seq_length=101)
    save_model(build_model('cnn-rnn', n_filters=8, hidden=4), tmp_path / 'crnn', seq_length=101)
    bg = synthetic_dataset('single', n=40, seed=3)
    (tmp_path / 'bg.fa').write_text(''.join(f'>{l}\n{s}\n' for s, l in zip(bg.seqs, bg.labels)))
    rc = main(['grammar', str(tmp_path / 'cnn'), str(tmp_path / 'crnn'), '--motifs', 'TGACTCA', 'GATAA', '--spacings', '0-4',
               '--background', str(tmp_path / 'bg.fa'), '--n', '10', '--out', str(tmp_path / 'g')])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert 'strongest response' in out.out
    rows = [l.split('\t') for l in (tmp_path / 'g' / 'spacing.tsv').read_text().splitlines()]
    assert rows[0][:3] == ['model', 'spacing', 'orientation'] and len(rows) == 1 + 2 * 5 * 2
    # the table's mean change equals space() on the same backgrounds: 10 of the file's negatives, drawn with the seed
    import numpy as np
    idx = np.sort(np.random.default_rng(0).choice(np.flatnonzero(bg.labels == 0), 10, replace=False))
    r = space(load_model(tmp_path / 'cnn'), bg.subset(idx).X, ['TGACTCA', 'GATAA'], [3])
    row = next(x for x in rows[1:] if x[0] == 'cnn' and x[1] == '3' and x[2] == '+')
    assert int(row[5]) == 10
    assert abs(float(row[3]) - float((r.after[0, :, 0] - r.before[:, 0]).mean())) < 1e-4
    assert (tmp_path / 'g' / 'spacing.png').stat().st_size > 1000


@pytest.mark.parametrize('args, msg', [
    (['--motifs', 'TGACTCA', 'NOSUCHTF1'], 'NOSUCHTF1'),
    (['--motifs', 'A' * 200, 'GATAA'], 'longer'),
    (['--motifs', 'TGACTCA', 'GATAA', '--spacings', '0-200'], 'has width'),
])
def test_grammar_bad_input(tmp_path, capsys, args, msg):
    save_model(build_model('cnn', n_filters=4), tmp_path / 'cnn', seq_length=101)
    rc = main(['grammar', str(tmp_path / 'cnn'), '--out', str(tmp_path / 'g'), '--n', '4', *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.count('\n') == 1 and msg in err, err
    assert not (tmp_path / 'g' / 'spacing.tsv').exists()
