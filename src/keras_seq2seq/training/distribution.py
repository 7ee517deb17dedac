"""Data-parallel training on several devices, through Keras' distribution API (JAX backend).

With `devices=N`, each training batch is cut into N equal slices of rows, one per device. Every
device holds a full copy of the weights and runs the forward and backward pass on its slice; the
gradients are summed across devices inside the compiled step, and each copy applies the same
optimizer update, so the copies never drift apart. We only *declare* this layout with
`keras.distribution.DataParallel`; Keras' JAX trainer shards the inputs, replicates the variables
and compiles one program for all devices (SPMD). There is no training loop of our own.

The loss of a step is the same function of the same batch as on one device. Only the order of
the floating-point sums changes (each device sums its own rows, then the partial sums are
added), so losses agree with a one-device run to rounding, not bit for bit.

Keras lays a variable out on the devices when the variable is created, so the distribution has
to be active before the model and optimizer exist. A bundle arrives here with a model made on one
device (by the builder, by loading a model directory or a training checkpoint); `data_parallel`
rebuilds that model inside the distribution's scope and copies every variable into it. The copy
also means one seed gives the same initial weights with any number of devices.

On one CPU, XLA can pretend to have several devices; the flag must be set before JAX starts:

    XLA_FLAGS=--xla_force_host_platform_device_count=2 seq2seq train --task dates --devices 2 --out runs/dp
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import keras

from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.errors import ConfigError

VIRTUAL_DEVICES_FLAG = "XLA_FLAGS=--xla_force_host_platform_device_count"


def choose_devices(devices: int, batch_size: int) -> list[str]:
    """The first `devices` devices Keras sees (e.g. `["gpu:0", "gpu:1"]`), once it is clear
    that `devices` of them can split batches of `batch_size` rows; `ConfigError` otherwise."""
    backend = keras.backend.backend()
    if backend != "jax":
        raise ConfigError(f"--devices {devices}: data-parallel training needs the JAX backend "
                          f"(KERAS_BACKEND=jax); this run uses {backend}")
    if batch_size % devices:
        raise ConfigError(f"--devices {devices}: each batch is split evenly across the devices, so the "
                          f"batch size must be a multiple of {devices}; got --batch-size {batch_size}")
    found = keras.distribution.list_devices()
    if devices > len(found):
        kind = found[0].split(":")[0] if found else "device"
        raise ConfigError(
            f"--devices {devices}: JAX sees only {len(found)} {kind} device(s) ({', '.join(found)}); "
            f"ask for at most {len(found)}, or, on a CPU, set {VIRTUAL_DEVICES_FLAG}={devices} in the "
            f"environment before starting, for {devices} virtual CPU devices")
    return found[:devices]


@contextlib.contextmanager
def data_parallel(bundle: ModelBundle) -> Iterator[keras.distribution.Distribution | None]:
    """Train `bundle`'s model on `bundle.settings.train.devices` devices within this block.

    With one device this does nothing (yields None). With more, it checks the devices, makes a
    `DataParallel` distribution current, replaces `bundle.model` by a copy built inside it
    (same weights; the optimizer comes later, with `compile`), and yields the distribution.
    Fitting, dev evaluation and saving inside the block run on all the devices; the
    distribution is unset when the block ends, and the model stays replicated (generation
    outside the block still works: it runs the same program on every device).
    """
    settings = bundle.settings.train
    if settings.devices == 1:
        yield None
        return
    devices = choose_devices(settings.devices, settings.batch_size)
    distribution = keras.distribution.DataParallel(devices=devices)
    with distribution.scope():
        bundle.model = rebuilt(bundle.model)  # generators made before this block hold the old model
        yield distribution


def rebuilt(model: keras.Model) -> keras.Model:
    """A new model of the same class and config, built where variables are created now (inside a
    distribution's scope: laid out on its devices), holding `model`'s values: weights and the
    dropout seed states (`model.variables`; the optimizer is compiled later, in the scope)."""
    copy = model.__class__.from_config(model.get_config())
    copy.build()
    if [tuple(v.shape) for v in copy.variables] != [tuple(v.shape) for v in model.variables]:
        # Only a layer that creates variables after build() could cause this: a bug, not a user error.
        raise RuntimeError(f"cannot copy the {model.name} model onto the devices: the variables of "
                           f"its rebuilt copy differ from the original's")
    for target, source in zip(copy.variables, model.variables):
        target.assign(keras.ops.convert_to_numpy(source))
    return copy
