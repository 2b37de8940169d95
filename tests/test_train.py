"Training reaches the accuracy the built-in task allows, for each architecture."
import pytest
from deepmotif.train import evaluate


@pytest.mark.parametrize('arch', ['cnn', 'rnn', 'cnn-rnn'])
def test_single_task_test_auroc(trained, single_task, arch):
    r = evaluate(trained[arch], single_task[2])
    assert r['auroc'] >= 0.95, (arch, r)
