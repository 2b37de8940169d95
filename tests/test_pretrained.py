"""The models shipped with the package: every card's figures match a re-evaluation (on the shipped sample always; on the
full test file, with the PWM baseline, when the ENCODE sets are beside the repository), the weights are float16 and
small, every command that takes a model folder takes `pretrained:NAME`, and the wheel carries them."""
import json, os, struct, subprocess, sys, zipfile
from pathlib import Path
import numpy as np
import pytest
import torch
import deepmotif
from deepmotif.core import DeepMotifError
from deepmotif.models import pretrained_root, pretrained_names, load_model, read_config
from deepmotif.zoo import pretrained, load_pretrained, pretrained_sample, split_dataset_name
from deepmotif.train import evaluate

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get('DEEPMOTIF_DATA', ROOT.parent / 'shared' / 'data'))
CARDS = pretrained()
FIELDS = {'name', 'tf', 'cell', 'antibody', 'lab', 'dataset', 'arch', 'source', 'command', 'seed', 'n_train', 'n_test',
          'test_auroc', 'test_auprc', 'test_auroc_float32', 'pwm_id', 'pwm_name', 'pwm_auroc', 'saliency_motif', 'sample', 'weights'}
pytestmark = pytest.mark.usefixtures('one_thread')


def safetensors_dtypes(path: Path) -> set:
    "The dtypes in a safetensors file's header, read without the library."
    raw = path.read_bytes()
    (n,) = struct.unpack('<Q', raw[:8])
    return {v['dtype'] for k, v in json.loads(raw[8:8 + n]).items() if k != '__metadata__'}


def test_the_package_ships_a_cnn_and_a_cnn_rnn_for_each_of_the_13_sets():
    assert {(c['dataset'], c['arch']) for c in CARDS} >= {(d, a) for d in {c['dataset'] for c in CARDS} for a in ('cnn', 'cnn-rnn')}
    assert len({c['dataset'] for c in CARDS}) == 13 and len(CARDS) == len(pretrained_names()) >= 26
    assert sorted(c['name'] for c in CARDS) == pretrained_names()


@pytest.mark.parametrize('card', CARDS, ids=[c['name'] for c in CARDS])
def test_card_matches_its_model_and_its_shipped_sample(card):
    assert FIELDS <= set(card), FIELDS - set(card)
    tf, cell, antibody, lab = split_dataset_name(card['dataset'])
    assert (card['tf'], card['cell'], card['antibody'], card['lab']) == (tf, cell, antibody, lab)
    assert card['name'] == f"{tf}_{cell}_{card['arch']}" and f"--archs {card['arch']} --seed {card['seed']}" in card['command']
    folder = pretrained_root() / card['name']
    assert safetensors_dtypes(folder / 'model.safetensors') == {'F16'}
    assert read_config(folder)['arch'] == card['arch']
    model = load_pretrained(card['name'])
    assert all(p.dtype == torch.float32 for p in model.parameters()) and not model.training
    assert model.tasks == [tf] and model.card == card
    sample = pretrained_sample(card['name'])
    assert len(sample) == card['sample']['n'] <= 200 and int(sample.labels.sum()) == card['sample']['n_bound'] == len(sample) // 2
    r = evaluate(model, sample)
    assert abs(r['auroc'] - card['sample']['auroc']) < 1e-6 and abs(r['auprc'] - card['sample']['auprc']) < 1e-6
    # float16 storage costs nothing that matters: the AUROC after the round trip is within 0.005 of the float32 model's
    assert abs(card['test_auroc'] - card['test_auroc_float32']) < 0.005, card
    assert card['weights']['bytes'] == (folder / 'model.safetensors').stat().st_size


def test_readme_table_is_the_cards():
    "The README's table of shipped models says what the cards say, row for row (so a rebuilt model cannot leave it stale)."
    readme = (ROOT / 'README.md').read_text()
    rows = [l for l in readme.splitlines() if l.startswith('| ') and l.count('|') == 8 and ('| cnn |' in l or '| cnn-rnn |' in l)]
    want = [f"| {c['tf']} | {c['cell']} | {c['arch']} | {c['test_auroc']:.3f} | {c['test_auprc']:.3f} | {c['pwm_auroc']:.3f} | "
            f"{c['saliency_motif']['tf_name']} {c['saliency_motif']['jaspar_id']} |" for c in pretrained()]
    assert rows == want, '\n'.join(r for r in rows if r not in want)


def test_pretrained_names_in_every_command_that_takes_a_model(tmp_path):
    "evaluate, predict, explain and dashboard read pretrained:NAME as the shipped folder; an unknown name is a one-line refusal."
    name = 'REST_GM12878_cnn'
    sample = pretrained_root() / pretrained(name.rsplit('_', 1)[0], arch='cnn')[0]['sample']['file']
    run = lambda *a: subprocess.run([sys.executable, '-m', 'deepmotif', *a], capture_output=True, text=True, cwd=tmp_path)
    r = run('evaluate', f'pretrained:{name}', str(sample), '--json')
    assert r.returncode == 0, r.stderr
    assert abs(json.loads(r.stdout)['auroc'] - load_pretrained(name).card['sample']['auroc']) < 1e-6
    r = run('predict', f'pretrained:{name}', str(sample), '--out', 'p.tsv')
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / 'p.tsv').read_text().splitlines()) == 201
    r = run('dashboard', f'pretrained:{name}', f'pretrained:{name}-rnn', str(sample), '--out', 'page.html', '--n-shown', '1',
            '--no-motifs', '--opt-steps', '5')
    assert r.returncode == 0, r.stderr
    page = (tmp_path / 'page.html').read_text()
    assert f'alt="{name}: saliency map"' in page and f'alt="{name}-rnn: saliency map and temporal scores"' in page
    r = run('evaluate', 'pretrained:REST_GM12878_lstm', str(sample))
    assert r.returncode == 2 and 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert 'no such pretrained model; did you mean pretrained:REST_GM12878_cnn' in r.stderr
    r = run('pretrained', '--tf', 'rest')
    assert r.returncode == 0 and f'pretrained:{name} ' in r.stdout and 'pretrained:CTCFL' not in r.stdout, r.stdout


def test_a_damaged_cards_file_is_refused(tmp_path, monkeypatch):
    import deepmotif.zoo as P
    bad = tmp_path / 'cards.json'
    bad.write_text('{"format": "something else", "models": []}')
    monkeypatch.setattr(P, 'pretrained_root', lambda: tmp_path)
    with pytest.raises(DeepMotifError, match='not a deepmotif cards file'): P.pretrained()
    bad.write_text('{"format": ')
    P._CARDS.clear()
    with pytest.raises(DeepMotifError, match='not valid JSON'): P.pretrained()
    P._CARDS.clear()


@pytest.mark.slow
def test_the_wheel_carries_the_models_and_stays_small(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(tmp_path), str(ROOT)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = tmp_path.glob('deepmotif-*.whl')
    assert wheel.stat().st_size < 15e6, wheel.stat().st_size
    names = set(zipfile.ZipFile(wheel).namelist())
    for c in CARDS:
        assert {f"deepmotif/pretrained/{c['name']}/config.json", f"deepmotif/pretrained/{c['name']}/model.safetensors",
                f"deepmotif/pretrained/{c['sample']['file']}"} <= names, c['name']
    assert 'deepmotif/pretrained/cards.json' in names


needs_data = pytest.mark.skipif(not (DATA / 'encode').is_dir(), reason=f'the ENCODE sets are not at {DATA} (set DEEPMOTIF_DATA)')


@pytest.mark.slow
@needs_data
def test_cards_match_a_re_evaluation_on_the_full_test_files():
    "Test AUROC/AUPRC of every shipped model and the PWM baseline, on the data set's whole test file, as the card says; the sample is drawn from it."
    from deepmotif.benchmark import find_datasets, _pwm_baseline
    from deepmotif.data import read_sequences
    sets = {d.name: d for d in find_datasets(DATA)}
    tests = {}
    for c in CARDS:
        d = sets[c['dataset']]
        if d.name not in tests: tests[d.name] = read_sequences(d.test, seed=c['seed'] + 2)   # as `benchmark` reads it
        te = tests[d.name]
        r = evaluate(load_pretrained(c['name']), te)
        assert len(te) == c['n_test'] and abs(r['auroc'] - c['test_auroc']) < 1e-6 and abs(r['auprc'] - c['test_auprc']) < 1e-6, c['name']
        base = _pwm_baseline(d, te)
        assert base['pwm_id'] == c['pwm_id'] and abs(base['pwm_auroc'] - c['pwm_auroc']) < 1e-9, c['name']
        sample = pretrained_sample(c['name'])
        where = {s: i for i, s in enumerate(te.ids)}
        idx = [where[i] for i in sample.ids]
        assert [te.seqs[i] for i in idx] == sample.seqs and np.array_equal(te.labels[idx], sample.labels), c['name']


@pytest.mark.slow
@needs_data
def test_top_saliency_motif_of_a_card_is_found_again():
    "The REST and CTCFL CNN-RNNs: the top saliency motif, recomputed as the build script does, gets the card's JASPAR match."
    from deepmotif.benchmark import find_datasets, _prepare
    from deepmotif.motifs import find_motifs, match_motifs
    sets = {d.name: d for d in find_datasets(DATA)}
    for name in ('REST_GM12878_cnn-rnn', 'CTCFL_K562_cnn-rnn'):
        c = pretrained(name.rsplit('_', 1)[0], arch='cnn-rnn')[0]
        tr = _prepare(sets[c['dataset']], c['max_train'], c['seed'])[0]
        rng = np.random.default_rng(c['seed'])
        ex = tr.subset(np.sort(rng.choice(len(tr), min(len(tr), 4000), replace=False)))
        ms = find_motifs(load_pretrained(name), ex, source='saliency', max_motifs=1, seed=c['seed'])
        top = match_motifs(ms[:1], top=1)
        assert top[0]['jaspar_id'] == c['saliency_motif']['jaspar_id'], (name, top[0], c['saliency_motif'])


@pytest.mark.slow
def test_build_script_makes_cards_that_the_package_reads(tmp_path, monkeypatch):
    "benchmarks/build_pretrained.py on a toy benchmark run: float16 folders, a half-bound sample from the test file, cards whose figures re-evaluate."
    from conftest import write_fasta
    from deepmotif.benchmark import benchmark
    from deepmotif.data import synthetic_dataset
    import deepmotif.models as M, deepmotif.zoo as P
    data = tmp_path / 'data' / 'CTCF_TOY_anti-CTCF_ToyLab'
    data.mkdir(parents=True)
    tr, te = synthetic_dataset('single', n=400, seed=0), synthetic_dataset('single', n=120, seed=1)
    write_fasta(data / 'train.fa', tr.seqs, tr.labels); write_fasta(data / 'test.fa', te.seqs, te.labels)
    benchmark(tmp_path / 'data', tmp_path / 'run', archs=['cnn'], epochs=2, max_train=300, seed=3, verbose=False)
    out = tmp_path / 'shipped'
    r = subprocess.run([sys.executable, str(ROOT / 'benchmarks' / 'build_pretrained.py'), str(tmp_path / 'data'), str(tmp_path / 'run'),
                        '--out', str(out), '--sample', '40', '--max-explain', '100'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert '| CTCF_TOY_cnn | CTCF | TOY | cnn |' in r.stdout, r.stdout
    monkeypatch.setattr(M, 'pretrained_root', lambda: out); monkeypatch.setattr(P, 'pretrained_root', lambda: out)
    P._CARDS.clear()
    try:
        (card,) = P.pretrained()
        assert (card['antibody'], card['lab'], card['seed'], card['max_train']) == ('anti-CTCF', 'ToyLab', 3, 300)
        assert safetensors_dtypes(out / 'CTCF_TOY_cnn' / 'model.safetensors') == {'F16'}
        sample, model = P.pretrained_sample('CTCF_TOY_cnn'), P.load_pretrained('CTCF_TOY_cnn')
        assert len(sample) == 40 and int(sample.labels.sum()) == 20 and set(sample.seqs) <= set(te.seqs)
        assert abs(evaluate(model, sample)['auroc'] - card['sample']['auroc']) < 1e-6
        full = evaluate(model, te)
        assert abs(full['auroc'] - card['test_auroc']) < 1e-6 and card['pwm_id'].startswith('MA0139')
        assert card['n_test'] == 120 and card['n_train'] == 270
    finally: P._CARDS.clear()
