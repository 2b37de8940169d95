"""Reliability and safety: fuzzed parsers, the command line's bad-input table, killed and resumed training, atomic
writes, non-finite losses, untrusted checkpoints, and large files read in chunks."""
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


# ---------------------------------------------------------------- the command line: every bad input is one line, status 2

def cli(*args):
    "Run `deepmotif` in this process: (status, stdout, stderr); an exception other than SystemExit fails the test."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: rc = main([str(a) for a in args])
        except SystemExit as e: rc = e.code
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    "Data files, a small model and folders written by other tools."
    t = tmp_path_factory.mktemp('cli')
    d = synthetic_dataset('single', n=40, seed=0)
    write_fasta(t / 'ok.fa', d.seqs, d.labels)
    (t / 'unlabelled.fa').write_text(''.join(f'>r{i}\n{s}\n' for i, s in enumerate(d.seqs)))
    write_deepbind(t / 'TF_AC.seq', d.seqs[:10], [1] * 10)
    write_fasta(t / 'short.fa', [s[20:80] for s in d.seqs], d.labels)
    write_fasta(t / 'long.fa', [s + s[:49] for s in d.seqs], d.labels)
    (t / 'prose.txt').write_text('Transcription factors bind DNA.\nThis is not a sequence file.\n')
    with gzip.open(t / 'prose.txt.gz', 'wt') as f: f.write('not\ta\tsequence\tfile at all\n')
    (t / 'data.json').write_text(json.dumps({'sequences': ['ACGT'], 'labels': [1]}))
    (t / 'image.png').write_bytes(b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10' + bytes(range(256)))
    (t / 'folder').mkdir()
    (t / 'unreadable.fa').write_text('>1\nACGT\n>0\nTTTT\n'); (t / 'unreadable.fa').chmod(0)
    torch.manual_seed(0)
    save_model(build_model('cnn', n_filters=4), t / 'cnn', seq_length=101)
    (t / 'torch_pt').mkdir(); torch.save(build_model('cnn', n_filters=4).state_dict(), t / 'torch_pt' / 'model.pt')
    (t / 'keras_h5').mkdir(); (t / 'keras_h5' / 'model.h5').write_bytes(b'\x89HDF\r\n\x1a\n' + bytes(512))
    (t / 'keras_h5' / 'config.json.bak').write_text('{"class_name": "Sequential"}')
    from safetensors.torch import save_file
    (t / 'hf').mkdir(); save_file({'w': torch.zeros(3)}, str(t / 'hf' / 'model.safetensors'))
    (t / 'hf' / 'config.json').write_text(json.dumps({'model_type': 'bert', 'architectures': ['BertModel']}))
    cfg = json.loads((t / 'cnn' / 'config.json').read_text())
    for name, change in [('garbage_weights', {}), ('bad_hparams', {'hparams': {'n_filters': -5}}), ('hparams_list', {'hparams': [4]}),
                         ('bad_length', {'seq_length': 'abc'}), ('other_arch', {'arch': 'transformer'})]:
        (t / name).mkdir()
        (t / name / 'config.json').write_text(json.dumps({**cfg, **change}))
        (t / name / 'model.safetensors').write_bytes((t / 'cnn' / 'model.safetensors').read_bytes())
    (t / 'garbage_weights' / 'model.safetensors').write_bytes(b'\x80\x04\x95' + bytes(64))
    (t / 'not_json').mkdir(); (t / 'not_json' / 'config.json').write_text('{"format": "deepmotif-model", ')
    return t


T = ['--arch', 'cnn', '--out', '@new', '--quiet']  # the tail of a train command that should get as far as reading its data
CLI_CASES = [  # (arguments, fragment of the one-line message); '@x' is file x of the `files` fixture
    # unreadable or wrong files
    (['train', '@folder', *T], 'is a directory'),
    (['evaluate', '@cnn', '@folder', '--quiet'], 'is a directory'),
    (['train', '@unreadable.fa', *T], 'permission denied'),
    (['train', '@prose.txt', *T], 'prose.txt line 1: unknown format'),
    (['evaluate', '@cnn', '@image.png', '--quiet'], 'image.png line 3: binary data'),
    (['predict', '@cnn', '@data.json', '--out', '@p.tsv', '--quiet'], 'data.json line 1: unknown format'),
    (['explain', '@cnn', '@prose.txt.gz', '--out', '@e.npz', '--quiet'], 'prose.txt.gz line 1'),
    (['evaluate', '@cnn', '@unlabelled.fa', '--quiet'], 'no labels'),
    (['evaluate', '@cnn', '@TF_AC.seq', '--quiet'], 'only one class among the labels (all 10 are 1)'),
    (['explain', '@cnn', '@ok.fa', '--out', '@e.npz', '--method', 'temporal', '--quiet'], 'need a recurrent model'),
    (['predict', '@cnn', '@ok.fa', '--out', '@folder', '--quiet'], 'is a folder'),
    (['train', '@ok.fa', '--arch', 'cnn', '--out', '@ok.fa', '--quiet'], 'exists and is not a folder'),
    (['train', '@ok.fa', '--arch', 'cnn', '--out', '@new', '--lr', '1e30', '--epochs', '2', '--quiet'], 'training diverged in epoch 1'),
    # architectures
    (['train', '@ok.fa', '--arch', 'transformer', '--out', '@new'], "--arch 'transformer'; must be one of cnn, rnn, cnn-rnn"),
    (['train', '@ok.fa', '--arch', '', '--out', '@new'], 'must be one of'),
    (['train', '@ok.fa', '--arch', 'cnn2', '--out', '@new'], 'must be one of'),
    # numbers
    *[(['train', '@ok.fa', *T, '--epochs', v], m) for v, m in [('nan', "'nan' is not an integer"), ('inf', "'inf' is not an integer"),
      ('0', '0 must be at least 1'), ('-1', '-1 must be at least 1'), ('ten', "'ten' is not an integer"), ('1.5', "'1.5' is not an integer")]],
    *[(['train', '@ok.fa', *T, '--lr', v], m) for v, m in [('nan', 'nan must be a positive number'), ('inf', 'inf must be a positive number'),
      ('0', '0 must be a positive number'), ('-1', '-1 must be a positive number'), ('fast', "'fast' is not a number")]],
    *[(['train', '@ok.fa', *T, '--batch-size', v], m) for v, m in [('0', 'at least 1'), ('-5', 'at least 1'), ('nan', 'not an integer')]],
    *[(['train', '@ok.fa', *T, '--valid-frac', v], m) for v, m in [('0', 'between 0 and 1'), ('1', 'between 0 and 1'),
      ('nan', 'between 0 and 1'), ('inf', 'between 0 and 1'), ('-0.5', 'between 0 and 1'), ('half', 'not a number')]],
    *[(['train', '@ok.fa', *T, '--seed', v], m) for v, m in [('-1', 'between 0 and 2**32 - 1'), ('4294967296', 'between 0 and 2**32 - 1'),
      ('nan', "'nan' is not an integer"), ('0.5', 'not an integer')]],
    (['explain', '@cnn', '@ok.fa', '--out', '@e.npz', '--batch-size', '0'], 'at least 1'),
    (['optimize', '@cnn', '--out', '@opt', '--steps', '0'], 'at least 1'),
    (['optimize', '@cnn', '--out', '@opt', '--starts', 'nan'], 'not an integer'),
    (['optimize', '@cnn', '--out', '@opt', '--seed', '-1'], 'between 0 and 2**32 - 1'),
    (['evaluate', '@cnn', '@ok.fa', '--device', 'tpu9'], "'tpu9' is not a device"),
    (['evaluate', '@cnn', '@ok.fa', '--device', 'cuda:99'], 'no such CUDA device'),
    (['train', '@ok.fa', '--arch', 'cnn'], 'the following arguments are required: --out'),
    # model folders from other tools, or damaged
    (['evaluate', '@torch_pt', '@ok.fa', '--quiet'], 'no config.json; not a deepmotif model folder'),
    (['evaluate', '@keras_h5', '@ok.fa', '--quiet'], 'no config.json; not a deepmotif model folder'),
    (['evaluate', '@torch_pt/model.pt', '@ok.fa', '--quiet'], 'not a model folder'),
    (['predict', '@keras_h5/model.h5', '@ok.fa', '--out', '@p.tsv', '--quiet'], 'not a model folder'),
    (['predict', '@hf', '@ok.fa', '--out', '@p.tsv', '--quiet'], "not a deepmotif model (format tag None)"),
    (['explain', '@garbage_weights', '@ok.fa', '--out', '@e.npz', '--quiet'], 'not a safetensors weights file'),
    (['evaluate', '@bad_hparams', '@ok.fa', '--quiet'], 'cannot build a model from config.json'),
    (['evaluate', '@hparams_list', '@ok.fa', '--quiet'], 'cannot build a model from config.json'),
    (['evaluate', '@bad_length', '@ok.fa', '--quiet'], "seq_length = 'abc'"),
    (['evaluate', '@other_arch', '@ok.fa', '--quiet'], "arch 'transformer'"),
    (['evaluate', '@not_json', '@ok.fa', '--quiet'], 'not valid JSON'),
    (['optimize', '@torch_pt', '--out', '@opt'], 'no config.json'),
]


def _args(files, args):
    return [str(files / a[1:]) if a.startswith('@') else a for a in args]


def _assert_one_line_error(rc, out, err, fragment):
    "Status 2 and one line `deepmotif: error: ...` holding `fragment`; one-line warnings may come before it."
    assert rc == 2, (rc, out, err)
    lines = [l for l in err.splitlines() if l.strip() and not l.startswith('deepmotif: warning: ')]
    assert len(lines) == 1 and lines[0].startswith('deepmotif: error: '), err
    assert fragment in lines[0], (fragment, err)
    assert 'Traceback' not in err + out


@pytest.mark.parametrize('args,fragment', CLI_CASES, ids=[f'{i}-' + ' '.join(c[0][:1] + c[0][-2:]) for i, c in enumerate(CLI_CASES)])
def test_bad_input_is_one_line_and_status_2(files, args, fragment):
    if 'unreadable.fa' in args[1] and os.access(files / 'unreadable.fa', os.R_OK):
        pytest.skip('chmod 000 does not stop this user (root) from reading; the folder rows cover unreadable paths')
    if 'cuda:99' in args and torch.cuda.device_count() > 99: pytest.skip('this machine has 100 GPUs')
    _assert_one_line_error(*cli(*_args(files, args)), fragment)
    assert not (files / 'e.npz').exists() and not (files / 'p.tsv').exists()


SCRIPT_CASES = [next(c for c in CLI_CASES if c[1] == f) for f in ('is a directory', 'not a safetensors weights file')]


@pytest.mark.parametrize('args,fragment', SCRIPT_CASES, ids=[c[1] for c in SCRIPT_CASES])
def test_bad_input_through_the_console_script(files, args, fragment):
    "A few rows again through the installed `deepmotif` script, in a fresh process."
    r = subprocess.run(['deepmotif', *_args(files, args)], capture_output=True, text=True, timeout=300)
    _assert_one_line_error(r.returncode, r.stdout, r.stderr, fragment)


@pytest.mark.parametrize('name', ['short.fa', 'long.fa'])
def test_other_lengths_than_the_model_are_centred_with_one_warning(files, tmp_path, name):
    model = load_model(files / 'cnn')
    d = read_sequences(files / name)
    X = one_hot([fit_length(s, 101) for s in d.seqs])
    warning = f"deepmotif: warning: {files / name}: sequence lengths [{len(d.seqs[0])}] differ from the model's 101; centre-trimming/padding to 101"
    rc, out, err = cli('evaluate', files / 'cnn', files / name, '--json', '--quiet')
    assert rc == 0 and err.splitlines() == [warning], err
    assert json.loads(out)['auroc'] == pytest.approx(evaluate(model, d)['auroc'], abs=1e-12)
    rc, out, err = cli('predict', files / 'cnn', files / name, '--out', tmp_path / 'p.tsv', '--quiet')
    assert rc == 0 and err.splitlines() == [warning], err
    p = np.array([float(l.split('\t')[1]) for l in (tmp_path / 'p.tsv').read_text().splitlines()[1:]])
    assert np.allclose(p, predict(model, X), atol=1e-6)
    rc, out, err = cli('explain', files / 'cnn', files / name, '--out', tmp_path / 's.npz', '--quiet')
    assert rc == 0 and err.splitlines() == [warning], err
    assert np.allclose(np.load(tmp_path / 's.npz')['scores'], saliency(model, X).numpy(), atol=1e-6)


# ---------------------------------------------------------------- training killed with SIGKILL, then resumed

def test_killed_training_resumes_to_the_same_result(tmp_path):
    d = synthetic_dataset('single', n=1200, seed=0)
    data = write_fasta(tmp_path / 'train.fa', d.seqs, d.labels)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    cmd = lambda out, *extra: ['deepmotif', 'train', str(data), '--arch', 'cnn', '--out', str(tmp_path / out), '--epochs', '4',
                               '--seed', '0', '--quiet', *extra]
    whole = subprocess.Popen(cmd('whole'), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    victim = subprocess.Popen(cmd('killed'), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ck = tmp_path / 'killed' / 'checkpoint.pt'
    deadline = time.time() + 240
    while not ck.exists():
        assert victim.poll() is None, victim.communicate()
        assert time.time() < deadline, 'no checkpoint after 240 s'
        time.sleep(0.02)
    first = _load_checkpoint(ck)  # the file is replaced atomically, so a read never sees half of it
    time.sleep(first['history'][-1]['seconds'] / 2)  # about half-way through epoch 2
    assert victim.poll() is None, 'the run ended before it could be killed'
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert victim.returncode == -signal.SIGKILL
    done = _load_checkpoint(ck)['epoch']
    assert 1 <= done < 4 and not (tmp_path / 'killed' / 'metrics.json').exists()
    r = subprocess.run(cmd('killed', '--resume'), env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert whole.wait(timeout=600) == 0, whole.communicate()
    a = json.loads((tmp_path / 'whole' / 'metrics.json').read_text())
    b = json.loads((tmp_path / 'killed' / 'metrics.json').read_text())
    assert len(a['history']) == len(b['history']) == 4 and a['best_epoch'] == b['best_epoch']
    assert [h['valid_auroc'] for h in b['history']] == pytest.approx([h['valid_auroc'] for h in a['history']], abs=1e-6)
    ma, mb = load_model(tmp_path / 'whole'), load_model(tmp_path / 'killed')
    assert all(torch.allclose(v, mb.state_dict()[k], atol=1e-6) for k, v in ma.state_dict().items())


DIE_WHILE_SAVING = r'''
import io, os, sys, torch
from pathlib import Path
import safetensors.torch, deepmotif.models as M
from deepmotif.train import _save_checkpoint
target, what = Path(sys.argv[1]), sys.argv[2]
def half_then_die(data, dest):
    with open(dest, 'wb') as f: f.write(data[:len(data) // 2])
    os._exit(17)
if what == 'checkpoint':
    real = torch.save
    def save(obj, dest, *a, **k):
        buf = io.BytesIO(); real(obj, buf); half_then_die(buf.getvalue(), dest)
    torch.save = save
    _save_checkpoint(target, {'epoch': 99, 'model': {'w': torch.ones(1000)}})
else:
    M.save_file = lambda state, dest, *a, **k: half_then_die(safetensors.torch.save(state), dest)
    torch.manual_seed(1)
    M.save_model(M.build_model('cnn', n_filters=4), target, seq_length=101)
'''


def test_a_process_killed_while_saving_leaves_the_previous_files(tmp_path):
    d = synthetic_dataset('single', n=120, seed=0)
    tr, va = d.subset(range(80)), d.subset(range(80, 120))
    ck = tmp_path / 'run' / 'checkpoint.pt'
    torch.manual_seed(0); m = build_model('cnn', n_filters=4)
    fit(m, tr, va, epochs=1, checkpoint=ck, verbose=False)
    before = ck.read_bytes()
    r = subprocess.run([sys.executable, '-c', DIE_WHILE_SAVING, str(ck), 'checkpoint'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 17, r.stderr
    assert ck.read_bytes() == before and _load_checkpoint(ck)['epoch'] == 1
    assert list(ck.parent.glob('.checkpoint.pt.*.tmp'))  # the half-written file is a temporary, never the checkpoint
    h = fit(build_model('cnn', n_filters=4), tr, va, epochs=2, checkpoint=ck, resume=True, verbose=False)
    assert len(h.records) == 2
    save_model(m, tmp_path / 'model', seq_length=101)
    r = subprocess.run([sys.executable, '-c', DIE_WHILE_SAVING, str(tmp_path / 'model'), 'model'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 17, r.stderr
    m2 = load_model(tmp_path / 'model')
    assert all(torch.equal(v, m2.state_dict()[k]) for k, v in m.state_dict().items())


# ---------------------------------------------------------------- a loss that stops being finite

class NaNAfter(CNN):
    "A CNN whose outputs in training mode become NaN after `after` batches."
    def __init__(self, after, **kw):
        super().__init__(**kw)
        self.after, self.calls = after, 0

    def forward(self, X):
        out = super().forward(X)
        if self.training:
            self.calls += 1
            if self.calls > self.after: out = out * float('nan')
        return out


def test_non_finite_loss_keeps_the_best_epoch_and_the_checkpoint(tmp_path):
    d = synthetic_dataset('single', n=300, seed=0)
    tr, va = d.subset(range(256)), d.subset(range(256, 300))  # 4 batches of 64 an epoch
    torch.manual_seed(0); m = NaNAfter(10, n_filters=8)
    with pytest.warns(DeepMotifWarning, match='epoch 3: the training loss is not finite; stopped and kept epoch [12]'):
        h = fit(m, tr, va, epochs=6, lr=1e-2, checkpoint=tmp_path / 'ck.pt', verbose=False)
    assert h.stopped == 'non-finite loss' and len(h.records) == 2 and h.best_epoch in (1, 2)
    ck = _load_checkpoint(tmp_path / 'ck.pt')
    assert ck['epoch'] == 2 and all(torch.isfinite(v).all() for v in m.state_dict().values())
    assert all(torch.equal(v, ck['best_model'][k]) for k, v in m.state_dict().items())
    assert evaluate(m, va)['auroc'] == pytest.approx(h.best_auroc, abs=1e-9)


def test_non_finite_loss_through_the_command_line(tmp_path, monkeypatch):
    import deepmotif.cli
    d = synthetic_dataset('single', n=300, seed=0)
    data = write_fasta(tmp_path / 't.fa', d.seqs, d.labels)  # 270 to train: 5 batches of 64 an epoch
    monkeypatch.setattr(deepmotif.cli, 'build_model', lambda arch: NaNAfter(12, n_filters=8))
    rc, out, err = cli('train', data, '--arch', 'cnn', '--out', tmp_path / 'm', '--epochs', 5, '--quiet')
    assert rc == 0, err
    assert 'cnn: training stopped in epoch 3: the loss is not finite (training diverged); kept epoch' in out
    assert [l for l in err.splitlines() if l.startswith('deepmotif: warning: epoch 3: the training loss is not finite')], err
    m = json.loads((tmp_path / 'm' / 'metrics.json').read_text())
    assert m['stopped'] == 'non-finite loss' and m['epochs_run'] == 2
    assert _load_checkpoint(tmp_path / 'm' / 'checkpoint.pt')['epoch'] == 2
    monkeypatch.setattr(deepmotif.cli, 'build_model', lambda arch: NaNAfter(0, n_filters=8))
    _assert_one_line_error(*cli('train', data, '--arch', 'cnn', '--out', tmp_path / 'm0', '--quiet'), 'training diverged in epoch 1')


# ---------------------------------------------------------------- untrusted checkpoints

class Payload:
    def __reduce__(self):
        return (os.system, (f'touch {os.environ["DM_PAYLOAD"]}',))


@pytest.mark.filterwarnings('ignore:Detected pickle protocol')
@pytest.mark.parametrize('how', ['pickle', 'torch.save'])
def test_pickle_payload_checkpoint_is_refused_without_running(tmp_path, monkeypatch, how):
    target = tmp_path / 'pwned'
    monkeypatch.setenv('DM_PAYLOAD', str(target))
    d = synthetic_dataset('single', n=60, seed=0)
    data = write_fasta(tmp_path / 't.fa', d.seqs, d.labels)
    (tmp_path / 'm').mkdir()
    ck = tmp_path / 'm' / 'checkpoint.pt'
    state = {'epoch': 1, 'model': Payload(), 'optimizer': {}, 'scheduler': {}, 'best_model': {}, 'history': []}
    if how == 'pickle': ck.write_bytes(pickle.dumps(state))
    else: torch.save(state, ck)
    _assert_one_line_error(*cli('train', data, '--arch', 'cnn', '--out', tmp_path / 'm', '--resume', '--quiet'), 'not a usable checkpoint')
    with pytest.raises(DeepMotifError, match='not a usable checkpoint'):
        fit(build_model('cnn', n_filters=4), d, d, checkpoint=ck, resume=True, verbose=False)
    assert not target.exists()


def test_foreign_checkpoints_are_refused(tmp_path):
    d = synthetic_dataset('single', n=60, seed=0)
    ck = tmp_path / 'checkpoint.pt'
    for content, fragment in [({'weights': torch.zeros(2)}, 'not a deepmotif checkpoint'), (torch.zeros(3), 'not a deepmotif checkpoint'),
                              ({'epoch': 1, 'model': {}, 'optimizer': {}, 'scheduler': {}, 'best_model': {}, 'history': []}, 'does not fit')]:
        torch.save(content, ck)
        with pytest.raises(DeepMotifError, match=fragment):
            fit(build_model('cnn', n_filters=4), d, d, checkpoint=ck, resume=True, verbose=False)
    ck.write_bytes(b'PK\x03\x04 half a zip')
    with pytest.raises(DeepMotifError, match='not a usable checkpoint'):
        fit(build_model('cnn', n_filters=4), d, d, checkpoint=ck, resume=True, verbose=False)


# ---------------------------------------------------------------- large files: streamed commands equal the in-memory functions

def test_streamed_commands_equal_the_in_memory_functions(files, tmp_path):
    from deepmotif.temporal import temporal_scores
    d = synthetic_dataset('single', n=150, seed=3)
    data = write_deepbind(tmp_path / 'TF_B.seq.gz', d.seqs, d.labels)
    model, whole = load_model(files / 'cnn'), read_sequences(data)
    ref = evaluate(model, whole)
    for chunk in (7, 64, 10_000):
        got = evaluate_command(str(files / 'cnn'), str(data), chunk_size=chunk)
        assert got['auroc'] == pytest.approx(ref['auroc'], abs=1e-9) and (got['n'], got['n_pos']) == (ref['n'], ref['n_pos'])
    assert json.loads(cli('evaluate', files / 'cnn', data, '--json', '--quiet')[1])['auroc'] == ref['auroc']
    predict_command(str(files / 'cnn'), str(data), str(tmp_path / 'p.tsv'), chunk_size=7)
    rows = [l.split('\t') for l in (tmp_path / 'p.tsv').read_text().splitlines()]
    assert rows[0] == ['id', 'probability'] and [r[0] for r in rows[1:]] == whole.ids
    assert np.allclose([float(r[1]) for r in rows[1:]], predict(model, whole), atol=1e-5)
    explain_command(str(files / 'cnn'), str(data), str(tmp_path / 's.npz'), kind='grad_x_input', chunk_size=7)
    z = np.load(tmp_path / 's.npz')
    assert z['ids'].tolist() == whole.ids and str(z['kind']) == 'grad_x_input'
    assert np.allclose(z['scores'], saliency(model, whole.X, kind='grad_x_input').numpy(), atol=1e-6)
    assert np.allclose(z['probability'], predict(model, whole), atol=1e-6)
    assert np.array_equal(open_scores(tmp_path / 's.npz')[5:9], z['scores'][5:9])
    torch.manual_seed(0)
    save_model(build_model('rnn', hidden=4), tmp_path / 'rnn')  # saved without a length: the file's longest is used
    explain_command(str(tmp_path / 'rnn'), str(data), str(tmp_path / 't.npz'), method='temporal', chunk_size=64)
    rnn = load_model(tmp_path / 'rnn')
    assert np.allclose(np.load(tmp_path / 't.npz')['scores'], temporal_scores(rnn, whole.X).numpy(), atol=1e-6)


def test_an_error_late_in_a_file_leaves_no_output(files, tmp_path):
    d = synthetic_dataset('single', n=100, seed=0)
    (tmp_path / 'late.fa').write_text(''.join(f'>{l}\n{s}\n' for s, l in zip(d.seqs, d.labels)) + '>1\nACGTZ\n')
    message = "late.fa line 202 (record 101): 'Z' at position 4"
    for args in (['predict', files / 'cnn', tmp_path / 'late.fa', '--out', tmp_path / 'out' / 'p.tsv'],
                 ['explain', files / 'cnn', tmp_path / 'late.fa', '--out', tmp_path / 'out' / 's.npz'],
                 ['evaluate', files / 'cnn', tmp_path / 'late.fa']):
        _assert_one_line_error(*cli(*args, '--quiet'), message)
    for command, out in ((predict_command, 'p.tsv'), (explain_command, 's.npz')):  # after several chunks were written
        with pytest.raises(DeepMotifError, match=re.escape(message)):
            command(str(files / 'cnn'), str(tmp_path / 'late.fa'), str(tmp_path / 'out' / out), chunk_size=16)
    assert not (tmp_path / 'out').exists() or not list((tmp_path / 'out').iterdir())


def test_evaluate_on_positives_only_says_so(files):
    rc, out, err = cli('evaluate', files / 'cnn', files / 'TF_AC.seq', '--quiet')
    _assert_one_line_error(rc, out, err, 'a DeepBind *_AC file holds positives only: evaluate on the matching *_B file')
