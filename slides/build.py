"""Build the course's offline pages: one reveal.js deck per notebook, and the HTML hand-outs.

    python slides/build.py decks --out build/slides notebooks/*.ipynb
    python slides/build.py handouts --execute --out build notebooks/*.ipynb

The hand-outs come in two editions: ``<out>/instructor/NAME.html``, the notebook as it is, and
``<out>/student/NAME.html``, the student edition of ``slides/student.py`` with the outputs of
every other cell kept (each solution a stub, the exercises' cells without outputs). With
``--execute`` each notebook is executed once and both editions are built from that run.

Every script, style sheet and font a page loads is copied into ``<out>/_assets/``, so the pages
open from ``file://`` with no network. The JavaScript comes from the npm registry at build time
(``npm pack``, checked against the pinned sha512 below) and is cached in ``build/_npm/``:

- reveal.js 4.x: nbconvert's reveal template loads ``plugin/notes/notes.js``, which 5.x and later
  no longer ship in that place;
- MathJax 2: nbconvert's templates call the MathJax 2 API (``MathJax.Hub``);
- require.js and jQuery: the reveal template loads reveal.js through require.js and uses jQuery.

Mermaid, which nbconvert imports from a CDN, is left out by the templates in ``slides/templates``:
the notebooks have no Mermaid diagrams.
"""

import argparse
import base64
import importlib.util
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = ROOT / "build" / "_npm"

# name, version, sha512 of the npm tarball (npm view NAME@VERSION dist.integrity), files kept.
PACKAGES = {
    "reveal.js": (
        "4.6.0",
        "QC80rYsZldAe95bW9VImucIPTjfsKhI0jRQrIOXU4P92ZyXb/dfw9L3EE96bN6i7UmeUl1qBieH4UNTr25erYw==",
        ["dist/reveal.js", "dist/reveal.css", "dist/theme/white.css", "dist/theme/fonts",
         "plugin/notes/notes.js", "LICENSE"],
    ),
    "mathjax": (
        "2.7.9",
        "NOGEDTIM9+MrsqnjPEjVGNx4q0GQxqm61yQwSK+/5S59i26wId5IC5gNu9/bu8+CCVl5p9G2IHcAl/wJa+5+BQ==",
        ["MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/input/TeX",
         "jax/output/CommonHTML", "jax/element", "fonts/HTML-CSS/TeX/woff", "localization/en",
         "LICENSE"],
    ),
    "requirejs": (
        "2.3.8",
        "7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        ["require.js"],
    ),
    "jquery": (
        "3.7.1",
        "m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        ["dist/jquery.min.js", "LICENSE.txt"],
    ),
}

MATHJAX_URL = "_assets/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"


class BuildError(Exception):
    """A problem the person running the build can fix; reported in one line."""


def fetch(name):
    """Return the npm tarball of package ``name``, downloading it into the cache if needed."""
    version, integrity, _ = PACKAGES[name]
    tarball = CACHE / f"{name}-{version}.tgz"
    if not tarball.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            raise BuildError("npm not found: install Node.js (it fetches reveal.js and MathJax)")
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            done = subprocess.run(
                [npm, "pack", f"{name}@{version}", "--silent", "--pack-destination", tmp],
                capture_output=True, text=True,
            )
            if done.returncode != 0:
                message = done.stderr.strip().splitlines() or ["no output"]
                raise BuildError(f"npm pack {name}@{version} failed: {message[-1]}")
            packed = next(Path(tmp).glob("*.tgz"))
            packed.rename(tarball)
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != integrity:
        tarball.unlink()
        raise BuildError(f"{tarball.name}: sha512 does not match the pinned one; removed, run again")
    return tarball


def _kept(member, keep):
    """Whether tar member ``package/PATH`` is one of the ``keep`` files or inside a kept folder."""
    path = member.split("/", 1)[-1]
    return any(path == item or path.startswith(item + "/") for item in keep)


def install_assets(out):
    """Copy the kept files of every package, and the course theme, into ``out/_assets``."""
    assets = out / "_assets"
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".assets-"))
    try:
        for name, (_, _, keep) in PACKAGES.items():
            with tarfile.open(fetch(name)) as archive:
                members = [m for m in archive.getmembers() if _kept(m.name, keep)]
                for member in members:
                    member.name = member.name.split("/", 1)[1]  # drop npm's "package/"
                archive.extractall(staging / name, members=members, filter="data")
        shutil.copy2(HERE / "theme" / "course.css", staging / "reveal.js" / "dist" / "theme")
        staging.chmod(0o755)  # mkdtemp makes it private
        if assets.exists():
            shutil.rmtree(assets)
        staging.rename(assets)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return assets


def nbconvert(args, out):
    """Run ``jupyter nbconvert`` with ``args`` into a staging folder, then move the pages into
    ``out`` (a failed build leaves the previous pages whole); raise BuildError on failure."""
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".pages-"))
    try:
        command = [sys.executable, "-m", "nbconvert", *args, f"--output-dir={staging}"]
        done = subprocess.run(command)
        if done.returncode != 0:
            raise BuildError(f"nbconvert failed (exit {done.returncode}): {' '.join(command)}")
        for page in staging.iterdir():
            page.replace(out / page.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def common_flags():
    """nbconvert flags shared by decks and hand-outs: our templates, local MathJax and require.js."""
    return [
        f"--TemplateExporter.extra_template_basedirs={HERE / 'templates'}",
        f"--HTMLExporter.mathjax_url={MATHJAX_URL}",
        "--HTMLExporter.require_js_url=_assets/requirejs/require.js",
        "--HTMLExporter.jquery_url=_assets/jquery/dist/jquery.min.js",
    ]


def build_decks(notebooks, out):
    """Write ``out/NAME.slides.html`` for every notebook, from its committed outputs."""
    nbconvert([
        "--to", "slides", "--template", "course_reveal", *common_flags(),
        "--SlidesExporter.reveal_url_prefix=_assets/reveal.js",
        "--SlidesExporter.reveal_theme=course",
        "--SlidesExporter.reveal_transition=none",
        "--SlidesExporter.reveal_number=c/t",
        "--SlidesExporter.reveal_scroll=True",
        *map(str, notebooks),
    ], out)


def _student_module():
    spec = importlib.util.spec_from_file_location("course_student", HERE / "student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def execute_notebooks(notebooks, staging):
    """Execute every notebook (in its own folder, as nbconvert does) into ``staging``."""
    done = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
                           "--ExecutePreprocessor.timeout=1200", f"--output-dir={staging}", *map(str, notebooks)])
    if done.returncode != 0:
        raise BuildError(f"executing the notebooks failed (exit {done.returncode})")
    return [staging / path.name for path in notebooks]


def build_handouts(notebooks, out, execute):
    """Write ``out/instructor/NAME.html`` and ``out/student/NAME.html`` for every notebook,
    executing it first if ``execute``; each folder gets its own ``_assets``."""
    import nbformat

    student = _student_module()
    with tempfile.TemporaryDirectory(dir=out, prefix=".run-") as tmp:
        if execute:
            notebooks = execute_notebooks(notebooks, Path(tmp))
        editions = Path(tmp) / "student"
        editions.mkdir()
        for path in notebooks:
            try:
                edition = student.student_edition(nbformat.read(path, as_version=4), keep_outputs=True)
            except student.MarkerError as error:
                raise BuildError(f"{path}: {error}") from None
            nbformat.write(edition, editions / path.name)
        for name, sources in (("instructor", notebooks), ("student", sorted(editions.glob("*.ipynb")))):
            (out / name).mkdir(parents=True, exist_ok=True)
            install_assets(out / name)
            nbconvert(["--to", "html", "--template", "course_lab", *common_flags(), *map(str, sources)],
                      out / name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["decks", "handouts"])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--execute", action="store_true", help="hand-outs: run the notebooks")
    args = parser.parse_args(argv)
    try:
        missing = [str(path) for path in args.notebooks if not path.is_file()]
        if missing:
            raise BuildError(f"no such notebook: {missing[0]}")
        args.out.mkdir(parents=True, exist_ok=True)
        if args.what == "decks":
            install_assets(args.out)
            build_decks(args.notebooks, args.out)
        else:
            build_handouts(args.notebooks, args.out, args.execute)
    except BuildError as error:
        print(f"slides/build.py: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
