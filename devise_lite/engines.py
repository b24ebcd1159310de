"""The inference engines' common ground: what an engine is (`Engine`), a photo made into
the network's input (`eval_array`), batches decoded ahead, and ONNX Runtime's engine.
It does not import torch (seconds), so `predict` runs with an exported network, PIL and
numpy alone; `torch_engines.py` makes engines of torch modules and picks the fastest."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PIL import Image

from .config import VisualConfig

if TYPE_CHECKING:
    import torch

# torchvision's ImageNet models expect these; EfficientNet-Lite was trained in
# TensorFlow on (pixel - 127) / 128 with 0-255 pixels: mean 127/255, std 128/255 on 0-1.
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
LITE_MEAN, LITE_STD = (127 / 255,) * 3, (128 / 255,) * 3
EVAL_RESIZE_RATIO = 256 / 224  # the usual ImageNet eval crop: resize to 256, crop 224
LITE_NAME = re.compile(r"efficientnet_lite(\d)")


class Engine(Protocol):
    """Something that maps a batch of normalised images to backbone features."""

    name: str

    def __call__(self, batch: np.ndarray | torch.Tensor) -> np.ndarray:
        """Features (N, feature_dim) float32 of a batch (N, 3, S, S) of images."""


def normalisation(backbone: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) per RGB channel on 0-1 pixels that the backbone was trained with."""
    if LITE_NAME.fullmatch(backbone):
        return LITE_MEAN, LITE_STD
    return IMAGENET_MEAN, IMAGENET_STD


def eval_array(image: Image.Image, cfg: VisualConfig) -> np.ndarray:
    """The network's input (3, S, S) float32 of a PIL image, without torch: bit for bit
    `image_transform(cfg, train=False)` (torchvision's Resize is PIL's bilinear)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    size, short = cfg.image_size, round(cfg.image_size * EVAL_RESIZE_RATIO)
    width, height = rgb.size
    # torchvision truncates the longer side (int(), not round()) and skips equal sizes.
    if width <= height:
        new_w, new_h = short, int(short * height / width)
    else:
        new_w, new_h = int(short * width / height), short
    if (new_w, new_h) != (width, height):
        rgb = rgb.resize((new_w, new_h), Image.BILINEAR)
    # The resized shorter side exceeds the crop, so CenterCrop never pads here.
    top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))
    return normalised(rgb.crop((left, top, left + size, top + size)), cfg.backbone)


def normalised(crop: Image.Image, backbone: str) -> np.ndarray:
    """An RGB crop as the network's input (3, S, S) float32: bit for bit torchvision's
    `ToTensor` then `Normalize` (the same float32 steps), in a quarter of their time."""
    x = np.ascontiguousarray(np.asarray(crop).transpose(2, 0, 1), dtype=np.float32)
    mean, std = (np.asarray(v, np.float32) for v in normalisation(backbone))
    np.divide(x, np.float32(255), out=x)
    np.subtract(x, mean[:, None, None], out=x)
    np.divide(x, std[:, None, None], out=x)
    return x


def loader_workers(device: Any, n_cpu: int | None) -> int:
    """DataLoader workers decoding for `device` with `n_cpu` CPUs: none on a CPU, where
    `batches_read_ahead`'s thread is faster on 2 cores; by a GPU all but one, 1-8."""
    kind = str(getattr(device, "type", device)).split(":")[0]
    return 0 if kind == "cpu" else max(1, min(8, (n_cpu or 1) - 1))


def batches_read_ahead(images: Sequence, batch_size: int) -> Iterator[np.ndarray]:
    """The items of `images` stacked in batches, a thread decoding the next meanwhile
    (PIL, ONNX Runtime and torch release the GIL); a bad file raises at its batch."""

    def stacked(start: int) -> np.ndarray:
        stop = min(start + batch_size, len(images))
        return np.stack([np.asarray(images[i]) for i in range(start, stop)])

    starts = range(0, len(images), batch_size)
    if not starts:
        return
    with ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as reader:
        ahead = reader.submit(stacked, starts[0])
        for start in starts[1:]:
            current, ahead = ahead.result(), reader.submit(stacked, start)
            yield current
        yield ahead.result()


@dataclass(frozen=True)
class OnnxEngine:
    """An exported network run by ONNX Runtime on the CPU with `threads` threads (the
    file may be deleted once read). A batch of `threads` or more images is split over
    single-threaded sessions, one a thread (`split`): EfficientNet's small layers keep
    one thread busier than a session's threads share them (1.15x faster on 2 cores:
    `benchmarks/bench_engines.py`). Smaller batches run on one session, every thread."""

    onnx_path: Path
    threads: int
    split: bool = True
    session: Any = field(init=False, repr=False, compare=False)
    singles: list = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "session", self._session(self.threads))

    def _session(self, threads: int):
        import onnxruntime as ort  # here: `torch_engines` falls back without it

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle threads that spin for work take the cores that the decoding thread and
        # other jobs need; on 2 shared cores that costs more than waking up does.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: no notes on the console
        return ort.InferenceSession(
            str(self.onnx_path), options, providers=["CPUExecutionProvider"]
        )

    @property
    def name(self) -> str:
        if self.split and self.threads > 1:
            return f"onnxruntime cpu, a batch split over {self.threads} sessions"
        return f"onnxruntime cpu, {self.threads} threads"

    def __call__(self, batch: np.ndarray | torch.Tensor) -> np.ndarray:
        x = np.ascontiguousarray(batch, dtype=np.float32)
        if not self.split or self.threads < 2 or len(x) < self.threads:
            return _run(self.session, x)
        while len(self.singles) < self.threads:
            self.singles.append(self._session(1))
        parts = np.array_split(x, self.threads)
        with ThreadPoolExecutor(self.threads, thread_name_prefix="onnx") as pool:
            return np.concatenate(list(pool.map(_run, self.singles, parts)))


def _run(session, x: np.ndarray) -> np.ndarray:
    (features,) = session.run(None, {session.get_inputs()[0].name: x})
    return features
