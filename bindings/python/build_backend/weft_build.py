"""The binding's PEP 517 build backend: a wheel of src/weft plus libweft.so.

No setuptools, no network: the wheel is a zip with the package's files, the
[project] metadata of pyproject.toml and a RECORD. Which library goes in:
  $WEFT_BUNDLE_DIR  every file in it (`make wheel` stages libweft.so and the
                    libuv it needs there, the way auditwheel bundles);
  else the built checkout's .build/release/libweft.so (it needs the system's
                    libuv, which built it);
  else none: a pure wheel that finds the library at run time ($WEFT_LIB or the
                    system), with a warning.
A wheel with a library is tagged py3-none-<platform>: ctypes loads it, so any
Python 3 will do, but only on this kind of machine. build_editable puts src/ on
sys.path through a .pth; weft._ffi then finds the checkout's built library."""
import base64
import hashlib
import io
import os
import sys
import sysconfig
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)  # bindings/python
CHECKOUT_LIB = os.path.join(PROJECT, "..", "..", ".build", "release", "libweft.so")

__all__ = ["build_wheel", "build_sdist", "build_editable", "get_requires_for_build_wheel",
           "get_requires_for_build_sdist", "get_requires_for_build_editable"]


def _toml_requires():
    return [] if sys.version_info >= (3, 11) else ["tomli"]


get_requires_for_build_wheel = get_requires_for_build_sdist = \
    get_requires_for_build_editable = lambda config_settings=None: _toml_requires()


def _project():
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    with open(os.path.join(PROJECT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _metadata(project):
    lines = ["Metadata-Version: 2.1", "Name: " + project["name"], "Version: " + project["version"]]
    if "description" in project:
        lines.append("Summary: " + project["description"])
    if "requires-python" in project:
        lines.append("Requires-Python: " + project["requires-python"])
    if "text" in project.get("license", {}):
        lines.append("License: " + project["license"]["text"])
    lines += ["Classifier: " + c for c in project.get("classifiers", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append("Provides-Extra: " + extra)
        lines += ['Requires-Dist: %s; extra == "%s"' % (r, extra) for r in requirements]
    lines += ["Requires-Dist: " + r for r in project.get("dependencies", [])]
    readme = project.get("readme")
    body = ""
    if readme:
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(PROJECT, readme), encoding="utf-8") as f:
            body = "\n" + f.read()
    return "\n".join(lines) + "\n" + body


def _package_files():
    """(path in the wheel, path on disk) of every file of src/weft."""
    src = os.path.join(PROJECT, "src")
    for folder, dirs, files in os.walk(os.path.join(src, "weft")):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in sorted(files):
            if not name.endswith((".pyc", ".so")) and ".so." not in name:
                path = os.path.join(folder, name)
                yield os.path.relpath(path, src).replace(os.sep, "/"), path


def _libraries():
    bundle = os.environ.get("WEFT_BUNDLE_DIR")
    if bundle:
        names = sorted(os.listdir(bundle))
        if "libweft.so" not in names:
            raise RuntimeError("WEFT_BUNDLE_DIR=%s has no libweft.so" % bundle)
        return [("weft/" + n, os.path.join(bundle, n)) for n in names]
    if os.path.isfile(CHECKOUT_LIB):
        return [("weft/libweft.so", os.path.realpath(CHECKOUT_LIB))]
    sys.stderr.write("weft_build: no libweft.so (build it first: make lib, or make wheel); "
                     "this wheel will need $WEFT_LIB or an installed libweft.so.0\n")
    return []


def _write_wheel(directory, project, files, platform_specific):
    name, version = project["name"], project["version"]
    tag = "py3-none-" + sysconfig.get_platform().replace("-", "_").replace(".", "_") \
        if platform_specific else "py3-none-any"
    dist_info = "%s-%s.dist-info" % (name, version)
    wheel_name = "%s-%s-%s.whl" % (name, version, tag)
    records = []

    def add(archive, arcname, data, mode=0o644):
        info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        records.append("%s,sha256=%s,%d" % (arcname, digest, len(data)))

    with zipfile.ZipFile(os.path.join(directory, wheel_name), "w") as archive:
        for arcname, path in files:
            with open(path, "rb") as f:
                add(archive, arcname, f.read(), 0o755 if os.access(path, os.X_OK) else 0o644)
        add(archive, dist_info + "/METADATA", _metadata(project).encode())
        add(archive, dist_info + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: weft_build\n"
                                            "Root-Is-Purelib: %s\nTag: %s\n" %
                                            ("false" if platform_specific else "true", tag)).encode())
        records.append(dist_info + "/RECORD,,")
        archive.writestr(zipfile.ZipInfo(dist_info + "/RECORD", date_time=(1980, 1, 1, 0, 0, 0)),
                         "\n".join(records) + "\n")
    return wheel_name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    libraries = _libraries()
    return _write_wheel(wheel_directory, _project(), list(_package_files()) + libraries, bool(libraries))


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    pth = os.path.join(wheel_directory, "_weft_editable.pth.tmp")
    with open(pth, "w") as f:
        f.write(os.path.join(PROJECT, "src") + "\n")
    try:
        return _write_wheel(wheel_directory, _project(), [("_weft_editable.pth", pth)], False)
    finally:
        os.unlink(pth)


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = "%s-%s" % (project["name"], project["version"])
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as archive:
        for entry in ("pyproject.toml", "README.md", "build_backend", "src", "tests"):
            path = os.path.join(PROJECT, entry)
            if os.path.exists(path):
                archive.add(path, base + "/" + entry,
                            filter=lambda t: None if "__pycache__" in t.name or t.name.endswith(".so") else t)
        info = _metadata(project).encode()
        member = tarfile.TarInfo(base + "/PKG-INFO")
        member.size = len(info)
        archive.addfile(member, io.BytesIO(info))
    return name
