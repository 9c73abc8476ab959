"""CI: build the sdist and the wheel with the standard front end, check what they hold, and run
an example stack from a fresh virtualenv that holds only the installed wheel.

    python3 .ci/check_package.py [--keep]

1. Copies the tree (tracked and not-ignored files only, as a clean clone has them) and builds it
   with ``python -m build``: the sdist, then the wheel from the sdist (build's default); then a
   second wheel straight from the tree. Both wheels must hold the same files, byte for byte.
2. The wheel holds exactly the package (every module, ``py.typed``, the emulator's demo seed),
   its metadata (version from ``_version.py``, Apache-2.0 with LICENSE and NOTICE, no upper caps
   on runtime dependencies) and nothing else; the sdist holds what builds it, the docs and the
   legal files, and nothing from tests, examples or bench. ``twine check`` passes.
3. Lays out ``connection-info`` as a user's Pulumi project (``virtualenv: venv``), installs the
   wheel into ``connection-info/venv`` the way Pulumi's pip toolchain does, and runs
   ``.ci/wheel_smoke.py`` with that venv's python: the stack under the real Pulumi CLI that
   ``make pulumi-cli`` built (see there).
4. Installs the package the way the README's Install section says (a ``requirements.txt`` naming
   the checkout) into another fresh project virtualenv.
5. Type-checks the example stacks and ``tests/typing/user_stack.py`` with ``mypy --strict``
   installed into that venv, as a user checks their stack against the installed package.
6. The provider plugin by each install route the README gives, running ``yaml-routing`` under
   the real CLI and Pulumi YAML (``.ci/plugin_smoke.py``): the wheel ``pip install``-ed into the
   project's ``venv`` (``plugins: providers: path: venv/bin``), and installed by ``pipx`` (from
   PyPI), the plugin on ``PATH`` and no ``plugins:`` entry.

Standard library only; exits non-zero on the first failure.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = "pulumi-yc-websocket"
PACKAGE = "pulumi_yc_websocket"
# sha256 of the Apache License 2.0 text as published (apache.org/licenses/LICENSE-2.0.txt).
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
EXAMPLES = ("connection-info", "monitoring", "routing")

PROBE = '''\
"""Import probe for the CI wheel smoke test: appends "PID ORIGIN" of pulumi_yc_websocket to the
file YCWS_IMPORT_PROBE names, in every process that imports it."""
import importlib.machinery
import os

if os.environ.get("YCWS_IMPORT_PROBE"):

    class _Probe:
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name != "pulumi_yc_websocket":
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            origin = spec.origin if spec is not None else None
            with open(os.environ["YCWS_IMPORT_PROBE"], "a", encoding="utf-8") as log:
                log.write(f"{os.getpid()} {origin}\\n")
            return spec

    import sys

    sys.meta_path.insert(0, _Probe())
'''
# `make pulumi-cli` builds it here.
PULUMI_CLI = ROOT / ".tools" / "pulumi" / "bin" / "pulumi"


class CheckError(Exception):
    pass


def step(title: str) -> float:
    print(f"-- {title}", flush=True)
    return time.monotonic()


def run(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    quiet: bool = False,
) -> str:
    result = subprocess.run(
        [os.fspath(a) for a in args],
        cwd=cwd,
        env=env,
        check=False,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    noise = "WARNING: Location 'file:"  # pip's note on a configured index folder it cannot read
    output = "\n".join(line for line in result.stdout.splitlines() if noise not in line)
    if result.returncode != 0:
        raise CheckError(f"{' '.join(map(str, args))} exited {result.returncode}:\n{output}")
    if output and not quiet:
        print(output, flush=True)
    return output


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckError(message)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ------------------------------------------------------------------------------------- source


def source_version(src: Path) -> str:
    text = (src / "provider" / PACKAGE / "_version.py").read_text(encoding="utf-8")
    match = re.fullmatch(r'__version__ = "([^"]+)"\n', text)
    expect(match is not None, f'_version.py is not one `__version__ = "..."` line: {text!r}')
    assert match is not None
    return match.group(1)


def clean_copy(dest: Path) -> None:
    """The files a clean clone has: tracked ones plus new, not ignored ones (as they are now)."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        path = ROOT / name
        if path.is_file():  # tracked but deleted in the work tree: not there
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / name)


def package_files(src: Path) -> set[str]:
    """What the wheel must hold of the package: every module and data file, no caches."""
    root = src / "provider"
    return {
        path.relative_to(root).as_posix()
        for path in (root / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


# ------------------------------------------------------------------------------------ archives


def wheel_contents(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as archive:
        return {
            info.filename: hashlib.sha256(archive.read(info)).hexdigest()
            for info in archive.infolist()
            if not info.is_dir()
        }


def check_wheel(wheel: Path, src: Path, version: str) -> None:
    contents = wheel_contents(wheel)
    names = set(contents)
    dist_info = f"{PACKAGE}-{version}.dist-info"
    expect(wheel.name == f"{PACKAGE}-{version}-py3-none-any.whl", f"wheel named {wheel.name}")

    in_package = {n for n in names if n.startswith(f"{PACKAGE}/")}
    expected_package = package_files(src)
    expect(
        in_package == expected_package,
        f"the wheel's package differs from provider/{PACKAGE}: missing "
        f"{sorted(expected_package - in_package)}, extra {sorted(in_package - expected_package)}",
    )
    for required in ("py.typed", "pulumi-plugin.json", "emulator/demo_seed.json", "testing.py"):
        expect(f"{PACKAGE}/{required}" in names, f"the wheel lacks {PACKAGE}/{required}")

    expected_meta = {
        f"{dist_info}/{name}"
        for name in (
            "METADATA",
            "WHEEL",
            "RECORD",
            "entry_points.txt",
            "top_level.txt",
            "licenses/LICENSE",
            "licenses/NOTICE",
        )
    }
    others = names - in_package
    expect(
        others == expected_meta, f"unexpected files in the wheel: {sorted(others ^ expected_meta)}"
    )
    for forbidden in ("tests/", "examples/", "bench/", "conftest.py", "__pycache__", ".pyc"):
        expect(not any(forbidden in n for n in names), f"the wheel holds {forbidden}")

    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        license_text = archive.read(f"{dist_info}/licenses/LICENSE")
        notice = archive.read(f"{dist_info}/licenses/NOTICE")
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
        top_level = archive.read(f"{dist_info}/top_level.txt").decode().split()
    headers = metadata.split("\n\n", 1)[0]

    def fields(name: str) -> list[str]:
        return re.findall(rf"^{re.escape(name)}: (.*)$", headers, flags=re.MULTILINE)

    expect(fields("Name") == [DIST], f"Name: {fields('Name')}")
    expect(fields("Version") == [version], f"Version: {fields('Version')}, _version.py: {version}")
    expect(fields("License-Expression") == ["Apache-2.0"], "License-Expression is not Apache-2.0")
    expect(sorted(fields("License-File")) == ["LICENSE", "NOTICE"], "License-File")
    expect(fields("Requires-Python") == [">=3.11"], "Requires-Python")
    expect(bool(fields("Summary")) and bool(fields("Keywords")), "no Summary or Keywords")
    expect("Typing :: Typed" in fields("Classifier"), "no Typing :: Typed classifier")
    expect(
        not any(c.startswith("License ::") for c in fields("Classifier")),
        "a License :: classifier next to License-Expression",
    )
    expect(fields("Description-Content-Type") == ["text/markdown"], "README not markdown")
    expect(top_level == [PACKAGE], f"top_level.txt: {top_level}")
    expect(f"pulumi-yc-websocket = {PACKAGE}._cli:main" in entry_points, "no console script")
    expect(
        f"pulumi-resource-yc-websocket = {PACKAGE}._plugin:main" in entry_points,
        "no console script for the plugin",
    )
    expect(license_text == (src / "LICENSE").read_bytes(), "LICENSE in the wheel differs")
    expect(notice == (src / "NOTICE").read_bytes(), "NOTICE in the wheel differs")

    runtime = [r for r in fields("Requires-Dist") if "extra ==" not in r]
    project = tomllib.loads((src / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {
        normalize(re.split(r"[\[<>=!~ ;]", d, maxsplit=1)[0]) for d in project["dependencies"]
    }
    got = {normalize(re.split(r"[\[<>=!~ ;(]", r, maxsplit=1)[0]) for r in runtime}
    expect(
        got == declared, f"Requires-Dist {sorted(got)} != pyproject dependencies {sorted(declared)}"
    )
    for requirement in runtime:
        expect("<" not in requirement.split(";")[0], f"an upper cap: {requirement}")
        expect(">=" in requirement, f"no lower bound: {requirement}")
    print(f"wheel {wheel.name}: {len(names)} files")
    for name in sorted(names):
        print(f"  {name}")


def check_sdist(sdist: Path, src: Path, version: str) -> None:
    prefix = f"{PACKAGE}-{version}/"
    expect(sdist.name == f"{PACKAGE}-{version}.tar.gz", f"sdist named {sdist.name}")
    with tarfile.open(sdist) as archive:
        names = {m.name for m in archive.getmembers() if m.isfile()}
        license_member = archive.extractfile(prefix + "LICENSE")
        assert license_member is not None
        license_text = license_member.read()
    expect(all(n.startswith(prefix) for n in names), "sdist entries outside its top folder")
    relative = {n[len(prefix) :] for n in names}
    for required in (
        "PKG-INFO",
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "NOTICE",
    ):
        expect(required in relative, f"the sdist lacks {required}")
    in_package = {n[len("provider/") :] for n in relative if n.startswith(f"provider/{PACKAGE}/")}
    expect(in_package == package_files(src), "the sdist's package differs from the tree's")
    for forbidden in ("tests/", "examples/", "bench/", ".ci/", ".venv", "__pycache__", ".pyc"):
        expect(not any(forbidden in n for n in relative), f"the sdist holds {forbidden}")
    expect(license_text == (src / "LICENSE").read_bytes(), "LICENSE in the sdist differs")
    print(f"sdist {sdist.name}: {len(names)} files")


def check_docs(src: Path, version: str) -> None:
    license_sha = hashlib.sha256((src / "LICENSE").read_bytes()).hexdigest()
    expect(license_sha == APACHE_2_SHA256, "LICENSE is not the Apache License 2.0 text verbatim")
    changelog = (src / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(
        r"^## \[(\d[^\]]*)\] - (\d{4}-\d{2}-\d{2})$", changelog, flags=re.MULTILINE
    )
    expect(bool(released), "CHANGELOG.md has no released version (## [x.y.z] - YYYY-MM-DD)")
    expect(
        released[0][0] == version,
        f"CHANGELOG.md's latest release is {released[0][0]}, not {version}",
    )
    expect("Keep a Changelog" in changelog, "CHANGELOG.md does not say its format")


# ---------------------------------------------------------------------------- the user's venv


def user_project(work: Path, src: Path, wheel: Path) -> Path:
    """``connection-info`` as a user's project: Pulumi.yaml, requirements.txt naming the wheel,
    and ``venv/`` made the way Pulumi's pip toolchain makes it."""
    project = work / "connection-info"
    shutil.copytree(src / "examples" / "connection-info", project)
    pulumi_yaml = (project / "Pulumi.yaml").read_text(encoding="utf-8")
    expect(
        "virtualenv: venv" in pulumi_yaml,
        "examples/connection-info/Pulumi.yaml: no virtualenv: venv",
    )
    (project / "requirements.txt").write_text(f"{wheel}\n", encoding="utf-8")
    run(sys.executable, "-m", "venv", "venv", cwd=project)
    python = project / "venv" / "bin" / "python"
    run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--upgrade",
        "pip",
        "setuptools",
        "wheel",
        cwd=project,
    )
    run(python, "-m", "pip", "install", "--quiet", "-r", "requirements.txt", cwd=project)
    run(python, "-m", "pip", "check", cwd=project)
    return project


CHECKOUT_PLACEHOLDER = "/path/to/pulumi-yc-websocket"


def readme_requirements(src: Path) -> str:
    """The ``requirements.txt`` the README's Install section gives, for the checkout ``src``."""
    readme = (src / "README.md").read_text(encoding="utf-8")
    install = readme.split("## Install\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```text\n(.*?)```", install, re.S)
    expect(match is not None, "README's Install section has no requirements.txt block")
    assert match is not None
    expect(CHECKOUT_PLACEHOLDER in match.group(1), "README's requirements name no checkout")
    return match.group(1).replace(CHECKOUT_PLACEHOLDER, str(src))


def install_from_checkout(work: Path, src: Path, version: str) -> None:
    """``pip install -r requirements.txt`` of the README, in a fresh project virtualenv."""
    project = work / "from-checkout"
    project.mkdir()
    (project / "requirements.txt").write_text(readme_requirements(src), encoding="utf-8")
    run(sys.executable, "-m", "venv", "venv", cwd=project)
    python = project / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "-r", "requirements.txt", cwd=project)
    shown = run(
        python,
        "-c",
        "import pulumi_yc_websocket, pulumi_yc_websocket.provider as p; "
        "print(pulumi_yc_websocket.__version__, p.__file__)",
        cwd=project,
        quiet=True,
    )
    installed, where = shown.split()
    expect(installed == version, f"installed {installed}, the checkout is {version}")
    expect(str(project / "venv") in where, f"the provider module is imported from {where}")
    print(f"pulumi-yc-websocket {installed} installed from the checkout into {project}/venv")


def clean_env(**extra: str) -> dict[str, str]:
    keep = (
        "PATH",
        "HOME",
        "LANG",
        "LC_ALL",
        "TMPDIR",
        "SSL_CERT_FILE",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_FIND_LINKS",
        "PIP_CERT",
        "PIP_CONFIG_FILE",
    )
    return {**{k: v for k, v in os.environ.items() if k in keep}, **extra}


def smoke(work: Path, src: Path, project: Path) -> None:
    probe = work / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(PROBE, encoding="utf-8")
    expect(PULUMI_CLI.is_file(), f"no pulumi CLI at {PULUMI_CLI}: run `make pulumi-cli`")
    scripts = work / "smoke"
    shutil.copytree(src / "tools", scripts / "tools", ignore=shutil.ignore_patterns("pulumi-cli"))
    shutil.copy2(src / ".ci" / "wheel_smoke.py", scripts / "wheel_smoke.py")
    run(
        project / "venv" / "bin" / "python",
        scripts / "wheel_smoke.py",
        cwd=project,
        env=clean_env(
            YCWS_REPO=str(ROOT), YCWS_PROBE_DIR=str(probe), YCWS_PULUMI_CLI=str(PULUMI_CLI)
        ),
    )


def without_plugin_entry(settings: str) -> str:
    """``Pulumi.yaml`` text without its ``plugins:`` block (and the comment lines inside it)."""
    kept, skipping = [], False
    for line in settings.splitlines(keepends=True):
        if line.startswith("plugins:"):
            skipping = True
        elif skipping and line[:1] not in (" ", "#", "\n"):
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


def site_packages(python: Path) -> Path:
    return Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", quiet=True)
    )


def plugin_routes(work: Path, src: Path, wheel: Path, tool_python: Path) -> None:
    """``yaml-routing`` with the plugin from ``pip install`` into its venv, then from ``pipx``."""
    scripts = work / "plugin-smoke"
    shutil.copytree(src / "tools", scripts / "tools", ignore=shutil.ignore_patterns("pulumi-*"))
    shutil.copy2(src / ".ci" / "plugin_smoke.py", scripts / "plugin_smoke.py")
    probe = work / "plugin-probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(PROBE, encoding="utf-8")
    env = {"YCWS_PULUMI_CLI": str(PULUMI_CLI), "YCWS_PROBE_DIR": str(probe)}

    project = work / "yaml-routing"
    shutil.copytree(src / "examples" / "yaml-routing", project)
    run(sys.executable, "-m", "venv", "venv", cwd=project)
    python = project / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", wheel, cwd=project)
    expect((project / "venv" / "bin" / "pulumi-resource-yc-websocket").is_file(), "no plugin")
    run(
        python,
        scripts / "plugin_smoke.py",
        "pip",
        project,
        site_packages(python),
        cwd=project,
        env=clean_env(**env),
    )

    pipx = {"PIPX_HOME": str(work / "pipx"), "PIPX_BIN_DIR": str(work / "pipx-bin")}
    run(tool_python, "-m", "pip", "install", "--quiet", "pipx")
    run(tool_python, "-m", "pipx", "install", wheel, env=clean_env(**pipx), quiet=True)
    tool = work / "pipx" / "venvs" / DIST
    expect((work / "pipx-bin" / "pulumi-resource-yc-websocket").exists(), "pipx put no plugin")
    project = work / "yaml-routing-tool"
    shutil.copytree(src / "examples" / "yaml-routing", project)
    settings = project / "Pulumi.yaml"
    settings.write_text(without_plugin_entry(settings.read_text("utf-8")), "utf-8")
    path = f"{work / 'pipx-bin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}"
    run(
        python,
        scripts / "plugin_smoke.py",
        "pipx",
        project,
        site_packages(tool / "bin" / "python"),
        cwd=project,
        env={**clean_env(**env), "PATH": path},
    )


def typecheck(work: Path, src: Path, project: Path) -> None:
    python = project / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "mypy", cwd=project)
    checks = work / "typecheck"
    for name in (*EXAMPLES, "user_stack"):
        (checks / name).mkdir(parents=True)
        origin = (
            src / "tests" / "typing" / "user_stack.py"
            if name == "user_stack"
            else src / "examples" / name / "__main__.py"
        )
        shutil.copy2(origin, checks / name / origin.name)
        # Each alone, in a folder of its own (no config file): what `mypy --strict` tells a user.
        run(
            python,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            checks / ".mypy_cache",
            origin.name,
            cwd=checks / name,
            env=clean_env(MYPYPATH=""),
        )
        print(f"mypy --strict against the installed wheel: {name}: ok")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ycws-package."))
    try:
        started = step(f"clean copy of the tree in {work}/src")
        src = work / "src"
        clean_copy(src)
        version = source_version(src)
        check_docs(src, version)

        t = step("build: sdist, wheel from the sdist, and a wheel straight from the tree")
        tools = work / "tools"
        run(sys.executable, "-m", "venv", tools)
        tool_python = tools / "bin" / "python"
        run(tool_python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "build", "twine")
        run(tool_python, "-m", "build", "--outdir", work / "dist", src, quiet=True)
        run(tool_python, "-m", "build", "--wheel", "--outdir", work / "direct", src, quiet=True)
        sdists = list((work / "dist").glob("*.tar.gz"))
        wheels = list((work / "dist").glob("*.whl"))
        direct = list((work / "direct").glob("*.whl"))
        expect(len(sdists) == len(wheels) == len(direct) == 1, "expected one sdist and two wheels")
        print(f"   {time.monotonic() - t:.0f}s")

        step("contents of the wheel and the sdist")
        check_wheel(wheels[0], src, version)
        check_sdist(sdists[0], src, version)
        from_sdist, from_tree = wheel_contents(wheels[0]), wheel_contents(direct[0])
        differing = sorted(
            n for n in from_sdist.keys() | from_tree.keys() if from_sdist.get(n) != from_tree.get(n)
        )
        expect(not differing, f"the wheel from the sdist differs from the tree's: {differing}")
        print("the wheel built from the sdist is the wheel built from the tree, file for file")
        run(tool_python, "-m", "twine", "--no-color", "check", "--strict", sdists[0], wheels[0])

        t = step("a user's project: connection-info/venv with the wheel installed, stack run")
        project = user_project(work, src, wheels[0])
        smoke(work, src, project)
        print(f"   {time.monotonic() - t:.0f}s")

        t = step("the README's install: a project whose requirements.txt names the checkout")
        install_from_checkout(work, src, version)
        print(f"   {time.monotonic() - t:.0f}s")

        t = step("mypy --strict on the example stacks and a user's program, against the wheel")
        typecheck(work, src, project)
        print(f"   {time.monotonic() - t:.0f}s")

        t = step("the provider plugin: yaml-routing with pip into its venv, then with pipx")
        plugin_routes(work, src, wheels[0], tool_python)
        print(f"   {time.monotonic() - t:.0f}s")
        print(f"package checks passed in {time.monotonic() - started:.0f}s")
        return 0
    except CheckError as error:
        print(f"package check FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
