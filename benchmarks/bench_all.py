"""Every speed figure of the project on this machine, each against a baseline run in the
same process.

    python benchmarks/bench_all.py               # minutes: small samples of each stage
    python benchmarks/bench_all.py --whole-run   # + the whole book run, cold and warm

Default parts (small samples; each part's own script takes larger ones):

* skip-gram words/s, the package's streaming `corpus_file` against gensim fed in memory
  (`bench_word2vec.py`; needs the book preset's corpus cache);
* backbone feature images/s, batched `extract_features` against one image at a time
  (`bench_features.py`; in a throw-away data root);
* projection training steps/s, the vectorised hinge rank loss against its per-example
  loop (`bench_training.py`; random data of the book's shapes), and whole trainings
  a minute, two side by side (`training.side_by_side`) against one after another;
* corpus tokens/s, `corpus.build_corpus` on every core against the old one-process
  stage and against itself on one process (`bench_corpus.py`; 10 mirror files);
* neighbour queries/s over the book preset's label space (the ImageNet-21K synsets with
  a vector): one matrix product and `metrics.top_k` for a batch of queries, against a
  per-query loop, and the two per-query paths the book calls, `LabelSpace.nearest`
  (chapters 2 and 6) and `Explorer.rank` (chapter 7's explorer);
* WordNet walks/s, hop distances over the noun graph held in numpy arrays against the
  node-by-node walk of the same edges (`hierarchy.NodeArrays`).

`--whole-run` times what a reader runs: `python -m devise_lite run --preset book`, then
the strict book build, in a fresh data root (`DEVISE_DATA`; the read-only mirror
`DEVISE_MIRROR` is kept) and a fresh copy of the book sources (so a fresh `_build` and
execution cache), cold, then again warm, against the targets (cold <= 15 min, warm <= 3
min). `pip install` is not timed.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
sys.path[:0] = [
    str(REPO),
    str(BENCHMARKS),
]  # run from a checkout; import the sibling benchmarks

from bench_engines import engine_rows
from bench_features import (
    batched_images_per_second,
    caltech_sample,
    naive_images_per_second,
)
from bench_training import steps_per_second
from bench_word2vec import skipgram_speeds

from devise_lite import pipeline
from devise_lite.book.explorer import Explorer, ModelView
from devise_lite.config import DeviseConfig, VisualConfig, get_preset
from devise_lite.devise import train_projection
from devise_lite.hierarchy import Hierarchy, hops_to
from devise_lite.losses import (
    hinge_rank_loss_truncated,
    naive_hinge_rank_loss_truncated,
)
from devise_lite.training import side_by_side
from devise_lite.vectors import top_k

COLD_TARGET_S, WARM_TARGET_S = 15 * 60, 3 * 60  # issue M: a cold `make all` in 15 min
# What `make all` runs after installing (see the Makefile): every stage, then the strict
# book build.
RUN_COMMAND = [sys.executable, "-m", "devise_lite", "run", "--preset"]
BUILD_COMMAND = [sys.executable, "_ext/book_build.py", ".", "-W", "-n", "--keep-going"]
# Book sources copied for the whole run; outputs, caches, git history and the virtual
# environment the README makes inside the clone (gigabytes of torch) are not.
COPY_IGNORE = shutil.ignore_patterns(
    ".venv",
    "venv",
    "build",
    "_build",
    "data",
    ".git",
    "__pycache__",
    ".pytest_cache",
    "*.egg-info",
    ".ipynb_checkpoints",
)


def row(name: str, value: float, unit: str, ratio: float | None = None) -> None:
    """One line of the report: figure, unit, and its ratio against the part's
    baseline."""
    shown = "baseline" if ratio is None else f"{ratio:.2f}x"
    print(f"  {name:<44}{value:>14,.1f} {unit:<10}{shown:>10}")


# ---------------------------------------------------------------- WordNet walks


def hierarchy_walks(n_walks: int, seed: int = 0) -> None:
    """Hop distances over the WordNet 3.0 noun graph (`hierarchy.hops_to`, one walk a
    source, as the zero-shot gallery measures its top-1 mistakes): the walk in numpy
    arrays (`NodeArrays`) against the node-by-node walk of the same edges."""
    wordnet = Hierarchy.wordnet()
    by_node = Hierarchy(wordnet.neighbours, "node by node")
    nodes = wordnet.arrays.names
    rng = np.random.default_rng(seed)
    sources = rng.choice(nodes, n_walks, replace=False).tolist()
    targets = rng.choice(nodes, 4, replace=False).tolist()  # far: most of the graph
    print(
        f"WordNet walks: {len(nodes):,} noun synsets, {n_walks} sources, hops to 4 "
        "random synsets each"
    )
    speeds, found = {}, {}
    for name, h in (("node by node", by_node), ("numpy arrays", wordnet)):
        began = time.perf_counter()
        found[name] = [hops_to(h, source, targets) for source in sources]
        speeds[name] = n_walks / (time.perf_counter() - began)
    assert found["numpy arrays"] == found["node by node"], "the walks disagree"
    row("walks, node by node (the baseline)", speeds["node by node"], "walks/s")
    ratio = speeds["numpy arrays"] / speeds["node by node"]
    row("walks in numpy arrays", speeds["numpy arrays"], "walks/s", ratio)


# ---------------------------------------------------------------- neighbour queries


def per_query_loop(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """The baseline: one matrix-vector product and a full sort per query."""
    return np.stack([np.argsort(-(vectors @ q), kind="stable")[:k] for q in queries])


def batched_top_k(
    vectors: np.ndarray, queries: np.ndarray, k: int, chunk: int = 1024
) -> np.ndarray:
    """All queries at once: one matrix product per chunk, then a partial sort
    (`metrics.top_k`)."""
    return np.concatenate(
        [
            top_k(queries[i : i + chunk] @ vectors.T, k)
            for i in range(0, len(queries), chunk)
        ]
    )


def same_neighbours(
    vectors: np.ndarray, queries: np.ndarray, found, expected: np.ndarray
) -> bool:
    """Whether each query's `found` rows score like the `expected` ones, best first (in
    float64).

    Matrix products and matrix-vector products add in different orders, so labels with
    equal vectors (or nearly equal cosines) may swap places; the scores of the picks may
    not differ."""
    found = np.asarray(found)
    v, q = vectors.astype(np.float64), queries.astype(np.float64)
    return all(
        np.allclose(v[f] @ x, v[e] @ x, atol=1e-5)
        for f, e, x in zip(found, expected, q, strict=False)
    )


def queries_per_second(rank, queries: np.ndarray, repeats: int = 1):
    """Best-of-`repeats` queries/s of `rank(queries)`, and its result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = rank(queries)
        best = min(best, time.perf_counter() - start)
    return len(queries) / best, result


def neighbour_queries(n_queries: int, k: int, seed: int = 0) -> None:
    space = pipeline.label_space(get_preset("book"))
    vectors = np.ascontiguousarray(space.vectors, dtype=np.float32)
    rng = np.random.default_rng(seed)
    # Queries near label vectors, as a projected photo or a label's own vector would be.
    picked = vectors[rng.choice(len(vectors), n_queries, replace=False)]
    queries = picked + 0.05 * rng.standard_normal(picked.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    print(
        f"neighbour queries: top-{k} of {len(space):,} labels x {vectors.shape[1]}-d "
        f"(book preset), "
        f"{n_queries} queries, {torch.get_num_threads()} BLAS/torch threads"
    )

    loop_speed, expected = queries_per_second(
        lambda q: per_query_loop(vectors, q, k), queries
    )
    batch_speed, batched = queries_per_second(
        lambda q: batched_top_k(vectors, q, k), queries, repeats=3
    )
    assert same_neighbours(vectors, queries, batched, expected), (
        "batched top-k disagrees with the loop"
    )
    few = queries[
        : max(1, n_queries // 4)
    ]  # the per-query book paths are slower: a quarter suffices
    nearest_speed, tables = queries_per_second(
        lambda q: [space.nearest(v, k) for v in q], few
    )
    assert same_neighbours(
        vectors, few, [space.index(t.wnid) for t in tables], expected
    )
    explorer = Explorer(space, {"21k": space.wnids}, {"DeViSE": ModelView(space)})
    rank_speed, tables = queries_per_second(
        lambda q: [explorer.rank(v, k, "21k", "DeViSE") for v in q], few
    )
    assert same_neighbours(
        vectors, few, [space.index(t.wnid) for t in tables], expected
    )

    row("per-query loop: matvec + full argsort", loop_speed, "queries/s")
    row(
        "batched: one matmul + metrics.top_k",
        batch_speed,
        "queries/s",
        batch_speed / loop_speed,
    )
    row(
        "LabelSpace.nearest (chapters 2, 6)",
        nearest_speed,
        "queries/s",
        nearest_speed / loop_speed,
    )
    row(
        "Explorer.rank (chapter 7's explorer)",
        rank_speed,
        "queries/s",
        rank_speed / loop_speed,
    )


# ---------------------------------------------------------------- the three stage
# benchmarks


def skipgram(paragraphs: int) -> None:
    speeds = skipgram_speeds(get_preset("book"), paragraphs)
    w2v = speeds["word2vec"]
    print(
        f"skip-gram: {paragraphs:,} paragraphs of the book corpus "
        f"({speeds['words']:,} words), one epoch, "
        f"{w2v.vector_size}-d, window {w2v.window}, {w2v.workers} workers"
    )
    row("gensim fed a list in memory", speeds["in_memory"], "words/s")
    row(
        "streaming corpus_file (the package)",
        speeds["streaming"],
        "words/s",
        speeds["streaming"] / speeds["in_memory"],
    )


def features(n_images: int, n_naive: int, batch_size: int, device: str) -> None:
    paths = caltech_sample(n_images)
    cfg = VisualConfig(num_threads=2, device=device, batch_size=batch_size)
    print(
        f"features: {cfg.backbone} at {cfg.image_size} px, {len(paths)} Caltech-101 "
        f"images "
        f"({n_naive} for the baseline), device {device}"
    )
    previous = os.environ.get("DEVISE_DATA")
    with tempfile.TemporaryDirectory() as root:
        os.environ["DEVISE_DATA"] = (
            root  # a fresh cache: every image is really computed
        )
        try:
            naive = naive_images_per_second(paths[:n_naive], cfg)
            batched = batched_images_per_second(paths, cfg)
        finally:
            if previous is None:
                os.environ.pop("DEVISE_DATA", None)
            else:
                os.environ["DEVISE_DATA"] = previous
    row("one image at a time", naive, "images/s")
    row(f"extract_features, batch {batch_size}", batched, "images/s", batched / naive)


def training(steps: int, batch: int, n_labels: int, device: str) -> None:
    print(
        f"projection training (phase 1): {steps} steps, batch {batch}, {n_labels} "
        f"labels, "
        f"1280 -> 500, device {device}"
    )
    naive = steps_per_second(
        naive_hinge_rank_loss_truncated, steps, batch, n_labels, device
    )
    fast = steps_per_second(hinge_rank_loss_truncated, steps, batch, n_labels, device)
    row("per-example loop loss", naive, "steps/s")
    row("vectorised loss (the package)", fast, "steps/s", fast / naive)
    side_by_side_trainings(n_models=4, views=4, epochs=5)


def side_by_side_trainings(n_models: int, views: int, epochs: int) -> None:
    """Whole phase 1 trainings of DeViSE-1K's shapes (random features of 1,000 labels,
    `views` rows each, batch 256), one after another on every torch thread against
    `training.side_by_side` (two at once, half the threads each); the weights must
    agree to the bit."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1000 * views, 1280)).astype(np.float32)
    y = np.tile(np.arange(1000), views)
    vectors = rng.standard_normal((1000, 500)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    base = DeviseConfig(phase1_epochs=epochs, batch_size=256, phase1_lr=2.0)

    def weights(seed: int) -> np.ndarray:
        settings = replace(base, seed=seed)
        model, _ = train_projection(x, y, vectors, settings, progress=False)
        return model.linear.weight.detach().numpy()

    seeds = list(range(n_models))
    began = time.perf_counter()
    alone = [weights(seed) for seed in seeds]
    one_by_one = n_models / (time.perf_counter() - began)
    began = time.perf_counter()
    together = side_by_side(weights, seeds)
    two_at_once = n_models / (time.perf_counter() - began)
    assert all(map(np.array_equal, alone, together)), "side by side changed weights"
    row(f"{n_models} trainings one after another", one_by_one * 60, "models/min")
    row(
        "two side by side (the package)",
        two_at_once * 60,
        "models/min",
        two_at_once / one_by_one,
    )


def corpus_stage() -> None:
    from bench_corpus import corpus_part  # a sibling, like the imports above

    corpus_part(row)


# ---------------------------------------------------------------- the whole run


def timed(command: list[str], cwd: Path, env: dict, log: Path) -> tuple[float, bool]:
    """Seconds `command` took and whether it succeeded; its output goes to `log`.

    A failure is reported (its warnings and the end of the log) but does not stop the
    benchmark: a cold run costs half an hour, and its time is still worth having."""
    start = time.perf_counter()
    with open(log, "w") as out:
        code = subprocess.run(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    seconds = time.perf_counter() - start
    if code != 0:
        lines = log.read_text(errors="replace").splitlines()
        problems = [
            line
            for line in lines
            if ("WARNING" in line or "ERROR" in line or "Error:" in line)
            and "IPKernelApp" not in line
        ]
        print(
            f"  FAILED: {' '.join(command)} (exit {code}) after {seconds:.0f}s; from "
            f"{log}:\n    " + "\n    ".join(problems[:10] + ["..."] + lines[-8:]),
            flush=True,
        )
    return seconds, code == 0


def whole_run(preset: str, keep: bool) -> None:
    if not os.environ.get("DEVISE_MIRROR"):
        print(
            "  note: DEVISE_MIRROR is not set, so the cold run downloads every data set"
        )
    scratch = Path(tempfile.mkdtemp(prefix="devise-whole-run-"))
    book, data = scratch / "book-copy", scratch / "data"
    shutil.copytree(REPO, book, ignore=COPY_IGNORE)
    # PYTHONPATH: the CLI and the chapters' kernels import the copied package, not an
    # installed one.
    env = {
        **os.environ,
        "DEVISE_DATA": str(data),
        "DEVISE_PRESET": preset,
        "TQDM_DISABLE": "1",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(book), os.environ.get("PYTHONPATH")])
        ),
    }
    run_command = RUN_COMMAND + [preset]
    print(
        f"whole run: `{' '.join(['python'] + run_command[1:])}` then "
        f"`{' '.join(BUILD_COMMAND)}`, "
        f"in {scratch} (logs there)"
    )
    times, failed = {}, []
    for phase in ("cold", "warm"):
        run_s, run_ok = timed(run_command, book, env, scratch / f"{phase}-run.log")
        build_s, build_ok = timed(
            BUILD_COMMAND, book, env, scratch / f"{phase}-build.log"
        )
        times[phase] = run_s + build_s
        failed += [phase] if not (run_ok and build_ok) else []
        print(
            f"  {phase}: stages {run_s / 60:.1f} min + book build {build_s / 60:.1f} "
            f"min"
            f"{'' if phase not in failed else ' (FAILED: not a valid time)'}",
            flush=True,
        )
    print(
        f"  {'':<20}{'minutes':>10}{'target':>10}{'/ target':>10}"
        + (
            ""
            if preset == "book"
            else f"  (the targets are the book preset's; this ran {preset})"
        )
    )
    for phase, target in (("cold", COLD_TARGET_S), ("warm", WARM_TARGET_S)):
        ratio = times[phase] / target
        verdict = (
            "run FAILED"
            if phase in failed
            else "meets the target"
            if ratio <= 1
            else "MISSES the target"
        )
        print(
            f"  "
            f"{phase:<20}{times[phase] / 60:>10.1f}{target / 60:>10.0f}{ratio:>10.2f} "
            f" {verdict}"
        )
    keep = keep or bool(failed)  # keep the logs of a failed run
    if keep:
        print(f"  kept {scratch} (rendered book in {book / '_build' / 'html'})")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    if failed:
        raise SystemExit(
            f"the whole run failed ({', '.join(failed)}); logs in {scratch}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--paragraphs",
        type=int,
        default=30_000,
        help="skip-gram sample, corpus paragraphs",
    )
    parser.add_argument(
        "--images", type=int, default=64, help="images embedded in batches"
    )
    parser.add_argument(
        "--naive-images", type=int, default=16, help="images embedded one at a time"
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="feature-extraction batch"
    )
    parser.add_argument("--steps", type=int, default=30, help="training steps per loss")
    parser.add_argument(
        "--labels", type=int, default=91, help="labels ranked by the training loss"
    )
    parser.add_argument("--queries", type=int, default=512, help="neighbour queries")
    parser.add_argument("--k", type=int, default=10, help="neighbours per query")
    parser.add_argument("--walks", type=int, default=60, help="WordNet walks")
    parser.add_argument(
        "--device",
        default="cpu",
        help="device for features and training: cpu, cuda, auto",
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=[
            "skipgram",
            "features",
            "engines",
            "training",
            "neighbours",
            "hierarchy",
            "corpus",
        ],
        help="parts to leave out",
    )
    parser.add_argument(
        "--whole-run",
        action="store_true",
        help="also time the whole book run, cold then warm (about 25 minutes)",
    )
    parser.add_argument(
        "--whole-run-preset",
        default="book",
        help="preset of the whole run (tiny: a smoke test)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the whole run's data root, build and logs",
    )
    args = parser.parse_args()

    print(
        f"devise-lite benchmarks on {platform.node()}: "
        f"{platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, torch "
        f"{torch.__version__}, "
        f"numpy {np.__version__}"
    )
    # Other work on the machine slows every figure; the ratios, measured side by side,
    # suffer less.
    print(f"  load average before starting: {os.getloadavg()[0]:.2f} (1 min)")
    print(f"  {'':<44}{'figure':>14} {'unit':<10}{'x baseline':>10}")
    parts = {
        "skipgram": lambda: skipgram(args.paragraphs),
        "features": lambda: features(
            args.images, args.naive_images, args.batch_size, args.device
        ),
        "engines": lambda: [
            row(*cells) for cells in engine_rows(args.images, args.batch_size)
        ],
        "training": lambda: training(args.steps, 64, args.labels, args.device),
        "neighbours": lambda: neighbour_queries(args.queries, args.k),
        "hierarchy": lambda: hierarchy_walks(args.walks),
        "corpus": corpus_stage,
    }
    for name, part in parts.items():
        if name not in args.skip:
            start = time.perf_counter()
            part()
            print(f"  ({name}: {time.perf_counter() - start:.0f}s)", flush=True)
    if args.whole_run:
        whole_run(args.whole_run_preset, args.keep)


if __name__ == "__main__":
    main()
