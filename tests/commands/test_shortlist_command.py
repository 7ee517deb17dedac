"""`seq2seq shortlist` and `--shortlist SIZE`: training stores the table with the model, the
command rebuilds it from a corpus, and translate/evaluate use it."""

import json

import pytest

from keras_seq2seq.cli import main
from keras_seq2seq.errors import Seq2SeqError
from keras_seq2seq.search.shortlist import FILE
from keras_seq2seq.translator import Translator

PAIRS = [("uno dos", "one two"), ("tres", "three"), ("dos uno", "two one"), ("uno", "one")] * 8


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("model")
    translator = Translator.create(PAIRS, units=8, embedding_dim=4, epochs=1, batch_size=8)
    translator.fit(PAIRS, out_dir=directory, verbose=0)
    return directory


def test_training_stores_the_shortlist_and_loading_reads_it(model_dir):
    translator = Translator.load(model_dir)
    assert translator.shortlist is not None
    words = {translator.target_vocab.encode([w])[0] for w in ("one", "two")}
    uno = translator.source_vocab.encode(["uno"])[0]
    assert words <= set(translator.shortlist.candidates[uno].tolist()) | set(translator.shortlist.frequent.tolist())
    full = translator.translate(["uno dos", "tres"], beam_size=2)
    translator.use_shortlist(len(translator.target_vocab))  # the whole vocabulary: no shortlist at all
    assert translator.shortlist_size == 0
    translator.use_shortlist(4)
    listed = translator.translate(["uno dos", "tres"], beam_size=2)
    assert len(listed) == len(full) == 2


def test_shortlist_command_rebuilds_it_and_translate_uses_it(model_dir, tmp_path, capsys):
    data = tmp_path / "pairs.tsv"
    data.write_text("".join(f"{source}\t{target}\n" for source, target in PAIRS), encoding="utf-8")
    (model_dir / FILE).unlink()
    with pytest.raises(Seq2SeqError, match="no vocabulary shortlist"):
        Translator.load(model_dir).use_shortlist(4)
    assert main(["shortlist", "--model", str(model_dir), "--data", str(data), "--format", "tsv",
                 "--source-column", "0", "--target-column", "1", "--frequent", "3"]) == 0
    assert len(json.loads((model_dir / FILE).read_text())["frequent"]) == 3
    inputs = tmp_path / "in.txt"
    inputs.write_text("uno dos\ntres\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["translate", "--model", str(model_dir), "--input", str(inputs), "--shortlist", "4",
                 "--beam-size", "2"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_shortlist_with_sampling_is_a_clear_error(model_dir, tmp_path, capsys):
    inputs = tmp_path / "in.txt"
    inputs.write_text("uno\n", encoding="utf-8")
    assert main(["translate", "--model", str(model_dir), "--input", str(inputs), "--shortlist", "4",
                 "--sample"]) == 2
    assert "cannot be combined with --sample" in capsys.readouterr().err


def test_sampling_keeps_every_word_when_a_shortlist_is_on(model_dir):
    translator = Translator.load(model_dir)
    translator.use_shortlist(4)
    sampled = translator.translate(["uno dos"], sampling={"temperature": 1.0, "top_k": 0, "top_p": 1.0})
    assert len(sampled) == 1
    assert translator.generator(sampling={"temperature": 1.0, "top_k": 0, "top_p": 1.0}).options.shortlist == 0
    assert translator.generator(beam_size=2).options.shortlist == 4


def test_served_models_use_the_shortlist_or_say_which_has_none(model_dir, tmp_path):
    from keras_seq2seq.errors import ConfigError
    from keras_seq2seq.serving.registry import load_models

    served = load_models([f"m={model_dir}"], shortlist=4)
    assert served["m"].translator.shortlist_size == 4
    bare = tmp_path / "bare"
    Translator.create(PAIRS, units=8, embedding_dim=4).save(bare)
    with pytest.raises(ConfigError, match="model 'b' .* has no shortlist.json"):
        load_models([f"m={model_dir}", f"b={bare}"], shortlist=4)


def test_a_model_saved_without_a_shortlist_leaves_no_stale_one(model_dir, tmp_path):
    import shutil

    directory = shutil.copytree(model_dir, tmp_path / "copy")
    translator = Translator.load(directory)
    translator.shortlist = None  # as after training on a streamed corpus
    translator.save(directory)
    assert not (directory / FILE).exists()
    assert Translator.load(directory).shortlist is None
