"Several processes (gloo on CPU, 2 ranks): DDP training equals one process, sharded predict/explain write the one-process files, failures end the run."
import json, os, signal, subprocess, sys, time
import numpy as np
import pytest
import torch
from deepmotif.data import DeepMotifError, synthetic_dataset, train_valid_split
from deepmotif.models import build_model, save_model
from deepmotif.train import fit, evaluate
from deepmotif.distributed import distributed, launch_local, all_sum
from deepmotif.cli import main, predict_command, explain_command
from conftest import write_fasta

# 241 training sequences in batches of 48: five full batches, then one of 1, where rank 1 has nothing to compute.
TRAIN = dict(epochs=1, batch_size=48, lr=1e-2, seed=3, device='cpu', verbose=False)


@pytest.fixture(scope='module', autouse=True)
def one_thread_workers():
    "Worker processes inherit the environment: one thread each."
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('OMP_NUM_THREADS', '1')
        yield


def _data():
    d = synthetic_dataset('single', n=321, seed=11)
    return train_valid_split(d, 80 / 321, seed=0)


def _model(n_outputs: int = 1):
    torch.manual_seed(0)
    return build_model('cnn', n_filters=8, dropout=0.0, n_outputs=n_outputs)  # dropout masks differ between ranks; without dropout the runs must agree


def _tasks_data():
    "Two factors' sequences, each labelled for its own factor and unknown (NaN) for the other: (N, 2) labels."
    from deepmotif.data import SeqData
    a = synthetic_dataset('single', n=161, motifs=('CTCF', 'GATA1'), seed=12)
    b = synthetic_dataset('single', n=160, motifs=('CEBPB', 'GATA1'), seed=13)
    Y = np.full((321, 2), np.nan, np.float32); Y[:161, 0] = a.labels; Y[161:, 1] = b.labels
    d = SeqData([f'a{i}' for i in a.ids] + [f'b{i}' for i in b.ids], a.seqs + b.seqs, Y, tasks=['CTCF', 'CEBPB'])
    return train_valid_split(d, 80 / 321, seed=0)


def _ranks_worker(tmp: str) -> None:
    "On each of 2 ranks: fit one epoch, resume to two, sharded predict and explain; then rank 1 dies while rank 0 waits for it."
    tmp = os.path.join(tmp, '')
    with distributed('cpu') as (ctx, dev):
        assert ctx.world == 2
        tr, va = _data()
        m = _model()
        h = fit(m, tr, va, checkpoint=tmp + 'ck.pt', **TRAIN)
        one = {k: v.clone() for k, v in m.state_dict().items()}
        m2 = _model()
        h2 = fit(m2, tr, va, checkpoint=tmp + 'ck.pt', resume=True, **{**TRAIN, 'epochs': 2})
        predict_command(tmp + 'cnn', tmp + 'x.fa', tmp + 'p2.tsv', device='cpu', chunk_size=64)
        explain_command(tmp + 'cnn', tmp + 'x.fa', tmp + 's2.npz', device='cpu', chunk_size=64, batch_size=16)
        explain_command(tmp + 'rnn', tmp + 'x.fa', tmp + 't2.npz', method='temporal', device='cpu', chunk_size=64)
        mt, mv = _tasks_data()
        m3 = _model(2)
        h3 = fit(m3, mt, mv, **TRAIN)
        total = float(all_sum(torch.tensor([float(ctx.rank + 1)]))[0])
        if ctx.main: torch.save(dict(one=one, two=m2.state_dict(), auroc=h['valid_auroc'], auroc2=h2['valid_auroc'], total=total,
                                     tasks=m3.state_dict(), tasks_auroc=h3['valid_auroc'], tasks_loss=h3.records[0]['train_loss']), tmp + 'ddp.pt')
        all_sum(torch.ones(1))  # rank 0 has saved
        if ctx.rank == 1:
            with open(tmp + 'killed', 'w') as f: f.write(str(time.time()))
            os.kill(os.getpid(), signal.SIGKILL)
        all_sum(torch.ones(1))  # rank 0 waits here for a rank that is gone


@pytest.fixture(scope='module')
def two_ranks(tmp_path_factory):
    "Files for the sharded commands and a 2-process run of `_ranks_worker` on them; returns (folder, error, when it came)."
    tmp = tmp_path_factory.mktemp('ddp')
    d = synthetic_dataset('single', n=300, seed=4)  # 300 records in chunks of 64: 5 chunks, the last one short, 3 rounds
    write_fasta(tmp / 'x.fa', d.seqs, d.labels)
    torch.manual_seed(1); save_model(build_model('cnn', n_filters=8), tmp / 'cnn', seq_length=101)
    torch.manual_seed(2); save_model(build_model('rnn', hidden=4), tmp / 'rnn', seq_length=101)
    with pytest.raises(DeepMotifError) as e: launch_local(2, _ranks_worker, str(tmp))
    return tmp, str(e.value), time.time()


@pytest.mark.slow
def test_ranks_did_their_work(two_ranks):
    tmp, err, _ = two_ranks
    assert (tmp / 'ddp.pt').exists(), err
    assert torch.load(tmp / 'ddp.pt', weights_only=True)['total'] == 3.0  # 1 + 2 summed over the ranks


@pytest.mark.slow
def test_a_killed_rank_ends_the_run(two_ranks):
    "Rank 1 died in the middle of the run: one clear line, soon, instead of rank 0 waiting for ever."
    tmp, err, seen = two_ranks
    assert err == 'rank 1 of 2 was killed by SIGKILL; the other workers were stopped'
    assert seen - float((tmp / 'killed').read_text()) < 30


def test_ddp_epoch_equals_one_process(two_ranks):
    tmp, _, _ = two_ranks
    got = torch.load(tmp / 'ddp.pt', weights_only=True)
    tr, va = _data()
    m = _model()
    h = fit(m, tr, va, checkpoint=tmp / 'ck1.pt', **TRAIN)
    start = _model().state_dict()
    assert all(not torch.equal(v, start[k]) for k, v in m.state_dict().items())  # the epoch changed every weight...
    for k, v in m.state_dict().items(): torch.testing.assert_close(got['one'][k], v, atol=1e-5, rtol=0)  # ...as in one process
    assert got['auroc'] == pytest.approx(h['valid_auroc'], abs=1e-6)
    # the gathered validation AUROC is the one-process AUROC of the same weights, exactly
    ddp = _model(); ddp.load_state_dict(got['one'])
    assert got['auroc'][0] == evaluate(ddp, va, device='cpu')['auroc']
    # resuming from the 2-process checkpoint in 2 processes continues like one process
    m2 = _model()
    fit(m2, tr, va, checkpoint=tmp / 'ck1.pt', resume=True, **{**TRAIN, 'epochs': 2})
    for k, v in m2.state_dict().items(): torch.testing.assert_close(got['two'][k], v, atol=1e-5, rtol=0)


def test_ddp_with_labels_of_several_tasks_equals_one_process(two_ranks):
    "(N, T) labels with unknown entries: the masked loss, its gradients and the mean validation AUROC over tasks, in 2 ranks as in 1."
    tmp, _, _ = two_ranks
    got = torch.load(tmp / 'ddp.pt', weights_only=True)
    tr, va = _tasks_data()
    assert np.isnan(tr.labels).any() and tr.labels.shape[1] == 2
    m = _model(2)
    h = fit(m, tr, va, **TRAIN)
    start = _model(2).state_dict()
    assert all(not torch.equal(v, start[k]) for k, v in m.state_dict().items())
    for k, v in m.state_dict().items(): torch.testing.assert_close(got['tasks'][k], v, atol=1e-5, rtol=0)
    assert got['tasks_loss'] == pytest.approx(h.records[0]['train_loss'], rel=1e-5)
    assert got['tasks_auroc'] == pytest.approx(h['valid_auroc'], abs=1e-6)


def test_sharded_predict_equals_one_process(two_ranks):
    tmp, _, _ = two_ranks
    predict_command(str(tmp / 'cnn'), str(tmp / 'x.fa'), str(tmp / 'p1.tsv'), device='cpu', chunk_size=64)
    assert (tmp / 'p2.tsv').read_bytes() == (tmp / 'p1.tsv').read_bytes()
    assert len((tmp / 'p2.tsv').read_text().splitlines()) == 301
    assert not [p.name for p in tmp.iterdir() if p.name.endswith('.tmp')]  # no temporary files left behind


@pytest.mark.parametrize('method, model, sharded', [('saliency', 'cnn', 's2.npz'), ('temporal', 'rnn', 't2.npz')])
@pytest.mark.slow
def test_sharded_explain_equals_one_process(two_ranks, method, model, sharded):
    tmp, _, _ = two_ranks
    explain_command(str(tmp / model), str(tmp / 'x.fa'), str(tmp / f'{method}1.npz'), method=method, device='cpu', chunk_size=64,
                    batch_size=16 if method == 'saliency' else 256)
    a, b = np.load(tmp / sharded), np.load(tmp / f'{method}1.npz')
    assert sorted(a.files) == sorted(b.files)
    for k in a.files: np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert a['scores'].shape == ((300, 4, 101) if method == 'saliency' else (300, 2, 101))


# --- failures and the command line ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_failing_ranks_give_one_line(tmp_path, capsys):
    "A command that fails on its ranks under --nproc prints one line and exits with status 2."
    (tmp_path / 'bad.fa').write_text('>1\n' + 'ACGT' * 25 + '\n>0\nAC?T\n')
    torch.manual_seed(1); save_model(build_model('cnn', n_filters=4), tmp_path / 'm', seq_length=100)
    rc = main(['predict', str(tmp_path / 'm'), str(tmp_path / 'bad.fa'), '--out', str(tmp_path / 'p.tsv'), '--nproc', '2', '--quiet'])
    err = capsys.readouterr().err
    assert rc == 2 and err.count('\n') == 1 and err.startswith('deepmotif: error: rank '), err
    assert 'bad.fa line 4 (record 2)' in err and 'Traceback' not in err
    assert not (tmp_path / 'p.tsv').exists()


def test_nproc_under_torchrun_is_refused(monkeypatch, capsys):
    monkeypatch.setenv('RANK', '0'); monkeypatch.setenv('WORLD_SIZE', '2')
    assert main(['predict', 'm', 'x.fa', '--out', 'p.tsv', '--nproc', '2']) == 2
    assert capsys.readouterr().err == "deepmotif: error: --nproc starts its own processes; leave it out when torchrun starts them\n"


@pytest.mark.slow
def test_torchrun_train(tmp_path):
    "`torchrun -m deepmotif train`: rank 0 alone writes the model and metrics; their validation AUROC is the saved model's."
    d = synthetic_dataset('single', n=200, seed=0)
    write_fasta(tmp_path / 't.fa', d.seqs, d.labels)
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '-m', 'deepmotif', 'train',
                        str(tmp_path / 't.fa'), '--arch', 'cnn', '--out', str(tmp_path / 'm'), '--epochs', '2', '--quiet'],
                       capture_output=True, text=True, timeout=300, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count('saved to') == 1, r.stdout  # rank 0 reports
    m = json.loads((tmp_path / 'm' / 'metrics.json').read_text())
    assert m['epochs_run'] == 2 and sorted(p.name for p in (tmp_path / 'm').iterdir()) == ['checkpoint.pt', 'config.json', 'metrics.json', 'model.safetensors']
    from deepmotif.data import read_sequences
    from deepmotif.models import load_model
    _, va = train_valid_split(read_sequences(tmp_path / 't.fa', seed=0), 0.1, seed=0)
    assert m['valid_auroc'] == evaluate(load_model(tmp_path / 'm'), va, device='cpu')['auroc']
