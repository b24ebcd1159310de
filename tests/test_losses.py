import math

import pytest
import torch
import torch.nn.functional as F

from devise_lite.losses import (
    hinge_rank_loss_full,
    hinge_rank_loss_truncated,
    label_scores,
    naive_hinge_rank_loss_truncated,
    random_order,
    truncated_versus_full,
)

# Three unit label vectors in 2-d: east, north, west.
LABELS = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])


def _at_angle(degrees: float) -> torch.Tensor:
    r = math.radians(degrees)
    return torch.tensor([[math.cos(r), math.sin(r)]])


def test_full_loss_by_hand():
    # Embedding at 60 degrees, true label "north" (1): scores 0.5, sqrt(3)/2, -0.5.
    # Terms: east 0.1 - 0.866 + 0.5 < 0 -> 0; west 0.1 - 0.866 - 0.5 < 0 -> 0.
    e = _at_angle(60)
    assert hinge_rank_loss_full(e, LABELS, torch.tensor([1])).item() == pytest.approx(
        0.0
    )
    # Same embedding, true label "west" (2): east 0.1 + 0.5 + 0.5 = 1.1; north 0.1 + 0.5
    # + 0.866 = 1.466.
    assert hinge_rank_loss_full(e, LABELS, torch.tensor([2])).item() == pytest.approx(
        1.1 + 0.1 + 0.5 + math.sqrt(3) / 2
    )
    # Batch mean of the two: (0 + 2.566) / 2.
    both = hinge_rank_loss_full(torch.cat([e, e]), LABELS, torch.tensor([1, 2]))
    assert both.item() == pytest.approx((1.2 + 0.5 + math.sqrt(3) / 2) / 2)


def test_embeddings_are_normalised_inside():
    e = _at_angle(60)
    target = torch.tensor([2])
    assert hinge_rank_loss_full(7.5 * e, LABELS, target).item() == pytest.approx(
        hinge_rank_loss_full(e, LABELS, target).item()
    )


def test_margin_is_respected_exactly():
    # At 45 degrees, east and north score equally (0.7071): with true label east,
    # north's term is the
    # margin itself (0.1) and west's is 0.1 - 1.414 < 0.
    e = _at_angle(45)
    assert hinge_rank_loss_full(e, LABELS, torch.tensor([0])).item() == pytest.approx(
        0.1
    )
    # Just past the margin (cos a - sin a > 0.1 from about 40.9 degrees down) the loss
    # is zero.
    assert hinge_rank_loss_full(_at_angle(40), LABELS, torch.tensor([0])).item() == 0.0
    assert hinge_rank_loss_full(_at_angle(42), LABELS, torch.tensor([0])).item() > 0.0


def test_truncated_takes_the_first_violator_in_the_given_order():
    # True label west (2) at 60 degrees: both false labels violate, east by 1.1, north
    # by 1.466.
    e = _at_angle(60)
    target = torch.tensor([2])
    east_first = torch.tensor([[0.1, 0.5, 0.0]])  # key of the true label is ignored
    north_first = torch.tensor([[0.9, 0.2, 0.0]])
    assert hinge_rank_loss_truncated(
        e, LABELS, target, order=east_first
    ).item() == pytest.approx(1.1)
    assert hinge_rank_loss_truncated(
        e, LABELS, target, order=north_first
    ).item() == pytest.approx(0.6 + math.sqrt(3) / 2)
    # Equal keys: the lower label index is visited first.
    assert hinge_rank_loss_truncated(
        e, LABELS, target, order=torch.tensor([[0.3, 0.3, 0.3]])
    ).item() == pytest.approx(1.1)


def test_truncated_skips_non_violators():
    # True label north (1) at 80 degrees: east scores 0.174 (term 0.1 - 0.985 + 0.174 <
    # 0, no violation);
    # add a fourth label close to the embedding (at 85 degrees) that does violate.
    labels = torch.cat([LABELS, _at_angle(85)])
    e = _at_angle(80)
    order = torch.tensor(
        [[0.0, 0.5, 0.1, 0.2]]
    )  # east first (not violating), west (not), then the 85-degree one
    expected = 0.1 - math.cos(math.radians(10)) + math.cos(math.radians(5))
    assert hinge_rank_loss_truncated(
        e, labels, torch.tensor([1]), order=order
    ).item() == pytest.approx(expected)


def test_no_violator_gives_zero_and_no_nan():
    e = _at_angle(90)
    loss = hinge_rank_loss_truncated(
        e.requires_grad_(),
        LABELS,
        torch.tensor([1]),
        generator=torch.Generator().manual_seed(0),
    )
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(e.grad).all()


def test_truncated_is_the_full_loss_when_only_one_label_violates():
    e = _at_angle(20)
    target = torch.tensor([0])
    labels = torch.cat([LABELS, _at_angle(25)])  # only the 25-degree label violates
    g = torch.Generator().manual_seed(3)
    assert hinge_rank_loss_truncated(
        e, labels, target, generator=g
    ).item() == pytest.approx(hinge_rank_loss_full(e, labels, target).item())


def test_vectorised_equals_naive_on_random_data():
    g = torch.Generator().manual_seed(0)
    embeddings = torch.randn(64, 8, generator=g)
    labels = F.normalize(torch.randn(30, 8, generator=g), dim=1)
    targets = torch.randint(0, 30, (64,), generator=g)
    embeddings[:32] = (
        labels[targets[:32]] + 0.05 * embeddings[:32]
    )  # half of them well ranked
    order = random_order(64, 30, generator=g)
    fast = hinge_rank_loss_truncated(
        embeddings, labels, targets, margin=0.3, order=order, reduction="none"
    )
    slow = naive_hinge_rank_loss_truncated(
        embeddings, labels, targets, margin=0.3, order=order, reduction="none"
    )
    assert torch.equal(fast, slow)
    assert (fast > 0).sum() > 10 and (
        fast == 0
    ).sum() > 0  # the data exercise both cases
    # And the same generator seed gives the same permutation in both.
    a = hinge_rank_loss_truncated(
        embeddings, labels, targets, generator=torch.Generator().manual_seed(5)
    )
    b = naive_hinge_rank_loss_truncated(
        embeddings, labels, targets, generator=torch.Generator().manual_seed(5)
    )
    assert torch.equal(a, b)


def test_truncated_is_deterministic_given_a_generator_and_varies_with_the_seed():
    g = torch.Generator().manual_seed(1)
    embeddings = torch.randn(32, 5, generator=g)
    labels = F.normalize(torch.randn(20, 5, generator=g), dim=1)
    targets = torch.randint(0, 20, (32,), generator=g)

    def loss(seed):
        return hinge_rank_loss_truncated(
            embeddings,
            labels,
            targets,
            generator=torch.Generator().manual_seed(seed),
            reduction="none",
        )

    # The generator alone draws the order: moving torch's global RNG changes nothing.
    torch.manual_seed(0)
    first = loss(7)
    torch.manual_seed(1)
    assert torch.equal(loss(7), first)
    assert not torch.equal(loss(7), loss(8))
    # Never more than the largest violation, never more than the full sum.
    full = hinge_rank_loss_full(embeddings, labels, targets, reduction="none")
    assert (loss(7) <= full + 1e-6).all()


def test_truncated_sampling_matches_the_expected_first_violator():
    # Two violators (1.1 for east, 1.466 for north); a uniform order picks each half the
    # time.
    e = _at_angle(60).repeat(4000, 1)
    target = torch.full((4000,), 2)
    per_example = hinge_rank_loss_truncated(
        e, LABELS, target, generator=torch.Generator().manual_seed(0), reduction="none"
    )
    share_east = (per_example - 1.1).abs().lt(1e-5).float().mean().item()
    assert share_east == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("loss_fn", [hinge_rank_loss_full, hinge_rank_loss_truncated])
def test_a_gradient_step_on_M_lowers_the_loss_and_turns_Mv_towards_the_true_label(
    loss_fn,
):
    g = torch.Generator().manual_seed(0)
    labels = F.normalize(torch.randn(6, 4, generator=g), dim=1)
    v = torch.randn(1, 10, generator=g)
    M = torch.randn(4, 10, generator=g, requires_grad=True)
    target = torch.tensor(
        [int(label_scores(v @ M.detach().T, labels).argmin())]
    )  # start badly ranked
    order = random_order(1, 6, generator=g)

    def loss_at(weights):
        kwargs = {"order": order} if loss_fn is hinge_rank_loss_truncated else {}
        return loss_fn(v @ weights.T, labels, target, **kwargs)

    before = loss_at(M)
    before.backward()
    with torch.no_grad():
        stepped = M - 0.05 * M.grad
        cos_before = label_scores(v @ M.T, labels)[0, target].item()
        cos_after = label_scores(v @ stepped.T, labels)[0, target].item()
        assert loss_at(stepped).item() < before.item()
    assert cos_after > cos_before


def test_bad_input_is_explained():
    e = _at_angle(10)
    with pytest.raises(ValueError, match="unit rows"):
        hinge_rank_loss_full(e, 2 * LABELS, torch.tensor([0]))
    with pytest.raises(ValueError, match="long tensor"):
        hinge_rank_loss_full(e, LABELS, torch.tensor([0.0]))
    with pytest.raises(ValueError, match="index the 3 label vectors"):
        hinge_rank_loss_truncated(e, LABELS, torch.tensor([3]))
    with pytest.raises(ValueError, match="same d"):
        hinge_rank_loss_full(torch.ones(1, 3), LABELS, torch.tensor([0]))
    with pytest.raises(ValueError, match="convert one of them"):
        hinge_rank_loss_full(e, LABELS.double(), torch.tensor([0]))
    with pytest.raises(ValueError, match="order must have shape"):
        hinge_rank_loss_truncated(e, LABELS, torch.tensor([0]), order=torch.zeros(1, 2))


def test_truncated_versus_full_by_hand():
    # Photo 0 points east with label east: no false label comes within the margin.
    # Photo 1 points east with label west: scores east 1, north 0, west -1, so both
    # false labels violate, by 0.1 + 1 + 1 = 2.1 (east) and 0.1 + 1 + 0 = 1.1 (north).
    east = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    targets = torch.tensor([0, 2])
    found = truncated_versus_full(east, LABELS, targets, orders=400, seed=0)
    assert found["full loss"] == pytest.approx((0 + 2.1 + 1.1) / 2)
    assert found["violating labels per example"] == pytest.approx(1.0)
    assert found["examples with no violator"] == pytest.approx(0.5)
    # Photo 1's truncated loss is 2.1 or 1.1, each first in half of the orders.
    mean = found["truncated loss (mean over orders)"]
    assert mean == pytest.approx((2.1 + 1.1) / 2 / 2, abs=0.05)
    # `seed` alone draws the orders: moving torch's global RNG changes nothing.
    torch.manual_seed(1)
    again = truncated_versus_full(east, LABELS, targets, orders=400, seed=0)
    assert again == found


def test_truncated_versus_full_with_a_wider_margin_finds_more_violators():
    # At 80 degrees from east with label north: east scores 0.17, north 0.98.
    photo, target = _at_angle(80), torch.tensor([1])
    narrow = truncated_versus_full(photo, LABELS, target, margin=0.1, orders=10)
    wide = truncated_versus_full(photo, LABELS, target, margin=0.9, orders=10)
    assert narrow["violating labels per example"] == 0
    assert wide["violating labels per example"] == 1
    assert wide["full loss"] == pytest.approx(0.9 - 0.985 + 0.174, abs=1e-3)
