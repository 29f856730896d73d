"""Sanctions and PEP screening against the shipped synthetic FollowTheMoney list."""

from __future__ import annotations

import json

import pytest

from embedfin.compliance.aml.names import normal_form
from embedfin.compliance.aml.screening import ScreeningParams, Subject, Watchlist
from embedfin.compliance.aml.watchlist import SHIPPED, WatchlistInvalid, read_file, read_ftm
from embedfin.core.errors import InvalidInput


@pytest.fixture(scope="module")
def watchlist() -> Watchlist:
    return Watchlist(read_file(SHIPPED).entries)


def _ids(watchlist: Watchlist, subject: Subject) -> list[str]:
    return [h.entity_id for h in watchlist.screen(subject)]


def test_the_shipped_list_reads_people_and_organisations_and_skips_the_rest() -> None:
    parsed = read_file(SHIPPED)
    assert len(parsed.entries) == 22
    assert parsed.skipped == 2
    assert {e.category for e in parsed.entries} == {"sanction", "pep", "watchlist"}


def test_names_fold_titles_legal_forms_and_scripts() -> None:
    assert normal_form("Mr. Boris  ZHELEZNOV").tokens == ("boris", "zheleznov")
    assert normal_form("Борис Железнов").tokens == ("boris", "zheleznov")
    assert normal_form("王小明").tokens == ("wang", "xiao", "ming")
    assert normal_form("Karpatov Shipping Holdings Ltd").tokens == (
        "karpatov",
        "shipping",
        "holdings",
    )


@pytest.mark.parametrize(
    ("subject", "entity"),
    [
        (Subject("Boris Zheleznov", "1961-02-03", "RU"), "syn-p-001"),  # alias, dob and country
        (Subject("Борис Железнов"), "syn-p-001"),  # Cyrillic
        (Subject("Haitao Long"), "syn-p-003"),  # family name last
        (Subject("龙海涛", "1969-11-20"), "syn-p-003"),  # Chinese characters
        (Subject("Tarik Nabil Almansoori"), "syn-p-005"),  # spelling variant
        (Subject("Kim Sol Gyong"), "syn-p-007"),  # hyphen
        (Subject("Johann Strassberger"), "syn-p-011"),  # missing middle name, ß
        (Subject("Karpatov Shipping Holdings Limited", kind="organization"), "syn-o-001"),
        (Subject("海涛国际贸易有限公司"), "syn-o-003"),
    ],
)
def test_hits(watchlist: Watchlist, subject: Subject, entity: str) -> None:
    hits = watchlist.screen(subject)
    assert hits
    assert hits[0].entity_id == entity
    assert hits[0].reasons[0].startswith("name ")


@pytest.mark.parametrize(
    "subject",
    [
        Subject("Maria Garcia"),
        Subject("John Smith"),
        Subject("Boris Petrov"),  # one word in common is not a match
        Subject("Long Haitao", "1990-01-01", "US"),  # the name, but another birth year and country
        Subject("Karpatov Shipping Holdings", kind="person"),  # an organisation's name
    ],
)
def test_near_misses(watchlist: Watchlist, subject: Subject) -> None:
    assert _ids(watchlist, subject) == []


def test_tie_breakers_are_explained(watchlist: Watchlist) -> None:
    (hit,) = watchlist.screen(Subject("Boris Zheleznov", "1961-02-03", "RU"))
    assert any("birth date 1961-02-03 fits" in r for r in hit.reasons)
    assert any("country ru is listed" in r for r in hit.reasons)


def test_thresholds_are_configurable(watchlist: Watchlist) -> None:
    strict = Watchlist(watchlist.entries, ScreeningParams(threshold=1.0, name_floor=1.0))
    assert _ids(strict, Subject("Tarik Nabil Almansoori")) == []
    with pytest.raises(InvalidInput):
        ScreeningParams(threshold=1.5)
    with pytest.raises(InvalidInput):
        ScreeningParams.from_mapping({"treshold": 0.9})


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json\n", "line 1: not JSON"),
        ('{"id": "x", "schema": "Person", "properties": {}}\n', "has no name"),
        ('{"id": "", "schema": "Person"}\n', "id must be"),
        ('{"id": "x", "schema": "Person", "properties": {"name": "Bob"}}\n', "list of strings"),
        ('{"id": "a", "schema": "Address", "properties": {}}\n', "no person or organisation"),
    ],
)
def test_bad_lists_are_refused_with_the_line(text: str, reason: str) -> None:
    with pytest.raises(WatchlistInvalid, match=reason):
        read_ftm(text.splitlines(keepends=True))


def test_an_entity_twice_is_refused() -> None:
    line = json.dumps({"id": "x", "schema": "Person", "properties": {"name": ["A B"]}})
    with pytest.raises(WatchlistInvalid, match="line 2: entity x appears twice"):
        read_ftm([line + "\n", line + "\n"])


def test_an_empty_name_is_refused(watchlist: Watchlist) -> None:
    with pytest.raises(InvalidInput):
        watchlist.screen(Subject(" - "))


def test_the_cli_screens_a_name() -> None:
    from embedfin.cli import app
    from tests.cli.helpers import runner

    found = runner.invoke(app, ["aml", "screen", "Борис Железнов", "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout.splitlines()[0])["entity_id"] == "syn-p-001"
    missed = runner.invoke(app, ["aml", "screen", "Maria Garcia"])
    assert missed.exit_code == 0
    assert "no hit" in missed.stdout
