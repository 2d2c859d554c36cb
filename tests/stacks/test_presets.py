"""The preset store: checked like a stack body, written atomically, kept across restarts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raild.stacks.errors import InvalidPlan, StackNotFound, StorageFull
from raild.stacks.presets import PresetStore


def parts(folder: Path) -> list[Path]:
    return list(folder.glob(".*.part"))


def unreadable(folder: Path) -> list[Path]:
    return list(folder.glob("presets.json.unreadable-*"))


async def store(state_dir: Path) -> PresetStore:
    s = PresetStore(state_dir)
    await s.load()
    return s


async def test_put_get_list_delete_and_reload(tmp_path: Path) -> None:
    s = await store(tmp_path)
    assert s.list() == []
    saved = await s.put("beetle 5x", {"step_um": 12.5, "settle_ms": 800, "repeat": {"count": 3, "interval_s": 60}})
    assert saved == {"name": "beetle 5x", "step_um": 12.5, "settle_ms": 800, "repeat": {"count": 3, "interval_s": 60}}
    await s.put("ant", {"frames": 40, "shots_per_position": 2})
    assert [p["name"] for p in s.list()] == ["ant", "beetle 5x"]
    again = await store(tmp_path)  # a restart
    assert again.list() == s.list()
    assert again.get("ant") == {"name": "ant", "frames": 40, "shots_per_position": 2}
    await again.delete("ant")
    assert [p["name"] for p in (await store(tmp_path)).list()] == ["beetle 5x"]
    with pytest.raises(StackNotFound):
        again.get("ant")
    with pytest.raises(StackNotFound):
        await again.delete("ant")
    assert not parts(tmp_path)


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "..", "a/b", "a\\b", ".hidden", "", "x" * 65, " lead", "tab\tname", "a..b", "ü"]
)
async def test_bad_names_are_refused_before_anything_is_written(tmp_path: Path, name: str) -> None:
    s = await store(tmp_path)
    with pytest.raises(InvalidPlan) as err:
        await s.put(name, {"frames": 3})
    assert err.value.errors[0]["field"] == "name"
    assert not (tmp_path / "presets.json").exists()


def test_a_64_character_name_is_fine() -> None:
    from raild.stacks.presets import check_name

    assert check_name("x" * 64) == "x" * 64


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start_um": 10}, "start_um"),
        ({"end_um": 10}, "end_um"),
        ({"frames": 0}, "frames"),
        ({"step_um": -1}, "step_um"),
        ({"repeat": {"count": 1000, "interval_s": 5}}, "repeat.count"),
        ({"repeat": {"count": 3}}, "repeat.interval_s"),
        ({"colour": "red"}, "colour"),
        ({"name": "other"}, "name"),
        ({"settle_ms": "500"}, "settle_ms"),
    ],
)
async def test_preset_fields_are_checked_like_a_stack_body(tmp_path: Path, body: dict, field: str) -> None:
    s = await store(tmp_path)
    with pytest.raises(InvalidPlan) as err:
        await s.put("p", body)
    assert field in {e["field"] for e in err.value.errors}
    assert s.list() == []


async def test_apply_lets_the_body_win_and_null_drop_a_field(tmp_path: Path) -> None:
    s = await store(tmp_path)
    await s.put("fine", {"step_um": 10, "settle_ms": 700, "return_to_start": False})
    body = s.apply({"preset": "fine", "start_um": 0, "end_um": 100, "settle_ms": 100})
    assert body == {
        "name": "fine",
        "start_um": 0,
        "end_um": 100,
        "step_um": 10,
        "settle_ms": 100,
        "return_to_start": False,
    }
    body = s.apply({"preset": "fine", "start_um": 0, "end_um": 100, "step_um": None, "frames": 5, "name": "x"})
    assert body == {"name": "x", "start_um": 0, "end_um": 100, "frames": 5, "settle_ms": 700, "return_to_start": False}
    with pytest.raises(InvalidPlan) as err:
        s.apply({"preset": "nope", "start_um": 0})
    assert err.value.errors[0]["field"] == "preset" and "nope" in err.value.errors[0]["message"]


async def test_an_unreadable_file_is_kept_aside_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "presets.json").write_text("{not json")
    s = await store(tmp_path)
    assert s.list() == []
    aside = unreadable(tmp_path)
    assert len(aside) == 1 and aside[0].read_text() == "{not json"
    await s.put("new", {"frames": 3})
    assert json.loads((tmp_path / "presets.json").read_text())["presets"] == {"new": {"frames": 3}}


async def test_a_failed_write_changes_nothing(tmp_path: Path) -> None:
    s = await store(tmp_path)
    await s.put("kept", {"frames": 3})
    s.path = tmp_path / "missing-dir-file" / "presets.json"
    (tmp_path / "missing-dir-file").write_text("a file where the folder should be")
    with pytest.raises(StorageFull):
        await s.put("lost", {"frames": 4})
    assert [p["name"] for p in s.list()] == ["kept"]
