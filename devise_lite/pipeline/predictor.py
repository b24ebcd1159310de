"""The `predictor` stage: everything `predict` needs as arrays (written through
`devise_lite.predictor`, which also reads them), and the backbone exported for ONNX
Runtime."""

from __future__ import annotations

from pathlib import Path

from ..candidates import hop_sets
from ..ddp import Group
from ..evaluation import CONSE_1K, DEVISE, DEVISE_1K, DEVISE_CALTECH, model_file
from ..hierarchy import Hierarchy
from ..imagenet1k import seen_columns
from ..predictor import write_index, write_model, write_space
from ..storage import read_info
from ..vectors import LinearProjection
from .cache import Run
from .features import experiment_labels
from .zeroshot import zero_shot_sets


def build_predictor(run: Run, out: Path, _group: Group) -> dict:
    from ..torch_engines import make_engine  # torch: the backbone is exported from it
    from ..visual import build_backbone

    cfg, space = run.cfg, run.get("labels")
    row = write_space(out, space)
    models = run.get("imagenet1k")
    seen = models[DEVISE_1K].seen
    sets_1k = {"seen": seen, **zero_shot_sets(run, seen)}
    caltech = experiment_labels(run)
    hops = hop_sets(caltech, space.wnids, Hierarchy.wordnet())
    sets_caltech = {"seen": caltech, **hops}
    entries = {}

    def save(name: str, kind: str, arrays: dict, sets: dict, **facts) -> None:
        file = model_file(name).replace(".pt", ".npz")
        write_model(out, file, arrays, sets, row)
        entries[name] = {"kind": kind, "file": file, **facts}

    projection = models[DEVISE_1K].project
    weights = {"weight": projection.weight, "bias": projection.bias}
    save(DEVISE_1K, "projection", weights, sets_1k)
    classifier = run.get("sample_features").classifier
    conse = {
        "weight": classifier.weight,
        "bias": classifier.bias,
        "columns": seen_columns(classifier, seen),
    }
    save(CONSE_1K, "conse", conse, sets_1k, top_t=cfg.imagenet.conse_t)
    caltech_map = LinearProjection.of(run.get("train")[DEVISE])  # phase 1
    weights = {"weight": caltech_map.weight, "bias": caltech_map.bias}
    save(DEVISE_CALTECH, "projection", weights, sets_caltech)
    best = read_info(run.folder("zeroshot"))["best_model"]
    default = DEVISE_1K if best == DEVISE else CONSE_1K
    engine = make_engine(cfg.visual, build_backbone(cfg.visual), "cpu", out / "engine")
    write_index(out, entries, default)
    return {"default": default, "engine": engine.name}
