"""The ingest precision default: bfloat16 only on a CPU that multiplies it natively (encode.backbone)."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest
import torch

from lightretriever.encode.backbone import cpu_has_native_bf16, ingest_dtype


def cpu_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


@pytest.mark.skipif(platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"),
                    reason="reads the x86 flags of /proc/cpuinfo")
def test_native_bf16_matches_the_cpu_flags():
    assert cpu_has_native_bf16() == bool(cpu_flags() & {"avx512_bf16", "amx_tile"})


def test_ingest_dtype_is_bf16_only_on_a_native_cpu():
    expected = torch.bfloat16 if cpu_has_native_bf16() else None
    assert ingest_dtype(torch.device("cpu")) == expected
    assert ingest_dtype(torch.device("cuda")) is None  # the GPU keeps default_dtype's half precision
