"""Compiled shapes: a run traces few programs, no more than its settings allow, and says how many."""

import json
import random
import warnings

import keras
import numpy as np
import pytest

from keras_seq2seq import Translator
from keras_seq2seq.model_archive import MODEL_FILE
from keras_seq2seq.shapes import (TooManyShapesWarning, check, decode_rows, padded_lengths, row_counts,
                                  training_bound)

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def reversal_pairs(count: int, seed: int, longest: int = 16) -> list[tuple[str, str]]:
    """Word-reversal pairs of every length from 1 to `longest` words: many distinct lengths."""
    rng = random.Random(seed)
    pairs = []
    for i in range(count):
        words = [rng.choice(WORDS) for _ in range(1 + i % longest)]
        pairs.append((" ".join(words), " ".join(reversed(words))))
    return pairs


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A tiny word-level model trained one epoch on lengths 1..16 with a dev set, saved; the
    warnings of its run."""
    directory = tmp_path_factory.mktemp("shapes") / "model"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        translator = Translator.train(reversal_pairs(256, 0), dev=reversal_pairs(64, 1), out_dir=directory, verbose=0, epochs=1, units=16, embedding_dim=8,
                                      batch_size=32, length_step=4, patience=0)
    return translator, directory, caught


def test_training_record_counts_traces_within_the_bound(trained):
    translator, directory, caught = trained
    record = translator.info["training"]["compiled_shapes"]
    assert not [w for w in caught if issubclass(w.category, TooManyShapesWarning)]
    for step in ("train", "dev_loss", "generate"):
        assert 1 <= record[step] <= record["bound"][step], (step, record)
    assert record["bound"]["train"] == training_bound(16, 17, 4)  # 1..16 source ids, 2..17 target ids
    assert record["train"] > 1  # the many lengths did make several shapes: the count is real
    config = json.loads((directory / "config.json").read_text())
    assert config["training"]["compiled_shapes"] == record


def test_each_training_shape_is_traced_once(trained):
    translator, _, _ = trained
    from keras_seq2seq.data.batching import TrainingBatches
    from keras_seq2seq.data.training_data import PairList

    t = translator.settings.train
    sources, targets, _ = PairList([_pair(p) for p in reversal_pairs(256, 0)]).encoded(translator.bundle.encode_pair)
    batches = TrainingBatches(sources, targets, t.batch_size, t.length_step, seed=t.seed)
    distinct = {batches.padded_shape(i) for i in range(len(batches))}
    record = translator.info["training"]["compiled_shapes"]
    if keras.backend.backend() == "jax":  # compiled: a retrace of a seen shape would count again
        assert record["train"] == len(distinct)


def test_decoding_compiles_one_program_per_padded_shape(trained):
    _, directory, _ = trained
    translator = Translator.load(directory)
    generator = translator.generator()
    translator.translate(["alpha beta"])                       # 1 row, length 4
    translator.translate(["alpha beta", "gamma"])              # 2 rows, length 4
    translator.translate(["alpha beta gamma delta"])           # 1 row again: no new program
    translator.translate(["alpha " * 9 + "beta"])              # 1 row, length 12
    assert generator.traced_shapes() == {"predict": 3}


def test_fast_load_gives_the_saved_weights_and_outputs(trained):
    translator, directory, _ = trained
    loaded = Translator.load(directory)
    # The weights (not the dropout seed states, which the model file does not hold).
    assert len(loaded.model.trainable_variables) == len(translator.model.trainable_variables)
    for mine, theirs in zip(loaded.model.trainable_variables, translator.model.trainable_variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(mine), keras.ops.convert_to_numpy(theirs))
    texts = [s for s, _ in reversal_pairs(20, 5)]
    assert loaded.translate(texts) == translator.translate(texts)
    # Keras' own loader (drawing initial weights first) reads the same values.
    plain = keras.saving.load_model(directory / MODEL_FILE, compile=False)
    for mine, theirs in zip(loaded.model.trainable_variables, plain.trainable_variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(mine), keras.ops.convert_to_numpy(theirs))


def test_padded_lengths_and_rows():
    assert padded_lengths(10, 4) == [4, 8, 12]
    assert padded_lengths(30, 4) == [4, 8, 12, 16, 20, 24, 40]   # past 6 steps: 16-token steps
    assert [decode_rows(n, 64) for n in (1, 2, 3, 5, 33, 64)] == [1, 2, 4, 8, 64, 64]
    assert decode_rows(40, 48) == 48 and row_counts(48) == 7     # 1 2 4 8 16 32 48
    assert training_bound(10, 10, 4) == 3 * 5                    # targets pad in steps of 2


def test_a_count_over_its_bound_warns():
    with pytest.warns(TooManyShapesWarning, match="13 train shapes"):
        check({"train": 13, "generate": 2}, {"train": 12, "generate": 5}, "training")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check({"train": 12}, {"train": 12}, "training")


def _pair(pair):
    from keras_seq2seq.data.corpus import Pair

    return Pair(*pair)


def test_cli_reports_compiled_shapes(trained, monkeypatch, capsys, tmp_path):
    import io

    from keras_seq2seq import cli

    _, directory, _ = trained
    monkeypatch.setattr("sys.stdin", io.StringIO("alpha beta\ngamma\n"))
    assert cli.main(["translate", "--model", str(directory), "--verbose"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2
    # Both lines in one batch of 2 rows, length 4; at most 1 padded length x 7 row counts (1..64).
    assert "translate: 2 lines in" in err and "1 compiled shapes (at most 7)" in err
    corpus = tmp_path / "test.tsv"
    corpus.write_text("".join(f"{t}\t{s}\n" for s, t in reversal_pairs(10, 7)), encoding="utf-8")
    assert cli.main(["evaluate", "--model", str(directory), "--data", str(corpus), "--samples", "0"]) == 0
    out, _ = capsys.readouterr()
    assert "compiled shapes  " in out
