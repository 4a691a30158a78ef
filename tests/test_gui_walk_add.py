"""A person's path through adding: the same names dropped again (Replace, Keep both, Skip)
and a drop while search results are shown. Each time the status line must say what
became of every file, and what was added must be where the person can see it."""

from __future__ import annotations

from gui_helpers import *  # noqa: F403
from gui_helpers import names


def _answer(choice: str):
    return lambda dialog: (dialog.buttons[choice].click(), True)[1]


def _sources(tmp_path, **files: str):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    for name, text in files.items():
        (src / name.replace("_", ".")).write_text(text, encoding="utf-8")
    return src


def test_the_status_says_which_files_became_new_versions(opened, services, tmp_path):
    window, vault = opened, opened.session.vault
    page = window.files_page
    src = _sources(tmp_path, a_txt="a1", b_txt="b1")
    page.table.files_dropped.emit([str(src / "a.txt"), str(src / "b.txt")])
    assert names(page) == ["a.txt", "b.txt"]

    _sources(tmp_path, a_txt="a2", b_txt="b2", c_txt="c1")
    services.dialogs.expect("exec_dialog", _answer("keep-both"), _answer("replace"))
    page.table.files_dropped.emit([str(src / n) for n in ("a.txt", "b.txt", "c.txt")])
    assert names(page) == ["a (2).txt", "a.txt", "b.txt", "c.txt"]
    assert [v.number for v in vault.versions("/b.txt")] == [1, 2]
    text = window.status_label.text()
    assert "Added and encrypted 2 items." in text, text  # c.txt and a (2).txt
    assert "The new “a.txt” was added as “a (2).txt”." in text, text
    assert "The new “b.txt” is stored as version 2 of the one in the vault." in text, text

    _sources(tmp_path, b_txt="b3")
    services.dialogs.expect("exec_dialog", _answer("replace"))
    page.add_paths([str(src / "b.txt")])
    text = window.status_label.text()
    assert "Added" not in text, text
    assert text == "The new “b.txt” is stored as version 3 of the one in the vault.", text

    services.dialogs.expect("exec_dialog", _answer("replace"))
    page.add_paths([str(src / "b.txt")])  # the same contents again
    text = window.status_label.text()
    assert text == "The new “b.txt” is the same as the one in the vault: nothing was stored."


def test_replacing_a_folder_says_where_the_old_one_went(opened, services, tmp_path):
    window, vault = opened, opened.session.vault
    vault.mkdir("/", "Photos")
    vault.add_bytes("/Photos", "old.jpg", b"old")
    window.files_page.refresh()
    new = tmp_path / "Photos"
    new.mkdir()
    (new / "new.jpg").write_bytes(b"new")
    services.dialogs.expect("exec_dialog", _answer("replace"))
    window.files_page.add_paths([str(new)])
    text = window.status_label.text()
    assert "The earlier “Photos” is in the Trash." in text, text


def test_a_drop_on_search_results_shows_what_was_added(opened, services, tmp_path):
    """The results of a search showed only names with "a"; dropping d.txt added it to the
    folder searched from, and then it was nowhere to be seen."""
    window, vault = opened, opened.session.vault
    page = window.files_page
    vault.add_bytes("/", "a.txt", b"a")
    vault.add_bytes("/", "b.txt", b"b")
    page.refresh()
    page.search.setText("a")
    page._run_search()
    assert names(page) == ["a.txt"]
    src = _sources(tmp_path, d_txt="d")
    page.table.files_dropped.emit([str(src / "d.txt")])
    assert vault.item("/d.txt").name == "d.txt"
    assert "d.txt" in names(page), "the added file is not shown"
    assert [i.name for i in page.selected_items()] == ["d.txt"]
    assert page.search.text() == ""
