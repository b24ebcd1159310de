"""The `predictor` stage: everything `predict` needs, as arrays (`devise_lite.predictor`
writes and reads them), and the backbone exported for ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

from ..candidates import hop_sets
from ..ddp import Group
from ..evaluation import CONSE_1K, DEVISE, DEVISE_1K, DEVISE_CALTECH, model_file
from ..hierarchy import Hierarchy
from ..imagenet1k import seen_columns
from ..predictor import write_predictor
from ..storage import read_info
from ..vectors import LinearProjection
from .cache import Run
from .features import experiment_labels
from .zeroshot import zero_shot_sets


def build_predictor(run: Run, out: Path, _group: Group) -> dict:
    from ..torch_engines import make_engine  # torch: the backbone is exported from it
    from ..visual import build_backbone

    cfg, space, models = run.cfg, run.get("labels"), run.get("imagenet1k")
    seen = models[DEVISE_1K].seen
    sets_1k = {"seen": seen, **zero_shot_sets(run, seen)}
    caltech = experiment_labels(run)
    hops = hop_sets(caltech, space.wnids, Hierarchy.wordnet())
    sets_caltech = {"seen": caltech, **hops}

    def saved(name: str, kind: str, model, sets: dict, **facts) -> tuple:
        """The model's entry, arrays and sets, as `write_predictor` takes them."""
        arrays = {"weight": model.weight, "bias": model.bias}
        if kind == "conse":
            arrays["columns"] = seen_columns(model, seen)
        file = model_file(name).replace(".pt", ".npz")
        return {"kind": kind, "file": file, **facts}, arrays, sets

    classifier = run.get("sample_features").classifier
    caltech_map = LinearProjection.of(run.get("train")[DEVISE])  # phase 1
    top_t = cfg.imagenet.conse_t
    written = {
        DEVISE_1K: saved(DEVISE_1K, "projection", models[DEVISE_1K].project, sets_1k),
        CONSE_1K: saved(CONSE_1K, "conse", classifier, sets_1k, top_t=top_t),
        DEVISE_CALTECH: saved(DEVISE_CALTECH, "projection", caltech_map, sets_caltech),
    }
    best = read_info(run.folder("zeroshot"))["best_model"]
    default = DEVISE_1K if best == DEVISE else CONSE_1K
    engine = make_engine(cfg.visual, build_backbone(cfg.visual), "cpu", out / "engine")
    write_predictor(out, space, written, default)
    return {"default": default, "engine": engine.name}
