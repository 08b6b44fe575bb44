"""The committed gRPC code (Sources/VetoGRPC/Generated) is what Scripts/generate-grpc makes of the
protos in Sources/VetoGRPC/Protos. The protoc plugins are not built by Scripts/test (their first build
takes minutes), so the test skips, saying why, when protoc or a plugin is missing; build them with
`Scripts/generate-grpc --build-plugins`."""
import subprocess

import pytest

from conftest import ROOT


def test_generated_grpc_code_matches_the_protos():
    run = subprocess.run([str(ROOT / "Scripts/generate-grpc"), "--check"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if run.returncode == 3:
        reason = f"cannot regenerate the gRPC code here: {run.stderr.strip()}"
        print(reason)
        pytest.skip(reason)
    assert run.returncode == 0, f"Sources/VetoGRPC/Generated drifted from the protos:\n{run.stderr[-4000:]}"
