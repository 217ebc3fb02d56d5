"""Native libraries' start-up notes are dropped from standard error; their warnings, errors and anything else stay."""

from __future__ import annotations

import os
import subprocess
import sys

from soundmind.native_output import native_start_up_notes_dropped, without_start_up_notes

NOTES = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796419479.369882   14979 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders.\n"
    "I0000 00:00:1796419479.407836   14979 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.\n"
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the "
    "appropriate compiler flags.\n"
)
PROBLEMS = (
    "W0000 00:00:1796419479.5   14979 cuda_executor.cc:1] could not open the device\n"
    "E0000 00:00:1796419481.7   14979 node_def_util.cc:682] NodeDef mentions attribute use_unbounded_threadpool\n"
    "Traceback (most recent call last):\n"
)


def test_only_the_informational_start_up_notes_are_dropped():
    assert without_start_up_notes(NOTES) == ""
    assert without_start_up_notes(NOTES + PROBLEMS) == PROBLEMS
    assert without_start_up_notes("I told you so\n") == "I told you so\n"


def test_what_native_code_writes_meanwhile_reaches_stderr_without_the_notes(capfd):
    with native_start_up_notes_dropped():
        os.write(2, (NOTES + PROBLEMS).encode())
    assert capfd.readouterr().err == PROBLEMS


def test_an_error_inside_still_restores_stderr_and_passes_on_what_was_written(capfd):
    try:
        with native_start_up_notes_dropped():
            os.write(2, b"E0000 00:00:1.0 1 loader.cc:9] cannot load\n")
            raise ImportError("no such library")
    except ImportError:
        pass
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "E0000 00:00:1.0 1 loader.cc:9] cannot load\nafter\n"


def test_loading_keras_through_the_package_prints_nothing():
    loaded = subprocess.run([sys.executable, "-c", "import soundmind.models.keras_backend"], capture_output=True,
                            text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stderr == ""
