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
    """What an answer needs, as arrays: the label vectors, each model's map from
    backbone features to points of the label space, and its candidate sets."""

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


def write_space(out: Path, space) -> dict[str, int]:
    """The label space's arrays; returns each wnid's row, for the sets' row numbers."""
    wnids, names = np.array(space.wnids), np.array(space.names)
    np.savez(out / SPACE, wnids=wnids, names=names, vectors=space.vectors)
    return {w: i for i, w in enumerate(space.wnids)}


def write_model(
    out: Path, file: str, arrays: dict, sets: dict[str, list[str]], row: dict
) -> None:
    """One model's arrays and its candidate sets (as rows of the label space)."""
    ranks = {
        f"set:{name}": np.array([row[w] for w in wnids], np.int32)
        for name, wnids in sets.items()
    }
    np.savez(out / file, **arrays, **ranks)


def write_index(out: Path, entries: dict[str, dict], default: str) -> None:
    """The index: each model's kind, file and facts, and the default model."""
    index = {"models": entries, "default": default}
    (out / INDEX).write_text(json.dumps(index, indent=1))


def read_predictor(folder: Path) -> Predictor:
    """The arrays the three writers above put in `folder`."""
    index = json.loads((folder / INDEX).read_text())
    with np.load(folder / SPACE) as space:
        wnids, names = space["wnids"].tolist(), space["names"].tolist()
        vectors = space["vectors"]
    models = {}
    for name, entry in index["models"].items():
        with np.load(folder / entry["file"]) as arrays:
            models[name] = {
                **entry,
                **{k: arrays[k] for k in arrays.files if not k.startswith("set:")},
                "sets": {
                    k[4:]: arrays[k] for k in arrays.files if k.startswith("set:")
                },
            }
    return Predictor(wnids, names, vectors, models, index["default"], folder)
