"""Importing TensorFlow without its start-up chatter on stderr.

TensorFlow's C++ libraries print oneDNN and CUDA-probe notices while loading,
before TF_CPP_MIN_LOG_LEVEL is honoured, and log notices later (some at
ERROR level) unless it is 3. The command line promises "nothing
but results on stdout, and one-line errors on stderr", so the import runs with
file descriptor 2 sent to a temporary file, replayed only if the import fails.
"""

from __future__ import annotations

import os
import sys
import tempfile


def import_tensorflow():
    """Imports TensorFlow (and probes devices) with native stderr captured.

    Returns:
        The tensorflow module.
    """
    # 3, not 2: TensorFlow also logs harmless notices at ERROR level (the oneDNN
    # int32 fallback, at the first adversarial step on many CPUs); real failures
    # reach the user as Python exceptions with their message. A user who wants
    # TensorFlow's own log sets the variable (e.g. TF_CPP_MIN_LOG_LEVEL=0).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            # The CUDA probe prints on first device use; do it while captured.
            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return tf
