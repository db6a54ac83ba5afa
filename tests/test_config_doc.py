"""config/README.md is generated from the config schema and stays in step with it."""

import yaml

from nnstudy import config_doc

from conftest import REPO

SCHEMA = yaml.safe_load((REPO / config_doc.SCHEMA).read_text())
DOCUMENT = (REPO / config_doc.DOCUMENT).read_text()


def test_properties_walks_nested_named_and_referenced_objects():
    schema = {
        "required": ["a"],
        "properties": {
            "a": {"type": "integer"},
            "b": {
                "type": "object",
                "additionalProperties": {"properties": {"c": {"$ref": "#/$defs/n"}}},
            },
            "d": {"$ref": "#/$defs/o"},
        },
        "$defs": {"n": {"type": "number"}, "o": {"properties": {"e": {"type": "string"}}}},
    }
    found = [(path, node.get("type"), required) for path, node, required in config_doc.properties(schema)]
    assert found == [
        ("a", "integer", True),
        ("b", "object", False),
        ("b.<name>.c", "number", False),
        ("d", None, False),
        ("d.e", "string", False),
    ]


def test_every_schema_property_has_a_description():
    missing = [path for path, node, _ in config_doc.properties(SCHEMA) if not node.get("description")]
    assert missing == []


def test_every_schema_property_appears_in_the_document():
    paths = [path for path, _, _ in config_doc.properties(SCHEMA)]
    assert len(paths) > 100
    assert [path for path in paths if f"| `{path}` |" not in DOCUMENT] == []


def test_every_shipped_study_appears_in_the_document():
    for study in (REPO / "config").glob("*.yaml"):
        assert f"| `config/{study.name}` |" in DOCUMENT


def test_committed_document_is_the_generated_one():
    assert DOCUMENT == config_doc.generate(REPO), "run: python -m nnstudy.config_doc"


def test_allowed_values_read_as_the_schema_says():
    assert config_doc.allowed({"type": "number", "exclusiveMinimum": 0, "maximum": 1}) == "number, > 0, <= 1"
    assert config_doc.allowed({"type": "array", "items": {"enum": ["x", "y"]}}) == "list of one of `x`, `y`"
    assert config_doc.allowed({"oneOf": [{"type": "boolean"}, {"type": "string"}]}) == "boolean or string"


def test_check_mode_reports_a_stale_document(tmp_path, capsys):
    (tmp_path / "workflow" / "schemas").mkdir(parents=True)
    (tmp_path / "config").mkdir()
    (tmp_path / config_doc.SCHEMA).write_text((REPO / config_doc.SCHEMA).read_text())
    (tmp_path / "config" / "smoke.yaml").write_text("# A study.\nseeds: [0]\n")
    assert config_doc.main(["--root", str(tmp_path), "--check"]) == 1
    assert config_doc.main(["--root", str(tmp_path)]) == 0
    assert config_doc.main(["--root", str(tmp_path), "--check"]) == 0
    assert "| `config/smoke.yaml` | A study. |" in (tmp_path / config_doc.DOCUMENT).read_text()
