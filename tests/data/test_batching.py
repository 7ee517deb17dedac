import numpy as np

from keras_seq2seq.data.batching import TrainingBatches, bucketed_batches, merged_shapes, pad, padded_length


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
