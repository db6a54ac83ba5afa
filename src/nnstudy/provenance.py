"""An RO-Crate 1.1 description of a study's results, to archive them with.

``results/ro-crate-metadata.json`` makes the results folder an RO-Crate
(https://w3id.org/ro/crate/1.1): the folder is the root dataset, every result
file is a data entity with its size and SHA-256 checksum, and one
``CreateAction`` records the run: the workflow at its commit, the package
versions, the resolved configuration, and every input file read from outside
the folder (configuration files, course data) with its checksum. Repositories
such as Zenodo or WorkflowHub keep the file beside the data it describes.
"""

import json
import subprocess
from pathlib import Path

from nnstudy import paths
from nnstudy.data import course_files, datasets
from nnstudy.data.files import file_sha256 as sha256

CONTEXT = "https://w3id.org/ro/crate/1.1/context"
SPECIFICATION = "https://w3id.org/ro/crate/1.1"
# RO-Crate 1.1's context predates schema.org's sha256; RO-Crate 1.2 maps it here.
EXTRA_TERMS = {"sha256": "http://schema.org/sha256"}
METADATA = paths.CRATE_METADATA

FORMATS = {
    ".csv": "text/csv",
    ".h5": "application/x-hdf5",
    ".html": "text/html",
    ".json": "application/json",
    ".md": "text/markdown",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".tex": "application/x-tex",
    ".yaml": "application/yaml",
}


def git_state(repo_dir):
    """(commit, dirty) of the repository holding the workflow; ("unknown", None) outside git."""
    try:
        commit = subprocess.run(["git", "-C", str(repo_dir), "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=True, timeout=20).stdout.strip()
        status = subprocess.run(["git", "-C", str(repo_dir), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, check=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    return commit, bool(status.strip())


def file_entity(path, crate_id):
    """A File data entity: ``crate_id`` names it inside the crate (or is a URI)."""
    path = Path(path)
    entity = {
        "@id": crate_id,
        "@type": "File",
        "name": path.name,
        "contentSize": str(path.stat().st_size),
        "sha256": sha256(path),
    }
    if path.suffix in FORMATS:
        entity["encodingFormat"] = FORMATS[path.suffix]
    return entity


def study_inputs(config, config_files=()):
    """The files a study reads from outside its results: config files and course data.

    Only files that exist: a missing course file skips its replication
    experiment, so nothing was read from it.
    """
    paths = [Path(p) for p in config_files]
    for entry in config["datasets"].values():
        if entry.get("path"):
            path = Path(entry["path"])
            paths += [path / datasets.CAT_TRAIN_FILE, path / datasets.CAT_TEST_FILE] if path.is_dir() else [path]
    selection = config["replication"]
    if selection:
        paths += course_files.replication_files(config.get("course_data_dir"), None if selection is True else selection)
    unique = dict.fromkeys(p.resolve() for p in paths if p.is_file())
    return list(unique)


def crate(root, outputs, inputs, config, commit, versions, date):
    """The crate's JSON-LD document (a dict).

    root : the results folder, the crate's root.
    outputs : result files inside ``root``.
    inputs : files read from outside ``root`` (absolute paths).
    commit : the workflow's commit (with "-dirty" when it had local changes).
    versions : {package: version or None}.
    date : ISO 8601 time of the run's end.
    """
    root = Path(root).resolve()
    parts = [file_entity(p, Path(p).resolve().relative_to(root).as_posix()) for p in sorted(map(str, outputs))]
    parts = [p for p in parts if p["@id"] != METADATA]
    sources = [file_entity(p, Path(p).resolve().as_uri()) for p in inputs]
    software = [
        {"@id": f"https://pypi.org/project/{name}/", "@type": "SoftwareApplication", "name": name, "version": v}
        for name, v in versions.items()
        if v is not None and name != "python"
    ]
    if versions.get("python"):
        software.append(
            {"@id": "https://www.python.org/", "@type": "SoftwareApplication", "name": "python",
             "version": versions["python"]}
        )
    workflow = {
        "@id": "#workflow",
        "@type": "SoftwareSourceCode",
        "name": "nnstudy Snakemake workflow",
        "version": commit,
        "programmingLanguage": "Snakemake",
    }
    settings = {
        "@id": "#config",
        "@type": "PropertyValue",
        "name": "resolved configuration",
        "description": "The study's configuration after validation, with the schema's defaults filled in.",
        "value": json.dumps(config, sort_keys=True, default=str),
    }
    run = {
        "@id": "#run",
        "@type": "CreateAction",
        "name": "Run of the nnstudy workflow",
        "endTime": date,
        "instrument": [{"@id": "#workflow"}, *({"@id": s["@id"]} for s in software)],
        "object": [{"@id": "#config"}, *({"@id": s["@id"]} for s in sources)],
        "result": [{"@id": p["@id"]} for p in parts],
    }
    descriptor = {
        "@id": METADATA,
        "@type": "CreativeWork",
        "conformsTo": {"@id": SPECIFICATION},
        "about": {"@id": "./"},
    }
    dataset = {
        "@id": "./",
        "@type": "Dataset",
        "name": "nnstudy results",
        "description": (
            "Results of an nnstudy study: initialization, regularization and optimizer "
            "choices for small fully-connected networks (tables, figures, trained runs)."
        ),
        "datePublished": date,
        "hasPart": [{"@id": p["@id"]} for p in parts],
        "mentions": {"@id": "#run"},
    }
    graph = [descriptor, dataset, *parts, run, workflow, settings, *software, *sources]
    return {"@context": [CONTEXT, EXTRA_TERMS], "@graph": graph}


def verify(root):
    """The crate's files under ``root`` whose size or checksum differ (or that are missing)."""
    root = Path(root)
    document = json.loads((root / METADATA).read_text())
    parts = {p["@id"] for e in document["@graph"] if e["@id"] == "./" for p in e["hasPart"]}
    wrong = []
    for entity in document["@graph"]:
        if entity["@id"] in parts:
            path = root / entity["@id"]
            if not path.is_file() or str(path.stat().st_size) != entity["contentSize"] or sha256(path) != entity["sha256"]:
                wrong.append(entity["@id"])
    return wrong


def main(argv=None):
    """``python -m nnstudy.provenance FOLDER``: check an archived study against its crate."""
    import argparse

    parser = argparse.ArgumentParser(description="Check a results folder against its ro-crate-metadata.json.")
    parser.add_argument("folder", help=f"the folder holding {METADATA} ({paths.RESULTS}/ or an unpacked archive)")
    folder = parser.parse_args(argv).folder
    wrong = verify(folder)
    for name in wrong:
        print(f"differs from the crate: {name}")
    print("every file matches its checksum" if not wrong else f"{len(wrong)} file(s) differ")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
