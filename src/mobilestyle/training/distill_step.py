"""The train step of `distill`: one Adam step of the student on (content, teacher) crops."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import tensorflow as tf

from mobilestyle.training.distribute import Distribution
from mobilestyle.training.losses import content_loss, gram_loss, lowpass_pixel_loss, shrink, total_variation_loss
from mobilestyle.training.stability import add_stability_term, replica_noise_step, stability_loss
from mobilestyle.training.vgg import CONTENT_LAYER, LossNetwork

if TYPE_CHECKING:
    from mobilestyle.training.distill import DistillConfig

ENERGY_EPSILON = 1e-8  # losses.content_loss adds it to the target features' energy


def make_train_step(student: keras.Model, optimizer, loss_net: LossNetwork | None, config: DistillConfig,
                    batch_statistics: bool = True, distribution: Distribution | None = None):
    """One Adam step on a global batch of (content, teacher) crops; returns the weighted total and the terms.

    The losses (the loss network's passes, most of the work) are XLA clusters; the student runs
    outside them, because XLA on CPU has no kernel for the gradient of nearest-neighbour resizing.
    Batch norms normalize by the batch (and update their averages) or by their fixed statistics. On R
    replicas each computes the loss of its crops with the feature errors normalised by the global
    batch's feature energy (an all-reduce) and backpropagates 1/R of it; the optimizer sums the
    replicas' gradients: the gradient of the global batch's loss.
    """
    strategy = distribution.strategy if distribution else tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    mean = tf.distribute.ReduceOp.MEAN
    weights = config.loss_weights()
    feature_layers = tuple(dict.fromkeys((CONTENT_LAYER, loss_net.style_layers[-1]))) if loss_net else ()

    @tf.function(jit_compile=True)
    def target_features_and_energy(target):
        features = loss_net(target)
        return features, {layer: tf.reduce_mean(tf.square(features[layer])) for layer in feature_layers}

    @tf.function(jit_compile=True)
    def loss_and_gradient(produced, target, target_features, feature_scales):
        with tf.GradientTape() as tape:
            tape.watch(produced)
            terms = {}
            if "pixel" in weights:
                terms["pixel"] = tf.reduce_mean(tf.square((produced - target) / 255.0))
            if "lowpass" in weights:
                terms["lowpass"] = lowpass_pixel_loss(produced, target, config.lowpass_sigma)
            if loss_net is not None:
                features = loss_net(produced)
                if "feature" in weights:  # losses.feature_loss, each layer normalised by the global batch's energy
                    terms["feature"] = tf.add_n([content_loss(features, target_features, layer) * feature_scales[layer]
                                                 for layer in feature_layers])
                if "gram" in weights:
                    terms["gram"] = gram_loss(features, target_features, loss_net.style_layers)
                if "coarse_gram" in weights:  # the same Gram error on frames shrunk: stroke layout, not surface
                    factor = config.coarse_gram_shrink
                    terms["coarse_gram"] = gram_loss(loss_net(shrink(produced, factor)),
                                                     loss_net(shrink(target, factor)), loss_net.style_layers)
            if "tv" in weights:
                terms["tv"] = total_variation_loss(produced)
            total = tf.add_n([weights[name] * value for name, value in terms.items()])
            share = total / replicas
        return total, terms, tape.gradient(share, produced)

    def replica_step(content, target):
        context = tf.distribute.get_replica_context()
        target_features, feature_scales = None, None
        if loss_net is not None:
            target_features, energies = target_features_and_energy(target)
            feature_scales = {layer: (energy + ENERGY_EPSILON) / (context.all_reduce(mean, energy) + ENERGY_EPSILON)
                              for layer, energy in energies.items()}
        with tf.GradientTape(persistent=config.stability_weight > 0) as tape:
            produced = student(content, training=batch_statistics)
            if config.stability_weight:
                stability = stability_loss(student, content, produced, config.stability_shift,
                                           config.stability_noise, config.seed,
                                           replica_noise_step(optimizer.iterations, replicas),
                                           training=batch_statistics, move_step=optimizer.iterations)
        total, terms, produced_gradient = loss_and_gradient(produced, target, target_features, feature_scales)
        gradients = tape.gradient(produced, student.trainable_variables, output_gradients=produced_gradient)
        if config.stability_weight:
            gradients, total, terms = add_stability_term(tape, gradients, student.trainable_variables,
                                                         config.stability_weight, stability, replicas, total, terms)
        optimizer.apply(gradients, student.trainable_variables)
        return total, terms

    @tf.function
    def train_step(content, target):
        total, terms = strategy.run(replica_step, args=(content, target))
        return (strategy.reduce(mean, total, axis=None),
                {key: strategy.reduce(mean, value, axis=None) for key, value in terms.items()})

    return train_step
