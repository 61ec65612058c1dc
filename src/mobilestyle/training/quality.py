"""How much a student looks like its teacher, measured the way a person would see it.

Pixel PSNR cannot see style: a teacher's strokes sit on its stride grid, so its own output for an
input moved by 2 px scores 16.9 dB against the unmoved one (la_muse), while a blurred copy scores
higher. So a student is judged in parts, each beside the same figure for the teacher against itself:

- structure: PSNR after a Gaussian blur of both images (sigma 3 px): colours and layout;
- texture: relative Gram distance, the sum over VGG19 relu1_2, relu2_2 and relu3_4 of
  ||G_student - G_teacher||_F / ||G_teacher||_F with G = F^T F / (H W C);
- detail ratio: mean |I - blur_sigma1.5(I)| of the student over that of the teacher (below 1: blurrier);
- borders: how far the mean colour of the outer 8-px frame departs from the next 16 px inward
  (mean over the four sides and the channels, 0..255): coloured bands along the edges show here;
- PSNR and SSIM, for continuity with earlier reports.

Images are uint8 RGB (H, W, 3). `shift_frame` / `unshift_frame` make the calibration row "the
teacher against itself on a 2-px-shifted input".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
import tensorflow as tf
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from mobilestyle.training.losses import gram_matrix
from mobilestyle.training.vgg import LossNetwork

STRUCTURE_SIGMA = 3.0
DETAIL_SIGMA = 1.5
BORDER_OUTER = 8
BORDER_INNER = 16
MAX_PSNR = 100.0
CALIBRATION_SHIFT = 2
CALIBRATION_BLUR_SIGMA = 2.0
# Pixels left out at each side when comparing a shifted rendering with an unshifted one.
SHIFT_MARGIN = 8


@dataclass
class Scores:
    """One image against its reference (a student frame against the teacher's, say)."""

    structure_psnr: float
    gram_distance: float | None
    detail_ratio: float
    border: float
    reference_border: float
    psnr: float
    ssim: float

    def as_dict(self) -> dict:
        return {key: (None if value is None else round(float(value), 4)) for key, value in asdict(self).items()}


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur in float32 (edges reflected, like the networks' own padding)."""
    return cv2.GaussianBlur(image.astype(np.float32), (0, 0), sigmaX=sigma, sigmaY=sigma,
                            borderType=cv2.BORDER_REFLECT_101)


def psnr(reference: np.ndarray, image: np.ndarray) -> float:
    reference, image = np.asarray(reference, np.float64), np.asarray(image, np.float64)
    if np.array_equal(reference, image):
        return MAX_PSNR
    return float(min(MAX_PSNR, peak_signal_noise_ratio(reference, image, data_range=255)))


def ssim(reference: np.ndarray, image: np.ndarray) -> float:
    return float(structural_similarity(reference, image, channel_axis=-1, data_range=255))


def structure_psnr(reference: np.ndarray, image: np.ndarray, sigma: float = STRUCTURE_SIGMA) -> float:
    return psnr(blur(reference, sigma), blur(image, sigma))


def detail(image: np.ndarray, sigma: float = DETAIL_SIGMA) -> float:
    """Mean |I - blur(I)| over pixels and channels (0..255): how much fine detail the image has."""
    return float(np.mean(np.abs(image.astype(np.float32) - blur(image, sigma))))


def border_departure(image: np.ndarray, outer: int = BORDER_OUTER, inner: int = BORDER_INNER) -> float:
    """Mean over the four sides and channels of |mean colour of the outer band - of the next band inward|."""
    image = image.astype(np.float64)
    sides = [(image[:outer], image[outer:outer + inner]),
             (image[-outer:], image[-outer - inner:-outer]),
             (image[:, :outer], image[:, outer:outer + inner]),
             (image[:, -outer:], image[:, -outer - inner:-outer])]
    return float(np.mean([np.abs(band.mean(axis=(0, 1)) - nearby.mean(axis=(0, 1))) for band, nearby in sides]))


def grams(network: LossNetwork, image: np.ndarray) -> dict[str, np.ndarray]:
    features = network(tf.convert_to_tensor(image, tf.float32)[None])
    return {name: gram_matrix(features[name])[0].numpy() for name in network.style_layers}


def gram_distance(reference: dict[str, np.ndarray], image: dict[str, np.ndarray]) -> float:
    """Sum over layers of ||G - G_reference||_F / ||G_reference||_F."""
    return float(sum(np.linalg.norm(image[name] - target) / (np.linalg.norm(target) + 1e-12)
                     for name, target in reference.items()))


def score(reference: np.ndarray, image: np.ndarray, network: LossNetwork | None = None,
          reference_grams: dict[str, np.ndarray] | None = None) -> Scores:
    """Every measure of `image` against `reference`; the Gram distance only with a loss network."""
    distance = None
    if network is not None:
        reference_grams = reference_grams if reference_grams is not None else grams(network, reference)
        distance = gram_distance(reference_grams, grams(network, image))
    reference_detail = detail(reference)
    return Scores(
        structure_psnr=structure_psnr(reference, image),
        gram_distance=distance,
        detail_ratio=detail(image) / reference_detail if reference_detail > 0 else float("nan"),
        border=border_departure(image),
        reference_border=border_departure(reference),
        psnr=psnr(reference, image),
        ssim=ssim(reference, image),
    )


def mean_scores(scores: list[Scores]) -> dict:
    """The mean of each measure over images (None where a measure was not taken)."""
    means = {}
    for key in asdict(scores[0]):
        values = [getattr(item, key) for item in scores]
        means[key] = None if any(v is None for v in values) else round(float(np.mean(values)), 4)
    return means


def shift_frame(image: np.ndarray, shift: int = CALIBRATION_SHIFT) -> np.ndarray:
    """The frame moved `shift` px right and down (the edge reflected into the gap)."""
    padded = np.pad(image, ((shift, 0), (shift, 0), (0, 0)), mode="reflect")
    return padded[: image.shape[0], : image.shape[1]]


def interior(image: np.ndarray, margin: int = SHIFT_MARGIN) -> np.ndarray:
    return image[margin:-margin, margin:-margin]


def unshift_frame(image: np.ndarray, shift: int = CALIBRATION_SHIFT) -> np.ndarray:
    """Undo `shift_frame` on a rendering (the last `shift` rows and columns repeat the edge)."""
    padded = np.pad(image, ((0, shift), (0, shift), (0, 0)), mode="edge")
    return padded[shift:, shift:]
