"""The README's folder layout and the tree say the same thing: every path the layout names exists,
every top-level folder of the repository and every package and module of functions/handoff/ is named."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDOFF = ROOT / "functions" / "handoff"
PATH = re.compile(r"`([\w.*/-]+(?:/|\.py|\.json|\.yaml|\.txt|\.lock|\.md))`")


def layout() -> list[tuple[int, str]]:
    """The bullets of the README's "Folder layout" section: (indent, text), continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### Folder layout", 1)[1].split("\n#", 1)[0]
    bullets: list[tuple[int, str]] = []
    for line in section.splitlines():
        match = re.match(r"( *)- (.*)", line)
        if match:
            bullets.append((len(match.group(1)), match.group(2)))
        elif bullets and line.strip():
            bullets[-1] = (bullets[-1][0], f"{bullets[-1][1]} {line.strip()}")
    return bullets


def named_paths() -> set[Path]:
    """Each path the layout names, resolved: a top-level bullet's first path from the repository's
    root, a nested bullet's under functions/handoff/; the bullet's other paths under that first one
    when it is a folder (else beside it)."""
    paths: set[Path] = set()
    parent = ROOT
    for indent, text in layout():
        found = PATH.findall(text)
        if not found:
            continue
        if indent == 0:
            parent = ROOT / found[0].rstrip("/") if found[0].endswith("/") else ROOT
            paths |= {ROOT / p for p in found[:1]} | {parent / p for p in found[1:]}
            continue
        head = HANDOFF / found[0]
        paths.add(head)
        paths |= {(head if found[0].endswith("/") else HANDOFF) / p for p in found[1:]}
    return paths


def exists(path: Path) -> bool:
    return any(path.parent.glob(path.name)) if "*" in path.name else path.exists()


def test_every_path_the_layout_names_exists() -> None:
    missing = sorted(str(p.relative_to(ROOT)) for p in named_paths() if not exists(p))
    assert missing == []


def test_every_top_level_folder_and_every_package_of_the_functions_is_named() -> None:
    named = {p.resolve() for p in named_paths()}
    ignored = {line.strip().strip("/") for line in (ROOT / ".gitignore").read_text().splitlines()}
    top_level = {p for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in ignored}
    named |= {ROOT / p.relative_to(ROOT).parts[0] for p in named}
    handoff = {p for p in HANDOFF.iterdir() if p.name != "__init__.py" and not p.name.startswith((".", "__"))
               and (p.is_dir() or p.suffix == ".py")}
    unnamed = sorted(str(p.relative_to(ROOT)) for p in top_level | handoff if p.resolve() not in named)
    assert unnamed == []


def test_every_handler_module_is_a_lambda_or_says_what_it_shares() -> None:
    """handlers/ holds one module per Lambda; shared plumbing is private (an underscore) and named in the layout."""
    wiring = (ROOT / "infra" / "wiring.py").read_text()
    text = " ".join(t for _, t in layout())
    odd = [p.name for p in sorted((HANDOFF / "handlers").glob("*.py")) if p.name != "__init__.py"
           and (f"`{p.name}`" not in text if p.name.startswith("_") else f'"{p.stem}"' not in wiring)]
    assert odd == []
