"""The inference engines that turn a batch of images into backbone features: ONNX
Runtime on CPUs, torch on GPUs, eager torch as the fallback.

On a 2-core CPU, ONNX Runtime runs EfficientNet-Lite0 several times faster than eager
torch and gives the same features to about 1e-5, so `make_engine` exports the very
module it is given (pretrained or fine-tuned; nothing is downloaded) to ONNX once per
image size and weights, and caches the file. On a GPU, torch in channels_last is fast.

Importing this module does not import torch (that costs seconds): `eval_array` turns one
photo into the network's input with PIL and numpy alone, identically to torchvision.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PIL import Image

from .config import VisualConfig
from .storage import atomic_path

if TYPE_CHECKING:
    import torch

# torchvision's ImageNet models expect these; EfficientNet-Lite was trained in
# TensorFlow on (pixel - 127) / 128 with 0-255 pixels: mean 127/255, std 128/255 on 0-1.
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
LITE_MEAN, LITE_STD = (127 / 255,) * 3, (128 / 255,) * 3
EVAL_RESIZE_RATIO = 256 / 224  # the usual ImageNet eval crop: resize to 256, crop 224
ENGINES = ("auto", "onnx", "torch")
# An export is trusted only if it reproduces eager torch this closely (features of real
# photos lie in [0, 6] and differ from each other by whole units).
MATCH_ATOL = 1e-4
OPSET = 17
# Part of the cache key, so that a change in how files are exported retires old ones.
EXPORT_FORMAT = f"torchscript-opset{OPSET}-v1"
_LITE_NAME = re.compile(r"efficientnet_lite(\d)")


class Engine(Protocol):
    """Something that maps a batch of normalised images to backbone features."""

    name: str

    def __call__(self, batch: np.ndarray | torch.Tensor) -> np.ndarray:
        """Features (N, feature_dim) float32 of a batch (N, 3, S, S) of images."""
        ...


# ---------------------------------------------------------------- preprocessing


def normalisation(backbone: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) per RGB channel on 0-1 pixels that the backbone was trained with."""
    return (
        (LITE_MEAN, LITE_STD)
        if _LITE_NAME.fullmatch(backbone)
        else (IMAGENET_MEAN, IMAGENET_STD)
    )


def eval_array(image: Image.Image, cfg: VisualConfig) -> np.ndarray:
    """The network's input (3, S, S) float32 for one PIL image, without torch.

    Equal, to the last bit, to `visual.image_transform(cfg, train=False)` applied to
    `image.convert("RGB")`: torchvision's Resize on a PIL image is PIL's own bilinear
    resize (always antialiased) of the shorter side, then CenterCrop, ToTensor and
    Normalize, whose float32 arithmetic is repeated here operation for operation.
    """
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
    crop = rgb.crop((left, top, left + size, top + size))
    # One conversion into a (3, S, S) float32 array, then in place: no temporaries.
    x = np.ascontiguousarray(np.asarray(crop).transpose(2, 0, 1), dtype=np.float32)
    mean, std = (np.asarray(v, np.float32) for v in normalisation(cfg.backbone))
    np.divide(x, np.float32(255), out=x)
    np.subtract(x, mean[:, None, None], out=x)
    np.divide(x, std[:, None, None], out=x)
    return x


def loader_workers(device: Any, n_cpu: int | None) -> int:
    """How many DataLoader worker processes should decode images for `device`.

    Zero on a CPU: there `batches_read_ahead` decodes in a thread of the main process,
    which overlaps inference as a worker would without copying every batch between
    processes (faster on 2 cores: `benchmarks/bench_engines.py`), and extra processes
    would take cores from the network. A GPU leaves the CPUs to decoding: every core but
    the main process's one, at least one and at most 8. `n_cpu` is the number of CPUs
    this process may use (os.cpu_count() divided among the processes of one machine).
    """
    kind = str(getattr(device, "type", device)).split(":")[0]
    if kind == "cpu":
        return 0
    return max(1, min(8, (n_cpu or 1) - 1))


def batches_read_ahead(images: Sequence, batch_size: int) -> Iterator[np.ndarray]:
    """The items of `images` stacked in batches, the next decoded while one is used.

    One thread reads ahead: PIL's decoding and resizing and ONNX Runtime's and torch's
    kernels release the GIL, so on two cores decoding hides behind inference. An error
    in reading (a bad file) is raised here, at its batch.
    """

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


# ---------------------------------------------------------------- engines


@dataclass(frozen=True)
class TorchEngine:
    """Eager torch on the module's device, optionally channels_last and (CUDA) autocast.

    The module is put in eval mode and, for channels_last, re-laid out in place (its
    values do not change). Without autocast, CUDA convolutions run in full fp32, not
    TF32 (torch's default for cuDNN), since TF32 alone misses the 1e-4 match.
    """

    module: Any
    device: Any
    channels_last: bool = False
    autocast: bool = False

    def __post_init__(self) -> None:
        import torch

        self.module.eval()
        if self.channels_last:
            self.module.to(memory_format=torch.channels_last)

    @property
    def name(self) -> str:
        layout = "channels_last" if self.channels_last else "NCHW"
        precision = "autocast" if self.autocast else "fp32"
        return f"torch {layout} {precision} ({self.device})"

    def __call__(self, batch: np.ndarray | torch.Tensor) -> np.ndarray:
        import torch

        x = torch.as_tensor(batch, dtype=torch.float32)
        x = x.to(self.device, non_blocking=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        cuda = torch.device(self.device).type == "cuda"
        with contextlib.ExitStack() as stack:
            stack.enter_context(torch.inference_mode())
            if self.autocast:
                stack.enter_context(torch.autocast(torch.device(self.device).type))
            elif cuda:
                stack.enter_context(_full_fp32_convolutions())
            features = self.module(x)
        return features.float().cpu().numpy()


@contextlib.contextmanager
def _full_fp32_convolutions() -> Iterator[None]:
    """Run cuDNN convolutions in IEEE fp32 within the block, then restore the flag."""
    import torch

    conv = torch.backends.cudnn.conv
    previous = conv.fp32_precision
    conv.fp32_precision = "ieee"
    try:
        yield
    finally:
        conv.fp32_precision = previous


@dataclass(frozen=True)
class OnnxEngine:
    """An exported network run by ONNX Runtime on the CPU, `threads` intra-op threads.

    The session reads the file once, so the file may be deleted afterwards.
    """

    onnx_path: Path
    threads: int
    session: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Idle threads that spin for work take the cores that the decoding thread and
        # other jobs need; on 2 shared cores that costs more than waking up does.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: no notes on the console
        session = ort.InferenceSession(
            str(self.onnx_path), options, providers=["CPUExecutionProvider"]
        )
        object.__setattr__(self, "session", session)

    @property
    def name(self) -> str:
        return f"onnxruntime cpu, {self.threads} threads"

    @property
    def image_size(self) -> int:
        """The image size the file was exported for (the only size it accepts)."""
        return int(self.session.get_inputs()[0].shape[-1])

    def __call__(self, batch: np.ndarray | torch.Tensor) -> np.ndarray:
        x = np.ascontiguousarray(batch, dtype=np.float32)
        (features,) = self.session.run(None, {self.session.get_inputs()[0].name: x})
        return features


# ---------------------------------------------------------------- export


def weights_digest(module: Any) -> str:
    """A hash of the parameters and buffers of `module` (names, shapes, values)."""
    import torch

    digest = hashlib.blake2b(EXPORT_FORMAT.encode(), digest_size=16)
    for key, tensor in module.state_dict().items():
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{key}|{tuple(value.shape)}|{value.dtype}".encode())
        # The raw bytes, whatever the dtype (numpy has no bfloat16).
        digest.update(value.view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def onnx_cache_path(
    cache_dir: Path, backbone: str, image_size: int, module: Any
) -> Path:
    """Where the export of `module` at `image_size` is cached: one file per weights."""
    return cache_dir / f"{backbone}-{image_size}px-{weights_digest(module)}.onnx"


def export_onnx(module: Any, image_size: int, path: Path | str) -> Path:
    """Export `module`, in eval mode, for (N, 3, S, S) images to the ONNX file `path`.

    The legacy TorchScript exporter is used: it needs the onnx package only (the
    dynamo exporter needs onnxscript as well, which is not installed). Tracing freezes
    the TF-"same" padding that EfficientNet-Lite computes from each input's size, so
    the file is exported for one image size (ONNX Runtime refuses any other) with a
    dynamic batch axis. It is written under a temporary name and renamed, so no
    half-written export is ever trusted.
    """
    import torch

    path = Path(path)
    dummy = torch.zeros(2, 3, image_size, image_size, device=_device_of(module))
    was_training = module.training
    module.eval()
    try:
        with atomic_path(path) as tmp, warnings.catch_warnings():
            # The exporter's deprecation and tracer notes are expected; the result is
            # checked against eager torch instead.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                (dummy,),
                str(tmp),
                dynamo=False,
                input_names=["images"],
                output_names=["features"],
                dynamic_axes={"images": {0: "batch"}, "features": {0: "batch"}},
                opset_version=OPSET,
            )
    finally:
        module.train(was_training)
    return path


def max_difference(engine: Engine, module: Any, image_size: int) -> float:
    """Largest |engine - eager torch fp32 NCHW| over the features of a fixed batch.

    Three random images, not the two the export traced: the batch axis is checked too.
    """
    import torch

    batch = np.random.default_rng(0).standard_normal((3, 3, image_size, image_size))
    batch = batch.astype(np.float32)
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            x = torch.from_numpy(batch).to(_device_of(module))
            expected = module(x).float().cpu().numpy()
    finally:
        module.train(was_training)
    return float(np.abs(engine(batch) - expected).max())


def _device_of(module: Any):
    """The device of the module's first parameter (the CPU for one without any)."""
    import torch

    return next(iter(module.parameters()), torch.empty(0)).device


def _onnx_engine(cfg: VisualConfig, module: Any, cache_dir: Path | None) -> OnnxEngine:
    """The ONNX Runtime engine of `module`, exported (and checked) unless cached."""
    import onnxruntime  # noqa: F401  (fail here, before exporting, if it is missing)

    if cache_dir is None:
        with tempfile.TemporaryDirectory() as folder:
            path = export_onnx(module, cfg.image_size, Path(folder) / "backbone.onnx")
            return _checked(OnnxEngine(path, cfg.num_threads), module, cfg, path)
    path = onnx_cache_path(Path(cache_dir), cfg.backbone, cfg.image_size, module)
    if path.exists():
        return OnnxEngine(path, cfg.num_threads)
    export_onnx(module, cfg.image_size, path)
    return _checked(OnnxEngine(path, cfg.num_threads), module, cfg, path)


def _checked(
    engine: OnnxEngine, module: Any, cfg: VisualConfig, path: Path
) -> OnnxEngine:
    """`engine` if it reproduces eager torch; else the export is deleted and refused."""
    difference = max_difference(engine, module, cfg.image_size)
    if not difference <= MATCH_ATOL:
        path.unlink(missing_ok=True)
        raise ValueError(
            f"the ONNX export differs from torch by {difference:.2g} (> {MATCH_ATOL})"
        )
    return engine


def make_engine(
    cfg: VisualConfig,
    module: Any,
    device: Any,
    cache_dir: Path | None,
    engine: str = "auto",
) -> Engine:
    """The fastest engine for `module` on `device` whose features match eager torch.

    "auto": ONNX Runtime on a CPU (exported once per image size and weights, cached in
    `cache_dir`; None exports to a temporary folder), eager torch in channels_last if
    that is impossible (one warning line says why); on CUDA, torch channels_last in fp32
    (autocast's float16 misses the 1e-4 match by orders of magnitude). "onnx" and
    "torch" force one; a forced "onnx" that fails raises.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    kind = str(getattr(device, "type", device)).split(":")[0]
    if engine == "onnx" and kind != "cpu":
        raise ValueError(f"the onnx engine runs on the CPU, not on {device}")
    if engine != "torch" and kind == "cpu":
        try:
            return _onnx_engine(cfg, module, cache_dir)
        except Exception as err:  # whatever failed, the torch path still works
            if engine == "onnx":
                raise
            reason = (str(err).splitlines() or [""])[0]
            warnings.warn(
                f"ONNX Runtime unavailable for {cfg.backbone} "
                f"({type(err).__name__}: {reason}); "
                "computing features with eager torch instead",
                RuntimeWarning,
                stacklevel=2,
            )
    return TorchEngine(module, device, channels_last=True, autocast=False)
