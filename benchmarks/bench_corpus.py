"""Corpus stage throughput: `build_corpus` on 1 and N processes, and the old stage.

    python benchmarks/bench_corpus.py [--files 30] [--processes N] [--passes 1]

All three runs build the corpus of the same input (the first `--files` WikiExtractor
files of the mirror, with the book preset's label lexicon and phrase settings) and must
give the same bytes (sha256 shown). The baseline is the stage as it was: one process,
gensim's `Phrases` learnt and frozen over the whole file (`collocations.apply_phrases`).

Each run is a fresh child process, so its CPU seconds (its own and its workers') are its
own. Other work on the machine slows the runs with more processes most (they need the
idle cores), so three things say how busy the machine was: the CPU seconds other
processes took during each run, the load average before and after, and a "ceiling"
measured just before each run: how much faster N processes do N shares of plain
Python work than one process does them all (2.0x for 2 processes on 2 idle cores).
The N-process ratio is also shown as a share of the ceiling before its run, and an
estimate of it on idle cores from each step's CPU seconds (`idle_estimate`); under
contention CPU seconds grow too (shared caches), so that estimate errs low.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

RUNS = ("old stage, 1 process", "build_corpus, 1 process", "build_corpus, N processes")


def label_lemmas(preset: str) -> list[str]:
    """The lemma names of the preset's label vocabulary (what the lexicon joins)."""
    from devise_lite import pipeline
    from devise_lite.config import get_preset
    from devise_lite.wordnet import lemma_names, synset_of

    return [
        lemma
        for wnid in pipeline.label_vocabulary(get_preset(preset))
        for lemma in lemma_names(synset_of(wnid))
    ]


def old_stage(source: Path, text, phrases, lemmas, out: Path) -> int:
    """The corpus stage before `build_corpus`: the same steps in one process."""
    from devise_lite.collocations import apply_phrases, write_lines
    from devise_lite.phrases import LabelLexicon
    from devise_lite.text import read_documents, sentences

    lexicon = LabelLexicon(lemmas)
    joined = out / "joined.txt"
    docs = read_documents(source, text.max_files, progress=False)
    _, tokens = write_lines(
        (lexicon.join(s) for s in sentences(docs, text.min_sentence_tokens)), joined
    )
    if phrases.passes:
        apply_phrases(joined, out / "corpus.txt", phrases)
    else:
        joined.rename(out / "corpus.txt")
    return tokens


def child(run: str, files: int, processes: int, passes: int, lemmas_file: Path):
    """One run, timed in this (fresh) process; prints a JSON line."""
    from devise_lite.config import get_preset
    from devise_lite.corpus import build_corpus
    from devise_lite.datasets import locate

    cfg = get_preset("book")
    text, phrases = (
        replace(cfg.text, max_files=files),
        replace(cfg.phrases, passes=passes),
    )
    lemmas = json.loads(lemmas_file.read_text())
    source = locate("wikipedia")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        start = time.perf_counter()
        if run == RUNS[0]:
            tokens = old_stage(source, text, phrases, lemmas, out)
            steps, estimate = {}, None
        else:
            info = build_corpus(
                source, text, phrases, lemmas, out, processes, progress=False
            )
            tokens, steps = info["tokens_before_phrases"], info["step_seconds"]
            estimate = idle_estimate(info["step_cpu_seconds"], processes)
            steps["phrase vocabulary"] = [
                p["vocabulary"] for p in info["phrase_passes"]
            ]
        seconds = time.perf_counter() - start
        digest = hashlib.sha256((out / "corpus.txt").read_bytes()).hexdigest()
    usage = [
        resource.getrusage(who)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    ]
    cpu = sum(u.ru_utime + u.ru_stime for u in usage)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "tokens": tokens,
        "sha256": digest,
        "steps": steps,
        "idle_estimate": estimate,
    }


def busy_cpu_seconds() -> float | None:
    """CPU seconds every process of the machine has used since boot (Linux), or None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def idle_estimate(step_cpu: dict, processes: int) -> float:
    """Seconds the run would take on `processes` idle cores, from its CPU seconds.

    Each step's workers share their CPU seconds evenly (files and blocks are handed out
    as workers free up; phrase-counting shares are of equal bytes). While tokenising and
    applying, the parent writes what workers send, at the same time; its merging of
    phrase counts mostly waits for them, or they for it, so it adds."""
    total = 0.0
    for step, cpu in step_cpu.items():
        per_worker = cpu["workers"] / processes
        if step.startswith("learn"):
            total += per_worker + cpu["own"]
        else:
            total += max(per_worker, cpu["own"])
    return total


def run_child(run: str, files: int, processes: int, passes: int, lemmas: Path) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        run,
        "--files",
        str(files),
        "--processes",
        str(processes),
        "--passes",
        str(passes),
        "--lemmas",
        str(lemmas),
    ]
    env = {**os.environ, "TQDM_DISABLE": "1"}
    busy = busy_cpu_seconds()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if busy is not None:  # what other work took of the cores meanwhile
        result["others_cpu"] = max(0.0, busy_cpu_seconds() - busy - result["cpu"])
    return result


def spin(steps: int) -> int:
    """Pure-Python work of the stage's kind: counting keys in a dictionary."""
    counts: dict[int, int] = {}
    for i in range(steps):
        key = (i * 2654435761) & 0xFFFFF
        counts[key] = counts.get(key, 0) + 1
    return len(counts)


def ceiling(processes: int, steps: int = 2_000_000) -> float:
    """How much faster `processes` processes do `processes` equal shares of pure-Python
    work than one process does them all, now: the most any stage could gain here.

    2.0 for 2 processes on 2 idle cores; other work on the cores brings it down."""
    import multiprocessing

    start = time.perf_counter()
    for _ in range(processes):
        spin(steps)
    one = time.perf_counter() - start
    with multiprocessing.Pool(processes) as pool:
        pool.map(spin, [1] * processes)  # the workers are up before the clock starts
        start = time.perf_counter()
        pool.map(spin, [steps] * processes, chunksize=1)
        many = time.perf_counter() - start
    return one / many


def corpus_speeds(files: int = 30, processes: int | None = None, passes: int = 1):
    """{run name: {seconds, cpu, tokens, sha256, steps, ceiling}} for the three runs;
    `ceiling` is measured just before each run."""
    processes = processes or os.cpu_count() or 1
    speeds = {}
    with tempfile.TemporaryDirectory() as scratch:
        lemmas = Path(scratch) / "lemmas.json"
        lemmas.write_text(json.dumps(label_lemmas("book")))
        for i, run in enumerate(RUNS):
            now = ceiling(processes)
            speeds[run] = run_child(
                run, files, 1 if i < 2 else processes, passes, lemmas
            )
            speeds[run]["ceiling"] = now
    return speeds


def report(speeds: dict, processes: int, row=None) -> bool:
    """Print one line per run (tokens/s, ratio to the old stage); True if identical."""
    base = speeds[RUNS[0]]
    for name, r in speeds.items():
        name = name.replace("N processes", f"{processes} processes")
        rate = r["tokens"] / r["seconds"]
        ratio = None if r is base else base["seconds"] / r["seconds"]
        if row is not None:
            row(name, rate, "tokens/s", ratio)
            continue
        shown = "baseline" if ratio is None else f"{ratio:.2f}x"
        others = r.get("others_cpu")
        print(
            f"  {name:<30}{rate:>12,.0f} tokens/s{r['seconds']:>8.1f} s"
            f"{r['cpu']:>8.1f} cpu s{shown:>10}  {r['sha256'][:12]}"
            + ("" if others is None else f"  (other work: {others:.1f} cpu s)")
        )
    one, many = speeds[RUNS[1]], speeds[RUNS[2]]
    ratio = one["seconds"] / many["seconds"]
    ceilings = [r["ceiling"] for r in speeds.values()]
    print(
        f"  {processes} processes / 1 process of build_corpus: {ratio:.2f}x; "
        f"the machine's ceiling for {processes} processes just before each run: "
        + ", ".join(f"{c:.2f}x" for c in ceilings)
        + f" ({ratio / many['ceiling']:.0%} of it reached)"
    )
    if one.get("idle_estimate") and many.get("idle_estimate"):
        print(
            f"  estimated from CPU seconds, on {processes} idle cores: 1 process "
            f"{one['idle_estimate']:.1f} s, {processes} processes "
            f"{many['idle_estimate']:.1f} s: "
            f"{one['idle_estimate'] / many['idle_estimate']:.2f}x "
            f"({base['cpu'] / many['idle_estimate']:.2f}x the old stage's CPU seconds)"
        )
    same = len({r["sha256"] for r in speeds.values()}) == 1
    print(f"  output identical in all runs: {same}")
    return same


def corpus_part(row, files: int = 10) -> None:
    """bench_all.py's part: the three runs on `files` mirror files, as report rows."""
    processes = os.cpu_count() or 1
    print(f"corpus stage: {files} mirror files, book preset, {processes} processes")
    before = os.getloadavg()[0]
    speeds = corpus_speeds(files, processes)
    report(speeds, processes, row=row)
    print(load_note(before, os.getloadavg()[0]))


def load_note(before: float, after: float) -> str:
    cores = os.cpu_count() or 1
    note = f"  load average {before:.2f} before, {after:.2f} after ({cores} cores)"
    if max(before, after) > cores / 2:
        note += ": MEASURED UNDER LOAD, the N-process run had less than N idle cores"
    return note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=30, help="of the mirror's 250")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--passes", type=int, default=1, help="phrase passes")
    parser.add_argument("--child", choices=RUNS, help=argparse.SUPPRESS)
    parser.add_argument("--lemmas", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(
            json.dumps(
                child(args.child, args.files, args.processes, args.passes, args.lemmas)
            )
        )
        return
    print(
        f"corpus stage: {args.files} mirror files, book preset, "
        f"{args.passes} phrase pass(es), {args.processes} processes"
    )
    before = os.getloadavg()[0]
    speeds = corpus_speeds(args.files, args.processes, args.passes)
    after = os.getloadavg()[0]
    same = report(speeds, args.processes)
    for name, r in speeds.items():
        if r["steps"]:
            steps = dict(r["steps"])
            keys = steps.pop("phrase vocabulary")
            print(
                f"  {name}: "
                + ", ".join(f"{k} {v}s" for k, v in steps.items())
                + f"; phrase vocabulary {keys} keys (gensim prunes over 40,000,000)"
            )
    print(load_note(before, after))
    if not same:
        raise SystemExit("the runs gave different corpora")


if __name__ == "__main__":
    main()
