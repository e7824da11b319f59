"""Offline front-end assets for the explorer.

Solara's browser code (Vue, Vuetify, RequireJS, Font Awesome and the widget managers) is normally
fetched from the jsDelivr CDN by the Solara server and cached. On a machine that cannot reach the CDN
(an air-gapped workstation, a locked-down HPC login node, CI) the explorer fills that cache from the
npm registry instead: each package's tarball, unpacked as ``<name>@<version>/...`` -- the layout the
CDN URLs use. ``clusterup explore --fetch-assets`` does it once; the packages are those of the
installed Solara release (:data:`PACKAGES`).
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

NPM_REGISTRY = os.environ.get("npm_config_registry", "https://registry.npmjs.org").rstrip("/")

# name, version, the file a bare ``name@version`` URL means (None: not requested bare)
PACKAGES: list[tuple[str, str, str | None]] = [
    ("@widgetti/solara-vuetify3-app", "5.2.0", None),
    ("font-awesome", "4.5.0", None),
    ("requirejs", "2.3.6", "require.js"),
    ("mermaid", "10.8.0", None),  # solara.Markdown loads these two
    ("katex", "0.16.9", None),
]


def cache_dir() -> Path:
    """Where Solara's asset proxy reads from (``SOLARA_ASSETS_PROXY_CACHE_DIR`` or its default)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def _tarball_url(name: str, version: str) -> str:
    base = name.split("/")[-1]
    return f"{NPM_REGISTRY}/{name}/-/{base}-{version}.tgz"


def missing(target: Path | None = None) -> list[tuple[str, str, str | None]]:
    target = target or cache_dir()
    return [p for p in PACKAGES if not (target / f"{p[0]}@{p[1]}" / ".complete").exists()]


def fetch(target: Path | None = None, log=print) -> list[str]:
    """Download and unpack every missing package; returns the names fetched."""
    import urllib.request

    target = target or cache_dir()
    done = []
    for name, version, main in missing(target):
        url = _tarball_url(name, version)
        log(f"fetching {name}@{version} from {url}")
        with urllib.request.urlopen(url, timeout=60) as r:  # raises HTTPError on an error status
            content = r.read()
        root = target / f"{name}@{version}"
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                rel = Path(*Path(member.name).parts[1:])  # strip the tarball's top folder ("package/")
                dest = (root / rel).resolve()
                if not str(dest).startswith(str(root.resolve()) + os.sep):
                    continue  # never write outside the package folder
                dest.parent.mkdir(parents=True, exist_ok=True)
                data = tar.extractfile(member)
                if data is not None:
                    dest.write_bytes(data.read())
        if main:
            (root / "__main.js").write_bytes((root / main).read_bytes())
        (root / ".complete").write_text(url)
        done.append(f"{name}@{version}")
    return done
