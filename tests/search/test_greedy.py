import keras
import numpy as np
from keras import ops

from keras_seq2seq.models import Seq2Seq
from keras_seq2seq.search.generator import Generator
from keras_seq2seq.search.greedy import greedy_search
from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID

MAX_LEN = 9


def _model(seed=0, eos_bias=None):
    keras.utils.set_random_seed(seed)
    model = Seq2Seq(12, 10, embedding_dim=8, units=16)
    model.build()
    if eos_bias is not None:
        bias = ops.convert_to_numpy(model.decoder.output_layer.bias).copy()
        bias[EOS_ID] = eos_bias
        model.decoder.output_layer.bias.assign(bias)
    return model


def reference_greedy(model, source_ids, max_length):
    """Eager, one sentence at a time, plain Python: the path the compiled loop must match."""
    outputs = []
    for row in source_ids:
        row = row[row != 0][None, :] if np.any(row) else row[None, :1]
        state, source = model.encode(row)
        token, out = np.array([BOS_ID]), []
        for _ in range(max_length):
            logits, state, _ = model.decode_step(token, state, source)
            token = np.argmax(ops.convert_to_numpy(logits), axis=-1)
            out.append(int(token[0]))
            if out[-1] == EOS_ID:
                break
        outputs.append(out + [0] * (max_length - len(out)))
    return np.array(outputs)


def test_compiled_batch_equals_eager_single_sentences():
    model = _model()
    sources = np.array([[4, 5, 6, 0, 0], [7, 8, 9, 10, 11], [4, 0, 0, 0, 0]], "int32")
    compiled = Generator(model, MAX_LEN).generate(sources)[0][:, 0]
    np.testing.assert_array_equal(compiled, reference_greedy(model, sources, MAX_LEN))


def test_batch_equals_single():
    model = _model(seed=3)
    sources = np.random.default_rng(0).integers(4, 12, size=(6, 7)).astype("int32")
    generator = Generator(model, MAX_LEN)
    batch = generator.generate(sources)[0][:, 0]
    for i in range(len(sources)):
        np.testing.assert_array_equal(generator.generate(sources[i : i + 1])[0][0, 0], batch[i])


def test_stops_at_eos_and_pads_after_it():
    model = _model(eos_bias=None)
    # Make <eos> win from the third step on: bias it hard only after two steps by rewriting
    # the output so that the first choice is EOS for every sentence.
    forced = _model(eos_bias=100.0)
    out = ops.convert_to_numpy(greedy_search(forced, np.ones((4, 3), "int32") * 5, MAX_LEN)[0])
    assert np.all(out[:, 0] == EOS_ID) and np.all(out[:, 1:] == 0)
    out = Generator(model, MAX_LEN).generate(np.ones((2, 3), "int32") * 5)[0][:, 0]
    for row in out:
        ends = np.flatnonzero(row == EOS_ID)
        if len(ends):
            assert np.all(row[ends[0] + 1 :] == 0)
        else:
            assert np.all(row != 0)  # no <eos>: ran to the length limit


def test_generator_sees_weights_updated_after_compilation():
    model = _model()
    generator = Generator(model, MAX_LEN)
    sources = np.ones((2, 3), "int32") * 5
    generator.generate(sources)
    bias = ops.convert_to_numpy(model.decoder.output_layer.bias).copy()
    bias[EOS_ID] = 100.0
    model.decoder.output_layer.bias.assign(bias)
    assert np.all(generator.generate(sources)[0][:, 0, 0] == EOS_ID)


def test_all_padding_rows_produce_nothing_and_do_not_change_the_others():
    model = _model(seed=5)
    sources = np.array([[4, 5, 6], [0, 0, 0], [7, 8, 0]], "int32")
    ids, scores = Generator(model, MAX_LEN).generate(sources)
    assert np.all(ids[1] == 0) and scores[1, 0] == 0.0
    alone = Generator(model, MAX_LEN).generate(sources[[0, 2]])[0]
    np.testing.assert_array_equal(ids[[0, 2]], alone)
