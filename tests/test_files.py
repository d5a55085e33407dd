"""Files: YAML read strictly (duplicate keys refused with their line), output folders written atomically."""

import os

import pytest

from simulations import files
from simulations.errors import BadFile, DuplicateField, OutputError
from simulations.files import OUTPUT_MARKER, atomic_folder, atomic_write_text, read_yaml


def _listing(folder):
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def test_read_yaml_refuses_a_key_given_twice_in_any_data_file(tmp_path):
    path = tmp_path / "market.yaml"
    path.write_text("name: mine\ngross_margin: 0.4\nlure_rate: 0.1\ngross_margin: 0.6\n", encoding="utf-8")
    with pytest.raises(DuplicateField) as caught:
        read_yaml(path)
    assert (caught.value.field, caught.value.line, caught.value.first_line) == ("gross_margin", 4, 2)
    assert str(path) in str(caught.value)
    path.write_text("outer:\n  a: 1\n  b: 2\nother:\n  a: 3\n", encoding="utf-8")  # the same key in two mappings is fine
    assert read_yaml(path) == {"outer": {"a": 1, "b": 2}, "other": {"a": 3}}


def test_read_yaml_still_names_the_line_of_a_syntax_error(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text("frontline_care: 0.5\n\tcross_sell: 0.2\n", encoding="utf-8")
    with pytest.raises(BadFile, match="line 2.*tabs"):
        read_yaml(path)


def test_a_new_folder_appears_only_when_complete(tmp_path):
    target = tmp_path / "out"
    with atomic_folder(target) as building:
        (building / "a.csv").write_text("1", encoding="utf-8")
        assert not target.exists() and building.parent == tmp_path and building.name.startswith(".out.tmp-")
    assert _listing(target) == {OUTPUT_MARKER: "written by loyalty-lab\n", "a.csv": "1"}
    assert oct(target.stat().st_mode & 0o777) != oct(0o700)  # not mkdtemp's private mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("exchange_available", [True, False])
def test_force_replaces_the_earlier_folder_whole(tmp_path, monkeypatch, exchange_available):
    if not exchange_available:  # systems without renameat2: two renames, with Ctrl-C held back in between
        monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    target = tmp_path / "out"
    with atomic_folder(target) as building:
        (building / "stale.md").write_text("old", encoding="utf-8")
        (building / "a.csv").write_text("1", encoding="utf-8")
    with atomic_folder(target, force=True) as building:
        (building / "a.csv").write_text("2", encoding="utf-8")
    assert _listing(target) == {OUTPUT_MARKER: "written by loyalty-lab\n", "a.csv": "2"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_an_interruption_leaves_the_earlier_folder_exactly_as_it_was(tmp_path, interruption):
    target = tmp_path / "out"
    with atomic_folder(target) as building:
        (building / "a.csv").write_text("1", encoding="utf-8")
    before = _listing(target)
    with pytest.raises(interruption):
        with atomic_folder(target, force=True) as building:
            (building / "a.csv").write_text("half", encoding="utf-8")
            raise interruption()
    assert _listing(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_existing_folder_needs_force_and_must_be_an_output_folder(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "report.csv").write_text("made before the marker existed", encoding="utf-8")
    with pytest.raises(OutputError, match="already exists.*--force") as caught:
        with atomic_folder(target):
            pass
    assert caught.value.as_dict()["field"] == "--out" and caught.value.value == str(target)
    with atomic_folder(target, force=True) as building:  # only output-like files: an earlier run, replaceable
        (building / "new.csv").write_text("x", encoding="utf-8")
    assert "report.csv" not in _listing(target)
    (target / OUTPUT_MARKER).unlink()
    (target / "thesis.docx").write_text("someone's work", encoding="utf-8")
    with pytest.raises(OutputError, match="did not write"):
        with atomic_folder(target, force=True):
            pass
    assert (target / "thesis.docx").exists()


def test_an_unwritable_place_is_an_output_error(tmp_path):
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="cannot be written"):
        with atomic_folder(tmp_path / "file.txt" / "out"):
            pass
    with pytest.raises(OutputError, match="is a file"):
        with atomic_folder(tmp_path / "file.txt"):
            pass


def test_atomic_write_text(tmp_path):
    path = atomic_write_text(tmp_path / "team.yaml", "frontline_care: 0.7\n")
    assert path.read_text(encoding="utf-8") == "frontline_care: 0.7\n"
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    assert os.listdir(tmp_path) == ["team.yaml"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
