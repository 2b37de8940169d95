"Training reaches the accuracy the built-in task allows, for each architecture."
import pytest
from deepmotif.train import evaluate


@pytest.mark.parametrize('arch', ['cnn', 'rnn', 'cnn-rnn'])
def test_single_task_test_auroc(trained, single_task, arch):
    r = evaluate(trained[arch], single_task[2])
    assert r['auroc'] >= 0.95, (arch, r)


def test_a_run_that_never_leaves_chance_says_so(tmp_path):
    "Labels that say nothing: fit warns, History and the model's metrics record it, a saved model keeps it, the page marks it."
    import warnings
    import numpy as np
    import torch
    from deepmotif.data import SeqData, synthetic_dataset, train_valid_split
    from deepmotif.models import build_model, save_model, load_model
    from deepmotif.train import fit
    from deepmotif.train import CHANCE_AUROC, chance_note
    from deepmotif.views import ViewSet, panel_pngs
    rand = synthetic_dataset('single', n=400, seed=5)
    noise = SeqData(rand.ids, rand.seqs, np.random.default_rng(0).permutation(rand.labels))
    tr, va = train_valid_split(noise, 0.25, seed=0)
    torch.manual_seed(0); lost = build_model('cnn', n_filters=4)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        h = fit(lost, tr, va, epochs=2, restarts=0, verbose=False)
    assert h.best_auroc < CHANCE_AUROC and h.at_chance and lost.metrics['at_chance'] is True
    assert sum('never left chance' in str(x.message) for x in w) == 1
    tr2, va2 = train_valid_split(rand, 0.25, seed=0)
    torch.manual_seed(0); good = build_model('cnn', n_filters=8)
    with warnings.catch_warnings(record=True) as w2:
        warnings.simplefilter('always')
        h2 = fit(good, tr2, va2, epochs=12, lr=3e-3, verbose=False)
    assert h2.best_auroc > 0.75 and not h2.at_chance and chance_note(good) == ''
    assert not any('chance' in str(x.message) for x in w2)
    save_model(lost, tmp_path / 'lost', seq_length=101, metrics=lost.metrics)
    back = load_model(tmp_path / 'lost')
    assert chance_note(back) == chance_note(lost) != ''                        # a saved model keeps the verdict
    vs = ViewSet({'lost': back, 'good': good}, rand.subset(range(4)), opt_steps=0)
    out = panel_pngs(vs, 0)
    assert out['messages'] == {} and ('model', 'lost') in out                  # drawn, and said to be at chance
    assert set(out['notes']) == {'lost'} and 'at chance (validation AUROC' in out['notes']['lost'] and 'learned nothing' in out['notes']['lost']
