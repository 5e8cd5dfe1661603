"""The real labelled images in ../shared/data/real (see its README), for training and evaluating
the class-agnostic network.

Training uses the dcmqi CT only (3 slices of 512 x 512, liver, spine and heart labels; dcmqi's
test data). The MR cases are held out for evaluation and are never read here: pyradiomics'
brain and breast tumours (hand-drawn) and the BraTS case (a fusion of five models: model-made).

Images are resized to the network's input size (linear for intensities, nearest for labels), as
the daemon resamples slices.

usage as a script: real_data.py DIR   prints the training volumes it builds
"""
from __future__ import annotations

import sys
from pathlib import Path

import nrrd
import numpy as np
import pydicom
from scipy import ndimage

from common import Volume, normalise

DCMQI_STRUCTURES = ["liver_seg.nrrd", "spine_seg.nrrd", "heart_seg.nrrd"]


def resized(volume: np.ndarray, size: int, order: int) -> np.ndarray:
    """(slices, rows, columns) with each slice resized to size x size."""
    factors = (1, size / volume.shape[1], size / volume.shape[2])
    return ndimage.zoom(volume, factors, order=order)


def dcmqi_ct(folder: Path, size: int) -> Volume:
    """dcmqi's 3-slice CT with its three structures as labels 1-3, resized to the network's input."""
    image, labels = dcmqi_native(folder)
    return Volume("dcmqi-ct-3slice", normalise(resized(image, size, 1), "CT"), resized(labels, size, 0))


def dcmqi_native(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """dcmqi's 3-slice CT in HU and its three structures as labels 1-3 (slices, rows, columns), slices
    in the labels' order."""
    datasets = [pydicom.dcmread(folder / f"{n:02d}.dcm") for n in (1, 2, 3)]
    datasets.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    image = np.stack([d.pixel_array.astype(np.float32) * float(d.RescaleSlope) + float(d.RescaleIntercept)
                      for d in datasets])
    labels = np.zeros(image.shape, dtype=np.uint8)
    for value, name in enumerate(DCMQI_STRUCTURES, start=1):
        data, header = nrrd.read(str(folder / name))  # (columns, rows, slices), slices rising in z
        mask = np.transpose(data, (2, 1, 0)) != 0
        if header["space directions"][2][2] < 0:
            mask = mask[::-1]
        labels[mask & (labels == 0)] = value
    return image, labels


def training_volumes(root: Path, size: int) -> list[Volume]:
    return [dcmqi_ct(root / "dcmqi-ct-3slice", size)]


def main() -> int:
    for volume in training_volumes(Path(sys.argv[1]), 128):
        counts = {int(v): int(c) for v, c in zip(*np.unique(volume.labels, return_counts=True))}
        print(f"{volume.name} {volume.image.shape} labels {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
