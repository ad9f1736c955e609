"""The README's two commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh|console)\n(.*?)```", text, flags=re.S)
    return [block.strip() for block in blocks[:2]]


def test_ci_runs_the_readme_commands_verbatim():
    ci_lines = {
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    install, tests = _readme_commands()
    assert install in ci_lines
    assert tests in ci_lines


def test_install_command_takes_the_cpu_torch_first():
    install, _ = _readme_commands()
    assert install.startswith("pip install torch==2.13.0 && ")
