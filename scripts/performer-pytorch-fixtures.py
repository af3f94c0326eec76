#!/usr/bin/env python3
"""Fixtures for the performer-pytorch bridge (docs/INTEROP.md, test/interop-*.test.ts).

Builds small seeded performer-pytorch 1.1.4 PerformerLM models, perturbs every weight away from its
initialisation, and writes into test/fixtures/performer-pytorch/<config>/:

  model.pt            torch.save(model.state_dict())  (zip format, with the proj_updater duplicates)
  model.safetensors   what safetensors.torch.save_model writes (duplicates dropped), by hand
  config.json         the PerformerLM keyword arguments
  io.safetensors      tokens [B, L] I64, key_mask [B, L] BOOL, logits [B, L, V] F32 (eval mode)

plus a few files for the .pt reader's tests (dtypes.pt, evil.pt, module.pt).

With --roundtrip it then runs, for every config, `performer import` and `performer export` (from
this checkout, through tsx), loads the exported safetensors into a freshly built PerformerLM with a
strict load_state_dict, and records the logits' relative error in roundtrip.json.

Needs Debian's python3-torch (1.13) and, on PYTHONPATH, the sources of performer-pytorch 1.1.4,
einops, local-attention 1.4.x and axial-positional-embedding (no pip: see docs/INTEROP.md).

    PYTHONPATH=/path/to/sources /usr/bin/python3 scripts/performer-pytorch-fixtures.py [--roundtrip]
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch
from performer_pytorch import PerformerLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'performer-pytorch')

# Shapes that catch mistakes: dim_head·heads (24) differs from dim (16), nb_features (20) is not a
# multiple of dim_head (12), sequences (12) shorter than max_seq_len (16).
BASE = dict(num_tokens=24, max_seq_len=16, dim=16, depth=2, heads=2, dim_head=12, nb_features=20, ff_mult=2)
CONFIGS = {
    'causal-rotary': dict(causal=True),
    'bidirectional': dict(causal=False, rotary_position_emb=False, qkv_bias=True, attn_out_bias=True),
    'relu': dict(causal=True, generalized_attention=True),
    'glu-scalenorm': dict(causal=True, ff_glu=True, use_scalenorm=True),
    'shift-tied': dict(causal=True, shift_tokens=True, tie_embed=True),
    'rezero-shift-bidirectional': dict(causal=False, use_rezero=True, shift_tokens=True, rotary_position_emb=False),
    # local heads (the last heads of a layer): L = 12 > 2·w, not a multiple of w = 5 (local-attention pads)
    'local-causal': dict(causal=True, local_attn_heads=(1, 2), local_window_size=5),
    'local-bidirectional': dict(causal=False, local_attn_heads=1, local_window_size=5, shift_tokens=True),
}
B, L = 2, 12
DUPLICATE = 'performer.proj_updater.instance.'
ST_DTYPES = {torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.bfloat16: 'BF16',
             torch.int64: 'I64', torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8',
             torch.bool: 'BOOL'}


def write_safetensors(path, tensors, metadata=None):
    """safetensors by hand: u64 LE header length, JSON header (padded to 8 bytes), data."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        raw = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {'dtype': ST_DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header['__metadata__'] = metadata
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(chunks))


def read_safetensors(path):
    import numpy as np
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', {})
    np_types = {'F32': np.float32, 'I64': np.int64, 'F64': np.float64, 'I32': np.int32, 'U8': np.uint8, 'BOOL': np.bool_}
    out = {}
    for name, e in header.items():
        b, end = e['data_offsets']
        arr = np.frombuffer(data[8 + n + b: 8 + n + end], dtype=np_types[e['dtype']]).reshape(e['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta


def perturb(model, seed):
    """Moves every weight away from its initialisation (seeded), so a mix-up of two tensors shows."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if name.endswith('.g') and p.numel() == 1 and 'norm' not in name and p.item() < 0.01:
                p.copy_(0.5 + 0.1 * noise)  # ReZero's g starts at 1e-3
            else:
                p.add_(noise * 0.3 * (p.abs().mean() + 0.1))
        model.performer.proj_updater.calls_since_last_redraw.fill_(7)


def build(name, extra, seed):
    torch.manual_seed(seed)
    kwargs = {**BASE, **extra}
    model = PerformerLM(**kwargs)
    perturb(model, seed + 1)
    model.eval()
    g = torch.Generator().manual_seed(seed + 2)
    tokens = torch.randint(0, kwargs['num_tokens'], (B, L), generator=g)
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[1, L - 3:] = False
    with torch.no_grad():
        logits = model(tokens, mask=mask)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    sd = model.state_dict()
    torch.save(sd, os.path.join(d, 'model.pt'))
    write_safetensors(os.path.join(d, 'model.safetensors'), {k: v for k, v in sd.items() if not k.startswith(DUPLICATE)}, {'format': 'pt'})
    with open(os.path.join(d, 'config.json'), 'w') as f:
        json.dump(kwargs, f, indent=2)
        f.write('\n')
    write_safetensors(os.path.join(d, 'io.safetensors'), {'tokens': tokens, 'key_mask': mask, 'logits': logits})
    return kwargs, tokens, mask, logits


class Evil:
    """Unpickling this would run a shell command: the .pt reader must refuse it unrun."""

    def __reduce__(self):
        return (os.system, ('echo performer-fixture-ran-a-shell-command',))


def reader_fixtures():
    d = os.path.join(OUT, 'reader')
    os.makedirs(d, exist_ok=True)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8 - 1
    torch.save({
        'f32': base,
        'f64': base.double(),
        'f16': base.half(),
        'bf16': base.bfloat16(),
        'i64_scalar': torch.tensor(7),
        'i32': torch.arange(5, dtype=torch.int32) - 2,
        'u8': torch.arange(4, dtype=torch.uint8),
        'bool': torch.tensor([True, False, True]),
        'transposed': base.t(),                 # strides (1, 6): a view of f32's storage
        'slice': base[1:3, 2:5],                # storage offset 8, strides (6, 1)
    }, os.path.join(d, 'dtypes.pt'))
    torch.save({'weight': torch.zeros(2), 'payload': Evil()}, os.path.join(d, 'evil.pt'))
    torch.manual_seed(0)
    torch.save(PerformerLM(num_tokens=4, max_seq_len=4, dim=4, depth=1, heads=1, dim_head=4, nb_features=4), os.path.join(d, 'module.pt'))


def run_performer(args):
    cmd = ['node', '--import', 'tsx', '-e',
           'const m = await import("./src/cli/main.ts"); process.exitCode = await m.main(JSON.parse(process.argv[1]));',
           json.dumps(args)]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f'performer {" ".join(args)} failed: {r.stderr.strip()}')


def as_python(kwargs):
    """JSON has no tuples: PerformerLM takes a per-layer local_attn_heads as a tuple only."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}


def load_exported(exported):
    """A fresh PerformerLM (another seed) from an export: the duplicates filled, a strict load."""
    with open(exported[:-len('.safetensors')] + '.config.json') as f:
        kwargs = json.load(f)
    state, meta = read_safetensors(exported)
    for k in list(state):
        if k.startswith('performer.net.'):
            state[DUPLICATE + k[len('performer.net.'):]] = state[k]
    torch.manual_seed(12345)  # a different init: every value must come from the file
    model = PerformerLM(**as_python(kwargs))
    model.load_state_dict(state, strict=True)
    return model.eval(), kwargs, meta


def native(tmp):
    """A model trained here (erf GELU, learned positions, token shift), exported, run in PyTorch:
    its logits against `performer forward --numerics performer-pytorch` on the same batch."""
    text = os.path.join(tmp, 'text.txt')
    with open(text, 'w') as f:
        f.write('It was the best of times, it was the worst of times, it was the age of wisdom. ' * 30)
    ckpt, exported = os.path.join(tmp, 'native'), os.path.join(tmp, 'native.safetensors')
    run_performer(['train', '--data', text, '--out', ckpt, '--layers', '2', '--dim', '16', '--heads', '2', '--seq', '16', '--batch', '2',
                   '--steps', '20', '--warmup', '2', '--schedule-steps', '20', '--features', '20', '--positions', 'learned', '--gelu', 'erf',
                   '--token-shift', '--dropout', '0'])
    run_performer(['export', '--checkpoint', ckpt, '--to', 'performer-pytorch', '--out', exported])
    model, kwargs, meta = load_exported(exported)
    g = torch.Generator().manual_seed(7)
    tokens = torch.randint(0, kwargs['num_tokens'], (B, L), generator=g)
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[0, L - 4:] = False
    with torch.no_grad():
        logits = model(tokens, mask=mask)
    write_safetensors(os.path.join(tmp, 'in.safetensors'), {'tokens': tokens, 'key_mask': mask})
    run_performer(['forward', '--checkpoint', ckpt, '--in', os.path.join(tmp, 'in.safetensors'), '--out', os.path.join(tmp, 'out.safetensors'),
                   '--numerics', 'performer-pytorch'])
    ours = read_safetensors(os.path.join(tmp, 'out.safetensors'))[0]['logits']
    rel = ((ours - logits).abs().max() / logits.abs().max()).item()
    print(f'native (trained here): exported logits in PyTorch vs performer forward, relative error {rel:.2e}')
    if rel > 1e-4:
        raise SystemExit(f'native export error {rel} above 1e-4')
    return {'relative_error': rel, 'kwargs_agree': True, 'format': meta.get('format')}


def roundtrip(results):
    """import (.pt) → export → strict load into a fresh PerformerLM → same logits."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (kwargs, tokens, mask, logits) in results.items():
            d = os.path.join(OUT, name)
            ckpt, exported = os.path.join(tmp, name), os.path.join(tmp, name + '.safetensors')
            run_performer(['import', '--from', os.path.join(d, 'model.pt'), '--config', os.path.join(d, 'config.json'), '--out', ckpt, '--tokenizer', 'none'])
            run_performer(['export', '--checkpoint', ckpt, '--to', 'performer-pytorch', '--out', exported])
            model, exported_kwargs, meta = load_exported(exported)
            with torch.no_grad():
                again = model(tokens, mask=mask)
            rel = ((again - logits).abs().max() / logits.abs().max()).item()
            agree = all(as_python(exported_kwargs).get(k) == v for k, v in kwargs.items())
            out[name] = {'relative_error': rel, 'kwargs_agree': agree, 'format': meta.get('format')}
            if not agree:
                raise SystemExit(f'{name}: exported arguments {exported_kwargs} differ from {kwargs}')
            print(f'{name}: export round trip relative error {rel:.2e}')
            if rel > 1e-4:
                raise SystemExit(f'{name}: export round trip error {rel} above 1e-4')
        out['native-trained'] = native(tmp)
    with open(os.path.join(OUT, 'roundtrip.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'performer_pytorch': '1.1.4', 'results': out}, f, indent=2)
        f.write('\n')


def main():
    results = {}
    for i, (name, extra) in enumerate(CONFIGS.items()):
        results[name] = build(name, extra, 100 + 10 * i)
    reader_fixtures()
    if '--roundtrip' in sys.argv[1:]:
        roundtrip(results)


if __name__ == '__main__':
    main()
