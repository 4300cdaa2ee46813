#!/usr/bin/python3
# The PyTorch side of `npm run bench:compare`: the reference LeNet in PyTorch (Debian's
# python3-torch, through /usr/bin/python3), kept alive for the whole run so that each timed
# window costs no start-up. Reads one command a line on stdin and answers one line on stdout:
#   train BATCH THREADS SECONDS  -> images/s of SGD steps (momentum 0.9, weight decay 5e-4)
#   infer BATCH THREADS SECONDS  -> images/s of eval-mode forward passes under no_grad
#   quit
# It prints "ready torch <version> <blas>" once the model is built. Inputs are random normal
# images and random labels: the speed of these dense kernels does not depend on the values.
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scripts'))
from torch_lenet import LeNet  # noqa: E402


torch.manual_seed(1)
model = LeNet()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
inputs = {}


def batch_of(n):
    if n not in inputs:
        inputs[n] = (torch.randn(n, 1, 28, 28), torch.randint(0, 10, (n,)))
    return inputs[n]


def train_step(x, y):
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    opt.step()


def infer_step(x, _y):
    with torch.no_grad():
        model(x)


def images_per_sec(step, n, seconds):
    x, y = batch_of(n)
    step(x, y)  # the first call after a thread-count change pays for the pool
    images = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step(x, y)
        images += n
    return images / (time.perf_counter() - t0)


def blas():
    # Debian's torch links the generic libblas.so.3, which the alternatives system points at a
    # BLAS: name the one actually mapped after a matrix product
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    with open('/proc/self/maps') as maps:
        libs = {line.split()[-1] for line in maps if 'blas' in line.lower() and '/' in line}
    return ','.join(sorted(libs)) or 'no-blas-mapped'


def main():
    print(f'ready torch {torch.__version__} {blas()}', flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == 'quit':
            return
        try:
            mode, n, threads, seconds = parts[0], int(parts[1]), int(parts[2]), float(parts[3])
            torch.set_num_threads(threads)
            if mode == 'train':
                model.train()
                rate = images_per_sec(train_step, n, seconds)
            elif mode == 'infer':
                model.eval()
                rate = images_per_sec(infer_step, n, seconds)
            else:
                raise ValueError(f'unknown command {mode!r}')
            print(f'{rate:.3f}', flush=True)
        except Exception as e:  # one line back, so the bench can report it and go on
            print(f'error {type(e).__name__}: {e}'.replace('\n', ' '), flush=True)


main()
