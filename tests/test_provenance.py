"""The RO-Crate metadata of a study's results: valid RO-Crate 1.1 JSON-LD, true checksums."""

import hashlib
import json
from pathlib import Path

import pytest

from nnstudy import provenance

# The terms the crate uses, as the RO-Crate 1.1 context
# (https://w3id.org/ro/crate/1.1/context, version 1.1.3) defines them.
RO_CRATE_1_1_TERMS = {
    "File": "http://schema.org/MediaObject",
    "Dataset": "http://schema.org/Dataset",
    "CreativeWork": "http://schema.org/CreativeWork",
    "CreateAction": "http://schema.org/CreateAction",
    "SoftwareApplication": "http://schema.org/SoftwareApplication",
    "SoftwareSourceCode": "http://schema.org/SoftwareSourceCode",
    "PropertyValue": "http://schema.org/PropertyValue",
    "conformsTo": "http://purl.org/dc/terms/conformsTo",
    "about": "http://schema.org/about",
    "hasPart": "http://schema.org/hasPart",
    "name": "http://schema.org/name",
    "description": "http://schema.org/description",
    "datePublished": "http://schema.org/datePublished",
    "contentSize": "http://schema.org/contentSize",
    "encodingFormat": "http://schema.org/encodingFormat",
    "version": "http://schema.org/version",
    "instrument": "http://schema.org/instrument",
    "object": "http://schema.org/object",
    "result": "http://schema.org/result",
    "endTime": "http://schema.org/endTime",
    "mentions": "http://schema.org/mentions",
    "value": "http://schema.org/value",
    "programmingLanguage": "http://schema.org/programmingLanguage",
}


def check_crate(document):
    """Assert the RO-Crate 1.1 rules the crate relies on; return {@id: entity}."""
    context = document["@context"]
    assert context[0] == "https://w3id.org/ro/crate/1.1/context"
    extra = context[1] if len(context) > 1 else {}
    assert set(extra) <= {"sha256"} and not set(extra) & set(RO_CRATE_1_1_TERMS)
    terms = {**RO_CRATE_1_1_TERMS, **extra}
    graph = document["@graph"]
    ids = [e["@id"] for e in graph]
    assert len(ids) == len(set(ids)), "an @id appears twice"
    entities = dict(zip(ids, graph))
    for entity in graph:
        assert "@type" in entity, entity
        types = entity["@type"] if isinstance(entity["@type"], list) else [entity["@type"]]
        unknown = [t for t in types if t not in terms] + [k for k in entity if not k.startswith("@") and k not in terms]
        assert unknown == [], f"{entity['@id']}: terms outside the RO-Crate 1.1 context: {unknown}"
    descriptor = entities["ro-crate-metadata.json"]
    assert descriptor["@type"] == "CreativeWork"
    assert descriptor["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.1"}
    assert descriptor["about"] == {"@id": "./"}
    root = entities["./"]
    assert root["@type"] == "Dataset" and root["datePublished"] and root["name"] and root["description"]
    for entity in graph:
        for key, value in entity.items():
            if key in ("@id", "@type", "conformsTo"):
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    assert set(item) == {"@id"} and item["@id"] in entities, f"{entity['@id']}.{key}: {item}"
    for part in root["hasPart"]:
        entity = entities[part["@id"]]
        assert entity["@type"] == "File" and not Path(entity["@id"]).is_absolute()
        assert len(entity["sha256"]) == 64 and entity["contentSize"].isdigit()
    return entities


@pytest.fixture
def study_folders(tmp_path):
    results = tmp_path / "results"
    (results / "tables").mkdir(parents=True)
    (results / "figures").mkdir()
    (results / "tables" / "runs.csv").write_text("dataset,seed\ncircles,0\n")
    (results / "figures" / "effects.png").write_bytes(b"\x89PNG not really")
    config_file = tmp_path / "config.yaml"
    config_file.write_text("seeds: [0]\n")
    data_dir = tmp_path / "course"
    data_dir.mkdir()
    (data_dir / "data.mat").write_bytes(b"matlab")
    return results, config_file, data_dir


def make_crate(results, inputs, config=None):
    outputs = [p for p in results.rglob("*") if p.is_file()]
    return provenance.crate(
        results, outputs, inputs, config or {"seeds": [0]}, "abc123", {"numpy": "2.0", "python": "3.11.7"},
        "2026-12-01T12:00:00+00:00",
    )


def test_crate_is_ro_crate_1_1_and_checksums_every_file(study_folders):
    results, config_file, _ = study_folders
    document = json.loads(json.dumps(make_crate(results, [config_file])))
    entities = check_crate(document)
    parts = sorted(p["@id"] for p in entities["./"]["hasPart"])
    assert parts == ["figures/effects.png", "tables/runs.csv"]
    runs = entities["tables/runs.csv"]
    content = (results / "tables" / "runs.csv").read_bytes()
    assert runs["sha256"] == hashlib.sha256(content).hexdigest()
    assert runs["contentSize"] == str(len(content)) and runs["encodingFormat"] == "text/csv"
    run = entities["#run"]
    assert {"@id": config_file.resolve().as_uri()} in run["object"]
    assert sorted(r["@id"] for r in run["result"]) == parts
    assert entities["#workflow"]["version"] == "abc123"
    assert json.loads(entities["#config"]["value"]) == {"seeds": [0]}
    assert entities["https://pypi.org/project/numpy/"]["version"] == "2.0"


def test_an_existing_crate_file_is_not_a_part_of_itself(study_folders):
    results, _, _ = study_folders
    (results / provenance.METADATA).write_text("{}")
    entities = check_crate(make_crate(results, []))
    assert provenance.METADATA not in [p["@id"] for p in entities["./"]["hasPart"]]


def test_check_crate_rejects_a_term_outside_the_context(study_folders):
    results, _, _ = study_folders
    document = make_crate(results, [])
    document["@graph"][2]["md5"] = "0" * 32
    with pytest.raises(AssertionError, match="md5"):
        check_crate(document)


def test_study_inputs_are_the_config_files_and_the_course_files_read(study_folders):
    _, config_file, data_dir = study_folders
    config = {"datasets": {"circles": {"source": "circles"}}, "replication": ["regularization", "logistic_regression"],
              "course_data_dir": str(data_dir)}
    # The cat/non-cat files are missing: that experiment is skipped, nothing is read.
    assert provenance.study_inputs(config, [config_file]) == [config_file.resolve(), (data_dir / "data.mat").resolve()]
    assert provenance.study_inputs({**config, "replication": False}, []) == []
    with_path = {"datasets": {"mine": {"source": "mat", "path": str(data_dir / "data.mat")}}, "replication": False}
    assert provenance.study_inputs(with_path) == [(data_dir / "data.mat").resolve()]


@pytest.mark.slow
def test_smoke_study_crate_describes_every_result_file(smoke_study):
    workdir, _ = smoke_study
    results = workdir / "results"
    document = json.loads((results / provenance.METADATA).read_text())
    entities = check_crate(document)
    files = {
        p.relative_to(results).as_posix()
        for p in results.rglob("*")
        if p.is_file() and p.name != provenance.METADATA and not any(s.startswith(".") for s in p.relative_to(results).parts)
    }
    assert {p["@id"] for p in entities["./"]["hasPart"]} == files
    assert {"tables/runs.csv", "tables/summary.csv", "report/index.html"} <= files
    assert any(f.startswith("figures/") and f.endswith(".png") for f in files)
    for name in files:
        if name.startswith(("tables/", "figures/")):
            assert entities[name]["sha256"] == hashlib.sha256((results / name).read_bytes()).hexdigest(), name
    inputs = [i["@id"] for i in entities["#run"]["object"]]
    assert (workdir / "config.yaml").resolve().as_uri() in inputs


def test_verify_names_a_changed_and_a_missing_file(study_folders, capsys):
    results, _, _ = study_folders
    (results / provenance.METADATA).write_text(json.dumps(make_crate(results, [])))
    assert provenance.main([str(results)]) == 0
    (results / "tables" / "runs.csv").write_text("dataset,seed\ncircles,1\n")  # same size, other bytes
    (results / "figures" / "effects.png").unlink()
    assert provenance.verify(results) == ["figures/effects.png", "tables/runs.csv"]
    assert provenance.main([str(results)]) == 1
    assert "differs from the crate: tables/runs.csv" in capsys.readouterr().out
