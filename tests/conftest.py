"Shared fixtures: small files in every supported format, written fresh for each test."
import gzip
import pytest
import torch
from deepmotif.data import synthetic_dataset


def write_fasta(path, seqs, labels):
    path.write_text(''.join(f'>{l}\n{s}\n' for s, l in zip(seqs, labels)))
    return path


def write_deepbind(path, seqs, labels):
    rows = 'FoldID\tEventID\tseq\tBound\n' + ''.join(f'A\tseq_{i:05d}_peak\t{s}\t{l}\n' for i, (s, l) in enumerate(zip(seqs, labels)))
    if str(path).endswith('.gz'):
        with gzip.open(path, 'wt') as f: f.write(rows)
    else: path.write_text(rows)
    return path


@pytest.fixture
def small():
    return synthetic_dataset('single', n=200, seed=5)


@pytest.fixture(params=['cpu', pytest.param('cuda', marks=pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device'))])
def device(request):
    return request.param
