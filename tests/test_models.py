"Model shapes, save/load round trips, refusal of foreign or unsafe model folders."
import json, pickle, os
import pytest
import torch
from deepmotif.models import build_model, save_model, load_model, ARCHS
from deepmotif.data import DeepMotifError


@pytest.mark.parametrize('arch', list(ARCHS))
@pytest.mark.parametrize('L', [30, 101, 257])
def test_output_shapes(arch, L):
    m = build_model(arch).eval()
    assert m(torch.rand(3, 4, L)).shape == (3, 1)


def test_paper_sizes():
    cnn, rnn, crnn = (build_model(a) for a in ARCHS)
    assert [c.kernel_size[0] for c in cnn.convs if isinstance(c, torch.nn.Conv1d)] == [9, 5, 3]
    assert all(c.out_channels == 128 for c in cnn.convs if isinstance(c, torch.nn.Conv1d))
    assert rnn.lstm.hidden_size == 32 and rnn.lstm.bidirectional and rnn.lstm.input_size == 4
    assert crnn.stem[0].kernel_size[0] == 9 and crnn.stem[0].out_channels == 128 and crnn.lstm.input_size == 128


@pytest.mark.parametrize('arch', list(ARCHS))
def test_save_load_round_trip(tmp_path, arch, device, monkeypatch):
    torch.manual_seed(0)
    m = build_model(arch, dropout=0.2).eval()
    save_model(m, tmp_path / arch, seq_length=101, metrics={'valid_auroc': 0.9})
    m2 = load_model(tmp_path / arch, device=device)
    X = torch.rand(4, 4, 101)
    # cuDNN computes convolutions and LSTMs in TF32 by default on recent GPUs (10-bit mantissa); full float32 here, so
    # that what is compared is the weights that came back, not the rounding of TF32
    monkeypatch.setattr(torch.backends.cudnn, 'allow_tf32', False)
    with torch.no_grad():
        a, b = m(X), m2(X.to(device)).cpu()
    # bit for bit on the same device; CUDA kernels round differently from the CPU's
    assert torch.equal(a, b) if device == 'cpu' else torch.allclose(a, b, atol=1e-5)
    cfg = json.loads((tmp_path / arch / 'config.json').read_text())
    assert cfg['arch'] == arch and cfg['hparams']['dropout'] == 0.2 and cfg['seq_length'] == 101


class Payload:
    def __reduce__(self):
        return (os.system, (f'touch {os.environ["DM_PAYLOAD"]}',))


def test_pickle_payload_is_refused_without_running(tmp_path, monkeypatch):
    target = tmp_path / 'pwned'
    monkeypatch.setenv('DM_PAYLOAD', str(target))
    save_model(build_model('cnn'), tmp_path / 'm')
    (tmp_path / 'm' / 'model.safetensors').write_bytes(pickle.dumps(Payload()))
    with pytest.raises(DeepMotifError, match='not a safetensors'):
        load_model(tmp_path / 'm')
    assert not target.exists()


def test_foreign_folders_are_refused(tmp_path):
    (tmp_path / 'a').mkdir()
    torch.save(build_model('cnn').state_dict(), tmp_path / 'a' / 'model.pt')
    with pytest.raises(DeepMotifError, match='no config.json'): load_model(tmp_path / 'a')
    (tmp_path / 'a' / 'config.json').write_text('[1, 2]')
    with pytest.raises(DeepMotifError, match='not a deepmotif model'): load_model(tmp_path / 'a')
    save_model(build_model('cnn', n_filters=8), tmp_path / 'b')
    cfg = json.loads((tmp_path / 'b' / 'config.json').read_text()); cfg['hparams']['n_filters'] = 16
    (tmp_path / 'b' / 'config.json').write_text(json.dumps(cfg))
    with pytest.raises(DeepMotifError, match='do not fit'): load_model(tmp_path / 'b')


def test_unknown_arch():
    with pytest.raises(DeepMotifError, match='must be one of'): build_model('lstm9')
