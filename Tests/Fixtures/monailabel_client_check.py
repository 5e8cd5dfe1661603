"""Runs MONAI Label's own 3D Slicer plugin client (MONAILabelLib/client.py, as the monailabel 0.8.5
wheel ships it) against Delineate's /monailabel, the way the plugin uses it: auth discovery and
token, info, next sample, infer with a foreground click, and save the result back as the final
label (gzip NRRD, as Slicer writes it). Prints a JSON report.

usage: monailabel_client_check.py SERVER_URL USER PASSWORD I J K
"""
import gzip
import importlib.util
import json
import os
import sys
import tempfile

CLIENT = os.path.join(sys.prefix, "monailabel/plugins/slicer/MONAILabel/MONAILabelLib/client.py")


def load_client():
    spec = importlib.util.spec_from_file_location("slicer_monailabel_client", CLIENT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MONAILabelClient


def nrrd_values(path):
    """The header fields and the voxel bytes of a raw uint8 NRRD."""
    data = open(path, "rb").read()
    end = data.index(b"\n\n")
    fields = dict(line.split(": ", 1) for line in data[:end].decode().splitlines()[1:] if ": " in line)
    return fields, data[end + 2:]


def main() -> int:
    url, user, password, i, j, k = sys.argv[1:7]
    client = load_client()(url, tmpdir=tempfile.mkdtemp())
    report = {"authEnabled": client.auth_enabled()}
    client.update_auth(client.auth_token(user, password))
    info = client.info()
    model = next(iter(info["models"]))
    report["model"] = model
    report["labels"] = info["models"][model]["labels"]
    sample = client.next_sample("first", {})
    report["sample"] = sample["id"]
    point = [int(i), int(j), int(k)]
    label_path, params = client.infer(model, sample["id"], {"foreground": [point], "background": [],
                                                            "label": "large organ"})
    report["inferParams"] = params
    report["labelFile"] = os.path.basename(label_path)
    fields, voxels = nrrd_values(label_path)
    report["sizes"] = fields.get("sizes")
    report["labelled"] = sum(1 for v in voxels if v == 1)
    # Slicer saves the edited segmentation as a gzip-compressed NRRD.
    saved_path = os.path.join(tempfile.mkdtemp(), "label.nrrd")
    header = f"NRRD0004\ntype: unsigned char\ndimension: 3\nsizes: {fields['sizes']}\nencoding: gzip\n\n"
    with open(saved_path, "wb") as handle:
        handle.write(header.encode() + gzip.compress(voxels))
    # The plugin names every segment of the label map it sends.
    label_info = [{"name": name, "idx": index} for name, index in report["labels"].items()]
    report["saved"] = client.save_label(sample["id"], saved_path, tag="final", params={"label_info": label_info})
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
