"Readers under fuzzing: generated, truncated, mutated and random files are read exactly or refused with a message."
import contextlib, gzip, io, json, os, pickle, re, signal, subprocess, sys, time, tracemalloc
from pathlib import Path
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
import deepmotif.data as data_mod
from deepmotif.data import DeepMotifError, DeepMotifWarning, read_sequences, iter_sequences, fit_length, one_hot, synthetic_dataset
from deepmotif.models import CNN, build_model, save_model, load_model
from deepmotif.train import fit, predict, evaluate, _load_checkpoint
from deepmotif.saliency import saliency
from deepmotif.cli import main, open_scores, evaluate_command, predict_command, explain_command
from conftest import write_fasta, write_deepbind

SCALE = float(os.environ.get('DEEPMOTIF_FUZZ_SCALE', '1'))  # e.g. 20 for a long fuzzing run


def fuzz(n: int):
    "Hypothesis settings for `n` examples (times DEEPMOTIF_FUZZ_SCALE), no deadline."
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


DNA = 'ACGTUNRYSWKMBDHV' + 'ACGTUNRYSWKMBDHV'.lower()  # every letter the readers accept
DNA_RE = re.compile(f'[{DNA}]+')
HEADER = ['FoldID', 'EventID', 'seq', 'Bound']


@pytest.fixture(scope='module')
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp('fuzz')


def _write(folder: Path, name: str, raw: bytes) -> Path:
    p = folder / name
    p.write_bytes(raw)
    return p


def _outcome(path, **kw):
    "('ok', ids, seqs, labels) or ('error', message) of read_sequences; any other exception fails the test."
    try: d = read_sequences(path, add_negatives=False, **kw)
    except DeepMotifError as e:
        assert path.name in str(e), str(e)
        return ('error', str(e))
    return ('ok', d.ids, d.seqs, None if d.labels is None else d.labels.tolist())


def _chunked_outcome(path, chunk_size, **kw):
    "The same as `_outcome`, through iter_sequences."
    try:
        ids, seqs, labs = [], [], []
        for c in iter_sequences(path, chunk_size, **kw):
            ids += c.ids; seqs += c.seqs; labs.append(c.labels)
    except DeepMotifError as e:
        assert path.name in str(e), str(e)
        return ('error', str(e))
    return ('ok', ids, seqs, None if labs[0] is None else np.concatenate(labs).tolist())


def _assert_sane(outcome, text: str):
    "A successful parse of arbitrary input: DNA sequences that stand in the text, 0/1 labels, one per record."
    if outcome[0] == 'error': return
    _, ids, seqs, labels = outcome
    assert len(ids) == len(seqs) >= 1 and (labels is None or len(labels) == len(seqs))
    assert labels is None or set(labels) <= {0, 1}
    flat = ''.join(''.join(l.split()) for l in re.split(r'\r\n|\r|\n', text) if not l.strip().startswith(';'))
    for s in seqs: assert DNA_RE.fullmatch(s) and s in flat, s
    for i in ids: assert re.fullmatch(r'seq\d+', i) or i in text, i
    assert len(seqs) <= sum(1 for l in re.split(r'\r\n|\r|\n', text) if l.strip())


# ---------------------------------------------------------------- generated files, and an independent reference parser

seqs_st = st.text(alphabet=DNA, min_size=1, max_size=40)
desc_st = st.text(alphabet=st.characters(blacklist_categories=('Cs',), blacklist_characters='\r\n\x00='), max_size=12)
eol_st = st.sampled_from(['\n', '\r\n', '\r'])


@st.composite
def fasta_lines(draw, labelled=None):
    "Lines of a FASTA file, with its expected records: headers '>1', '>id label=0', '>id desc', wrapped sequences."
    n = draw(st.integers(1, 6))
    labelled = draw(st.booleans()) if labelled is None else labelled
    lines, recs = [], []
    if draw(st.booleans()): lines.append(';' + draw(desc_st))
    for k in range(1, n + 1):
        seq, lab = draw(seqs_st), draw(st.sampled_from([0, 1])) if labelled else None
        style = draw(st.sampled_from(['bare', 'field', 'field_desc']) if labelled else st.sampled_from(['id', 'id_desc']))
        if style == 'bare': lines.append(draw(st.sampled_from(['>', '> ', ' >'])) + str(lab)); rid = f'seq{k}'
        elif style == 'field': lines.append(f'>r{k} label={lab}'); rid = f'r{k}'
        elif style == 'field_desc': lines.append(f'>r{k} {draw(desc_st)} label={lab}'); rid = f'r{k}'
        elif style == 'id': lines.append(f'>r{k}'); rid = f'r{k}'
        else: lines.append(f'>r{k}\t{draw(desc_st)}'); rid = f'r{k}'
        width = draw(st.integers(1, 41))
        for i in range(0, len(seq), width):
            lines.append(draw(st.sampled_from(['', ' ', '\t'])) + seq[i:i + width] + draw(st.sampled_from(['', ' '])))
            if draw(st.integers(0, 9)) == 0: lines.append(draw(st.sampled_from(['', '  ', ';note'])))
        recs.append((rid, seq, lab))
    return lines, recs


@st.composite
def deepbind_lines(draw):
    "Lines of a DeepBind table (header optional, tabs or spaces) and its expected records."
    n = draw(st.integers(1, 8))
    lines = [''] * draw(st.integers(0, 2))
    if draw(st.booleans()): lines.append(draw(st.sampled_from(['\t', ' '])).join(HEADER))
    recs = []
    for k in range(n):
        seq, lab = draw(seqs_st), draw(st.sampled_from([0, 1]))
        sep = draw(st.sampled_from(['\t', ' ', '  ']))
        lines.append(sep.join(['A', f'ev{k}', seq, str(lab)]))
        if draw(st.integers(0, 9)) == 0: lines.append('')
        recs.append((f'ev{k}', seq, lab))
    return lines, recs


def _encode(draw, lines):
    "The bytes of a file holding `lines`, with random line endings, byte-order mark and gzip."
    text = ''.join(l + draw(eol_st) for l in lines)
    if not draw(st.booleans()): text = text.rstrip('\r\n')  # no final line ending
    raw = (b'\xef\xbb\xbf' if draw(st.integers(0, 7)) == 0 else b'') + text.encode()
    gz = draw(st.booleans())
    return (gzip.compress(raw) if gz else raw), gz


def _as_outcome(recs):
    return ('ok', [r[0] for r in recs], [r[1] for r in recs], None if recs[0][2] is None else [r[2] for r in recs])


@fuzz(400)
@given(st.data())
@pytest.mark.slow
def test_valid_fasta_reads_back_exactly(fuzz_dir, data):
    lines, recs = data.draw(fasta_lines())
    raw, gz = _encode(data.draw, lines)
    p = _write(fuzz_dir, 'gen.fa.gz' if gz else 'gen.fa', raw)
    got = _outcome(p, require_labels=False)
    assert got == _as_outcome(recs)
    assert _chunked_outcome(p, data.draw(st.integers(1, 4)), require_labels=False) == got
    if recs[0][2] is None: assert 'no labels' in _outcome(p)[1]


@fuzz(400)
@given(st.data())
@pytest.mark.slow
def test_valid_deepbind_reads_back_exactly(fuzz_dir, data):
    lines, recs = data.draw(deepbind_lines())
    raw, gz = _encode(data.draw, lines)
    p = _write(fuzz_dir, 'gen.seq.gz' if gz else 'gen.seq', raw)
    got = _outcome(p)
    assert got == _as_outcome(recs)
    assert _chunked_outcome(p, data.draw(st.integers(1, 4))) == got
    if all(r[2] == 1 for r in recs):  # positives only: read_sequences adds shuffled negatives, iter_sequences does not
        assert len(read_sequences(p)) == 2 * len(recs)


def reference_parse(text: str):
    "An independent parser for the line kinds generated below: records, or None for a file that must be refused."
    if '\x00' in text: return None
    lines = re.split(r'\r\n|\r|\n', text.removeprefix('\ufeff'))
    body = [l for l in lines if l.strip()]
    if not body: return None
    first = body[0].strip()
    if first.startswith(('>', ';')):
        recs = []
        for l in body:
            s = l.strip()
            if s.startswith(';'): continue
            if s.startswith('>'): recs.append([s[1:].strip(), ''])
            elif not recs or ' ' in s or '\t' in s or not DNA_RE.fullmatch(s): return None
            else: recs[-1][1] += s
        out = []
        for k, (h, seq) in enumerate(recs, 1):
            if not seq: return None
            m = re.search(r'(?:^|\s)label=(\S*)', h)
            if h in ('0', '1'): out.append((f'seq{k}', seq, int(h)))
            elif m: out.append((h.split()[0], seq, int(m.group(1))))
            else: out.append((h.split()[0] if h else f'seq{k}', seq, None))
        labels = {r[2] is None for r in out}
        return out if labels == {False} else None  # partial or missing labels are refused (labels required)
    if body[0].split()[:4] == HEADER: body = body[1:]
    out = []
    for l in body:
        cols = l.split('\t') if '\t' in l else l.split()
        if l.lstrip().startswith('>') or len(cols) != 4: return None
        seq, lab = cols[2].strip(), cols[3].strip()
        if not DNA_RE.fullmatch(seq) or lab not in ('0', '1'): return None
        out.append((cols[1].strip(), seq, int(lab)))
    return out or None


@st.composite
def mixed_line(draw):
    "One line of any kind either format uses."
    k = draw(st.integers(0, 9))
    seq = draw(seqs_st)
    return [f'>{draw(st.sampled_from("01"))}', f'>r{k} label={draw(st.sampled_from("01"))}', f'>r{k} {draw(desc_st)}', seq,
            f'A\tev{k}\t{seq}\t{draw(st.sampled_from("01"))}', f'A ev{k} {seq} 1', '\t'.join(HEADER), '', ';c',
            f'{seq} {seq}'][draw(st.integers(0, 9))]


@fuzz(500)
@given(st.data())
@pytest.mark.slow
def test_random_mixtures_of_valid_lines_match_a_reference_parser(fuzz_dir, data):
    mode = data.draw(st.sampled_from(['fasta', 'deepbind', 'mixed']))
    if mode == 'fasta': lines = data.draw(fasta_lines(labelled=True))[0]
    elif mode == 'deepbind': lines = data.draw(deepbind_lines())[0]
    else: lines = data.draw(st.lists(mixed_line(), min_size=1, max_size=12))
    if mode != 'mixed' and data.draw(st.booleans()):  # splice a few foreign lines in
        for _ in range(data.draw(st.integers(1, 3))):
            lines.insert(data.draw(st.integers(0, len(lines))), data.draw(mixed_line()))
    text = ''.join(l + data.draw(eol_st) for l in lines)
    p = _write(fuzz_dir, 'mix.txt', text.encode())
    expected, got = reference_parse(text), _outcome(p)
    if expected is None: assert got[0] == 'error', (text, got)
    else: assert got == _as_outcome(expected), (text, got)


@fuzz(300)
@given(st.data())
def test_truncated_gzip_is_refused(fuzz_dir, data):
    lines, _ = data.draw(st.one_of(fasta_lines(labelled=True), deepbind_lines()))
    gz = gzip.compress(''.join(l + '\n' for l in lines).encode())
    cut = data.draw(st.integers(0, len(gz) - 1))
    got = _outcome(_write(fuzz_dir, 'cut.seq.gz', gz[:cut]))
    assert got[0] == 'error'
    assert 'gzip' in got[1] or cut < 2, got


@fuzz(500)
@given(raw=st.one_of(st.binary(max_size=600),
                     st.text(alphabet='ACGTN>01 \t\r\n\x0b\x0c\x1c\x85\u2028;=label', max_size=300).map(str.encode)))
def test_random_bytes_are_refused_or_read_sanely(fuzz_dir, raw):
    p = _write(fuzz_dir, 'random.bin', raw)
    got = _outcome(p, require_labels=False)
    if got[0] == 'ok': _assert_sane(got, raw.decode('utf-8'))
    assert _chunked_outcome(p, 3, require_labels=False) == got


@fuzz(400)
@given(st.data())
@pytest.mark.slow
def test_mutated_valid_files_are_refused_or_read_sanely(fuzz_dir, data):
    lines, _ = data.draw(st.one_of(fasta_lines(), deepbind_lines()))
    raw = bytearray(''.join(l + '\n' for l in lines).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw)))
        piece = data.draw(st.sampled_from([b'\r', b'\n', b'\r\n', b'\x0c', b'\x0b', b'\x1c', '\x85'.encode(), '\u2028'.encode(),
                                           b'>', b'\t', b' ', b'\x00', b'\xff', b'X', b'0', b'1', b'label=', b'\xef\xbb\xbf']))
        op = data.draw(st.sampled_from(['insert', 'replace', 'delete']))
        if op == 'insert': raw[at:at] = piece
        elif op == 'replace': raw[at:at + 1] = piece
        else: del raw[at:at + len(piece)]
    p = _write(fuzz_dir, 'mutant.fa', bytes(raw))
    got = _outcome(p, require_labels=False)
    if got[0] == 'ok': _assert_sane(got, bytes(raw).decode('utf-8'))


@fuzz(300)
@given(st.data())
@pytest.mark.slow
def test_results_do_not_depend_on_where_blocks_end(fuzz_dir, data):
    "Files are read in blocks; tiny blocks cut every '\\r\\n', multi-byte letter and byte-order mark in two."
    lines = data.draw(st.one_of(fasta_lines(), deepbind_lines(), st.lists(mixed_line(), min_size=1, max_size=8).map(lambda l: (l, None))))[0]
    raw, gz = _encode(data.draw, [l + data.draw(st.sampled_from(['', 'é', '\u2028'])) for l in lines])
    p = _write(fuzz_dir, 'blocks.seq.gz' if gz else 'blocks.seq', raw)
    whole = _outcome(p, require_labels=False)
    block, data_mod._BLOCK = data_mod._BLOCK, data.draw(st.integers(1, 9))
    try: assert _outcome(p, require_labels=False) == whole
    finally: data_mod._BLOCK = block


def test_huge_lines(tmp_path):
    rng = np.random.default_rng(0)
    big = np.frombuffer(b'ACGT', dtype=np.uint8)[rng.integers(0, 4, 3_000_001)].tobytes().decode()
    p = _write(tmp_path, 'huge.fa', f'>1\r\n{big}\r\n>0\r\nACGT\r\n'.encode())
    d = read_sequences(p)
    assert d.seqs == [big, 'ACGT'] and d.labels.tolist() == [1, 0]
    p = _write(tmp_path, 'huge.seq.gz', gzip.compress(f'A\tbig\t{big}\t1\rA\tsmall\tAC\t0'.encode()))
    assert read_sequences(p).seqs == [big, 'AC']
    p = _write(tmp_path, 'huge_header.fa', f'>{big} label=1\nAC\n>x label=0\nGT\n'.encode())
    assert read_sequences(p).ids == [big, 'x']
    bad = big[:2_500_000] + 'Z' + big[2_500_000:]
    with pytest.raises(DeepMotifError, match=r"bad.fa line 3 \(record 1\): 'Z' at position 2500001"):
        read_sequences(_write(tmp_path, 'bad.fa', f'>1\nA\n{bad}\n'.encode()))


def test_control_characters_are_letters_not_line_breaks(tmp_path):
    for ch in ['\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\x85', '\u2028', '\u2029']:
        p = _write(tmp_path, 'ctl.fa', f'>1\nAC{ch}GT\n>0\nTTTT\n'.encode())
        with pytest.raises(DeepMotifError, match=r'ctl.fa line 2 \(record 1\).* at position 2'):
            read_sequences(p)


def _peak_reading(path, chunk_size):
    "Records in `path` and the peak Python memory taken by reading it with iter_sequences."
    tracemalloc.start()
    try:
        count = sum(len(c) for c in iter_sequences(path, chunk_size=chunk_size))
        return count, tracemalloc.get_traced_memory()[1]
    finally: tracemalloc.stop()


@pytest.mark.slow
def test_reading_in_chunks_keeps_memory_flat(tmp_path):
    rng = np.random.default_rng(0)
    letters = np.frombuffer(b'ACGT', dtype=np.uint8)[rng.integers(0, 4, (100_000, 101))]
    rows = [f'A\ts{j}\t{letters[j].tobytes().decode()}\t{j % 2}\n' for j in range(100_000)]
    peaks = {}
    for n in (20_000, 100_000):
        with gzip.open(tmp_path / f'{n}.seq.gz', 'wt', compresslevel=1) as f: f.write('FoldID\tEventID\tseq\tBound\n' + ''.join(rows[:n]))
        count, peaks[n] = _peak_reading(tmp_path / f'{n}.seq.gz', 2000)
        assert count == n
    assert peaks[100_000] < 1.2 * peaks[20_000] + 1e6, peaks  # five times the records, the same memory
    assert peaks[100_000] < 0.75 * sum(map(len, rows)), peaks  # less than the text itself


