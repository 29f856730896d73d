"""`embedfin tenants create` and `embedfin serve` as a newcomer runs them, with the README's
API example executed against the real server process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.api.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_serve_runs_the_readme_api_example(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    cli = [sys.executable, "-m", "embedfin.cli"]
    created = subprocess.run(
        [*cli, "tenants", "create", "Acme Market", "--db", url, "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    tenant = json.loads(created.stdout)
    assert tenant["secret"].startswith("efk_")
    port = free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--db", url, "--port", str(port), "--log-level", "warning"],
        cwd=tmp_path,
        env=os.environ | {"EMBEDFIN_API_WORKER": "0"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "embedfin serve exited"
            assert time.monotonic() < deadline, "embedfin serve did not start"
            time.sleep(0.1)
        assert "swagger" in httpx.get(f"{base}/docs").text.lower()
        assert httpx.get(f"{base}/openapi.json").json()["openapi"].startswith("3.1")
        readme = (ROOT / "README.md").read_text()
        block = re.search(r"## Open API.*?```python\n(.*?)```", readme, re.S)
        assert block is not None
        code = block.group(1).replace("http://127.0.0.1:8000", base)
        scope: dict[str, object] = {"KEY": tenant["secret"]}
        exec(compile(code, "README.md", "exec"), scope)
        order = scope["order"]
        final = httpx.get(
            f"{base}/v1/orders/{order.id}",  # type: ignore[attr-defined]
            headers={"Authorization": f"Bearer {tenant['secret']}"},
        ).json()
        assert final["status"] == "completed"
        assert final["amount_released"] + final["commission"] == 2_500
        metrics = httpx.get(f"{base}/metrics").text
        assert 'embedfin_payments_total{outcome="succeeded"} 1.0' in metrics
    finally:
        server.terminate()
        server.wait(timeout=30)
    verified = subprocess.run(
        [*cli, "audit", "verify", "--db", url], capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
