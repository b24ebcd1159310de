"""The `predictor` stage's files, written and read here: the label vectors, each
model as arrays (a projection's weights, or the backbone's classifier for ConSE) with
its candidate sets as row numbers, and an index naming the default model. Reading
them needs neither torch nor WordNet, which keeps `predict` quick to start."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .conse import conse_embedding
from .vectors import softmax, unit

INDEX = "predictor.json"
SPACE = "space.npz"


@dataclass(frozen=True)
class Predictor:
    """An answer's arrays: the label vectors, each model's map and candidate sets."""

    wnids: list[str]
    names: list[str]
    vectors: np.ndarray  # (labels, d) unit rows
    models: dict[str, dict]  # name -> {"kind", arrays..., "sets": {set: rows}}
    default: str
    folder: Path

    def points(self, model: str, features: np.ndarray) -> np.ndarray:
        """Where `model` puts the photos of these backbone features (unit rows)."""
        entry = self.models[model]
        outputs = features @ entry["weight"].T + entry["bias"]  # or the logits (ConSE)
        if entry["kind"] == "projection":
            return unit(outputs)
        probabilities = softmax(outputs[:, entry["columns"]])
        seen = self.vectors[entry["sets"]["seen"]]
        return unit(conse_embedding(probabilities, seen, int(entry["top_t"])))


def write_predictor(out: Path, space, models: dict[str, tuple], default: str) -> None:
    """Write the space, each model's arrays and sets (as label rows), the index."""
    wnids, names = np.array(space.wnids), np.array(space.names)
    np.savez(out / SPACE, wnids=wnids, names=names, vectors=space.vectors)
    row = {w: i for i, w in enumerate(space.wnids)}
    for entry, arrays, sets in models.values():
        ranks = {
            f"set:{name}": np.array([row[w] for w in labels], np.int32)
            for name, labels in sets.items()
        }
        np.savez(out / entry["file"], **arrays, **ranks)
    entries = {name: entry for name, (entry, _, _) in models.items()}
    index = {"models": entries, "default": default}
    (out / INDEX).write_text(json.dumps(index, indent=1))


def read_predictor(folder: Path) -> Predictor:
    """The arrays `write_predictor` put in `folder`."""
    index = json.loads((folder / INDEX).read_text())
    with np.load(folder / SPACE) as space:
        wnids, names = space["wnids"].tolist(), space["names"].tolist()
        vectors = space["vectors"]
    models = {}
    for name, entry in index["models"].items():
        with np.load(folder / entry["file"]) as arrays:
            loaded = {k: arrays[k] for k in arrays.files}
        sets = {k[4:]: loaded.pop(k) for k in list(loaded) if k.startswith("set:")}
        models[name] = {**entry, **loaded, "sets": sets}
    return Predictor(wnids, names, vectors, models, index["default"], folder)
