"""Reads a DICOM-SEG with highdicom (an independent client) and compares every segment's
mask with the label volume it was written from.

usage: check_seg.py SEG LABELS.raw META.json
META.json: {"shape": [slices, rows, columns], "sources": [SOP Instance UID per slice],
            "segments": {"segment number": label value},
            "fractions": {"segment number": path of a uint8 volume},   (only for a FRACTIONAL SEG)
            "ignoreSpatialLocations": true}   (for SEGs that omit Spatial Locations Preserved, as dcmqi's do)
Prints one line per segment and exits non-zero on any difference.
"""
import json
import sys

import highdicom
import numpy as np


def main() -> int:
    seg_path, labels_path, meta_path = sys.argv[1:4]
    meta = json.load(open(meta_path))
    slices, rows, columns = meta["shape"]
    labels = np.fromfile(labels_path, dtype=np.uint8).reshape(slices, rows, columns)
    seg = highdicom.seg.segread(seg_path)
    fractions = meta.get("fractions")
    wanted = highdicom.seg.SegmentationTypeValues.FRACTIONAL if fractions else highdicom.seg.SegmentationTypeValues.BINARY
    if seg.segmentation_type != wanted:
        print(f"not a {wanted.value} segmentation")
        return 1
    failures = 0
    for number_text, value in meta["segments"].items():
        number = int(number_text)
        description = seg.get_segment_description(number)
        if fractions:
            expected = np.fromfile(fractions[number_text], dtype=np.uint8).reshape(slices, rows, columns)
        else:
            expected = labels == value
        present = [uid for uid, s in zip(meta["sources"], expected) if s.any()]
        got = np.zeros_like(expected)
        if present:
            pixels = seg.get_pixels_by_source_instance(
                source_sop_instance_uids=present, segment_numbers=[number], combine_segments=False,
                ignore_spatial_locations=meta.get("ignoreSpatialLocations", False), assert_missing_frames_are_empty=True, rescale_fractional=False)
            for uid, frame in zip(present, pixels):
                got[meta["sources"].index(uid)] = frame[..., 0] if fractions else frame[..., 0] > 0
        difference = int(np.count_nonzero(got != expected))
        modifiers = description.SegmentedPropertyTypeCodeSequence[0].get("SegmentedPropertyTypeModifierCodeSequence", [])
        laterality = "".join(f" ({modifier.CodeMeaning})" for modifier in modifiers)
        print(f"segment {number} '{description.segment_label}' "
              f"type {description.segmented_property_type.meaning}{laterality}: {int(np.count_nonzero(expected))} voxels, "
              f"{difference} differ")
        failures += difference != 0
    print("OK" if failures == 0 else "MISMATCH")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
