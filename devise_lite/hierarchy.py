"""A label hierarchy as an undirected graph, hop distances on it, and the
hierarchical-precision sets.

THE HOP RULE. The distance between two labels is the number of hypernym/hyponym edges
(instance hypernyms count as hypernyms) on the shortest path between them in the
WordNet 3.0 noun graph, through any synset, not only labels. The "n-hop" candidates of
some seen labels are the vocabulary labels within n hops of one, minus the seen ones.
Example: great_white_shark -> mackerel_shark -> shark -> requiem_shark -> tiger_shark,
so great white and tiger shark are 4 hops apart, although they are both sharks.

HIERARCHICAL PRECISION@k (the ground-truth set). DeViSE's supplementary material (Frome
et al. 2013; ConSE, Norouzi et al. 2014, reuses the metric unchanged) scores the k
predictions of a test image against a list of labels grown from the true label over
the hierarchy: radiate out over hypernym and hyponym edges, radius R = 0, 1, 2, ...,
keeping only valid labels, until the list holds at least k of them; precision@k is the
share of the k predictions found in the list. We could not retrieve the supplementary
text itself here, so this is a paraphrase, cross-checked against a public
re-implementation that grows the same rings through non-label synsets and adds only
candidate labels. The paper grows its list over ImageNet's is-a tree; we grow ours over
the WordNet 3.0 noun graph. Choices where the description leaves room, made explicit:
* whole rings: the last radius is added entirely, so the set may hold more than k
  labels (and precision@k can reach 1 with any k of them);
* rings are walked through every node (any synset), but only labels in `valid` (the
  candidate set being ranked) are collected, the true label only if it is valid;
* if the whole graph holds fewer than k valid labels, the set is all of them (the
  WordNet noun graph is connected: this happens only with fewer than k candidates);
* edges: hypernyms + instance hypernyms and their inverses, as in the hop rule.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

import numpy as np

from .wordnet import noun_edges


class Hierarchy:
    """A graph given by its neighbour function (distances ignore direction); expansions
    are cached per instance, never shared (WordNet's edges: `wordnet.noun_edges`)."""

    def __init__(
        self,
        expand: Callable[[str], Iterable[str]],
        name: str = "hierarchy",
        up: Callable[[str], Iterable[str]] | None = None,
        arrays: NodeArrays | None = None,
    ):
        self._expand, self._up = expand, up
        self.arrays = arrays  # the same edges as arrays, for walks in numpy
        self._cache: dict[str, tuple[str, ...]] = {}
        self.name = name

    def parents(self, node: str) -> tuple[str, ...]:
        """The hypernyms of `node` (for a hierarchy that knows its directions)."""
        if self._up is None:
            raise ValueError(f"{self.name} knows its edges, not their directions")
        return tuple(sorted(self._up(node)))

    def children(self, node: str) -> tuple[str, ...]:
        """The hyponyms of `node`: its neighbours that are not its parents."""
        parents = set(self.parents(node))
        return tuple(n for n in self.neighbours(node) if n not in parents)

    def neighbours(self, node: str) -> tuple[str, ...]:
        """Parents and children of `node` (hypernyms and hyponyms), in a fixed order."""
        found = self._cache.get(node)
        if found is None:
            found = self._cache[node] = tuple(sorted(set(self._expand(node)) - {node}))
        return found

    def __repr__(self) -> str:
        return f"Hierarchy({self.name!r}, {len(self._cache)} nodes expanded)"

    @classmethod
    def from_parents(
        cls, parents: Mapping[str, Iterable[str]], name: str = "hand-made"
    ) -> Hierarchy:
        """A hierarchy from `{child: [parent, ...]}`; every name used becomes a node."""
        adjacency: dict[str, set[str]] = {}
        up: dict[str, set[str]] = {}
        for child, its_parents in parents.items():
            if isinstance(its_parents, str):
                raise TypeError(
                    f"parents of {child!r} must be a list of names, "
                    f"not the string {its_parents!r}"
                )
            adjacency.setdefault(child, set())
            for parent in its_parents:
                if parent == child:
                    raise ValueError(f"{child!r} is listed as its own parent")
                adjacency[child].add(parent)
                adjacency.setdefault(parent, set()).add(child)
                up.setdefault(child, set()).add(parent)

        def expand(node: str) -> set[str]:
            if node not in adjacency:
                more = " ..." if len(adjacency) > 10 else ""
                raise KeyError(
                    f"{node!r} is not a node of this hierarchy; known nodes: "
                    f"{', '.join(sorted(adjacency)[:10])}{more}"
                )
            return adjacency[node]

        def parents_of(node: str) -> set[str]:
            expand(node)  # a KeyError naming an unknown node
            return up.get(node, set())

        return cls(expand, name, up=parents_of)

    @classmethod
    def wordnet(cls) -> Hierarchy:
        """The WordNet 3.0 noun graph on wnids ("n01491361"), read once a process."""
        return cls(_wordnet_neighbours, "wordnet-3.0-nouns", arrays=_wordnet_arrays())


@functools.lru_cache(maxsize=1)
def _wordnet_arrays() -> NodeArrays:
    return NodeArrays(noun_edges())


def _wordnet_neighbours(wnid: str) -> tuple[str, ...]:
    found = noun_edges().get(wnid)
    if found is None:
        raise ValueError(f"{wnid!r} is not a WordNet 3.0 noun id like 'n01491361'")
    return found


class NodeArrays:
    """A graph's edges as compressed rows over the sorted node names: a breadth-first
    layer is a few numpy operations; a call per node would take seconds over WordNet."""

    def __init__(self, edges: Mapping[str, Iterable[str]]):
        self.names = np.array(sorted(edges), dtype=object)
        self.index = {name: i for i, name in enumerate(self.names)}
        rows = [sorted(self.index[n] for n in edges[name]) for name in self.names]
        self.counts = np.array([len(row) for row in rows], dtype=np.int64)
        self.starts = np.cumsum(self.counts) - self.counts
        self.ends = np.fromiter((j for row in rows for j in row), np.int64)

    def rings(self, sources: Iterable[int]) -> Iterator[tuple[int, list[str]]]:
        visited = np.zeros(len(self.names), dtype=bool)
        frontier, radius = np.unique(np.fromiter(sources, np.int64)), 0
        while frontier.size:
            yield radius, self.names[frontier].tolist()
            visited[frontier] = True
            first, counts = self.starts[frontier], self.counts[frontier]
            # the frontier's rows of `ends`, one after another
            skip = np.repeat(first - np.cumsum(counts) + counts, counts)
            reached = np.zeros(len(self.names), dtype=bool)
            reached[self.ends[skip + np.arange(counts.sum())]] = True
            frontier, radius = np.flatnonzero(reached & ~visited), radius + 1


def rings(h: Hierarchy, sources: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """Breadth-first layers (radius, nodes) from `sources`, until the graph is spent."""
    if h.arrays is not None:
        sources = set(sources)
        for node in sources - h.arrays.index.keys():
            h.neighbours(node)  # the hierarchy's own error for an unknown node
        yield from h.arrays.rings(h.arrays.index[node] for node in sources)
        return
    frontier, radius = sorted(set(sources)), 0
    seen = set(frontier)
    while frontier:
        yield radius, frontier
        # the seen ones removed once a layer, in C: not a test per neighbour
        following = set().union(*map(h.neighbours, frontier)) - seen
        seen |= following
        frontier, radius = sorted(following), radius + 1


def distances_from(
    h: Hierarchy, sources: Iterable[str], max_hops: int | None = None
) -> dict[str, int]:
    """Multi-source BFS: {node: hops to the nearest source}, up to `max_hops`."""
    if max_hops is not None and max_hops < 0:
        raise ValueError(
            f"max_hops must be >= 0 (or None for no limit), got {max_hops}"
        )
    distances: dict[str, int] = {}
    for radius, layer in rings(h, sources):
        if max_hops is not None and radius > max_hops:
            break
        distances.update(dict.fromkeys(layer, radius))
    return distances


def hops_to(h: Hierarchy, source: str, targets: Iterable[str]) -> dict[str, int]:
    """{target: hops from `source`} for the reachable `targets`; the walk stops once
    all are found, so it stays cheap for near targets in WordNet's 82,000 synsets."""
    left, found = set(targets), {}
    for radius, layer in rings(h, [source]):
        for node in left.intersection(layer):
            found[node] = radius
        left -= found.keys()
        if not left:
            break
    return found


def pair_hops(h: Hierarchy, pairs: Iterable[tuple[str, str]]) -> list[int]:
    """Each (a, b) pair's hops, one walk per distinct `a`; ValueError if unconnected."""
    pairs = list(pairs)
    targets: dict[str, set[str]] = {}
    for a, b in pairs:
        targets.setdefault(a, set()).add(b)
    found = {a: hops_to(h, a, bs) for a, bs in targets.items()}
    unreachable = [(a, b) for a, b in pairs if b not in found[a]]
    if unreachable:
        raise ValueError(f"no path between {unreachable[0]} in {h.name}")
    return [found[a][b] for a, b in pairs]


def hop_candidates(
    h: Hierarchy, seen: Iterable[str], hops: int, vocabulary: Collection[str]
) -> set[str]:
    """The "n-hop" set: vocabulary labels within `hops` of a seen label, minus those."""
    seen = set(seen)
    return (set(distances_from(h, seen, hops)) & set(vocabulary)) - seen


def hierarchical_correct_sets(
    h: Hierarchy, true_label: str, ks: Iterable[int], valid: Collection[str]
) -> dict[int, frozenset[str]]:
    """The ground-truth sets of hierarchical precision@k, from one breadth-first walk:
    for each k, the valid labels within the smallest radius R of `true_label` holding at
    least k of them (the module docstring gives the rule and its source)."""
    pending = sorted(set(int(k) for k in ks))
    if not pending or pending[0] < 1:
        raise ValueError(f"k must be >= 1, got {pending}")
    valid = valid if isinstance(valid, (set, frozenset)) else set(valid)
    collected: set[str] = set()
    sets: dict[int, frozenset[str]] = {}
    for _, layer in rings(h, [true_label]):
        collected.update(node for node in layer if node in valid)
        while pending and len(collected) >= pending[0]:
            sets[pending.pop(0)] = frozenset(collected)
        if not pending:
            break
    for k in pending:  # the graph ran out of valid labels before reaching k
        sets[k] = frozenset(collected)
    return sets
