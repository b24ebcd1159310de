"""Engines made from a torch module: eager torch (`TorchEngine`), or the module exported
to ONNX and checked against it; `make_engine` picks the fastest that matches (on a CPU,
ONNX Runtime: several times faster than eager torch, with the same features to 1e-5)."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import VisualConfig
from .engines import Engine, OnnxEngine
from .errors import OutOfSpaceError
from .storage import checked_path, intact

ENGINES = ("auto", "onnx", "torch")
# An export is trusted only if it reproduces eager torch this closely (features of real
# photos lie in [0, 6] and differ from each other by whole units).
MATCH_ATOL = 1e-4
OPSET = 17
# Part of the cache key, so that a change in how files are exported retires old ones.
EXPORT_FORMAT = f"torchscript-opset{OPSET}-v1"


@dataclass(frozen=True)
class TorchEngine:
    """Eager torch in fp32 on the module's device, optionally channels_last (set to
    eval, re-laid out in place); CUDA convolutions in full fp32: TF32 misses 1e-4."""

    module: Any
    device: Any
    channels_last: bool = False

    def __post_init__(self) -> None:
        self.module.eval()
        if self.channels_last:
            self.module.to(memory_format=torch.channels_last)

    @property
    def name(self) -> str:
        layout = "channels_last" if self.channels_last else "NCHW"
        return f"torch {layout} fp32 ({self.device})"

    def __call__(self, batch: np.ndarray | torch.Tensor) -> np.ndarray:
        x = torch.as_tensor(batch, dtype=torch.float32)
        x = x.to(self.device, non_blocking=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        cuda = torch.device(self.device).type == "cuda"
        exact = _full_fp32_convolutions() if cuda else contextlib.nullcontext()
        with torch.inference_mode(), exact:
            features = self.module(x)
        return features.float().cpu().numpy()


@contextlib.contextmanager
def _full_fp32_convolutions() -> Iterator[None]:
    """Run cuDNN convolutions in IEEE fp32 within the block, then restore the flag."""
    conv = torch.backends.cudnn.conv
    previous = conv.fp32_precision
    conv.fp32_precision = "ieee"
    try:
        yield
    finally:
        conv.fp32_precision = previous


def weights_digest(module: Any) -> str:
    """A hash of the parameters and buffers of `module` (names, shapes, values)."""
    digest = hashlib.blake2b(EXPORT_FORMAT.encode(), digest_size=16)
    for key, tensor in module.state_dict().items():
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{key}|{tuple(value.shape)}|{value.dtype}".encode())
        # The raw bytes, whatever the dtype (numpy has no bfloat16).
        digest.update(value.view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def export_onnx(module: Any, image_size: int, path: Path | str) -> Path:
    """Export `module`, in eval mode, for (N, 3, S, S) images to the ONNX file `path` by
    the legacy TorchScript exporter (the dynamo one needs onnxscript). Tracing freezes
    the TF-"same" padding EfficientNet-Lite computes from each input's size: the file
    takes one image size, any batch; `checked_path` renames it only once whole."""
    path = Path(path)
    dummy = torch.zeros(2, 3, image_size, image_size, device=_device_of(module))
    with eval_mode(module), checked_path(path) as tmp, warnings.catch_warnings():
        # expected deprecation and tracer notes: the result is checked against torch
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
    return path


def max_difference(engine: Engine, module: Any, image_size: int) -> float:
    """Largest |engine - eager torch fp32 NCHW| over the features of a fixed batch of
    three random images (not the two the export traced: the batch axis is checked)."""
    batch = np.random.default_rng(0).standard_normal((3, 3, image_size, image_size))
    batch = batch.astype(np.float32)
    with eval_mode(module), torch.inference_mode():
        x = torch.from_numpy(batch).to(_device_of(module))
        expected = module(x).float().cpu().numpy()
    return float(np.abs(engine(batch) - expected).max())


@contextlib.contextmanager
def eval_mode(module: Any) -> Iterator[None]:
    """Run the block with `module` in eval mode, then restore its training flag."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


def _device_of(module: Any):
    """The device of the module's first parameter (the CPU for one without any)."""
    return next(iter(module.parameters()), torch.empty(0)).device


def _onnx_engine(cfg: VisualConfig, module: Any, cache_dir: Path | None) -> OnnxEngine:
    """The ONNX Runtime engine of `module`, exported (and checked) unless cached."""
    if importlib.util.find_spec("onnxruntime") is None:  # fail before exporting
        raise ImportError("ONNX Runtime is not installed (pip install onnxruntime)")
    if cache_dir is None:
        with tempfile.TemporaryDirectory() as folder:
            return _exported(module, cfg, Path(folder) / "backbone.onnx")
    name = f"{cfg.backbone}-{cfg.image_size}px-{weights_digest(module)}.onnx"
    path = Path(cache_dir) / name
    if intact(path, "exported engine", "exporting it again"):
        return OnnxEngine(path, cfg.num_threads)
    return _exported(module, cfg, path)


def _exported(module: Any, cfg: VisualConfig, path: Path) -> OnnxEngine:
    """`module` exported to `path`; one unlike eager torch is deleted and refused."""
    engine = OnnxEngine(export_onnx(module, cfg.image_size, path), cfg.num_threads)
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
    "torch" force one; a forced "onnx" that fails raises."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    kind = str(getattr(device, "type", device)).split(":")[0]
    if engine == "onnx" and kind != "cpu":
        raise ValueError(f"the onnx engine runs on the CPU, not on {device}")
    if engine != "torch" and kind == "cpu":
        try:
            return _onnx_engine(cfg, module, cache_dir)
        except OutOfSpaceError:
            raise  # the stage cannot finish either: say so now, once
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
    return TorchEngine(module, device, channels_last=True)
