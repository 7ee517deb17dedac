import numpy as np

from keras_seq2seq.data.batching import (TrainingBatches, bucketed_batches, merged_shapes, pad, padded_length,
                                        token_rows)


def test_padded_length_rounds_up_to_the_step():
    assert [padded_length(n, 8) for n in (1, 8, 9, 16, 17)] == [8, 8, 16, 16, 24]


def test_long_lengths_round_to_coarser_steps():
    # Fine steps up to 6 steps, then steps four times as large: few shapes for rare long batches.
    assert [padded_length(n, 4) for n in (23, 24, 25, 40, 41, 56)] == [24, 24, 40, 40, 56, 56]


def test_targets_pad_in_half_steps():
    batches = TrainingBatches([np.ones(9, np.int32)], [np.ones(5, np.int32)], batch_size=2, length_step=8)
    assert batches.padded_shape(0) == (16, 8)
    (source, target_in), target_out = batches[0]
    assert source.shape == (2, 16) and target_in.shape == target_out.shape == (2, 8)


def test_pad_fills_rows_and_truncates():
    out = pad([np.array([1, 2]), np.array([3, 4, 5, 6])], 3, rows=3)
    np.testing.assert_array_equal(out, [[1, 2, 0], [3, 4, 5], [0, 0, 0]])


def test_buckets_cover_every_example_once_and_group_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 50, size=1000)
    batches = bucketed_batches(lengths, 10, rng, pool_batches=100)
    seen = np.concatenate(batches)
    assert sorted(seen.tolist()) == list(range(1000))
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    assert spread < 5  # random batches would spread ~40


def test_rare_shapes_are_padded_to_the_smallest_common_shape_that_covers_them():
    shapes = merged_shapes({(8, 8): 400, (16, 12): 200, (24, 16): 30, (16, 8): 1, (24, 12): 2,
                            (8, 4): 40, (40, 40): 1})
    assert shapes[(16, 8)] == (16, 12)  # 1 batch, half again as large: cheaper than a compile
    assert shapes[(24, 12)] == (24, 16)  # 2 batches, a third larger
    assert shapes[(8, 4)] == (8, 4)  # 40 batches of double size would cost more than a program
    assert shapes[(40, 40)] == (40, 40)  # nothing covers it
    assert all(shapes[s] == s for s in [(8, 8), (16, 12), (24, 16)])


def test_a_rare_shape_is_padded_up_and_an_epoch_compiles_one_shape_fewer():
    # 14 batches of (source 5, target 7) tokens, padded to (8, 8); one of (3, 2), which alone
    # would be padded to (8, 4) and need a program of its own.
    sources = [np.ones(5, np.int32)] * 14 * 16 + [np.full(3, 7, np.int32)] * 16
    targets = [np.ones(7, np.int32)] * 14 * 16 + [np.full(2, 7, np.int32)] * 16
    batches = TrainingBatches(sources, targets, batch_size=16, length_step=8, seed=0)
    assert {batches.padded_shape(i) for i in range(len(batches))} == {(8, 8)}
    rare = [batches[i] for i in range(len(batches)) if batches[i][0][0][0, 0] == 7]
    assert len(rare) == 1
    (source, target_in), target_out = rare[0]
    assert source.shape == target_in.shape == target_out.shape == (16, 8)
    np.testing.assert_array_equal(target_out[0], [7, 7, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(target_in[0], [2, 7, 7, 0, 0, 0, 0, 0])


def _data(n=100):
    rng = np.random.default_rng(1)
    sources = [rng.integers(4, 9, size=rng.integers(1, 20)).astype(np.int32) for _ in range(n)]
    targets = [np.append(s[::-1], 3).astype(np.int32) for s in sources]
    return sources, targets


def test_teacher_forcing_batches():
    sources, targets = _data()
    batches = TrainingBatches(sources, targets, batch_size=16, length_step=8, seed=0)
    assert len(batches) == 7
    rows = 0
    for i in range(len(batches)):
        (src, tgt_in), tgt_out = batches[i]
        assert src.shape[0] == tgt_in.shape[0] == 16  # fixed batch rows
        assert src.shape[1] % 8 == 0 and tgt_out.shape[1] % 4 == 0  # targets: half steps
        real = tgt_out[:, 0] != 0
        rows += int(real.sum())
        assert np.all(tgt_in[real, 0] == 2)  # <bos> first
        np.testing.assert_array_equal(tgt_in[real, 1:], tgt_out[real, :-1])
        assert np.all(tgt_in[~real] == 0) and np.all(src[~real] == 0)
    assert rows == 100


def test_same_seed_same_batches_and_epochs_differ():
    sources, targets = _data()
    a = TrainingBatches(sources, targets, 16, seed=3)
    b = TrainingBatches(sources, targets, 16, seed=3)
    np.testing.assert_array_equal(a[0][1], b[0][1])
    first = [a[i][1].tobytes() for i in range(len(a))]
    a.start_epoch(1)
    assert [a[i][1].tobytes() for i in range(len(a))] != first


def test_an_epoch_plan_depends_only_on_seed_and_epoch_and_can_start_mid_way():
    sources, targets = _data()
    a = TrainingBatches(sources, targets, 16, seed=3)
    a.start_epoch(2)
    epoch_2 = [a[i][1].tobytes() for i in range(len(a))]
    b = TrainingBatches(sources, targets, 16, seed=3)  # a fresh process resuming epoch 2 at batch 4
    b.start_epoch(2, skip=4)
    assert len(b) == len(a) - 4 and b.batches_per_epoch == len(a) == 7
    assert [b[i][1].tobytes() for i in range(len(b))] == epoch_2[4:]
    b.on_epoch_end()  # Keras calls this at other times too; it must not change the plan
    assert [b[i][1].tobytes() for i in range(len(b))] == epoch_2[4:]


# ------------------------------------------------------------------------------ token budgets


def skewed(count: int = 3000, seed: int = 0):
    """Pairs with lengths like a phrasebook's: mostly short, a long tail (source ~ target)."""
    rng = np.random.default_rng(seed)
    target = np.minimum(2 + rng.geometric(0.12, size=count), 60)
    source = np.maximum(1, target + rng.integers(-2, 3, size=count))
    return ([np.ones(n, np.int32) for n in source], [np.ones(n, np.int32) for n in target])


def test_token_rows_are_few_sizes_within_the_budget():
    sizes = {token_rows(4096, n) for n in range(1, 300)}
    assert all(rows * n <= 4096 for n in range(1, 300) if (rows := token_rows(4096, n)) > 1)
    assert len(sizes) <= 4 * 12 + 8  # four per doubling
    assert token_rows(4096, 9000) == 1  # longer than the budget: one sentence alone
    assert token_rows(4096, 40, multiple=8) % 8 == 0 and token_rows(100, 90, multiple=2) == 2


def test_token_batches_fill_the_budget_and_cover_every_example_once_per_epoch():
    sources, targets = skewed()
    batches = TrainingBatches(sources, targets, batch_size=64, length_step=4, seed=1, batch_tokens=1024)
    for epoch in (0, 1):
        batches.start_epoch(epoch)
        seen = np.concatenate(batches.batches)
        assert sorted(seen.tolist()) == list(range(len(sources)))
        for i in range(len(batches)):
            rows, source_length, target_length = batches.batch_shape(i)
            (source, target_in), target_out = batches[i]
            assert source.shape == (rows, source_length) and target_out.shape == (rows, target_length)
            assert len(batches.batches[i]) <= rows and (rows == 1 or rows * target_length <= 1024)
    # Short sentences travel in large batches, long ones in small.
    shapes = {batches.batch_shape(i) for i in range(len(batches))}
    assert max(rows for rows, *_ in shapes) >= 128 and min(rows for rows, *_ in shapes) <= 32


def test_token_batches_have_the_same_shapes_every_epoch_and_new_contents():
    sources, targets = skewed()
    batches = TrainingBatches(sources, targets, batch_size=64, length_step=4, seed=1, batch_tokens=1024)
    per_epoch = []
    for epoch in range(3):
        batches.start_epoch(epoch)
        per_epoch.append(([batches.batch_shape(i) for i in range(len(batches))], [b.tolist() for b in batches.batches]))
    assert len({len(shapes) for shapes, _ in per_epoch}) == 1 == len({tuple(sorted(s)) for s, _ in per_epoch})
    assert len(per_epoch[0][0]) == batches.batches_per_epoch
    assert per_epoch[0][1] != per_epoch[1][1]  # other batches, other order
    # Resuming: the same (seed, epoch) gives the same batches, and skipping starts mid-epoch.
    again = TrainingBatches(sources, targets, batch_size=64, length_step=4, seed=1, batch_tokens=1024)
    again.start_epoch(2, skip=5)
    assert [b.tolist() for b in again.batches] == per_epoch[2][1][5:]
    assert [again.batch_shape(i) for i in range(len(again))] == per_epoch[2][0][5:]


def test_token_batches_pad_less_and_compile_no_more_shapes_than_the_bound():
    from keras_seq2seq.shapes import training_bound

    sources, targets = skewed()
    by_rows = TrainingBatches(sources, targets, batch_size=64, length_step=4, seed=0)
    by_tokens = TrainingBatches(sources, targets, batch_size=64, length_step=4, seed=0, batch_tokens=640)
    assert by_tokens.describe()["padding_share"] < by_rows.describe()["padding_share"]
    shapes = {by_tokens.batch_shape(i) for i in range(len(by_tokens))}
    bound = training_bound(max(map(len, sources)), max(map(len, targets)), 4)
    assert len(shapes) <= bound
    assert len({(s, t) for _, s, t in shapes}) == len(shapes)  # rows follow from the lengths: no extra shapes
    described = by_tokens.describe()
    assert described["batch_tokens"] == 640 and described["rows"] == sorted({r for r, *_ in shapes})


def test_token_batch_rows_split_evenly_across_devices():
    sources, targets = skewed(800)
    batches = TrainingBatches(sources, targets, batch_size=64, length_step=4, batch_tokens=700, row_multiple=4)
    assert all(batches.batch_shape(i)[0] % 4 == 0 for i in range(len(batches)))
