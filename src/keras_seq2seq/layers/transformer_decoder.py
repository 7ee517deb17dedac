"""The Transformer decoder, over a whole target for training and one token at a time for search.

Training (`call`) runs every target position at once under a causal mask. Generation (`step`)
advances every sentence of a batch by one token and must give the same numbers: its state is a
key/value cache per block, `batch x max_length x dim`, allocated once by `initial_state` and
written in place at the current position (`MultiHeadAttention.step`), plus the position itself.
Everything in the state is batch-major, so beam search can reorder it by parent hypothesis and
the search loop can drop finished sentences from it, exactly as with the recurrent decoder's
states (`search/beam.py`, `search/compaction.py`). The source's keys and values for every
block's cross-attention are computed once per sentence by `prepare_source`.

The attention weights a step returns, for `--plot-attention` and `--replace-unk`, are the last
block's cross-attention, averaged over its heads: one distribution over source positions per
output token, like the recurrent decoder's.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq2seq.layers.dropout import seeded_dropout
from keras_seq2seq.layers.output_weights import OutputWeights
from keras_seq2seq.layers.positions import Positions
from keras_seq2seq.layers.recurrent import matmul_2d
from keras_seq2seq.layers.transformer import DecoderBlock, layer_norm
from keras_seq2seq.layers.transformer_encoder import token_embedding


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class TransformerDecoder(OutputWeights, keras.layers.Layer):
    """Target embedding (x sqrt(dim)) + positions -> `num_layers` `DecoderBlock`s -> logits.

    Args: as for `TransformerEncoder`, plus
        tie_embeddings: the output layer is the target embedding matrix, transposed (plus a
            bias), as in the paper.
        embedding: an `Embedding` to use instead of making one (the encoder's, when source and
            target share a joint vocabulary); not part of the config: the model passes it.

    Call arguments:
        target_in: `batch x tgt_len` ids, the target shifted right (`<bos>` first).
        source: from `prepare_source()`.

    Returns logits, `batch x tgt_len x vocab_size` (float32 under every precision policy).
    """

    def __init__(self, vocab_size: int, dim: int = 512, heads: int = 8, hidden: int = 2048,
                 num_layers: int = 6, dropout: float = 0.1, attention_dropout: float = 0.1,
                 pre_norm: bool = True, positions: str = "sinusoidal", max_positions: int = 1024,
                 tie_embeddings: bool = False, embedding: keras.layers.Embedding | None = None, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.dim = dim
        self.heads = heads
        self.hidden = hidden
        self.num_layers = num_layers
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.pre_norm = pre_norm
        self.positions = positions
        self.max_positions = max_positions
        self.tie_embeddings = tie_embeddings
        self.embedding = embedding if embedding is not None else token_embedding(vocab_size, dim, self.dtype_policy)
        self.position_encoding = Positions(dim, positions, max_positions, dtype=self.dtype_policy, name="positions")
        self.drop = seeded_dropout(dropout, dtype=self.dtype_policy, name="dropout")
        self.blocks = [DecoderBlock(dim, heads, hidden, dropout, attention_dropout, pre_norm,
                                    dtype=self.dtype_policy, name=f"block_{i}") for i in range(num_layers)]
        self.final_norm = layer_norm("final_norm", self.dtype_policy) if pre_norm else None
        if not tie_embeddings:
            self.output_layer = keras.layers.Dense(vocab_size, dtype="float32", name="logits")

    has_attention = True  # cross-attention weights for alignments (last block, heads averaged)

    def build(self, input_shape=None):
        if not self.embedding.built:
            self.embedding.build((None, None))
        self.position_encoding.build()
        for block in self.blocks:
            block.build()
        if self.final_norm is not None:
            self.final_norm.build((None, None, self.dim))
        if self.tie_embeddings:
            self.output_bias = self.add_weight(name="output_bias", shape=(self.vocab_size,),
                                               initializer="zeros", dtype="float32")
        else:
            self.output_layer.build((None, self.dim))
        self.built = True

    # ------------------------------------------------------------------ state and source
    def initial_state(self, batch_size, max_length: int) -> dict:
        """Empty caches for `max_length` steps: `{"position": batch, "keys"/"values": per block
        batch x max_length x dim}`. Every row holds the same position (rows advance together)."""
        zeros = ops.zeros((batch_size, max_length, self.dim), dtype=self.compute_dtype)
        return {"position": ops.zeros((batch_size,), dtype="int32"),
                "keys": [zeros for _ in self.blocks], "values": [zeros for _ in self.blocks]}

    def prepare_source(self, memory, mask):
        """`(keys and values of every block's cross-attention, mask)`: computed once per batch."""
        return [block.cross_attention.memory(memory) for block in self.blocks], mask

    def _embed(self, token_ids, positions=None):
        x = self.embedding(token_ids) * ops.cast(self.dim ** 0.5, self.compute_dtype)
        return self.position_encoding(x, positions)

    # ------------------------------------------------------------------ training pass
    def call(self, target_in, source, training=False):
        memories, mask = source
        x = self.drop(self._embed(target_in), training=training)  # batch x tgt_len x dim
        steps = ops.shape(target_in)[1]
        # Position i sees positions 0..i. Padding sits at the end, so it cannot reach real positions.
        causal = ops.reshape(ops.tril(ops.ones((steps, steps), dtype="bool")), (1, 1, steps, steps))
        source_mask = ops.reshape(mask, (ops.shape(mask)[0], 1, 1, -1))
        for block, memory in zip(self.blocks, memories):
            x, _ = block(x, causal, memory, source_mask, training=training)
        if self.final_norm is not None:
            x = self.final_norm(x)
        batch = ops.shape(x)[0]
        logits = self.logits(ops.reshape(x, (-1, self.dim)))  # one 2-D product (see `matmul_2d`)
        return ops.reshape(logits, (batch, steps, self.vocab_size))

    # ------------------------------------------------------------------ generation step
    def step(self, token_ids, state, source, output=None):
        """Advance one token: `token_ids` is `batch`.

        Returns `(logits batch x vocab, new state, weights batch x src_len)`; with `output` from
        `shortlist_output`, the logits cover the shortlist's words only.
        """
        memories, mask = source
        positions = state["position"]
        position = positions[0]  # the same for every row
        x = self._embed(token_ids, positions)  # batch x dim
        keys, values = [], []
        for block, memory, *cache in zip(self.blocks, memories, state["keys"], state["values"]):
            x, weights, (block_keys, block_values) = block.step(x, position, cache, memory, mask)
            keys.append(block_keys)
            values.append(block_values)
        if self.final_norm is not None:
            x = self.final_norm(x)
        new_state = {"position": positions + 1, "keys": keys, "values": values}
        return self.logits(x, output), new_state, ops.mean(weights, axis=1)

    # ------------------------------------------------------------------ output layer
    def logits(self, x, output=None):
        """`rows x dim` -> `rows x vocab` float32 (`rows x size` with a shortlist's `output`)."""
        if output is None and not self.tie_embeddings:
            return self.output_layer(x)
        kernel, bias = output if output is not None else self._output_weights()
        return matmul_2d(ops.cast(x, "float32"), ops.transpose(kernel)) + bias

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "dim": self.dim, "heads": self.heads,
                "hidden": self.hidden, "num_layers": self.num_layers, "dropout": self.dropout,
                "attention_dropout": self.attention_dropout, "pre_norm": self.pre_norm,
                "positions": self.positions, "max_positions": self.max_positions,
                "tie_embeddings": self.tie_embeddings}
