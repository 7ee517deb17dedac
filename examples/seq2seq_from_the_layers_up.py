"""
Title: Sequence to sequence from the layers up
Author: the keras-seq2seq developers
Description: Build, train and decode an RNN encoder-decoder with the library's Keras layers.

## Introduction

`Translator` hides everything below in three lines. This example opens it up: we turn text into
ids, build a `Seq2Seq` model out of its encoder and decoder layers, train it with teacher forcing
and a masked loss, and then generate with the same layers, one token at a time, inside one
compiled loop.

The task is a built-in one that needs no download: dates written in many ways
("3rd of March, 2021", "03/03/21", "2021年3月3日") become ISO dates ("2021-03-03"), one
character at a time.

Run it with `python examples/seq2seq_from_the_layers_up.py` (about two minutes on two CPU cores;
`EXAMPLE_QUICK=1` makes a smaller, faster run, which is what the test suite does).
"""

"""
## Setup

Keras 3 runs on JAX, torch or TensorFlow, and a program chooses which before it first imports
Keras (importing keras-seq2seq chooses nothing). We take JAX unless `KERAS_BACKEND` says
otherwise; everything below is written with `keras.ops`, so any backend works.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np

from keras_seq2seq import task_splits
from keras_seq2seq.data.batching import TrainingBatches, pad, padded_length
from keras_seq2seq.metrics import exact_match
from keras_seq2seq.models import MaskedAccuracy, MaskedCrossEntropy, Seq2Seq
from keras_seq2seq.search.greedy import greedy_search
from keras_seq2seq.text.tokenizers import CharTokenizer
from keras_seq2seq.text.vocabulary import Vocabulary

QUICK = os.environ.get("EXAMPLE_QUICK") == "1"
keras.utils.set_random_seed(0)

"""
## The data

`task_splits` generates seeded (source, target) pairs and splits them three ways.
"""

splits = task_splits("dates", train=2000 if QUICK else 16000, dev=200, test=200, seed=0)
for pair in splits["train"][:3]:
    print(f"{pair.source!r:32} → {pair.target!r}")

"""
## Text to ids

A tokenizer cuts text into tokens (here characters); a vocabulary maps tokens to ids. Ids 0–3
are reserved in every vocabulary: `<pad>`, `<unk>`, `<bos>` (start of output) and `<eos>` (end).
Targets end with `<eos>`, so the model learns when to stop.
"""

tokenizer = CharTokenizer()
source_vocab = Vocabulary.build(tokenizer.tokenize(p.source) for p in splits["train"])
target_vocab = Vocabulary.build(tokenizer.tokenize(p.target) for p in splits["train"])
print(f"vocabularies: {len(source_vocab)} source and {len(target_vocab)} target tokens")


def encode(pairs):
    sources = [np.array(source_vocab.encode(tokenizer.tokenize(p.source)), np.int32) for p in pairs]
    targets = [np.array(target_vocab.encode(tokenizer.tokenize(p.target), add_eos=True), np.int32)
               for p in pairs]
    return sources, targets


"""
`TrainingBatches` groups sentences of similar length and pads each batch to a multiple of 8,
so there is little padding and only a few distinct shapes (each shape is compiled once). Each
item is `((source, target_in), target_out)`: `target_in` is the target shifted right behind
`<bos>`, which is what teacher forcing feeds the decoder.
"""

train_batches = TrainingBatches(*encode(splits["train"]), batch_size=64, seed=0)
dev_batches = TrainingBatches(*encode(splits["dev"]), batch_size=64, shuffle=False)
(source, target_in), target_out = train_batches[0]
print("one batch:", source.shape, target_in.shape, target_out.shape)

"""
## The model

`Seq2Seq` joins an `Encoder` (embedding, then LSTM or GRU layers; its final states are the
context) and a `Decoder` (embedding, LSTM layers started from that context, optionally attention
over every encoder position, and the output layer). Called on `(source, target_in)` it returns
logits for every target position: the teacher-forced pass that `fit` uses.
"""

model = Seq2Seq(len(source_vocab), len(target_vocab), embedding_dim=32,
                units=64 if QUICK else 128, attention="luong-general")
model.build()
print(f"{model.count_params():,} parameters")

"""
## Training

The loss is a cross-entropy over real target tokens only: padding never counts
(`MaskedCrossEntropy`), and `MaskedAccuracy` likewise. Adam with gradient-norm clipping.
"""

model.compile(optimizer=keras.optimizers.Adam(5e-3, global_clipnorm=1.0),
              loss=MaskedCrossEntropy(), metrics=[MaskedAccuracy()])
model.fit(train_batches, validation_data=dev_batches, epochs=2 if QUICK else 8, verbose=2)

"""
## Generation

Generation reuses the trained layers: `model.encode` runs the encoder once, and
`model.decode_step` advances the decoder by one token. `greedy_search` runs those steps in one
`ops.while_loop` for a whole batch, feeding each step's most likely token to the next, until
every sentence has emitted `<eos>` or the length limit is reached. Wrapping it in `jax.jit`
(or, backend-neutral, in a `keras.Model`'s `predict_on_batch`) compiles the whole loop; here we
call it eagerly, which is simpler and fine for a demo.
"""


def translate(texts, max_length=16):
    encoded = [source_vocab.encode(tokenizer.tokenize(t)) for t in texts]
    source_ids = pad(encoded, padded_length(max(len(e) for e in encoded), 8))
    ids, _scores = greedy_search(model, source_ids, max_length)
    return [tokenizer.detokenize(target_vocab.decode(row)) for row in keras.ops.convert_to_numpy(ids)]


test = splits["test"]
outputs = translate([p.source for p in test])
for pair, output in list(zip(test, outputs))[:5]:
    print(f"{pair.source!r:32} → {output!r:14} (reference {pair.target!r})")
score = exact_match(outputs, [p.target for p in test])
print(f"exact match on {len(test)} test dates: {score:.3f}")

"""
## What next

- `Translator` (`keras_seq2seq.translator`) does all of the above, saves the model directory
  and compiles generation; `seq2seq train` is its command line.
- Beam search: `keras_seq2seq.search.beam.beam_search(model, source_ids, max_length, beam_size)`.
- Attention kinds: `"bahdanau"`, `"luong-dot"`, `"luong-general"`, or `"none"` for the plain
  encoder-decoder of Sutskever et al. (2014).
"""
