"""The two networks of the design reference, in PyTorch, with the layer names the Swift engine loads.

SimNet: the DDG-SIM interactive network. A U-Net with a ResNet-34-layout encoder (3, 4, 6, 3 basic
blocks) and a convolutional LSTM after the convolution of every decoder stage. Input: the image and
the sequential interaction memory (D states of N click masks and N probability maps), 1 + 2*D*N
channels; output: N-class logits at the input size. With `memory_depth=0` and `cumulative=True` the
same network is the CIM ablation (1 + N channels: the image and the merged click masks).

PropNet: the VMN / quality-aware memory network for propagation through the volume. A key encoder
on the image alone, a value encoder on image + one class mask, a memory read (dot-product affinity,
softmax over memory positions), a decoder with skips from the key encoder, and a quality head that
regresses the IoU of its own mask.

Every convolution is followed by batch norm (folded into the convolution when the Swift engine
loads the weights) except the ConvLSTM gates, the key/value projections and the output heads, which
carry a bias. Upsampling is bilinear with align_corners=False (PyTorch's default).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class ConvBN(nn.Module):
    """conv (no bias) -> batch norm -> optional ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, relu: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x):
        x = self.bn(self.conv(x))
        return F.relu(x) if self.relu else x


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 ConvBN with an identity (or 1x1 ConvBN) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = ConvBN(cin, cout, 3, stride)
        self.conv2 = ConvBN(cout, cout, 3, 1, relu=False)
        self.shortcut = ConvBN(cin, cout, 1, stride, relu=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        identity = x if self.shortcut is None else self.shortcut(x)
        return F.relu(self.conv2(self.conv1(x)) + identity)


def resnet_stage(cin: int, cout: int, blocks: int, stride: int) -> nn.Sequential:
    return nn.Sequential(*[BasicBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1) for i in range(blocks)])


class ConvLSTMCell(nn.Module):
    """gates = conv3x3([x, h]) split into i, f, g, o; c' = σf·c + σi·tanh g; h' = σo·tanh c'."""

    def __init__(self, cin: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(cin + hidden, 4 * hidden, 3, 1, 1, bias=True)

    def forward(self, x, state):
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden, x.shape[2], x.shape[3])
            state = (zeros, zeros)
        h, c = state
        i, f, g, o = self.gates(torch.cat([x, h], 1)).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


def upsample2(x):
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


WALKER_EPSILON = 1e-2  # the walker's probability is clamped to [ε, 1 − ε] before its log-odds are taken
WALKER_SKIP_START = 1.0  # the factor of the walker's log-odds in the structure logits at the start (validation, session 20)


class SimNet(nn.Module):
    def __init__(self, classes: int, memory_depth: int, widths=(16, 32, 64, 128), blocks=(3, 4, 6, 3),
                 decoder=(16, 32, 64, 64), cumulative: bool = False, walker: bool = False):
        super().__init__()
        self.classes = classes
        self.memory_depth = memory_depth
        self.cumulative = cumulative
        # A last input channel, the random walker's structure probability (walker.py), whose log-odds
        # also reach the structure logits through a learned factor: the network refines the walker.
        self.walker = walker
        if walker:
            self.walker_skip = nn.Parameter(torch.full((1,), WALKER_SKIP_START))
        self.input_channels = (1 + classes if cumulative else 1 + 2 * memory_depth * classes) + int(walker)
        self.stem = ConvBN(self.input_channels, widths[0], 3, 2)
        self.layer1 = resnet_stage(widths[0], widths[0], blocks[0], 1)
        self.layer2 = resnet_stage(widths[0], widths[1], blocks[1], 2)
        self.layer3 = resnet_stage(widths[1], widths[2], blocks[2], 2)
        self.layer4 = resnet_stage(widths[2], widths[3], blocks[3], 2)
        self.lstm4 = ConvLSTMCell(widths[3], decoder[3])
        self.dec3 = ConvBN(decoder[3] + widths[2], decoder[2])
        self.lstm3 = ConvLSTMCell(decoder[2], decoder[2])
        self.dec2 = ConvBN(decoder[2] + widths[1], decoder[1])
        self.lstm2 = ConvLSTMCell(decoder[1], decoder[1])
        self.dec1 = ConvBN(decoder[1] + widths[0], decoder[0])
        self.lstm1 = ConvLSTMCell(decoder[0], decoder[0])
        self.head = ConvBN(decoder[0], decoder[0])
        self.classifier = nn.Conv2d(decoder[0], classes, 1, bias=True)

    def forward(self, x, states=None):
        """x: (B, C, H, W), H and W divisible by 16; states: the four ConvLSTM (h, c) pairs or None.

        Returns the logits (B, N, H, W) and the new states."""
        states = states or [None] * 4
        e1 = self.layer1(self.stem(x))
        e2 = self.layer2(e1)
        e3 = self.layer3(e2)
        e4 = self.layer4(e3)
        d, s4 = self.lstm4(e4, states[0])
        d, s3 = self.lstm3(self.dec3(torch.cat([upsample2(d), e3], 1)), states[1])
        d, s2 = self.lstm2(self.dec2(torch.cat([upsample2(d), e2], 1)), states[2])
        d, s1 = self.lstm1(self.dec1(torch.cat([upsample2(d), e1], 1)), states[3])
        logits = self.classifier(self.head(upsample2(d)))
        if self.walker:
            walker = x[:, -1:].clamp(WALKER_EPSILON, 1 - WALKER_EPSILON)
            log_odds = self.walker_skip * torch.log(walker / (1 - walker))
            logits = torch.cat([logits[:, :1], logits[:, 1:] + log_odds], 1)
        return logits, [s4, s3, s2, s1]


class Encoder(nn.Module):
    """ResNet-18-layout encoder to stride 8: returns the stride-2, -4 and -8 features."""

    def __init__(self, cin: int, widths=(16, 32, 64)):
        super().__init__()
        self.stem = ConvBN(cin, widths[0], 3, 2)
        self.layer1 = resnet_stage(widths[0], widths[0], 2, 1)
        self.layer2 = resnet_stage(widths[0], widths[1], 2, 2)
        self.layer3 = resnet_stage(widths[1], widths[2], 2, 2)

    def forward(self, x):
        f1 = self.layer1(self.stem(x))
        f2 = self.layer2(f1)
        return f1, f2, self.layer3(f2)


def coordinates(height: int, width: int, scale: float) -> torch.Tensor:
    """(1, 2, H, W): x then y of every position, from -scale to scale (pixel centres)."""
    ys = (torch.arange(height, dtype=torch.float32) + 0.5) / height * 2 - 1
    xs = (torch.arange(width, dtype=torch.float32) + 0.5) / width * 2 - 1
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y])[None] * scale


class PropNet(nn.Module):
    """Keys end with two fixed coordinate channels and the affinity is the negative squared L2
    distance between keys, so from the first step the read favours the same place on other slices
    (structures move little between neighbouring slices); the learned channels refine it."""

    COORDINATE_SCALE = 8.0

    def __init__(self, key_channels: int = 32, value_channels: int = 64, widths=(16, 32, 64)):
        super().__init__()
        self.key_channels = key_channels
        self.key_encoder = Encoder(1, widths)
        self.key_proj = nn.Conv2d(widths[2], key_channels - 2, 3, 1, 1, bias=True)
        self.query_value = nn.Conv2d(widths[2], value_channels, 3, 1, 1, bias=True)
        self.value_encoder = Encoder(2, widths)
        self.value_proj = nn.Conv2d(widths[2], value_channels, 3, 1, 1, bias=True)
        self.fuse = ConvBN(2 * value_channels, widths[2])
        self.up2 = ConvBN(widths[2] + widths[1], widths[1])
        self.up1 = ConvBN(widths[1] + widths[0], widths[0])
        self.head = ConvBN(widths[0], widths[0])
        self.mask = nn.Conv2d(widths[0], 1, 1, bias=True)
        self.q_conv1 = ConvBN(widths[2] + 1, 32, 3, 2)
        self.q_conv2 = ConvBN(32, 32, 3, 2)
        self.q_conv3 = ConvBN(32, 32, 3, 2)
        self.q_fc1 = nn.Linear(32 * 4, 64)
        self.q_fc2 = nn.Linear(64, 32)
        self.q_fc3 = nn.Linear(32, 1)

    def encode_key(self, image):
        """Image-only features of a slice (cacheable): skips, key and query value."""
        f1, f2, f3 = self.key_encoder(image)
        position = coordinates(f3.shape[2], f3.shape[3], self.COORDINATE_SCALE).expand(f3.shape[0], -1, -1, -1)
        return f1, f2, torch.cat([self.key_proj(f3), position], 1), self.query_value(f3)

    def encode_value(self, image, mask):
        """The memory value of a slice from its image and one class's mask probability."""
        return self.value_proj(self.value_encoder(torch.cat([image, mask], 1))[2])

    @staticmethod
    def read(query_key, memory_keys, memory_values):
        """query_key (B, Ck, H, W); memory_keys (B, T, Ck, H, W); memory_values (B, T, Cv, H, W).

        affinity = −|k_m − q|² / √Ck = (2 k_m·q − |k_m|²) / √Ck + a term constant over the softmax."""
        b, ck, h, w = query_key.shape
        keys = memory_keys.permute(0, 2, 1, 3, 4).reshape(b, ck, -1)  # B, Ck, THW
        products = torch.bmm(keys.transpose(1, 2), query_key.reshape(b, ck, h * w))
        affinity = (2 * products - keys.pow(2).sum(1)[:, :, None]) / math.sqrt(ck)
        affinity = torch.softmax(affinity, dim=1)  # over memory positions
        values = memory_values.permute(0, 2, 1, 3, 4).reshape(b, memory_values.shape[2], -1)
        return torch.bmm(values, affinity).reshape(b, -1, h, w)

    def decode(self, f1, f2, query_value, read):
        """Mask logits at the input size, and the IoU the quality head predicts for that mask."""
        x = self.fuse(torch.cat([read, query_value], 1))
        features = x
        x = self.up2(torch.cat([upsample2(x), f2], 1))
        x = self.up1(torch.cat([upsample2(x), f1], 1))
        logits = self.mask(self.head(upsample2(x)))
        small = F.avg_pool2d(torch.sigmoid(logits), 8)
        q = self.q_conv3(self.q_conv2(self.q_conv1(torch.cat([features, small], 1))))
        q = q.flatten(1)  # 32 x 2 x 2 at the 128 x 128 input
        q = torch.sigmoid(self.q_fc3(F.relu(self.q_fc2(F.relu(self.q_fc1(q))))))
        return logits, q[:, 0]

    def forward(self, image, memory_keys, memory_values):
        f1, f2, key, query_value = self.encode_key(image)
        return self.decode(f1, f2, query_value, self.read(key, memory_keys, memory_values))
