"Class optimization of trained models: the optimized input holds the planted motif (ground truth), and survives MEME."
import numpy as np
import pytest
from deepmotif.data import motif_by_name
from deepmotif.optimize import optimize_input, best_alignment, read_meme, write_meme
from deepmotif.core import DeepMotifError


@pytest.mark.parametrize('arch', ['cnn', 'cnn-rnn'])
def test_optimized_input_contains_planted_motif(trained, arch, tmp_path):
    _, ctcf = motif_by_name('CTCF')
    res = optimize_input(trained[arch], steps=1000, seed=0)
    al = best_alignment(res.ppm, ctcf)
    assert al.r >= 0.6, (arch, al)
    write_meme(tmp_path / 'opt.meme', {arch: res.ppm})
    assert np.allclose(read_meme(tmp_path / 'opt.meme')[arch], res.ppm.numpy(), atol=1e-5)



def test_read_meme_refuses_bytes_that_are_not_text(tmp_path):
    p = tmp_path / 'm.meme'
    p.write_bytes(b'MEME version 4\n\nALPHABET= ACGT\n\nMOTIF m1\nletter-probability matrix: alength= 4 w= 1\n0.25 0.25 \xe9 0.25\n')
    with pytest.raises(DeepMotifError, match=r'm\.meme line 7: not UTF-8 text \(byte 0xe9\); expected a MEME motif file'): read_meme(p)
    from deepmotif.motifs import read_motifs
    with pytest.raises(DeepMotifError, match='line 7'): read_motifs(p)
