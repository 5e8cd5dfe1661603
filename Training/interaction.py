"""The interaction memory of the SIM network, batched, as training and evaluation drive it.

SIM (sequential): D states, newest first; each state is the N click masks of one interaction step
followed by the N probability maps the user saw when making it. Empty states are zeros.
CIM (cumulative): the N click masks of every click so far, merged.
With a walker channel (the walker-refinement network), the random walker's structure probability
from every click so far follows as the last channel.
The Swift engine builds the same tensor (Sources/Segmentation/InteractionMemory.swift).
"""
from __future__ import annotations

import torch

from walker import probabilities as walker_probabilities


class InteractionMemory:
    def __init__(self, batch: int, classes: int, depth: int, size: int, cumulative: bool, walker: bool = False,
                 device: torch.device | str = "cpu"):
        self.classes, self.depth, self.cumulative = classes, depth, cumulative
        channels = classes if cumulative else 2 * depth * classes
        self.tensor = torch.zeros(batch, channels, size, size, device=device)
        self.walker = torch.zeros(batch, 1, size, size, device=device) if walker else None
        self.clicks: list[list[tuple[int, int, int]]] = [[] for _ in range(batch)]  # every click so far
        self.states = None  # the network's ConvLSTM states

    def push(self, clicks: torch.Tensor, probabilities: torch.Tensor, images: torch.Tensor | None = None,
             step_clicks: list[list[tuple[int, int, int]]] | None = None):
        """clicks: (B, N, H, W) masks of this step's clicks; probabilities: (B, N, H, W) the output shown.
        With a walker channel also the images and this step's clicks (x, y, label) per image: the
        walker runs again from every click so far."""
        if self.walker is not None:
            for so_far, new in zip(self.clicks, step_clicks):
                so_far += new
            self.walker = walker_probabilities(images, self.clicks)
        if self.cumulative:
            self.tensor = torch.maximum(self.tensor, clicks)
        else:
            state = torch.cat([clicks, probabilities], 1)
            self.tensor = torch.cat([state, self.tensor[:, : -2 * self.classes]], 1)

    def drop_probabilities(self, dropped: torch.Tensor):
        """Zeroes the probability maps of every state of the images where `dropped` (B,) is true (SIM
        only), so that those images are segmented from the image and the clicks alone."""
        for state in range(self.depth):
            first = (2 * state + 1) * self.classes
            self.tensor[dropped, first: first + self.classes] = 0

    def reset_states(self, reset: torch.Tensor):
        """Empties the ConvLSTM states of the images where `reset` (B,) is true: the engine starts them
        afresh when the focus window moves, and the memory's maps are resampled into the new window."""
        if self.states is not None:
            keep = (~reset).float()[:, None, None, None]
            self.states = [(h * keep, c * keep) for h, c in self.states]

    def input(self, image: torch.Tensor) -> torch.Tensor:
        return torch.cat([image, self.tensor] + ([] if self.walker is None else [self.walker]), 1)

    def run(self, net, image: torch.Tensor) -> torch.Tensor:
        """One forward pass; keeps the ConvLSTM states (detached) for the next step."""
        logits, states = net(self.input(image), self.states)
        self.states = [(h.detach(), c.detach()) for h, c in states]
        return logits
