"""One decoder step as an ONNX graph, ending in each row's best next tokens.

It computes what `Seq2Seq.decode_step` computes (embedding, stacked LSTM/GRU cells, attention
with input feeding, the output layer), then, instead of returning `rows x vocab` logits for the
caller to rank, the graph ranks them itself: it returns the `candidates` best tokens of each row
and their log-probabilities (logit minus the row's log-sum-exp). Greedy search asks for 1, beam
search for `beam_size`; the Python side only ever handles `rows x candidates` numbers.

The cells are plain `MatMul`s and gates (not ONNX's `LSTM` operator), so that int8 quantisation
turns every matrix product of a step into an integer one.

A vocabulary shortlist is an input: `shortlist` holds target ids (-1 for unused slots), and when
it is not empty the output layer scores only those words (an `If` with two branches), exactly as
`Decoder.shortlist_output` does; the returned ids are then positions in the shortlist.

Graph inputs: `token_ids` int32 `rows`; the state (see `encoder.state_names`); with attention
`memory`, `keys`, `mask`; `candidates` int64 `[1]`; `shortlist` int32 `size` (size 0: none).
Graph outputs: `new_<state name>` for each state tensor, `log_probs` float `rows x candidates`,
`token_ids_out` int64 `rows x candidates`, and with attention `attention` `rows x source_length`.
"""

from __future__ import annotations

import numpy as np

from keras_seq2seq.export.encoder import state_names
from keras_seq2seq.export.graph import BOOL, FLOAT, INT32, INT64, GraphBuilder, subgraph
from keras_seq2seq.export.weights import array, output_layer

NEG = -1e9  # the score of a masked source position / an unused shortlist slot (as in Keras)


def decoder_graph(model):
    """The `ModelProto` of `model.decode_step` followed by the top-`candidates` ranking."""
    decoder = model.decoder
    units, attention = model.units, decoder.has_attention
    g = GraphBuilder("decoder")
    tokens = g.input("token_ids", INT32, ["rows"])
    names = state_names(decoder.num_layers, decoder.cell, attention)
    state = {name: g.input(name, FLOAT, ["rows", units]) for name in names}
    if attention:
        memory = g.input("memory", FLOAT, ["rows", "source_length", units])
        keys = g.input("keys", FLOAT, ["rows", "source_length", units])
        mask = g.input("mask", BOOL, ["rows", "source_length"])
    candidates = g.input("candidates", INT64, [1])
    shortlist = g.input("shortlist", INT32, ["size"])

    x = g.op("Gather", g.const(array(decoder.embedding.embeddings), "target_embedding"), tokens)  # rows x emb
    if attention:
        x = g.op("Concat", x, state["feed"], axis=-1)  # input feeding: [embedding; attentional vector]
    new_state = {}
    for i, rnn in enumerate(decoder.rnns):
        x, layer_state = _cell(g, rnn, x, [state[f"{part}_{i}"] for part in ("h", "c")[: rnn.state_size]], i)
        new_state.update({f"{part}_{i}": s for part, s in zip(("h", "c"), layer_state)})
    weights = None
    if attention:
        context, weights = _attend(g, decoder.attend, x, memory, keys, mask)
        combine = g.const(array(decoder.combine.kernel), "attentional_kernel")
        x = g.op("Tanh", g.op("MatMul", g.op("Concat", context, x, axis=-1), combine))
        new_state["feed"] = x
    if decoder.tie_embeddings and decoder.embedding_dim != decoder.units:
        x = g.op("MatMul", x, g.const(array(decoder.output_projection.kernel), "output_projection"))
    logits = _output_layer(g, decoder, x, shortlist)

    # log p = logit - logsumexp(logits), then the best `candidates` per row. onnxruntime's
    # LogSoftmax is vectorised; its ReduceLogSumExp took 3x as long (and four separate passes,
    # max, subtract, exp, sum, longer still). The ranking is the logits' own: same order, same ties.
    log_probs = g.op("LogSoftmax", logits, axis=-1)
    best, best_ids = g.op("TopK", log_probs, candidates, outputs=2, axis=-1, largest=1, sorted=1)
    for name in names:
        g.output(f"new_{name}", new_state[name], FLOAT, ["rows", units])
    g.output("log_probs", best, FLOAT, ["rows", "candidates"])
    g.output("token_ids_out", best_ids, INT64, ["rows", "candidates"])
    if attention:
        g.output("attention", weights, FLOAT, ["rows", "source_length"])
    return g.model()


def _cell(g: GraphBuilder, rnn, x: str, state: list[str], layer: int):
    """`Recurrent.step` on `rows x features`: returns `(h, new state list)`."""
    kernel = g.const(array(rnn.kernel), f"decoder_{layer}_kernel")
    recurrent_kernel = g.const(array(rnn.recurrent_kernel), f"decoder_{layer}_recurrent_kernel")
    projected = g.op("Add", g.op("MatMul", x, kernel), g.const(array(rnn.bias), f"decoder_{layer}_bias"))
    h = state[0]
    recurrent = g.op("MatMul", h, recurrent_kernel)
    if rnn.cell == "lstm":
        i, f, c_in, o = g.op("Split", g.op("Add", projected, recurrent), outputs=4, axis=-1)
        c = g.op("Add", g.op("Mul", g.op("Sigmoid", f), state[1]), g.op("Mul", g.op("Sigmoid", i), g.op("Tanh", c_in)))
        h = g.op("Mul", g.op("Sigmoid", o), g.op("Tanh", c))
        return h, [h, c]
    recurrent = g.op("Add", recurrent, g.const(array(rnn.recurrent_bias), f"decoder_{layer}_recurrent_bias"))
    x_r, x_z, x_n = g.op("Split", projected, outputs=3, axis=-1)
    h_r, h_z, h_n = g.op("Split", recurrent, outputs=3, axis=-1)
    r = g.op("Sigmoid", g.op("Add", x_r, h_r))
    z = g.op("Sigmoid", g.op("Add", x_z, h_z))
    n = g.op("Tanh", g.op("Add", x_n, g.op("Mul", r, h_n)))
    one = g.const(np.float32(1.0))
    h = g.op("Add", g.op("Mul", g.op("Sub", one, z), n), g.op("Mul", z, h))
    return h, [h]


def _attend(g: GraphBuilder, attend, query: str, memory: str, keys: str, mask: str):
    """`Attention.call`: `(context rows x units, weights rows x source_length)`."""
    if attend.kind == "bahdanau":
        projected = g.op("MatMul", query, g.const(array(attend.query_kernel), "query_kernel"))
        hidden = g.op("Tanh", g.op("Add", keys, g.op("Unsqueeze", projected, g.const(np.array([1], np.int64)))))
        scores = g.op("MatMul", hidden, g.const(array(attend.score_vector), "score_vector"))  # rows x src
    else:
        column = g.op("Unsqueeze", query, g.const(np.array([-1], np.int64)))  # rows x units x 1
        scores = g.op("Squeeze", g.op("MatMul", keys, column), g.const(np.array([-1], np.int64)))
    scores = g.op("Where", mask, scores, g.const(np.float32(NEG)))
    # The product with the mask makes padded weights exactly 0, as in Keras.
    weights = g.op("Mul", g.op("Softmax", scores, axis=-1), g.op("Cast", mask, to=FLOAT))
    context = g.op("MatMul", g.op("Unsqueeze", weights, g.const(np.array([1], np.int64))), memory)
    return g.op("Squeeze", context, g.const(np.array([1], np.int64))), weights


def _output_layer(g: GraphBuilder, decoder, x: str, shortlist: str) -> str:
    """Logits `rows x vocab`, or `rows x size` over the shortlist's words when there is one."""
    kernel, bias = output_layer(decoder)
    kernel, bias = g.const(kernel, "output_kernel"), g.const(bias, "output_bias")

    whole = GraphBuilder("whole_vocabulary")
    whole.output("logits_whole", whole.op("Add", whole.op("MatMul", x, kernel), bias), FLOAT, None)

    short = GraphBuilder("shortlist")
    rows = short.op("Max", shortlist, short.const(np.int32(0)))
    picked_bias = short.op("Where", short.op("GreaterOrEqual", shortlist, short.const(np.int32(0))),
                           short.op("Gather", bias, rows), short.const(np.float32(NEG)))
    picked_kernel = short.op("Gather", kernel, rows, axis=1)  # in x size
    short.output("logits_short", short.op("Add", short.op("MatMul", x, picked_kernel), picked_bias), FLOAT, None)

    size = g.op("Size", shortlist)
    has_shortlist = g.op("Greater", size, g.const(np.int64(0)))
    return g.op("If", has_shortlist, then_branch=subgraph(short), else_branch=subgraph(whole))

