"""The course's data files in a study: found in ``course_data_dir``, or a stated stand-in, or skipped.

A dataset of a file source (``mat``, ``cat``) without a ``path`` reads the
course's file from the study's ``course_data_dir``: ``data.mat`` for
``mat``, the two cat / non-cat files for ``cat``. When those files are not
there, the study's ``course_files_missing`` decides, for every such dataset
at once:

* ``stand_in``: a dataset with a ``stand_in`` entry is replaced by it, under
  the stand-in's own name (``football_synthetic``, say), so that no table
  or figure shows generated data under the course's name; a dataset without
  one is skipped;
* ``skip``: the dataset is left out of the study.

Either way :func:`resolve` returns one sentence per decision, which the
workflow prints once, before any job runs. A ``path`` written in the
configuration is the user's explicit choice: a missing file there stays an
error (:func:`nnstudy.study.grid.check_config` reads every file source).

Lecture sections that name a replaced dataset follow it to the stand-in;
those that name a skipped one lose it (a section whose only dataset is
skipped is left out, and says so).
"""

import copy
import os
from pathlib import Path

from nnstudy.data.datasets import CAT_TEST_FILE, CAT_TRAIN_FILE, FILE_SOURCES, MAT_FILE, source_files
from nnstudy.errors import ConfigError

# Where each file source's files are, relative to course_data_dir.
COURSE_PATHS = {"mat": MAT_FILE, "cat": "."}
MISSING_CHOICES = ("stand_in", "skip")
# The replication stage's folder of course files when the study names none.
DATA_DIR_VARIABLE = "NNSTUDY_DATA_DIR"
# The course files each replication experiment reads, in the order its
# function takes them (nnstudy.study.replication.EXPERIMENTS runs them); kept
# here so that the provenance record lists them without importing the study.
REPLICATION_FILES = {
    "initialization": (),
    "optimization": (),
    "regularization": (MAT_FILE,),
    "gradient_check": (),
    "logistic_regression": (CAT_TRAIN_FILE, CAT_TEST_FILE),
}


def data_folder(data_dir=None):
    """The replication's folder of course files: ``data_dir``, else $NNSTUDY_DATA_DIR, else None."""
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_VARIABLE) or None
    return None if data_dir is None else Path(data_dir)


def replication_files(data_dir=None, experiments=None):
    """The course files the chosen replication experiments read, present or not.

    ``data_dir`` as for :func:`data_folder`; ``experiments`` are names of
    :data:`REPLICATION_FILES` (default all). No files without a data folder.
    """
    data_dir = data_folder(data_dir)
    names = list(REPLICATION_FILES) if experiments is None else list(experiments)
    if data_dir is None:
        return []
    return [data_dir / file for name in names for file in REPLICATION_FILES[name]]


def course_path(source, course_data_dir):
    """The ``path`` of file source ``source`` inside ``course_data_dir``."""
    return str(Path(course_data_dir) / COURSE_PATHS[source])


def _missing_files(source, course_data_dir):
    """The course files of ``source`` that are absent (all of them without a folder)."""
    if course_data_dir is None:
        return [str(path) for path in source_files(source, COURSE_PATHS[source])]
    path = course_path(source, course_data_dir)
    return [str(file) for file in source_files(source, path) if not Path(file).is_file()]


def resolve(config):
    """The study's datasets with the course files found, replaced or skipped.

    config : a configuration with the schema's defaults filled in.
    Returns ``(new_config, notes)``: ``notes`` lists one sentence per
    dataset that is not what its entry asked for (empty when every course
    file is there). Raises ConfigError when no dataset is left.
    """
    config = copy.deepcopy(config)
    data_dir = config.get("course_data_dir")
    mode = config["course_files_missing"]
    datasets, renamed, skipped, notes = {}, {}, [], []
    for name, entry in config["datasets"].items():
        stand_in = entry.pop("stand_in", None)
        if entry["source"] not in FILE_SOURCES or entry.get("path"):
            datasets[name] = entry
            continue
        missing = _missing_files(entry["source"], data_dir)
        if not missing:
            entry["path"] = course_path(entry["source"], data_dir)
            datasets[name] = entry
            continue
        where = "course_data_dir is not set" if data_dir is None else f"not found: {', '.join(missing)}"
        if mode == "stand_in" and stand_in:
            replacement = {key: value for key, value in entry.items() if key != "source"}
            replacement.update({key: value for key, value in stand_in.items() if key != "name"})
            datasets[stand_in["name"]] = replacement
            renamed[name] = stand_in["name"]
            notes.append(
                f"dataset {name!r}: the course's file(s) ({where}); using the stand-in "
                f"{stand_in['name']!r} (generator {stand_in['source']!r}) instead"
            )
        else:
            skipped.append(name)
            notes.append(f"dataset {name!r}: the course's file(s) ({where}); skipped")
    if not datasets:
        raise ConfigError(
            "invalid configuration: no dataset left once the missing course files are skipped "
            f"({'; '.join(notes)})"
        )
    config["datasets"] = datasets
    if (renamed or skipped) and config.get("lectures"):
        config["lectures"] = _follow(config["lectures"], renamed, skipped, notes)
    return config, notes


def _follow(lectures, renamed, skipped, notes):
    """Lecture sections with dataset names renamed, or skipped ones removed."""
    result = {}
    for section, settings in lectures.items():
        settings = copy.deepcopy(settings)
        if isinstance(settings, dict):
            if settings.get("dataset") in skipped:
                notes.append(f"lecture {section!r}: its dataset {settings['dataset']!r} is skipped; left out")
                continue
            if settings.get("dataset") in renamed:
                settings["dataset"] = renamed[settings["dataset"]]
            if isinstance(settings.get("datasets"), list):
                kept = [renamed.get(d, d) for d in settings["datasets"] if d not in skipped]
                if not kept:
                    notes.append(f"lecture {section!r}: every dataset it names is skipped; left out")
                    continue
                settings["datasets"] = kept
            if isinstance(settings.get("bayes_error"), dict):
                settings["bayes_error"] = {
                    renamed.get(d, d): value for d, value in settings["bayes_error"].items() if d not in skipped
                }
        result[section] = settings
    return result
