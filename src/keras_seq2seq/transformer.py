"""The Transformer encoder-decoder (Vaswani et al., 2017) on the same rails as the RNN model.

`Transformer` is a Keras model with the interface the rest of the toolkit speaks (`models.py`
has the recurrent `Seq2Seq`): `call` is the teacher-forced pass `fit` trains, and `encode` /
`decode_step` / `decoder.has_attention` / `decoder.shortlist_output` are what the compiled
searches in `search/` use, so greedy, beam, n-best, sampling, shortlists, n-gram blocking and
the shedding of finished sentences work for it unchanged. The one thing it needs that the RNN
does not is the length of the search: its decoder state is a key/value cache of that many
positions, allocated once (`encode(..., max_length=N)`).

Which model a run builds is decided in one place, `architectures.py`.
"""

from __future__ import annotations

import keras

from keras_seq2seq.layers.transformer_decoder import TransformerDecoder
from keras_seq2seq.layers.transformer_encoder import TransformerEncoder
from keras_seq2seq.shapes import TracedShapes


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class Transformer(TracedShapes, keras.Model):
    """A Transformer encoder-decoder.

    Args:
        source_vocab_size, target_vocab_size: vocabulary sizes (id 0 is padding in both).
        units: the model size (d_model): embeddings, attention and block outputs.
        num_layers: encoder blocks; `decoder_layers`: decoder blocks (0: as many as the encoder).
        heads: attention heads (`units` must be a multiple).
        ffn_dim: the feed-forward inner size (0: 4 x units).
        dropout: on embeddings and sublayer outputs; `attention_dropout`: on attention weights.
        pre_norm: layer normalisation before each sublayer (True) or after each residual (False).
        positions: `"sinusoidal"` or `"learnt"`; `max_positions`: how many learnt ones.
        share_embeddings: one embedding matrix for source and target (a joint vocabulary:
            the two sizes must be equal).
        tie_embeddings: the output layer is the target embedding matrix, transposed.

    Call arguments:
        inputs: `(source_ids, target_in)`, both int `batch x len`, 0-padded; `target_in` is the
            target shifted right with `<bos>` first.

    Returns logits `batch x tgt_len x target_vocab_size`.

    Examples:
    >>> from keras import ops
    >>> model = Transformer(40, 30, units=32, num_layers=2, heads=4)
    >>> logits = model((ops.ones((2, 7), "int32"), ops.ones((2, 5), "int32")))
    >>> tuple(logits.shape)
    (2, 5, 30)
    """

    # Beam search prunes its hypotheses by length-normalised scores (OpenNMT-py's rule; the
    # recurrent model keeps raw-sum pruning, see search/beam.py).
    prunes_by_normalised_scores = True

    def __init__(self, source_vocab_size: int, target_vocab_size: int, units: int = 512, num_layers: int = 6,
                 heads: int = 8, ffn_dim: int = 0, decoder_layers: int = 0, dropout: float = 0.1,
                 attention_dropout: float = 0.1, pre_norm: bool = True, positions: str = "sinusoidal",
                 max_positions: int = 1024, share_embeddings: bool = False, tie_embeddings: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if share_embeddings and source_vocab_size != target_vocab_size:
            raise ValueError(f"shared embeddings need one joint vocabulary; the source has {source_vocab_size} "
                             f"tokens and the target {target_vocab_size}")
        self.source_vocab_size = source_vocab_size
        self.target_vocab_size = target_vocab_size
        self.units = units
        self.num_layers = num_layers
        self.heads = heads
        self.ffn_dim = ffn_dim
        self.decoder_layers = decoder_layers
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.pre_norm = pre_norm
        self.positions = positions
        self.max_positions = max_positions
        self.share_embeddings = share_embeddings
        self.tie_embeddings = tie_embeddings
        shared = dict(dim=units, heads=heads, hidden=ffn_dim or 4 * units, dropout=dropout,
                      attention_dropout=attention_dropout, pre_norm=pre_norm, positions=positions,
                      max_positions=max_positions, dtype=self.dtype_policy)
        self.encoder = TransformerEncoder(source_vocab_size, num_layers=num_layers, name="encoder", **shared)
        self.decoder = TransformerDecoder(
            target_vocab_size, num_layers=decoder_layers or num_layers, tie_embeddings=tie_embeddings,
            embedding=self.encoder.embedding if share_embeddings else None, name="decoder", **shared)

    def build(self, input_shape=None):
        self.encoder.build()
        self.decoder.build()
        self.built = True

    def call(self, inputs, training=False):
        source_ids, target_in = inputs
        memory, mask = self.encoder(source_ids, training=training)
        return self.decoder(target_in, self.decoder.prepare_source(memory, mask), training=training)

    def encode(self, source_ids, max_length: int | None = None, training=False):
        """`(decoder state for a search of max_length steps, source)`: empty key/value caches,
        and every decoder block's keys and values of the encoded source."""
        if max_length is None:
            raise ValueError("the Transformer's decoder state is a cache of the search's length: "
                             "call encode(source_ids, max_length=N)")
        memory, mask = self.encoder(source_ids, training=training)
        state = self.decoder.initial_state(keras.ops.shape(source_ids)[0], max_length)
        return state, self.decoder.prepare_source(memory, mask)

    def decode_step(self, token_ids, state, source, output=None):
        """One-step decoder: `(logits batch x vocab, new state, attention weights batch x src_len)`;
        with `output` from `decoder.shortlist_output`, the logits cover the shortlist only."""
        return self.decoder.step(token_ids, state, source, output)

    def get_config(self):
        return {
            **super().get_config(),
            "source_vocab_size": self.source_vocab_size,
            "target_vocab_size": self.target_vocab_size,
            "units": self.units,
            "num_layers": self.num_layers,
            "heads": self.heads,
            "ffn_dim": self.ffn_dim,
            "decoder_layers": self.decoder_layers,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "pre_norm": self.pre_norm,
            "positions": self.positions,
            "max_positions": self.max_positions,
            "share_embeddings": self.share_embeddings,
            "tie_embeddings": self.tie_embeddings,
        }
