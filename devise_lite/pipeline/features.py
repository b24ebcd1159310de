"""The feature stages: each experiment's images, in order, and their backbone features
(the labelled set, the ImageNet sample's views, the shark photos, the zero-shot test's
other photo sets). Images are chosen here once; later stages read rows of the arrays."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config
from ..datasets import locate
from ..ddp import Group
from ..imagefolders import class_folders, folder_split, is_folder_dataset
from ..imagenet1k import Classifier, seeded_subset
from ..images import LabelledImage, caltech_split
from ..sharks import shark_photos
from ..wnids import imagenet1k_wnids
from ..zeroshot_photos import set_photos
from .cache import Run


def image_split(cfg: Config):
    """The image set's fixed split over all its labels, vector or not (chapter 3)."""
    if is_folder_dataset(cfg.images.dataset):  # the user's ImageNet-style folder
        return folder_split(cfg.images)
    return caltech_split(cfg.images)


def labelled_images(cfg: Config) -> list:
    """Every image the `features` stage extracts, in its row order: train, then test."""
    split = image_split(cfg)
    return split.train + split.test


def dataset_root(dataset: str) -> Path:
    """The folder of a config's image dataset: the registry's, or yours (its path)."""
    if is_folder_dataset(dataset):
        return Path(dataset).expanduser()
    return locate(dataset)


def relative_paths(images: list, root: Path) -> list[str]:
    """Paths relative to `root` (keyed, recorded): a moved mirror finds its cache."""
    return [image.path.relative_to(root).as_posix() for image in images]


def experiment_labels(run: Run) -> list[str]:
    """The labels all Table 1 models rank alike: the image set's ones with a vector."""
    space = run.get("labels")
    return [w for w in image_split(run.cfg).wnids if w in space]


def dropped_labels(run: Run) -> list[str]:
    """The image set's labels left out because they have no label vector."""
    space = run.get("labels")
    return [w for w in image_split(run.cfg).wnids if w not in space]


@dataclass(frozen=True)
class Selection:
    """The experiment's images of one part, with their rows in the features array."""

    images: list  # LabelledImage, in feature-row order
    rows: np.ndarray  # row of each image in the features stage's array
    targets: np.ndarray  # class index of each image in `labels`
    labels: list[str]  # the experiment labels (class index i means labels[i])


def experiment_images(run: Run, part: str) -> Selection:
    """The "train" or "test" images of the experiment labels, computed in one place."""
    split = image_split(run.cfg)
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")
    labels = experiment_labels(run)
    index = {w: i for i, w in enumerate(labels)}
    offset = 0 if part == "train" else len(split.train)
    chosen = [
        (offset + row, image)
        for row, image in enumerate(getattr(split, part))
        if image.wnid in index
    ]
    return Selection(
        images=[image for _, image in chosen],
        rows=np.array([row for row, _ in chosen], dtype=np.int64),
        targets=np.array([index[image.wnid] for _, image in chosen], dtype=np.int64),
        labels=labels,
    )


def image_features(run: Run, part: str) -> tuple[np.ndarray, np.ndarray]:
    """Cached features of the experiment's `part` images, and their class indices."""
    selection = experiment_images(run, part)
    return np.asarray(run.get("features")[selection.rows]), selection.targets


def visual_per_rank(cfg: Config, group: Group):
    """The visual config with this machine's CPU threads shared among its ranks (the
    threads are in no cache key, so the artifacts are those of the one-process run)."""
    threads = max(1, cfg.visual.num_threads // group.local_world)
    return replace(cfg.visual, num_threads=threads)


def reads_photos(cfg: Config, images: list, root: Path):
    return cfg.visual.backbone, cfg.visual.image_size, relative_paths(images, root)


def reads_features(cfg: Config):
    # Batch size, device and threads change only the speed (and float rounding).
    images = relative_paths(labelled_images(cfg), dataset_root(cfg.images.dataset))
    return cfg.images, cfg.visual.backbone, cfg.visual.image_size, images


def extract_images(
    run: Run, stage: str, desc: str, images: list, table: dict, out: Path | None, group
) -> dict:
    """`stage`'s features of `images` in `features.npy`, `table` in `images.csv`."""
    from ..extraction import extract_features  # torch: only when extracting

    stats = extract_features(
        [image.path for image in images],
        visual_per_rank(run.cfg, group),
        out / "features.npy" if out else None,
        run.checkpoints(stage),
        group=group,
        desc=f"features {desc}",
    )
    if out is not None:
        table = {**table, "wnid": [image.wnid for image in images]}
        pd.DataFrame(table).to_csv(out / "images.csv", index=False)
    return stats


def build_features(run: Run, out: Path | None, group: Group) -> dict:
    images, dataset = labelled_images(run.cfg), run.cfg.images.dataset
    table = {"image": relative_paths(images, dataset_root(dataset))}
    return extract_images(run, "features", dataset, images, table, out, group)


def load_array(_run: Run, done: Path) -> np.ndarray:
    # Memory-mapped: 21 GB at paper scale, one copy for a machine's processes.
    return np.load(done / "features.npy", mmap_mode="r")


def shark_images(cfg: Config) -> list:
    """The mirror's shark photos, both species, in the `shark_features` row order."""
    first = cfg.imagenet.shark_photos
    return [image for photos in shark_photos().values() for image in photos[:first]]


def reads_sharks(cfg: Config):
    return reads_photos(cfg, shark_images(cfg), locate("sharks"))


def build_shark_features(run: Run, out: Path, group: Group) -> dict:
    images, desc = shark_images(run.cfg), "shark photos"
    table = {"image": relative_paths(images, locate("sharks"))}
    return extract_images(run, "shark_features", desc, images, table, out, group)


def shark_features(run: Run) -> dict:
    """{species wnid: (its photos, their backbone features)}."""
    features = np.load(run.get("shark_features") / "features.npy")
    images = shark_images(run.cfg)
    wnids = np.array([image.wnid for image in images])
    return {
        w: ([i for i in images if i.wnid == w], features[wnids == w])
        for w in dict.fromkeys(wnids)
    }


@dataclass(frozen=True)
class SetPhotos:
    """The zero-shot test's photos beyond Caltech-101, in `zeroshot_features` order."""

    images: list  # LabelledImage; `source` is the photo's class
    datasets: list[str]  # the set each photo comes from (`zeroshot_photos.PHOTO_SETS`)


def zeroshot_images(cfg: Config) -> SetPhotos:
    """The mapped photos of `ZeroShotPhotosConfig.datasets`, set by set."""
    photos = set_photos(cfg.zeroshot_photos.datasets, cfg.zeroshot_photos.per_class)
    return SetPhotos(
        images=[image for images in photos.values() for image in images],
        datasets=[name for name, images in photos.items() for _ in images],
    )


def set_photo_names(photos: SetPhotos) -> list[str]:
    """Each photo as `<set>/<path in the set>`: relative, as in `relative_paths`."""
    roots = {name: locate(name) for name in dict.fromkeys(photos.datasets)}
    return [
        f"{name}/{image.path.relative_to(roots[name]).as_posix()}"
        for image, name in zip(photos.images, photos.datasets, strict=True)
    ]


def reads_zeroshot_photos(cfg: Config):
    # The labels too: a corrected mapping must rebuild the tables downstream.
    photos = zeroshot_images(cfg)
    names, wnids = set_photo_names(photos), [image.wnid for image in photos.images]
    labelled = list(zip(names, wnids, strict=True))
    return cfg.visual.backbone, cfg.visual.image_size, labelled


def build_zeroshot_features(run: Run, out: Path, group: Group) -> dict:
    photos, desc = zeroshot_images(run.cfg), "zero-shot photo sets"
    table = {"dataset": photos.datasets, "image": set_photo_names(photos)}
    stage = "zeroshot_features"
    stats = extract_images(run, stage, desc, photos.images, table, out, group)
    return {**stats, "photos": len(photos.images)}


def sample_images(cfg: Config) -> list:
    """DeViSE-1K's training photos in the classifier's label order: the sample's photo
    of each ILSVRC class, or those of an ILSVRC-style folder (`<wnid>/*.JPEG`)."""
    root, wnids = dataset_root(cfg.imagenet.sample), imagenet1k_wnids()
    if cfg.imagenet.sample_classes is not None:
        wnids = seeded_subset(wnids, cfg.imagenet.sample_classes, cfg.imagenet.seed)
    if is_folder_dataset(cfg.imagenet.sample):
        folders = class_folders(root)
        return [image for w in wnids for image in folders.get(w, [])]
    by_wnid = {p.name.split("_")[0]: p for p in sorted(root.glob("n*_*.*"))}
    return [LabelledImage(by_wnid[w], w, "imagenet_sample") for w in wnids]


def sample_views(cfg: Config) -> int:
    """How many augmented views of each sample photo are extracted (all models')."""
    return max(cfg.imagenet.views, *cfg.imagenet.view_ablation)


def reads_sample(cfg: Config):
    photos = reads_photos(cfg, sample_images(cfg), dataset_root(cfg.imagenet.sample))
    return photos, cfg.imagenet.seed, sample_views(cfg)


@dataclass(frozen=True)
class Sample:
    """The ImageNet sample's features: augmented views of each photo."""

    wnids: list[str]  # one photo a class, in the classifier's order
    views: list  # one (photos, feature_dim) array per augmented view
    classifier: Classifier  # the backbone's own 1,000-way head


def build_sample_features(run: Run, out: Path, _group: Group) -> dict:
    import torch  # the backbone: only when extracting

    from ..extraction import extract_features
    from ..visual import build_backbone

    cfg = run.cfg
    photos = [image.path for image in sample_images(cfg)]
    work = run.checkpoints("sample_features")
    for view in range(sample_views(cfg)):
        # one seeded draw of random crops per view: a rerun repeats every view
        torch.manual_seed(cfg.imagenet.seed * 1000 + view)
        stats = extract_features(
            photos,
            cfg.visual,
            out / f"view{view}.npy",
            work / f"view{view}",
            augment=True,
            desc=f"features imagenet sample, view {view + 1}",
        )
    head = build_backbone(cfg.visual).imagenet_head
    weight, bias = head.weight.detach().numpy(), head.bias.detach().numpy()
    np.savez(out / "classifier.npz", weight=weight, bias=bias)
    return {**stats, "views": sample_views(cfg), "photos": len(photos)}


def load_sample(run: Run, done: Path) -> Sample:
    # Memory-mapped, one array a view: a view of ILSVRC's 1.28 M photos is 21 GB.
    views = [
        np.load(done / f"view{v}.npy", mmap_mode="r")
        for v in range(sample_views(run.cfg))
    ]
    with np.load(done / "classifier.npz") as head:
        classifier = Classifier(head["weight"], head["bias"], imagenet1k_wnids())
    wnids = [image.wnid for image in sample_images(run.cfg)]
    return Sample(wnids, views, classifier)
