"""``gym-pdb view``: an HTML viewer of run folders, served on loopback or exported as a static site.

The pages (``assets/``) are plain HTML, CSS and JavaScript shipped in the
package; :mod:`.data` builds what they read from the run folders,
:mod:`.site` wraps it in scripts and writes the export, :mod:`.server`
serves it.
"""

from gym_pdb.viewer.data import Runs
from gym_pdb.viewer.server import ViewerServer, serve
from gym_pdb.viewer.site import export

__all__ = ["Runs", "ViewerServer", "serve", "export"]
