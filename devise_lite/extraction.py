"""Backbone features of image files: computed in batches by the fastest engine, saved
chunk by chunk (an interrupted run resumes), on one process or one per GPU. Phase 1
trains only the projection, so the CNN's features are computed once per image and
cached; phase 2 runs its tuned network through the same `forward_images`."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from .config import VisualConfig
from .ddp import SINGLE, Group, all_objects, barrier, gather_rows
from .engines import batches_read_ahead
from .engines import loader_workers as workers_for
from .errors import UserError
from .image_inputs import ImageError, ImageFiles, image_transform
from .progress import progress_bar
from .storage import atomic_path, checked_path, data_root, intact, writable_array
from .torch_engines import make_engine
from .visual import build_backbone

CHUNK_IMAGES = 1024  # extraction saves its progress every this many images


def resolve_device(cfg: VisualConfig, group: Group = SINGLE) -> torch.device:
    """The group's device under torchrun, else `cfg.device` ("auto": CUDA if any)."""
    if group.world > 1:
        return group.device
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(cfg.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(
            f"device {cfg.device!r} was asked for but CUDA is not available; "
            "use 'auto' or 'cpu'"
        )
    return device


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with `n` intra-op threads, then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def extract_features(
    paths: Sequence[Path | str],
    cfg: VisualConfig,
    out_file: Path,
    work_dir: Path,
    *,
    group: Group = SINGLE,
    desc: str = "features",
    progress: bool = True,
    chunk_images: int = CHUNK_IMAGES,
    augment: bool = False,
) -> dict:
    """Penultimate-layer features (N, feature_dim) float32 of the images, in order, in
    `out_file` (.npy, written by the main process); returns the speed record. Rank r
    extracts `paths[r::world]`, saving each chunk of `chunk_images` in `work_dir` (a run
    resumes there). `augment`: the training transform (seed torch first)."""
    if not paths:
        raise ValueError("no image paths given")
    mine = list(paths)[group.rank :: group.world]
    shard = work_dir / f"rank{group.rank}of{group.world}"
    starts = list(range(0, len(mine), chunk_images))
    chunk_file = {s: shard / f"chunk-{s:07d}.npy" for s in starts}
    todo = [
        s
        for s in starts
        if not intact(chunk_file[s], "feature chunk", "extracting it again")
    ]
    computed, seconds, device = 0, 0.0, resolve_device(cfg, group)
    if todo:
        with torch_threads(cfg.num_threads):
            engine = feature_engine(cfg, device)
            transform = image_transform(cfg, train=augment)
            done_before = len(mine) - sum(
                min(chunk_images, len(mine) - s) for s in todo
            )
            with progress_bar(
                total=len(mine),
                initial=done_before,
                unit="img",
                desc=desc,
                progress=progress and group.is_main,
            ) as bar:
                for start in todo:
                    began = time.perf_counter()
                    part = ImageFiles(mine[start : start + chunk_images], transform)
                    block = forward_images(engine, part, cfg, device, bar)
                    seconds += time.perf_counter() - began
                    computed += len(block)
                    with checked_path(chunk_file[start]) as tmp:
                        np.save(tmp, block)
    local = [np.load(chunk_file[s], mmap_mode="r") for s in starts]
    dim = int(max(all_objects(local[0].shape[1] if local else 0, group)))
    if group.is_main:
        with atomic_path(out_file) as tmp:
            out = writable_array(tmp, np.float32, (len(paths), dim))
            _write_rows(local, len(paths), group, out)
            out.flush()
            del out
    else:
        _write_rows(local, len(paths), group, None)
    stats = all_objects({"computed": computed, "seconds": seconds}, group)
    barrier(group)
    shutil.rmtree(shard, ignore_errors=True)  # out_file holds these rows now
    if group.is_main:
        shutil.rmtree(work_dir, ignore_errors=True)
    total_computed = sum(s["computed"] for s in stats)
    slowest = max(s["seconds"] for s in stats)  # the ranks run at once
    return {
        "backbone": cfg.backbone,
        "image_size": cfg.image_size,
        "images": len(paths),
        "feature_dim": dim,
        "images_computed": total_computed,
        "seconds": round(slowest, 3),
        "images_per_second": round(total_computed / slowest, 2) if slowest else None,
        "device": f"{group.world} x {device.type}" if group.world > 1 else str(device),
        "engine": engine.name if todo else None,
        "batch_size": cfg.batch_size,
        "num_threads": cfg.num_threads,
        "world_size": group.world,
    }


def _write_rows(chunks: list[np.ndarray], total: int, group: Group, out) -> None:
    """This rank's chunks into their rows of `out` (the main process's memory map)."""
    if group.world == 1:
        row = 0
        for block in chunks:  # streamed chunk by chunk
            out[row : row + len(block)] = block
            row += len(block)
        return
    local = np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32)
    gather_rows(local, total, group, out)


def features_of(
    paths: Sequence[Path | str], cfg: VisualConfig, progress: bool = False
) -> np.ndarray:
    """Backbone features of a few image files, in memory, uncached (new photos)."""
    device = resolve_device(cfg)
    with torch_threads(cfg.num_threads):
        engine = feature_engine(cfg, device)
        images = ImageFiles(paths, image_transform(cfg, train=False))
        with progress_bar(
            total=len(images), unit="img", desc="features", progress=progress
        ) as bar:
            return forward_images(engine, images, cfg, device, bar)


def forward_images(
    engine, images: ImageFiles, cfg: VisualConfig, device: torch.device, bar
) -> np.ndarray:
    """`engine`'s outputs of the images, `cfg.batch_size` at a time, advancing `bar`."""
    blocks = []
    for batch in _batches(images, cfg, device):
        blocks.append(engine(batch))
        bar.update(len(batch))
    return np.concatenate(blocks).astype(np.float32, copy=False)


def _batches(images: ImageFiles, cfg: VisualConfig, device: torch.device):
    workers = loader_workers(device)
    if workers == 0:
        yield from batches_read_ahead(images, cfg.batch_size)
        return
    loader = DataLoader(
        range(len(images)),
        batch_size=cfg.batch_size,
        num_workers=workers,
        pin_memory=True,
        collate_fn=functools.partial(_load_batch, images),
    )
    for batch in loader:
        if isinstance(batch, ImageError):
            raise batch.exception()
        yield batch


def _load_batch(images: ImageFiles, indices: list[int]):
    """The batch's tensors stacked, or its first `ImageError` (returned, not raised)."""
    items = [images.load(i) for i in indices]
    errors = [item for item in items if isinstance(item, ImageError)]
    return errors[0] if errors else torch.stack(items)


def loader_workers(device: torch.device) -> int:
    """`engines.loader_workers` with this machine's cores."""
    return workers_for(device, os.cpu_count())


def engine_cache() -> Path:
    """Where exported engines are kept (one file per backbone, image size, weights)."""
    return data_root() / "cache" / "engines"


def feature_engine(cfg: VisualConfig, device: torch.device, module=None):
    """The fastest engine, exact to 1e-4, for `module` (default: the backbone)."""
    module = build_backbone(cfg).to(device) if module is None else module
    return make_engine(cfg, module, device, engine_cache(), cfg.engine)
