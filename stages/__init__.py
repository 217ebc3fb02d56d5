"""The pipeline's stage scripts (`python -m stages.<name>`).

Importing this package pins the CPU code paths of the numerical libraries before any of them loads
(Python imports ``stages`` before ``stages.<name>``, and joblib's and Dask's local workers inherit
the environment). On another x86-64 CPU, OpenBLAS picks another matrix kernel and numpy another
``log10`` for AVX-512: measured on an AVX-512 Xeon against the AVX2 EPYC that made the committed
run, 38% of the 392-value features then differ in their last float32 bits; with these settings all
were bit-identical. It deliberately imports nothing of ``soundmind``, whose import loads numpy.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

# The paths an AVX2 x86-64 CPU takes anyway: on one, these settings change nothing.
PORTABLE_MATH = {
    "OPENBLAS_CORETYPE": "Haswell",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4,AVX512_ICL,AVX512_SPR",
    # TensorFlow's oneDNN kernels, capped the same way (not checked on a second CPU: see docs/reliability.md).
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}
OPT_OUT = "SOUNDMIND_NATIVE_MATH"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    if not cpuinfo.is_file():
        return set()
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def portable_math_settings(machine: str, flags: set[str], environ: dict[str, str]) -> dict[str, str]:
    """The variables to add to ``environ``: none on a CPU that cannot run the AVX2 paths (other
    architectures, old x86), none when ``SOUNDMIND_NATIVE_MATH=1`` asks for the fastest paths, and
    never one the user already set."""
    if environ.get(OPT_OUT) == "1" or machine.lower() not in ("x86_64", "amd64") or not {"avx2", "fma"} <= flags:
        return {}
    return {name: value for name, value in PORTABLE_MATH.items() if name not in environ}


os.environ.update(portable_math_settings(platform.machine(), cpu_flags(), dict(os.environ)))
