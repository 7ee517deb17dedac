"""Tiny models for the export and runtime tests: made in a second, no training needed."""

import numpy as np
from keras import ops

from keras_seq2seq.search.shortlist import Shortlist
from keras_seq2seq.text.vocabulary import EOS_ID
from keras_seq2seq.translator import Translator

SIZES = dict(units=32, embedding_dim=16, param_init=1.0, max_output_len=14, batch_size=16)


def make_translator(pairs, seed: int = 0, **options) -> Translator:
    """An untrained model with uniform weights and a push towards <eos>, so that its
    outputs differ from sentence to sentence and end at different steps; with a shortlist."""
    translator = Translator.create(pairs, preset_name="dates", **{**SIZES, "seed": seed, **options})
    model = translator.model
    # Weights of ±1 make outputs depend on the source; smaller recurrent weights keep the
    # recurrence from amplifying rounding the way a chaotic system would (a trained model's does not).
    for rnn in [*model.encoder.rnns, *model.encoder.backward_rnns, *model.decoder.rnns]:
        rnn.recurrent_kernel.assign(ops.convert_to_numpy(rnn.recurrent_kernel) * 0.25)
    decoder = model.decoder
    bias = decoder.output_bias if decoder.tie_embeddings else decoder.output_layer.bias
    values = ops.convert_to_numpy(bias).copy()
    values[EOS_ID] += 1.0
    bias.assign(values)
    sources = [translator.encode_source(p.source) for p in pairs]
    targets = [translator.encode_target(p.target) for p in pairs]
    translator.shortlist = Shortlist.build(sources, targets, len(translator.source_vocab),
                                           len(translator.target_vocab), frequent=4, per_source=2)
    return translator


def assert_same_outputs(expected, actual, tolerance: float = 1e-2) -> None:
    """n-best lists equal in text, and in score up to float rounding.

    With weights of ±1 the logits reach the hundreds, and two matrix-product kernels that
    round differently then disagree by up to ~1e-2 on a summed log-probability (seen: 8e-3 over
    14 steps); on a trained model, by ~1e-5.
    """
    assert [[text for text, _ in hypotheses] for hypotheses in actual] == \
        [[text for text, _ in hypotheses] for hypotheses in expected]
    actual_scores = [score for hypotheses in actual for _, score in hypotheses]
    expected_scores = [score for hypotheses in expected for _, score in hypotheses]
    np.testing.assert_allclose(actual_scores, expected_scores, rtol=tolerance, atol=tolerance)
