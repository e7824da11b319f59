"""How to cite clusterup and the theory it implements (``clusterup cite``). CITATION.cff and
codemeta.json at the repository's root say the same; a test keeps the three in step."""

from __future__ import annotations

TITLE = "clusterup: agent-based simulation of industrial-cluster upgrading through innovation-network co-evolution"
AUTHOR = "The clusterup developers"
YEAR = 2026
LICENSE = "MIT"
THEORY = {
    "title": "Research on industrial cluster upgrading under the interaction of technology innovation and networks",
    "authors": (("Ji", "Min"), ("Hu", "Hanhui")),
    "journal": "Science & Technology Progress and Policy",
    "year": 2011,
    "volume": "28",
    "number": "15",
    "pages": "57--60",
    "doi": "10.3969/j.issn.1001-7348.2011.15.013",
}


def bibtex(version: str | None = None) -> str:
    """BibTeX entries for the software (this version) and for Ji & Hu (2011)."""
    from .version import __version__

    v = version or __version__
    authors = " and ".join(f"{family}, {given}" for family, given in THEORY["authors"])
    journal = str(THEORY["journal"]).replace("&", "\\&")  # BibTeX's & is a table separator
    return (
        f"@software{{clusterup,\n  author = {{{{{AUTHOR}}}}},\n  title = {{{TITLE}}},\n  version = {{{v}}},\n"
        f"  year = {{{YEAR}}},\n  license = {{{LICENSE}}},\n  note = {{Python package}}\n}}\n\n"
        f"@article{{ji_hu_2011,\n  author = {{{authors}}},\n  title = {{{THEORY['title']}}},\n"
        f"  journal = {{{journal}}},\n  year = {{{THEORY['year']}}},\n"
        f"  volume = {{{THEORY['volume']}}},\n  number = {{{THEORY['number']}}},\n"
        f"  pages = {{{THEORY['pages']}}},\n  doi = {{{THEORY['doi']}}},\n  note = {{In Chinese}}\n}}\n"
    )
