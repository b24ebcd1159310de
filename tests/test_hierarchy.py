import pytest
from conftest import mirror
from handmade import ZOO_LEAVES, ZOO_PARENTS

from devise_lite.hierarchy import (
    Hierarchy,
    NodeArrays,
    distances_from,
    hierarchical_correct_sets,
    hop_candidates,
    hops_to,
    rings,
)
from devise_lite.wordnet import linked_nouns, noun_edges, wnid_of, wordnet

LEAVES = set(ZOO_LEAVES)


def test_neighbours_are_parents_and_children(zoo):
    assert set(zoo.neighbours("shark")) == {
        "fish",
        "great_white",
        "hammerhead",
        "tiger_shark",
    }
    assert set(zoo.neighbours("animal")) == {"fish", "mammal"}
    assert set(zoo.neighbours("whale")) == {"mammal"}
    with pytest.raises(KeyError, match="not a node"):
        zoo.neighbours("unicorn")


def test_bfs_distances_by_hand(zoo):
    assert distances_from(zoo, ["great_white"]) == {
        "great_white": 0,
        "shark": 1,
        "fish": 2,
        "hammerhead": 2,
        "tiger_shark": 2,
        "animal": 3,
        "ray": 3,
        "mammal": 4,
        "whale": 5,
        "dolphin": 5,
    }
    assert distances_from(zoo, ["great_white"], max_hops=1) == {
        "great_white": 0,
        "shark": 1,
    }
    # Multi-source: each node's distance to the nearest source.
    both = distances_from(zoo, ["great_white", "whale"])
    assert (
        both["mammal"] == 1
        and both["animal"] == 2
        and both["ray"] == 3
        and both["dolphin"] == 2
    )


def test_hops_to_finds_each_target_and_stops(zoo):
    assert hops_to(zoo, "great_white", ["hammerhead", "whale", "great_white"]) == {
        "great_white": 0,
        "hammerhead": 2,
        "whale": 5,
    }
    assert (
        hops_to(zoo, "great_white", ["unicorn"]) == {}
    )  # unreachable: absent, not an error


def test_hop_candidates(zoo):
    # The "2-hop" zero-shot set of seen {great_white}: leaves within 2 hops, minus the
    # seen one,
    # reached through the non-label node "shark".
    assert hop_candidates(zoo, ["great_white"], 2, LEAVES) == {
        "hammerhead",
        "tiger_shark",
    }
    assert hop_candidates(zoo, ["great_white", "whale"], 2, LEAVES) == {
        "hammerhead",
        "tiger_shark",
        "dolphin",
    }


def correct_set(h, true_label, k, valid):
    return set(hierarchical_correct_sets(h, true_label, [k], valid)[k])


def test_correct_set_grows_whole_rings_of_valid_labels(zoo):
    # From great_white, valid labels by radius: 0 {gw}, 2 {hammerhead, tiger}, 3 {ray},
    # 5 {whale, dolphin}.
    assert correct_set(zoo, "great_white", 1, LEAVES) == {"great_white"}
    assert correct_set(zoo, "great_white", 2, LEAVES) == {
        "great_white",
        "hammerhead",
        "tiger_shark",
    }
    assert correct_set(zoo, "great_white", 3, LEAVES) == {
        "great_white",
        "hammerhead",
        "tiger_shark",
    }
    assert correct_set(zoo, "great_white", 4, LEAVES) == {
        "great_white",
        "hammerhead",
        "tiger_shark",
        "ray",
    }
    assert correct_set(zoo, "great_white", 5, LEAVES) == LEAVES
    # From whale: 0 {whale}, 2 {dolphin}, 4 {ray}, 5 {the three sharks}.
    assert correct_set(zoo, "whale", 2, LEAVES) == {"whale", "dolphin"}
    assert correct_set(zoo, "whale", 3, LEAVES) == {
        "whale",
        "dolphin",
        "ray",
    }
    # One walk serves several k, with the same answers.
    many = hierarchical_correct_sets(zoo, "whale", [2, 3, 4], LEAVES)
    assert many == {2: {"whale", "dolphin"}, 3: {"whale", "dolphin", "ray"}, 4: LEAVES}


def test_correct_set_with_inner_nodes_valid_and_short_graphs(zoo):
    # When inner nodes are labels too, "shark" (1 hop) counts before the sibling
    # species.
    valid = LEAVES | {"shark", "mammal"}
    assert correct_set(zoo, "great_white", 2, valid) == {
        "great_white",
        "shark",
    }
    # A true label outside `valid` is not itself counted.
    assert correct_set(zoo, "great_white", 2, {"hammerhead", "tiger_shark", "ray"}) == {
        "hammerhead",
        "tiger_shark",
    }
    # Fewer valid labels than k in the whole graph: all of them.
    assert correct_set(zoo, "great_white", 20, LEAVES) == LEAVES
    with pytest.raises(ValueError, match="k must be >= 1"):
        correct_set(zoo, "great_white", 0, LEAVES)


def test_expansions_are_cached_per_instance(zoo):
    calls = []

    def expand(node):
        calls.append(node)
        return zoo.neighbours(node)

    h = Hierarchy(expand)
    distances_from(h, ["great_white"])  # the whole tree: every node expanded once
    distances_from(h, ["whale"])
    nodes = set(ZOO_PARENTS) | {"animal"}
    assert sorted(calls) == sorted(nodes)
    Hierarchy(expand).neighbours("whale")  # a fresh instance has its own cache
    assert calls.count("whale") == 2


def test_from_parents_rejects_malformed_mappings():
    with pytest.raises(TypeError, match="list of names"):
        Hierarchy.from_parents({"shark": "fish"})
    with pytest.raises(ValueError, match="its own parent"):
        Hierarchy.from_parents({"shark": ["shark"]})


def test_a_walk_in_arrays_gives_the_layers_of_the_walk_node_by_node(zoo):
    nodes = set(ZOO_PARENTS) | {"animal"}
    arrays = NodeArrays({node: zoo.neighbours(node) for node in nodes})
    in_arrays = Hierarchy(zoo.neighbours, "zoo in arrays", arrays=arrays)
    assert list(rings(in_arrays, ["great_white", "whale"])) == [
        (0, ["great_white", "whale"]),
        (1, ["mammal", "shark"]),
        (2, ["animal", "dolphin", "fish", "hammerhead", "tiger_shark"]),
        (3, ["ray"]),
    ]
    for sources in (["great_white"], ["ray", "dolphin"], nodes):
        assert list(rings(in_arrays, sources)) == list(rings(zoo, sources))
    with pytest.raises(KeyError, match="not a node"):
        list(rings(in_arrays, ["unicorn"]))


def test_wordnet_walks_in_arrays_as_node_by_node():
    mirror()
    wn = Hierarchy.wordnet()
    by_node = Hierarchy(wn.neighbours, "WordNet node by node")
    entity, great_white, dog = "n00001740", "n01484850", "n02084071"
    for sources in ([great_white], [great_white, dog, entity]):
        assert list(rings(wn, sources)) == list(rings(by_node, sources))


def test_wordnet_shark_distances():
    mirror()
    wn = Hierarchy.wordnet()
    great_white, tiger_shark, hammerhead = "n01484850", "n01491361", "n01494475"
    shark, mackerel_shark, requiem_shark = "n01482330", "n01483522", "n01488918"
    # WordNet 3.0: great_white_shark -> mackerel_shark -> shark <- requiem_shark <-
    # tiger_shark,
    # and hammerhead hangs directly under shark.
    assert mackerel_shark in wn.neighbours(great_white)
    assert set(wn.neighbours(shark)) >= {mackerel_shark, requiem_shark, hammerhead}
    d = distances_from(wn, [great_white], max_hops=4)
    assert d[mackerel_shark] == 1 and d[shark] == 2 and d[hammerhead] == 3
    assert d[requiem_shark] == 3 and d[tiger_shark] == 4
    assert hop_candidates(wn, [great_white], 3, {tiger_shark, hammerhead}) == {
        hammerhead
    }
    for unknown in ("x123", "n99999999"):
        with pytest.raises(ValueError, match="not a WordNet 3.0 noun id"):
            wn.neighbours(unknown)


def test_one_data_noun_line_gives_its_synset_pointers_of_the_hierarchy():
    # wndb(5WN) layout; word count in hex (0a = 10 words), "0000" a synset's pointer.
    words = " ".join(f"w{i} 0" for i in range(10))
    line = (
        f"01484850 05 n 0a {words} 005 @ 01483522 n 0000 ~ 01485000 n 0000 "
        "@i 09000001 n 0000 + 00100002 v 0101 ~i 09000002 n 0000 | a gloss"
    )
    fields = line.split(" | ", 1)[0].split()
    assert linked_nouns(fields) == ("n01483522", "n01485000", "n09000001", "n09000002")


def test_the_graph_read_from_data_noun_is_nltks():
    mirror()
    reader, edges = wordnet(), noun_edges()
    synsets = list(reader.all_synsets("n"))
    assert len(edges) == len(synsets) == 82_115
    for synset in synsets[::40]:  # ~2,000, seconds of NLTK
        linked = (
            synset.hypernyms()
            + synset.instance_hypernyms()
            + synset.hyponyms()
            + synset.instance_hyponyms()
        )
        assert sorted(edges[wnid_of(synset)]) == sorted(map(wnid_of, linked))
