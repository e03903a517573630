"""The simulator as other people's test suites use it: context managers, fixtures, the README example."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest

from tui.server.scenario import ScenarioError
from tui.server.testing import RunningSimulator, background_simulator, realtime_simulator

pytest_plugins = ["pytester", "tui.pytest_plugin"]

README = Path(__file__).parent.parent / "README.md"
README_SECTION = "## Use the simulator in your own tests"


def readme_example() -> str:
    """The first python block of the README's section for test suites, verbatim."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(README_SECTION) :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README section has no python example"
    return match.group(1)


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A fresh pytest session in this process, like a user's suite (minus the snapshot plugin,
    whose module-level state the outer session owns)."""
    options = (
        "-p",
        "no:cacheprovider",
        "-p",
        "no:textual-snapshot",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    )
    return pytester.runpytest_inprocess(*options, *args)


def test_the_readme_example_is_about_ten_lines() -> None:
    code = [line for line in readme_example().splitlines() if line.strip()]
    assert len(code) <= 13


def test_the_readme_example_passes_in_a_fresh_pytest_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_readme_example=readme_example())
    result = run_inner(pytester)
    result.assert_outcomes(passed=1)


def test_the_plugin_loaded_by_name_and_by_pytest_plugins_registers_once(pytester: pytest.Pytester) -> None:
    # `-p tui.pytest_plugin` registers it under the same name as the pytest11 entry point would.
    pytester.makepyfile(test_readme_example=readme_example())
    result = run_inner(pytester, "-p", "tui.pytest_plugin")
    result.assert_outcomes(passed=1)


def test_options_fixture_configures_the_fixture_server(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest

pytest_plugins = ["tui.pytest_plugin"]


@pytest.fixture
def realtime_simulator_options():
    return {"api_key": "sk-right", "scenario": {"malformed": "no_type"}}
"""
    )
    pytester.makepyfile(
        """
import json

import openai
import pytest


def test_key_and_scenario(realtime_simulator_server, realtime_simulator_url):
    assert realtime_simulator_server.api_key == "sk-right"
    assert realtime_simulator_url == realtime_simulator_server.url
    wrong = openai.OpenAI(api_key="sk-wrong", websocket_base_url=realtime_simulator_server.base_url)
    with wrong.realtime.connect(model="gpt-realtime") as conn:
        assert conn.recv().error.code == "invalid_api_key"
    right = openai.OpenAI(api_key="sk-right", websocket_base_url=realtime_simulator_server.base_url)
    with right.realtime.connect(model="gpt-realtime") as conn:
        assert conn.recv().type == "session.created"
        assert "type" not in json.loads(conn.recv_bytes())
"""
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=1)


def test_fixture_url_serves_raw_websocket_clients(realtime_simulator_url: str) -> None:
    from websockets.sync.client import connect

    assert realtime_simulator_url.startswith("ws://127.0.0.1:") and realtime_simulator_url.endswith("/v1/realtime")
    with connect(realtime_simulator_url + "?model=gpt-realtime") as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "session.created"


# The warning comes from inside openai's sync client with websockets >= 14, not from the simulator.
@pytest.mark.filterwarnings("ignore:connect\\(\\) must be used as a context manager:DeprecationWarning")
def test_background_simulator_with_the_sync_official_client() -> None:
    with background_simulator(scenario={"session_seconds": 30}) as sim:
        assert sim.base_url == f"ws://127.0.0.1:{sim.port}/v1"
        client = openai.OpenAI(api_key="sk-test", websocket_base_url=sim.base_url)
        with client.realtime.connect(model="gpt-realtime") as conn:
            created = conn.recv()
    assert created.type == "session.created"


def test_a_bad_option_raises_in_the_callers_thread() -> None:
    with pytest.raises(ScenarioError, match="sim_nope|nope"):
        with background_simulator(scenario={"nope": 1}):
            pass  # pragma: no cover - never entered


async def test_async_context_manager_with_the_official_client_and_a_per_connection_scenario() -> None:
    async with realtime_simulator(api_key="sk-test") as sim:
        assert sim.url == f"ws://127.0.0.1:{sim.port}/v1/realtime"
        client = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=sim.base_url)
        query = sim.query(malformed="not_json", seed=3)
        assert query == {"sim_malformed": "not_json", "sim_seed": "3"}
        async with client.realtime.connect(model="gpt-realtime", extra_query=query) as conn:
            created = await conn.recv()
            broken = await conn.recv_bytes()
    assert created.type == "session.created"
    with pytest.raises(ValueError):
        json.loads(broken)


async def test_url_for_validates_and_encodes_the_scenario() -> None:
    async with realtime_simulator() as sim:
        url = sim.url_for(transcription="after_response", seed=7)
        with pytest.raises(ScenarioError):
            sim.url_for(transcripton="after_response")
    assert url == f"{sim.url}?model=gpt-realtime&sim_seed=7&sim_transcription=after_response"
    assert isinstance(sim, RunningSimulator)


def test_loading_the_plugin_costs_no_simulator_import() -> None:
    probe = "import sys, json, tui.pytest_plugin; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    loaded: set[Any] = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not {m for m in loaded if m.startswith(("tui.server", "textual", "numpy", "websockets"))}
