#!/usr/bin/python3
"""Regenerates the PyTorch reference fixtures in test/fixtures/torch/ (STYLE 23).

Run with Debian's python3, which has python3-torch:

    /usr/bin/python3 scripts/make_torch_fixtures.py            # every fixture file
    /usr/bin/python3 scripts/make_torch_fixtures.py batchnorm  # only the named ones

The tests never run Python: the .safetensors files this writes are committed. Debian packages
no python3-safetensors, so the format is written here by hand (see write_safetensors).

Inputs are float32 drawn with torch.manual_seed. References (outputs and gradients) are
computed by PyTorch in float64 from those float32 inputs and rounded once to float32, so a
fixture carries less than half an ulp of its own error and a test's tolerance measures our
kernels alone. The script prints how far PyTorch's own float32 run lands from each float64
reference, which is the yardstick for the tolerances in test/torch/*.test.ts.

Layouts are PyTorch's: NCHW activations, conv weight [out,in,kh,kw], linear weight [out,in].
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_lenet import LeNet

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch')

DTYPES = {np.dtype('float32'): 'F32', np.dtype('int32'): 'I32', np.dtype('int64'): 'I64'}


def write_safetensors(path, tensors, metadata):
    """Writes `tensors` (name -> numpy array, in order) and string `metadata`.

    Layout: u64 little-endian header length, a UTF-8 JSON header padded with spaces to a
    multiple of 8 bytes, then each tensor's little-endian bytes back to back in header order.
    """
    header = {'__metadata__': {str(k): str(v) for k, v in metadata.items()}}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype not in DTYPES:
            raise TypeError(f'{path}: {name} has dtype {arr.dtype}; only float32, int32, int64 are written')
        raw = arr.astype(arr.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': DTYPES[arr.dtype], 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    return 8 + len(text) + offset


def read_safetensors(path):
    """Reads back what write_safetensors wrote (a self-check of the writer)."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8 : 8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', {})
    inv = {'F32': '<f4', 'I32': '<i4', 'I64': '<i8'}
    out = {}
    for name, h in header.items():
        b, e = h['data_offsets']
        out[name] = np.frombuffer(data[8 + n + b : 8 + n + e], dtype=inv[h['dtype']]).reshape(h['shape'])
    return out, meta


def f32(t):
    """A tensor (of any float dtype) as a float32 numpy array."""
    return t.detach().to(torch.float32).contiguous().numpy().copy()


worst = {}  # fixture file -> worst relative distance of PyTorch's float32 run from the float64 reference


def note_f32_gap(file, name, ref64, got32):
    """Records how far PyTorch's own float32 result lies from the float64 reference, relative to the tensor's max."""
    ref = ref64.detach().double()
    scale = ref.abs().max().item() or 1.0
    gap = (got32.detach().double() - ref).abs().max().item() / scale
    key = f'{file}:{name}'
    worst[key] = max(worst.get(key, 0.0), gap)


def save(file, tensors, metadata):
    path = os.path.join(OUT, file)
    size = write_safetensors(path, tensors, metadata)
    back, meta = read_safetensors(path)
    assert list(back) == list(tensors) and meta == {k: str(v) for k, v in metadata.items()}
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape and np.array_equal(back[k], v), k
    print(f'{file}: {len(tensors)} tensors, {size} bytes')
    return size


def grads64(fn, inputs, gy):
    """Runs fn on float64 copies of `inputs`, backpropagates `gy`; returns (y, [grad per input])."""
    xs = [t.detach().double().requires_grad_(True) for t in inputs]
    y = fn(*xs)
    y.backward(gy.double())
    return y, [t.grad for t in xs]


def grads32(fn, inputs, gy):
    xs = [t.detach().clone().requires_grad_(True) for t in inputs]
    y = fn(*xs)
    y.backward(gy)
    return y, [t.grad for t in xs]


def distinct(shape, scale=2.0):
    """Values with no ties (a shuffled ramp), so max pooling has one argmax per window."""
    n = int(np.prod(shape))
    ramp = (torch.randperm(n).to(torch.float32) + 0.5) / n - 0.5
    return (ramp * 2 * scale).reshape(shape)


# --------------------------------------------------------------------------------------------
# conv2d: x (N,C,H,W), w (OC,C,KH,KW), b (OC) -> y (N,OC,OH,OW); gy is a fixed upstream gradient
# --------------------------------------------------------------------------------------------
def conv2d():
    torch.manual_seed(1)
    cases = [
        # name, x shape, w shape, (sh, sw), (ph, pw)
        ('s1p1', (2, 3, 9, 7), (5, 3, 3, 3), (1, 1), (1, 1)),
        ('s2p0', (2, 3, 11, 9), (5, 3, 3, 3), (2, 2), (0, 0)),
        ('rect', (1, 4, 10, 13), (6, 4, 3, 5), (2, 1), (1, 2)),
        ('lenet1', (3, 1, 28, 28), (20, 1, 5, 5), (1, 1), (2, 2)),
        ('lenet2', (2, 20, 14, 14), (50, 20, 5, 5), (1, 1), (0, 0)),
    ]
    tensors, meta = {}, {'cases': json.dumps([c[0] for c in cases])}
    for name, xs, ws, s, p in cases:
        fan_in = ws[1] * ws[2] * ws[3]
        x = torch.randn(xs)
        w = torch.randn(ws) / fan_in**0.5
        b = torch.randn(ws[0]) * 0.1
        fn = lambda x, w, b: F.conv2d(x, w, b, stride=s, padding=p)
        gy = torch.randn(fn(x, w, b).shape)
        y, (gx, gw, gb) = grads64(fn, [x, w, b], gy)
        y32, g32 = grads32(fn, [x, w, b], gy)
        for k, r, q in zip(['y', 'gx', 'gw', 'gb'], [y, gx, gw, gb], [y32, *g32]):
            note_f32_gap('conv2d', k, r, q)
        for k, v in zip(['x', 'w', 'b', 'y', 'gy', 'gx', 'gw', 'gb'], [x, w, b, y, gy, gx, gw, gb]):
            tensors[f'{name}.{k}'] = f32(v)
        g = dict(n=xs[0], c=xs[1], h=xs[2], w=xs[3], kh=ws[2], kw=ws[3], sh=s[0], sw=s[1], ph=p[0], pw=p[1], oc=ws[0])
        meta[f'{name}.geom'] = json.dumps(g)
    return save('conv2d.safetensors', tensors, meta)


# --------------------------------------------------------------------------------------------
# max_pool2d / avg_pool2d (count_include_pad=True, floor mode): x (N,C,H,W) -> y (N,C,OH,OW)
# --------------------------------------------------------------------------------------------
def pool():
    torch.manual_seed(2)
    cases = [
        # name, x shape, (kh, kw), (sh, sw), (ph, pw)
        ('k2s2', (2, 3, 10, 10), (2, 2), (2, 2), (0, 0)),
        ('k3s2p1', (2, 3, 9, 9), (3, 3), (2, 2), (1, 1)),
        ('k2s2_floor', (1, 2, 11, 9), (2, 2), (2, 2), (0, 0)),  # last row and column fall outside every window
        ('k3x2s1', (2, 5, 7, 6), (3, 2), (1, 1), (1, 0)),  # overlapping windows
    ]
    tensors, meta = {}, {'cases': json.dumps([c[0] for c in cases]), 'avg_count_include_pad': 'true'}
    for name, xs, k, s, p in cases:
        x = distinct(xs)
        ops = {
            'max': lambda x: F.max_pool2d(x, k, s, p),
            'avg': lambda x: F.avg_pool2d(x, k, s, p, ceil_mode=False, count_include_pad=True),
        }
        tensors[f'{name}.x'] = f32(x)
        for op, fn in ops.items():
            gy = torch.randn(fn(x).shape)
            y, (gx,) = grads64(fn, [x], gy)
            y32, (gx32,) = grads32(fn, [x], gy)
            note_f32_gap('pool', f'{op}.y', y, y32)
            note_f32_gap('pool', f'{op}.gx', gx, gx32)
            for kname, v in zip(['y', 'gy', 'gx'], [y, gy, gx]):
                tensors[f'{name}.{op}.{kname}'] = f32(v)
        g = dict(n=xs[0], c=xs[1], h=xs[2], w=xs[3], kh=k[0], kw=k[1], sh=s[0], sw=s[1], ph=p[0], pw=p[1])
        meta[f'{name}.geom'] = json.dumps(g)
    return save('pool.safetensors', tensors, meta)


# --------------------------------------------------------------------------------------------
# linear: x (M,IN), w (OUT,IN), b (OUT) -> y = x w^T + b (M,OUT)
# --------------------------------------------------------------------------------------------
def linear():
    torch.manual_seed(3)
    cases = [('m5', 5, 13, 7), ('m17', 17, 37, 23)]
    tensors, meta = {}, {'cases': json.dumps([c[0] for c in cases])}
    for name, m, inf, outf in cases:
        x = torch.randn(m, inf)
        w = torch.randn(outf, inf) / inf**0.5
        b = torch.randn(outf) * 0.1
        gy = torch.randn(m, outf)
        y, (gx, gw, gb) = grads64(F.linear, [x, w, b], gy)
        y32, g32 = grads32(F.linear, [x, w, b], gy)
        for k, r, q in zip(['y', 'gx', 'gw', 'gb'], [y, gx, gw, gb], [y32, *g32]):
            note_f32_gap('linear', k, r, q)
        for k, v in zip(['x', 'w', 'b', 'y', 'gy', 'gx', 'gw', 'gb'], [x, w, b, y, gy, gx, gw, gb]):
            tensors[f'{name}.{k}'] = f32(v)
        meta[f'{name}.dims'] = json.dumps(dict(m=m, inF=inf, outF=outf))
    return save('linear.safetensors', tensors, meta)


# --------------------------------------------------------------------------------------------
# relu, sigmoid, tanh: elementwise, x (3,37) with a few saturating values; none within 1e-3 of 0
# --------------------------------------------------------------------------------------------
def activation():
    torch.manual_seed(4)
    x = torch.randn(3, 37) * 2
    x = torch.where(x.abs() < 1e-3, torch.full_like(x, 0.5), x)  # keep ReLU off its kink
    x.view(-1)[:6] = torch.tensor([12.0, -12.0, 30.0, -30.0, 90.0, -90.0])  # saturation, exp overflow in naive forms
    tensors, meta = {'x': f32(x)}, {'ops': json.dumps(['relu', 'sigmoid', 'tanh'])}
    for op, fn in [('relu', torch.relu), ('sigmoid', torch.sigmoid), ('tanh', torch.tanh)]:
        gy = torch.randn(x.shape)
        y, (gx,) = grads64(fn, [x], gy)
        y32, (gx32,) = grads32(fn, [x], gy)
        note_f32_gap('activation', f'{op}.y', y, y32)
        note_f32_gap('activation', f'{op}.gx', gx, gx32)
        for k, v in zip(['y', 'gy', 'gx'], [y, gy, gx]):
            tensors[f'{op}.{k}'] = f32(v)
    return save('activation.safetensors', tensors, meta)


# The op table's further pointwise activations (its `pointwise.torch` cases in pointwise.safetensors):
# one line here per op, named as the table names it. The input is activation()'s kind: kinks
# avoided, saturation and |x| up to 90.
POINTWISE = {
    'softplus': F.softplus,
}


def pointwise():
    torch.manual_seed(14)
    x = torch.randn(3, 37) * 2
    x = torch.where(x.abs() < 1e-3, torch.full_like(x, 0.5), x)
    x.view(-1)[:6] = torch.tensor([12.0, -12.0, 30.0, -30.0, 90.0, -90.0])
    tensors, meta = {'x': f32(x)}, {'ops': json.dumps(list(POINTWISE))}
    for op, fn in POINTWISE.items():
        gy = torch.randn(x.shape)
        y, (gx,) = grads64(fn, [x], gy)
        y32, (gx32,) = grads32(fn, [x], gy)
        note_f32_gap('pointwise', f'{op}.y', y, y32)
        note_f32_gap('pointwise', f'{op}.gx', gx, gx32)
        for k, v in zip(['y', 'gy', 'gx'], [y, gy, gx]):
            tensors[f'{op}.{k}'] = f32(v)
    return save('pointwise.safetensors', tensors, meta)


# --------------------------------------------------------------------------------------------
# softmax cross-entropy: logits (N,C), labels (N) -> mean loss, probs (N,C), dloss/dlogits (N,C)
# --------------------------------------------------------------------------------------------
def softmax_xent():
    torch.manual_seed(5)
    n, c = 6, 10
    logits = torch.randn(n, c) * 3
    logits[2] = torch.tensor([30.0, -30.0, 29.0, -30.0, 0.0, 30.0, -29.5, 1.0, -1.0, 15.0])  # exp would overflow unshifted
    labels = torch.tensor([3, 0, 1, 9, 9, 5], dtype=torch.int64)  # row 2's label has probability ~4e-27: a loss term of ~61
    xs = logits.detach().double().requires_grad_(True)
    loss = F.cross_entropy(xs, labels)  # mean over the batch
    loss.backward()
    probs = torch.softmax(xs.detach(), dim=1)
    x32 = logits.detach().clone().requires_grad_(True)
    loss32 = F.cross_entropy(x32, labels)
    loss32.backward()
    note_f32_gap('softmax_xent', 'loss', loss, loss32)
    note_f32_gap('softmax_xent', 'probs', probs, torch.softmax(logits, 1))
    note_f32_gap('softmax_xent', 'dlogits', xs.grad, x32.grad)
    tensors = {
        'logits': f32(logits),
        'labels': labels.to(torch.int32).numpy(),
        'loss': f32(loss.reshape(1)),
        'probs': f32(probs),
        'dlogits': f32(xs.grad),
    }
    meta = {'n': n, 'c': c, 'loss': repr(loss.item()), 'reduction': 'mean', 'dlogits': 'gradient of the mean loss: (probs - onehot) / n'}
    return save('softmax_xent.safetensors', tensors, meta)


# --------------------------------------------------------------------------------------------
# losses: mse, bce_logits (means over all elements) and softmax cross-entropy with label
# smoothing; each with a non-unit upstream gradient gy on the scalar loss
# --------------------------------------------------------------------------------------------
def scalar_grads(fn, inputs, gy):
    """fn(*inputs) -> scalar loss in float64 and float32; returns (loss64, grads64, loss32, grads32) for gy * loss."""
    out = []
    for dtype in (torch.float64, torch.float32):
        xs = [t.detach().clone().to(dtype).requires_grad_(True) for t in inputs]
        y = fn(*xs)
        (y * gy).backward()
        out += [y, [t.grad for t in xs]]
    return out


def losses():
    torch.manual_seed(9)
    tensors, meta = {}, {}
    gy = 0.7

    # mse: pred and target (3,5,7), any rank; only pred's gradient is ours
    pred = torch.randn(3, 5, 7) * 2
    target = torch.randn(3, 5, 7)
    y, (gp,), y32, (gp32,) = scalar_grads(lambda p: F.mse_loss(p, target.to(p.dtype)), [pred], gy)
    note_f32_gap('losses', 'mse.loss', y, y32)
    note_f32_gap('losses', 'mse.gpred', gp, gp32)
    tensors.update({'mse.pred': f32(pred), 'mse.target': f32(target), 'mse.loss': f32(y.reshape(1)), 'mse.gpred': f32(gp)})

    # bce_logits: logits (4,13) normal x 3 with +-30 and +-100 entries, targets in [0, 1] with exact
    # 0s and 1s; and a saturated case where every target agrees with a large logit, so the mean is
    # the tiny log1p(exp(-|x|)) terms (a naive log(1 + exp(-x)) or 1 - sigmoid would lose them)
    logits = torch.randn(4, 13) * 3
    logits.view(-1)[:8] = torch.tensor([30.0, -30.0, 100.0, -100.0, 30.0, -30.0, 100.0, -100.0])
    target = torch.rand(4, 13)
    target.view(-1)[:8] = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0])  # agree, then disagree
    target.view(-1)[8:12] = torch.tensor([0.0, 1.0, 0.0, 1.0])
    sat = torch.tensor([30.0, -30.0, 100.0, -100.0, 30.0, 17.0, -17.0])
    sat_t = (sat > 0).to(torch.float32)
    for name, x, t in [('bce', logits, target), ('bce_sat', sat, sat_t)]:
        y, (gx,), y32, (gx32,) = scalar_grads(lambda v: F.binary_cross_entropy_with_logits(v, t.to(v.dtype)), [x], gy)
        note_f32_gap('losses', f'{name}.loss', y, y32)
        note_f32_gap('losses', f'{name}.glogits', gx, gx32)
        tensors.update({f'{name}.logits': f32(x), f'{name}.target': f32(t), f'{name}.loss': f32(y.reshape(1)), f'{name}.glogits': f32(gx)})
        meta[f'{name}.loss'] = repr(y.item())

    # softmax cross-entropy with label smoothing: logits (7,10) with a row at +-30, two eps
    xl = torch.randn(7, 10) * 3
    xl[3] = torch.tensor([30.0, -30.0, 29.0, -30.0, 0.0, 30.0, -29.5, 1.0, -1.0, 15.0])
    labels = torch.tensor([3, 0, 1, 1, 9, 5, 2], dtype=torch.int64)
    tensors.update({'xent.logits': f32(xl), 'xent.labels': labels.to(torch.int32).numpy()})
    smoothings = [0.1, 0.35]
    for eps in smoothings:
        y, (gx,), y32, (gx32,) = scalar_grads(lambda v: F.cross_entropy(v, labels, label_smoothing=eps), [xl], gy)
        note_f32_gap('losses', f'xent{eps}.loss', y, y32)
        note_f32_gap('losses', f'xent{eps}.glogits', gx, gx32)
        tensors.update({f'xent{eps}.loss': f32(y.reshape(1)), f'xent{eps}.glogits': f32(gx)})
    meta.update({'gy': gy, 'smoothings': json.dumps(smoothings), 'reduction': 'mean'})
    return save('losses.safetensors', tensors, meta)


# --------------------------------------------------------------------------------------------
# optimizers: two steps from the same w0 with gradients g1 then g2
# --------------------------------------------------------------------------------------------
OPTIMS = [
    # name, kernel, hyper-parameters as our wrappers name them, torch constructor
    ('sgd', 'sgd', dict(lr=0.1, momentum=0.0, weightDecay=0.0, nesterov=False),
     lambda p: torch.optim.SGD(p, lr=0.1)),
    ('sgd_wd', 'sgd', dict(lr=0.1, momentum=0.0, weightDecay=0.01, nesterov=False),
     lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01)),
    ('sgd_momentum', 'sgd', dict(lr=0.05, momentum=0.9, weightDecay=0.01, nesterov=False),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01)),
    ('sgd_nesterov', 'sgd', dict(lr=0.05, momentum=0.9, weightDecay=0.01, nesterov=True),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True)),
    ('adagrad', 'adagrad', dict(lr=0.1, eps=1e-10, weightDecay=0.0),
     lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-10)),
    ('adagrad_wd', 'adagrad', dict(lr=0.1, eps=1e-10, weightDecay=0.01),
     lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-10, weight_decay=0.01)),
    ('rmsprop', 'rmsprop', dict(lr=0.01, alpha=0.99, eps=1e-8, weightDecay=0.0),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-8)),
    ('rmsprop_wd', 'rmsprop', dict(lr=0.01, alpha=0.99, eps=1e-8, weightDecay=0.01),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.01)),
    ('adam', 'adam', dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weightDecay=0.0, decoupled=False),
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8)),
    ('adam_l2', 'adam', dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weightDecay=0.01, decoupled=False),
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)),
    ('adamw', 'adam', dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weightDecay=0.1, decoupled=True),
     lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
]

# our state buffer names (the wrappers' argument names) -> torch's optimizer state keys
STATE = {'sgd': {'v': 'momentum_buffer'}, 'adagrad': {'h': 'sum'}, 'rmsprop': {'s': 'square_avg'}, 'adam': {'m': 'exp_avg', 'v': 'exp_avg_sq'}}


def optim():
    torch.manual_seed(6)
    n = 103
    w0 = torch.randn(n)
    g1 = torch.randn(n)
    g2 = torch.randn(n)
    g1[::17] = 0.0  # zero gradients: 0 / (sqrt(0) + eps) must stay 0 in Adagrad and RMSprop
    tensors = {'w0': f32(w0), 'g1': f32(g1), 'g2': f32(g2)}
    meta = {'configs': json.dumps([o[0] for o in OPTIMS]), 'n': n}
    for name, kernel, hp, make in OPTIMS:
        for dtype in (torch.float64, torch.float32):
            p = nn.Parameter(w0.clone().to(dtype))
            opt = make([p])
            ws, states = [], []
            for g in (g1, g2):
                p.grad = g.clone().to(dtype)
                opt.step()
                ws.append(p.detach().clone())
                st = opt.state[p]
                states.append({ours: st[theirs].clone() for ours, theirs in STATE[kernel].items() if theirs in st and st[theirs] is not None})
            if dtype == torch.float64:
                ref_ws, ref_states = ws, states
            else:
                for i in range(2):
                    note_f32_gap('optim', f'{name}.w{i + 1}', ref_ws[i], ws[i])
        tensors[f'{name}.w1'] = f32(ref_ws[0])
        tensors[f'{name}.w2'] = f32(ref_ws[1])
        for i in range(2):
            for k, v in ref_states[i].items():
                tensors[f'{name}.{k}{i + 1}'] = f32(v)
        meta[name] = json.dumps(dict(kernel=kernel, **hp))
    return save('optim.safetensors', tensors, meta)


# --------------------------------------------------------------------------------------------
# LeNet: the reference model, its state_dict, one batch, logits, loss and every gradient
# --------------------------------------------------------------------------------------------
# (the class itself is in torch_lenet.py, shared with bench/torch_peer.py)


def lenet():
    torch.manual_seed(7)
    model = LeNet()  # default torch init
    state = {k: f32(v) for k, v in model.state_dict().items()}
    size = save('lenet_state.safetensors', state, {'format': 'pt', 'model': 'LeNet', 'torch': torch.__version__, 'seed': 7})

    torch.manual_seed(8)
    n = 8
    x = torch.randn(n, 1, 28, 28)
    labels = torch.tensor([7, 2, 1, 0, 4, 1, 9, 5], dtype=torch.int64)
    runs = {}
    for dtype in (torch.float64, torch.float32):
        m = LeNet().to(dtype)
        m.load_state_dict({k: v.to(dtype) for k, v in model.state_dict().items()})
        xd = x.to(dtype)
        flat = m.features(xd)
        h1 = m.fc1(flat)
        logits = m.fc2(F.relu(h1))
        loss = F.cross_entropy(logits, labels)
        m.zero_grad()
        loss.backward()
        runs[dtype] = dict(flat=flat, h1=h1, logits=logits, loss=loss, grads={k: p.grad for k, p in m.named_parameters()})
    r, q = runs[torch.float64], runs[torch.float32]
    for k in ('flat', 'h1', 'logits', 'loss'):
        note_f32_gap('lenet_batch', k, r[k], q[k])
    for k in r['grads']:
        note_f32_gap('lenet_batch', f'grad.{k}', r['grads'][k], q['grads'][k])
    tensors = {
        'x': f32(x),
        'labels': labels.to(torch.int32).numpy(),
        'labels_i64': labels.numpy(),
        'logits': f32(r['logits']),
        'loss': f32(r['loss'].reshape(1)),
        'act.flatten': f32(r['flat']),
        'act.fc1': f32(r['h1']),
    }
    for k, g in r['grads'].items():
        tensors[f'grad.{k}'] = f32(g)
    meta = {'loss': repr(r['loss'].item()), 'reduction': 'mean', 'state': 'lenet_state.safetensors', 'seed': 8}
    return size + save('lenet_batch.safetensors', tensors, meta)


# --------------------------------------------------------------------------------------------
# batch norm (F.batch_norm): x (N,C) or (N,C,H,W); training (batch statistics, biased variance
# to normalise) and eval (running statistics). Per case: inputs, y, gy and gx, gw, gb; training
# cases also `stats` = [batch mean (C), unbiased batch variance (C)], what the op hands back for
# the running-statistics update.
# --------------------------------------------------------------------------------------------
def batchnorm():
    torch.manual_seed(11)
    eps = 1e-5
    cases = [
        # name, x shape, training
        ('bn1d_train', (7, 5), True),
        ('bn2d_train', (3, 4, 5, 6), True),
        ('bn1d_eval', (6, 3), False),
        ('bn2d_eval', (2, 3, 7, 5), False),
    ]
    tensors, meta = {}, {'cases': json.dumps([c[0] for c in cases]), 'eps': repr(eps)}
    for name, xs, training in cases:
        c = xs[1]
        x = torch.randn(xs) * 1.5 + torch.randn(c).reshape((1, c) + (1,) * (len(xs) - 2))  # a mean per channel
        w = torch.rand(c) + 0.5
        b = torch.randn(c) * 0.2
        rm = torch.randn(c) * 0.5
        rv = torch.rand(c) + 0.5
        fn = lambda x, w, b: F.batch_norm(x, rm.clone().to(x.dtype), rv.clone().to(x.dtype), w, b, training, 0.1, eps)
        gy = torch.randn(xs)
        y, (gx, gw, gb) = grads64(fn, [x, w, b], gy)
        y32, g32 = grads32(fn, [x, w, b], gy)
        for k, r, q in zip(['y', 'gx', 'gw', 'gb'], [y, gx, gw, gb], [y32, *g32]):
            note_f32_gap('batchnorm', k, r, q)
        for k, v in zip(['x', 'weight', 'bias', 'running_mean', 'running_var', 'y', 'gy', 'gx', 'gw', 'gb'], [x, w, b, rm, rv, y, gy, gx, gw, gb]):
            tensors[f'{name}.{k}'] = f32(v)
        if training:
            dims = [0] + list(range(2, len(xs)))
            xd = x.double()
            tensors[f'{name}.stats'] = f32(torch.cat([xd.mean(dims), xd.var(dims, unbiased=True)]))
        meta[f'{name}.training'] = json.dumps(training)
    return save('batchnorm.safetensors', tensors, meta)


# --------------------------------------------------------------------------------------------
# running statistics: nn.BatchNorm1d(5) and nn.BatchNorm2d(4) (momentum 0.1, eps 1e-5, default
# init: running_mean 0, running_var 1) after three training-mode forward calls on different
# batches x1, x2, x3; running_mean, running_var, num_batches_tracked (I64) after each call.
# --------------------------------------------------------------------------------------------
def batchnorm_running():
    torch.manual_seed(12)
    tensors, meta = {}, {'models': json.dumps(['bn1d', 'bn2d']), 'momentum': '0.1', 'eps': '1e-05', 'steps': '3'}
    for name, mod, xs in [('bn1d', nn.BatchNorm1d(5), (6, 5)), ('bn2d', nn.BatchNorm2d(4), (3, 4, 5, 5))]:
        m64 = mod.double().train()
        m32 = type(mod)(xs[1]).train()
        for step in (1, 2, 3):
            x = torch.randn(xs) * (1 + step) + step  # a new batch, with its own mean and spread
            m64(x.double())
            m32(x)
            tensors[f'{name}.x{step}'] = f32(x)
            tensors[f'{name}.running_mean{step}'] = f32(m64.running_mean)
            tensors[f'{name}.running_var{step}'] = f32(m64.running_var)
            tensors[f'{name}.num_batches_tracked{step}'] = m64.num_batches_tracked.reshape(1).numpy().astype(np.int64)
            note_f32_gap('batchnorm_running', 'running_mean', m64.running_mean, m32.running_mean)
            note_f32_gap('batchnorm_running', 'running_var', m64.running_var, m32.running_var)
    return save('batchnorm_running.safetensors', tensors, meta)


# --------------------------------------------------------------------------------------------
# a residual block: y = relu(bn(conv(x)) + x), conv 3x3 padding 1 keeping the channels, bn in
# training mode; forward and the gradients of x and every parameter for a fixed gy.
# --------------------------------------------------------------------------------------------
def residual():
    torch.manual_seed(13)
    n, c, h, w = 2, 4, 7, 6
    eps = 1e-5
    x = torch.randn(n, c, h, w)
    cw = torch.randn(c, c, 3, 3) / (c * 9) ** 0.5
    cb = torch.randn(c) * 0.1
    bw = torch.rand(c) + 0.5
    bb = torch.randn(c) * 0.2

    def block(x, cw, cb, bw, bb):
        z = F.conv2d(x, cw, cb, stride=1, padding=1)
        rm = torch.zeros(c, dtype=x.dtype)
        rv = torch.ones(c, dtype=x.dtype)
        return F.relu(F.batch_norm(z, rm, rv, bw, bb, True, 0.1, eps) + x)

    gy = torch.randn(n, c, h, w)
    ins = [x, cw, cb, bw, bb]
    y, grads = grads64(block, ins, gy)
    y32, g32 = grads32(block, ins, gy)
    names = ['x', 'conv.weight', 'conv.bias', 'bn.weight', 'bn.bias']
    note_f32_gap('residual', 'y', y, y32)
    for k, r, q in zip(names, grads, g32):
        note_f32_gap('residual', f'grad.{k}', r, q)
    tensors = {k: f32(v) for k, v in zip(names, ins)}
    tensors['y'] = f32(y)
    tensors['gy'] = f32(gy)
    for k, g in zip(names, grads):
        tensors[f'grad.{k}'] = f32(g)
    meta = {'eps': repr(eps), 'block': 'relu(batch_norm(conv2d(x, conv.weight, conv.bias, padding=1), training) + x)'}
    return save('residual.safetensors', tensors, meta)


# --------------------------------------------------------------------------------------------
# leaky_relu (slopes 0.01 and 0.2), global average pooling (adaptive_avg_pool2d to 1x1, then
# flatten), torch.cat along dim 1 (4-D and 2-D) and add: outputs and gradients for fixed gy.
# --------------------------------------------------------------------------------------------
def general_ops():
    torch.manual_seed(14)
    tensors, meta = {}, {}
    x = torch.randn(3, 37) * 2
    x = torch.where(x.abs() < 1e-3, torch.full_like(x, 0.5), x)  # off the kink at 0
    tensors['leaky.x'] = f32(x)
    slopes = [0.01, 0.2]
    meta['leaky.slopes'] = json.dumps(slopes)
    for slope in slopes:
        fn = lambda x: F.leaky_relu(x, slope)
        gy = torch.randn(x.shape)
        y, (gx,) = grads64(fn, [x], gy)
        y32, (gx32,) = grads32(fn, [x], gy)
        note_f32_gap('general_ops', 'leaky.y', y, y32)
        note_f32_gap('general_ops', 'leaky.gx', gx, gx32)
        for k, v in zip(['y', 'gy', 'gx'], [y, gy, gx]):
            tensors[f'leaky{slope}.{k}'] = f32(v)

    x = torch.randn(3, 5, 7, 6) + 1
    fn = lambda x: torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
    gy = torch.randn(3, 5)
    y, (gx,) = grads64(fn, [x], gy)
    y32, (gx32,) = grads32(fn, [x], gy)
    note_f32_gap('general_ops', 'gap.y', y, y32)
    note_f32_gap('general_ops', 'gap.gx', gx, gx32)
    for k, v in zip(['x', 'y', 'gy', 'gx'], [x, y, gy, gx]):
        tensors[f'gap.{k}'] = f32(v)

    cases = [('cat4d', (2, 3, 4, 5), (2, 2, 4, 5)), ('cat2d', (3, 4), (3, 1))]
    meta['cat.cases'] = json.dumps([c[0] for c in cases])
    for name, sa, sb in cases:
        a, b = torch.randn(sa), torch.randn(sb)
        fn = lambda a, b: torch.cat([a, b], 1)
        gy = torch.randn(fn(a, b).shape)
        y, (ga, gb) = grads64(fn, [a, b], gy)
        for k, v in zip(['a', 'b', 'y', 'gy', 'ga', 'gb'], [a, b, y, gy, ga, gb]):
            tensors[f'{name}.{k}'] = f32(v)

    a, b = torch.randn(2, 3, 5), torch.randn(2, 3, 5)
    gy = torch.randn(2, 3, 5)
    y, (ga, gb) = grads64(torch.add, [a, b], gy)
    for k, v in zip(['a', 'b', 'y', 'gy', 'ga', 'gb'], [a, b, y, gy, ga, gb]):
        tensors[f'add.{k}'] = f32(v)
    return save('general_ops.safetensors', tensors, meta)


FIXTURES = {f.__name__: f for f in (conv2d, pool, linear, activation, pointwise, softmax_xent, losses, optim, lenet, batchnorm, batchnorm_running, residual, general_ops)}


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)  # same sums in the same order on every machine that reruns this
    # names on the command line pick fixtures (e.g. `batchnorm residual`); none: all of them
    names = sys.argv[1:] or list(FIXTURES)
    unknown = [n for n in names if n not in FIXTURES]
    if unknown:
        print(f'unknown fixture(s) {unknown}; known: {list(FIXTURES)}', file=sys.stderr)
        return 2
    total = sum(FIXTURES[n]() for n in names)
    print(f'total {total} bytes')
    print('PyTorch float32 vs float64 reference, max |diff| / max |ref| per tensor:')
    for k, v in sorted(worst.items()):
        print(f'  {k:40s} {v:.2e}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
