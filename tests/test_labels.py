import numpy as np
import pytest
from gensim.models import KeyedVectors

from devise_lite.config import LabelConfig
from devise_lite.labels import (
    LabelSpace,
    build_label_space,
    fallback_vector,
    lemma_vector,
    random_label_space,
    rebuilt_ranks,
    synset_vector,
    unit,
    wnid_vector,
)
from devise_lite.wordnet import synset_of


def _vectors(words: dict[str, list[float]]) -> KeyedVectors:
    kv = KeyedVectors(vector_size=3)
    kv.add_vectors(list(words), np.array(list(words.values()), dtype=np.float32))
    return kv


KV = _vectors(
    {
        "shark": [1, 0, 0],
        "great": [0, 2, 0],
        "white": [0, 0, 3],
        "tiger_shark": [0, 1, 1],
        "tiger": [0, 1, 0],
        "hammerhead_shark": [1, 1, 0],
    }
)


def test_one_word_lemma_is_its_word_vector():
    vec, how = lemma_vector("Shark", KV)
    assert how == "word" and np.allclose(vec, [1, 0, 0])
    assert lemma_vector("mako", KV) == (None, "unknown word: mako")


def test_multi_word_lemma_mixes_phrase_and_head_weighted_words():
    vec, how = lemma_vector("tiger_shark", KV)
    # phrase: unit(0,1,1); words: (1 * tiger + 2 * shark) / 3 = (2,1,0)/3
    # -> unit(2,1,0); half and half.
    assert how == "phrase+words"
    assert np.allclose(
        vec, unit(unit(np.array([0, 1, 1.0])) + unit(np.array([2, 1, 0.0])))
    )


def test_words_vector_counts_the_head_twice_by_default():
    vec, how = lemma_vector("great_white_shark", KV)  # no phrase vector: words only
    assert how == "words" and np.allclose(vec, unit(np.array([2, 1, 1.0])))
    flat, _ = lemma_vector("great_white_shark", KV, LabelConfig(head_weight=1.0))
    assert np.allclose(flat, unit(np.array([1, 1, 1.0])))


def test_phrase_alone_when_a_word_is_unknown():
    vec, how = lemma_vector("hammerhead_shark", KV)  # "hammerhead" is not a known word
    assert how == "phrase" and np.allclose(vec, unit(np.array([1, 1, 0.0])))


def test_lemma_with_an_unknown_word_and_no_phrase_is_skipped_not_guessed():
    vec, how = lemma_vector("Carcharodon_carcharias", KV)
    assert vec is None and "carcharodon" in how
    assert lemma_vector("xyz_shark", KV)[0] is None


def test_synset_vector_averages_usable_lemmas():
    vec, notes = synset_vector(["Carcharodon", "great_white_shark", "shark"], KV)
    assert np.allclose(vec, unit(unit(np.array([2, 1, 1.0])) + np.array([1, 0, 0.0])))
    assert notes == [
        "Carcharodon: unknown word: carcharodon",
        "great_white_shark: words",
        "shark: word",
    ]
    first, _ = synset_vector(
        ["Carcharodon", "great_white_shark", "shark"],
        KV,
        LabelConfig(lemma_weighting="first"),
    )
    assert np.allclose(first, unit(np.array([2, 1, 1.0])))
    with pytest.raises(ValueError, match="lemma weighting"):
        synset_vector(["shark"], KV, LabelConfig(lemma_weighting="max"))


def test_build_label_space_reports_a_synset_with_no_known_word():
    # n01484850 great_white_shark.n.01 (lemmas great_white_shark, white_shark,
    # man-eater, man-eating_shark, Carcharodon_carcharias); n01491361 tiger_shark.n.01;
    # n02086240 Shih-Tzu: no word of it is known here.
    space, missing = build_label_space(
        ["n01484850", "n01491361", "n02086240", "n01484850"], KV, progress=False
    )
    assert space.wnids == ["n01484850", "n01491361"]
    assert space.names == ["great white shark", "tiger shark"]
    assert np.allclose(np.linalg.norm(space.vectors, axis=1), 1)
    assert missing["wnid"].tolist() == ["n02086240"]
    assert "unknown word" in missing.loc[0, "lemmas"]
    assert not missing.loc[0, "gloss"]  # no word of its gloss or hypernyms either


def test_a_synset_with_no_known_lemma_falls_back_on_its_gloss_and_hypernyms():
    # Shih-Tzu: "a Chinese breed of small dog similar to a Pekingese"; its hypernym
    # toy_dog (toy_dog, toy) is unknown here, the next one up, dog.n.01, is "dog".
    kv = _vectors({"breed": [2, 0, 0], "dog": [0, 3, 0], "pekingese": [0, 0, 1]})
    gloss, kind = np.ones(3) / np.sqrt(3), np.array([0, 1, 0])
    expected = unit(gloss + kind)
    space, report = build_label_space(["n02086240"], kv, progress=False)
    assert np.allclose(space.vectors[0], expected, atol=1e-6)  # one label: not centred
    assert report["gloss"].tolist() == [True]
    off = LabelConfig(gloss_fallback=False)
    assert len(build_label_space(["n02086240"], kv, off, progress=False)[0]) == 0
    # the gloss alone, where no hypernym within 3 levels is known
    only_gloss = _vectors({"breed": [2, 0, 0], "pekingese": [0, 0, 1]})
    synset = synset_of("n02086240")
    assert np.allclose(fallback_vector(synset, only_gloss), unit(np.array([1, 0, 1])))


def test_label_space_nearest_save_load_and_random_control(tmp_path):
    space = LabelSpace(
        ["a", "b", "c"], ["A", "B", "C"], unit(np.eye(3, dtype=np.float32) + 0.1)
    )
    top = space.nearest(np.array([1, 0, 0]), k=2)
    assert top["wnid"].tolist()[0] == "a"
    assert (
        space.nearest(np.array([1, 0, 0]), k=2, exclude={"a"})["wnid"].tolist()[0]
        != "a"
    )
    space.save(tmp_path / "l.npz")
    again = LabelSpace.load(tmp_path / "l.npz")
    assert again.wnids == space.wnids and np.allclose(again.vectors, space.vectors)
    rnd = random_label_space(space, seed=1)
    assert rnd.wnids == space.wnids and not np.allclose(rnd.vectors, space.vectors)
    with pytest.raises(KeyError, match="zz has no label vector"):
        space.index(["zz"])


def test_centring_removes_the_shared_direction_and_queries_follow(tmp_path):
    # Two labels that share a big common component look alike until the mean is removed.
    # Only the phrase tokens are known, so each synset's vector is its first lemma's
    # phrase vector.
    kv = _vectors(
        {
            "great_white_shark": [5, 1, 0],
            "tiger_shark": [5, 0, 1],
            "blue_shark": [5, -1, -1],
        }
    )
    wnids = ["n01484850", "n01491361", "n01491006"]  # great white, tiger, blue shark
    raw, _ = build_label_space(wnids, kv, LabelConfig(center=False), progress=False)
    centred, _ = build_label_space(wnids, kv, LabelConfig(center=True), progress=False)
    assert raw.offset is None and centred.offset is not None
    assert (
        float(raw.vectors[0] @ raw.vectors[1]) > 0.9
    )  # the shared component dominates
    assert (
        float(centred.vectors[0] @ centred.vectors[1]) < 0.0
    )  # once removed, they differ
    assert np.allclose(np.linalg.norm(centred.vectors, axis=1), 1)
    assert np.allclose(centred.offset, raw.vectors.mean(axis=0))
    # A free word's vector is moved like the labels were: the label's own raw vector
    # lands on it.
    raw_great_white = kv["great_white_shark"]
    assert np.allclose(
        centred.query_vector(raw_great_white), centred.vectors[0], atol=1e-6
    )
    assert np.allclose(raw.query_vector(raw_great_white), raw.vectors[0], atol=1e-6)
    centred.save(tmp_path / "c.npz")
    again = LabelSpace.load(tmp_path / "c.npz")
    assert (
        np.allclose(again.offset, centred.offset)
        and again.subset(wnids[:1]).offset is not None
    )


def test_nearest_matches_a_full_sort_with_ties_and_exclusions():
    rng = np.random.default_rng(0)
    vectors = unit(rng.standard_normal((300, 8)).astype(np.float32))
    vectors[10] = vectors[20]  # a tie: the lower row comes first
    space = LabelSpace(
        [f"w{i}" for i in range(300)], [f"n{i}" for i in range(300)], vectors
    )
    query = vectors[20] + 0.01
    exclude = {f"w{i}" for i in range(0, 300, 7)}
    scores = vectors @ unit(query)
    expected = [
        f"w{i}" for i in np.argsort(-scores, kind="stable") if f"w{i}" not in exclude
    ][:12]
    assert space.nearest(query, 12, exclude)["wnid"].tolist() == expected
    assert len(space.nearest(query, 500)) == 300


def test_a_wnid_vector_is_the_vector_of_its_synsets_lemmas():
    # n01491361 tiger_shark.n.01: lemmas tiger_shark, Galeocerdo_cuvieri.
    vec, notes = wnid_vector("n01491361", KV)
    assert notes == [
        "tiger_shark: phrase+words",
        "Galeocerdo_cuvieri: unknown word(s): galeocerdo cuvieri",
    ]
    assert np.allclose(vec, lemma_vector("tiger_shark", KV)[0])


def test_rebuilt_ranks_are_each_own_labels_rank_under_the_fallback_query():
    wnids = ["n01484850", "n01491361", "n02086240"]
    space = LabelSpace(wnids, ["a", "b", "c"], np.eye(3, dtype=np.float32))
    query = np.array([1.0, 0.5, 0.0])  # cosines 0.89, 0.45, 0
    assert rebuilt_ranks(space, wnids, lambda synset: query).tolist() == [0, 1, 2]
    assert rebuilt_ranks(space, wnids[:1], lambda synset: None).tolist() == [3]
