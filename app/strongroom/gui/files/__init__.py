"""My files: the page, the file table (view and model), and the details pane.

| module | owns |
| --- | --- |
| `page` | `FilesPage`: breadcrumbs, search, listing, selection, adding, the actions and menus |
| `actions` | the item actions: open, export, new folder, rename, move, delete, share, drag out |
| `view` | `FilesTableView` and the empty folder's drop target; `accept_copy` |
| `details` | `DetailsPane`: facts, who has access (`sharing.AccessPanel`), versions, history |
| `versions` | `VersionsSection`: a file's versions with Restore and Export |
| `trash_page` | `TrashPage`: what Delete moved to the Trash; restore, erase, empty |
| `models` | `FilesTableModel`, `access_map`, file-type icons |
"""

from .details import DetailsPane
from .models import FOLDER_COLOR, SHARED_COLOR, FilesTableModel, access_map, forget_file_icons
from .page import FilesPage
from .trash_page import TrashPage
from .view import DRAG_EXPORT_LIMIT, FilesTableView, accept_copy, local_paths

__all__ = [
    "DRAG_EXPORT_LIMIT",
    "FOLDER_COLOR",
    "SHARED_COLOR",
    "DetailsPane",
    "FilesPage",
    "FilesTableModel",
    "FilesTableView",
    "TrashPage",
    "accept_copy",
    "access_map",
    "forget_file_icons",
    "local_paths",
]
