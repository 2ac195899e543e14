"""Validates AI-BOMs with other people's code.

  cdx FILE    CycloneDX 1.6: the official JSON schema bundled in cyclonedx-python-lib
              (bom-1.6 + spdx + jsf sub-schemas), draft-07, with format checks.
  spdx FILE   SPDX 3.0.1: deserialised by spdx-python-model (types and enumerations
              checked), references linked (every IRI must resolve), serialised again
              (required properties checked).
Prints "valid" or the errors, and exits 1 when invalid.
"""
import io
import json
import pathlib
import sys


def cdx(doc):
    from jsonschema import Draft7Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT7
    import cyclonedx.schema._res as res
    d = pathlib.Path(res.__file__).parent
    load = lambda n: json.loads((d / n).read_text())
    base = "http://cyclonedx.org/schema/"
    registry = Registry().with_resources([
        (base + "spdx.SNAPSHOT.schema.json", DRAFT7.create_resource(load("spdx.SNAPSHOT.schema.json"))),
        (base + "jsf-0.82.SNAPSHOT.schema.json", DRAFT7.create_resource(load("jsf-0.82.SNAPSHOT.schema.json"))),
    ])
    v = Draft7Validator(load("bom-1.6.SNAPSHOT.schema.json"), registry=registry,
                        format_checker=Draft7Validator.FORMAT_CHECKER)
    return [f"{e.json_path}: {e.message[:300]}" for e in v.iter_errors(doc)]


def spdx(doc):
    from spdx_python_model import v3_0_1 as model
    if doc.get("@context") != "https://spdx.org/rdf/3.0.1/spdx-context.jsonld":
        return ["@context is not the SPDX 3.0.1 context"]
    objset = model.SHACLObjectSet()
    try:
        model.JSONLDDeserializer().read(io.BytesIO(json.dumps(doc).encode()), objset)
        missing = objset.link()
        model.JSONLDSerializer().write(objset, io.BytesIO())
    except Exception as e:
        return [f"{type(e).__name__}: {e}"[:400]]
    return [f"unresolved reference {m}" for m in sorted(missing)]


kind, path = sys.argv[1], sys.argv[2]
doc = json.loads(pathlib.Path(path).read_text())
errors = {"cdx": cdx, "spdx": spdx}[kind](doc)
if errors:
    print("\n".join(errors))
    sys.exit(1)
print("valid")
