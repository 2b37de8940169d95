"The command line under bad input (one line, status 2, nothing written) and on large files (streamed = in memory)."
import contextlib, gzip, io, json, os, pickle, re, signal, subprocess, sys, time, tracemalloc
from pathlib import Path
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
import deepmotif.data as data_mod
from deepmotif.data import DeepMotifError, DeepMotifWarning, read_sequences, iter_sequences, fit_length, one_hot, synthetic_dataset
from deepmotif.models import CNN, build_model, save_model, load_model
from deepmotif.train import fit, predict, evaluate, _load_checkpoint
from deepmotif.saliency import saliency
from deepmotif.cli import main, open_scores, evaluate_command, predict_command, explain_command
from conftest import write_fasta, write_deepbind

# ---------------------------------------------------------------- the command line: every bad input is one line, status 2

def cli(*args):
    "Run `deepmotif` in this process: (status, stdout, stderr); an exception other than SystemExit fails the test."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: rc = main([str(a) for a in args])
        except SystemExit as e: rc = e.code
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    "Data files, a small model and folders written by other tools."
    t = tmp_path_factory.mktemp('cli')
    d = synthetic_dataset('single', n=40, seed=0)
    write_fasta(t / 'ok.fa', d.seqs, d.labels)
    (t / 'unlabelled.fa').write_text(''.join(f'>r{i}\n{s}\n' for i, s in enumerate(d.seqs)))
    write_deepbind(t / 'TF_AC.seq', d.seqs[:10], [1] * 10)
    write_fasta(t / 'short.fa', [s[20:80] for s in d.seqs], d.labels)
    write_fasta(t / 'long.fa', [s + s[:49] for s in d.seqs], d.labels)
    (t / 'prose.txt').write_text('Transcription factors bind DNA.\nThis is not a sequence file.\n')
    with gzip.open(t / 'prose.txt.gz', 'wt') as f: f.write('not\ta\tsequence\tfile at all\n')
    (t / 'data.json').write_text(json.dumps({'sequences': ['ACGT'], 'labels': [1]}))
    (t / 'image.png').write_bytes(b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10' + bytes(range(256)))
    (t / 'folder').mkdir()
    (t / 'unreadable.fa').write_text('>1\nACGT\n>0\nTTTT\n'); (t / 'unreadable.fa').chmod(0)
    torch.manual_seed(0)
    save_model(build_model('cnn', n_filters=4), t / 'cnn', seq_length=101)
    (t / 'torch_pt').mkdir(); torch.save(build_model('cnn', n_filters=4).state_dict(), t / 'torch_pt' / 'model.pt')
    (t / 'keras_h5').mkdir(); (t / 'keras_h5' / 'model.h5').write_bytes(b'\x89HDF\r\n\x1a\n' + bytes(512))
    (t / 'keras_h5' / 'config.json.bak').write_text('{"class_name": "Sequential"}')
    from safetensors.torch import save_file
    (t / 'hf').mkdir(); save_file({'w': torch.zeros(3)}, str(t / 'hf' / 'model.safetensors'))
    (t / 'hf' / 'config.json').write_text(json.dumps({'model_type': 'bert', 'architectures': ['BertModel']}))
    cfg = json.loads((t / 'cnn' / 'config.json').read_text())
    for name, change in [('garbage_weights', {}), ('bad_hparams', {'hparams': {'n_filters': -5}}), ('hparams_list', {'hparams': [4]}),
                         ('bad_length', {'seq_length': 'abc'}), ('other_arch', {'arch': 'transformer'})]:
        (t / name).mkdir()
        (t / name / 'config.json').write_text(json.dumps({**cfg, **change}))
        (t / name / 'model.safetensors').write_bytes((t / 'cnn' / 'model.safetensors').read_bytes())
    (t / 'garbage_weights' / 'model.safetensors').write_bytes(b'\x80\x04\x95' + bytes(64))
    (t / 'not_json').mkdir(); (t / 'not_json' / 'config.json').write_text('{"format": "deepmotif-model", ')
    return t


T = ['--arch', 'cnn', '--out', '@new', '--quiet']  # the tail of a train command that should get as far as reading its data
CLI_CASES = [  # (arguments, fragment of the one-line message); '@x' is file x of the `files` fixture
    # unreadable or wrong files
    (['train', '@folder', *T], 'is a directory'),
    (['evaluate', '@cnn', '@folder', '--quiet'], 'is a directory'),
    (['train', '@unreadable.fa', *T], 'permission denied'),
    (['train', '@prose.txt', *T], 'prose.txt line 1: unknown format'),
    (['evaluate', '@cnn', '@image.png', '--quiet'], 'image.png line 3: binary data'),
    (['predict', '@cnn', '@data.json', '--out', '@p.tsv', '--quiet'], 'data.json line 1: unknown format'),
    (['explain', '@cnn', '@prose.txt.gz', '--out', '@e.npz', '--quiet'], 'prose.txt.gz line 1'),
    (['evaluate', '@cnn', '@unlabelled.fa', '--quiet'], 'no labels'),
    (['evaluate', '@cnn', '@TF_AC.seq', '--quiet'], 'only one class among the labels (all 10 are 1)'),
    (['explain', '@cnn', '@ok.fa', '--out', '@e.npz', '--method', 'temporal', '--quiet'], 'without a recurrent layer'),
    (['predict', '@cnn', '@ok.fa', '--out', '@folder', '--quiet'], 'is a folder'),
    (['train', '@ok.fa', '--arch', 'cnn', '--out', '@ok.fa', '--quiet'], 'exists and is not a folder'),
    (['train', '@ok.fa', '--arch', 'cnn', '--out', '@new', '--lr', '1e30', '--epochs', '2', '--quiet'], 'training diverged in epoch 1'),
    # architectures
    (['train', '@ok.fa', '--arch', 'transformer', '--out', '@new'], "argument --arch: invalid choice: 'transformer'"),
    (['train', '@ok.fa', '--arch', '', '--out', '@new'], "invalid choice: ''"),
    (['train', '@ok.fa', '--arch', 'cnn2', '--out', '@new'], "invalid choice: 'cnn2'"),
    # numbers
    *[(['train', '@ok.fa', *T, '--epochs', v], m) for v, m in [('nan', "'nan' is not an integer"), ('inf', "'inf' is not an integer"),
      ('0', '0 must be at least 1'), ('-1', '-1 must be at least 1'), ('ten', "'ten' is not an integer"), ('1.5', "'1.5' is not an integer")]],
    *[(['train', '@ok.fa', *T, '--lr', v], m) for v, m in [('nan', 'nan must be a positive number'), ('inf', 'inf must be a positive number'),
      ('0', '0 must be a positive number'), ('-1', '-1 must be a positive number'), ('fast', "'fast' is not a number")]],
    *[(['train', '@ok.fa', *T, '--batch-size', v], m) for v, m in [('0', 'at least 1'), ('-5', 'at least 1'), ('nan', 'not an integer')]],
    *[(['train', '@ok.fa', *T, '--valid-frac', v], m) for v, m in [('0', 'between 0 and 1'), ('1', 'between 0 and 1'),
      ('nan', 'between 0 and 1'), ('inf', 'between 0 and 1'), ('-0.5', 'between 0 and 1'), ('half', 'not a number')]],
    *[(['train', '@ok.fa', *T, '--seed', v], m) for v, m in [('-1', 'between 0 and 2**32 - 1'), ('4294967296', 'between 0 and 2**32 - 1'),
      ('nan', "'nan' is not an integer"), ('0.5', 'not an integer')]],
    (['explain', '@cnn', '@ok.fa', '--out', '@e.npz', '--batch-size', '0'], 'at least 1'),
    (['optimize', '@cnn', '--out', '@opt', '--steps', '0'], 'at least 1'),
    (['optimize', '@cnn', '--out', '@opt', '--starts', 'nan'], 'not an integer'),
    (['optimize', '@cnn', '--out', '@opt', '--seed', '-1'], 'between 0 and 2**32 - 1'),
    (['evaluate', '@cnn', '@ok.fa', '--device', 'tpu9'], "'tpu9' is not a device"),
    (['evaluate', '@cnn', '@ok.fa', '--device', 'cuda:99'], 'no such CUDA device'),
    (['train', '@ok.fa', '--arch', 'cnn'], 'the following arguments are required: --out'),
    # model folders from other tools, or damaged
    (['evaluate', '@torch_pt', '@ok.fa', '--quiet'], 'no config.json; not a deepmotif model folder'),
    (['evaluate', '@keras_h5', '@ok.fa', '--quiet'], 'no config.json; not a deepmotif model folder'),
    (['evaluate', '@torch_pt/model.pt', '@ok.fa', '--quiet'], 'not a model folder'),
    (['predict', '@keras_h5/model.h5', '@ok.fa', '--out', '@p.tsv', '--quiet'], 'not a model folder'),
    (['predict', '@hf', '@ok.fa', '--out', '@p.tsv', '--quiet'], "not a deepmotif model (format tag None)"),
    (['explain', '@garbage_weights', '@ok.fa', '--out', '@e.npz', '--quiet'], 'not a safetensors weights file'),
    (['evaluate', '@bad_hparams', '@ok.fa', '--quiet'], 'hparams.n_filters = -5; must be an integer from 1'),
    (['evaluate', '@hparams_list', '@ok.fa', '--quiet'], 'hparams = [4]; must be a mapping'),
    (['evaluate', '@bad_length', '@ok.fa', '--quiet'], "seq_length = 'abc'"),
    (['evaluate', '@other_arch', '@ok.fa', '--quiet'], "arch 'transformer'"),
    (['evaluate', '@not_json', '@ok.fa', '--quiet'], 'not valid JSON'),
    (['optimize', '@torch_pt', '--out', '@opt'], 'no config.json'),
]


def _args(files, args):
    return [str(files / a[1:]) if a.startswith('@') else a for a in args]


def _assert_one_line_error(rc, out, err, fragment):
    "Status 2 and one line `deepmotif: error: ...` holding `fragment`; one-line warnings may come before it."
    assert rc == 2, (rc, out, err)
    lines = [l for l in err.splitlines() if l.strip() and not l.startswith('deepmotif: warning: ')]
    assert len(lines) == 1 and lines[0].startswith('deepmotif: error: '), err
    assert fragment in lines[0], (fragment, err)
    assert 'Traceback' not in err + out


@pytest.mark.parametrize('args,fragment', CLI_CASES, ids=[f'{i}-' + ' '.join(c[0][:1] + c[0][-2:]) for i, c in enumerate(CLI_CASES)])
def test_bad_input_is_one_line_and_status_2(files, args, fragment):
    if 'unreadable.fa' in args[1] and os.access(files / 'unreadable.fa', os.R_OK):
        pytest.skip('chmod 000 does not stop this user (root) from reading; the folder rows cover unreadable paths')
    if 'cuda:99' in args and torch.cuda.device_count() > 99: pytest.skip('this machine has 100 GPUs')
    _assert_one_line_error(*cli(*_args(files, args)), fragment)
    assert not (files / 'e.npz').exists() and not (files / 'p.tsv').exists()


SCRIPT_CASES = [next(c for c in CLI_CASES if c[1] == f) for f in ('is a directory', 'not a safetensors weights file')]


@pytest.mark.parametrize('args,fragment', SCRIPT_CASES, ids=[c[1] for c in SCRIPT_CASES])
def test_bad_input_through_the_console_script(files, args, fragment):
    "A few rows again through the installed `deepmotif` script, in a fresh process."
    r = subprocess.run(['deepmotif', *_args(files, args)], capture_output=True, text=True, timeout=300)
    _assert_one_line_error(r.returncode, r.stdout, r.stderr, fragment)


@pytest.mark.parametrize('name', ['short.fa', 'long.fa'])
def test_other_lengths_than_the_model_are_centred_with_one_warning(files, tmp_path, name):
    model = load_model(files / 'cnn')
    d = read_sequences(files / name)
    X = one_hot([fit_length(s, 101) for s in d.seqs])
    warning = f"deepmotif: warning: {files / name}: sequence lengths [{len(d.seqs[0])}] differ from the model's 101; centre-trimming/padding to 101"
    rc, out, err = cli('evaluate', files / 'cnn', files / name, '--json', '--quiet')
    assert rc == 0 and err.splitlines() == [warning], err
    assert json.loads(out)['auroc'] == pytest.approx(evaluate(model, d)['auroc'], abs=1e-12)
    rc, out, err = cli('predict', files / 'cnn', files / name, '--out', tmp_path / 'p.tsv', '--quiet')
    assert rc == 0 and err.splitlines() == [warning], err
    p = np.array([float(l.split('\t')[1]) for l in (tmp_path / 'p.tsv').read_text().splitlines()[1:]])
    assert np.allclose(p, predict(model, X), atol=1e-6)
    rc, out, err = cli('explain', files / 'cnn', files / name, '--out', tmp_path / 's.npz', '--quiet')
    assert rc == 0 and err.splitlines() == [warning], err
    assert np.allclose(np.load(tmp_path / 's.npz')['scores'], saliency(model, X).numpy(), atol=1e-6)


# ---------------------------------------------------------------- large files: streamed commands equal the in-memory functions

def test_streamed_commands_equal_the_in_memory_functions(files, tmp_path):
    from deepmotif.temporal import temporal_scores
    d = synthetic_dataset('single', n=150, seed=3)
    data = write_deepbind(tmp_path / 'TF_B.seq.gz', d.seqs, d.labels)
    model, whole = load_model(files / 'cnn'), read_sequences(data)
    ref = evaluate(model, whole)
    for chunk in (7, 64, 10_000):
        got = evaluate_command(str(files / 'cnn'), str(data), chunk_size=chunk)
        assert got['auroc'] == pytest.approx(ref['auroc'], abs=1e-9) and (got['n'], got['n_pos']) == (ref['n'], ref['n_pos'])
    assert json.loads(cli('evaluate', files / 'cnn', data, '--json', '--quiet')[1])['auroc'] == ref['auroc']
    predict_command(str(files / 'cnn'), str(data), str(tmp_path / 'p.tsv'), chunk_size=7)
    rows = [l.split('\t') for l in (tmp_path / 'p.tsv').read_text().splitlines()]
    assert rows[0] == ['id', 'probability'] and [r[0] for r in rows[1:]] == whole.ids
    assert np.allclose([float(r[1]) for r in rows[1:]], predict(model, whole), atol=1e-5)
    explain_command(str(files / 'cnn'), str(data), str(tmp_path / 's.npz'), kind='grad_x_input', chunk_size=7)
    z = np.load(tmp_path / 's.npz')
    assert z['ids'].tolist() == whole.ids and str(z['kind']) == 'grad_x_input'
    assert np.allclose(z['scores'], saliency(model, whole.X, kind='grad_x_input').numpy(), atol=1e-6)
    assert np.allclose(z['probability'], predict(model, whole), atol=1e-6)
    assert np.array_equal(open_scores(tmp_path / 's.npz')[5:9], z['scores'][5:9])
    torch.manual_seed(0)
    save_model(build_model('rnn', hidden=4), tmp_path / 'rnn')  # saved without a length: the file's longest is used
    explain_command(str(tmp_path / 'rnn'), str(data), str(tmp_path / 't.npz'), method='temporal', chunk_size=64)
    rnn = load_model(tmp_path / 'rnn')
    assert np.allclose(np.load(tmp_path / 't.npz')['scores'], temporal_scores(rnn, whole.X).numpy(), atol=1e-6)


def test_an_error_late_in_a_file_leaves_no_output(files, tmp_path):
    d = synthetic_dataset('single', n=100, seed=0)
    (tmp_path / 'late.fa').write_text(''.join(f'>{l}\n{s}\n' for s, l in zip(d.seqs, d.labels)) + '>1\nACGTZ\n')
    message = "late.fa line 202 (record 101): 'Z' at position 4"
    for args in (['predict', files / 'cnn', tmp_path / 'late.fa', '--out', tmp_path / 'out' / 'p.tsv'],
                 ['explain', files / 'cnn', tmp_path / 'late.fa', '--out', tmp_path / 'out' / 's.npz'],
                 ['evaluate', files / 'cnn', tmp_path / 'late.fa']):
        _assert_one_line_error(*cli(*args, '--quiet'), message)
    for command, out in ((predict_command, 'p.tsv'), (explain_command, 's.npz')):  # after several chunks were written
        with pytest.raises(DeepMotifError, match=re.escape(message)):
            command(str(files / 'cnn'), str(tmp_path / 'late.fa'), str(tmp_path / 'out' / out), chunk_size=16)
    assert not (tmp_path / 'out').exists() or not list((tmp_path / 'out').iterdir())


def test_evaluate_on_positives_only_says_so(files):
    rc, out, err = cli('evaluate', files / 'cnn', files / 'TF_AC.seq', '--quiet')
    _assert_one_line_error(rc, out, err, 'a DeepBind *_AC file holds positives only: evaluate on the matching *_B file')
