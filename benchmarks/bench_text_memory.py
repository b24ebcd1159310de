"""Text reader memory: streaming Wikipedia through `devise_lite.text` stays flat as the
corpus grows.

    python benchmarks/bench_text_memory.py [--files 50] [--times 4]

Streams the mirror's WikiExtractor files (the first `--files` of them) and gensim's
small real XML dump through the package's readers and tokeniser, once (1x) and `--times`
times over (4x: the same file list read again, nothing copied), and reports words,
seconds, words/s and peak memory of each. The baseline, run in the same benchmark on the
same 1x text, is what a reader that is not streamed does: it keeps every tokenised
paragraph in a list, so its memory grows with the corpus.

Each run is a fresh child process, so its peak resident memory (ru_maxrss) is its own;
"growth" is that peak minus the child's memory after its imports, i.e. what reading the
text added.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(
    0, str(Path(__file__).resolve().parent.parent)
)  # run from a checkout, uninstalled


def gensim_xml_dump() -> Path:
    import gensim

    return (
        Path(gensim.__file__).parent
        / "test"
        / "test_data"
        / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    )


def sources(kind: str, files: int) -> list[Path]:
    if kind == "xml":
        return [gensim_xml_dump()]
    from devise_lite.datasets import locate
    from devise_lite.text import wikiextractor_files

    return wikiextractor_files(locate("wikipedia"), files)


def rss_mb() -> float:
    """Current resident memory of this process (Linux /proc), in MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(kind: str, files: int, times: int, keep: bool) -> dict:
    """Read the text `times` over; with `keep`, hold every paragraph's tokens in a list
    (baseline)."""
    from devise_lite.text import read_documents, sentences

    paths = sources(kind, files)
    start_mb = rss_mb()
    held, words = [], 0
    began = time.perf_counter()
    for _ in range(times):
        for path in paths:
            for tokens in sentences(read_documents(path, progress=False)):
                words += len(tokens)
                if keep:
                    held.append(tokens)
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "words": words,
        "seconds": seconds,
        "peak_mb": peak_mb,
        "growth_mb": peak_mb - start_mb,
        "held": len(held),
    }


def run(kind: str, files: int, times: int, keep: bool) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--files",
        str(files),
        "--times",
        str(times),
    ]
    done = subprocess.run(
        cmd + (["--keep"] if keep else []),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--files",
        type=int,
        default=50,
        help="WikiExtractor files (of the mirror's 250)",
    )
    parser.add_argument(
        "--times", type=int, default=4, help="how many times over the larger run reads"
    )
    parser.add_argument(
        "--child", choices=["wikiextractor", "xml"], help=argparse.SUPPRESS
    )
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.files, args.times, args.keep)))
        return

    print(
        f"{'source':<28}{'run':<20}{'words':>13}{'seconds':>9}{'words/s':>11}"
        f"{'peak MB':>9}{'growth MB':>11}"
    )
    for kind, label in (
        ("wikiextractor", f"WikiExtractor, {args.files} files"),
        ("xml", "XML dump (gensim's)"),
    ):
        rows = {
            "1x streamed": run(kind, args.files, 1, False),
            f"{args.times}x streamed": run(kind, args.files, args.times, False),
            "1x held in a list": run(kind, args.files, 1, True),
        }
        for name, r in rows.items():
            print(
                f"{label:<28}{name:<20}{r['words']:>13,}{r['seconds']:>9.1f}"
                f"{r['words'] / r['seconds']:>11,.0f}"
                f"{r['peak_mb']:>9.0f}{r['growth_mb']:>11.1f}"
            )
        one, many, held = (
            rows["1x streamed"],
            rows[f"{args.times}x streamed"],
            rows["1x held in a list"],
        )
        print(
            f"{'':<28}{args.times}x/1x: words {many['words'] / one['words']:.2f}x, "
            f"peak memory "
            f"{many['peak_mb'] / one['peak_mb']:.2f}x; held list/streamed at 1x: peak "
            f"memory "
            f"{held['peak_mb'] / one['peak_mb']:.2f}x"
        )


if __name__ == "__main__":
    main()
