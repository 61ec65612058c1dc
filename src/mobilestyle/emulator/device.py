"""iPhone profiles: how long one frame of a model would take on each phone. Every figure is an estimate.

Basis. The one measured point is the project's reference: the default 3-block TransformerNet
(`mobilestyle inspect`: 48,043,376,640 MACs at 853x480, counted by `networks.counting`) ran at 15 fps,
about 66.7 ms a frame, on an A12 (iPhone XS). A model's latency on the A12 is estimated in proportion
to its MACs, and other chips divide that by their Neural Engine's throughput relative to the A12's,
from the figures Apple published at each chip's launch:

| chip | Neural Engine (Apple's launch figure) | relative to A12 |
|---|---|---|
| A12 Bionic (2018) | 8 cores, 5 trillion ops/s | 1.00 |
| A13 Bionic (2019) | 8 cores, "up to 20% faster" than the A12 | 1.20 |
| A14 Bionic (2020) | 16 cores, 11 TOPS | 2.20 |
| A15 Bionic (2021) | 16 cores, 15.8 TOPS | 3.16 |
| A16 Bionic (2022) | 16 cores, 17 TOPS | 3.40 |
| A17 Pro (2023) | 16 cores, 35 TOPS, quoted at int8; these models run in fp16, half that rate | 3.50 |
| A18, A18 Pro (2024) | 16 cores, 35 TOPS, quoted at int8; halved likewise | 3.50 |

Apple has published no Neural Engine figure for the A19 generation (2025), so it has no profile here:
measure the model in the app's HUD and pass `--device-latency-ms`. Linear scaling in MACs and in
peak throughput ignores fixed per-frame costs (the 1080p upsample, memory traffic, the Neural
Engine's dispatch), so treat these latencies as estimates; a figure read off the app's HUD beats them.
"""

from __future__ import annotations

from dataclasses import dataclass

from mobilestyle.errors import UserError

REFERENCE_MACS = 48_043_376_640
REFERENCE_LATENCY_MS = 1000 / 15
REFERENCE = "the 3-block net (48.0 GMAC at 853x480) at 15 fps (66.7 ms) on an A12"
MACS_KEY = "mobilestyle.macs"


@dataclass(frozen=True)
class Chip:
    name: str
    year: int
    neural_engine: str
    relative: float


CHIPS = {
    "A12": Chip("A12 Bionic", 2018, "8 cores, 5 trillion ops/s", 1.0),
    "A13": Chip("A13 Bionic", 2019, "8 cores, up to 20% faster than A12", 1.2),
    "A14": Chip("A14 Bionic", 2020, "16 cores, 11 TOPS", 11 / 5),
    "A15": Chip("A15 Bionic", 2021, "16 cores, 15.8 TOPS", 15.8 / 5),
    "A16": Chip("A16 Bionic", 2022, "16 cores, 17 TOPS", 17 / 5),
    "A17 Pro": Chip("A17 Pro", 2023, "16 cores, 35 int8 TOPS (17.5 at fp16)", 17.5 / 5),
    "A18": Chip("A18", 2024, "16 cores, 35 int8 TOPS (17.5 at fp16)", 17.5 / 5),
    "A18 Pro": Chip("A18 Pro", 2024, "16 cores, 35 int8 TOPS (17.5 at fp16)", 17.5 / 5),
}

DEVICES = {
    "iphone-xs": "A12", "iphone-xs-max": "A12", "iphone-xr": "A12",
    "iphone-11": "A13", "iphone-11-pro": "A13", "iphone-11-pro-max": "A13", "iphone-se-2": "A13",
    "iphone-12": "A14", "iphone-12-mini": "A14", "iphone-12-pro": "A14", "iphone-12-pro-max": "A14",
    "iphone-13": "A15", "iphone-13-mini": "A15", "iphone-13-pro": "A15", "iphone-13-pro-max": "A15",
    "iphone-14": "A15", "iphone-14-plus": "A15", "iphone-se-3": "A15",
    "iphone-14-pro": "A16", "iphone-14-pro-max": "A16", "iphone-15": "A16", "iphone-15-plus": "A16",
    "iphone-15-pro": "A17 Pro", "iphone-15-pro-max": "A17 Pro",
    "iphone-16": "A18", "iphone-16-plus": "A18", "iphone-16e": "A18",
    "iphone-16-pro": "A18 Pro", "iphone-16-pro-max": "A18 Pro",
}
DEFAULT_DEVICE = "iphone-xs"
CUSTOM_DEVICE = "custom"


@dataclass(frozen=True)
class DeviceTiming:
    """What one inference costs on the emulated phone."""

    device: str
    chip: str | None
    latency_ms: float
    estimated: bool
    basis: str

    @property
    def latency_s(self) -> float:
        return self.latency_ms / 1000

    @property
    def label(self) -> str:
        """One line for the HUD and the console: the device and its latency, marked as an estimate or given."""
        chip = f" ({self.chip})" if self.chip else ""
        kind = "estimate" if self.estimated else "given"
        return f"{self.device}{chip}: {self.latency_ms:.1f} ms/frame ({kind})"

    def as_dict(self) -> dict:
        return {"name": self.device, "chip": self.chip, "latency_ms": round(self.latency_ms, 3),
                "latency_is_estimate": self.estimated, "basis": self.basis}


def device_names() -> list[str]:
    return sorted(DEVICES, key=lambda name: (CHIPS[DEVICES[name]].year, name))


def estimate_latency_ms(macs: int, chip: str) -> float:
    """Estimated milliseconds per frame of a net with `macs` MACs on `chip` (see the module docstring)."""
    return REFERENCE_LATENCY_MS * macs / REFERENCE_MACS / CHIPS[chip].relative


def model_macs(metadata: dict) -> int | None:
    """The MACs per frame an exported model records (its `mobilestyle.macs` metadata), if any."""
    value = (metadata or {}).get("userDefined", {}).get(MACS_KEY)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def device_timing(device: str | None, latency_ms: float | None, macs: int | None, model_name: str) -> DeviceTiming:
    """The timing of `model_name` on `device` (default iPhone XS), or the `latency_ms` the user measured."""
    if device is not None and device not in DEVICES:
        raise UserError(f"unknown device {device!r}; known: {', '.join(device_names())} "
                        "(or measure the model in the app's HUD and pass --device-latency-ms MS)")
    if latency_ms is not None:
        if latency_ms <= 0:
            raise UserError(f"--device-latency-ms must be positive (got {latency_ms:g})")
        chip = CHIPS[DEVICES[device]].name if device is not None else None
        return DeviceTiming(device or CUSTOM_DEVICE, chip, float(latency_ms), False,
                            f"--device-latency-ms {latency_ms:g} (given, e.g. read off the app's HUD)")
    device = device or DEFAULT_DEVICE
    if macs is None:
        raise UserError(f"{model_name} does not record its MACs (it was not exported by mobilestyle), so its "
                        f"latency on {device} cannot be estimated: pass --device-latency-ms MS")
    chip = CHIPS[DEVICES[device]]
    latency = estimate_latency_ms(macs, DEVICES[device])
    basis = (f"estimate: {macs / 1e9:.2f} GMAC scaled from {REFERENCE}, divided by the {chip.name} Neural "
             f"Engine's throughput relative to the A12 ({chip.relative:.2f}x: {chip.neural_engine})")
    return DeviceTiming(device, chip.name, latency, True, basis)
