"Parsers on every format and every bad input; encoding and shuffling against slow references."
import gzip, random, warnings
from collections import Counter
import numpy as np
import pytest
import torch
from deepmotif.data import (DeepMotifError, one_hot, decode, dinucleotide_shuffle, read_sequences, SeqData,
                            train_valid_split, synthetic_dataset, planted_mask, revcomp)
from conftest import write_fasta, write_deepbind


def slow_one_hot(seqs):
    X = torch.zeros(len(seqs), 4, len(seqs[0]))
    for i, s in enumerate(seqs):
        for j, c in enumerate(s.upper()):
            if c in 'ACGT': X[i, 'ACGT'.index(c), j] = 1
    return X


def test_one_hot_matches_slow_reference():
    rng = random.Random(0)
    seqs = [''.join(rng.choice('ACGTNacgtnRY') for _ in range(57)) for _ in range(40)]
    assert torch.equal(one_hot(seqs), slow_one_hot(seqs))
    assert decode(one_hot(seqs)) == [s.upper().replace('R', 'N').replace('Y', 'N') for s in seqs]


def test_one_hot_centre_rule():
    X = one_hot(['AAAACCCCGG', 'TT'], length=4)
    assert decode(X) == ['ACCC', 'NTTN']


@pytest.mark.parametrize('n', [2, 3, 10, 101, 1000])
def test_dinucleotide_shuffle_invariants(n):
    rng = random.Random(n)
    for k in range(20):
        s = ''.join(rng.choice('ACGTN' if k % 2 else 'AC') for _ in range(n))
        t = dinucleotide_shuffle(s, seed=k)
        assert Counter(zip(s, s[1:])) == Counter(zip(t, t[1:]))
        assert (t[0], t[-1], len(t)) == (s[0], s[-1], len(s))


def test_dinucleotide_shuffle_is_uniform_over_eulerian_paths():
    # 'AACAGA' -> its shuffles are the Eulerian paths; count them by brute force and check frequencies are flat
    s = 'ACAGATACA'
    from itertools import permutations
    target = Counter(zip(s, s[1:]))
    valid = {''.join(p) for p in permutations(s) if p[0] == s[0] and p[-1] == s[-1] and Counter(zip(p, p[1:])) == target}
    draws = Counter(dinucleotide_shuffle([s] * 6000, seed=1))
    assert set(draws) == valid
    expected = 6000 / len(valid)
    assert max(abs(c - expected) for c in draws.values()) < 5 * expected ** 0.5


def test_read_deepmotif_fasta(tmp_path):
    p = tmp_path / 'train.fa'
    p.write_text('> 1\nACGT\n> 0\nTTTT\n>1\nAC\nGT\n')
    d = read_sequences(p)
    assert d.labels.tolist() == [1, 0, 1] and d.seqs == ['ACGT', 'TTTT', 'ACGT']


def test_read_deepbind_gz_with_negatives(tmp_path, small):
    pos = [s for s, l in zip(small.seqs, small.labels) if l == 1]
    p = write_deepbind(tmp_path / 'TF_AC.seq.gz', pos, [1] * len(pos))
    d = read_sequences(p, seed=3)
    assert len(d) == 2 * len(pos) and d.labels.sum() == len(pos)
    for s, t in zip(d.seqs[:len(pos)], d.seqs[len(pos):]):
        assert Counter(zip(s, s[1:])) == Counter(zip(t, t[1:]))
    assert read_sequences(p, seed=3).seqs == d.seqs and read_sequences(p, seed=4).seqs != d.seqs


def test_read_deepbind_test_set_keeps_labels(tmp_path, small):
    p = write_deepbind(tmp_path / 'TF_B.seq', small.seqs, small.labels)
    d = read_sequences(p)
    assert d.seqs == small.seqs and d.labels.tolist() == small.labels.tolist()


def test_read_fasta_with_labels_file_and_field(tmp_path):
    (tmp_path / 'a.fa').write_text('>r1\nACGT\n>r2\nGGGG\n')
    (tmp_path / 'a.txt').write_text('0\n1\n')
    assert read_sequences(tmp_path / 'a.fa', labels=tmp_path / 'a.txt').labels.tolist() == [0, 1]
    (tmp_path / 'b.fa').write_text('>r1 cell=K562 label=1\nACGT\n>r2 label=0\nGGGG\n')
    d = read_sequences(tmp_path / 'b.fa')
    assert d.ids == ['r1', 'r2'] and d.labels.tolist() == [1, 0]


BAD = [  # (file name, content, fragment the message must contain)
    ('empty.fa', b'', 'empty file'),
    ('blank.fa', b'\n\n  \n', 'empty file'),
    ('header_only.fa', b'>1\n', 'has no sequence'),
    ('letters.fa', b'>1\nACGT\n>0\nAC!T\n', 'line 4 (record 2)'),
    ('digits.seq', b'A\ts1\tAC1T\t1\n', "'1' at position 2"),
    ('label3.fa', b'>x label=3\nACGT\n', "label '3'"),
    ('nolabels.fa', b'>a\nACGT\n>b\nACGT\n', 'no labels'),
    ('somelabels.fa', b'>1\nACGT\n>b\nACGT\n', 'line 3 (record 2)'),
    ('bound.seq', b'FoldID\tEventID\tseq\tBound\nA\ts\tACGT\t0.5\n', "label '0.5'"),
    ('missing_bound.seq', b'FoldID\tEventID\tseq\tBound\nA\ts\tACGT\t1\nA\ts2\tACGT\n', 'line 3 (record 2): 3 columns'),
    ('mixed1.fa', b'>1\nACGT\nA\ts\tACGT\t1\n', 'mixed'),
    ('mixed2.seq', b'A\ts\tACGT\t1\n>1\nACGT\n', 'mixed'),
    ('prose.txt', b'this is not a sequence file\n', 'unknown format'),
    ('binary.bin', bytes(range(256)) * 4, 'binary'),
    ('latin1.fa', b'>1\nAC\xe9T\n', 'not text'),
    ('trunc.seq.gz', gzip.compress(b'FoldID\tEventID\tseq\tBound\n' + b'A\ts\tACGT\t1\n' * 500)[:-30], 'truncated gzip'),
    ('notgz.seq.gz', b'\x1f\x8bnot really gzip', 'gzip'),
]


@pytest.mark.parametrize('name,content,fragment', BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_clear_error(tmp_path, name, content, fragment):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(DeepMotifError) as e:
        read_sequences(p)
    assert fragment in str(e.value) and name in str(e.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DeepMotifError, match='no such file'): read_sequences(tmp_path / 'nope.fa')
    with pytest.raises(DeepMotifError, match='is a directory'): read_sequences(tmp_path)


def test_non_strict_reads_unknown_letters_as_n(tmp_path):
    p = tmp_path / 'x.fa'
    p.write_text('>1\nACXT\n>0\nACGT\n')
    with pytest.warns(UserWarning, match='position 2'):
        d = read_sequences(p, strict=False)
    assert decode(d.X)[0] == 'ACNT'


def test_split_is_stratified_and_disjoint(small):
    tr, va = train_valid_split(small, 0.25, seed=0)
    assert len(tr) + len(va) == len(small) and not set(tr.ids) & set(va.ids)
    assert abs(va.labels.mean() - small.labels.mean()) < 0.02


@pytest.mark.parametrize('task', ['single', 'grammar'])
def test_synthetic_ground_truth(task):
    d = synthetic_dataset(task, n=300, seed=1)
    mask = planted_mask(d)
    assert mask.shape == (300, d.length)
    def llr(ppm, site): return sum(np.log(ppm['ACGT'.index(c), j] * 4 + 1e-9) for j, c in enumerate(site))
    planted, background = {}, {}
    rng = np.random.default_rng(0)
    for i in range(len(d)):
        for mid, s, e, strand in d.meta['sites'][i]:
            ppm = d.meta['motifs'][mid]
            site = d.seqs[i][s:e] if strand == '+' else revcomp(d.seqs[i][s:e])
            planted.setdefault(mid, []).append(llr(ppm, site))
            free = np.flatnonzero(~mask[i][:d.length - (e - s) + 1])
            b = int(rng.choice(free)) if len(free) else 0
            background.setdefault(mid, []).append(llr(ppm, d.seqs[i][b:b + e - s]))
    for mid in planted:  # planted sites score like motif instances, unplanted windows like background
        assert np.mean(planted[mid]) > 3 and np.mean(background[mid]) < 0, (mid, np.mean(planted[mid]), np.mean(background[mid]))


def test_matched_single_task_classes_have_the_same_composition():
    d = synthetic_dataset('single', n=2000, seed=2, matched=True)
    gc = np.array([(s.count('G') + s.count('C')) / len(s) for s in d.seqs])
    pos, neg = gc[d.labels == 1], gc[d.labels == 0]
    assert abs(pos.mean() - neg.mean()) < 3 * np.sqrt(pos.var() / len(pos) + neg.var() / len(neg))
    for (ctl, sites, lab) in zip(d.meta['controls'], d.meta['sites'], d.labels):
        assert (ctl is None) == bool(lab)  # every negative carries a shuffled control, no positive does
