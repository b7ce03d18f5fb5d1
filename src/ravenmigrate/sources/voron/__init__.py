"""Raw RavenDB 3.x Voron storage (data directory, backup directory, backup zip) as export records.

Modules, from bytes up: :mod:`.pages` (page and node layout, CRC32C; twin ``voron_pages``),
:mod:`.header` (file and tree root headers), :mod:`.files` (finding the files), :mod:`.journal`
(in-memory recovery), :mod:`.pager`, :mod:`.tree` (B+tree walk), :mod:`.environment`,
:mod:`.tables` and :mod:`.metadata` (RavenDB's tree layouts), :mod:`.indexdefs`, :mod:`.source`.
"""

from .environment import VoronEnvironment
from .files import is_voron_dir, zip_is_voron
from .source import VoronSource, open_voron

__all__ = ["VoronEnvironment", "VoronSource", "is_voron_dir", "open_voron", "zip_is_voron"]
