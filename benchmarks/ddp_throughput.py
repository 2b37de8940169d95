"""Training throughput (sequences per second) of `fit` in 1 and 2 processes (DDP over gloo) on this CPU, and on
CUDA when it is available: the same model, data, global batch and order in every run.

Each run trains `--epochs` epochs; the figure is the training sequences of one epoch divided by the fastest epoch's
seconds (an epoch includes the validation pass). On CPU the processes share the cores: with P processes each uses
cores / P threads, so the comparison is between one process with all cores and P processes with a share each.

usage: python benchmarks/ddp_throughput.py [--n 20000] [--length 101] [--arch cnn] [--epochs 2] [--nprocs 1 2] [--device cpu] [--threads T]
"""
import argparse, os, tempfile, time
import torch
from deepmotif.data import synthetic_dataset, train_valid_split
from deepmotif.distributed import distributed, launch_local
from deepmotif.models import build_model
from deepmotif.train import fit


def run(data_path: str, arch: str, epochs: int, batch_size: int, device: str, threads: int) -> dict:
    "Train on the saved split in this process (one rank of several under a launcher); rank 0 returns the epoch records."
    torch.set_num_threads(threads)
    tr, va = torch.load(data_path, weights_only=False)
    with distributed(device) as (ctx, dev):
        torch.manual_seed(0)
        model = build_model(arch)
        h = fit(model, tr, va, epochs=epochs, batch_size=batch_size, patience=None, device=dev, verbose=False)
        return dict(world=ctx.world, records=h.records, n_train=len(tr)) if ctx.main else {}


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=20000); ap.add_argument('--length', type=int, default=101)
    ap.add_argument('--arch', default='cnn'); ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--batch-size', type=int, default=64); ap.add_argument('--nprocs', type=int, nargs='+', default=[1, 2])
    ap.add_argument('--device', default=None, help='cpu or cuda; default: cpu, and also cuda when available')
    ap.add_argument('--threads', type=int, default=None, help='threads per process; default: CPU cores / processes')
    a = ap.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    data = synthetic_dataset('single', n=a.n, length=a.length, seed=0)
    tr, va = train_valid_split(data, 0.05, seed=0)
    path = os.path.join(tempfile.mkdtemp(), 'split.pt')
    torch.save((tr, va), path)
    devices = [a.device] if a.device else ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    print(f'torch {torch.__version__}, {cores} CPU cores, {torch.cuda.device_count()} CUDA devices; {a.arch}, '
          f'{len(tr)} training sequences of {a.length} bp, global batch {a.batch_size}, {a.epochs} epochs')
    print('| device | processes | threads each | sequences/s | vs 1 process |')
    print('|---|---|---|---|---|')
    for dev in devices:
        base = None
        for p in a.nprocs:
            if dev == 'cuda' and p > torch.cuda.device_count(): continue
            threads = a.threads or max(1, cores // p)
            args = (path, a.arch, a.epochs, a.batch_size, dev, threads)
            t0 = time.perf_counter()
            r = run(*args) if p == 1 else launch_local(p, run, *args)[0]
            rate = r['n_train'] / min(rec['seconds'] for rec in r['records'])
            base = base or rate
            print(f'| {dev} | {p} | {threads} | {rate:,.0f} | {rate / base:.2f}x |', flush=True)
