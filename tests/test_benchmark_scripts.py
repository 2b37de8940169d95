"Benchmark scripts that CI can run: GPU-vs-CPU (CPU column only here; refuses cuda without a device) and the seeds summary."
import importlib.util, re
from pathlib import Path
import pytest, torch

pytestmark = pytest.mark.usefixtures('one_thread')
SCRIPT = Path(__file__).parents[1] / 'benchmarks' / 'gpu_vs_cpu.py'


def load(name='gpu_vs_cpu'):
    spec = importlib.util.spec_from_file_location(name, SCRIPT.with_name(f'{name}.py'))
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def test_gpu_vs_cpu_cpu_column(capsys):
    mod = load()
    assert mod.main(['--quick', '--devices', 'cpu', '--threads', '1', '--repeat', '1']) == 0
    rows = re.findall(r'^\| (\S+(?: \S+)?) \| ([\d,]+) \| ([\d,]+) \|$', capsys.readouterr().out, re.M)
    names = [r[0] for r in rows]
    assert names == ['train-cnn', 'train-rnn', 'train-cnn-rnn', 'predict cnn', 'saliency cnn', 'ism cnn',
                     'ism cnn-rnn', 'temporal rnn', 'ig cnn'], names
    assert all(int(r[2].replace(',', '')) > 0 for r in rows)


def test_gpu_vs_cpu_without_cuda(capsys):
    if torch.cuda.is_available(): pytest.skip('a CUDA device is present: the refusal cannot be seen')
    assert load().main(['--quick']) == 2
    assert 'no CUDA device' in capsys.readouterr().err


def test_seeds_summary_joins_folders(tmp_path, capsys):
    from deepmotif.benchmark import write_results
    row = lambda ds, arch, auc, pwm: dict(dataset=ds, tf='X', arch=arch, test_auroc=auc, pwm_auroc=pwm)
    (tmp_path / 'a' / 'seed_0').mkdir(parents=True); (tmp_path / 'b' / 'seed_1').mkdir(parents=True)
    write_results(tmp_path / 'a' / 'seed_0' / 'results.tsv', [row('S1', 'rnn', 0.9, 0.8), row('S1', 'cnn', 0.95, 0.8)])
    write_results(tmp_path / 'b' / 'seed_1' / 'results.tsv', [row('S1', 'rnn', 0.7, 0.8)])
    load('seeds_summary').main([str(tmp_path / 'a'), str(tmp_path / 'b'), '--archs', 'rnn'])
    out = capsys.readouterr().out
    assert '| S1 | 0.800 ± 0.141 (min 0.700) | 0.800 |' in out, out  # both folders, rnn only: mean and sd of 0.9, 0.7
    assert 'CNN' not in out and '2 runs; below the PWM: rnn S1 seed 1 0.700 < 0.800' in out


def test_seeds_summary_reads_recorded_tables(tmp_path, capsys):
    "A folder without seed_S runs is read from its results_seeds.tsv (as `benchmark --seeds` writes it); an empty one is an error."
    from deepmotif.benchmark import write_results
    row = lambda ds, arch, auc, pwm: dict(dataset=ds, tf='X', arch=arch, test_auroc=auc, pwm_auroc=pwm)
    rec = tmp_path / 'rec'; rec.mkdir()
    (rec / 'results_seeds.tsv').write_text('seed\tdataset\ttf\tarch\ttest_auroc\tpwm_auroc\n'
                                           '0\tS1\tX\tcnn-rnn\t0.9\t0.8\n2\tS1\tX\tcnn-rnn\t0.5\t0.8\n')
    (tmp_path / 'a' / 'seed_0').mkdir(parents=True)
    write_results(tmp_path / 'a' / 'seed_0' / 'results.tsv', [row('S1', 'cnn', 0.95, 0.8)])
    load('seeds_summary').main([str(tmp_path / 'a'), str(rec)])
    out = capsys.readouterr().out
    assert '| S1 | 0.950 ± 0.000 (min 0.950) | 0.700 ± 0.283 (min 0.500) | 0.800 |' in out, out
    assert '0.700 ± 0.283; 1 below PWM, 1 at chance' in out and 'cnn-rnn S1 seed 2 0.500 < 0.800' in out, out
    (tmp_path / 'empty').mkdir()
    with pytest.raises(SystemExit, match='empty: no seed_'): load('seeds_summary').main([str(tmp_path / 'empty')])


def _ctcf_pair(folder):
    "A small DeepBind pair (planted CTCF sites) in `folder`: positives-only training file and a labelled test file."
    from deepmotif.data import synthetic_dataset
    from test_benchmark import write_deepbind
    train, test = synthetic_dataset('single', n=300, seed=11), synthetic_dataset('single', n=60, seed=12)
    pos = [s for s, l in zip(train.seqs, train.labels) if l == 1]
    write_deepbind(folder / 'CTCF_K562_CTCF_(sc-1)_Lab_AC.seq.gz', pos, [1] * len(pos))
    write_deepbind(folder / 'CTCF_K562_CTCF_(sc-1)_Lab_B.seq.gz', test.seqs, test.labels)


def test_rnn_plateau_restart_rules(tmp_path, capsys):
    "The plateau script on a small DeepBind pair: fit's restart sets the rate back; the 'keep' rule lets it go on halving."
    _ctcf_pair(tmp_path)
    stuck = '"epochs": 6, "patience": 0, "lr": 1e-9, "lr_step": 1, "restart_below": 1.0'  # restarts after epochs 1 and 2, stops after 3
    reset, keep, early = load('rnn_plateau').main([str(tmp_path), 'CTCF', '0', '{%s}' % stuck, '{%s, "restart_keeps_lr": true}' % stuck,
                                                   '{"epochs": 4, "lr": 1e-9, "patience": null, "restart_check": 1, "restart_below": 1.0}'])
    out = capsys.readouterr().out
    assert out.count('|') == 6, out                                       # two restarts marked in each of the three runs
    for h in (keep, reset, early): assert [r['epoch'] for r in h.records if r.get('restart')] == [1, 2], h.records
    assert reset['lr'] == [1e-9 / 2] * 3, reset['lr']                     # fit's rule: back to its start at each restart
    assert keep['lr'] == [1e-9 / 2, 1e-9 / 4, 1e-9 / 8], keep['lr']      # the 'keep' rule: the rate goes on halving through restarts
    assert (len(reset.records), reset.stopped, len(early.records)) == (3, 'early stopping', 4)  # early: restarts without patience
    import deepmotif.train as t
    assert t._reinitialise.__module__ == 'deepmotif.train' and t._patience_over.__module__ == 'deepmotif.train'  # put back


def test_restart_screen_decides(tmp_path, capsys):
    "The screen stops a run at its first restart, or once it reaches restart_below; a run that does neither runs to the end."
    _ctcf_pair(tmp_path)
    m = load('restart_screen')
    stuck = m.main([str(tmp_path), '--seeds', '0', '1', '--fit', '{"epochs": 6, "patience": 0, "restart_below": 1.0}'])
    out = capsys.readouterr().out
    assert [(r['restarts'], r['epoch'], len(r['trajectory'])) for r in stuck] == [(True, 1, 2)] * 2, stuck  # seen restarted after epoch 2
    assert out.count('restarts after epoch 1') == 2 and '2 of 2 runs restart' in out, out
    d = m.find_datasets(tmp_path)[0]
    free = m.screen(d, 'rnn', 0, restart_below=0.0, epochs=6)        # any AUROC reaches 0: decided after epoch 1, no restart
    assert (free['restarts'], free['epoch'], len(free['trajectory'])) == (False, 1, 1), free
    ran = m.screen(d, 'rnn', 0, restart_below=1.0, restarts=0, epochs=2)  # cannot restart, never reaches 1.0: both epochs
    assert (ran['restarts'], ran['epoch'], len(ran['trajectory'])) == (False, None, 2), ran


def test_readme_comparison_matches_recorded_runs():
    "The README's three-architecture table is what the recorded runs in benchmarks/results/benchmark_seeds_* say."
    import numpy as np
    root = Path(__file__).parents[1]
    readme, rows_of = (root / 'README.md').read_text(), load('seeds_summary').rows_of
    for arch, label, folder in (('cnn', 'CNN', 'cnn'), ('rnn', 'RNN', 'rnn'), ('cnn-rnn', 'CNN-RNN', 'crnn')):
        rows = rows_of([root / 'benchmarks' / 'results' / f'benchmark_seeds_{folder}'], [arch])
        assert len(rows) == 39 and len({(r['dataset'], r['seed']) for r in rows}) == 39, (arch, len(rows))  # 13 sets x 3 seeds
        v = np.array([r['test_auroc'] for r in rows])
        below = sum(r['test_auroc'] < r['pwm_auroc'] for r in rows)
        low = min(rows, key=lambda r: r['test_auroc'])
        restarted = sum(r['restarts'] > 0 for r in rows)
        line = (f"| {label} | {v.mean():.3f} ± {v.std(ddof=1):.3f} | {low['test_auroc']:.3f} ({low['tf']}; PWM "
                f"{low['pwm_auroc']:.3f}) | {below} | {int((v < 0.6).sum())} | {f'{restarted} runs' if restarted else 0} |")
        assert line in readme, line


def test_grammar_seeds_records_each_run_and_resumes(tmp_path, capsys):
    "The seeds study writes one row per run (per-epoch validation AUROC, in-silico spacing response) and skips runs already recorded."
    mod, out = load('grammar_seeds'), tmp_path / 'runs.tsv'
    argv = ['--n', '200', '--epochs', '2', '--archs', 'cnn', '--seeds', '0', '--threads', '1', '--recipes', 'default', 'lr1e-3', '--out', str(out)]
    assert mod.main(argv) == 0
    rows = out.read_text().splitlines()
    assert rows[0].split('\t') == mod.FIELDS and len(rows) == 3, rows
    first = dict(zip(mod.FIELDS, rows[1].split('\t')))
    assert first['recipe'] == 'default' and int(first['epochs_run']) == 2 and len(first['valid_auroc_by_epoch'].split()) == 2
    assert 0 <= int(first['peak_gap']) <= 20
    capsys.readouterr()
    assert mod.main(argv) == 0  # everything recorded: nothing trained again, the summary read from the file
    printed = capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 3 and 'task=' not in printed
    assert '| spi1-cebpb | cnn | lr1e-3 | 1 | 0 |' in printed, printed


def test_grammar_seeds_response_finds_a_planted_rule():
    "The spacing response of a model that scores exactly 'A then B at the task's gap' peaks at that gap, and not in reverse."
    mod = load('grammar_seeds')
    a, b, gap, near = mod.TASKS['spi1-cebpb']
    assert near == 0 and mod.TASKS['spi1-cebpb-near2'][:3] == (a, b, gap)
    A, B = (one_hot_t(mod.consensus(m)) for m in (a, b))
    w = torch.cat([A, torch.zeros(4, gap), B], 1)  # a filter of the whole composite element

    class Rule(torch.nn.Module):
        def forward(self, x): return torch.nn.functional.conv1d(x, w[None]).amax(-1)

    r = mod.response(Rule(), 'spi1-cebpb', n_background=20)
    peak, height, at_gap, rev = r['peak_gap'], r['peak_height'], r['at_gap'], r['reversed_at_gap']
    assert peak == gap and height > 3 and at_gap > rev + 3, (peak, height, at_gap, rev)
    row = dict(test_auroc=0.99, peak_gap=peak, at_gap=at_gap, reversed_at_gap=rev)
    assert mod.learned(row, 'spi1-cebpb') and mod.learned(row, 'spi1-cebpb-near2')
    assert not mod.learned(dict(row, reversed_at_gap=at_gap - 1), 'spi1-cebpb')  # no order preference: not learned
    assert mod.learned(dict(row, peak_gap=gap + 3), 'spi1-cebpb') and not mod.learned(dict(row, peak_gap=gap + 3), 'spi1-cebpb-near2')


def one_hot_t(seq):
    from deepmotif.data import one_hot
    return torch.as_tensor(one_hot([seq])[0], dtype=torch.float32)


def test_grammar_seeds_leaving_counts_what_an_early_restart_would_cut(capsys):
    "The plateau table: first epoch at validation AUROC >= 0.75 per run, and the runs that left it after epoch k that learned."
    mod = load('grammar_seeds')
    row = lambda arch, curve, auc, at, rev: dict(task='spi1-cebpb', arch=arch, valid_auroc_by_epoch=curve, test_auroc=auc,
                                                 at_gap=at, reversed_at_gap=rev, peak_gap=4)
    rows = [row('rnn', '0.50 0.55 0.60 0.62 0.80 0.97', 0.98, 9, 1),   # leaves at epoch 5, learns
            row('rnn', '0.50 0.51 0.52 0.50 0.51 0.52', 0.52, 0, 0),   # never leaves
            row('rnn', '0.80 0.90 0.99', 0.99, 1, 0.5),               # leaves at epoch 1, no order preference
            row('cnn', '0.52 0.60 0.70 0.90', 0.99, 12, -3)]           # leaves at epoch 4, learns
    mod.leaving(rows)
    out = capsys.readouterr().out
    assert '| rnn | 3 | 3 (1-5) | 1 | 1 of 1 | 1 of 1 | 0 of 0 |' in out, out
    assert '| cnn | 1 | 4 (4-4) | 0 | 1 of 1 | 0 of 0 | 0 of 0 |' in out, out


def test_grammar_seeds_recipe_epochs_override_the_budget(tmp_path, monkeypatch):
    "A recipe that sets epochs (epochs60) trains that many, whatever --epochs says."
    mod = load('grammar_seeds')
    monkeypatch.setitem(mod.RECIPES, 'epochs3', dict(epochs=3, patience=None))
    r = mod.run('spi1-cebpb', 'cnn', 'epochs3', 1, 0, 200, 1)
    assert r['epochs_run'] == 3 and len(r['valid_auroc_by_epoch'].split()) == 3, r


def test_rnn_grammar_reports_signal_training_and_views(monkeypatch, capsys):
    "The RNN-grammar script on a tiny run: the first-order signal of the task, the per-epoch loss, and the views' figures."
    mod = load('rnn_grammar')
    monkeypatch.setattr('sys.argv', ['rnn_grammar.py', '--tasks', 'spi1-cebpb', '--archs', 'rnn', '--epochs', '2', '--n', '200'])
    mod.main()
    out = capsys.readouterr().out
    m = re.search(r'A present ([\d.]+), B present ([\d.]+), both present ([\d.]+)', out)
    assert m, out
    a, b, both = map(float, m.groups())
    assert 0.5 < a < 1 and 0.5 < b < 1 and both > max(a, b), (a, b, both)  # every positive has both; some negatives too
    assert len(re.search(r'training loss: (.*)', out)[1].split()) == 2
    row = re.search(r'\| spi1-cebpb \| rnn \| ([\d.]+) \| ([+-][\d.]+) \| ([\d.]+) \| ([\d.]+) \|', out)
    assert row and all(0 <= float(x) <= 1 for x in row.groups()[2:]), out


def test_genome_windows_stages_cut_the_same_windows(tmp_path, monkeypatch, capsys):
    "The genome benchmark on a tiny generated genome: windows equal to a pyfaidx loop, and the stage floor cuts the same ones."
    mod = load('genome_windows')
    monkeypatch.setattr('sys.argv', ['genome_windows.py', str(tmp_path), '--size-gb', '0.0002', '--n', '300', '--length', '100',
                                     '--chroms', '2', '--stages'])
    mod.main()
    out = capsys.readouterr().out
    assert 'genome_windows == pyfaidx loop: True' in out and 'again (memory warm)' in out, out
    assert re.search(r'stages of a bytes-only cut .*parse BED [\d.]+ s.*one_hot [\d.]+ s; cut [\d.]+ s', out), out
