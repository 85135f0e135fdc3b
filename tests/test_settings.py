"""Every setting is documented in settings.py and in the README, alike."""

import re
from pathlib import Path

from crossword_hints import settings

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_settings() -> set[str]:
    text = README.read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, flags=re.MULTILINE))


def test_every_setting_is_in_readme():
    missing = set(settings.setting_names()) - readme_settings()
    assert not missing, f"settings missing from the README table: {sorted(missing)}"


def test_readme_lists_no_unknown_setting():
    unknown = readme_settings() - set(settings.setting_names())
    assert not unknown, f"README lists settings that do not exist: {sorted(unknown)}"


def test_every_setting_has_a_doc_comment():
    source = Path(settings.__file__).read_text(encoding="utf-8").splitlines()
    undocumented = []
    for number, line in enumerate(source):
        match = re.match(r"^([A-Z][A-Z0-9_]+)(:.*)? = ", line)
        if match and match.group(1) != "ENV_PREFIX":
            previous = source[number - 1].strip() if number else ""
            if not previous.startswith("#"):
                undocumented.append(match.group(1))
    assert not undocumented, f"settings without a #: comment: {undocumented}"


def test_environment_overrides_setting(monkeypatch, tmp_path):
    from crossword_hints import create_app

    monkeypatch.setenv("CROSSWORD_HINTS_PER_PAGE", "7")
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, instance_path=str(tmp_path)
    )
    assert app.config["PER_PAGE"] == 7
