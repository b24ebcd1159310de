"""`python -m devise_lite predict IMAGE_OR_FOLDER ...`: label your own photos with
chapter 6's DeViSE-1K or ConSE-1K or chapter 5's Caltech DeViSE (default: the best 2-hop
hit@5 in chapter 6's Table 2). All comes from the `predictor` stage, as arrays and an
ONNX backbone, so answers need neither torch nor WordNet; batches keep memory flat."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from . import pipeline
from .candidates import PREDICT_SETS
from .config import Config
from .datasets import IMAGE_SUFFIXES
from .engines import OnnxEngine, eval_array
from .errors import DamagedCacheError, UserError
from .evaluation import CONSE_1K, DEVISE_1K, DEVISE_CALTECH
from .predictor import Predictor, read_predictor
from .progress import progress_bar
from .storage import damaged_file
from .vectors import top_k

MODELS = {
    "devise-1k": DEVISE_1K,
    "conse-1k": CONSE_1K,
    "devise-caltech": DEVISE_CALTECH,
}
DEFAULT_CANDIDATES = "21k+seen"
BATCH = 32


@dataclass(frozen=True)
class Failure:
    """A file that could not be answered, and why."""

    image: str
    error: str


def load_predictor(cfg: Config) -> Predictor:
    """The `predictor` stage's arrays, never built here: the error says what to run."""
    if missing := pipeline.missing_for(cfg, "predictor"):
        raise UserError(
            f"the {cfg.name!r} preset has no trained models yet (stages not built: "
            f"{', '.join(missing)}). Train them first with: "
            f"python -m devise_lite run --preset {cfg.name}"
        )
    folder = pipeline.folder(cfg, "predictor")
    if (damage := damaged_file(folder)) is not None:  # say what rebuilds it
        raise DamagedCacheError(
            f"cache of predictor damaged ({damage.file}): rebuild it with "
            f"python -m devise_lite run --preset {cfg.name}"
        )
    return read_predictor(folder)


def image_files(arguments: Iterable[str]) -> tuple[list[Path], list[Failure]]:
    """Image files named or in folders (recursive); other arguments are failures."""
    files, failures = [], []
    for argument in arguments:
        path = Path(argument).expanduser()
        if path.is_dir():
            inside = (p for p in path.rglob("*") if p.is_file())
            found = sorted(p for p in inside if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                kinds = ", ".join(sorted(IMAGE_SUFFIXES))
                error = f"{path} holds no image files ({kinds})"
                failures.append(Failure(argument, error))
            files += found
        elif path.is_file():
            files.append(path)
        else:
            failures.append(Failure(argument, f"{path} does not exist"))
    return files, failures


def read_image(path: Path, cfg: Config) -> np.ndarray | Failure:
    """The network's input for one file, or why there is none."""
    try:
        with Image.open(path) as image:
            return eval_array(image, cfg.visual)
    except Image.DecompressionBombError as err:
        return Failure(str(path), f"{path} is too large to read safely ({err})")
    except (UnidentifiedImageError, OSError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return Failure(str(path), f"{path} is not a readable image ({reason})")


def batches(paths: Sequence[Path], cfg: Config, size: int) -> Iterator[tuple]:
    """(readable paths, their stacked inputs, failures) per batch of `size` files."""
    for start in range(0, len(paths), size):
        read = [(path, read_image(path, cfg)) for path in paths[start : start + size]]
        failed = [item for _, item in read if isinstance(item, Failure)]
        good = [(path, item) for path, item in read if not isinstance(item, Failure)]
        arrays = [array for _, array in good]
        yield [path for path, _ in good], (np.stack(arrays) if arrays else None), failed


def feature_engine(predictor: Predictor, cfg: Config):
    """The stage's ONNX export of the backbone, else eager torch (slower to start)."""
    if exports := sorted((predictor.folder / "engine").glob("*.onnx")):
        return OnnxEngine(exports[0], cfg.visual.num_threads)
    from . import torch_engines, visual  # torch: only without an export

    return torch_engines.TorchEngine(visual.build_backbone(cfg.visual), "cpu")


def predict(
    cfg: Config,
    paths: Sequence[str | Path],
    top: int = 5,
    candidates: str = DEFAULT_CANDIDATES,
    model: str | None = None,
    batch_size: int = BATCH,
    progress: bool = True,
):
    """(answers, failures): for each readable image {"image", "model", "candidates",
    "labels": [{"rank", "wnid", "name", "cosine"}]}, for each other file its error."""
    if candidates not in PREDICT_SETS:
        raise UserError(
            f"unknown candidates {candidates!r}; choose one of "
            f"{', '.join(PREDICT_SETS)}"
        )
    if top < 1:
        raise UserError(f"--top must be at least 1, got {top}")
    predictor = load_predictor(cfg)
    name = MODELS.get(model, model) if model else predictor.default
    if name not in predictor.models:
        raise UserError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    rows = predictor.models[name]["sets"][candidates]
    vectors = predictor.vectors[rows]
    files, failures = image_files(str(p) for p in paths)
    engine = feature_engine(predictor, cfg) if files else None
    answers, answer = [], {"model": name, "candidates": candidates}
    show = progress and len(files) > batch_size
    bar = progress_bar(total=len(files), unit="img", desc="predict", progress=show)
    for good, inputs, failed in batches(files, cfg, batch_size):
        failures += failed
        bar.update(len(good) + len(failed))
        if inputs is None:
            continue
        scores = predictor.points(name, engine(inputs)) @ vectors.T
        for path, score_row, ranked in zip(
            good, scores, top_k(scores, min(top, len(rows))), strict=True
        ):
            labels = [
                {
                    "rank": r + 1,
                    "wnid": predictor.wnids[rows[j]],
                    "name": predictor.names[rows[j]],
                    "cosine": round(float(score_row[j]), 4),
                }
                for r, j in enumerate(ranked)
            ]
            answers.append({"image": str(path), **answer, "labels": labels})
    bar.close()
    return answers, failures


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="image files or folders of them (searched recursively)",
    )
    parser.add_argument(
        "--top", type=int, default=5, metavar="K", help="labels per image (default 5)"
    )
    parser.add_argument(
        "--candidates",
        default=DEFAULT_CANDIDATES,
        choices=PREDICT_SETS,
        help=f"the labels to rank (default {DEFAULT_CANDIDATES}: "
        "every label); 'seen': the model's training labels",
    )
    parser.add_argument(
        "--model",
        choices=list(MODELS),
        help="default: the best zero-shot model of chapter 6",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=BATCH,
        metavar="N",
        help=f"images per batch (default {BATCH})",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def command(
    args: argparse.Namespace,
    cfg: Config,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run `predict`: 1 if a file failed (each reported, others answered), else 0."""
    out, err = out or sys.stdout, err or sys.stderr  # looked up now: redirections
    answers, failures = predict(
        cfg, args.images, args.top, args.candidates, args.model, args.batch
    )
    for failure in failures:
        print(f"error: {failure.error}", file=err)
    if args.json:
        listed = answers + [{"image": f.image, "error": f.error} for f in failures]
        print(json.dumps(listed, indent=2), file=out)
    else:
        for answer in answers:
            print(
                f"{answer['image']}  ({answer['model']}, candidates: "
                f"{answer['candidates']})",
                file=out,
            )
            for label in answer["labels"]:
                print(
                    f"  {label['rank']:>3}. {label['wnid']}  {label['name']:<32} "
                    f"{label['cosine']:.3f}",
                    file=out,
                )
    return 1 if failures else 0
