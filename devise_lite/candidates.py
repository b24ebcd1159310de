"""Candidate label sets, ranked for a photo no training image showed: "2-hop" / "3-hop",
within 2 (3) hops of a seen label; "21k", every ImageNet-21K label not seen; each also
"+seen" (the paper's "+1K"): a label to fall back on, scored wrong. With ILSVRC's 1,000
seen, the published lists (`standard_sets`), else the hop rule's (`hop_sets`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

import pandas as pd

from .datasets import locate
from .hierarchy import Hierarchy, distances_from, hop_candidates
from .wnids import imagenet21k_wnids
from .wordnet import synset_of, wnid_of

CANDIDATE_SETS = ("2-hop", "2-hop+seen", "3-hop", "3-hop+seen", "21k", "21k+seen")
PREDICT_SETS = ("seen", *CANDIDATE_SETS)
# The files of the standard lists (datasets "imagenet_zsl_lists") behind each base set.
LIST_FILES = {
    "seen": "1k.txt",
    "2-hop": "2-hops.txt",
    "3-hop": "3-hops.txt",
    "21k": "all.txt",
}


def with_seen(
    base: Iterable[str], seen: Iterable[str], plus: bool, vocabulary: list[str]
) -> list[str]:
    """`base` minus `seen`, plus `seen` if `plus`, kept to `vocabulary` in its order."""
    seen = set(seen)
    chosen = (set(base) - seen) | (seen if plus else set())
    return [w for w in vocabulary if w in chosen]


def hop_set(
    name: str, seen: Iterable[str], vocabulary: list[str], hierarchy=None
) -> list[str]:
    """One of `CANDIDATE_SETS` by the hop rule (`hierarchy` for the hop sets only)."""
    if name not in CANDIDATE_SETS:
        raise ValueError(
            f"unknown candidate set {name!r}; choose one of {', '.join(CANDIDATE_SETS)}"
        )
    base, _, plus = name.partition("+")
    seen = set(seen)
    if base == "21k":
        chosen = set(vocabulary) - seen
    else:
        if hierarchy is None:
            raise ValueError(
                f"candidate set {name!r} needs a hierarchy (Hierarchy.wordnet())"
            )
        chosen = hop_candidates(hierarchy, seen, int(base[0]), vocabulary)
    return with_seen(chosen, seen, bool(plus), vocabulary)


def hop_sets(
    seen: Iterable[str], vocabulary: list[str], hierarchy
) -> dict[str, list[str]]:
    """The six sets by the hop rule, relative to any seen labels."""
    seen = set(seen)
    return {name: hop_set(name, seen, vocabulary, hierarchy) for name in CANDIDATE_SETS}


def standard_lists(dataset: str = "imagenet_zsl_lists") -> dict[str, list[str]]:
    """The published lists' wnids, as read: {"seen": the 1K, "2-hop": ..., ...}."""
    folder = locate(dataset)
    return {
        name: (folder / file).read_text().split() for name, file in LIST_FILES.items()
    }


def standard_sets(
    seen: Iterable[str], vocabulary: list[str], lists: dict[str, list[str]]
) -> dict[str, list[str]]:
    """The six sets of Tables 2 and 3 from the published lists, kept to `vocabulary`."""
    seen = set(seen)
    return {
        name: with_seen(lists[name.partition("+")[0]], seen, "+" in name, vocabulary)
        for name in CANDIDATE_SETS
    }


TREE_RULES = ("within n edges", "ancestors or descendants within n edges")


def imagenet_tree(wnids: Iterable[str]):
    """WordNet 3.0's hypernym edges among `wnids`: ImageNet 2011's is-a tree, almost."""
    members = set(wnids)
    parents = {}
    for wnid in members:
        synset = synset_of(wnid)
        above = synset.hypernyms() + synset.instance_hypernyms()
        parents[wnid] = sorted({wnid_of(s) for s in above} & members)
    return Hierarchy.from_parents(parents, name="imagenet-2011-is-a")


def tree_hop_set(tree, seen: Iterable[str], hops: int, rule: str) -> set[str]:
    """The labels within `hops` tree hops of a seen label, minus the seen ones, by one
    reading of the paper's words (`TREE_RULES`):
    * "within n edges": at most n edges up or down, in any order (siblings are 2 hops);
    * "ancestors or descendants within n edges": only up, or only down, at most n
      edges (a parent or grandparent, a child or grandchild; no siblings)."""
    seen = set(seen)
    if rule == TREE_RULES[0]:
        return set(distances_from(tree, seen, hops)) - seen
    if rule != TREE_RULES[1]:
        raise ValueError(f"unknown rule {rule!r}; choose one of {TREE_RULES}")
    near: set[str] = set()
    for start in seen:
        for step in (tree.parents, tree.children):
            layer = {start}
            for _ in range(hops):
                layer = {n for node in layer for n in step(node)}
                near |= layer
    return near - seen


HOP_RULE_COLUMNS = {
    "rule": "rule",
    "hops": "hops",
    "size": "labels",
    "with a vector": "with a vector",
    "in 2-hop list": "in the 2-hop list",
    "in 3-hop list": "in the 3-hop list",
}


def hop_rules_beside_paper(hop_rules, paper_counts: dict[int, int]):
    """`hop_rules.csv` as the chapter shows it, beside the paper's `paper_counts`."""
    table = hop_rules[list(HOP_RULE_COLUMNS)].rename(columns=HOP_RULE_COLUMNS)
    table["paper"] = table["hops"].map(paper_counts).astype("Int64")
    return table


def closest_rule(beside, hops: int) -> dict:
    """The rule whose set of `hops` hops is nearest to the paper's count in a table of
    `hop_rules_beside_paper`, and any rule's set of any hops nearest to it."""
    target = beside.loc[beside["hops"] == hops, "paper"].iloc[0]
    same = beside[beside["hops"] == hops]
    nearest = same.loc[(same["labels"] - target).abs().idxmin()]
    anyhops = beside.loc[(beside["labels"] - target).abs().idxmin()]
    return {
        "paper": int(target),
        "rule": nearest["rule"],
        "size": int(nearest["labels"]),
        "any rule": anyhops["rule"],
        "any hops": int(anyhops["hops"]),
        "any size": int(anyhops["labels"]),
    }


def candidate_set_rows(lists: dict) -> pd.DataFrame:
    """`candidate_sets_imagenet1k.csv`: (candidate_set, wnid), no vector required."""
    seen, seen_set = lists["seen"], set(lists["seen"])
    rows = []
    for name in CANDIDATE_SETS:
        base, _, plus = name.partition("+")
        members = [w for w in lists[base] if w not in seen_set] + (seen if plus else [])
        rows += [{"candidate_set": name, "wnid": w} for w in members]
    return pd.DataFrame(rows)


def hop_rule_table(lists: dict, space: Collection[str]) -> pd.DataFrame:
    """The paper's "within two (three) tree hops" as rules over the ImageNet is-a tree:
    each rule's set sizes and overlaps with the published lists (`space`: vectors)."""
    # ILSVRC's teddy bear (n04399382) is missing from the fall-2011 list: add the 1K.
    tree = imagenet_tree(set(imagenet21k_wnids()) | set(lists["seen"]))
    rows = []
    for rule in TREE_RULES:
        for hops in (1, 2, 3):
            found = tree_hop_set(tree, lists["seen"], hops, rule)
            row = {
                "rule": rule,
                "hops": hops,
                "size": len(found),
                "with a vector": sum(w in space for w in found),
            }
            for name in ("2-hop", "3-hop"):
                published = set(lists[name])
                row[f"in {name} list"] = len(found & published)
                row[f"{name} list not in rule"] = len(published - found)
            rows.append(row)
    return pd.DataFrame(rows)
