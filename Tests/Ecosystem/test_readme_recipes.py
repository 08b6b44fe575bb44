"""The README's gateway recipes are the files in Docker/ that the gateway tests run: every YAML block
under "Gateway recipes" that names a Docker/ file appears in that file line for line (leading blanks
aside, so an excerpt may be dedented)."""
import re

import pytest

from conftest import ROOT

SECTION = re.compile(r"^## Gateway recipes\n(.*?)^## ", re.S | re.M)
HEADING = re.compile(r"^### .*$", re.M)


def recipe_blocks():
    section = SECTION.search((ROOT / "README.md").read_text()).group(1)
    blocks = []
    for part in HEADING.split(section):
        files = re.findall(r"`(Docker/[\w/.-]+\.ya?ml)`", part)
        for block in re.findall(r"```yaml\n(.*?)```", part, re.S):
            blocks.append((files, block))
    return blocks


def contains(text, excerpt):
    lines = [line.strip() for line in text.splitlines()]
    wanted = [line.strip() for line in excerpt.strip("\n").splitlines()]
    return any(lines[i:i + len(wanted)] == wanted for i in range(len(lines) - len(wanted) + 1))


@pytest.mark.parametrize("files,block", recipe_blocks())
def test_readme_yaml_recipe_is_an_excerpt_of_a_docker_file(files, block):
    assert files, f"a YAML recipe whose section names no Docker/ file:\n{block}"
    assert any(contains((ROOT / name).read_text(), block) for name in files), \
        f"this README recipe is in none of {files}; make it an exact excerpt:\n{block}"
