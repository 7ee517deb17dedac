"""Streamed training data: a bounded buffer, every pair once per epoch, batches that are a pure
function of (seed, epoch) (so a resumed epoch sees the same batches), the usual padded shapes,
and bad lines named by file and line."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from keras_seq2seq.training import checkpoint
from keras_seq2seq.cli import main
from keras_seq2seq.config import preset
from keras_seq2seq.data.batching import padded_length
from keras_seq2seq.data.corpus import read_corpus
from keras_seq2seq.data.streaming import StreamedCorpus, StreamingBatches
from keras_seq2seq.errors import ConfigError, CorpusError
from keras_seq2seq.text.tokenizers import WordTokenizer
from keras_seq2seq.text.vocabulary import EOS_ID, Vocabulary

PAIRS = 700
BATCH = 16
WORDS = ["uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho"]


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    """A TSV of `PAIRS` lines, `target<TAB>source`, sources of 1 to 30 words."""
    rng = random.Random(3)
    path = tmp_path_factory.mktemp("stream") / "train.tsv"
    lines = []
    for _ in range(PAIRS):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 30))]
        lines.append(f"{' '.join(reversed(words)).upper()}\t{' '.join(words)}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


class CountingReads:
    """`open_pairs` for `StreamingBatches` that counts the pairs read so far."""

    def __init__(self, path):
        self.path, self.read = path, 0

    def __call__(self):
        for pair in read_corpus(self.path):
            self.read += 1
            yield pair


def line_ids(pair):
    """Source ids whose first id is the pair's line number (+10), so batches tell which pairs they hold."""
    line = int(pair.origin.rsplit(":", 1)[1])
    words = len(pair.source.split())
    return (np.array([line + 10] + [5] * (words - 1), np.int32),
            np.array([6] * len(pair.target.split()) + [EOS_ID], np.int32))


def stream(path, seed=0, buffer=100, reads=None):
    return StreamingBatches(reads or CountingReads(path), line_ids, PAIRS, BATCH, length_step=4, seed=seed,
                            shuffle_buffer=buffer)


def lines_in(batch) -> list[int]:
    (source, _), _ = batch
    return [int(first) - 10 for first in source[:, 0] if first]


def epoch(batches, number, first=0):
    return [arrays for arrays, _, _ in batches.epoch_batches(number, first)]


def test_the_buffer_never_holds_more_than_its_size(corpus_file):
    reads = CountingReads(corpus_file)
    batches = stream(corpus_file, buffer=100, reads=reads)
    assert batches.buffer_size == 112  # rounded up to whole batches of 16
    handed_out = 0
    for arrays, _, _ in batches.epoch_batches(0):
        handed_out += len(lines_in(arrays))
        # Pairs read but not yet trained on: at most one buffer, never the corpus.
        assert reads.read - handed_out <= batches.buffer_size
    assert reads.read == handed_out == PAIRS
    assert batches.largest_buffer == 112


def test_every_pair_once_per_epoch_in_full_batches(corpus_file):
    batches = stream(corpus_file)
    for number in (0, 1):
        seen = [line for arrays in epoch(batches, number) for line in lines_in(arrays)]
        assert sorted(seen) == list(range(1, PAIRS + 1))
    assert len(epoch(batches, 0)) == batches.batches_per_epoch == len(batches) == -(-PAIRS // BATCH)
    assert all(arrays[1].shape[0] == BATCH for arrays in epoch(batches, 0))


def test_batches_are_a_function_of_seed_and_epoch(corpus_file):
    def order(batches, number):
        return [lines_in(arrays) for arrays in epoch(batches, number)]

    first, again = stream(corpus_file, seed=4), stream(corpus_file, seed=4)
    assert order(first, 2) == order(again, 2)
    assert order(first, 2) != order(first, 3)
    assert order(first, 2) != order(stream(corpus_file, seed=5), 2)
    # Shuffled within buffers only: the first buffer's pairs come first.
    first_buffer = {line for arrays in epoch(first, 2)[:7] for line in lines_in(arrays)}
    assert first_buffer == set(range(1, 113))


@pytest.mark.parametrize("skip", [1, 6, 7, 20, 43])
def test_a_resumed_epoch_hands_out_the_same_batches(corpus_file, skip):
    whole = epoch(stream(corpus_file, seed=2), 1)
    resumed = stream(corpus_file, seed=2)
    resumed.start_epoch(1, skip)  # as training.fit does for a checkpoint at batch `skip`
    assert len(resumed) == len(whole) - skip
    rest = [resumed[i] for i in range(len(resumed))]
    for got, want in zip(rest, whole[skip:], strict=True):
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[0][0], want[0][0])


def test_out_of_order_access_and_the_callbacks_view(corpus_file):
    batches = stream(corpus_file, seed=1)
    whole = epoch(batches, 0)
    batches.start_epoch(0)
    np.testing.assert_array_equal(batches[3][1], whole[3][1])  # restarts the stream and reads up to it
    np.testing.assert_array_equal(batches[1][1], whole[1][1])
    (source, target_in), target_out = whole[1]
    assert batches.padded_shape(1) == (source.shape[1], target_out.shape[1])
    assert batches.batch_target_tokens(1) == int((target_out > 0).sum())
    with pytest.raises(IndexError):
        batches[len(batches)]


def test_shapes_follow_padded_length(corpus_file):
    batches = stream(corpus_file, buffer=300)
    shapes = set()
    for (source, target_in), target_out in epoch(batches, 0):
        source_len = int((source > 0).sum(axis=1).max())
        target_len = int((target_out > 0).sum(axis=1).max())
        assert source.shape == (BATCH, padded_length(source_len, 4))
        assert target_out.shape == target_in.shape == (BATCH, padded_length(target_len, 2))
        shapes.add(source.shape)
    assert len(shapes) <= 10  # 1..30 words in steps of 4, coarser past 24


def test_the_scan_counts_tokens_sizes_and_fingerprint(corpus_file):
    corpus = StreamedCorpus(corpus_file, shuffle_buffer=100)
    settings = preset("tatoeba-word").updated(max_source_len=20, max_target_len=None)
    scan = corpus.scan(settings)
    pairs = list(read_corpus(corpus_file))
    tokenizer = WordTokenizer(**{k: v for k, v in settings.text.source_tokenizer.items() if k != "kind"})
    assert Vocabulary.from_counts(scan.source_counts) == Vocabulary.build(tokenizer.tokenize(p.source) for p in pairs)
    assert scan.pairs == len(corpus) == PAIRS
    assert scan.kept == sum(len(tokenizer.tokenize(p.source)) <= 20 for p in pairs) == PAIRS - scan.dropped
    assert scan.longest_target == max(len(tokenizer.tokenize(p.target)) for p in pairs
                                      if len(tokenizer.tokenize(p.source)) <= 20) + 1  # kept pairs only
    assert corpus.scan(settings) is scan  # one pass per tokenisation and length limits
    assert checkpoint.fingerprint(corpus) == scan.fingerprint
    # Another buffer trains on other batches: a checkpoint must not mix the two.
    assert StreamedCorpus(corpus_file, shuffle_buffer=200).scan(settings).fingerprint != scan.fingerprint


def test_bad_lines_are_named_or_skipped(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("a b\tc d\n" * 6 + "only one column\n" + "e f\tg h\n" * 3, encoding="utf-8")
    settings = preset("tatoeba-word")
    with pytest.raises(CorpusError, match=f"{path}:7"):
        StreamedCorpus(path).scan(settings)
    corpus = StreamedCorpus(path, skip_bad_lines=True)
    scan = corpus.scan(settings)
    assert (scan.pairs, scan.report.skipped) == (9, 1) and f"{path}:7" in scan.report.first_skipped[0]
    with pytest.raises(CorpusError, match="not found"):
        StreamedCorpus(tmp_path / "missing.tsv")
    with pytest.raises(ConfigError, match="sentencepiece"):
        StreamedCorpus(path, skip_bad_lines=True).scan(settings.updated(source_tokenizer={"kind": "sentencepiece"}))


def test_seq2seq_train_stream(tmp_path, capsys):
    # Sentences of 1-3 words: one padded shape, so the test compiles little.
    rng = random.Random(0)
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))) for _ in range(300)]
    train, dev = tmp_path / "train.tsv", tmp_path / "dev.tsv"
    train.write_text("".join(f"{line.upper()}\t{line}\n" for line in lines), encoding="utf-8")
    dev.write_text("".join(f"{line.upper()}\t{line}\n" for line in lines[:20]), encoding="utf-8")
    assert main(["train", "--data", str(train), "--stream", "--out", str(tmp_path / "out")]) == 2
    assert "--dev" in capsys.readouterr().err
    out = tmp_path / "model"
    code = main(["train", "--data", str(train), "--dev", str(dev), "--stream", "--shuffle-buffer", "100",
                 "--out", str(out), "--epochs", "1", "--units", "16", "--embedding-dim", "8", "--batch-size", "32",
                 "--select-on", "loss", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"{train}: 300 pairs read; streamed in shuffle buffers of 100 pairs" in err
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["data"]["shuffle_buffer"] == 100
    assert config["training"]["train_pairs"] == 300
    assert not (out / "checkpoint").exists()


def test_token_batches_are_refused_for_a_stream_with_the_reason(tmp_path):
    from keras_seq2seq.config import resolve
    from keras_seq2seq.errors import ConfigError

    path = tmp_path / "pairs.tsv"
    path.write_text("a b\tc d\n" * 20, encoding="utf-8")
    corpus = StreamedCorpus(path, shuffle_buffer=8)
    with pytest.raises(ConfigError, match="token batches .* a stream is never held: use batch_size"):
        corpus.plan(lambda s, t: (np.ones(2, np.int32), np.ones(3, np.int32)), resolve("tatoeba-word", batch_tokens=512))
