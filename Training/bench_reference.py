"""Times the product's networks with PyTorch CPU and ONNX Runtime CPU at the same thread count as
`delineate bench engine`, so the three engines are compared on one machine in one session.

usage: bench_reference.py [--threads 2] [--runs 20] [--memory-frames 20]
Prints a Markdown table of median milliseconds (after one warm-up run).
"""
from __future__ import annotations

import argparse
import io
import statistics
import time

import onnxruntime
import torch

from models import PropNet
from sim_batches import SIZE, make_net


class PropSegment(torch.nn.Module):
    """The per-slice propagation step: read the memory, decode, score (what the engine times)."""

    def __init__(self, net: PropNet):
        super().__init__()
        self.net = net

    def forward(self, f1, f2, key, query_value, memory_keys, memory_values):
        return self.net.decode(f1, f2, query_value, self.net.read(key, memory_keys, memory_values))


def median_ms(function, runs: int) -> float:
    function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def onnx_session(module, inputs, threads: int):
    buffer = io.BytesIO()
    torch.onnx.export(module, inputs, buffer, dynamo=False, opset_version=17)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feed = {name: tensor.numpy() for name, tensor in zip(names, inputs)}
    return lambda: session.run(None, feed)


class SimNoState(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--memory-frames", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    with torch.no_grad():
        for variant in ("sim", "cim"):
            net = SimNoState(make_net(variant).eval().requires_grad_(False))
            x = torch.randn(1, net.net.input_channels, SIZE, SIZE)
            rows.append((f"{variant.upper()} forward, 1x{net.net.input_channels}x{SIZE}x{SIZE}",
                         median_ms(lambda: net(x), args.runs), median_ms(onnx_session(net, (x,), args.threads), args.runs)))
        prop = PropNet().eval().requires_grad_(False)
        image = torch.randn(1, 1, SIZE, SIZE)
        key_encoder = Method(prop, "encode_key")
        rows.append(("propagation key encoder", median_ms(lambda: prop.encode_key(image), args.runs),
                     median_ms(onnx_session(key_encoder, (image,), args.threads), args.runs)))
        mask = torch.rand(1, 1, SIZE, SIZE)
        value_encoder = Method(prop, "encode_value")
        rows.append(("propagation value encoder", median_ms(lambda: prop.encode_value(image, mask), args.runs),
                     median_ms(onnx_session(value_encoder, (image, mask), args.threads), args.runs)))
        f1, f2, key, query_value = prop.encode_key(image)
        t = args.memory_frames
        keys = key[:, None].expand(1, t, *key.shape[1:]).contiguous()
        values = prop.encode_value(image, mask)[:, None].expand(1, t, 64, *key.shape[2:]).contiguous()
        step = PropSegment(prop)
        inputs = (f1, f2, key, query_value, keys, values)
        rows.append((f"propagation read + decode + quality, {t} frames", median_ms(lambda: step(*inputs), args.runs),
                     median_ms(onnx_session(step, inputs, args.threads), args.runs)))
    print(f"| network | PyTorch {torch.__version__} ms | ONNX Runtime {onnxruntime.__version__} ms |")
    print("| --- | ---: | ---: |")
    for name, torch_ms, ort_ms in rows:
        print(f"| {name} | {torch_ms:.2f} | {ort_ms:.2f} |")
    print(f"\n{args.threads} thread(s), median of {args.runs} runs after a warm-up; random weights of the same shapes.")
    return 0


class Method(torch.nn.Module):
    """One method of a network as a module of its own, for ONNX export."""

    def __init__(self, net: torch.nn.Module, name: str):
        super().__init__()
        self.net = net
        self.name = name

    def forward(self, *inputs):
        return getattr(self.net, self.name)(*inputs)


if __name__ == "__main__":
    raise SystemExit(main())
