"""Translator.align, --replace-unk and the attention heat maps, on tiny untrained models.

An untrained model is enough here: alignments must describe whatever the model did, and every
check compares the alignment with an independent computation of the same thing.
"""

import numpy as np
import pytest
from keras import ops

from keras_seq2seq import cli, plotting
from keras_seq2seq.alignment import Alignment, replace_unknowns, surface_tokens
from keras_seq2seq.data.batching import pad
from keras_seq2seq.errors import Seq2SeqError
from keras_seq2seq.layers.attention import Attention
from keras_seq2seq.search.options import SearchOptions
from keras_seq2seq.text.vocabulary import BOS_ID, EOS, EOS_ID, UNK_ID
from keras_seq2seq.translator import Translator

PAIRS = [("¿Dónde está Tom?", "Where is Tom?"), ("Tengo hambre.", "I am hungry."),
         ("Ella lee un libro muy largo.", "She reads a very long book."),
         ("我们明天去北京。", "We go to Beijing tomorrow."), ("Hola.", "Hello.")]
TEXTS = ["¿Dónde está Tom?", "Ella lee un libro.", "我们去北京。", "", "hola hola hola hola hola hola"]
TINY = dict(preset_name="tatoeba-word", min_freq=1, units=16, embedding_dim=8, batch_size=4,
            max_output_len=8, attention="luong-general", source_tokenizer={"lowercase": True})


def _tiny(**overrides):
    return Translator.create(PAIRS, **{**TINY, **overrides})


@pytest.fixture(scope="module")
def translator():
    return _tiny()


def test_alignments_describe_the_greedy_translation(translator):
    alignments = translator.align(TEXTS)
    assert [a.text for a in alignments] == translator.translate(TEXTS)
    for text, a in zip(TEXTS, alignments):
        assert isinstance(a, Alignment)
        assert a.source_tokens == translator.source_tokenizer.tokenize(text)
        assert a.weights.shape == (len(a.target_tokens), len(a.source_tokens))
        assert a.weights.dtype == np.float32
        if a.source_tokens:
            np.testing.assert_allclose(a.weights.sum(axis=1), 1.0, atol=1e-5)
        assert "<pad>" not in a.target_tokens and "<bos>" not in a.target_tokens
        assert EOS not in a.target_tokens[:-1]
        words = a.target_tokens[:-1] if a.target_tokens[-1:] == [EOS] else a.target_tokens
        assert a.text == translator.target_tokenizer.detokenize(words)
    assert alignments[3].source_tokens == [] and alignments[3].weights.shape == (0, 0)
    assert max(len(a.target_tokens) for a in alignments) >= 3  # something to check, not all <eos>


def test_beam_alignments_come_from_the_chosen_hypotheses(translator):
    found = translator.align_n_best(TEXTS, options=SearchOptions(beam_size=3, n_best=3, length_penalty=0.6))
    best = translator.translate_n_best(TEXTS, 3, beam_size=3, length_penalty=0.6)
    assert [[(a.text, pytest.approx(a.score, rel=1e-6)) for a in hyps] for hyps in found] == best
    aligned = translator.align(TEXTS, beam_size=3, length_penalty=0.6)
    assert [a.text for a in aligned] == [hyps[0].text for hyps in found]
    assert all(np.array_equal(a.weights, hyps[0].weights) for a, hyps in zip(aligned, found))
    # Teacher-forced: step the decoder along each chosen output (all hypotheses as one batch);
    # the weights must be the ones the alignment reports.
    rows = [(text, a) for text, hypotheses in zip(TEXTS, found) for a in hypotheses if a.source_tokens]
    sources = pad([translator.encode_source(text) for text, _ in rows], 8)
    targets = pad([[EOS_ID if t == EOS else translator.target_vocab.token_to_id(t) for t in a.target_tokens]
                   for _, a in rows], 8)
    state, source = translator.model.encode(sources)
    previous, steps = np.full((len(rows),), BOS_ID, "int32"), []
    for t in range(targets.shape[1]):
        _, state, weights = translator.model.decode_step(ops.convert_to_tensor(previous), state, source)
        steps.append(ops.convert_to_numpy(weights))
        previous = targets[:, t]
    expected = np.stack(steps, axis=1)  # rows x target x source
    for r, (text, a) in enumerate(rows):
        np.testing.assert_allclose(a.weights, expected[r, : len(a.target_tokens), : len(a.source_tokens)],
                                   atol=1e-5, err_msg=f"{text!r} → {a.text!r}")


def test_replace_unk_copies_the_most_attended_source_word(monkeypatch):
    # Every step attends only to the last real source token, and every output is <unk>.
    def last_token_attention(self, query, memory, keys, mask):
        mask = ops.cast(mask, "int32")
        last = ops.sum(mask, axis=-1) - 1
        weights = ops.cast(ops.one_hot(ops.maximum(last, 0), ops.shape(mask)[1]), memory.dtype) * ops.cast(mask, memory.dtype)
        return ops.squeeze(ops.matmul(ops.expand_dims(weights, 1), memory), 1), weights

    monkeypatch.setattr(Attention, "call", last_token_attention)
    translator = _tiny()
    layer = translator.model.decoder.output_layer
    bias = ops.convert_to_numpy(layer.bias).copy()
    bias[:] = 0.0
    bias[UNK_ID] = 100.0
    layer.bias.assign(bias)
    texts = ["Ella lee Quijote", "¿Dónde está Tom"]
    assert translator.translate(texts) == ["<unk> " * 7 + "<unk>"] * 2
    assert translator.translate(texts, replace_unk=True) == ["Quijote " * 7 + "Quijote", "Tom " * 7 + "Tom"]
    alignment = translator.align(texts[1:], replace_unk=True)[0]
    assert alignment.source_tokens[-1] == "tom"  # the model saw it lowercased; the copy keeps its case
    assert alignment.target_tokens == ["Tom"] * 8 and alignment.replaced == list(range(8))


def test_replace_unknowns_picks_the_highest_weight_per_unknown_step():
    weights = np.array([[0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.0, 0.1, 0.9]], np.float32)
    tokens, replaced = replace_unknowns(["<unk>", "is", "<unk>"], [UNK_ID, 9, UNK_ID], weights,
                                        ["Juan", "María", "Ñandú"])
    assert tokens == ["María", "is", "Ñandú"] and replaced == [0, 2]
    assert replace_unknowns(["<unk>"], [UNK_ID], np.zeros((1, 0)), []) == (["<unk>"], [])


def test_model_without_attention_is_a_clear_error():
    translator = Translator.create(PAIRS, **{**TINY, "attention": "none"})
    with pytest.raises(Seq2SeqError, match="no attention"):
        translator.align(["Hola."])
    with pytest.raises(Seq2SeqError, match="no attention"):
        translator.translate(["Hola."], replace_unk=True)


def _is_png(path):
    data = path.read_bytes()
    return len(data) > 100 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_plots_one_png_per_line(translator, tmp_path, capsys):
    model_dir, plots = tmp_path / "model", tmp_path / "plots"
    translator.save(model_dir)
    (tmp_path / "in.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    status = cli.main(["translate", "--model", str(model_dir), "--input", str(tmp_path / "in.txt"),
                       "--plot-attention", str(plots), "--replace-unk"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out.splitlines() == translator.translate(TEXTS, replace_unk=True)
    assert sorted(p.name for p in plots.iterdir()) == [f"{i:04d}.png" for i in range(1, len(TEXTS) + 1)]
    assert all(_is_png(p) for p in plots.iterdir())
    assert f"{len(TEXTS)} attention plot(s) written" in captured.err


def test_cjk_labels_use_a_cjk_font_or_warn_once(translator, tmp_path, capsys, monkeypatch):
    alignment = translator.align(["我们去北京。"])[0]
    family = plotting.find_cjk_font()
    if family is not None:  # installed here (fonts-noto-cjk): it is the fallback after DejaVu
        assert plotting._font_families(alignment.source_tokens) == ["DejaVu Sans", family]
    monkeypatch.setattr(plotting, "find_cjk_font", lambda: None)
    monkeypatch.setattr(plotting, "_warned", False)
    plotting.plot_alignment(alignment, tmp_path / "a.png")
    plotting.plot_alignment(alignment, tmp_path / "b.png")
    assert _is_png(tmp_path / "a.png") and _is_png(tmp_path / "b.png")
    assert capsys.readouterr().err.count("fonts-noto-cjk") == 1
    assert plotting._font_families(["dónde", "$5"]) == ["DejaVu Sans"]


TRANSFORMER = dict(preset_name="tatoeba-word", min_freq=1, architecture="transformer", units=16, heads=2,
                   num_layers=1, batch_size=4, max_output_len=8, source_tokenizer={"lowercase": True})


def test_transformer_alignments_are_its_last_blocks_cross_attention_averaged_over_heads(tmp_path, capsys):
    translator = Translator.create(PAIRS, **TRANSFORMER)
    # Every output <unk>: --replace-unk then copies, at each step, the source word attended to most.
    layer = translator.model.decoder.output_layer
    bias = np.zeros(layer.bias.shape, "float32")
    bias[UNK_ID] = 100.0
    layer.bias.assign(bias)
    texts = ["Ella lee Quijote", "¿Dónde está Tom"]
    found = translator.align(texts, beam_size=2, replace_unk=True)
    sources = pad([translator.encode_source(text) for text in texts], 4)
    state, source = translator.model.encode(sources, max_length=8)
    for t in range(8):  # the decoder's own steps along the chosen outputs (all <unk>)
        _, state, weights = translator.model.decode_step(ops.full((2,), BOS_ID if t == 0 else UNK_ID, "int32"),
                                                         state, source)
        weights = ops.convert_to_numpy(weights)
        for row, alignment in enumerate(found):
            np.testing.assert_allclose(alignment.weights[t], weights[row, : len(alignment.source_tokens)],
                                       atol=1e-5)
            surface = surface_tokens(translator.source_tokenizer, texts[row])
            assert alignment.target_tokens[t] == surface[int(np.argmax(alignment.weights[t]))]
    assert found[1].replaced == list(range(8))
    # The CLI draws them: one PNG per line.
    model_dir, plots = tmp_path / "model", tmp_path / "plots"
    translator.save(model_dir)
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    status = cli.main(["translate", "--model", str(model_dir), "--input", str(tmp_path / "in.txt"),
                       "--plot-attention", str(plots), "--replace-unk"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out.splitlines() == translator.translate(texts, replace_unk=True)
    assert all(_is_png(p) for p in plots.iterdir()) and len(list(plots.iterdir())) == 2
