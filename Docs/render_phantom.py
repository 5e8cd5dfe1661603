"""Renders slices of a phantom case (from `delineate phantom`) with its labels as PNG overlays,
and prints the class statistics table for Docs/data.md.

usage: render_phantom.py CASE_FOLDER OUT_PREFIX SLICE [SLICE ...]
Needs pydicom, numpy and Pillow (the venv Deploy/dev/install.sh makes has them).
"""
import json
import sys
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image

COLOURS = {1: (221, 130, 101), 2: (80, 200, 80), 3: (250, 250, 50), 4: (200, 80, 250), 5: (60, 160, 250)}


def main() -> None:
    folder, prefix, slices = Path(sys.argv[1]), sys.argv[2], [int(s) for s in sys.argv[3:]]
    meta = json.loads((folder / "labels.json").read_text())
    shape = meta["shape"]
    labels = np.fromfile(folder / "labels.raw", dtype=np.uint8).reshape(shape)
    files = sorted((folder / "dicom").glob("*.dcm"))
    for index in slices:
        dataset = pydicom.dcmread(files[index])
        pixels = dataset.pixel_array.astype(np.float32) * float(getattr(dataset, "RescaleSlope", 1)) + float(
            getattr(dataset, "RescaleIntercept", 0))
        centre, width = float(dataset.WindowCenter), float(dataset.WindowWidth)
        grey = np.clip((pixels - (centre - width / 2)) / width * 255, 0, 255)
        rgb = np.stack([grey] * 3, axis=-1)
        for value, colour in COLOURS.items():
            mask = labels[index] == value
            rgb[mask] = 0.45 * rgb[mask] + 0.55 * np.array(colour)
        Image.fromarray(rgb.astype(np.uint8)).save(f"{prefix}-slice{index:03d}.png")
    total = int(np.prod(shape))
    print(f"{meta['modality']} {shape[2]}x{shape[1]}x{shape[0]}, spacing {meta['spacing_mm']} mm")
    print("| class | voxels | share |")
    print("| --- | ---: | ---: |")
    for entry, count in zip(meta["classes"], meta["class_voxels"]):
        print(f"| {entry['name']} | {count} | {100 * count / total:.3f}% |")


if __name__ == "__main__":
    main()
