"The GPU-vs-CPU benchmark script runs (CPU column only here) and refuses cuda without a device."
import importlib.util, re
from pathlib import Path
import pytest, torch

pytestmark = pytest.mark.usefixtures('one_thread')
SCRIPT = Path(__file__).parents[1] / 'benchmarks' / 'gpu_vs_cpu.py'


def load():
    spec = importlib.util.spec_from_file_location('gpu_vs_cpu', SCRIPT)
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
