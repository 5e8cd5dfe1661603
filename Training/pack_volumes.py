"""Packs a subset of the training phantoms into one compressed .npz (normalised images as float16,
labels as uint8) that `load_volumes` reads like the case folders: the whole set (270 MB) does not fit
the 64 MiB that travels to a GPU machine with the working tree.

usage: pack_volumes.py --data ../data/train --cases 12 --every 3 --out ../data/device/phantoms.npz
       (the first `cases` CT and `cases` MR cases by name, every `every`-th slice)
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from common import load_volumes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--cases", type=int, default=12, help="cases of each modality")
    parser.add_argument("--every", type=int, default=3, help="keep every this-many-th slice")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    volumes = load_volumes(args.data)
    chosen = [v for prefix in ("ct/", "mr/") for v in [v for v in volumes if v.name.startswith(prefix)][:args.cases]]
    arrays = {"names": np.array([v.name for v in chosen])}
    for i, volume in enumerate(chosen):
        arrays[f"image{i}"] = volume.image[::args.every].astype(np.float16)
        arrays[f"labels{i}"] = volume.labels[::args.every]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"{len(chosen)} volumes, {args.out.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
