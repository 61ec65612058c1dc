"""mobilestyle: live artistic video filters for iPhone."""

import logging
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TQDM_DISABLE", "1")  # coremltools' converter progress bars; we show our own
logging.getLogger("coremltools").setLevel(logging.ERROR)

__version__ = "0.1.0"
