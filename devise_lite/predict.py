"""`python -m devise_lite predict IMAGE ...`: label your own photos with the trained DeViSE model.

The model is chapter 5's DeViSE (phase 1), trained on every Caltech-101 experiment label; those
labels are "seen". The candidates are the seen labels, or one of the zero-shot sets of chapter 6
defined relative to them (`zeroshot.candidate_set`): "2-hop" and "3-hop" (WordNet neighbours of
the seen labels, seen ones excluded), "21k" (the whole label space minus the seen labels), each
optionally "+seen". Prediction is the nearest label vectors by cosine.

Nothing is trained here: if the model's cache is missing the command says which command trains it,
and it checks that *before* touching any stage function (which would start training).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from . import pipeline
from .config import PRESETS, Config, get_preset
from .storage import stage_dir

CANDIDATE_CHOICES = (
    "seen",
    "2-hop",
    "3-hop",
    "21k",
    "2-hop+seen",
    "3-hop+seen",
    "21k+seen",
)


class NotTrainedError(RuntimeError):
    """The model `predict` needs has not been trained for this preset."""


def require_trained(cfg: Config) -> None:
    """Raise NotTrainedError naming the command to run if the label space or the phase-1 model
    of `cfg` is not cached. Only looks at cache folders: nothing is computed."""
    needed = {
        "label space": stage_dir("labels", pipeline.labels_key(cfg)),
        "trained DeViSE model": stage_dir("train", pipeline.train_key(cfg)),
    }
    missing = [
        name for name, folder in needed.items() if not (folder / "done.json").exists()
    ]
    if missing:
        raise NotTrainedError(
            f"no {' and no '.join(missing)} for preset {cfg.name!r} under {stage_dir('train', '').parent}. "
            f"Train it first with: python -m devise_lite run --preset {cfg.name}"
        )


def load_images(paths: list[Path], cfg: Config):
    """(tensor batch of the readable images, their paths, [(path, error message)] for the others)."""
    import torch

    from .visual import ImageFiles, UnreadableImageError, image_transform

    files = ImageFiles(paths, image_transform(cfg.visual))
    tensors, good, errors = [], [], []
    for i, path in enumerate(files.paths):
        try:
            tensors.append(files[i])
            good.append(path)
        except (FileNotFoundError, UnreadableImageError) as err:
            errors.append((path, str(err)))
        except OSError as err:  # a folder, a file we may not read, ...
            errors.append((path, f"{path} cannot be read ({err})"))
    return (torch.stack(tensors) if tensors else None), good, errors


def predict(
    cfg: Config, paths: list[Path], top: int = 5, candidates: str = "seen"
) -> tuple[list[dict], list[tuple[Path, str]]]:
    """For each readable image: {"image", "candidates", "labels": [{"rank", "wnid", "name", "cosine"}]}.

    Returns (answers, errors); an unreadable or missing file is an error, the others are answered."""
    import torch

    from .devise import embed
    from .hierarchy import Hierarchy
    from .metrics import top_k
    from .visual import build_backbone, torch_threads
    from .zeroshot import candidate_set

    if candidates not in CANDIDATE_CHOICES:
        raise ValueError(
            f"unknown candidates {candidates!r}; choose one of {', '.join(CANDIDATE_CHOICES)}"
        )
    if top < 1:
        raise ValueError(f"--top must be at least 1, got {top}")
    require_trained(cfg)
    space = pipeline.label_space(cfg)
    seen = pipeline.experiment_labels(cfg)[0]
    wnids = (
        seen
        if candidates == "seen"
        else candidate_set(
            candidates,
            seen,
            space.wnids,
            None if candidates.startswith("21k") else Hierarchy.wordnet(),
        )
    )
    labels = space.subset(wnids)
    batch, good, errors = load_images([Path(p) for p in paths], cfg)
    if batch is None:
        return [], errors
    projection = pipeline.trained_models(cfg)["DeViSE"]
    with torch_threads(cfg.visual.num_threads), torch.inference_mode():
        features = build_backbone(cfg.visual)(batch).numpy()
    scores = embed(projection, features) @ labels.vectors.T
    ranked = top_k(scores, min(top, len(wnids)))
    answers = [
        {
            "image": str(path),
            "candidates": candidates,
            "labels": [
                {
                    "rank": r + 1,
                    "wnid": labels.wnids[j],
                    "name": labels.names[j],
                    "cosine": round(float(scores[i, j]), 4),
                }
                for r, j in enumerate(row)
            ],
        }
        for i, (path, row) in enumerate(zip(good, ranked))
    ]
    return answers, errors


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...)"
    )
    parser.add_argument(
        "--top", type=int, default=5, metavar="K", help="labels per image (default 5)"
    )
    parser.add_argument(
        "--candidates",
        default="seen",
        choices=CANDIDATE_CHOICES,
        help="the label set to rank (default: the seen Caltech labels)",
    )
    parser.add_argument("--json", action="store_true", help="print the answers as JSON")


def command(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run `predict` for parsed arguments: 0 if every image was answered, 1 otherwise."""
    out, err = (
        out or sys.stdout,
        err or sys.stderr,
    )  # looked up now, so redirections apply
    cfg = get_preset(args.preset)
    try:
        answers, errors = predict(cfg, args.images, args.top, args.candidates)
    except (NotTrainedError, ValueError) as error:
        print(f"error: {error}", file=err)
        return 1
    for path, message in errors:
        print(f"error: {message}", file=err)
    if args.json:
        print(json.dumps(answers, indent=2), file=out)
    else:
        for answer in answers:
            print(f"{answer['image']}  (candidates: {answer['candidates']})", file=out)
            for label in answer["labels"]:
                print(
                    f"  {label['rank']:>3}. {label['wnid']}  {label['name']:<32} {label['cosine']:.3f}",
                    file=out,
                )
    return 1 if errors else 0
