#!/usr/bin/env python3
"""TinyVLM in PyTorch: the reference that FailureSynth's own engine is checked and timed against.

It is never used at run time. `failuresynth bench student` (and the TinyVlm parity test) write a
checkpoint and a batch of inputs as safetensors files, run this script with /usr/bin/python3, and
read back the JSON it prints: the logits for the inputs (parity) and, when asked, timings of one
training step (forward + backward + AdamW) and of inference.

The architecture mirrors services/FailureSynth.TinyVlm/Model exactly: same tensor names and layouts
([out, in] linear weights, [out, in, kh, kw] conv kernels), conv padding, exact-erf GELU, layer-norm
eps 1e-5, attention scaled by 1/sqrt(head width), CoordConv channels from -1 to +1.
"""
import argparse
import json
import math
import statistics
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_safetensors(path):
    """Tensors (float32) and __metadata__ of a safetensors file: 8-byte LE header size, JSON header, raw data."""
    with open(path, "rb") as f:
        raw = f.read()
    (header_size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_size].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + header_size
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {info['dtype']}; this reader takes F32 only")
        begin, end = info["data_offsets"]
        values = torch.frombuffer(bytearray(raw[base + begin:base + end]), dtype=torch.float32)
        tensors[name] = values.reshape(info["shape"]).clone()
    return tensors, metadata


def coordinates(batch, size):
    """[B, 2, n, n]: channel 0 the column, channel 1 the row, each from -1 to +1."""
    steps = torch.arange(size, dtype=torch.float32)
    line = -1.0 + 2.0 * steps / (size - 1) if size > 1 else torch.zeros(size)
    xs = line.view(1, size).expand(size, size)
    ys = line.view(size, 1).expand(size, size)
    return torch.stack([xs, ys]).unsqueeze(0).expand(batch, 2, size, size)


class ImageEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(5, c["conv1_channels"], 3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(c["conv1_channels"], c["conv2_channels"], 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(c["conv2_channels"], c["conv3_channels"], 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(c["conv1_channels"], eps=1e-5, momentum=0.1)
        self.bn2 = nn.BatchNorm2d(c["conv2_channels"], eps=1e-5, momentum=0.1)
        self.bn3 = nn.BatchNorm2d(c["conv3_channels"], eps=1e-5, momentum=0.1)
        self.image_size = c["image_size"]

    def forward(self, images):
        b = images.shape[0]
        x = torch.cat([images, coordinates(b, self.image_size)], 1)
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        return torch.cat([x, coordinates(b, self.image_size // 8)], 1)


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(width, width)
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x, valid):
        p, t, d = x.shape
        dh = d // self.heads

        def split(y):
            return y.view(p, t, self.heads, dh).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
        scores = scores.masked_fill(~valid[:, None, None, :], float("-inf"))
        out = torch.softmax(scores, -1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(p, t, d))


class TransformerLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = c["model_width"]
        self.norm1 = nn.LayerNorm(w, eps=1e-5)
        self.attention = Attention(w, c["heads"])
        self.norm2 = nn.LayerNorm(w, eps=1e-5)
        self.ff1 = nn.Linear(w, c["feed_forward"])
        self.ff2 = nn.Linear(c["feed_forward"], w)

    def forward(self, x, valid):
        x = x + self.attention(self.norm1(x), valid)
        return x + self.ff2(F.gelu(self.ff1(self.norm2(x))))


class QuestionEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = c["model_width"]
        self.token_embedding = nn.Embedding(c["token_count"], w)
        self.position_embedding = nn.Embedding(c["max_tokens"], w)
        for i in range(c["layers"]):
            self.add_module(f"layer{i}", TransformerLayer(c))
        self.layers = c["layers"]
        self.norm = nn.LayerNorm(w, eps=1e-5)

    def forward(self, tokens, valid):
        t = tokens.shape[1]
        x = self.token_embedding(tokens) + self.position_embedding(torch.arange(t))
        for i in range(self.layers):
            x = getattr(self, f"layer{i}")(x, valid)
        x = self.norm(x)
        mask = valid.float()
        return (x * mask.unsqueeze(-1)).sum(1) * (1.0 / mask.sum(1).clamp(min=1)).unsqueeze(-1)


class FilmFusion(nn.Module):
    def __init__(self, c, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, c["fusion_channels"], 3, stride=1, padding=1)
        self.gamma = nn.Linear(c["model_width"], c["fusion_channels"])
        self.beta = nn.Linear(c["model_width"], c["fusion_channels"])
        self.bn = nn.BatchNorm2d(c["fusion_channels"], eps=1e-5, momentum=0.1)
        self.mix = nn.Conv2d(c["fusion_channels"], c["fusion_channels"], 1)

    def forward(self, grid, image_of_question, q):
        # The convolution does not depend on the question: once per image, then gathered per question.
        h = self.bn(self.conv(grid))
        if image_of_question is not None:
            h = h.index_select(0, image_of_question)
        gamma = (self.gamma(q) + 1.0)[:, :, None, None]
        beta = self.beta(q)[:, :, None, None]
        modulated = F.relu(self.mix(F.relu(h * gamma + beta))).flatten(2)  # [P, CF, F*F]
        return modulated.transpose(1, 2), modulated.sum(2) * (1.0 / grid.shape[2])


class GridReader(nn.Module):
    """Query slots made from the question vector attend over the fused grid cells."""

    def __init__(self, c):
        super().__init__()
        w, cf = c["model_width"], c["fusion_channels"]
        self.heads = c["heads"]
        self.slots = c["reader_slots"]
        self.cell_norm = nn.LayerNorm(cf, eps=1e-5)
        self.q_proj = nn.Linear(w, self.slots * w)
        self.k_proj = nn.Linear(cf, w)
        self.v_proj = nn.Linear(cf, w)
        self.out_proj = nn.Linear(w, w)

    def forward(self, question, cells):
        p, d = question.shape
        t = self.slots
        n = cells.shape[1]
        dh = d // self.heads
        memory = self.cell_norm(cells)
        q = self.q_proj(question).view(p, t, self.heads, dh).transpose(1, 2)
        k = self.k_proj(memory).view(p, n, self.heads, dh).transpose(1, 2)
        v = self.v_proj(memory).view(p, n, self.heads, dh).transpose(1, 2)
        out = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), -1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(p, t, d)).reshape(p, t * d)


class AnswerHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.hidden = nn.Linear(c["fusion_channels"] + (c["reader_slots"] + 1) * c["model_width"], c["head_hidden"])
        self.output = nn.Linear(c["head_hidden"], c["answer_count"])

    def forward(self, features):
        return self.output(F.relu(self.hidden(features)))


class TinyVlm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.image = ImageEncoder(c)
        self.question = QuestionEncoder(c)
        self.fusion = FilmFusion(c, c["conv3_channels"] + 2)
        self.reader = GridReader(c)
        self.head = AnswerHead(c)

    def forward(self, images, image_of_question, tokens, valid):
        features = self.image(images)
        q = self.question(tokens, valid)
        cells, pooled = self.fusion(features, image_of_question, q)
        read = self.reader(q, cells)
        return self.head(torch.cat([pooled, read, q], 1))


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="TinyVLM checkpoint written by FailureSynth")
    parser.add_argument("--inputs", required=True, help="safetensors with images, tokens, valid, image_of_question, targets")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-repeats", type=int, default=0, help="timed training steps (0: parity only)")
    parser.add_argument("--infer-repeats", type=int, default=0, help="timed inference passes")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    state, metadata = read_safetensors(args.checkpoint)
    config = json.loads(metadata["architecture"])
    model = TinyVlm(config)
    # Our checkpoints do not count batch-norm updates (num_batches_tracked); every other tensor must match.
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [name for name in missing if not name.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{args.checkpoint}: missing tensors {missing}, unexpected tensors {unexpected}")
    model.eval()

    inputs, _ = read_safetensors(args.inputs)
    images = inputs["images"]
    tokens = inputs["tokens"].round().long()
    valid = inputs["valid"] > 0.5
    image_of_question = inputs["image_of_question"].round().long()
    targets = inputs["targets"].round().long()

    with torch.no_grad():
        logits = model(images, image_of_question, tokens, valid)
    result = {
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "logits_shape": list(logits.shape),
        "logits": [float(v) for v in logits.reshape(-1).tolist()],
    }

    if args.infer_repeats > 0:
        # One direct question per image: the first question asked about each image.
        first = torch.zeros(images.shape[0], dtype=torch.long)
        seen = set()
        for row, image in enumerate(image_of_question.tolist()):
            if image not in seen:
                seen.add(image)
                first[image] = row

        def infer():
            with torch.no_grad():
                model(images, None, tokens[first], valid[first])

        timed(infer, args.warmup)
        infer_ms = timed(infer, args.infer_repeats)
        result["infer_ms"] = infer_ms
        result["infer_samples_per_s"] = images.shape[0] / (statistics.median(infer_ms) / 1000.0)

    if args.train_repeats > 0:
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)

        def step():
            optimizer.zero_grad(set_to_none=False)
            loss = F.cross_entropy(model(images, image_of_question, tokens, valid), targets, ignore_index=-100)
            loss.backward()
            optimizer.step()

        timed(step, args.warmup)
        train_ms = timed(step, args.train_repeats)
        result["train_step_ms"] = train_ms
        result["train_step_ms_median"] = statistics.median(train_ms)

    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
