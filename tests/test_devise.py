"""Tests of DeViSE training (devise.py) and of the Table 1 rows (evaluation.py) on small
hand-made data."""

import threading

import numpy as np
import pandas as pd
import pytest
import torch

from devise_lite.config import DeviseConfig
from devise_lite.devise import (
    Projection,
    embed,
    format_duration,
    logits,
    phase2_budget,
    rank_loss,
    train_projection,
    train_softmax,
)
from devise_lite.evaluation import chance_row, ranking_row, results_table
from devise_lite.metrics import flat_hit_at_k
from devise_lite.training import fit, seeded, side_by_side
from devise_lite.vectors import cosine_scores, top_k, unit

N_CLASSES, FEATURE_DIM, LABEL_DIM = 6, 20, 8


def _clusters(per_class: int, seed: int, spread: float = 0.3):
    """Features drawn around one fixed centre per class (the same centres for every
    seed)."""
    centres = np.random.default_rng(123).standard_normal((N_CLASSES, FEATURE_DIM)) * 2
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(N_CLASSES), per_class)
    x = centres[y] + spread * rng.standard_normal((len(y), FEATURE_DIM))
    return x.astype(np.float32), y.astype(np.int64)


@pytest.fixture(scope="module")
def problem():
    x_train, y_train = _clusters(20, seed=1)
    x_test, y_test = _clusters(10, seed=2)
    vectors = unit(
        np.random.default_rng(7).standard_normal((N_CLASSES, LABEL_DIM))
    ).astype(np.float32)
    return x_train, y_train, x_test, y_test, vectors


def _cfg(**changes) -> DeviseConfig:
    base = dict(
        phase1_epochs=15,
        phase1_lr=0.1,
        batch_size=16,
        softmax_epochs=15,
        softmax_lr=0.1,
        seed=0,
    )
    return DeviseConfig(**{**base, **changes})


def _hit1(scores: np.ndarray, y: np.ndarray) -> float:
    return flat_hit_at_k(top_k(scores, 1), y, (1,))[1]


def test_projection_outputs_unit_vectors():
    torch.manual_seed(0)
    m = Projection(FEATURE_DIM, LABEL_DIM)
    e = embed(m, np.random.default_rng(0).standard_normal((5, FEATURE_DIM)) * 10)
    assert e.shape == (5, LABEL_DIM)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)


def test_phase1_learns_a_separable_problem_and_lowers_the_loss(problem):
    x_train, y_train, x_test, y_test, vectors = problem
    torch.manual_seed(0)
    before = _hit1(
        cosine_scores(embed(Projection(FEATURE_DIM, LABEL_DIM), x_test), vectors),
        y_test,
    )
    model, history = train_projection(x_train, y_train, vectors, _cfg(), progress=False)
    after = _hit1(cosine_scores(embed(model, x_test), vectors), y_test)
    assert list(history["epoch"]) == list(range(1, 16))
    assert history["steps"].iloc[-1] == 15 * 8  # 120 photos in batches of 16
    assert history["loss"].iloc[-1] < 0.25 * history["loss"].iloc[0]
    assert after >= 0.95 and before < 0.6


def test_softmax_baseline_learns_the_same_problem(problem):
    x_train, y_train, x_test, y_test, _ = problem
    model, history = train_softmax(x_train, y_train, N_CLASSES, _cfg(), progress=False)
    assert _hit1(logits(model, x_test), y_test) >= 0.95
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]


def test_training_is_reproducible_for_a_seed(problem):
    x_train, y_train, _, _, vectors = problem
    a, ha = train_projection(
        x_train, y_train, vectors, _cfg(phase1_epochs=3), progress=False
    )
    b, hb = train_projection(
        x_train, y_train, vectors, _cfg(phase1_epochs=3), progress=False
    )
    torch.testing.assert_close(a.state_dict(), b.state_dict())
    pd.testing.assert_frame_equal(ha, hb)


def test_trainings_side_by_side_give_the_weights_of_one_after_another(problem):
    x_train, y_train, _, _, vectors = problem

    def weights(seed: int) -> np.ndarray:
        cfg = _cfg(phase1_epochs=3, seed=seed)
        model, _ = train_projection(x_train, y_train, vectors, cfg, progress=False)
        return model.linear.weight.detach().numpy()

    seeds = [0, 1, 2, 3]
    alone = [weights(seed) for seed in seeds]
    # started costliest first (3, 2, 1, 0), returned in the items' order
    together = side_by_side(weights, seeds, cost=lambda seed: seed)
    for one, other in zip(alone, together, strict=True):
        np.testing.assert_array_equal(one, other)
    assert not np.array_equal(alone[0], alone[1])  # each seed its own weights


def test_seeded_lets_one_thread_at_a_time_draw_from_the_global_generator():
    inside, leave, second_done = threading.Event(), threading.Event(), threading.Event()
    draws = {}

    def first():
        with seeded(1):
            inside.set()
            leave.wait(10)
            draws[1] = torch.rand(3)

    def second():
        with seeded(2):
            draws[2] = torch.rand(3)
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert inside.wait(10)
    threads[1].start()
    assert not second_done.wait(0.2)  # it waits for the first to leave its block
    leave.set()
    for thread in threads:
        thread.join(10)
    for seed in (1, 2):
        torch.manual_seed(seed)
        torch.testing.assert_close(draws[seed], torch.rand(3))


@pytest.mark.parametrize("loss", ["truncated", "full"])
def test_fit_resumes_from_a_checkpoint_with_the_uninterrupted_result(
    problem, tmp_path, loss
):
    x_train, y_train, _, _, vectors = problem
    whole, whole_history = train_projection(
        x_train, y_train, vectors, _cfg(phase1_epochs=6, loss=loss), progress=False
    )
    checkpoint = tmp_path / "phase1.pt"
    # "Interrupted" after 2 epochs: the checkpoint holds epoch 2; the rerun asks for all
    # 6.
    train_projection(
        x_train,
        y_train,
        vectors,
        _cfg(phase1_epochs=2, loss=loss),
        checkpoint=checkpoint,
        progress=False,
    )
    assert checkpoint.exists()
    resumed, resumed_history = train_projection(
        x_train,
        y_train,
        vectors,
        _cfg(phase1_epochs=6, loss=loss),
        checkpoint=checkpoint,
        progress=False,
    )
    torch.testing.assert_close(resumed.state_dict(), whole.state_dict())
    pd.testing.assert_frame_equal(resumed_history, whole_history)


def test_fit_stops_at_max_steps_and_records_the_monitor(problem):
    x_train, y_train, _, _, vectors = problem
    model = Projection(FEATURE_DIM, LABEL_DIM)
    x, y = torch.as_tensor(x_train), torch.as_tensor(y_train)

    def batches():
        for i in range(0, len(x), 16):
            yield x[i : i + 16], y[i : i + 16], len(y[i : i + 16])

    history = fit(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        batches,
        rank_loss(_cfg(), torch.as_tensor(vectors)),
        epochs=5,
        generator=torch.Generator().manual_seed(0),
        max_steps=10,
        monitor=lambda m: {"calls": 1},
        progress=False,
    )
    assert list(history["steps"]) == [
        8,
        10,
    ]  # 8 steps per epoch; stopped inside epoch 2
    assert list(history["calls"]) == [1, 1]


def test_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="truncated"):
        rank_loss(DeviseConfig(loss="squared"), torch.eye(3))


# ---------------------------------------------------------------- Table 1 rows


CANDIDATES = ["great_white", "hammerhead", "whale", "dolphin"]


def test_ranking_row_by_hand(zoo):
    # Photo 1 (great white) ranks hammerhead, whale, great_white, dolphin;
    # photo 2 (whale) ranks dolphin, whale, hammerhead, great_white.
    scores = np.array([[0.1, 0.9, 0.5, 0.0], [0.0, 0.1, 0.8, 0.9]])
    row = ranking_row(scores, ["great_white", "whale"], CANDIDATES, zoo)
    assert row["hit@1"] == 0.0
    assert row["hit@2"] == 0.5
    assert (
        row["hit@5"] == row["hit@10"] == row["hit@20"] == 1.0
    )  # k past 4 candidates: the whole list
    # Correct sets for k=2 among the candidates: {great_white, hammerhead} and {whale,
    # dolphin}.
    assert row["hp@2"] == pytest.approx((1 / 2 + 2 / 2) / 2)
    assert not any(
        k in row for k in ("hp@5", "hp@10", "hp@20")
    )  # undefined with 4 candidates


def test_ranking_row_never_hits_a_label_that_is_not_a_candidate(zoo):
    scores = np.array([[0.9, 0.8, 0.1, 0.0]])
    row = ranking_row(
        scores, ["tiger_shark"], CANDIDATES, zoo, flat_ks=(1, 4), hp_ks=(2,)
    )
    assert row["hit@1"] == row["hit@4"] == 0.0
    # Its correct set for k=2 is still grown from it: {great_white, hammerhead} at
    # radius 2.
    assert row["hp@2"] == 1.0


def test_ranking_row_without_hierarchy_has_only_flat_columns():
    row = ranking_row(
        np.array([[0.2, 0.1, 0.3]]), ["b"], ["a", "b", "c"], None, flat_ks=(1, 2)
    )
    assert row == {"hit@1": 0.0, "hit@2": 0.0}


def test_chance_row_values(zoo):
    row = chance_row(
        ["great_white", "whale"], CANDIDATES, zoo, flat_ks=(1, 2, 10), hp_ks=(2, 4, 20)
    )
    assert row["hit@1"] == pytest.approx(1 / 4)
    assert row["hit@2"] == pytest.approx(2 / 4)
    assert row["hit@10"] == 1.0
    # Correct sets have 2 labels for k=2 and all 4 for k=4: 2 * (2/4) / 2 and 4 * (4/4)
    # / 4.
    assert row["hp@2"] == pytest.approx(0.5)
    assert row["hp@4"] == pytest.approx(1.0)
    assert "hp@20" not in row
    # Half the photos have a label outside the candidates: flat chance halves.
    half = chance_row(["great_white", "ray"], CANDIDATES, None, flat_ks=(1,))
    assert half == {"hit@1": pytest.approx(1 / 8)}


def test_chance_row_is_the_mean_of_random_rankings(zoo):
    true = ["great_white", "whale", "dolphin"]
    rng = np.random.default_rng(0)
    rows = [
        ranking_row(
            rng.random((len(true), len(CANDIDATES))),
            true,
            CANDIDATES,
            zoo,
            flat_ks=(1, 2),
            hp_ks=(2, 3),
        )
        for _ in range(3000)
    ]
    sampled = pd.DataFrame(rows).mean()
    expected = chance_row(true, CANDIDATES, zoo, flat_ks=(1, 2), hp_ks=(2, 3))
    for column, value in expected.items():
        assert sampled[column] == pytest.approx(value, abs=0.02), column


def test_cosine_scores_and_results_table():
    e = unit(np.array([[1.0, 0.0], [1.0, 1.0]]))
    t = unit(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    np.testing.assert_allclose(
        cosine_scores(e, t),
        [[1, 0, -1], [0.70710678, 0.70710678, -0.70710678]],
        atol=1e-6,
    )
    table = results_table({"a": {"hit@1": 0.5}, "b": {"hit@1": 0.25}}, dim={"a": 500})
    assert list(table.columns) == ["model", "dim", "hit@1"]
    assert table["dim"].tolist()[0] == 500 and pd.isna(table["dim"].tolist()[1])


def test_phase2_budget_by_hand():
    # 100 photos in batches of 32: 4 steps an epoch (32, 32, 32, 4 photos).
    two = phase2_budget(steps=2, batch_size=32, seconds_per_step=1.5, n_train=100)
    assert two == {
        "photos seen": 64,
        "share of one epoch": 0.64,
        "steps per epoch": 4,
        "seconds per epoch": 6.0,
    }
    # One whole epoch and one step of the next: 100 + 32 photos.
    five = phase2_budget(steps=5, batch_size=32, seconds_per_step=1.5, n_train=100)
    assert five["photos seen"] == 132 and five["share of one epoch"] == 1.32
    # The last step of an epoch sees only the 4 photos left.
    assert phase2_budget(4, 32, 1.0, 100)["photos seen"] == 100


def test_format_duration():
    assert format_duration(40.4) == "40 s"
    assert format_duration(750) == "12.5 min"
    assert format_duration(3 * 3600 + 720) == "3.2 h"
